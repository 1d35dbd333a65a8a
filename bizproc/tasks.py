"""The engine's background work, through the standard ``django.tasks`` API only."""

from django.tasks import task

from bizproc import journal, runtime, scenarios


@task()
def instance_wake(instance_id: str) -> bool:
    """Steps an instance that has something due (a timer, a finished child, queued work)."""
    return runtime.instance_step(instance_id)


@task()
def scenario_run_execute(run_id: int) -> None:
    """Executes a queued smart scenario run."""
    scenarios.scenario_run_execute(run_id)


@task()
def journal_prune() -> int:
    """Deletes journal rows past the retention period (enqueued by ``journal.daily_prune``)."""
    return journal.journal_prune()
