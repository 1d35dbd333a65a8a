"""Every write to a CRM record — from forms, admin, REST and processes — goes through here.

Values are given by Bitrix field code, raw (form or REST input) or typed; they are converted and
validated as a whole before anything is written, so a refused write changes nothing. Each write
calls the engine's document hooks inside its transaction, and writes the record's timeline
(creation, field changes, comments) in the same transaction.
"""

import json
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bizproc.fieldtypes import FieldValueError, user_id_of
from bizproc.hooks import document_hooks
from crm import permissions
from crm.fields import FIELD_SPECS, FieldSpec, Kind, LazyRecordValues, field_specs, record_values
from crm.live import timeline_announce
from crm.models import (
    RECORD_MODELS,
    Action,
    EntityType,
    Record,
    Status,
    StatusList,
    TimelineEntry,
    TimelineKind,
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


def _check_whole(entity_type: str, values: Mapping[str, Any]) -> None:
    if entity_type == EntityType.CONTACT and not (values.get("NAME") or values.get("LAST_NAME")):
        raise ValidationError({"NAME": [_("Enter a first name or a last name.")]})


def _apply(record: Record, values: Mapping[str, Any]) -> list[tuple[FieldSpec, Any]]:
    """Sets the columns; returns the many-to-many values to set after saving."""
    deferred = []
    for code, value in values.items():
        spec = field_specs(record.entity_type)[code]
        if spec.kind == Kind.LINKS:
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
    return values


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
    typed = _clean(entity_type=entity_type, values=values, user=user)
    if record is None:
        whole: Mapping[str, Any] = {
            spec.code: None for spec in FIELD_SPECS[entity_type] if not spec.read_only
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


@transaction.atomic
def record_update(
    *,
    record: Record,
    values: Mapping[str, Any],
    user: Any | None,
    expected_version: int | None = None,
    by_process: bool = False,
) -> dict[str, tuple[Any, Any]]:
    """Updates a record; returns the changes as {code: (old, new)}. Afterwards ``record`` shows
    the row as saved: an object holding only its ``pk`` will do.

    ``user`` is whom the change is attributed to (None: the system). A person's rights are
    checked; a process (``by_process``) writes with system rights. With ``expected_version``,
    an edit based on an older version raises ``StaleRecord``.
    """
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
    before = LazyRecordValues(locked)
    changes = {
        code: (before[code], value) for code, value in typed.items() if before[code] != value
    }
    if not changes:
        _show_saved(record, locked)
        return {}
    deferred = _apply(locked, {code: new for code, (_old, new) in changes.items()})
    locked.version += 1
    locked.modified_at = timezone.now()
    written = ["version", "modified_at"]
    if user is not None:
        locked.modified_by_id = user.pk
        written.append("modified_by")
    specs = field_specs(record.entity_type)
    written += [specs[code].attr for code in changes if specs[code].kind != Kind.LINKS]
    locked.save(update_fields=written)
    for spec, value in deferred:
        getattr(locked, spec.attr).set(value)
    TimelineEntry.objects.create(
        document_id=locked.document_id,
        kind=TimelineKind.CHANGED,
        author_id=user.pk if user is not None else None,
        by_process=by_process,
        changes={code: [old, new] for code, (old, new) in changes.items()},
        version=locked.version,
    )
    timeline_announce(document_id=locked.document_id)
    _show_saved(record, locked)
    document_hooks.updated(
        document_id=record.document_id,
        user_id=user.pk if user is not None else None,
        changes=changes,
        by_process=by_process,
    )
    return changes


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
