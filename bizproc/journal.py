"""The process journal: the only module that writes journal rows, and the only one that
tells the live pages about a change.

A step of the runtime collects its rows in a ``Journal`` and writes them in one bulk insert at
the end of the step, inside the step's transaction, so a step that fails leaves no row and a
step that commits leaves each of its rows exactly once. The same flush announces the step: one
message per step (not per row) to the live pages of the instance's document, sent once the
transaction commits, carrying ids only — each consumer re-reads what it shows with its own
user's rights and language (``bizproc.consumers``; the hand-off is ``bizproc.live``).

Rows of finished processes older than ``BIZPROC_JOURNAL_RETENTION_DAYS`` (0, the default: keep
forever) are deleted by ``journal_prune``, which the worker runs daily (``daily_prune``).
"""

import datetime
import functools
import json
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field, Max, QuerySet
from django.db.models.signals import post_save, pre_save
from django.urls import reverse
from django.utils import timezone

from bizproc import live
from bizproc.compiled import CompiledInsert
from bizproc.dates import formatter
from bizproc.models import (
    SIMPLIFIED_TYPES,
    ExecutionResult,
    ExecutionStatus,
    Instance,
    InstanceStatus,
    JournalEntry,
    TrackingType,
)
from bizproc.state import ExecutionState


def start_stop_rows_enabled() -> bool:
    return getattr(settings, "BIZPROC_JOURNAL_START_STOP", True)


class Journal:
    """The rows one step of one instance writes."""

    def __init__(self, instance: Instance, user_id: int | None) -> None:
        self.instance = instance
        self.user_id = user_id
        self.rows: list[tuple] = []  # values of ROW_FIELDS

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
            (
                self.instance.pk,
                self.instance.document_id,
                int(type_),
                int(status),
                int(result),
                name[:64],
                title[:255],
                note,
                self.user_id,
                timezone.now(),
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

    def write(self) -> None:
        """Writes the rows collected so far, inside the step's transaction, without announcing
        them: a long step writes as it goes, so that little is left to write once its time is
        up (``BIZPROC_STEP_TIME_LIMIT_SECONDS`` bounds how long it holds the transaction)."""
        rows, self.rows = self.rows, []
        if rows:
            _insert(rows)

    def flush(self, *, insert_instance: bool = False) -> None:
        """Writes the collected rows in one insert (call inside the step's transaction) and
        announces the step — also a step without rows: its status or state title changed.

        ``insert_instance``: the instance is not in the database yet (its first step) and goes
        in first — on PostgreSQL in the rows' statement, one round trip fewer a start."""
        rows, self.rows = self.rows, []
        if insert_instance:
            _insert_with_instance(self.instance, rows)
        elif rows:
            _insert(rows)
        announce(
            document_id=self.instance.document_id,
            instance_id=self.instance.pk,
            run_id=ExecutionState.from_json(self.instance.state).run,
        )
        daily_prune.maybe_enqueue()


# What ``Journal`` collects of a row, in this order.
ROW_FIELDS = (
    "instance",
    "document_id",
    "type",
    "status",
    "result",
    "activity_name",
    "activity_title",
    "note",
    "user",
    "created_at",
)


def _insert(rows: list[tuple]) -> None:
    """One multi-row INSERT of plain values: every step of every process writes here, and
    ``bulk_create`` would build a model object per row and compile each of its fields (and
    read back ids nobody uses): a tenth of a five-block process's start went to it."""
    database = transaction.get_connection()
    if database.vendor == "postgresql":
        with database.cursor() as cursor:
            cursor.execute(*_recordset_insert(rows, database))
        return
    fields = _row_fields()
    created_at = fields[-1]
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # As many rows a statement as the database takes parameters (a long loop writes thousands).
    size = max(database.ops.bulk_batch_size(fields, rows), 1)
    with database.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            values = [
                value
                for row in batch
                for value in (*row[:-1], created_at.get_db_prep_value(row[-1], database))
            ]
            cursor.execute(
                _insert_head(fields, database) + "VALUES " + ", ".join([placeholders] * len(batch)),
                values,
            )


@functools.cache
def _row_fields() -> tuple[Field, ...]:
    concrete = {field.name: field for field in JournalEntry._meta.concrete_fields}
    return tuple(concrete[name] for name in ROW_FIELDS)


def _insert_head(fields: Sequence[Field], database: BaseDatabaseWrapper) -> str:
    quote = database.ops.quote_name
    return "INSERT INTO {} ({}) ".format(
        quote(JournalEntry._meta.db_table),
        # A concrete field has its column; the stubs allow None for fields that have none.
        ", ".join(quote(field.column) for field in fields),  # type: ignore[arg-type]
    )


@functools.cache
def _recordset_statement() -> str:
    """PostgreSQL's INSERT of the rows given as one JSON array of objects, read as rows of the
    table's own type: the same statement whatever the number of rows."""
    database = connections["default"]
    fields = _row_fields()
    table = database.ops.quote_name(JournalEntry._meta.db_table)
    selected = ", ".join(database.ops.quote_name(field.column) for field in fields)  # type: ignore[arg-type]
    return (
        f"{_insert_head(fields, database)}SELECT {selected}"  # noqa: S608 - names from the model
        f" FROM json_populate_recordset(NULL::{table}, %s::json)"
    )


def _recordset_insert(rows: list[tuple], database: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
    """PostgreSQL's statement for the rows: all of them in one JSON parameter
    (``_recordset_statement``). psycopg keeps the one statement parsed, the database plans it
    fast, and one JSON text costs little to build and quote, where arrays of values were
    quoted one value at a time: a tenth of a five-block process's start."""
    fields = _row_fields()
    columns = [field.column for field in fields]
    created_at = fields[-1]
    recordset = [
        dict(
            zip(
                columns,
                (*row[:-1], created_at.get_db_prep_value(row[-1], database).isoformat()),
                strict=True,
            )
        )
        for row in rows
    ]
    return _recordset_statement(), [json.dumps(recordset, ensure_ascii=False)]


def _insert_with_instance(instance: Instance, rows: list[tuple]) -> None:
    """Inserts the new instance, then its rows. On PostgreSQL both go in one statement, the
    instance's INSERT in a data-modifying WITH: it runs to completion whatever the rest reads
    of it, and the rows' foreign key is checked at the commit (deferred), so the rows may
    name the instance the same statement inserts. Either both go in or the statement fails.

    The instance goes in as ``save()`` would insert it: the related objects' ids, the
    ``pre_save`` signal, each field's ``pre_save`` (``started_at``, ``modified_at``), the
    statement compiled by Django's insert compiler (once: ``_INSTANCE_INSERT``), then
    ``post_save``. When the database would have to hand a value back (no id yet, or a value
    left to a database default, which save() reads with RETURNING), save() inserts it."""
    database = transaction.get_connection()
    if not rows or database.vendor != "postgresql" or not _INSTANCE_INSERT.plain(instance):
        instance.save()
        if rows:
            _insert(rows)
        return
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    pre_save.send(
        sender=Instance, instance=instance, raw=False, using=database.alias, update_fields=None
    )
    instance_sql, instance_params = _INSTANCE_INSERT.as_sql(instance, database)
    rows_sql, rows_params = _recordset_insert(rows, database)
    with transaction.mark_for_rollback_on_error(), database.cursor() as cursor:
        cursor.execute(
            f"WITH new_instance AS ({instance_sql}) {rows_sql}",
            [*instance_params, *rows_params],
        )
    # What Model.save_base does once the row is in.
    instance._state.db = database.alias
    instance._state.adding = False
    post_save.send(
        sender=Instance,
        instance=instance,
        created=True,
        update_fields=None,
        raw=False,
        using=database.alias,
    )


_INSTANCE_INSERT = CompiledInsert(Instance)


def announce(
    *, document_id: str, instance_id: str | None = None, run_id: int | None = None
) -> None:
    """Tells the live pages of the document, once the current transaction commits, that the
    instance (or the smart scenario run) changed: new rows, status, state title, or deleted.

    Ids only: the message crosses processes (Redis) and each page re-reads what it may show.
    Outside a transaction it is sent at once.
    """
    message = {
        "type": "bizproc.changed",
        "document_id": document_id,
        "instance_id": instance_id,
        "run_id": run_id,
    }
    transaction.on_commit(
        lambda: live.publish(live.document_group(document_id), message), robust=True
    )


# ---- reading -----------------------------------------------------------------------------

PROGRESS_TYPES = (
    TrackingType.EXECUTE,
    TrackingType.CLOSE,
    TrackingType.CANCEL,
    TrackingType.FAULT,
)


# What a journal table shows of a row (see ``for_display``): a page reads only these.
SHOWN_FIELDS = (
    "instance",
    "type",
    "status",
    "result",
    "activity_title",
    "note",
    "created_at",
    "user__full_name",
    "user__first_name",
    "user__last_name",
    "user__username",
)


def journal_rows(
    *,
    instance_id: str | None = None,
    document_id: str | None = None,
    simplified: bool = False,
    type_: int | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[JournalEntry]:
    """Newest rows first, keyset-paged by id (no COUNT over the table).

    ``before_id`` pages back in time; ``after_id`` gives what is newer than a page already
    shown (a live page catching up). The (document, -id) and (instance, id) indexes serve both.
    """
    rows: QuerySet[JournalEntry] = (
        JournalEntry.objects.select_related("user")
        .only(*SHOWN_FIELDS)
        .annotate(process_name=F("instance__template__name"))
    )
    if instance_id is not None:
        rows = rows.filter(instance_id=instance_id)
    if document_id is not None:
        rows = rows.filter(document_id=document_id)
    if simplified:
        rows = rows.filter(type__in=SIMPLIFIED_TYPES)
    if type_ is not None:
        rows = rows.filter(type=type_)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    page = list(rows.order_by("-id")[:limit])
    for_display(page)
    return page


_USER_REFERENCE = re.compile(r"\buser_(\d+)\b")


def for_display(rows: Sequence[JournalEntry]) -> None:
    """Sets what a journal table shows of each row: ``date_text`` (the active language and
    time zone), ``type_label``, ``status_label``, ``result_label``, ``note_text``: the note
    with ``user_5`` replaced by the user's name — plain text, escaped by the template like any
    other —, and ``instance_url``, its process's page (reversed once per process, not per row).

    One query for the names of the whole page; labels translated and the date format looked
    up once per page, not per row (``get_type_display`` hashes every choice's lazy label on
    each call).
    """
    ids = {int(found) for row in rows for found in _USER_REFERENCE.findall(row.note)}
    users = get_user_model().objects.filter(pk__in=ids) if ids else []
    names = {user.pk: user.get_full_name() for user in users}
    types, statuses, results = (
        {value: str(label) for value, label in choices.choices}
        for choices in (TrackingType, ExecutionStatus, ExecutionResult)
    )
    written = formatter("SHORT_DATETIME_FORMAT")
    zone = timezone.get_current_timezone()
    urls: dict[str, str] = {}
    for row in rows:
        if row.instance_id not in urls:
            urls[row.instance_id] = reverse("bizproc:instance-detail", args=[row.instance_id])
        row.instance_url = urls[row.instance_id]
        row.date_text = written(row.created_at.astimezone(zone))
        row.type_label = types.get(row.type, str(row.type))
        row.status_label = statuses.get(row.status, str(row.status))
        row.result_label = results.get(row.result, str(row.result))
        row.note_text = _USER_REFERENCE.sub(
            lambda match: names.get(int(match[1]), match[0]), row.note
        )


def block_progress(instance_id: str) -> dict[str, JournalEntry]:
    """The latest start / stop / cancel / fault row of each block of an instance, by name."""
    latest = (
        JournalEntry.objects.filter(instance_id=instance_id, type__in=PROGRESS_TYPES)
        .values("activity_name")
        .annotate(last=Max("id"))
        .values("last")
    )
    return {row.activity_name: row for row in JournalEntry.objects.filter(pk__in=latest)}


# ---- retention ---------------------------------------------------------------------------

FINISHED = (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)


def retention_days() -> int:
    return getattr(settings, "BIZPROC_JOURNAL_RETENTION_DAYS", 0)


def journal_prune(*, days: int | None = None, batch: int = 5000) -> int:
    """Deletes the rows of finished processes older than ``days`` (default: the retention
    setting; 0 keeps everything); returns how many. Rows of unfinished processes stay, as in
    Bitrix, so a process that waits for months still shows how it got there.

    Deletes in batches, each its own short transaction, so a big first prune never holds
    locks on the table for long.
    """
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    cutoff = timezone.now() - datetime.timedelta(days=days)
    expired = JournalEntry.objects.filter(created_at__lt=cutoff, instance__status__in=FINISHED)
    deleted = 0
    while ids := list(expired.values_list("pk", flat=True)[:batch]):
        deleted += JournalEntry.objects.filter(pk__in=ids).delete()[0]
    return deleted


class DailyPrune:
    """Asks a worker to prune the journal at most once a day per process.

    Triggered by the journal's own flush, so it needs no bootstrap and cannot be lost: every
    process that writes rows (servers, workers, the embedded server) enqueues one
    ``journal_prune`` task when it first writes, then at most once every 24 hours. Several
    processes mean several prunes a day, which is harmless: a prune with nothing expired
    deletes nothing. A system that writes nothing adds nothing to prune.
    """

    interval = 24 * 60 * 60

    def __init__(self) -> None:
        self.next_at = 0.0
        self._lock = threading.Lock()

    def maybe_enqueue(self) -> None:
        if retention_days() <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if now < self.next_at:
                return
            self.next_at = now + self.interval
        transaction.on_commit(_enqueue_prune, robust=True)


def _enqueue_prune() -> None:
    from bizproc import tasks

    tasks.journal_prune.enqueue()


daily_prune = DailyPrune()
