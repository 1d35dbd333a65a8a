"""REST starts/s: ``bizproc.workflow.start`` over HTTP, in the embedded default (``make run``).

Sets the product up as ``make run`` does, in a fresh temporary VAR_DIR and without
DATABASE_URL or REDIS_URL (SQLite, the in-memory channel layer and cache): ``migrate``, the demo
data (``demo_data --size`` N + warm-up deals, ``demo_lists``, ``demo_webhook``), plus the
template of bench/engine.py (bench/engine_template.py) published; then starts one
``manage.py serve`` with the task worker and the sweeper inside it, as bin/run does (the REST
rate limit raised through REST_RATE_LIMIT_PER_SECOND). C client processes (forked) then POST
``bizproc.workflow.start`` with the template and a deal of their own through the demo admin's
webhook, each request on a new connection (``bench.common.NEW_CONNECTION``): a warm-up, not
counted, then N starts.

The figure is completed starts/s: the instances counted as completed in the database after
the run (the template has no wait, so each completes within its request) over the seconds from
the clients' common start to the last answer. Also printed: the client-observed p50 / p99, the
server's own time (``Server-Timing: app;dur``) and the CPU time the server's processes spent per
start (which a shared machine disturbs less than the rate). Goal (#24): ≥ 100 starts/s from 2
clients.

    .venv/bin/python bench/rest_start.py               # SQLite, as `make run`
    .venv/bin/python bench/rest_start.py --postgres    # PostgreSQL + Redis, 2 server processes
    .venv/bin/python bench/rest_start.py --tiny        # the run CI does: 20 starts

``--postgres`` runs the same on a fresh database next to DATABASE_URL's (bizproc_bench_rest_start)
with REDIS_URL, ``serve --workers 2`` and one ``manage.py bizproc_worker``, as production (and
the "ours" row of the peers' compare.py) runs it. The server's pid is printed, for a profiler.
"""

import argparse
import http.client
import io
import json
import multiprocessing
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CONNECTIONS,
    NEW_CONNECTION,
    ROOT,
    free_port,
    fresh_database,
    header,
    percentiles,
)

PYTHON = str(ROOT / ".venv" / "bin" / "python")
FORK = multiprocessing.get_context("fork")
GOAL_PER_SECOND = 100


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=400, help="counted starts (default 400)")
    parser.add_argument("--warmup", type=int, default=20, help="starts first, not counted (20)")
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL + Redis, see above")
    parser.add_argument("--workers", type=int, default=2, help="server processes with --postgres")
    parser.add_argument("--tiny", action="store_true", help="CI's run: --n 20 --warmup 4")
    args = parser.parse_args()
    if args.tiny:
        args.n, args.warmup = 20, 4
    workers = args.workers if args.postgres else 1

    with tempfile.TemporaryDirectory(prefix="bench-rest-start-") as var_dir:
        env = {"VAR_DIR": var_dir, "REST_RATE_LIMIT_PER_SECOND": "1000000"}
        if args.postgres:
            env |= {
                "DATABASE_URL": fresh_database("bizproc_bench_rest_start"),
                "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
                "EMBEDDED_WORKER": "false",
            }
        else:  # the embedded default: whatever CI or the shell exported must not reach it
            os.environ.pop("DATABASE_URL", None)
            os.environ.pop("REDIS_URL", None)
        os.environ.update(env)
        template_id, deal_ids, webhook = _prepare(args.n + args.warmup)
        database = _database()
        server_env = os.environ | {"PYTHONUNBUFFERED": "1"}
        port = free_port()
        log_path = Path(var_dir) / "server.log"
        commands = [[PYTHON, "manage.py", "serve", "--port", str(port), "--workers", str(workers)]]
        if args.postgres:
            commands.append([PYTHON, "manage.py", "bizproc_worker", "--queue-name", "*"])
        with log_path.open("wb") as log:
            servers = [
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=server_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group, stopped as one below
                )
                for command in commands
            ]
        try:
            _wait_for_port(port, servers[0], log_path)
            print(f"server up, pid {servers[0].pid}; {args.warmup} + {args.n} starts", flush=True)
            path = webhook + "bizproc.workflow.start"
            speed_ms = _additions_ms()
            warm = _run_clients(port, path, template_id, deal_ids[: args.warmup], args.clients)
            before = _completed(template_id)
            cpu_before = _cpu_seconds(servers[0].pid)
            load = _run_clients(port, path, template_id, deal_ids[args.warmup :], args.clients)
            cpu = _cpu_seconds(servers[0].pid) - cpu_before
            completed = _completed(template_id) - before
        finally:
            for server in servers:
                _stop(server)
        failures = warm["failures"] + load["failures"]
        if failures:
            sys.exit(f"{len(failures)} requests failed, e.g.:\n" + "\n".join(failures[:5]))
        if completed != args.n:
            sys.exit(f"{completed} of {args.n} starts completed. Server log:\n{_tail(log_path)}")

    header(
        "REST starts: bizproc.workflow.start over HTTP (bench/rest_start.py)",
        setup="PostgreSQL + Redis, as production" if args.postgres else "the embedded default",
        database=database,
        server=f"manage.py serve --workers {workers}"
        + (
            ", EMBEDDED_WORKER=false, one manage.py bizproc_worker"
            if args.postgres
            else " (task worker and sweeper inside it), in-memory channel layer and cache"
        ),
        N=f"{args.n} starts (after {args.warmup} not counted), each on a deal of its own",
        clients=f"{args.clients} processes (forked)",
        connections=CONNECTIONS,
        speed=f"10^6 additions in {speed_ms:.0f} ms (the machine's pace at the run's start)",
    )
    rate = completed / load["elapsed"]
    print()
    print(f"REST starts: {completed} completed in {load['elapsed']:.2f} s → {rate:.1f} starts/s")
    print(f"client-observed: {percentiles(load['client'])}")
    print(f"server (Server-Timing app;dur): {percentiles(load['server'])}")
    print(
        f"server CPU (its processes' user + system time): {cpu / completed * 1000:.1f} ms a start"
    )
    verdict = "met" if rate >= GOAL_PER_SECOND else "NOT met"
    goal = f"≥ {GOAL_PER_SECOND} starts/s from 2 clients on the embedded default"
    print(f"goal (#24): {goal}: {verdict}" if not args.postgres else f"(goal on SQLite: {goal})")
    return 0


def _prepare(deals: int) -> tuple[int, list[int], str]:
    """Migrates and loads the demo as bin/run does, with ``deals`` deals and the bench template;
    returns the template's id, the deals' ids and the webhook's URL path."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from accounts.models import User
    from bench.engine_template import engine_template_create
    from crm.models import Deal
    from rest.demo import demo_webhook_path

    call_command("migrate", verbosity=0)
    quiet = io.StringIO()
    call_command("demo_data", size=deals, stdout=quiet)
    call_command("demo_lists", stdout=quiet)
    call_command("demo_webhook")
    template = engine_template_create(User.objects.get(username="admin"))
    deal_ids = list(Deal.objects.order_by("pk").values_list("pk", flat=True))
    webhook = demo_webhook_path()
    assert webhook is not None
    # The clients are forked from this process: none may inherit a connection (nor a pool).
    connections.close_all()
    if hasattr(connections["default"], "close_pool"):
        connections["default"].close_pool()
    return template.pk, deal_ids, webhook


def _additions_ms() -> float:
    """A measure of the (shared) machine's pace: 10^6 additions in Python."""
    began = time.perf_counter()
    total = 0
    for number in range(1_000_000):
        total += number
    return (time.perf_counter() - began) * 1000


def _cpu_seconds(group: int) -> float:
    """CPU time of the processes of a process group (the server and its workers), from /proc:
    a figure less at the mercy of a shared machine than the rate."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _database() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def _completed(template_id: int) -> int:
    from django.db import connections

    from bizproc.models import Instance, InstanceStatus

    count = Instance.objects.filter(template_id=template_id, status=InstanceStatus.COMPLETED)
    count = count.count()
    connections.close_all()
    return count


def _wait_for_port(port: int, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"The server did not start:\n{_tail(log_path)}")
            time.sleep(0.1)


def _tail(log_path: Path) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])


def _stop(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _start(port: int, path: str, template_id: int, deal_id: int) -> tuple[float | None, str]:
    """One start on a new connection: the server's time (ms) and what failed, if anything."""
    body = {
        "TEMPLATE_ID": template_id,
        "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", f"DEAL_{deal_id}"],
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Content-Type": "application/json", **NEW_CONNECTION}
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        answer = response.read()
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    timing = re.search(r"app;dur=([\d.]+)", response.headers.get("Server-Timing", ""))
    server_ms = float(timing[1]) if timing else None
    if response.status != 200 or b'"result"' not in answer:
        return server_ms, f"HTTP {response.status} {answer[:200]!r}"
    return server_ms, ""


def _run_clients(port: int, path: str, template_id: int, deal_ids: list[int], clients: int) -> dict:
    """Each client process starts its share of the deals in turn; returns the seconds from
    their common start to the last answer, the client and server times (ms), the failures."""
    results = FORK.Queue()
    ready = FORK.Barrier(clients + 1)

    def client(chunk: list[int]) -> None:
        client_ms, server_ms, failures = [], [], []
        ready.wait()
        for deal_id in chunk:
            began = time.perf_counter()
            server, failure = _start(port, path, template_id, deal_id)
            client_ms.append((time.perf_counter() - began) * 1000)
            if server is not None:
                server_ms.append(server)
            if failure:
                failures.append(failure)
        results.put((client_ms, server_ms, failures))

    processes = [FORK.Process(target=client, args=(deal_ids[i::clients],)) for i in range(clients)]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    try:
        returned = [results.get(timeout=1800) for _ in processes]
    except queue.Empty:
        sys.exit("A client process did not finish.")
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    return {
        "elapsed": elapsed,
        "client": [ms for part in returned for ms in part[0]],
        "server": [ms for part in returned for ms in part[1]],
        "failures": [failure for part in returned for failure in part[2]],
    }


if __name__ == "__main__":
    sys.exit(main())
