"""Every write to a CRM record — from forms, admin, REST and processes — goes through here.

Values are given by Bitrix field code, raw (form or REST input) or typed; they are converted and
validated as a whole before anything is written, so a refused write changes nothing. Each write
calls the engine's document hooks inside its transaction, and writes the record's timeline
(creation, field changes, comments) in the same transaction.
"""

import datetime
import functools
import json
import uuid
from collections import ChainMap
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from bizproc.bounds import bounded_int
from bizproc.compiled import CompiledUpdate
from bizproc.fieldtypes import FieldValueError, user_id_of
from bizproc.hooks import document_hooks
from bizproc.usages import FieldUsage, field_usages
from crm import custom_fields, permissions
from crm.counts import counts_invalidate
from crm.custom_fields import CustomField
from crm.fields import FieldSpec, Kind, LazyRecordValues, field_specs, record_values, specs_of
from crm.files import record_file_ids
from crm.live import timeline_announce
from crm.models import (
    RECORD_MODELS,
    Action,
    EntityType,
    ListSettings,
    Record,
    Status,
    StatusList,
    StoredFile,
    TimelineEntry,
    TimelineKind,
    UserField,
    UserFieldItem,
    UserFieldType,
)

COMMENT_MAX_LENGTH = 5000


class StaleRecord(Exception):
    """The edit was based on an older version of the record; nothing was written."""

    def __init__(self, record: Record) -> None:
        super().__init__(f"{record.document_id} is at version {record.version}")
        self.record = record


_DEFAULT_STATUS_LIST = {"STAGE_ID": StatusList.DEAL_STAGE, "STATUS_ID": StatusList.LEAD_STATUS}


def _clean(
    *,
    entity_type: str,
    values: Mapping[str, Any],
    user: Any | None,
) -> dict[str, Any]:
    """Typed values by code; raises ValidationError naming every field that is wrong."""
    specs = field_specs(entity_type)
    model = RECORD_MODELS[entity_type]
    typed: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for code, raw in values.items():
        spec = specs.get(code)
        if spec is None:
            errors.setdefault("__all__", []).append(
                _("Unknown field: %(code)s") % {"code": str(code)[:100]}
            )
            continue
        if spec.read_only:
            errors[code] = [_("The field '%(name)s' is read-only.") % {"name": spec.caption}]
            continue
        try:
            value = spec.normalize(spec.field(model).convert(raw))
            spec.to_model(value)  # range checks of the column
            _check_link(spec, value, user)
        except FieldValueError as error:
            errors[code] = [error.message]
            continue
        typed[code] = value
    if errors:
        raise ValidationError(errors)
    return typed


def _check_link(spec: FieldSpec, value: Any, user: Any | None) -> None:
    """A linked record must exist and, for a person's write, be readable by them."""
    if spec.custom is not None:
        _check_custom_link(spec.custom, value, user)
        return
    if spec.kind not in (Kind.LINK, Kind.LINKS) or not value:
        return
    ids = value if isinstance(value, list) else [value]
    queryset = (
        permissions.readable(user, spec.link_to)
        if user is not None
        else RECORD_MODELS[spec.link_to].objects.all()
    )
    if queryset.filter(pk__in=ids).count() != len(set(ids)):
        raise FieldValueError(
            _("The value of field '%(name)s' is incorrect.") % {"name": spec.caption}
        )


def _check_custom_link(definition: CustomField, value: Any, user: Any | None) -> None:
    """A CRM link of a custom field as a link above; a file must be stored, and a person may
    only attach a file they uploaded themselves (or one the record holds already: its value
    is posted back unchanged), a process only one the record holds, so no one reaches a file
    by guessing its id."""
    items = [item for item in (value if isinstance(value, list) else [value]) if item]
    if not items:
        return
    incorrect = FieldValueError(
        _("The value of field '%(name)s' is incorrect.") % {"name": definition.label()}
    )
    if definition.type == UserFieldType.CRM:
        for item in items:
            link = definition.crm_link(item)
            if link is None:
                raise incorrect
            entity_type, pk = link
            queryset = (
                permissions.readable(user, entity_type)
                if user is not None
                else RECORD_MODELS[entity_type].objects.all()
            )
            if not queryset.filter(pk=pk).exists():
                raise incorrect
    elif definition.type == UserFieldType.FILE:
        found = StoredFile.objects.filter(pk__in=items).values_list("pk", "created_by_id")
        owners = dict(found)
        if len(owners) != len(set(items)):
            raise incorrect
        held = _HELD_FILES.get()
        # A process (no person) may move the record's own files between its fields, but not
        # attach any other: its template's author could otherwise name any file's id and
        # download it from a record they may read.
        if any(item not in held and (user is None or owners[item] != user.pk) for item in items):
            raise incorrect


# The file ids the record being updated holds (see ``_check_custom_link``).
_HELD_FILES: ContextVar[frozenset[int]] = ContextVar("held_files", default=frozenset())


def _held_files(record: Record | None) -> frozenset[int]:
    return frozenset() if record is None else record_file_ids(record)


def _check_whole(entity_type: str, values: Mapping[str, Any]) -> None:
    if entity_type == EntityType.CONTACT and not (values.get("NAME") or values.get("LAST_NAME")):
        raise ValidationError({"NAME": [_("Enter a first name or a last name.")]})


def _apply(record: Record, values: Mapping[str, Any]) -> list[tuple[FieldSpec, Any]]:
    """Sets the columns; returns the many-to-many values to set after saving."""
    deferred = []
    specs = field_specs(record.entity_type)
    for code, value in values.items():
        spec = specs[code]
        if spec.kind == Kind.CUSTOM:
            stored = spec.to_model(value)
            record.uf = {key: item for key, item in record.uf.items() if key != code}
            if stored is not None:
                record.uf[code] = stored
        elif spec.kind == Kind.LINKS:
            deferred.append((spec, value))
        elif spec.kind in (Kind.USER, Kind.LINK):
            setattr(record, spec.attr + "_id", spec.to_model(value))
        else:
            setattr(record, spec.attr, spec.to_model(value))
    return deferred


def _with_defaults(entity_type: str, values: Mapping[str, Any], user: Any | None) -> dict:
    values = dict(values)
    if user is not None:
        values.setdefault("ASSIGNED_BY_ID", user.pk)
    specs = field_specs(entity_type)
    for code, status_list in _DEFAULT_STATUS_LIST.items():
        if code in specs and not values.get(code):
            first = Status.objects.filter(list=status_list).values_list("code", flat=True).first()
            values[code] = first
    for spec in specs.values():
        if spec.custom is not None and spec.code not in values:
            default = userfield_default(definition=spec.custom, user=user)
            if default is not None:
                values[spec.code] = default
    return values


def userfield_default(*, definition: CustomField, user: Any | None) -> Any:
    """The value a new record gets for the field (None: none). A CRM link default that names
    no record the person may read (deleted since, or someone else's) is left out: it would
    otherwise refuse every new record."""
    default = definition.default()
    if default is None or definition.type != UserFieldType.CRM:
        return default
    try:
        _check_custom_link(definition, default, user)
    except FieldValueError:
        return None
    return default


def record_validate(
    *,
    entity_type: str,
    values: Mapping[str, Any],
    user: Any | None,
    record: Record | None = None,
) -> dict[str, Any]:
    """The typed values of a create (``record`` None) or an update; writes nothing.

    Raises ``ValidationError`` with a message per wrong field, in the active language.
    ``user`` None skips the readability check of linked records (system writes).
    """
    token = _HELD_FILES.set(_held_files(record))
    try:
        typed = _clean(entity_type=entity_type, values=values, user=user)
    finally:
        _HELD_FILES.reset(token)
    if record is None:
        whole: Mapping[str, Any] = {
            spec.code: None for spec in specs_of(entity_type) if not spec.read_only
        } | typed
    else:
        # Read lazily: a record's linked lists cost a query each and are rarely needed here.
        whole = ChainMap(typed, LazyRecordValues(record))
    checked = typed if record is not None else whole
    for code in checked:
        spec = field_specs(entity_type)[code]
        if spec.required and not spec.read_only and checked[code] in (None, "", []):
            raise ValidationError(
                {code: [_("The field '%(name)s' is required.") % {"name": spec.caption}]}
            )
    _check_whole(entity_type, whole)
    return typed


@transaction.atomic
def record_create(
    *,
    entity_type: str,
    values: Mapping[str, Any],
    user: Any | None,
    by_process: bool = False,
) -> Record:
    """Creates a record as ``user`` (None: the system).

    A person's rights are checked; a process (``by_process``) writes with system rights.
    """
    checked_user = None if by_process else user
    typed = record_validate(
        entity_type=entity_type, values=_with_defaults(entity_type, values, user), user=checked_user
    )
    assigned_by_id = user_id_of(typed["ASSIGNED_BY_ID"])
    if checked_user is not None and not permissions.can_add(
        checked_user, entity_type, assigned_by_id=assigned_by_id
    ):
        raise PermissionDenied(_("You may not add this record."))

    record = RECORD_MODELS[entity_type]()
    deferred = _apply(record, typed)
    author_id = user.pk if user is not None else assigned_by_id
    record.created_by_id = record.modified_by_id = author_id
    record.save()
    for spec, value in deferred:
        getattr(record, spec.attr).set(value)
    TimelineEntry.objects.create(
        document_id=record.document_id,
        kind=TimelineKind.CREATED,
        author_id=user.pk if user is not None else None,
        by_process=by_process,
        version=record.version,
    )
    document_hooks.created(document_id=record.document_id, user_id=author_id, by_process=by_process)
    return record


def _show_saved(record: Record, saved: Record) -> None:
    """The caller's object shows the row as it is now, without reading it again."""
    for field in type(record)._meta.concrete_fields:
        setattr(record, field.attname, getattr(saved, field.attname))


def record_update(
    *,
    record: Record,
    values: Mapping[str, Any],
    user: Any | None,
    expected_version: int | None = None,
    by_process: bool = False,
    current: Record | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Updates a record; returns the changes as {code: (old, new)}. Afterwards ``record`` shows
    the row as saved: an object holding only its ``pk`` will do.

    ``user`` is whom the change is attributed to (None: the system). A person's rights are
    checked; a process (``by_process``) writes with system rights. With ``expected_version``,
    an edit based on an older version raises ``StaleRecord``.

    ``current`` (a process's write only): the record as the process read it before, which the
    update is saved against without reading the row again, as long as the row is still at its
    version (see ``_update_read_before``).
    """
    if current is not None and by_process and expected_version is None:
        changes = _update_read_before(record=record, current=current, values=values, user=user)
        if changes is not None:
            return changes
    return _update_locked(
        record=record,
        values=values,
        user=user,
        expected_version=expected_version,
        by_process=by_process,
    )


@transaction.atomic
def _update_locked(
    *,
    record: Record,
    values: Mapping[str, Any],
    user: Any | None,
    expected_version: int | None,
    by_process: bool,
) -> dict[str, tuple[Any, Any]]:
    """The update judged and saved on the row read and locked in its own transaction (a
    savepoint in the caller's), which a refusal rolls back."""
    checked_user = None if by_process else user
    model = type(record)
    locked = model.objects.select_for_update().get(pk=record.pk)
    if checked_user is not None and not permissions.can_on_record(
        checked_user, Action.UPDATE, locked
    ):
        raise PermissionDenied(_("You may not change this record."))
    if expected_version is not None and locked.version != expected_version:
        raise StaleRecord(locked)
    typed = record_validate(
        entity_type=record.entity_type, values=values, user=checked_user, record=locked
    )
    changes = _changes(locked, typed)
    if not changes:
        _show_saved(record, locked)
        return {}
    deferred, written = _changes_apply(locked, changes, user=user)
    locked.save(update_fields=written)
    _change_entry(locked, changes, user=user, by_process=by_process).save(force_insert=True)
    _updated(record, locked, changes, deferred, user=user, by_process=by_process)
    return changes


def _unversioned_columns(model: type[Record]) -> frozenset[str]:
    """The columns some writes change without bumping the record's version: the custom fields'
    values, which a change of a field's type or its deletion rewrites (``_rewrite_values``),
    and the links Django sets to null when the linked record is deleted."""
    return frozenset(
        ["uf"]
        + [
            field.name
            for field in model._meta.concrete_fields
            if field.is_relation and field.remote_field.on_delete is models.SET_NULL
        ]
    )


def _update_read_before(
    *, record: Record, current: Record, values: Mapping[str, Any], user: Any | None
) -> dict[str, tuple[Any, Any]] | None:
    """A process's update saved against ``current`` in one ``UPDATE … WHERE version = …``:
    every other write bumps the version, so when that UPDATE finds the row, the row was equal
    to ``current`` (and is now locked), and the changes and the checks made against
    ``current`` hold. None when it cannot be done so, nothing written: the row has moved on
    since, the values are refused (judged again on the stored row, which may differ), there
    is no change to make (one that was made meanwhile might have to be undone), or a column
    that changes without a new version (``_unversioned_columns``) is to be written.

    It sets no savepoint (two round trips a write): every refusal comes before the UPDATE, and
    an UPDATE that finds no row has written nothing. What fails after it (a database error, a
    hook listener) cannot be undone alone, so it makes the caller's whole transaction roll
    back (``atomic(savepoint=False)``): the write is never kept in part."""
    model = type(record)
    try:
        typed = record_validate(
            entity_type=record.entity_type, values=values, user=None, record=current
        )
    except ValidationError:
        return None
    saved = model.from_db(
        current._state.db,
        [field.attname for field in model._meta.concrete_fields],
        [getattr(current, field.attname) for field in model._meta.concrete_fields],
    )
    changes = _changes(saved, typed)
    if not changes:
        return None
    deferred, written = _changes_apply(saved, changes, user=user)
    if _unversioned_columns(model).intersection(written):
        return None
    columns = [model._meta.get_field(name).attname for name in written]
    entry = _change_entry(saved, changes, user=user, by_process=True)
    # A queryset's update sends no ``post_save``. Before the UPDATE, so that a cache that
    # fails refuses the write with nothing written (a needless bump when the row moved on).
    counts_invalidate()
    with transaction.atomic(savepoint=False):
        if not _update_with_entry(
            current, {column: getattr(saved, column) for column in columns}, entry
        ):
            return None
        _updated(record, saved, changes, deferred, user=user, by_process=True)
    return changes


# A process's write: the row, at the version it was read at (placeholders: bizproc.compiled).
_UPDATE_AT_VERSION = {
    model: CompiledUpdate(
        model,
        lambda pk, version, model=model: model.objects.filter(pk=pk, version=version),
        pk=-(2**62) + 7919,
        version=2**31 - 7919,
    )
    for model in RECORD_MODELS.values()
}


def _update_with_entry(current: Record, values: dict[str, Any], entry: TimelineEntry) -> bool:
    """Updates the row of ``current`` while it is at ``current``'s version and, when it was,
    inserts ``entry``; False when it was not, nothing written. On PostgreSQL in one statement
    (a WITH whose UPDATE feeds the INSERT), a round trip and the ORM's insert fewer; elsewhere
    in two."""
    connection = transaction.get_connection()
    update_sql, update_params = _UPDATE_AT_VERSION[type(current)].as_sql(
        values, connection, pk=current.pk, version=current.version
    )
    if connection.vendor != "postgresql":
        with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
            cursor.execute(update_sql, update_params)
            if not cursor.rowcount:
                return False
        entry.save(force_insert=True)
        return True
    fields = _timeline_fields()
    params = [field.get_db_prep_save(field.pre_save(entry, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH changed AS ({update_sql} RETURNING 1) {_timeline_insert_from_changed()}",
            [*update_params, *params],
        )
        return cursor.rowcount > 0


@functools.cache
def _timeline_fields() -> list[models.Field]:
    return [field for field in TimelineEntry._meta.concrete_fields if not field.primary_key]


@functools.cache
def _timeline_insert_from_changed() -> str:
    """PostgreSQL's INSERT of a timeline row for each row of ``changed``: one at most."""
    quote = connections["default"].ops.quote_name
    fields = _timeline_fields()
    columns = ", ".join(quote(field.column) for field in fields)
    # Untyped values take the columns' types, as in a VALUES list (a cast could truncate).
    selected = ", ".join(["%s"] * len(fields))
    table = quote(TimelineEntry._meta.db_table)
    return f"INSERT INTO {table} ({columns}) SELECT {selected} FROM changed"  # noqa: S608 (names from the model)


def _change_entry(
    saved: Record, changes: dict[str, tuple[Any, Any]], *, user: Any | None, by_process: bool
) -> TimelineEntry:
    """The timeline row (unsaved) of the change that made ``saved``."""
    return TimelineEntry(
        document_id=saved.document_id,
        kind=TimelineKind.CHANGED,
        author_id=user.pk if user is not None else None,
        by_process=by_process,
        changes={code: [old, new] for code, (old, new) in changes.items()},
        version=saved.version,
    )


def _changes(record: Record, typed: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    before = LazyRecordValues(record)
    return {code: (before[code], value) for code, value in typed.items() if before[code] != value}


def _changes_apply(
    record: Record, changes: Mapping[str, tuple[Any, Any]], *, user: Any | None
) -> tuple[list[tuple[FieldSpec, Any]], list[str]]:
    """Sets the changed values and the new version on ``record``; returns the many-to-many
    values to set after saving, and the fields to save."""
    deferred = _apply(record, {code: new for code, (_old, new) in changes.items()})
    record.version += 1
    record.modified_at = timezone.now()
    written = ["version", "modified_at"]
    if user is not None:
        record.modified_by_id = user.pk
        written.append("modified_by")
    specs = field_specs(record.entity_type)
    written += [specs[code].attr for code in changes if specs[code].kind != Kind.LINKS]
    return deferred, list(dict.fromkeys(written))


def _updated(
    record: Record,
    saved: Record,
    changes: dict[str, tuple[Any, Any]],
    deferred: list[tuple[FieldSpec, Any]],
    *,
    user: Any | None,
    by_process: bool,
) -> None:
    """What follows the save of the row ``saved`` and its timeline row: the linked lists, the
    live timeline, the caller's ``record`` and the engine's hook."""
    for spec, value in deferred:
        getattr(saved, spec.attr).set(value)
    timeline_announce(document_id=saved.document_id)
    _show_saved(record, saved)
    document_hooks.updated(
        document_id=record.document_id,
        user_id=user.pk if user is not None else None,
        changes=changes,
        by_process=by_process,
    )


@transaction.atomic
def record_delete(*, record: Record, user: Any | None) -> None:
    # The rights are judged on the stored row, not on a copy that may be stale.
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if user is not None and not permissions.can_on_record(user, Action.DELETE, record):
        raise PermissionDenied(_("You may not delete this record."))
    document_id = record.document_id
    document_hooks.deleted(document_id=document_id, user_id=user.pk if user is not None else None)
    TimelineEntry.objects.filter(document_id=document_id).delete()
    record.delete()


@transaction.atomic
def timeline_comment_add(
    *,
    record: Record,
    text: str,
    user: Any | None,
    by_process: bool = False,
) -> TimelineEntry:
    """Adds a comment to the record's timeline, attributed to ``user`` (None: the system).

    Commenting needs the read right on the record, not the update right: whoever may see a
    record may discuss it, as in Bitrix24. A process (``by_process``) comments with system
    rights. Raises ``ValidationError`` under the key ``text`` for an empty or too long text.
    """
    # Judged on the stored row: the record may have been reassigned or deleted meanwhile.
    stored = type(record).objects.get(pk=record.pk)
    checked_user = None if by_process else user
    if checked_user is not None and not permissions.can_on_record(
        checked_user, Action.READ, stored
    ):
        raise PermissionDenied(_("You may not comment on this record."))
    text = text.strip()
    caption = _("Comment")
    if not text:
        message = _("The field '%(name)s' is required.") % {"name": caption}
        raise ValidationError({"text": [message]})
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                "text": [
                    _("The value of field '%(name)s' is too long: at most %(max)d characters.")
                    % {"name": caption, "max": COMMENT_MAX_LENGTH}
                ]
            }
        )
    entry = TimelineEntry.objects.create(
        document_id=stored.document_id,
        kind=TimelineKind.COMMENT,
        author_id=user.pk if user is not None else None,
        by_process=by_process,
        text=text,
    )
    timeline_announce(document_id=stored.document_id)
    return entry


def timeline_changes_since(*, record: Record, version: int) -> dict[str, tuple[Any, Any]]:
    """What changed in the record after ``version``: {code: (value then, value now)}.

    Read back from the timeline, so a refused stale edit can tell its author what others
    changed since the form was opened. Fields changed and changed back are left out.
    """
    then: dict[str, Any] = {}
    rows = TimelineEntry.objects.filter(
        document_id=record.document_id, kind=TimelineKind.CHANGED, version__gt=version
    ).order_by("version", "id")
    for changes in rows.values_list("changes", flat=True):
        for code, (old, _new) in changes.items():
            then.setdefault(code, old)
    now = json.loads(json.dumps(record_values(record), cls=DjangoJSONEncoder))
    return {code: (old, now[code]) for code, old in then.items() if old != now.get(code)}


# --- files -------------------------------------------------------------------------------------

FILE_NAME_MAX_LENGTH = 255


def stored_file_check(*, upload: UploadedFile) -> None:
    """Refuses a file larger than ``settings.CRM_FILE_MAX_BYTES``."""
    if upload.size is not None and upload.size > settings.CRM_FILE_MAX_BYTES:
        raise ValidationError(
            _("The file “%(name)s” is too large: at most %(max)s.")
            % {"name": upload.name, "max": filesizeformat(settings.CRM_FILE_MAX_BYTES)}
        )


def stored_file_create(*, upload: UploadedFile, user: Any | None) -> StoredFile:
    """Stores an uploaded file as ``user``'s (None: the system's), for a record's file field
    to hold (its value is the row's id). On disk it gets a made-up name: the name the person
    gave is kept in the row, and never becomes part of a path."""
    stored_file_check(upload=upload)
    name = "".join(char for char in PurePath(str(upload.name or "")).name if char.isprintable())
    name = name[-FILE_NAME_MAX_LENGTH:] or "file"
    suffix = PurePath(name).suffix.lower()
    if not (suffix[1:].isascii() and suffix[1:].isalnum() and len(suffix) <= 10):
        suffix = ""
    row = StoredFile(
        name=name,
        size=upload.size or 0,
        content_type=str(upload.content_type or "")[:100],
        created_by=user,
    )
    row.file.save(f"{uuid.uuid4().hex}{suffix}", upload, save=False)
    row.save()
    return row


# --- custom fields -----------------------------------------------------------------------------

LABEL_MAX_LENGTH = 255
ITEMS_MAX = 1000
SETTINGS_MAX_BYTES = 10_000
SORT_MAX = 1_000_000_000
_FLAGS = ("multiple", "mandatory", "show_in_list", "show_filter")


def _userfield_check_rights(user: Any | None) -> None:
    if user is not None and not permissions.is_crm_admin(user):
        raise PermissionDenied(_("Only CRM administrators may manage fields."))


def _userfield_labels(raw: Any, errors: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """``{place: {language: text}}`` with the known places and languages only."""
    if not isinstance(raw, Mapping):
        errors.setdefault("labels", []).append(_("The labels are incorrect."))
        return {}
    languages = {code for code, _name in settings.LANGUAGES}
    labels: dict[str, dict[str, str]] = {}
    for place in custom_fields.LABEL_PLACES:
        texts = raw.get(place) or {}
        if not isinstance(texts, Mapping):
            errors.setdefault("labels", []).append(_("The labels are incorrect."))
            continue
        for language, text in texts.items():
            text = str(text or "").strip()
            if language not in languages or not text:
                continue
            if len(text) > LABEL_MAX_LENGTH or "\x00" in text:
                errors.setdefault("labels", []).append(
                    _("A label may be at most %(max)d characters long.") % {"max": LABEL_MAX_LENGTH}
                )
                continue
            labels.setdefault(place, {})[language] = text
    return labels


def _userfield_items(
    raw: Any, current: list[UserFieldItem], errors: dict[str, list[str]]
) -> list[dict[str, Any]] | None:
    """The options as they will be: kept ones with their id, new ones without; None when the
    request does not touch them."""
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) > ITEMS_MAX:
        errors.setdefault("items", []).append(
            _("A list takes at most %(max)d options.") % {"max": ITEMS_MAX}
        )
        return None
    by_id = {item.pk: item for item in current}
    result: list[dict[str, Any]] = []
    deleted: set[int] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            errors.setdefault("items", []).append(_("The options are incorrect."))
            return None
        item_id = (
            bounded_int(item.get("id"), minimum=1) if item.get("id") not in (None, "") else None
        )
        if item_id is not None and item_id not in by_id:
            errors.setdefault("items", []).append(
                _("Unknown option id: %(id)s") % {"id": str(item.get("id"))[:20]}
            )
            continue
        if item.get("delete"):
            if item_id is not None:
                deleted.add(item_id)
            continue
        value = str(item.get("value") or "").strip()
        if not value:
            if item_id is None:
                continue  # an empty row of the form
            errors.setdefault("items", []).append(_("An option needs a value."))
            continue
        if len(value) > LABEL_MAX_LENGTH or "\x00" in value:
            errors.setdefault("items", []).append(
                _("An option may be at most %(max)d characters long.") % {"max": LABEL_MAX_LENGTH}
            )
            continue
        sort = bounded_int(item.get("sort"), minimum=0, maximum=SORT_MAX)
        result.append(
            {
                "id": item_id,
                "value": value,
                "sort": sort if sort is not None else (index + 1) * 10,
                "is_default": _flag(item.get("is_default")),
                "xml_id": str(item.get("xml_id") or "")[:100],
            }
        )
    kept = {item["id"] for item in result if item["id"] is not None}
    # Options the request leaves out are kept: Bitrix's LIST lists only what changes.
    for item in current:
        if item.pk not in kept and item.pk not in deleted:
            result.append(
                {
                    "id": item.pk,
                    "value": item.value,
                    "sort": item.sort,
                    "is_default": item.is_default,
                    "xml_id": item.xml_id,
                }
            )
    return sorted(result, key=lambda item: (item["sort"], item["id"] or 0))


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().upper() in ("Y", "1", "TRUE", "ON", "YES")
    return bool(value)


def _userfield_settings(raw: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        errors.setdefault("settings", []).append(_("The settings are incorrect."))
        return {}
    if len(json.dumps(raw, cls=DjangoJSONEncoder)) > SETTINGS_MAX_BYTES:
        errors.setdefault("settings", []).append(_("The settings are too large."))
        return {}
    return {str(key).upper(): value for key, value in raw.items()}


def _userfield_definition(row: UserField, items: list[dict[str, Any]]) -> CustomField:
    """The definition a row would have, its options included (new ones with made-up ids)."""
    options = tuple(
        custom_fields.Option(
            item["id"] or -index, item["value"], item["sort"], item["is_default"], item["xml_id"]
        )
        for index, item in enumerate(items, start=1)
    )
    return CustomField.of(row, options=options)


def _userfield_check_default(definition: CustomField, errors: dict[str, list[str]]) -> None:
    default = definition.settings.get("DEFAULT_VALUE")
    if definition.type == UserFieldType.ENUMERATION or default in (None, "", []):
        return
    if definition.type == UserFieldType.FILE:
        # Every new record would hold one person's upload, which no one else may attach.
        errors.setdefault("settings", []).append(_("A file field takes no default value."))
        return
    spec = custom_fields.spec_of(definition)
    try:
        typed = spec.normalize(spec.field(RECORD_MODELS[definition.entity_type]).convert(default))
        spec.to_model(typed)
        _check_custom_link(definition, typed, None)
    except FieldValueError as error:
        errors.setdefault("settings", []).append(
            _("The default value is incorrect: %(message)s") % {"message": error.message}
        )


def _userfield_apply(
    row: UserField, values: Mapping[str, Any], errors: dict[str, list[str]]
) -> list[dict[str, Any]] | None:
    if "labels" in values:
        row.labels = _userfield_labels(values["labels"], errors)
    for flag in _FLAGS:
        if flag in values:
            setattr(row, flag, _flag(values[flag]))
    if "sort" in values:
        sort = bounded_int(values["sort"], minimum=0, maximum=SORT_MAX)
        if sort is None:
            errors.setdefault("sort", []).append(_("The sort must be a whole number from 0."))
        else:
            row.sort = sort
    if "settings" in values:
        row.settings = _userfield_settings(values["settings"], errors)
    if "xml_id" in values:
        row.xml_id = str(values["xml_id"] or "")[:100]
    current = list(row.items.all()) if row.pk else []
    items = _userfield_items(values.get("items"), current, errors)
    if items is not None and not row.multiple and sum(item["is_default"] for item in items) > 1:
        errors.setdefault("items", []).append(_("Only one option may be the default."))
    return items


def _userfield_save_items(row: UserField, items: list[dict[str, Any]] | None) -> set[int]:
    """Saves the options; returns the ids of the options removed."""
    if items is None:
        return set()
    kept = {item["id"] for item in items if item["id"] is not None}
    removed = set(row.items.exclude(pk__in=kept).values_list("pk", flat=True))
    row.items.filter(pk__in=removed).delete()
    for item in items:
        values = {key: item[key] for key in ("value", "sort", "is_default", "xml_id")}
        if item["id"] is None:
            UserFieldItem.objects.create(field=row, **values)
        else:
            UserFieldItem.objects.filter(pk=item["id"]).update(**values)
    return removed


def _userfield_changed() -> None:
    """Every process re-reads the definitions; cached list counts go too, as a removed option
    or a converted type changes which records a filter on the field finds."""
    custom_fields.definitions_forget()
    transaction.on_commit(custom_fields.definitions_forget)
    counts_invalidate()


def _records_with(definition_row: UserField) -> QuerySet:
    model = RECORD_MODELS[definition_row.entity_type]
    return model.objects.filter(uf__has_key=definition_row.code)


def _rewrite_values(row: UserField, rewrite: Any) -> None:
    """Replaces each record's stored value of the field by ``rewrite(stored)`` (None: removes
    it), in batches, without touching the records' versions: the value means the same."""
    records = _records_with(row).only("pk", "uf").order_by("pk")
    batch: list[Record] = []
    model = RECORD_MODELS[row.entity_type]
    for record in records.iterator(chunk_size=1000):
        new = rewrite(record.uf.get(row.code))
        record.uf = {key: value for key, value in record.uf.items() if key != row.code}
        if new not in (None, []):
            record.uf[row.code] = new
        batch.append(record)
        if len(batch) >= 1000:
            model.objects.bulk_update(batch, ["uf"])
            batch = []
    if batch:
        model.objects.bulk_update(batch, ["uf"])


def _usage_error(usages: list[FieldUsage]) -> str:
    names = ", ".join(f"«{usage.template.name}»" for usage in usages)
    return _("Published processes use this field: %(templates)s.") % {"templates": names}


def userfield_usages(*, field: UserField) -> list[FieldUsage]:
    """The templates of the field's entity type that name it."""
    from crm.documents import DOCUMENT_TYPES  # the provider writes through this module

    return field_usages(document_type=DOCUMENT_TYPES[field.entity_type], code=field.code)


def _converted(old: CustomField, new: CustomField) -> Any:
    """A function taking a stored value of ``old`` to one of ``new``; raises FieldValueError
    for a value that does not convert."""
    model = RECORD_MODELS[new.entity_type]
    new_spec = custom_fields.spec_of(new)
    field = new_spec.field(model)

    def raw_of(typed: Any) -> Any:
        if old.type == UserFieldType.ENUMERATION:
            return dict(old.option_names()).get(typed, typed)
        if isinstance(typed, datetime.datetime):
            return typed.isoformat()
        if isinstance(typed, datetime.date):
            return typed.isoformat()
        if isinstance(typed, bool):
            return "Y" if typed else "N"
        return typed

    def rewrite(stored: Any) -> Any:
        typed = old.typed(stored)
        items = typed if isinstance(typed, list) else [typed]
        raw = [raw_of(item) for item in items if item not in (None, "")]
        if raw and new.type == UserFieldType.FILE and old.type != UserFieldType.FILE:
            # A number is no upload: read as a file's id it would hand the record (and its
            # readers) someone else's file, or the next one uploaded.
            raise FieldValueError(_("A value becomes a file only by uploading it."))
        if not new.multiple and len(raw) > 1:
            raise FieldValueError(_("Some records hold several values."))
        value = new_spec.normalize(
            field.convert(raw if new.multiple else (raw[0] if raw else None))
        )
        return new_spec.to_model(value)

    return rewrite


@transaction.atomic
def userfield_create(*, entity_type: str, values: Mapping[str, Any], user: Any | None) -> UserField:
    """Adds a custom field to the entity type (CRM administrators only); its code gets the
    ``UF_CRM_`` prefix when it lacks it. Raises ValidationError naming each wrong value."""
    _userfield_check_rights(user)
    errors: dict[str, list[str]] = {}
    code = custom_fields.code_of(values.get("code") or "")
    if not custom_fields.CODE_RE.fullmatch(code):
        errors["code"] = [
            _(
                "The code may hold only Latin letters, digits and underscores, at most "
                "%(max)d characters with the prefix."
            )
            % {"max": custom_fields.CODE_MAX_LENGTH}
        ]
    elif UserField.objects.filter(entity_type=entity_type, code=code).exists():
        errors["code"] = [_("A field with the code %(code)s already exists.") % {"code": code}]
    field_type = str(values.get("type") or "")
    if field_type not in UserFieldType.values:
        errors["type"] = [_("Unknown field type: %(type)s") % {"type": field_type[:50]}]
    row = UserField(entity_type=entity_type, code=code, type=field_type)
    items = _userfield_apply(row, values, errors)
    if not errors:
        _userfield_check_default(_userfield_definition(row, items or []), errors)
    if errors:
        raise ValidationError(errors)
    row.save()
    _userfield_save_items(row, items)
    custom_fields.index_sync(definition=CustomField.of(row))
    _userfield_changed()
    return row


@transaction.atomic
def userfield_update(*, field: UserField, values: Mapping[str, Any], user: Any | None) -> UserField:
    """Changes a field's labels, flags, options, settings — or its type, which is refused
    while records hold values that do not convert, or while published processes use the
    field. The code is immutable."""
    _userfield_check_rights(user)
    row = UserField.objects.select_for_update().get(pk=field.pk)
    before = CustomField.of(row)
    errors: dict[str, list[str]] = {}
    if "code" in values and custom_fields.code_of(values["code"] or "") != row.code:
        errors["code"] = [_("The code of a field cannot be changed.")]
    if "type" in values and values["type"] != row.type:
        if values["type"] not in UserFieldType.values:
            errors["type"] = [
                _("Unknown field type: %(type)s") % {"type": str(values["type"])[:50]}
            ]
        else:
            row.type = values["type"]
    items = _userfield_apply(row, values, errors)
    if errors:
        raise ValidationError(errors)
    after = _userfield_definition(
        row,
        items
        if items is not None
        else [
            {
                "id": o.id,
                "value": o.value,
                "sort": o.sort,
                "is_default": o.is_default,
                "xml_id": o.xml_id,
            }
            for o in before.options
        ],
    )
    _userfield_check_default(after, errors)
    if errors:
        raise ValidationError(errors)
    reshaped = before.type != after.type or (before.multiple and not after.multiple)
    if reshaped:
        used = [usage for usage in userfield_usages(field=row) if usage.published]
        if used:
            raise ValidationError({"type": [_usage_error(used)]})
        rewrite = _converted(before, after)
        failed = 0
        for record in _records_with(row).only("pk", "uf").iterator(chunk_size=1000):
            try:
                rewrite(record.uf.get(row.code))
            except FieldValueError:
                failed += 1
        if failed:
            raise ValidationError(
                {
                    "type": [
                        _(
                            "The type cannot be changed: %(count)d records hold values that "
                            "do not convert to it."
                        )
                        % {"count": failed}
                    ]
                }
            )
    row.save()
    removed = _userfield_save_items(row, items)
    if reshaped:
        custom_fields.index_sync(definition=before, drop=True)
        _rewrite_values(row, _converted(before, after))
    elif removed:
        # Records lose the options that are gone, as in Bitrix.
        _rewrite_values(
            row,
            lambda stored: (
                [item for item in stored if item not in removed]
                if isinstance(stored, list)
                else (None if stored in removed else stored)
            ),
        )
    custom_fields.index_sync(definition=CustomField.of(row))
    _userfield_changed()
    return row


@transaction.atomic
def userfield_delete(*, field: UserField, user: Any | None) -> None:
    """Deletes the field and every record's value of it (the page asks first, naming the
    processes that use it)."""
    _userfield_check_rights(user)
    row = UserField.objects.select_for_update().get(pk=field.pk)
    custom_fields.index_sync(definition=CustomField.of(row), drop=True)
    _rewrite_values(row, lambda stored: None)
    row.delete()
    _userfield_changed()


# --- list settings -------------------------------------------------------------------------------

LIST_COLUMNS_MAX = 100


def list_columns_save(*, user: Any, entity_type: str, columns: list[str] | None) -> None:
    """Keeps the columns the person chose for the list of ``entity_type`` (None: back to the
    default columns). The list shows the codes it still knows, in its own order."""
    if columns is None:
        ListSettings.objects.filter(user=user, entity_type=entity_type).delete()
        return
    kept = list(dict.fromkeys(str(code)[:60] for code in columns))[:LIST_COLUMNS_MAX]
    ListSettings.objects.update_or_create(
        user=user, entity_type=entity_type, defaults={"columns": kept}
    )


def stored_files_prune(*, older_than: datetime.timedelta) -> int:
    """Deletes the stored files no record holds that were uploaded longer ago than
    ``older_than`` (younger ones may belong to a form refused a moment ago, whose person is
    about to send it again); returns how many. The files leave the disk once the rows'
    deletion is committed."""
    held: set[int] = set()
    for field in UserField.objects.filter(type=UserFieldType.FILE):
        model = RECORD_MODELS[field.entity_type]
        for value in model.objects.filter(uf__has_key=field.code).values_list(
            f"uf__{field.code}", flat=True
        ):
            items = value if isinstance(value, list) else [value]
            held.update(item for item in items if isinstance(item, int))
    cutoff = timezone.now() - older_than
    orphans = list(StoredFile.objects.filter(created_at__lt=cutoff).exclude(pk__in=held))
    with transaction.atomic():
        StoredFile.objects.filter(pk__in=[row.pk for row in orphans]).delete()
        for row in orphans:
            transaction.on_commit(lambda name=row.file.name: default_storage.delete(name))
    return len(orphans)
