"""A list's elements page under load: the server's time for the first page, a late page, a
search, and pages filtered and sorted on properties.

Loads N elements with 5 properties (a string, a number and a list option, both filterable, a
date and an employee) into one list of a fresh PostgreSQL database, then VACUUM ANALYZE; starts
the real server (``manage.py serve --workers W``, EMBEDDED_WORKER=false, the Redis channel
layer), logs in as the demo administrator (the list lets everyone read every element), and has
CLIENTS threads ask for the pages concurrently, each request on a new connection. The figures
are server-side (the ``Server-Timing: app;dur=…`` header; client-observed times for
reference). Target: p99 ≤ 150 ms for each page at 4 clients.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/lists_list.py
    … bench/lists_list.py --tiny      # 2,000 elements and 20 requests a page (CI)

The bench creates (and re-creates) its own database, ``bizproc_bench_lists``.
"""

import argparse
import datetime
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CONNECTIONS, ROOT, free_port, fresh_database, header
from bench.crm_list import (
    PYTHON,
    _log_in,
    _postgres_version,
    _run,
    _wait_for_server,
    print_pages,
)

BENCH_DATABASE = "bizproc_bench_lists"
LIST_CODE = "bench_requests"
WORDS = ("laptop", "monitor", "chair", "desk", "phone", "licence", "cable", "printer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=100_000, help="N (default 100000)")
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
        help=f"keep {BENCH_DATABASE} if it already holds N elements (skips the load)",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="2,000 elements and 20 requests a page kind (CI)"
    )
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)  # the loader's own run
    args = parser.parse_args()
    if args.load is not None:
        _load(args.load)
        return 0
    if args.tiny:
        args.elements, args.requests = 2000, 20

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgresql://…")
    bench_url = urllib.parse.urlparse(base_url)._replace(path=f"/{BENCH_DATABASE}").geturl()
    var_dir = ROOT / "var" / "bench-lists"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": bench_url, "VAR_DIR": str(var_dir)}
    env |= {"EMBEDDED_WORKER": "false", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "ERROR"}
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    load_seconds = _prepare_database(bench_url, env, args.elements, args.reuse)
    facts = _facts(bench_url)
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
        base = f"/lists/{facts['list']}/"
        amount, category = "PROPERTY_AMOUNT", "PROPERTY_CATEGORY"
        pages = {
            "first page": base,
            "late page": f"{base}?page={min(1500, max(1, args.elements // 50))}",
            "search": f"{base}?q=printer",
            "filtered": f"{base}?{category}={facts['option']}&sort=-{amount}",
            "range": f"{base}?{amount}_from=400&{amount}_to=450&sort={category}",
        }
        results = _run(port, cookies, pages, args.requests, args.clients)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return _report(args, pages, results, load_seconds, bench_url)


def _prepare_database(bench_url: str, env: dict, elements: int, reuse: bool) -> float | None:
    """A fresh database with the demo people and N elements; returns the load's time."""
    if reuse and _element_count(bench_url) == elements:
        return None
    fresh_database(BENCH_DATABASE)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "manage.py", "demo_data", "--size", "10"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [PYTHON, "bench/lists_list.py", "--load", str(elements)], cwd=ROOT, env=env, check=True
    )
    with psycopg.connect(bench_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def _load(elements: int) -> None:
    """Creates the list and its properties through the services (indexes included), then the
    elements in bulk, as a migration from another system would."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from lists import services
    from lists.models import Element, ListKind

    people = list(get_user_model().objects.filter(is_active=True).order_by("pk"))
    admin = next(person for person in people if person.is_superuser)
    list_ = services.list_create(
        values={
            "kind": ListKind.PROCESSES,
            "name": "Purchase requests",
            "code": LIST_CODE,
            "access": {"add": ["AU"], "read": ["AU"]},
        },
        user=admin,
    )
    fields = {}
    for code, name, type_, filterable, extra in (
        ("ITEM", "Item", "S", False, {}),
        ("AMOUNT", "Amount", "N", True, {}),
        (
            "CATEGORY",
            "Category",
            "L",
            True,
            {"options": [{"value": word.title(), "xml_id": word} for word in WORDS[:5]]},
        ),
        ("NEEDED_BY", "Needed by", "S:Date", False, {}),
        ("BUYER", "Buyer", "S:employee", False, {}),
    ):
        fields[code] = services.listfield_create(
            list_=list_,
            values={"code": code, "name": name, "type": type_, "filterable": filterable, **extra},
            user=admin,
        )
    options = list(fields["CATEGORY"].options.values_list("pk", flat=True))
    generator = random.Random(21)
    start = datetime.date(2026, 1, 1)
    batch = []
    for number in range(1, elements + 1):
        author = generator.choice(people)
        item = f"{generator.choice(WORDS)} {generator.choice(WORDS)}"
        batch.append(
            Element(
                list=list_,
                name=f"Request {number}: {item}",
                created_by=author,
                modified_by=author,
                values={
                    str(fields["ITEM"].pk): item,
                    str(fields["AMOUNT"].pk): generator.randint(1, 1000),
                    str(fields["CATEGORY"].pk): generator.choice(options),
                    str(fields["NEEDED_BY"].pk): (
                        start + datetime.timedelta(days=generator.randint(0, 365))
                    ).isoformat(),
                    str(fields["BUYER"].pk): generator.choice(people).pk,
                },
            )
        )
        if len(batch) == 5000:
            Element.objects.bulk_create(batch)
            batch = []
    Element.objects.bulk_create(batch)


def _element_count(bench_url: str) -> int | None:
    try:
        with psycopg.connect(bench_url) as connection:
            return connection.execute("SELECT COUNT(*) FROM lists_element").fetchone()[0]
    except psycopg.Error:
        return None


def _facts(bench_url: str) -> dict[str, int]:
    """The list's id, its properties' ids by code and one option's id."""
    with psycopg.connect(bench_url) as connection:
        list_id = connection.execute(
            "SELECT id FROM lists_list WHERE code = %s", [LIST_CODE]
        ).fetchone()[0]
        facts = dict(
            connection.execute(
                "SELECT code, id FROM lists_listfield WHERE list_id = %s", [list_id]
            ).fetchall()
        )
        facts["list"] = list_id
        facts["option"] = connection.execute(
            "SELECT id FROM lists_listfieldoption WHERE field_id = %s ORDER BY sort LIMIT 1",
            [facts["CATEGORY"]],
        ).fetchone()[0]
    return facts


def _report(
    args: argparse.Namespace,
    pages: dict[str, str],
    results: dict[str, dict[str, list[float]]],
    load_seconds: float | None,
    bench_url: str,
) -> int:
    loaded = f"{load_seconds:.1f} s" if load_seconds is not None else "reused"
    header(
        "List elements: server time per page (bench/lists_list.py)",
        database=f"PostgreSQL {_postgres_version(bench_url)}",
        N=f"{args.elements} elements with 5 properties in one list (load: {loaded})",
        clients=f"{args.clients} concurrent, {args.requests} requests a page",
        connections=CONNECTIONS,
        server=f"manage.py serve --workers {args.workers}",
        times="server-side (Server-Timing app;dur); client-observed for reference",
    )
    print()
    print_pages(pages, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
