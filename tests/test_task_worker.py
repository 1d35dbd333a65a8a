"""The embedded default's task worker: an idle poll must not take SQLite's write lock, which
the requests served by the same process would then wait for."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from bizproc.tasks import journal_prune
from config.task_worker import EmbeddedWorker

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def embedded_worker() -> EmbeddedWorker:
    return EmbeddedWorker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="embedded-test",
        excluded_queue_names=[],
    )


def run_recording(worker: EmbeddedWorker, *, stop: Callable[[list[str]], bool]) -> list[str]:
    """Runs the worker in this thread, recording its statements, until ``stop(statements)``."""
    statements: list[str] = []

    def record(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        if stop(statements):
            worker.running = False
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        worker.run()
    return statements


def reads_of_the_queue(statements: list[str]) -> int:
    return sum('FROM "django_tasks_database_dbtaskresult"' in sql for sql in statements)


def test_an_idle_worker_polls_with_plain_reads() -> None:
    statements = run_recording(embedded_worker(), stop=lambda seen: reads_of_the_queue(seen) >= 5)

    assert reads_of_the_queue(statements) == 5
    assert not [sql for sql in statements if sql.startswith("BEGIN") or "FOR UPDATE" in sql]


def test_a_ready_task_runs_and_the_worker_goes_back_to_polling() -> None:
    result = journal_prune.enqueue()

    def done_and_polled_again(seen: list[str]) -> bool:
        finished = any("UPDATE" in sql and "django_tasks" in sql for sql in seen)
        return finished and seen[-1].startswith("SELECT") and "LIMIT 1" in seen[-1]

    run_recording(embedded_worker(), stop=done_and_polled_again)

    stored = DBTaskResult.objects.get(pk=result.id)
    assert stored.status == TaskResultStatus.SUCCESSFUL
    assert stored.worker_ids == ["embedded-test"]
