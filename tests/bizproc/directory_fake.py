"""A company directory for tests: heads and absences kept in memory, set on
``bizproc.directory.company`` by ``install`` (a test module's ``directory`` fixture)."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from bizproc.directory import Directory, company

KINDS = {"VACATION": "Vacation", "ASSIGNMENT": "Business trip", "LEAVESICK": "Sick leave"}


@dataclass
class Absence:
    user_id: int
    start: datetime.datetime
    end: datetime.datetime
    kind: str
    reason: str
    author_id: int | None


@dataclass
class FakeDirectory(Directory):
    heads: dict[int, list[int]] = field(default_factory=dict)  # nearest first
    absences: list[Absence] = field(default_factory=list)

    def heads_of(self, user_id: int, *, levels: int) -> list[int]:
        return self.heads.get(user_id, [])[:levels]

    def absent(self, user_ids: Sequence[int], *, at: datetime.datetime) -> set[int]:
        return {
            a.user_id for a in self.absences if a.user_id in user_ids and a.start <= at <= a.end
        }

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
        if kind not in KINDS:
            raise ValueError(f"Unknown kind of absence: {kind}")
        self.absences.append(Absence(user_id, start, end, kind, reason, author_id))

    def absence_kinds(self) -> dict[str, str]:
        return dict(KINDS)

    def away(self, user_id: int, days: int = 3) -> None:
        """The user is absent from yesterday for ``days`` days."""
        now = datetime.datetime.now(datetime.UTC)
        start = now - datetime.timedelta(days=1)
        self.absences.append(
            Absence(user_id, start, start + datetime.timedelta(days=days), "VACATION", "", None)
        )


def install(monkeypatch: pytest.MonkeyPatch) -> FakeDirectory:
    fake = FakeDirectory()
    monkeypatch.setattr(company, "directory", fake)
    return fake
