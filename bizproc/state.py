"""A process's execution state: what is queued, what waits, each block's own data.

The instance's row keeps it as JSON (``Instance.state``); the engine works on the typed
``ExecutionState``. State written before it had a version (version 1: the same keys, none of
them required) is read as it is and written back as version 2 at the process's next step.
"""

import datetime
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, NamedTuple


class EventKind(StrEnum):
    EXECUTE = "execute"
    CHILD_CLOSED = "child_closed"
    RESUME = "resume"


class Event(NamedTuple):
    """Something a block is to handle: start, a child block that closed, a wake-up."""

    kind: EventKind
    block: str
    child: str = ""  # CHILD_CLOSED: the name of the child block that closed

    def to_json(self) -> list[str]:
        return [self.kind, self.block, self.child] if self.child else [self.kind, self.block]

    @classmethod
    def from_json(cls, raw: list[Any]) -> "Event":
        kind, block, *rest = raw
        return cls(EventKind(kind), block, rest[0] if rest else "")


@dataclass
class Wait:
    """What a waiting block waits for: a moment, a child process, a task (or a task until a
    moment)."""

    until: datetime.datetime | None = None
    child: str | None = None
    task: int | None = None

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        if self.until is not None:
            raw["until"] = self.until.isoformat()
        if self.child is not None:
            raw["child"] = self.child
        if self.task is not None:
            raw["task"] = self.task
        return raw

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Wait":
        until = raw.get("until")
        return cls(
            until=datetime.datetime.fromisoformat(until) if until else None,
            child=raw.get("child"),
            task=raw.get("task"),
        )


@dataclass
class ExecutionState:
    VERSION: ClassVar[int] = 2

    version: int = VERSION
    queue: list[Event] = field(default_factory=list)
    waits: dict[str, Wait] = field(default_factory=dict)
    # A block's own run-time data (loop turns, pending branches, its task …), by block name.
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Blocks' results (``{=Block:Result}``), as ``bizproc.values`` encodes them.
    results: dict[str, Any] = field(default_factory=dict)
    run: int | None = None  # the smart scenario run this process executes
    children: bool = False  # started child processes (stopped with it)
    tasks: bool = False  # gave tasks (cancelled when it finishes)

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> "ExecutionState":
        """Reads the state of any version: version 1 (no ``version`` key) has the same keys."""
        raw = raw or {}
        version = raw.get("version", 1)
        if version > cls.VERSION:
            raise ValueError(f"Execution state version {version} is newer than this engine")
        return cls(
            queue=[Event.from_json(event) for event in raw.get("queue", [])],
            waits={name: Wait.from_json(wait) for name, wait in raw.get("waits", {}).items()},
            data=raw.get("data", {}),
            results=raw.get("results", {}),
            run=raw.get("run"),
            children=bool(raw.get("children")),
            tasks=bool(raw.get("tasks")),
        )

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "version": self.VERSION,
            "queue": [event.to_json() for event in self.queue],
            "waits": {name: wait.to_json() for name, wait in self.waits.items()},
            "data": self.data,
            "results": self.results,
        }
        if self.run is not None:
            raw["run"] = self.run
        if self.children:
            raw["children"] = True
        if self.tasks:
            raw["tasks"] = True
        return raw

    def resume(self, name: str) -> None:
        """Queues a wake-up of the waiting block ``name`` (once)."""
        event = Event(EventKind.RESUME, name)
        if event not in self.queue:
            self.queue.append(event)

    def next_wake(self) -> datetime.datetime | None:
        timers = [wait.until for wait in self.waits.values() if wait.until is not None]
        return min(timers) if timers else None
