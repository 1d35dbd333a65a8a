"""The work of one process start, in CPU instructions counted by valgrind's callgrind: unlike
``bench/engine.py``'s rates, the same on a busy machine as on a quiet one, so that a change to
the engine can be judged by it (the rates of this two-core machine vary threefold with its load).

In-process, on a fresh PostgreSQL database: the template of ``bench/engine.py`` (five blocks, a
condition), started R times on R deals, each start running the whole process in its
transaction (journal rows, the deal's update, its timeline row). Counted: this process's
instructions only (not PostgreSQL's), the mean of R, in millions.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/engine_work.py
    … bench/engine_work.py --tiny      # the tiny run CI does: 3 starts

The bench creates (and re-creates) its own database, ``bizproc_bench_engine_work``.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, header

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--repeat", type=int, default=50, help="R starts counted (default 50)")
parser.add_argument("--tiny", action="store_true", help="--repeat 3 (CI)")
parser.add_argument("--counted", action="store_true", help=argparse.SUPPRESS)  # under callgrind
args = parser.parse_args()
if args.tiny:
    args.repeat = 3
WARM_UP = 5


def counted_run() -> None:
    """Runs under callgrind: counts the starts into one dump."""
    from bench.common import django_setup, fresh_database

    django_setup(fresh_database("bizproc_bench_engine_work"), LOG_LEVEL="ERROR")
    from bench.engine_template import engine_template_create
    from bizproc.models import Instance, InstanceStatus
    from bizproc.runtime import workflow_start
    from crm.demo import demo_records_create, demo_users_create
    from crm.models import Deal

    users = demo_users_create()
    admin = users["admin"]
    demo_records_create(users=users, deals=WARM_UP + args.repeat)
    deal_ids = list(Deal.objects.order_by("pk").values_list("pk", flat=True))
    template = engine_template_create(admin)

    def start(deal_id: int) -> None:
        workflow_start(template=template, document_id=f"DEAL_{deal_id}", user=admin)

    for deal_id in deal_ids[:WARM_UP]:  # imports, caches and the connection, as a server has
        start(deal_id)
    subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True)
    for deal_id in deal_ids[WARM_UP : WARM_UP + args.repeat]:
        start(deal_id)
    subprocess.run(["callgrind_control", "--dump=starts", str(os.getpid())], check=True)
    subprocess.run(["callgrind_control", "--instr=off", str(os.getpid())], check=True)
    completed = Instance.objects.filter(status=InstanceStatus.COMPLETED).count()
    if completed != WARM_UP + args.repeat:
        sys.exit(f"{completed} of {WARM_UP + args.repeat} processes completed.")


def main() -> int:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("This bench counts with valgrind's callgrind: install valgrind.")
    with tempfile.TemporaryDirectory() as folder:
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={folder}/callgrind.out",
                sys.executable,
                __file__,
                f"--repeat={args.repeat}",
                "--counted",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        count = None
        for dump in Path(folder).glob("callgrind.out.*"):
            text = dump.read_text(errors="replace")
            total = re.search(r"^totals: (\d+)", text, re.M)
            if re.search(r"^desc: Trigger: dump starts", text, re.M) and total:
                count = int(total[1]) / args.repeat / 1e6
        if run.returncode != 0 or count is None:
            sys.exit(f"The counted run failed:\n{run.stdout[-2000:]}{run.stderr[-3000:]}")
    header(
        "The work of a process start (bench/engine_work.py)",
        N=f"{args.repeat} starts of a 5-block process, after {WARM_UP} of warm-up",
        counted="CPU instructions of this Python process (callgrind), in-process; "
        "PostgreSQL's own work not counted",
    )
    print()
    print(f"start → completed {count:>8.1f} M instructions")
    return 0


if __name__ == "__main__":
    if args.counted:
        counted_run()
        sys.exit(0)
    sys.exit(main())
