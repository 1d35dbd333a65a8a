"""The template editor under load: the page, a block's dialog, and inserting, moving and deleting
a block in a template of N blocks.

Builds one deal template of N blocks a client (a realistic tree: set-variable, report and pause
blocks, conditions whose branches hold blocks of their own, a parallel block and a loop; it is
published once, which proves it valid) into a fresh PostgreSQL database, starts the real server
(``manage.py serve --workers W``, EMBEDDED_WORKER=false, the Redis channel layer; W defaults to
the number of cores), and has CLIENTS threads, each request on a new connection
(``bench.common.NEW_CONNECTION``), each client with its own session of a CRM admin and its
own template (so that clients never conflict on the draft's revision), repeat a cycle the way
a person works in the editor:

* page: GET the editor (the full page);
* dialog: open a block's dialog (the htmx GET the editor makes when a block is opened);
* insert: POST block-create at a random place of the process's top level;
* move: POST block-move of the new block one place down (up when it is the last);
* delete: POST block-delete of the new block, so that the template stays at N blocks.

Every edit carries the revision the previous answer drew (``id="draft-revision"``) and the CSRF
token as the editor sends them; any answer but 200 (a 409 conflict included) stops the bench.
Server-side times: the ``Server-Timing: app;dur=…`` header (client-observed printed for
reference); nearest-rank percentiles. Targets at 4 clients (16 reported too): page p50 ≤ 40 ms;
dialog, insert, move and delete p99 ≤ 50 ms.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/editor.py
    … bench/editor.py --clients 4                  # only 4 clients (default: 4, then 16)
    … bench/editor.py --tiny                       # the tiny run CI does: 30 blocks, 10 cycles

The bench creates (and re-creates) its own database, ``bizproc_bench_editor``.
"""

import argparse
import http.client
import math
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from http.cookies import SimpleCookie
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
    serve,
)

PAGE_TARGET_P50_MS, EDIT_TARGET_P99_MS, TARGET_CLIENTS = 40.0, 50.0, 4
OPERATIONS = ("page", "dialog", "insert", "move", "delete")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--blocks", type=int, default=200, help="N blocks a template (default 200)")
parser.add_argument(
    "--cycles", type=int, default=400, help="cycles at each client count, shared (default 400)"
)
parser.add_argument(
    "--clients",
    type=int,
    nargs="+",
    default=[4, 16],
    help="concurrent clients; several numbers run one after the other (default: 4 16)",
)
parser.add_argument(
    "--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: cores)"
)
parser.add_argument("--tiny", action="store_true", help="--blocks 30 --cycles 10 (CI)")
args = parser.parse_args()
if args.tiny:
    args.blocks, args.cycles = 30, 10
if args.blocks < 17 or min(args.clients) < 1 or args.cycles < 1:
    sys.exit("Use at least 17 blocks, 1 client and 1 cycle.")

redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
os.environ["REDIS_URL"] = redis_url
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # shared with the server
os.environ["EMBEDDED_WORKER"] = "false"
database_url = fresh_database("bizproc_bench_editor")
django_setup(database_url, LOG_LEVEL="ERROR", VAR_DIR=str(ROOT / "var" / "bench-editor"))

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.editor_tree import (  # noqa: E402
    INSERTED_TYPES,
    openable,
    size,
    templates_create,
)
from bizproc.models import Template  # noqa: E402
from tests.crm.factories import UserFactory  # noqa: E402

# ---- the server and the clients ----------------------------------------------------------


class Failed(Exception):
    """An answer other than 200: the bench stops with it."""


class Editor:
    """One person in the editor: a session, one template, a new connection per request."""

    def __init__(self, port: int, session: str, template: Template) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = {"sessionid": session}
        self.csrf = ""
        self.pk = template.pk
        self.page_url = reverse("designer:template-edit", args=[template.pk])
        self.blocks = openable(template.tree)
        self.top = len(template.tree["Children"])
        self.revision = template.revision
        self.random = random.Random(template.pk)

    def request(
        self, method: str, path: str, *, htmx_target: str = "", data: dict | None = None
    ) -> tuple[str, float | None]:
        headers = {"Cookie": "; ".join(f"{key}={value}" for key, value in self.cookies.items())}
        if htmx_target:
            headers |= {
                "HX-Request": "true",
                "HX-Target": htmx_target,
                "HX-Current-URL": f"http://127.0.0.1:{self.port}{self.page_url}",
            }
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"revision": self.revision, **data})
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.csrf,
                "Origin": f"http://127.0.0.1:{self.port}",
            }
        self.conn.request(method, path, body=body, headers=headers | NEW_CONNECTION)
        response = self.conn.getresponse()
        text = response.read().decode()
        jar = SimpleCookie()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            jar.load(cookie)
        self.cookies |= {key: morsel.value for key, morsel in jar.items()}
        if response.status != 200:
            alert = re.search(r'role="alert"[^>]*>\s*(?:<p>)?([^<]+)', text)
            reason = alert[1].strip() if alert else text[:300]
            raise Failed(f"{method} {path}: HTTP {response.status}: {reason}")
        timing = re.search(r"app;dur=([\d.]+)", response.headers.get("Server-Timing", ""))
        if timing is None:
            raise Failed(f"{method} {path}: no Server-Timing header")
        revision = re.search(r'id="draft-revision" name="revision" value="(\d+)"', text)
        if revision:
            self.revision = int(revision[1])
        if method == "GET" and not htmx_target:
            token = re.search(r'"X-CSRFToken": "([^"]+)"', text)
            self.csrf = token[1] if token else self.csrf
        return text, float(timing[1])

    def cycle(self, record) -> None:
        """The page, a dialog, then a block inserted, moved and deleted: ``record(operation,
        server_ms, client_ms)`` for each."""

        def timed(operation: str, method: str, path: str, **kwargs) -> str:
            started = time.perf_counter()
            text, server_ms = self.request(method, path, **kwargs)
            record(operation, server_ms, (time.perf_counter() - started) * 1000)
            return text

        timed("page", "GET", self.page_url)
        block = self.random.choice(self.blocks)
        dialog = timed(
            "dialog",
            "GET",
            reverse("designer:block-update", args=[self.pk, block]),
            htmx_target="editor-dialog",
        )
        if 'id="editor-dialog"' not in dialog:
            raise Failed(f"The dialog of {block} did not come.")
        index = self.random.randint(0, self.top)
        kind = self.random.choice(INSERTED_TYPES)
        created = timed(
            "insert",
            "POST",
            reverse("designer:block-create", args=[self.pk]),
            htmx_target="tree",
            data={"parent": "Template", "index": index, "type": kind},
        )
        focus = re.search(r'data-focus="block:([^"]+)"', created)
        if focus is None:
            raise Failed("The inserted block was not focused: no data-focus in the answer.")
        name = focus[1]
        direction = "down" if index < self.top else "up"
        timed(
            "move",
            "POST",
            reverse("designer:block-move", args=[self.pk, name]),
            htmx_target="tree",
            data={"direction": direction},
        )
        timed(
            "delete",
            "POST",
            reverse("designer:block-delete", args=[self.pk, name]),
            htmx_target="tree",
            data={},
        )

    def close(self) -> None:
        self.conn.close()


def run(port: int, sessions: list[str], templates: list[Template], clients: int) -> dict:
    """Server and client times (ms) per operation; the clients share ``args.cycles`` cycles."""
    remaining = [args.cycles]
    lock = threading.Lock()
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    failures: list[str] = []
    stop = threading.Event()

    def record(operation: str, server_ms: float, client_ms: float) -> None:
        with lock:
            results[operation]["server"].append(server_ms)
            results[operation]["client"].append(client_ms)

    warm = threading.Barrier(clients)

    def client(editor: Editor) -> None:
        try:
            editor.cycle(lambda *_: None)  # warm-up, not measured
            warm.wait()  # all clients measure together
            while not stop.is_set():
                with lock:
                    if remaining[0] <= 0:
                        break
                    remaining[0] -= 1
                editor.cycle(record)
        except threading.BrokenBarrierError:
            pass  # another client failed while warming up
        except Failed as failure:
            failures.append(str(failure))
            stop.set()
            warm.abort()
        except Exception as error:  # a dropped connection, a missing marker: stop all the same
            failures.append(f"{type(error).__name__}: {error}")
            stop.set()
            warm.abort()
        finally:
            editor.close()

    editors = [
        Editor(port, sessions[number], Template.objects.get(pk=templates[number].pk))
        for number in range(clients)
    ]
    threads = [threading.Thread(target=client, args=(editor,)) for editor in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(f"At {clients} clients, a request failed:\n" + "\n".join(failures[:10]))
    return results


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def python_speed() -> float:
    """Milliseconds for a million Python additions: how fast this machine runs Python now."""
    started, total = time.perf_counter(), 0
    for number in range(1_000_000):
        total += number
    return (time.perf_counter() - started) * 1000


def main() -> int:
    speed = python_speed()
    started = time.monotonic()
    admin = UserFactory(username="bench", is_crm_admin=True, full_name="Bench Admin")
    templates = templates_create(max(args.clients), admin, args.blocks)
    load_seconds = time.monotonic() - started
    sessions = []
    for _ in range(max(args.clients)):
        client = Client()
        client.force_login(admin)
        sessions.append(client.cookies["sessionid"].value)
    port = free_port()
    server = serve(port, database_url=database_url, workers=args.workers)
    runs = {}
    try:
        for clients in args.clients:
            runs[clients] = run(port, sessions, templates, clients)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    sizes = {size(Template.objects.get(pk=t.pk).tree["Children"]) for t in templates}
    if sizes != {args.blocks}:
        sys.exit(f"The templates ended with {sizes} blocks, not {args.blocks}.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    top = len(templates[0].tree["Children"])
    header(
        "The template editor: page, dialog, insert, move, delete (bench/editor.py)",
        database=f"PostgreSQL {version}; channel layer Redis ({redis_url})",
        N=f"{args.blocks} blocks a template ({top} at the top level; conditions with branches, "
        f"a parallel block, a loop), {len(templates)} templates (built in {load_seconds:.1f} s)",
        clients=f"{', then '.join(map(str, args.clients))} concurrent, one session "
        f"and one template each (no revision conflicts); {args.cycles} cycles at each count "
        "(page, dialog, insert, move, delete), after one warm-up cycle per client",
        user="a CRM admin (design right on deals)",
        connections=CONNECTIONS,
        server=f"manage.py serve --workers {args.workers}",
        times="server-side (Server-Timing app;dur); client-observed for reference",
        python=f"10^6 additions in {speed:.0f} ms at the start, {python_speed():.0f} ms at the end "
        f"(load average {os.getloadavg()[0]:.1f})",
    )
    columns = ("server p50", "server p99", "client p50", "client p99")
    for clients, results in runs.items():
        print()
        print(f"{clients} clients")
        print(f"{'operation':<10}" + "".join(f"{column:>12}" for column in columns) + "       n")
        for operation in OPERATIONS:
            server_ms, client_ms = results[operation]["server"], results[operation]["client"]
            figures = (
                percentile(server_ms, 0.5),
                percentile(server_ms, 0.99),
                percentile(client_ms, 0.5),
                percentile(client_ms, 0.99),
            )
            print(
                f"{operation:<10}"
                + "".join(f"{value:>9.1f} ms" for value in figures)
                + f"{len(server_ms):>8}"
            )
    print()
    if TARGET_CLIENTS not in runs:
        print(f"targets: measured at {TARGET_CLIENTS} clients, not run here")
        return 0
    results = runs[TARGET_CLIENTS]
    p50 = percentile(results["page"]["server"], 0.5)
    verdict = "met" if p50 <= PAGE_TARGET_P50_MS else "NOT met"
    print(
        f"target: editor page server p50 ≤ {PAGE_TARGET_P50_MS:.0f} ms at {TARGET_CLIENTS} "
        f"clients: {verdict} (p50 {p50:.1f} ms)"
    )
    for operation in OPERATIONS[1:]:
        p99 = percentile(results[operation]["server"], 0.99)
        verdict = "met" if p99 <= EDIT_TARGET_P99_MS else "NOT met"
        print(
            f"target: {operation} server p99 ≤ {EDIT_TARGET_P99_MS:.0f} ms at {TARGET_CLIENTS} "
            f"clients: {verdict} (p99 {p99:.1f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
