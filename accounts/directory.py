"""The company directory the engine asks (``bizproc.directory``): heads and absences as
``accounts`` keeps them; set from ``AccountsConfig.ready()``."""

import datetime
from collections.abc import Sequence

from django.core.exceptions import ValidationError

from accounts import absences, structure
from bizproc.directory import Directory


class CompanyDirectory(Directory):
    def heads_of(self, user_id: int, *, levels: int) -> list[int]:
        return structure.heads_of(user_id, levels=levels)

    def absent(self, user_ids: Sequence[int], *, at: datetime.datetime) -> set[int]:
        return absences.absent_users(user_ids=user_ids, at=at)

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
        try:
            absences.absence_create(
                user_id=user_id,
                start=start,
                end=end,
                kind=kind,
                reason=reason,
                author_id=author_id,
            )
        except ValidationError as refusal:
            raise ValueError(" ".join(refusal.messages)) from None

    def absence_kinds(self) -> dict[str, str]:
        return absences.absence_kinds()
