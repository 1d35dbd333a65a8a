"""Engine throughput and latency on PostgreSQL (DESIGN.md §7).

The template: SetVariable → IfElse (two branches) → SetField → Log → Log. Each start runs the
whole process in the caller's transaction (there is no wait), so completed = started.

* throughput: N starts from C concurrent clients (processes, each its own connection); prints
  completed instances/s. In the same run, the floor: the same rows the engine writes (the
  instance, its journal rows, the deal update, the timeline row, the final instance update)
  issued as raw SQL through psycopg, one transaction per instance, same concurrency; and the
  ratio engine / floor.
* latency: a steady RATE starts/s for SECONDS; prints start→completed p50 / p99.

Times are measured in the process that calls the engine (no HTTP), i.e. the server's own work.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/engine.py
"""

import argparse
import json
import multiprocessing
import os
import queue
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import django_setup, fresh_database, header, percentiles

parser = argparse.ArgumentParser(
    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
)
parser.add_argument("--n", type=int, default=2000, help="starts in the throughput run")
parser.add_argument("--clients", type=int, default=2)
parser.add_argument("--rate", type=float, default=50, help="starts per second in the latency run")
parser.add_argument("--seconds", type=float, default=10, help="length of the latency run")
parser.add_argument("--tiny", action="store_true", help="a few starts only (CI)")
args = parser.parse_args()
if args.tiny:
    args.n, args.rate, args.seconds = 20, 20, 1

database_url = fresh_database("bizproc_bench_engine")
django_setup(database_url, BIZPROC_JOURNAL_START_STOP="true")

import psycopg  # noqa: E402
from django.db import connection, connections  # noqa: E402

from bench.engine_template import engine_template_create  # noqa: E402
from bizproc.models import Instance, InstanceStatus, JournalEntry  # noqa: E402
from bizproc.runtime import workflow_start  # noqa: E402
from crm.demo import demo_records_create, demo_users_create  # noqa: E402
from crm.models import Deal  # noqa: E402

users = demo_users_create()
admin = users["admin"]
deals_needed = args.n + int(args.rate * args.seconds) + 10
demo_records_create(users=users, deals=deals_needed)
deal_ids = list(Deal.objects.order_by("pk").values_list("pk", flat=True))

template = engine_template_create(admin)
header(
    "Engine benchmark (PostgreSQL)",
    N=args.n,
    clients=f"{args.clients} processes (as the server and the workers run), one connection each",
    times="in-process, the server's own work (no HTTP)",
)


FORK = multiprocessing.get_context("fork")


def run_clients(work, items: list, clients: int) -> tuple[float, list]:
    """Runs ``work(chunk)`` for each client's share of ``items`` in a process of its own, as the
    server processes and the workers run the engine (threads of one process would share one
    interpreter); returns the seconds from the common start to the last one done, and what the
    clients' ``work`` returned, joined."""
    chunks = [items[i::clients] for i in range(clients)]
    # Each process opens its own connections: none may be inherited, pooled ones included.
    connections.close_all()
    connection.close_pool()
    results = FORK.Queue()
    ready = FORK.Barrier(clients + 1)

    def client(chunk: list) -> None:
        ready.wait()
        results.put(work(chunk) or [])
        connections.close_all()

    processes = [FORK.Process(target=client, args=(chunk,)) for chunk in chunks]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    try:
        returned = [results.get(timeout=600) for _ in processes]
    except queue.Empty:
        sys.exit("A client process did not finish.")
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    if any(process.exitcode for process in processes):
        sys.exit("A client process failed.")
    return elapsed, [item for part in returned for item in part]


def engine_work(chunk: list[int]) -> None:
    for deal_id in chunk:
        workflow_start(template=template, document_id=f"DEAL_{deal_id}", user=admin)


# Warm-up (imports, caches, the connection pool), not counted.
for deal_id in deal_ids[-5:]:
    workflow_start(template=template, document_id=f"DEAL_{deal_id}", user=admin)
engine_ids = deal_ids[: args.n]
journal_before = JournalEntry.objects.count()
timeline_table = "crm_timelineentry" in connection.introspection.table_names()


def timeline_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_timelineentry")
        return cursor.fetchone()[0]


timeline_before = timeline_count() if timeline_table else 0
elapsed, _ = run_clients(engine_work, engine_ids, args.clients)
completed = Instance.objects.filter(status=InstanceStatus.COMPLETED).count() - 5
engine_rate = completed / elapsed
rows_per_instance = (JournalEntry.objects.count() - journal_before) / max(completed, 1)
timeline_per_instance = (
    round((timeline_count() - timeline_before) / max(completed, 1)) if timeline_table else 0
)
print(f"engine: {completed} completed in {elapsed:.2f} s → {engine_rate:.0f} instances/s")
print(
    f"  ({rows_per_instance:.0f} journal rows and {timeline_per_instance} timeline rows"
    " per instance)"
)

# The floor: the same rows through raw SQL, one transaction per instance.
sample = Instance.objects.exclude(status=InstanceStatus.RUNNING).order_by("-started_at").first()
journal = list(
    JournalEntry.objects.filter(instance=sample)
    .order_by("id")
    .values_list("type", "status", "result", "activity_name", "activity_title", "note")
)
state = json.dumps(sample.state)
dsn = connection.settings_dict
conninfo = (
    f"host={dsn['HOST'] or '127.0.0.1'} port={dsn['PORT'] or 5432}"
    f" dbname={dsn['NAME']} user={dsn['USER']}"
)
# Placeholders only: the values are parameters.
journal_sql = (
    "INSERT INTO bizproc_journalentry (instance_id, document_id, type, status, result,"  # noqa: S608
    " activity_name, activity_title, note, user_id, created_at) VALUES "
    + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, now())"] * len(journal))
)


def floor_work(chunk: list[int]) -> None:
    with psycopg.connect(conninfo) as conn:
        for number, deal_id in enumerate(chunk):
            instance_id = f"floor{os.getpid():07d}.{number:08d}"
            document = f"DEAL_{deal_id}"
            with conn.transaction():
                conn.execute(
                    "INSERT INTO bizproc_instance (id, template_id, version_id, module, entity,"
                    " document_id, status, state_title, started_by_id, started_at, modified_at,"
                    " parameters, variables, state, parent_activity, owner, error)"
                    " VALUES (%s, %s, %s, 'crm', 'CCrmDocumentDeal', %s, 1, '', %s, now(), now(),"
                    " '{}', '{}', %s, '', '', '')",
                    (
                        instance_id,
                        sample.template_id,
                        sample.version_id,
                        document,
                        admin.pk,
                        '{"queue": []}',
                    ),
                )
                conn.execute(
                    "UPDATE crm_deal SET comments = %s, version = version + 1, modified_at = now()"
                    " WHERE id = %s",
                    ("Score 12.5", deal_id),
                )
                for _ in range(timeline_per_instance):
                    conn.execute(
                        "INSERT INTO crm_timelineentry (document_id, kind, author_id, by_process,"
                        " text, changes, version, created_at)"
                        " VALUES (%s, 'changed', %s, true, '', %s, 2, now())",
                        (document, admin.pk, '{"COMMENTS": ["", "Score 12.5"]}'),
                    )
                params = []
                for row in journal:
                    params.extend([instance_id, document, *row, admin.pk])
                conn.execute(journal_sql, params)
                conn.execute(
                    "UPDATE bizproc_instance SET status = 2, state_title = 'Completed', state = %s,"
                    " variables = %s, finished_at = now(), modified_at = now() WHERE id = %s",
                    (state, '{"Score": 12.5}', instance_id),
                )


floor_ids = deal_ids[: args.n]
try:
    floor_elapsed, _ = run_clients(floor_work, floor_ids, args.clients)
    floor_rate = args.n / floor_elapsed
    print(
        f"floor (raw SQL via psycopg): {args.n} in {floor_elapsed:.2f} s"
        f" → {floor_rate:.0f} instances/s"
    )
    print(f"ratio engine / floor: {engine_rate / floor_rate:.2f}")
except psycopg.Error as error:
    print(f"floor: could not replay the engine's rows ({error}); no ratio")

# Latency at a steady rate.
latency_ids = deal_ids[args.n : args.n + int(args.rate * args.seconds)]


def paced_work(chunk: list[int]) -> list[float]:
    interval = args.clients / args.rate
    latencies = []
    next_at = time.perf_counter()
    for deal_id in chunk:
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        started = time.perf_counter()
        instance = workflow_start(template=template, document_id=f"DEAL_{deal_id}", user=admin)
        duration = (time.perf_counter() - started) * 1000
        assert instance.status == InstanceStatus.COMPLETED
        latencies.append(duration)
        next_at += interval
    return latencies


_, latencies = run_clients(paced_work, latency_ids, args.clients)
print(f"latency at {args.rate:.0f} starts/s, start→completed: {percentiles(latencies)}")
