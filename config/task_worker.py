"""The task worker that runs inside the server process in the embedded default."""

import time

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


class EmbeddedWorker(Worker):
    """django-tasks-db's worker, polling with a plain read while the queue is idle.

    The library's loop claims a task inside an exclusive transaction, which on SQLite takes the
    database's write lock at every poll, even when there is nothing to do: in the embedded
    default that is every interval, in the process that serves the requests, whose writes then
    wait for it. This worker first reads whether a task is ready and only then runs the
    library's loop, which claims tasks as before; made with ``batch=True``, that loop returns
    once none is left.
    """

    def run(self) -> None:
        while self.running:
            if self.task_ready():
                super().run()
                continue
            close_old_connections()
            time.sleep(self.interval)

    def task_ready(self) -> bool:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks.exists()
