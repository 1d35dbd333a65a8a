"""The engine's background work, through the standard ``django.tasks`` API only."""

from django.tasks import task

from bizproc import runtime


@task()
def instance_wake(instance_id: str) -> bool:
    """Steps an instance that has something due (a timer, a finished child, queued work)."""
    return runtime.instance_step(instance_id)
