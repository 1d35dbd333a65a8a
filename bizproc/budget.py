"""A step's time budget (``BIZPROC_STEP_TIME_LIMIT_SECONDS``).

A step runs in one transaction, which on SQLite holds the database's only write lock: a step
that runs for a minute locks everyone out for a minute. The runner checks the step's deadline
before each event (so before each turn of a loop) and the interpreter before each part of an
evaluation. Not a signal: a signal interrupts whatever runs (a database call, a lock held)
and reaches only the main thread, while steps run in request and worker threads too.
"""

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


class StepTimeExceeded(Exception):
    """The step's deadline passed; the runner stops the process."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Deadline:
    seconds: float
    at: float
    """On the monotonic clock, which no change of the wall clock moves."""

    def check(self) -> None:
        if time.monotonic() >= self.at:
            raise StepTimeExceeded(self.seconds)


_current: ContextVar[Deadline | None] = ContextVar("bizproc_step_deadline", default=None)


@contextmanager
def step_deadline(seconds: float) -> Iterator[Deadline]:
    """The deadline of the step in progress, ``seconds`` from now (0: none).

    A step that starts inside another one (a child process, the processes a document event
    starts) shares the outer step's deadline: they hold the same transaction, and the budget
    bounds how long that transaction runs.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    deadline = Deadline(seconds, time.monotonic() + seconds if seconds > 0 else math.inf)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)
