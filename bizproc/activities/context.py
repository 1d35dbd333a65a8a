"""What a block may do while it runs: the one door from an activity into the engine.

``bizproc.runtime.Runner`` implements it. A new activity needs nothing else — and anything a
block needs that is not listed here is a change to this protocol, made on purpose.
"""

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from bizproc.fieldtypes import Field
from bizproc.tree import Node

if TYPE_CHECKING:  # the models import the activities' registry: no import at run time
    from bizproc.documents import DocumentProvider
    from bizproc.expressions import Environment
    from bizproc.journal import Journal
    from bizproc.models import Instance, TemplateVersion


class Context(Protocol):
    # ---- where the block runs
    instance: "Instance"  # the process (its row may not be inserted yet: ``persist``)
    version: "TemplateVersion"  # the template version it runs
    provider: "DocumentProvider"  # the provider of the process's document
    now: datetime.datetime  # the step's moment: every block of a step sees the same
    journal: "Journal"  # the step's journal rows
    scenario_launches: int  # smart scenario runs the step started (a budget)

    @property
    def starter_id(self) -> int | None: ...

    @property
    def loop_limit(self) -> int: ...

    def persist(self) -> None:
        """Inserts the process's row now, before a row that points at it."""

    # ---- values
    def evaluate(self, value: Any) -> Any: ...

    def lookup_any(self, objects: list[str], field: str) -> Any: ...

    def set_variable(self, name: str, value: Any) -> None: ...

    def set_result(self, name: str, result: str, value: Any) -> None: ...

    def set_state_title(self, title: str) -> None: ...

    def environment(self) -> "Environment":
        """The clock, the working calendar and people's time zones, as formula functions see
        them (the Pause block's "working time only" counts on them too)."""
        ...

    def global_variables_set(self, values: Mapping[str, Any]) -> None:
        """Writes global variables by ID (Set global variable), each converted as its type
        says, in the step's transaction; raises ``ActivityFault`` naming a variable the
        process may not set or a value that does not fit."""

    # ---- the document
    def document(self) -> Mapping[str, Any]: ...

    def document_fields(self) -> dict[str, Field]: ...

    def document_write(self, values: Mapping[str, Any]) -> None: ...

    # ---- the flow: other blocks, the block's own data, waits, child processes
    def schedule(self, name: str) -> None: ...

    def reset(self, node: Node) -> None: ...

    def data(self, name: str) -> dict[str, Any]: ...

    def wait_until(self, name: str, moment: datetime.datetime) -> None: ...

    def wait_for_child(self, name: str, child_id: str) -> None: ...

    def wait_for_task(
        self, name: str, task_id: int, *, until: datetime.datetime | None = None
    ) -> None: ...

    def start_child(
        self,
        *,
        template_id: Any,
        document_id: Any,
        parameters: Mapping[str, Any],
        activity_name: str,
    ) -> "Instance": ...
