"""Deal list under load: the server's time for the first page, a late page, a filtered page and
pages filtered and sorted on custom fields.

Loads N deals into a fresh PostgreSQL database (``manage.py demo_data --size N``, then VACUUM
ANALYZE, as autovacuum leaves a settled database), starts the real server (``manage.py serve
--workers W``, EMBEDDED_WORKER=false; W defaults to the number of cores, with the Redis channel
layer that several processes need), logs in, and has CLIENTS threads ask for the three pages
concurrently, each request on a new connection (see ``bench.common.NEW_CONNECTION``). The
figures are server-side: the ``Server-Timing: app;dur=…`` header the application sets
(client-observed times are printed too, for reference). Target: p99 ≤ 150 ms for each page.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/crm_list.py
    … bench/crm_list.py --deals 2000 --requests 20      # the tiny run CI does

The database named by DATABASE_URL is only used to reach the server; the bench creates (and
re-creates) its own database, ``bizproc_bench_crm``.
"""

import argparse
import http.client
import math
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CONNECTIONS, NEW_CONNECTION, ROOT, free_port, fresh_database, header

PYTHON = str(ROOT / ".venv" / "bin" / "python")
BENCH_DATABASE = "bizproc_bench_crm"
TARGET_P99_MS = 150.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000, help="N (default 100000)")
    parser.add_argument(
        "--requests", type=int, default=400, help="requests per page kind (default 400)"
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server processes (default: the number of cores)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help=f"keep {BENCH_DATABASE} if it already holds N deals (skips the load)",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="2,000 deals and 20 requests a page kind (CI)"
    )
    args = parser.parse_args()
    if args.tiny:
        args.deals, args.requests = 2000, 20

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgresql://…")
    bench_url = urllib.parse.urlparse(base_url)._replace(path=f"/{BENCH_DATABASE}").geturl()

    # Its own var/ folder: the demo password kept there must outlive a reused database.
    var_dir = ROOT / "var" / "bench-crm"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": bench_url, "VAR_DIR": str(var_dir)}
    env |= {"EMBEDDED_WORKER": "false", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "ERROR"}
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    load_seconds = _prepare_database(bench_url, env, args.deals, args.reuse)
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "serve", "--port", str(port), "--workers", str(args.workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        username, password = _wait_for_server(server)
        cookies = _log_in(port, username, password)
        anna = _user_id(bench_url, "anna")
        wholesale = _option_id(bench_url, "UF_CRM_DEAL_KIND", "Wholesale")
        pages = {
            "first page": "/crm/deal/",
            "late page": f"/crm/deal/?page={min(1500, max(1, args.deals // 50))}",
            "filtered": f"/crm/deal/?stage=EXECUTING&assigned={anna}&q=cloud",
            # The demo's custom fields: filtered on one, sorted on another (both indexed).
            "custom": f"/crm/deal/?UF_CRM_DEAL_KIND={wholesale}&sort=-UF_CRM_PRIORITY_SCORE",
            "custom range": (
                "/crm/deal/?UF_CRM_PRIORITY_SCORE_from=40&UF_CRM_PRIORITY_SCORE_to=45"
                "&sort=UF_CRM_DEAL_KIND"
            ),
        }
        results = _run(port, cookies, pages, args.requests, args.clients)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    return _report(args, pages, results, load_seconds, bench_url)


def _prepare_database(bench_url: str, env: dict, deals: int, reuse: bool) -> float | None:
    """A fresh database with N deals; returns how long demo_data took (None: reused)."""
    if reuse and _deal_count(bench_url) == deals:
        return None
    fresh_database(BENCH_DATABASE)
    migrate = [PYTHON, "manage.py", "migrate", "--noinput", "-v0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True)
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "manage.py", "demo_data", "--size", str(deals)], cwd=ROOT, env=env, check=True
    )
    with psycopg.connect(bench_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def _deal_count(bench_url: str) -> int | None:
    try:
        with psycopg.connect(bench_url) as connection:
            return connection.execute("SELECT COUNT(*) FROM crm_deal").fetchone()[0]
    except psycopg.Error:
        return None


def _user_id(bench_url: str, username: str) -> int:
    with psycopg.connect(bench_url) as connection:
        row = connection.execute(
            "SELECT id FROM accounts_user WHERE username = %s", [username]
        ).fetchone()
    return row[0]


def _option_id(bench_url: str, code: str, value: str) -> int:
    """The id of a demo enumeration field's option (what the list's filter sends)."""
    with psycopg.connect(bench_url) as connection:
        row = connection.execute(
            "SELECT item.id FROM crm_userfielditem item JOIN crm_userfield field "
            "ON field.id = item.field_id WHERE field.code = %s AND item.value = %s",
            [code, value],
        ).fetchone()
    return row[0]


def _wait_for_server(server: subprocess.Popen) -> tuple[str, str]:
    """The credentials the server prints once it is up."""
    assert server.stdout is not None
    output = []
    timer = threading.Timer(120, server.kill)  # a server that never gets ready ends the wait
    timer.start()
    while True:
        line = server.stdout.readline()
        if not line:
            sys.exit("The server stopped before it was ready:\n" + "".join(output))
        output.append(line)
        found = re.search(r"Log in as: (\S+)\s+password: (\S+)", line)
        if found:
            timer.cancel()
            # Drain the rest of its output so that the server never blocks on a full pipe.
            threading.Thread(target=server.stdout.read, daemon=True).start()
            return found[1], found[2]


def _connection(port: int) -> http.client.HTTPConnection:
    for _attempt in range(100):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.connect()
            return connection
        except OSError:
            time.sleep(0.1)
    sys.exit("The server does not accept connections.")


def _log_in(port: int, username: str, password: str) -> str:
    """The Cookie header of a logged-in session."""
    connection = _connection(port)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    page = response.read().decode()
    jar = SimpleCookie()
    for cookie in response.headers.get_all("Set-Cookie") or []:
        jar.load(cookie)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    body = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    )
    connection.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={jar['csrftoken'].value}",
        },
    )
    response = connection.getresponse()
    response.read()
    for cookie in response.headers.get_all("Set-Cookie") or []:
        jar.load(cookie)
    if response.status != 302 or "sessionid" not in jar:
        sys.exit(f"Could not log in as {username}: HTTP {response.status}")
    connection.close()
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def _run(
    port: int, cookies: str, pages: dict[str, str], requests: int, clients: int
) -> dict[str, dict[str, list[float]]]:
    """Server and client times (ms) per page; every client works through a shared queue."""
    work = [name for name in pages for _ in range(requests)]
    random.Random(1).shuffle(work)
    lock = threading.Lock()
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    failures: list[str] = []

    def client() -> None:
        connection = _connection(port)
        for name in pages:  # warm-up: each page once per connection, not measured
            _get(connection, pages[name], cookies)
        while True:
            with lock:
                if not work:
                    break
                name = work.pop()
            started = time.perf_counter()
            status, server_ms = _get(connection, pages[name], cookies)
            client_ms = (time.perf_counter() - started) * 1000
            with lock:
                if status != 200 or server_ms is None:
                    failures.append(f"{pages[name]}: HTTP {status}")
                results[name]["server"].append(server_ms or 0.0)
                results[name]["client"].append(client_ms)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit("Requests failed:\n" + "\n".join(failures[:10]))
    return results


def _get(
    connection: http.client.HTTPConnection, path: str, cookies: str
) -> tuple[int, float | None]:
    connection.request("GET", path, headers={"Cookie": cookies, **NEW_CONNECTION})
    response = connection.getresponse()
    response.read()
    timing = re.search(r"app;dur=([\d.]+)", response.headers.get("Server-Timing", ""))
    return response.status, float(timing[1]) if timing else None


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _postgres_version(bench_url: str) -> str:
    with psycopg.connect(bench_url) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def _report(
    args: argparse.Namespace,
    pages: dict[str, str],
    results: dict[str, dict[str, list[float]]],
    load_seconds: float | None,
    bench_url: str,
) -> int:
    loaded = f"{load_seconds:.1f} s" if load_seconds is not None else "reused"
    header(
        "Deal list: server time per page (bench/crm_list.py)",
        database=f"PostgreSQL {_postgres_version(bench_url)}",
        N=f"{args.deals} deals (demo_data --size {args.deals}: {loaded})",
        clients=f"{args.clients} concurrent, {args.requests} requests a page",
        connections=CONNECTIONS,
        server=f"manage.py serve --workers {args.workers}",
        times="server-side (Server-Timing app;dur); client-observed for reference",
    )
    print()
    print_pages(pages, results)
    return 0


def print_pages(pages: dict[str, str], results: dict[str, dict[str, list[float]]]) -> None:
    """The table of server and client percentiles per page, and whether the target is met."""
    columns = ("server p50", "server p99", "client p50", "client p99")
    print(f"{'page':<12}" + "".join(f"{column:>12}" for column in columns) + "  url")
    worst = 0.0
    for name, path in pages.items():
        server, client = results[name]["server"], results[name]["client"]
        p99 = _percentile(server, 0.99)
        worst = max(worst, p99)
        figures = (
            _percentile(server, 0.5),
            p99,
            _percentile(client, 0.5),
            _percentile(client, 0.99),
        )
        print(f"{name:<12}" + "".join(f"{value:>9.1f} ms" for value in figures) + f"  {path}")
    verdict = "met" if worst <= TARGET_P99_MS else "NOT met"
    print()
    print(f"target: server p99 ≤ {TARGET_P99_MS:.0f} ms on every page: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
