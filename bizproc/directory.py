"""What the engine asks about the company — departments and their heads, absences — without
knowing where it is kept: the app that keeps it (accounts) sets ``company.directory`` from its
``AppConfig.ready()``. Without one, nobody heads anybody and nobody is absent.

Blocks use it: Select employee (the head of a user's department up to N levels, skipping
absent people), Absence (adds to the absence chart).
"""

import datetime
from abc import ABC, abstractmethod
from collections.abc import Sequence


class Directory(ABC):
    @abstractmethod
    def heads_of(self, user_id: int, *, levels: int) -> list[int]:
        """The heads above the user, nearest first, at most ``levels`` departments up (a head
        of their own department is skipped for their own head's head); no duplicates."""

    @abstractmethod
    def absent(self, user_ids: Sequence[int], *, at: datetime.datetime) -> set[int]:
        """Which of the users are absent (on the absence chart) at the moment."""

    @abstractmethod
    def absence_add(
        self,
        *,
        user_id: int,
        start: datetime.datetime,
        end: datetime.datetime,
        kind: str,
        reason: str,
        author_id: int | None,
    ) -> None:
        """Adds an absence to the chart, in the caller's transaction; raises ValueError with a
        message in the active language for values it refuses."""

    @abstractmethod
    def absence_kinds(self) -> dict[str, str]:
        """The kinds of absence (Bitrix's ``ABSENCE_TYPE`` codes: VACATION, ASSIGNMENT,
        LEAVESICK …) by code, with their names in the active language."""


class NoDirectory(Directory):
    """No company structure kept: nobody heads anybody, nobody is absent."""

    def heads_of(self, user_id: int, *, levels: int) -> list[int]:
        return []

    def absent(self, user_ids: Sequence[int], *, at: datetime.datetime) -> set[int]:
        return set()

    def absence_add(
        self,
        *,
        user_id: int,
        start: datetime.datetime,
        end: datetime.datetime,
        kind: str,
        reason: str,
        author_id: int | None,
    ) -> None:
        raise ValueError("No absence chart is kept.")

    def absence_kinds(self) -> dict[str, str]:
        return {}


class Company:
    """Holds the directory the engine asks (replaced by the app that keeps the structure)."""

    def __init__(self) -> None:
        self.directory: Directory = NoDirectory()


company = Company()
