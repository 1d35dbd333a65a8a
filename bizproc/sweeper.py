"""The sweeper: a background thread that re-enqueues overdue and lease-expired instances and
smart scenario runs.

It runs inside the embedded server and inside every ``bizproc_worker`` process; several
sweepers at once only cause harmless extra wake-ups.
"""

import logging
import threading

from django.db import close_old_connections

from bizproc.runtime import instances_sweep, setting
from bizproc.scenarios import runs_sweep

logger = logging.getLogger(__name__)


class Sweeper(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="bizproc-sweeper", daemon=True)
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = setting("SWEEP_INTERVAL_SECONDS", 5)
        while not self.stopped.wait(interval):
            for sweep in (instances_sweep, runs_sweep):
                close_old_connections()
                try:
                    sweep()
                except Exception:  # a database hiccup must not end the sweeping
                    logger.exception("Sweeping failed")
                finally:
                    close_old_connections()

    def stop(self) -> None:
        self.stopped.set()
