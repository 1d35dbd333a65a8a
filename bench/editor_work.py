"""The work each template editor operation costs, in CPU instructions counted by valgrind's
callgrind: unlike times, the same on a busy machine as on a quiet one (this machine's speed
varies more than twofold from hour to hour), so that a change to the editor can be judged by it.

In-process (Django's test client, no server, no other client): on a fresh PostgreSQL database,
one template of N blocks (``bench/editor_tree.py``, as ``bench/editor.py`` builds it), then each
operation R times — the page, a block's dialog, inserting a block at the top level, moving it
down, deleting it — with htmx's headers as the editor sends them. Counted: this process's
instructions only (not PostgreSQL's); each figure is the mean of R, in millions.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/editor_work.py
    … bench/editor_work.py --tiny      # the tiny run CI does: 30 blocks, 2 repetitions

The bench creates (and re-creates) its own database, ``bizproc_bench_editor_work``.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, header

OPERATIONS = ("page", "dialog", "insert", "move", "delete")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--blocks", type=int, default=200, help="N blocks (default 200)")
parser.add_argument("--repeat", type=int, default=5, help="R times each operation (default 5)")
parser.add_argument("--tiny", action="store_true", help="--blocks 30 --repeat 2 (CI)")
parser.add_argument("--counted", action="store_true", help=argparse.SUPPRESS)  # under callgrind
args = parser.parse_args()
if args.tiny:
    args.blocks, args.repeat = 30, 2
if args.blocks < 17 or args.repeat < 1:
    sys.exit("Use at least 17 blocks and 1 repetition.")


def counted_run() -> None:
    """Runs under callgrind: counts each operation's repetitions into a dump of its name."""
    from bench.common import django_setup, fresh_database

    os.environ["ALLOWED_HOSTS"] = "testserver"
    django_setup(fresh_database("bizproc_bench_editor_work"), LOG_LEVEL="ERROR")
    from django.test import Client
    from django.urls import reverse

    from bench.editor_tree import INSERTED_TYPES, openable, templates_create
    from tests.crm.factories import UserFactory

    admin = UserFactory(username="bench", is_crm_admin=True, full_name="Bench Admin")
    template = templates_create(1, admin, args.blocks)[0]
    client = Client()
    client.force_login(admin)
    revision = [template.revision]
    blocks = openable(template.tree)
    inserted: list[str] = []

    def get(url: str, target: str = "") -> str:
        headers = {"HX-Request": "true", "HX-Target": target} if target else {}
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            sys.exit(f"GET {url}: HTTP {response.status_code}")
        return response.text

    def post(url: str, data: dict) -> str:
        data = {"revision": revision[0], **data}
        response = client.post(url, data, headers={"HX-Request": "true", "HX-Target": "tree"})
        if response.status_code != 200:
            sys.exit(f"POST {url}: HTTP {response.status_code}")
        found = re.search(r'id="draft-revision" name="revision" value="(\d+)"', response.text)
        revision[0] = int(found[1]) if found else revision[0]
        return response.text

    def insert(number: int) -> None:
        kind = INSERTED_TYPES[number % len(INSERTED_TYPES)]
        data = {"parent": "Template", "index": number % 10, "type": kind}
        answer = post(reverse("designer:block-create", args=[template.pk]), data)
        inserted.append(re.search(r'data-focus="block:([^"]+)"', answer)[1])

    steps: dict[str, Callable[[int], object]] = {
        "page": lambda n: get(reverse("designer:template-edit", args=[template.pk])),
        "dialog": lambda n: get(
            reverse("designer:block-update", args=[template.pk, blocks[(7 * n) % len(blocks)]]),
            "editor-dialog",
        ),
        "insert": insert,
        "move": lambda n: post(
            reverse("designer:block-move", args=[template.pk, inserted[n]]), {"direction": "down"}
        ),
        "delete": lambda n: post(
            reverse("designer:block-delete", args=[template.pk, inserted[n]]), {}
        ),
    }

    def callgrind(*command: str) -> None:
        subprocess.run(["callgrind_control", *command, str(os.getpid())], check=True)

    for warm_up in range(2):  # the caches a running server has warm
        for step in steps.values():
            step(warm_up)
    inserted.clear()
    for operation, step in steps.items():
        callgrind("--instr=on")
        for number in range(args.repeat):
            step(number)
        callgrind("--dump=" + operation)
        callgrind("--instr=off")


def main() -> int:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("This bench counts with valgrind's callgrind: install valgrind.")
    with tempfile.TemporaryDirectory() as folder:
        out_file = f"{folder}/callgrind.out"
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out_file}",
                sys.executable,
                __file__,
                f"--blocks={args.blocks}",
                f"--repeat={args.repeat}",
                "--counted",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        counts = {}
        for dump in Path(folder).glob("callgrind.out.*"):
            text = dump.read_text(errors="replace")
            trigger = re.search(r"^desc: Trigger: dump (\w+)", text, re.M)
            total = re.search(r"^totals: (\d+)", text, re.M)
            if trigger and total:
                counts[trigger[1]] = int(total[1]) / args.repeat / 1e6
        if run.returncode != 0 or set(counts) != set(OPERATIONS):
            sys.exit(f"The counted run failed:\n{run.stdout[-2000:]}{run.stderr[-3000:]}")
    header(
        "The template editor's work per operation (bench/editor_work.py)",
        N=f"{args.blocks} blocks; each operation {args.repeat} times, after 2 rounds of warm-up",
        counted="CPU instructions of this Python process (callgrind), in-process, one client; "
        "PostgreSQL's own work not counted",
    )
    print()
    for operation in OPERATIONS:
        print(f"{operation:<8}{counts[operation]:>8.1f} M instructions")
    print(f"{'cycle':<8}{sum(counts.values()):>8.1f} M instructions (one of each)")
    return 0


if __name__ == "__main__":
    if args.counted:
        counted_run()
        sys.exit(0)
    sys.exit(main())
