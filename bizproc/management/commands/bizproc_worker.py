"""``db_worker`` with the engine's sweeper: the worker process to run in production.

Run as many as you like, on any hosts that reach the database.
"""

from typing import Any

from django_tasks_db.management.commands import db_worker

from bizproc.sweeper import Sweeper


class Command(db_worker.Command):
    help = "Runs the task worker (django-tasks-db's db_worker) and the process sweeper."

    def handle(self, *args: Any, **options: Any) -> None:
        # db_worker's own options, passed on as they came.
        sweeper = Sweeper()
        sweeper.start()
        try:
            super().handle(*args, **options)
        finally:
            sweeper.stop()
