"""How the engine tells people something (the Notify user block, a task given to them) without
knowing where messages are kept: the app that keeps them appends its notifier to ``notifiers``
from its ``AppConfig.ready()`` (accounts: the notifications of the profile page)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Notice:
    """One message to one user; no ``sender_id``: from the system."""

    user_id: int
    text: str
    link: str = ""
    sender_id: int | None = None


class Notifier(Protocol):
    """Called inside the engine's transaction: what it writes commits or rolls back with the
    step that sent the notices."""

    def __call__(self, *, notices: Sequence[Notice]) -> None: ...


notifiers: list[Notifier] = []


def notices_send(*, notices: Sequence[Notice]) -> None:
    """Hands the notices to every registered notifier; with none (no app keeps messages), they
    are dropped and the process goes on."""
    for notifier in notifiers:
        notifier(notices=notices)
