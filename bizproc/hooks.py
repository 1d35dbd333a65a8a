"""Document events the engine listens to (auto-start on create or change, cleanup on delete).

The document provider's app calls ``document_hooks.created(...)`` etc. from its write
services, inside their transaction; the engine registers its listeners from ``AppConfig.ready``.
Listeners are plain functions called in registration order; an exception aborts the write.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Listener = Callable[..., Any]


@dataclass
class DocumentHooks:
    on_created: list[Listener] = field(default_factory=list)
    on_updated: list[Listener] = field(default_factory=list)
    on_deleted: list[Listener] = field(default_factory=list)

    def created(self, *, document_id: str, user_id: int | None, by_process: bool) -> None:
        for listener in self.on_created:
            listener(document_id=document_id, user_id=user_id, by_process=by_process)

    def updated(
        self,
        *,
        document_id: str,
        user_id: int | None,
        changes: dict[str, tuple[Any, Any]],
        by_process: bool,
    ) -> None:
        """``changes`` maps each changed field code to its (old, new) value."""
        for listener in self.on_updated:
            listener(
                document_id=document_id, user_id=user_id, changes=changes, by_process=by_process
            )

    def deleted(self, *, document_id: str, user_id: int | None) -> None:
        for listener in self.on_deleted:
            listener(document_id=document_id, user_id=user_id)


document_hooks = DocumentHooks()
