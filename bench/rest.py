"""REST under load: ``crm.deal.list`` pages and a ``batch`` of 50 ``crm.deal.get``, server time.

Loads N deals into a fresh PostgreSQL database (``crm.demo.demo_records_create``), starts the
real server (``manage.py serve --workers W``, EMBEDDED_WORKER=false, the same DATABASE_URL, the
Redis channel layer and cache; W defaults to the number of cores) and has CLIENTS
threads call the demo admin's webhook concurrently, each request on a new connection
(``bench.common.NEW_CONNECTION``): the first page, a late page (``start`` near the end: OFFSET
over the id index), a filtered page (stage, responsible, amount), a page without count
(``start=-1`` after ``>ID``), and a batch of 50 ``crm.deal.get`` of random deals — the list
pages in one phase, then the batches in another (the targets are per kind). The deals do not
change during the run, so the ``total`` of a page is counted once and then read from the cache
(``crm.counts``). The figures are server-side: the ``Server-Timing: app;dur=…`` header the
application sets (client-observed times are printed for reference).
Targets: p99 ≤ 50 ms for each list page, ≤ 300 ms for the batch.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/rest.py
    … bench/rest.py --tiny      # the run CI does: --deals 2000 --requests 20

The database named by DATABASE_URL is only used to reach the server; the bench creates (and
re-creates) its own database, ``bizproc_bench_rest``. The rate limit is raised for the run
(every request still counts in the user's bucket in Redis).
"""

import argparse
import http.client
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CONNECTIONS,
    NEW_CONNECTION,
    ROOT,
    django_setup,
    free_port,
    fresh_database,
    header,
)

PYTHON = str(ROOT / ".venv" / "bin" / "python")
BENCH_DATABASE = "bizproc_bench_rest"
TARGETS_MS = {"list": 50.0, "batch": 300.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000, help="N (default 100000)")
    parser.add_argument("--requests", type=int, default=400, help="requests per kind (400)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: cores)"
    )
    parser.add_argument("--tiny", action="store_true", help="CI's run: --deals 2000 --requests 20")
    args = parser.parse_args()
    if args.tiny:
        args.deals, args.requests = 2000, 20

    with tempfile.TemporaryDirectory(prefix="bench-rest-") as var_dir:
        bench_url = fresh_database(BENCH_DATABASE)
        env = {"VAR_DIR": var_dir, "EMBEDDED_WORKER": "false", "LOG_LEVEL": "ERROR"}
        # The loading process shares the server's cache, so that its bulk load makes the list
        # counts cached by an earlier run (of the database with the same name) stale.
        env["REDIS_URL"] = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        started = time.monotonic()
        django_setup(bench_url, **env)
        anna, deal_ids = _load(args.deals)
        load_seconds = time.monotonic() - started
        port = free_port()
        server_env = os.environ | env | {"DATABASE_URL": bench_url, "PYTHONUNBUFFERED": "1"}
        server_env |= {"REST_RATE_LIMIT_PER_SECOND": "1000000"}
        server = subprocess.Popen(
            [PYTHON, "manage.py", "serve", "--port", str(port), "--workers", str(args.workers)],
            cwd=ROOT,
            env=server_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            path = _wait_for_webhook(server)
            kinds = _kinds(args.deals, anna, deal_ids)
            # Two phases, as the targets are per kind: list pages, then batches.
            phases = [
                {name: kind for name, kind in kinds.items() if kind[0] != "batch"},
                {name: kind for name, kind in kinds.items() if kind[0] == "batch"},
            ]
            results = {}
            for phase in phases:
                results |= _run(port, path, phase, args.requests, args.clients)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    return _report(args, kinds, results, load_seconds)


def _load(deals: int) -> tuple[int, list[int]]:
    """The demo company with N deals and the admin's webhook; (anna's id, every deal id)."""
    from django.db import connection

    from crm import demo
    from crm.models import RECORD_MODELS, Deal, TimelineEntry
    from rest.demo import demo_webhook_create

    users = demo.demo_users_create()
    demo.demo_records_create(users=users, deals=deals)
    demo_webhook_create(user=users["admin"])
    with connection.cursor() as cursor:
        for model in [*RECORD_MODELS.values(), TimelineEntry]:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    connection.close()
    return users["anna"].pk, list(Deal.objects.values_list("pk", flat=True))


def _kinds(deals: int, anna: int, deal_ids: list[int]) -> dict[str, Any]:
    """Each kind of request: (method, parameters) or a callable making a fresh batch."""
    rng = random.Random(7)
    late = max(0, (deals // 50 - 10) * 50)
    middle = deal_ids[len(deal_ids) // 2]

    def batch() -> dict:
        ids = rng.sample(deal_ids, min(50, len(deal_ids)))
        return {"halt": 0, "cmd": {f"d{i}": f"crm.deal.get?id={pk}" for i, pk in enumerate(ids)}}

    return {
        "first page": ("crm.deal.list", {}),
        f"start={late}": ("crm.deal.list", {"start": late}),
        "filtered": (
            "crm.deal.list",
            {
                "filter": {"STAGE_ID": "EXECUTING", "ASSIGNED_BY_ID": anna, ">OPPORTUNITY": 1000},
                "order": {"ID": "DESC"},
            },
        ),
        "start=-1, >ID": ("crm.deal.list", {"start": -1, "filter": {">ID": middle}}),
        "batch 50 get": ("batch", batch),
    }


def _wait_for_webhook(server: subprocess.Popen) -> str:
    """The webhook's URL path, which the server prints once it is up."""
    assert server.stdout is not None
    output = []
    while True:
        line = server.stdout.readline()
        if not line:
            sys.exit("The server stopped before it was ready:\n" + "".join(output))
        output.append(line)
        found = re.search(r"REST webhook: https?://[^/]+(/rest/\S+)", line)
        if found:
            threading.Thread(target=server.stdout.read, daemon=True).start()
            return found[1]


def _connection(port: int) -> http.client.HTTPConnection:
    for _attempt in range(100):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.connect()
            return connection
        except OSError:
            time.sleep(0.1)
    sys.exit("The server does not accept connections.")


def _call(
    connection: http.client.HTTPConnection, path: str, method: str, params: dict
) -> tuple[int, float | None, dict]:
    connection.request(
        "POST",
        path + method,
        json.dumps(params),
        {"Content-Type": "application/json", **NEW_CONNECTION},
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    timing = re.search(r"app;dur=([\d.]+)", response.headers.get("Server-Timing", ""))
    return response.status, float(timing[1]) if timing else None, body


def _run(
    port: int, path: str, kinds: dict[str, Any], requests: int, clients: int
) -> dict[str, dict[str, list[float]]]:
    """Server and client times (ms) per kind; the clients share one shuffled queue."""
    work = [name for name in kinds for _ in range(requests)]
    random.Random(1).shuffle(work)
    lock = threading.Lock()
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    failures: list[str] = []

    def params_of(name: str) -> tuple[str, dict]:
        method, params = kinds[name]
        with lock:
            return method, params() if callable(params) else params

    def client() -> None:
        connection = _connection(port)
        for name in kinds:  # warm-up: each kind once per connection, not measured
            _call(connection, path, *params_of(name))
        while True:
            with lock:
                if not work:
                    break
                name = work.pop()
            method, params = params_of(name)
            began = time.perf_counter()
            status, server_ms, body = _call(connection, path, method, params)
            client_ms = (time.perf_counter() - began) * 1000
            failed = (
                status != 200
                or server_ms is None
                or (method == "batch" and body["result"]["result_error"])
            )
            with lock:
                if failed:
                    failures.append(f"{name}: HTTP {status} {str(body)[:200]}")
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


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _report(
    args: argparse.Namespace,
    kinds: dict[str, Any],
    results: dict[str, dict[str, list[float]]],
    load_seconds: float,
) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    header(
        "REST: server time per request kind (bench/rest.py)",
        database=f"PostgreSQL {version}",
        N=f"{args.deals} deals (loaded with the demo company in {load_seconds:.1f} s)",
        clients=f"{args.clients} concurrent, {args.requests} requests a kind",
        connections=CONNECTIONS,
        server=f"manage.py serve --workers {args.workers}",
        times="server-side (Server-Timing app;dur); client-observed for reference",
    )
    print()
    columns = ("server p50", "server p99", "client p50", "client p99", "target")
    print(f"{'request':<16}" + "".join(f"{column:>12}" for column in columns))
    verdicts = []
    for name, (method, _params) in kinds.items():
        server, client = results[name]["server"], results[name]["client"]
        p99 = _percentile(server, 0.99)
        target = TARGETS_MS["batch" if method == "batch" else "list"]
        verdicts.append(p99 <= target)
        figures = (
            _percentile(server, 0.5),
            p99,
            _percentile(client, 0.5),
            _percentile(client, 0.99),
            target,
        )
        print(f"{name:<16}" + "".join(f"{value:>9.1f} ms" for value in figures))
    print()
    verdict = "met" if all(verdicts) else "NOT met"
    print(f"targets: server p99 ≤ 50 ms for each list page, ≤ 300 ms for the batch: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
