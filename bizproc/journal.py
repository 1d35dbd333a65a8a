"""The process journal: the only module that writes journal rows.

A step of the runtime collects its rows in a ``Journal`` and writes them in one bulk insert at
the end of the step, inside the step's transaction, so a step that fails leaves no row and a
step that commits leaves each of its rows exactly once.
"""

from django.conf import settings
from django.db.models import QuerySet

from bizproc.models import (
    SIMPLIFIED_TYPES,
    ExecutionResult,
    ExecutionStatus,
    Instance,
    JournalEntry,
    TrackingType,
)


def start_stop_rows_enabled() -> bool:
    return getattr(settings, "BIZPROC_JOURNAL_START_STOP", True)


class Journal:
    """The rows one step of one instance writes."""

    def __init__(self, instance: Instance, user_id: int | None) -> None:
        self.instance = instance
        self.user_id = user_id
        self.rows: list[JournalEntry] = []

    def _add(
        self,
        type_: TrackingType,
        *,
        name: str = "",
        title: str = "",
        note: str = "",
        status: ExecutionStatus = ExecutionStatus.CLOSED,
        result: ExecutionResult = ExecutionResult.NONE,
    ) -> None:
        self.rows.append(
            JournalEntry(
                instance_id=self.instance.pk,
                document_id=self.instance.document_id,
                type=type_,
                status=status,
                result=result,
                activity_name=name[:64],
                activity_title=title[:255],
                note=note,
                user_id=self.user_id,
            )
        )

    def execute(self, name: str, title: str) -> None:
        if start_stop_rows_enabled():
            self._add(
                TrackingType.EXECUTE, name=name, title=title, status=ExecutionStatus.EXECUTING
            )

    def close(self, name: str, title: str, *, canceled: bool = False) -> None:
        if start_stop_rows_enabled():
            self._add(
                TrackingType.CANCEL if canceled else TrackingType.CLOSE,
                name=name,
                title=title,
                status=ExecutionStatus.CLOSED,
                result=ExecutionResult.CANCELED if canceled else ExecutionResult.SUCCEEDED,
            )

    def report(self, name: str, title: str, note: str) -> None:
        self._add(TrackingType.REPORT, name=name, title=title, note=note)

    def custom(self, name: str, title: str, note: str) -> None:
        self._add(TrackingType.CUSTOM, name=name, title=title, note=note)

    def error(self, name: str, title: str, note: str) -> None:
        """An error the process goes on after (the block still completes)."""
        self._add(
            TrackingType.ERROR,
            name=name,
            title=title,
            note=note,
            status=ExecutionStatus.CLOSED,
            result=ExecutionResult.FAULTED,
        )

    def fault(self, name: str, title: str, note: str) -> None:
        """A fault that terminates the process."""
        self._add(
            TrackingType.FAULT,
            name=name,
            title=title,
            note=note,
            status=ExecutionStatus.FAULTING,
            result=ExecutionResult.FAULTED,
        )

    def flush(self) -> list[JournalEntry]:
        """Writes the collected rows in one insert (call inside the step's transaction)."""
        rows, self.rows = self.rows, []
        if rows:
            JournalEntry.objects.bulk_create(rows)
        return rows


def journal_rows(
    *,
    instance: Instance | None = None,
    document_id: str | None = None,
    simplified: bool = False,
    before_id: int | None = None,
    limit: int = 50,
) -> list[JournalEntry]:
    """Newest rows first, keyset-paged by id (no COUNT over the table)."""
    rows: QuerySet[JournalEntry] = JournalEntry.objects.select_related("user")
    if instance is not None:
        rows = rows.filter(instance=instance)
    if document_id is not None:
        rows = rows.filter(document_id=document_id)
    if simplified:
        rows = rows.filter(type__in=SIMPLIFIED_TYPES)
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    return list(rows.order_by("-id")[:limit])
