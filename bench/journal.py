"""A record's journal with N rows: page times, and commit → websocket arrival.

Writes N journal rows on one deal (through ``bizproc.journal.Journal``, as steps do: execute,
report, close; spread over N/100 processes) into a fresh PostgreSQL database, starts the real
server (``manage.py serve --workers W``, EMBEDDED_WORKER=false, the Redis channel layer; W
defaults to the number of cores), and measures:

* pages: the record's journal in "All records" mode at its first, middle and last keyset page,
  CLIENTS threads, each request on a new connection (``bench.common.NEW_CONNECTION``),
  REQUESTS requests a page. Server-side times:
  the ``Server-Timing: app;dur=…`` header (client-observed printed for reference).
  Target: p99 ≤ 100 ms on each page.
* live: a websocket client on the journal page (``after`` = its newest row); this process
  commits one journal row at a time, as a separate worker does, and waits for the row to
  arrive, REQUESTS times. Client-observed, one clock: from just before the commit to the
  arrival of the rendered row. Target: p99 ≤ 250 ms.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/journal.py
    … bench/journal.py --rows 2000 --requests 20     # the tiny run CI does (also: --tiny)

The bench creates (and re-creates) its own database, ``bizproc_bench_journal``.
"""

import argparse
import http.client
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CONNECTIONS,
    NEW_CONNECTION,
    ROOT,
    django_setup,
    free_port,
    fresh_database,
    header,
    percentiles,
    serve,
)

PAGE_TARGET_MS, LIVE_TARGET_MS = 100.0, 250.0

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rows", type=int, default=100_000, help="N journal rows (default 100000)")
parser.add_argument("--requests", type=int, default=200, help="per page, and live samples")
parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
parser.add_argument(
    "--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: cores)"
)
parser.add_argument("--tiny", action="store_true", help="--rows 2000 --requests 20 (CI)")
args = parser.parse_args()
if args.tiny:
    args.rows, args.requests = 2000, 20

redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
os.environ["REDIS_URL"] = redis_url
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # shared with the server
os.environ["EMBEDDED_WORKER"] = "false"
database_url = fresh_database("bizproc_bench_journal")
django_setup(database_url, LOG_LEVEL="ERROR", VAR_DIR=str(ROOT / "var" / "bench-journal"))

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from bizproc.journal import Journal, journal_rows  # noqa: E402
from bizproc.models import JournalEntry  # noqa: E402
from bizproc.runtime import workflow_start  # noqa: E402
from tests.bizproc.builders import node, published  # noqa: E402
from tests.crm.factories import DealFactory, UserFactory  # noqa: E402


def load() -> tuple[str, object, list, float]:
    """One deal with ``args.rows`` journal rows; returns its id, the user, the processes and
    how long the load took."""
    started = time.monotonic()
    admin = UserFactory(username="bench", is_crm_admin=True, full_name="Bench Admin")
    deal = DealFactory(title="A deal with a long journal", assigned_by=admin)
    template = published(
        node("DelayActivity", TimeoutDuration="30", TimeoutDurationType="d", Title="Wait"),
        user=admin,
        name="Long journal",
    )
    processes = [
        workflow_start(template=template, document_id=deal.document_id, user=admin)
        for _ in range(max(1, args.rows // 100))
    ]
    remaining = args.rows - JournalEntry.objects.count()
    for start in range(0, remaining, 100):  # a process's 100 rows: execute, report, close …
        journal = Journal(processes[start // 100 % len(processes)], admin.pk)
        for number in range(start, min(start + 100, remaining)):
            name, title = f"A{number % 7}", f"Block {number % 7}"
            match number % 3:
                case 0:
                    journal.execute(name, title)
                case 1:
                    journal.report(name, title, f"Row {number} for user_{admin.pk}")
                case _:
                    journal.close(name, title)
        with transaction.atomic():
            journal.flush()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE bizproc_journalentry")
    return deal.document_id, admin, processes, time.monotonic() - started


def get(conn: http.client.HTTPConnection, path: str, cookie: str) -> tuple[int, float | None]:
    conn.request("GET", path, headers={"Cookie": cookie, **NEW_CONNECTION})
    response = conn.getresponse()
    response.read()
    timing = re.search(r"app;dur=([\d.]+)", response.headers.get("Server-Timing", ""))
    return response.status, float(timing[1]) if timing else None


def pages_run(port: int, cookie: str, pages: dict[str, str]) -> dict[str, dict[str, list]]:
    work = [name for name in pages for _ in range(args.requests)]
    random.Random(1).shuffle(work)
    lock = threading.Lock()
    results: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    failures: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path in pages.values():  # warm-up, not measured
            get(conn, path, cookie)
        while True:
            with lock:
                if not work:
                    break
                name = work.pop()
            started = time.perf_counter()
            status, server_ms = get(conn, pages[name], cookie)
            client_ms = (time.perf_counter() - started) * 1000
            with lock:
                if status != 200:
                    failures.append(f"{pages[name]}: HTTP {status}")
                if server_ms is not None:
                    results[name]["server"].append(server_ms)
                results[name]["client"].append(client_ms)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit("Requests failed:\n" + "\n".join(failures[:10]))
    return results


def live_run(port: int, cookie: str, document_id: str, process, user) -> list[float]:
    newest = JournalEntry.objects.filter(document_id=document_id).latest("id").pk
    samples = []
    with connect(
        f"ws://127.0.0.1:{port}/ws/bizproc/documents/{document_id}/journal/"
        f"?mode=all&after={newest}",
        additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
    ) as page:
        page.recv(timeout=10)  # the catch-up on connect
        for number in range(args.requests):
            marker = f"live sample {number} {secrets.token_hex(4)}"
            journal = Journal(process, user.pk)
            journal.report("A0", "Live", marker)
            with transaction.atomic():
                journal.flush()
                started = time.perf_counter()  # the commit follows, then the announcement
            while marker not in page.recv(timeout=10):
                pass
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def sql_time(document_id: str, before: int | None) -> float:
    """PostgreSQL's own execution time (ms, median of 20) of the page's row query."""
    with CaptureQueriesContext(connection) as queries:
        journal_rows(document_id=document_id, before_id=before, limit=51)
    sql = next(q["sql"] for q in queries.captured_queries if "bizproc_journalentry" in q["sql"])
    times = []
    with connection.cursor() as cursor:
        for _ in range(20):
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            times.append(cursor.fetchone()[0][0]["Execution Time"])
    return sorted(times)[len(times) // 2]


def python_speed() -> float:
    """Milliseconds for a million Python additions: how fast this machine runs Python now."""
    started, total = time.perf_counter(), 0
    for number in range(1_000_000):
        total += number
    return (time.perf_counter() - started) * 1000


def main() -> int:
    speed = python_speed()
    document_id, admin, processes, load_seconds = load()
    client = Client()
    client.force_login(admin)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    ids = list(
        JournalEntry.objects.filter(document_id=document_id)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    base = f"/bizproc/documents/{document_id}/journal/?mode=all"
    cursors = {
        "first page": None,
        "middle page": ids[len(ids) // 2],
        "last page": ids[max(0, len(ids) - 51)],
    }
    pages = {
        name: base if before is None else f"{base}&before={before}"
        for name, before in cursors.items()
    }
    sql = {name: sql_time(document_id, before) for name, before in cursors.items()}
    port = free_port()
    server = serve(port, database_url=database_url, workers=args.workers)
    try:
        results = pages_run(port, cookie, pages)
        live = live_run(port, cookie, document_id, processes[0], admin)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    server_side = all(results[name]["server"] for name in pages)
    header(
        "A record's journal: pages and live rows (bench/journal.py)",
        database=f"PostgreSQL {version}; channel layer Redis ({redis_url})",
        N=f"{len(ids)} journal rows on {document_id}, {len(processes)} processes "
        f"(loaded in {load_seconds:.1f} s)",
        clients=f"{args.clients} concurrent, {args.requests} requests a page",
        connections=CONNECTIONS,
        server=f"manage.py serve --workers {args.workers}",
        times="pages: server-side (Server-Timing app;dur), client-observed for reference"
        if server_side
        else "pages: client-observed (no Server-Timing header)",
        live=f"{args.requests} rows committed one at a time by this process; client-observed",
        python=f"10^6 additions in {speed:.0f} ms at the start, {python_speed():.0f} ms at the end "
        f"(load average {os.getloadavg()[0]:.1f})",
    )
    print()
    worst = 0.0
    for name, path in pages.items():
        measured = results[name]["server"] or results[name]["client"]
        worst = max(worst, sorted(measured)[min(len(measured) - 1, int(len(measured) * 0.99))])
        print(f"{name:<12} server {percentiles(results[name]['server'])}")
        print(f"{'':<12} client {percentiles(results[name]['client'])}   {path}")
        print(f"{'':<12} its row query in PostgreSQL: {sql[name]:.2f} ms")
    print(f"{'live':<12} commit → row at the socket {percentiles(live)}")
    live_p99 = sorted(live)[min(len(live) - 1, int(len(live) * 0.99))]
    print()
    print(
        f"target: page p99 ≤ {PAGE_TARGET_MS:.0f} ms: "
        f"{'met' if worst <= PAGE_TARGET_MS else 'NOT met'} (worst p99 {worst:.1f} ms)"
    )
    print(
        f"target: live p99 ≤ {LIVE_TARGET_MS:.0f} ms: "
        f"{'met' if live_p99 <= LIVE_TARGET_MS else 'NOT met'} (p99 {live_p99:.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
