"""A test activity for crash tests: it leaves a marker file and blocks while a gate file exists.

Loaded into worker processes with BIZPROC_ACTIVITY_MODULES=tests.bizproc.barrier and
BARRIER_DIR=<folder>. Files are outside the database, so they survive a rolled-back step.
"""

import os
import time
from pathlib import Path

from django.utils.translation import gettext_lazy

from bizproc.activities.base import Activity, Status, activities


@activities.register
class BarrierActivity(Activity):
    type = "BarrierTestActivity"
    title = gettext_lazy("Barrier (tests)")
    designer = False

    def execute(self, runner) -> Status:
        folder = Path(os.environ["BARRIER_DIR"])
        marker = folder / f"{runner.instance.pk}.entered"
        with marker.open("a") as file:
            file.write(f"{os.getpid()}\n")
        gate = folder / "gate"
        deadline = time.monotonic() + 120
        while gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return Status.CLOSED
