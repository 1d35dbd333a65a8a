"""Every write to a list, its fields and its elements — from pages, admin, REST and
processes — goes through here.

Element values are given by engine code (``NAME``, ``PROPERTY_DAYS``), raw (form or REST input,
already mapped to codes) or typed; they are converted and validated as a whole before anything
is written, so a refused write changes nothing. Each element write calls the engine's document
hooks inside its transaction (processes that start on add or change).
"""

import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from bizproc.fieldtypes import FieldValueError
from bizproc.hooks import document_hooks
from lists import permissions
from lists.models import (
    Element,
    ElementFile,
    List,
    ListField,
    ListFieldOption,
    ListKind,
    PropertyType,
    Right,
)
from lists.properties import (
    BUILTIN_ATTRS,
    CODE_RE,
    ID_RE,
    SORT_LIMIT,
    VALUES_MAX,
    Property,
    Schema,
    code_of,
    element_values,
    index_sync,
    schema_of,
    schemas_forget,
)

LIST_CODE_RE = re.compile(r"[A-Za-z0-9_\-]{1,50}")
ACCESS_CODE_RE = re.compile(r"AU|[UG]\d{1,18}")
OPTIONS_MAX = 1000
FILE_NAME_MAX_LENGTH = 255


class StaleElement(Exception):
    """The edit was based on an older version of the element; nothing was written."""

    def __init__(self, element: Element) -> None:
        super().__init__("stale element")
        self.element = element


# --- lists --------------------------------------------------------------------------------------


def _admin_only(user: Any | None, message: str) -> None:
    if user is not None and not permissions.is_lists_admin(user):
        raise PermissionDenied(message)


def _access_clean(raw: Any) -> dict[str, list[str]]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        raise ValidationError({"access": [_("The access is incorrect.")]})
    access: dict[str, list[str]] = {}
    for right, codes in raw.items():
        if right not in Right.values:
            raise ValidationError({"access": [_("Unknown right: %(right)s") % {"right": right}]})
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list | tuple) or len(codes) > 1000:
            raise ValidationError({"access": [_("The access is incorrect.")]})
        cleaned = [str(code).strip().upper() for code in codes]
        if not all(ACCESS_CODE_RE.fullmatch(code) for code in cleaned):
            raise ValidationError({"access": [_("The access is incorrect.")]})
        access[right] = list(dict.fromkeys(cleaned))
    return access


_LIST_ATTRS = ("kind", "name", "description", "code", "sort", "icon", "bizproc", "element_name")


def _list_apply(row: List, values: Mapping[str, Any]) -> None:
    for attr in _LIST_ATTRS:
        if attr in values:
            setattr(row, attr, values[attr])
    if "access" in values:
        row.access = _access_clean(values["access"])
    if row.kind == ListKind.PROCESSES:
        row.bizproc = True  # a process list exists to start processes
    if row.code and not LIST_CODE_RE.fullmatch(str(row.code)):
        raise ValidationError(
            {"code": [_("The code may hold Latin letters, digits, '_' and '-' only.")]}
        )
    row.full_clean()


@transaction.atomic
def list_create(*, values: Mapping[str, Any], user: Any | None) -> List:
    """Creates a list (lists administrators only); its code is unique."""
    _admin_only(user, _("Only lists administrators may create lists."))
    row = List(created_by=user)
    _list_apply(row, values)
    row.save()
    return row


@transaction.atomic
def list_update(*, list_: List, values: Mapping[str, Any], user: Any | None) -> List:
    """Changes a list's settings; its type (Bitrix's ``IBLOCK_TYPE_ID``) stays."""
    _admin_only(user, _("Only lists administrators may change lists."))
    row = List.objects.select_for_update().get(pk=list_.pk)
    if "kind" in values and values["kind"] != row.kind:
        raise ValidationError({"kind": [_("The type of a list cannot be changed.")]})
    _list_apply(row, values)
    row.save()
    return row


@transaction.atomic
def list_delete(*, list_: List, user: Any | None) -> None:
    """Deletes a list with its elements; their processes end as the elements go."""
    _admin_only(user, _("Only lists administrators may delete lists."))
    for document_id in Element.objects.filter(list=list_).values_list("pk", flat=True).iterator():
        document_hooks.deleted(document_id=str(document_id), user_id=_pk(user))
    List.objects.filter(pk=list_.pk).delete()
    schemas_forget()


# --- fields -------------------------------------------------------------------------------------

_FIELD_ATTRS = ("name", "multiple", "required", "sort", "show_in_list", "filterable")


def _options_clean(raw: Any) -> list[dict[str, Any]]:
    """``[{"id"?, "value", "xml_id"?, "sort"?, "default"?}]`` with external codes made up for
    new options that have none, as Bitrix does."""
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValidationError({"options": [_("The options are incorrect.")]})
    if len(raw) > OPTIONS_MAX:
        raise ValidationError(
            {"options": [_("A field has at most %(max)d options.") % {"max": OPTIONS_MAX}]}
        )
    options = []
    for position, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ValidationError({"options": [_("The options are incorrect.")]})
        value = str(item.get("value") or "").strip()
        if not value:
            continue
        if len(value) > 255:
            raise ValidationError({"options": [_("An option is at most 255 characters long.")]})
        xml_id = str(item.get("xml_id") or "").strip()[:100] or uuid.uuid4().hex
        try:
            sort = int(item.get("sort") or (position + 1) * 10)
        except (TypeError, ValueError):
            raise ValidationError({"options": [_("The options are incorrect.")]}) from None
        options.append(
            {
                "id": item.get("id"),
                "value": value,
                "xml_id": xml_id,
                "sort": max(0, min(sort, 1_000_000_000)),
                "default": bool(item.get("default")),
            }
        )
    xml_ids = [option["xml_id"] for option in options]
    if len(set(xml_ids)) != len(xml_ids):
        raise ValidationError({"options": [_("Two options have the same external code.")]})
    return options


def _options_save(row: ListField, options: list[dict[str, Any]]) -> None:
    """Keeps the options given (by id), adds the new ones, deletes the rest and removes the
    deleted ones from the elements that hold them."""
    existing = {option.pk: option for option in row.options.all()}
    kept: set[int] = set()
    for item in options:
        raw_id = str(item.get("id") or "")
        option = existing.get(int(raw_id)) if ID_RE.fullmatch(raw_id) else None
        option = option or ListFieldOption(field=row)
        option.value, option.xml_id = item["value"], item["xml_id"]
        option.sort, option.default = item["sort"], item["default"]
        option.save()
        kept.add(option.pk)
    removed = set(existing) - kept
    if removed:
        _values_rewrite(row, lambda value: None if value in removed else value)
        ListFieldOption.objects.filter(pk__in=removed).delete()


def _values_rewrite(row: ListField, rewrite: Any) -> None:
    """Applies ``rewrite`` to each value of the field in every element holding one."""
    key = str(row.pk)
    changed = []
    holders = (
        Element.objects.select_for_update()
        .filter(list_id=row.list_id, values__has_key=key)
        .only("pk", "values", "version")
        .order_by("pk")
    )
    for element in holders:
        stored = element.values[key]
        items = stored if isinstance(stored, list) else [stored]
        kept = [value for value in (rewrite(item) for item in items) if value is not None]
        new = (kept or None) if isinstance(stored, list) else (kept[0] if kept else None)
        if new is None:
            element.values.pop(key)
        else:
            element.values[key] = new
        element.version += 1  # an edit of the element as it was is stale now
        changed.append(element)
    Element.objects.bulk_update(changed, ["values", "version"], batch_size=500)


FORM_SETTINGS = ("SHOW_ADD_FORM", "SHOW_EDIT_FORM")


def _field_settings(row: ListField, raw: Any) -> dict[str, Any]:
    """The settings a property keeps: whether the add and edit forms show it ("Y"/"N", as
    Bitrix writes them), the linked list of a link, the next number of a counter."""
    settings_ = dict(raw) if isinstance(raw, Mapping) else {}
    shown = {
        key: "N" if str(settings_[key]).upper() in ("N", "FALSE", "0") else "Y"
        for key in FORM_SETTINGS
        if key in settings_
    }
    return shown | _type_settings(row, settings_)


def _type_settings(row: ListField, settings_: dict[str, Any]) -> dict[str, Any]:
    if row.type == PropertyType.ELEMENT:
        link = settings_.get("LINK_IBLOCK_ID")
        if link not in (None, "") and not (
            ID_RE.fullmatch(str(link)) and List.objects.filter(pk=int(str(link))).exists()
        ):
            raise ValidationError({"settings": [_("The linked list does not exist.")]})
        return {"LINK_IBLOCK_ID": int(str(link))} if link not in (None, "") else {}
    if row.type == PropertyType.SEQUENCE:
        return {"next": int(row.settings.get("next", 1))}
    return {}


def _field_default(row: ListField, raw: Any) -> Any:
    """The default in its stored-typed form, checked as a value of the field would be."""
    if raw in (None, "", []) or row.type in (PropertyType.LIST, PropertyType.SEQUENCE):
        return None
    if row.type == PropertyType.FILE:
        raise ValidationError({"default": [_("A file field has no default value.")]})
    prop = Property.of(row)
    try:
        typed = prop.engine_field().convert(raw)
        stored = prop.stored(typed)
    except FieldValueError as error:
        raise ValidationError({"default": [error.message]}) from None
    if row.type == PropertyType.ELEMENT:
        problem = _check_elements(prop, stored if isinstance(stored, list) else [stored], None)
        if problem:
            raise ValidationError({"default": [problem]})
    if isinstance(typed, list):
        return [str(item) if not isinstance(item, str) else item for item in typed]
    return typed if isinstance(typed, str | int | float | bool) else str(typed)


def _field_apply(row: ListField, values: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    for attr in _FIELD_ATTRS:
        if attr in values:
            setattr(row, attr, values[attr])
    if "settings" in values or row.type in (PropertyType.ELEMENT, PropertyType.SEQUENCE):
        row.settings = _field_settings(row, values.get("settings", row.settings))
    options = _options_clean(values["options"]) if "options" in values else None
    if row.type != PropertyType.LIST and options:
        raise ValidationError({"options": [_("Only a field of type List has options.")]})
    if "default" in values:
        row.default = _field_default(row, values["default"])
    row.full_clean(exclude=["list"])
    return options


def _fields_changed(row: ListField) -> None:
    schemas_forget()
    index_sync(prop=schema_of(row.list_id).by_id(row.pk))  # type: ignore[arg-type]


@transaction.atomic
def listfield_create(*, list_: List, values: Mapping[str, Any], user: Any | None) -> ListField:
    """Adds a property to the list; its code (``PROPERTY_<CODE>`` in processes) is unique in
    the list and, like its type, never changes."""
    _admin_only(user, _("Only lists administrators may manage fields."))
    code = code_of(values.get("code"))
    if not CODE_RE.fullmatch(code):
        raise ValidationError(
            {
                "code": [
                    _(
                        "The code starts with a Latin letter and holds Latin letters, digits "
                        "and '_' only."
                    )
                ]
            }
        )
    if code in BUILTIN_ATTRS:
        raise ValidationError({"code": [_("This code belongs to a built-in field.")]})
    if ListField.objects.filter(list=list_, code=code).exists():
        raise ValidationError({"code": [_("The list already has a field with this code.")]})
    row = ListField(list=list_, code=code, type=values.get("type") or "")
    if row.type not in PropertyType.values:
        raise ValidationError({"type": [_("Unknown field type.")]})
    options = _field_apply(row, values)
    row.save()
    if options is not None:
        _options_save(row, options)
    _fields_changed(row)
    return row


@transaction.atomic
def listfield_update(*, field: ListField, values: Mapping[str, Any], user: Any | None) -> ListField:
    _admin_only(user, _("Only lists administrators may manage fields."))
    row = ListField.objects.select_for_update().get(pk=field.pk)
    if "code" in values and code_of(values["code"]) != row.code:
        raise ValidationError({"code": [_("The code of a field cannot be changed.")]})
    if "type" in values and values["type"] != row.type:
        raise ValidationError({"type": [_("The type of a field cannot be changed.")]})
    options = _field_apply(row, values)
    row.save()
    if options is not None:
        _options_save(row, options)
    _fields_changed(row)
    return row


@transaction.atomic
def listfield_delete(*, field: ListField, user: Any | None) -> None:
    """Deletes the property and its values."""
    _admin_only(user, _("Only lists administrators may manage fields."))
    prop = schema_of(field.list_id).by_id(field.pk)
    if prop is not None:
        index_sync(prop=prop, drop=True)
    _values_rewrite(field, lambda value: None)
    ElementFile.objects.filter(element__list_id=field.list_id).exclude(
        pk__in=_held_file_ids(field.list_id, exclude=field.pk)
    ).update(element=None)
    field.delete()
    schemas_forget()


def _held_file_ids(list_id: int, *, exclude: int) -> set[int]:
    keys = [
        str(pk)
        for pk in ListField.objects.filter(list_id=list_id, type=PropertyType.FILE)
        .exclude(pk=exclude)
        .values_list("pk", flat=True)
    ]
    held: set[int] = set()
    for values in Element.objects.filter(list_id=list_id).values_list("values", flat=True):
        for key in keys:
            stored = values.get(key)
            held.update(stored if isinstance(stored, list) else [stored] if stored else [])
    return held


# --- files --------------------------------------------------------------------------------------


def element_file_create(*, upload: UploadedFile, user: Any | None) -> ElementFile:
    """Stores an uploaded file as ``user``'s, for an element's file property to hold. On disk
    it gets a made-up name: the name the person gave is kept in the row only."""
    if upload.size is not None and upload.size > settings.CRM_FILE_MAX_BYTES:
        raise ValidationError(
            _("The file “%(name)s” is too large: at most %(max)s.")
            % {"name": upload.name, "max": filesizeformat(settings.CRM_FILE_MAX_BYTES)}
        )
    name = "".join(char for char in PurePath(str(upload.name or "")).name if char.isprintable())
    name = name[-FILE_NAME_MAX_LENGTH:] or "file"
    suffix = PurePath(name).suffix.lower()
    if not (suffix[1:].isascii() and suffix[1:].isalnum() and len(suffix) <= 10):
        suffix = ""
    row = ElementFile(
        name=name,
        size=upload.size or 0,
        content_type=str(upload.content_type or "")[:100],
        uploaded_by=user,
    )
    row.file.save(f"{uuid.uuid4().hex}{suffix}", upload, save=False)
    row.save()
    return row


# --- elements ---------------------------------------------------------------------------------


def _pk(user: Any | None) -> int | None:
    return user.pk if user is not None else None


def _convert(
    schema: Schema, values: Mapping[str, Any], errors: dict[str, list[str]]
) -> dict[str, Any]:
    """The typed value of each given field, by code; unknown and read-only codes are errors."""
    fields = {field.code: field for field in schema.engine_fields()}
    typed: dict[str, Any] = {}
    for code, raw in values.items():
        field = fields.get(code)
        if field is None:
            errors.setdefault(code, []).append(_("Unknown field: %(code)s") % {"code": code})
            continue
        if field.read_only:
            errors.setdefault(code, []).append(
                _("The field '%(name)s' cannot be changed.") % {"name": field.name}
            )
            continue
        if isinstance(raw, list | tuple) and len(raw) > VALUES_MAX:
            errors.setdefault(code, []).append(
                _("The field '%(name)s' takes at most %(max)d values.")
                % {"name": field.name, "max": VALUES_MAX}
            )
            continue
        try:
            typed[code] = field.convert(raw)
        except FieldValueError as error:
            errors.setdefault(code, []).append(error.message)
            continue
        if code == "SORT" and typed[code] is not None and abs(typed[code]) > SORT_LIMIT:
            errors.setdefault(code, []).append(
                _("The value of field '%(name)s' is incorrect.") % {"name": field.name}
            )
    return typed


def _check_files(
    prop: Property, ids: list[int], element: Element | None, user: Any | None
) -> str | None:
    """A person may attach the files they uploaded, a process (no ``user``: system rights) any
    file no element holds (one a person gave it, as an answer to Request information); anyone
    may keep the files the element already holds. A file of another element is never moved
    over."""
    rows = {row.pk: row for row in ElementFile.objects.select_for_update().filter(pk__in=ids)}
    for file_id in ids:
        row = rows.get(file_id)
        if row is None:
            return _("The file %(id)s does not exist.") % {"id": file_id}
        held_here = element is not None and row.element_id == element.pk
        free = row.element_id is None and (user is None or row.uploaded_by_id == user.pk)
        if not (held_here or free):
            return _("The file “%(name)s” may not be attached here.") % {"name": row.name}
    return None


def _check_elements(prop: Property, ids: list[int], user: Any | None) -> str | None:
    """Linked elements exist (in the linked list, when the property names one) and, for a
    person, are elements they may read."""
    found = Element.objects.filter(pk__in=ids).select_related("list")
    if prop.link_list_id is not None:
        found = found.filter(list_id=prop.link_list_id)
    readable = [e for e in found if user is None or permissions.can_read(user, e)]
    if len(readable) != len(set(ids)):
        return _("The value of field '%(name)s' names no element of the linked list.") % {
            "name": prop.name
        }
    return None


def _stored_properties(
    schema: Schema,
    typed: Mapping[str, Any],
    element: Element | None,
    user: Any | None,
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    """The stored value (None: none) of each property given, by property key."""
    stored: dict[str, Any] = {}
    for code, value in typed.items():
        prop = schema.by_code(code)
        if prop is None:
            continue
        try:
            stored[prop.key] = prop.stored(value)
        except FieldValueError as error:
            errors.setdefault(code, []).append(error.message)
            continue
        items = stored[prop.key]
        ids = items if isinstance(items, list) else [items] if items is not None else []
        problem = None
        if ids and prop.type == PropertyType.FILE:
            problem = _check_files(prop, ids, element, user)
        elif ids and prop.type == PropertyType.ELEMENT:
            problem = _check_elements(prop, ids, user)
        if problem:
            errors.setdefault(code, []).append(problem)
    return stored


def _required(schema: Schema, whole: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    fields = {field.code: field for field in schema.engine_fields()}
    for code, value in whole.items():
        field = fields[code]
        if field.required and not field.read_only and value in (None, "", []):
            errors.setdefault(code, []).append(
                _("The field '%(name)s' is required.") % {"name": field.name}
            )


def _apply(element: Element, typed: Mapping[str, Any], stored: Mapping[str, Any]) -> None:
    for code, value in typed.items():
        attr = BUILTIN_ATTRS.get(code)
        if attr is None:
            continue
        if value is None and Element._meta.get_field(attr).get_internal_type() in (
            "CharField",
            "TextField",
        ):
            value = ""
        if code == "SORT" and value is None:
            value = 500
        setattr(element, attr, value)
    values = dict(element.values or {})
    for key, value in stored.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    element.values = values


def _files_hold(element: Element, schema: Schema) -> None:
    """Marks the files the element's values hold as held by it, and frees the ones it let go."""
    held: set[int] = set()
    for prop in schema.properties:
        if prop.type == PropertyType.FILE:
            stored = (element.values or {}).get(prop.key)
            held.update(stored if isinstance(stored, list) else [stored] if stored else [])
    ElementFile.objects.filter(pk__in=held).exclude(element=element).update(element=element)
    ElementFile.objects.filter(element=element).exclude(pk__in=held).update(element=None)


def _defaults(schema: Schema, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values with each property's default where none is given. A default that no longer
    holds (its user left, its element went) is left out rather than refusing every new
    element over a field nobody filled in."""
    with_defaults = dict(values)
    for prop in schema.properties:
        if prop.engine_code in with_defaults or prop.read_only:
            continue
        default = prop.default()
        if default is None:
            continue
        try:
            stored = prop.stored(prop.engine_field().convert(default))
        except FieldValueError:
            continue
        items = stored if isinstance(stored, list) else [stored]
        if prop.type == PropertyType.ELEMENT and _check_elements(prop, items, None):
            continue
        with_defaults[prop.engine_code] = default
    return with_defaults


def _sequence_next(prop: Property) -> int:
    row = ListField.objects.select_for_update().get(pk=prop.id)
    number = int(row.settings.get("next", 1))
    row.settings = {**row.settings, "next": number + 1}
    row.save(update_fields=["settings"])
    return number


@transaction.atomic
def element_create(
    *,
    list_: List,
    values: Mapping[str, Any],
    user: Any | None,
    by_process: bool = False,
    code: str = "",
) -> Element:
    """Adds an element as ``user`` (None: the system); fields not given get their defaults.

    A person's rights are checked; a process (``by_process``) writes with system rights.
    Raises ``ValidationError`` with a message per wrong field, in the active language.
    """
    checked_user = None if by_process else user
    if checked_user is not None and not permissions.can_add(checked_user, list_):
        raise PermissionDenied(_("You may not add elements to this list."))
    schema = schema_of(list_.pk)
    errors: dict[str, list[str]] = {}
    typed = _convert(schema, _defaults(schema, values), errors)
    stored = _stored_properties(schema, typed, None, checked_user, errors)
    whole = {f.code: None for f in schema.engine_fields() if not f.read_only} | typed
    _required(schema, whole, errors)
    code = str(code or typed.get("CODE") or "").strip()
    if code and Element.objects.filter(list=list_, code=code).exists():
        errors.setdefault("CODE", []).append(_("An element with this code already exists."))
    if errors:
        raise ValidationError(errors)
    element = Element(list=list_, created_by_id=_pk(user), modified_by_id=_pk(user))
    _apply(element, typed, stored)
    element.code = code
    for prop in schema.properties:
        if prop.type == PropertyType.SEQUENCE:
            element.values[prop.key] = _sequence_next(prop)
    try:
        with transaction.atomic():
            element.save()
    except IntegrityError:
        raise ValidationError({"CODE": [_("An element with this code already exists.")]}) from None
    _files_hold(element, schema)
    document_hooks.created(
        document_id=element.document_id, user_id=_pk(user), by_process=by_process
    )
    return element


@transaction.atomic
def element_update(
    *,
    element: Element,
    values: Mapping[str, Any],
    user: Any | None,
    expected_version: int | None = None,
    by_process: bool = False,
) -> dict[str, tuple[Any, Any]]:
    """Changes the given fields; returns the changes as {code: (old, new)}. Afterwards
    ``element`` shows the row as saved.

    With ``expected_version``, an edit based on an older version raises ``StaleElement``.
    """
    checked_user = None if by_process else user
    locked = Element.objects.select_for_update().select_related("list").get(pk=element.pk)
    if checked_user is not None and not permissions.can_edit(checked_user, locked):
        raise PermissionDenied(_("You may not change this element."))
    if expected_version is not None and locked.version != expected_version:
        raise StaleElement(locked)
    schema = schema_of(locked.list_id)
    errors: dict[str, list[str]] = {}
    typed = _convert(schema, values, errors)
    stored = _stored_properties(schema, typed, locked, checked_user, errors)
    _required(schema, typed, errors)
    if (
        typed.get("CODE")
        and Element.objects.filter(list_id=locked.list_id, code=typed["CODE"])
        .exclude(pk=locked.pk)
        .exists()
    ):
        errors.setdefault("CODE", []).append(_("An element with this code already exists."))
    if errors:
        raise ValidationError(errors)
    before = element_values(locked, schema)
    _apply(locked, typed, stored)
    after = element_values(locked, schema)
    changes = {
        code: (before[code], after[code]) for code in typed if before.get(code) != after.get(code)
    }
    if changes:
        locked.version += 1
        locked.modified_at = timezone.now()
        if user is not None:
            locked.modified_by_id = user.pk
        locked.save()
        _files_hold(locked, schema)
    for field in Element._meta.concrete_fields:
        setattr(element, field.attname, getattr(locked, field.attname))
    if changes:
        document_hooks.updated(
            document_id=locked.document_id,
            user_id=_pk(user),
            changes=changes,
            by_process=by_process,
        )
    return changes


@transaction.atomic
def element_delete(*, element: Element, user: Any | None) -> None:
    locked = Element.objects.select_for_update().select_related("list").get(pk=element.pk)
    if user is not None and not permissions.can_edit(user, locked):
        raise PermissionDenied(_("You may not delete this element."))
    document_hooks.deleted(document_id=locked.document_id, user_id=_pk(user))
    ElementFile.objects.filter(element=locked).update(element=None)
    locked.delete()
