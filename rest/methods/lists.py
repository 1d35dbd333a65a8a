"""``lists.*``: universal lists, their fields and elements over ``lists.services``, in
Bitrix24's shapes.

Every method names its list by ``IBLOCK_TYPE_ID`` (``lists`` or ``bitrix_processes``, as the
list was made) and ``IBLOCK_ID`` or ``IBLOCK_CODE``. A list the user may not see (no right to
read or add, none of their own elements) is "Iblock not found", as one that does not exist.
Lists administrators alone manage lists and fields; elements follow the list's access (one's
own elements always, the others with the list's rights).

Fields are keyed by ``FIELD_ID``: a built-in field by its code (``NAME``), a property as
``PROPERTY_<id>``. Element values go in as Bitrix24's clients send them — a value, a list, or
a ``{valueId: value}`` map; a list value as its option's id, an employee as a user id, a file
as ``[name, base64]`` (or the id of a file the element holds) — and come out as
``{valueId: value}`` maps of text, the value id being the value's position; empty properties
are left out. Dates come out as Bitrix24 writes them (``DD.MM.YYYY`` and ``DD.MM.YYYY
HH:MM:SS`` in the user's time zone) and go in in that form or as ISO 8601.
``lists.element.update`` overwrites the element: a field it does not give becomes empty.
"""

import base64
import binascii
import contextlib
import dataclasses
import datetime
import mimetypes
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import QuerySet

from bizproc.bounds import bounded_int, localtime
from bizproc.fieldtypes import Field, FieldType, FieldValueError
from bizproc.keyindexes import ObjectKey
from lists import permissions, services
from lists.models import Element, ElementFile, List, ListField, ListKind, PropertyType, Right
from lists.properties import BUILTINS, PREFIX, Property, Schema, schema_of
from rest.api import Call, Page, RestError, method
from rest.listing import (
    FilterField,
    filter_q,
    invalid,
    mapping,
    ordering,
    page_of,
    selection,
    start_of,
)
from rest.methods.crm import refused

MISSING = "ERROR_REQUIRED_PARAMETERS_MISSING"
KINDS = (ListKind.LISTS.value, ListKind.PROCESSES.value)
SORT_MAX = 1_000_000_000
CODE_MAX_LENGTH = 255
# Bitrix's list rights by letter, as the list's access rights they grant.
RIGHT_LETTERS: dict[str, tuple[str, ...]] = {
    "D": (),
    "R": (Right.READ,),
    "E": (Right.ADD,),
    "U": (Right.READ, Right.ADD, Right.EDIT),
    "W": (Right.READ, Right.ADD, Right.EDIT),
    "X": (Right.READ, Right.ADD, Right.EDIT, Right.DESIGN),
}
_CAPTIONS = {code: caption for code, caption, *_rest in BUILTINS}
# The built-in fields ``lists.field.get`` describes (Bitrix's system fields).
SYSTEM_FIELDS = (
    "NAME",
    "SORT",
    "ACTIVE_FROM",
    "ACTIVE_TO",
    "PREVIEW_TEXT",
    "DETAIL_TEXT",
    "DATE_CREATE",
    "CREATED_BY",
    "TIMESTAMP_X",
    "MODIFIED_BY",
)
# Built-in fields an element write sets; all but CODE become empty when update leaves them out.
WRITABLE = ("NAME", "SORT", "ACTIVE_FROM", "ACTIVE_TO", "PREVIEW_TEXT", "DETAIL_TEXT")
READ_ONLY = ("ID", "IBLOCK_ID", "CREATED_BY", "DATE_CREATE", "MODIFIED_BY", "TIMESTAMP_X")
# Bitrix field settings kept by no list here: accepted and ignored.
_IGNORED_FIELD_KEYS = {"SETTINGS", "USER_TYPE_SETTINGS", "ROW_COUNT", "COL_COUNT"}
_FIELD_KEYS = {
    "NAME",
    "TYPE",
    "CODE",
    "IS_REQUIRED",
    "MULTIPLE",
    "SORT",
    "DEFAULT_VALUE",
    "LIST",
    "LIST_TEXT_VALUES",
    "LIST_DEF",
    "LINK_IBLOCK_ID",
} | _IGNORED_FIELD_KEYS
_TYPE_ALIASES = {"E:EList": PropertyType.ELEMENT.value}
DATE_FORMAT = "%d.%m.%Y"
DATETIME_FORMAT = "%d.%m.%Y %H:%M:%S"


# Parameters -------------------------------------------------------------------------------------


def _missing(name: str) -> RestError:
    return RestError(f"Required parameter '{name}' is missing", MISSING)


def _text(raw: Any, name: str) -> str:
    """A parameter that must be one value (text or a number)."""
    if raw is None:
        return ""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise invalid(f"Parameter '{name}' must be a string.")
    return str(raw).strip()


def _upper_keys(raw: Any, name: str) -> dict[str, Any]:
    return {str(key).strip().upper(): value for key, value in mapping(raw, name).items()}


def _flag(raw: Any, name: str) -> bool:
    text = _text(raw, name).upper()
    if text not in ("Y", "N"):
        raise invalid(f"{name} must be Y or N.")
    return text == "Y"


def _sort(raw: Any, name: str = "SORT") -> int:
    value = bounded_int(_text(raw, name), minimum=0, maximum=SORT_MAX)
    if value is None:
        raise invalid(f"{name} must be an integer from 0 to {SORT_MAX}.")
    return value


def _kind(call: Call) -> str:
    kind = _text(call.param("IBLOCK_TYPE_ID"), "IBLOCK_TYPE_ID")
    if not kind:
        raise _missing("IBLOCK_TYPE_ID")
    if kind not in KINDS:
        raise invalid("IBLOCK_TYPE_ID must be lists or bitrix_processes.")
    return kind


def _iblock_not_found() -> RestError:
    return RestError("Iblock not found", "ERROR_IBLOCK_NOT_FOUND")


def _visible(user: Any, list_: List) -> bool:
    return (
        permissions.is_lists_admin(user)
        or permissions.can_see_list(user, list_)
        or permissions.holds_elements(user, list_)
    )


def _list(call: Call, kind: str | None = None) -> List:
    """The list the call names, of its ``IBLOCK_TYPE_ID``, if the user may see it."""
    kind = kind or _kind(call)
    raw_id = call.param("IBLOCK_ID")
    code = _text(call.param("IBLOCK_CODE"), "IBLOCK_CODE")
    if raw_id not in (None, ""):
        pk = bounded_int(_text(raw_id, "IBLOCK_ID"), minimum=1)
        if pk is None:
            raise invalid("IBLOCK_ID must be a positive integer.")
        found = List.objects.filter(pk=pk).first()
    elif code:
        found = List.objects.filter(code=code).first()
    else:
        raise _missing("IBLOCK_ID")
    if found is None or found.kind != kind or not _visible(call.user, found):
        raise _iblock_not_found()
    return found


def _check_admin(call: Call) -> None:
    if not permissions.is_lists_admin(call.user):
        raise PermissionDenied


def _refused(error: ValidationError, code: str, names: Mapping[str, str]) -> RestError:
    result = refused(error, names)
    result.code = code
    return result


# Lists ------------------------------------------------------------------------------------------

_LIST_NAMES = {
    "name": "NAME",
    "code": "IBLOCK_CODE",
    "sort": "SORT",
    "description": "DESCRIPTION",
    "access": "RIGHTS",
    "element_name": "ELEMENT_NAME",
}


def _list_out(row: List) -> dict[str, Any]:
    return {
        "ID": str(row.pk),
        "IBLOCK_TYPE_ID": row.kind,
        "CODE": row.code,
        "NAME": row.name,
        "ACTIVE": "Y",
        "SORT": str(row.sort),
        "DESCRIPTION": row.description,
        "DESCRIPTION_TYPE": "text",
        "BIZPROC": "Y" if row.bizproc else "N",
        "ELEMENT_NAME": row.element_name,
        "SOCNET_GROUP_ID": None,
    }


def _access_in(raw: Any, current: Mapping[str, Any]) -> dict[str, list[str]]:
    """The list's access after Bitrix's ``RIGHTS`` (``{"U5": "W", "*": "R"}``): each subject
    given gets the rights of its letter instead of those it had."""
    access = {right: list(codes) for right, codes in (current or {}).items()}
    for subject, letter in _upper_keys(raw, "RIGHTS").items():
        code = "AU" if subject in ("*", "AU") else subject
        if not (code == "AU" or (code[:1] in ("U", "G") and code[1:].isdigit())):
            raise invalid(f"RIGHTS: unknown subject {subject[:50]} (use U<id>, G<id> or *).")
        rights = RIGHT_LETTERS.get(_text(letter, "RIGHTS").upper())
        if rights is None:
            raise invalid(f"RIGHTS: unknown right {str(letter)[:10]} (use D, R, E, U, W or X).")
        for right in Right.values:
            codes = [item for item in access.get(right, []) if item != code]
            if right in rights:
                codes.append(code)
            access[right] = codes
    return {right: codes for right, codes in access.items() if codes}


def _list_values(call: Call, row: List | None) -> dict[str, Any]:
    fields = _upper_keys(call.param("FIELDS"), "FIELDS")
    unknown = set(fields) - {"NAME", "DESCRIPTION", "SORT", "BIZPROC", "PICTURE"}
    if unknown:
        raise invalid(f"Unknown field in FIELDS: {sorted(unknown)[0][:100]}")
    values: dict[str, Any] = {}
    if "NAME" in fields:
        values["name"] = _text(fields["NAME"], "NAME")
    if "DESCRIPTION" in fields:
        values["description"] = _text(fields["DESCRIPTION"], "DESCRIPTION")
    if "SORT" in fields:
        values["sort"] = _sort(fields["SORT"])
    if "BIZPROC" in fields:
        values["bizproc"] = _flag(fields["BIZPROC"], "BIZPROC")
    messages = _upper_keys(call.param("MESSAGES"), "MESSAGES")
    if "ELEMENT_NAME" in messages:
        values["element_name"] = _text(messages["ELEMENT_NAME"], "ELEMENT_NAME")
    if call.param("RIGHTS") not in (None, ""):
        values["access"] = _access_in(call.param("RIGHTS"), row.access if row else {})
    return values


@method("lists.get")
def lists_get(call: Call) -> Page:
    kind = _kind(call)
    if call.param("IBLOCK_ID") not in (None, "") or call.param("IBLOCK_CODE") not in (None, ""):
        return Page([_list_out(_list(call, kind))], 1, None)
    ids = [row.pk for row in permissions.visible_lists(call.user) if row.kind == kind]
    paths = {"ID": "id", "NAME": "name", "CODE": "code", "SORT": "sort", "IBLOCK_TYPE": "kind"}
    queryset = List.objects.filter(pk__in=ids).order_by(
        *ordering(call.param("IBLOCK_ORDER"), paths, ["sort", "name"])
    )
    rows, total, following = page_of(queryset, start_of(call.param("start")))
    return Page([_list_out(row) for row in rows], total, following)


@method("lists.add")
def lists_add(call: Call) -> int:
    """A new list; ``FIELDS[BIZPROC]='Y'`` turns processes on (a process list has them)."""
    _check_admin(call)
    kind = _kind(call)
    code = _text(call.param("IBLOCK_CODE"), "IBLOCK_CODE")
    if not code:
        raise _missing("IBLOCK_CODE")
    if not _upper_keys(call.param("FIELDS"), "FIELDS").get("NAME"):
        raise _missing("FIELDS[NAME]")
    if List.objects.filter(code=code).exists():
        raise RestError("Iblock already exists", "ERROR_IBLOCK_ALREADY_EXISTS")
    values = {"kind": kind, "code": code, "bizproc": False} | _list_values(call, None)
    try:
        row = services.list_create(values=values, user=call.user)
    except ValidationError as error:
        raise _refused(error, "ERROR_ADD_IBLOCK", _LIST_NAMES) from None
    return row.pk


@method("lists.update")
def lists_update(call: Call) -> bool:
    _check_admin(call)
    row = _list(call)
    values = _list_values(call, row)
    if not values:
        raise _missing("FIELDS")
    try:
        services.list_update(list_=row, values=values, user=call.user)
    except ValidationError as error:
        raise _refused(error, "ERROR_UPDATE_IBLOCK", _LIST_NAMES) from None
    return True


@method("lists.delete")
def lists_delete(call: Call) -> bool:
    _check_admin(call)
    services.list_delete(list_=_list(call), user=call.user)
    return True


# Fields -----------------------------------------------------------------------------------------

_FIELD_NAMES = {
    "code": "CODE",
    "type": "TYPE",
    "name": "NAME",
    "sort": "SORT",
    "options": "LIST",
    "default": "DEFAULT_VALUE",
    "settings": "LINK_IBLOCK_ID",
}


def _yes_no(value: bool) -> str:
    return "Y" if value else "N"


def _field_settings() -> dict[str, str]:
    return {
        "SHOW_ADD_FORM": "Y",
        "SHOW_EDIT_FORM": "Y",
        "ADD_READ_ONLY_FIELD": "N",
        "EDIT_READ_ONLY_FIELD": "N",
        "SHOW_FIELD_PREVIEW": "N",
    }


def _system_field_out(code: str) -> dict[str, Any]:
    return {
        "FIELD_ID": code,
        "SORT": (SYSTEM_FIELDS.index(code) + 1) * 10,
        "NAME": str(_CAPTIONS[code]),
        "IS_REQUIRED": _yes_no(code == "NAME"),
        "MULTIPLE": "N",
        "DEFAULT_VALUE": "",
        "TYPE": code,
        "SETTINGS": _field_settings(),
    }


def _default_out(prop: Property) -> Any:
    if prop.type == PropertyType.LIST:
        chosen = [str(option.id) for option in prop.options if option.is_default]
        return (chosen if prop.multiple else chosen[0]) if chosen else ""
    value = prop.default_value
    if value in (None, "", []):
        return ""
    items = value if isinstance(value, list) else [value]
    texts = [_value_out(prop, _stored_default(prop, item)) for item in items]
    return texts if prop.multiple else texts[0]


def _stored_default(prop: Property, item: Any) -> Any:
    """A default (kept typed, dates as text) in the stored form values come out of."""
    if prop.type == PropertyType.EMPLOYEE:
        return str(item).removeprefix("user_")
    if prop.type == PropertyType.DATETIME:
        moment = datetime.datetime.fromisoformat(str(item).replace(" ", "T"))
        return moment.isoformat()
    if prop.type == PropertyType.DATE:
        return str(item)[:10]
    return item


def _property_out(prop: Property) -> dict[str, Any]:
    property_type, _colon, user_type = prop.type.partition(":")
    link = prop.link_list_id
    result: dict[str, Any] = {
        "FIELD_ID": prop.rest_code,
        "ID": str(prop.id),
        "SORT": prop.sort,
        "NAME": prop.name,
        "IS_REQUIRED": _yes_no(prop.required),
        "MULTIPLE": _yes_no(prop.multiple),
        "DEFAULT_VALUE": _default_out(prop),
        "TYPE": prop.type,
        "PROPERTY_TYPE": property_type,
        "PROPERTY_USER_TYPE": user_type or False,
        "CODE": prop.code,
        "LINK_IBLOCK_ID": str(link) if link is not None else None,
        "ROW_COUNT": "1",
        "COL_COUNT": "30",
        "USER_TYPE_SETTINGS": None,
        "SETTINGS": _field_settings(),
    }
    if prop.type == PropertyType.LIST:
        result["DISPLAY_VALUES_FORM"] = {str(option.id): option.value for option in prop.options}
    return result


def _field_id(call: Call, *, required: bool) -> str:
    field_id = _text(call.param("FIELD_ID"), "FIELD_ID").upper()
    if required and not field_id:
        raise _missing("FIELD_ID")
    return field_id


def _property_of(schema: Schema, field_id: str) -> Property | None:
    number = field_id.removeprefix(PREFIX)
    if not field_id.startswith(PREFIX) or not number.isdigit():
        return None
    return schema.by_id(int(number))


def _field_row(call: Call, list_: List, action: str) -> ListField:
    field_id = _field_id(call, required=True)
    if field_id in _CAPTIONS:
        raise RestError(
            f"The built-in field {field_id} cannot be {action}.",
            "ERROR_UPDATE_FIELD" if action == "changed" else "ERROR_DELETE_FIELD",
        )
    prop = _property_of(schema_of(list_.pk), field_id)
    row = ListField.objects.filter(pk=prop.id, list=list_).first() if prop else None
    if row is None:
        raise RestError("Field not found", "ERROR_FIELD_NOT_FOUND")
    return row


@method("lists.field.get")
def field_get(call: Call) -> Any:
    """Every field of the list keyed by ``FIELD_ID``, or the one ``FIELD_ID`` names."""
    list_ = _list(call)
    schema = schema_of(list_.pk)
    field_id = _field_id(call, required=False)
    result: dict[str, Any] = {}
    for code in SYSTEM_FIELDS:
        if not field_id or field_id == code:
            result[code] = _system_field_out(code)
    for prop in schema.properties:
        if not field_id or field_id == prop.rest_code:
            result[prop.rest_code] = _property_out(prop)
    return result or []  # Bitrix's empty answer is an empty array


@method("lists.field.type.get")
def field_type_get(call: Call) -> dict[str, str]:
    """The property types a list takes (and a built-in field's own, when ``FIELD_ID`` names
    one)."""
    _list(call)
    field_id = _field_id(call, required=False)
    result = {code: str(_CAPTIONS[code]) for code in SYSTEM_FIELDS if code == field_id}
    return result | {code: str(label) for code, label in PropertyType.choices}


def _options_in(fields: Mapping[str, Any], current: ListField | None) -> list[dict] | None:
    """The options of an ``L`` field after ``LIST`` (``{id: {VALUE, SORT, DEF, XML_ID}}``; an
    existing option's id keeps it), ``LIST_TEXT_VALUES`` (one new option a line), ``LIST_DEF``
    and ``DEFAULT_VALUE`` (the ids of the defaults); None: left as they are."""
    keys = {"LIST", "LIST_TEXT_VALUES", "LIST_DEF", "DEFAULT_VALUE"}
    if not keys & set(fields):
        return None
    existing = {str(option.pk): option for option in current.options.all()} if current else {}
    items: list[tuple[str, dict[str, Any]]] = []
    if "LIST" in fields:
        raw = fields["LIST"]
        if isinstance(raw, list):
            raw = {str(index): item for index, item in enumerate(raw)}
        for key, entry in mapping(raw, "LIST").items():
            given = _upper_keys(entry, "LIST") if isinstance(entry, Mapping) else {"VALUE": entry}
            key = _text(given.get("ID", key), "LIST")
            known = existing.get(key)
            items.append(
                (
                    key,
                    {
                        "id": known.pk if known else None,
                        "value": _text(given.get("VALUE", known.value if known else ""), "LIST"),
                        "xml_id": _text(given.get("XML_ID", known.xml_id if known else ""), "LIST"),
                        "sort": given.get("SORT", known.sort if known else None),
                        "default": str(given.get("DEF", "")).upper() == "Y",
                    },
                )
            )
    else:
        for key, option in existing.items():
            items.append(
                (
                    key,
                    {
                        "id": option.pk,
                        "value": option.value,
                        "xml_id": option.xml_id,
                        "sort": option.sort,
                        "default": option.default,
                    },
                )
            )
    if "LIST_TEXT_VALUES" in fields:
        taken = {item["value"] for _key, item in items}
        for line in _text(fields["LIST_TEXT_VALUES"], "LIST_TEXT_VALUES").splitlines():
            if line.strip() and line.strip() not in taken:
                taken.add(line.strip())
                items.append(("", {"id": None, "value": line.strip(), "default": False}))
    chosen = fields.get("LIST_DEF", fields.get("DEFAULT_VALUE"))
    if chosen is not None:
        if isinstance(chosen, Mapping):
            chosen = list(chosen.values())
        chosen = chosen if isinstance(chosen, list) else [chosen]
        defaults = {_text(item, "LIST_DEF") for item in chosen}
        for key, item in items:
            item["default"] = bool(key) and key in defaults
    return [item for _key, item in items]


def _field_values(call: Call, current: ListField | None) -> dict[str, Any]:
    fields = _upper_keys(call.param("FIELDS"), "FIELDS")
    if not fields:
        raise _missing("FIELDS")
    unknown = set(fields) - _FIELD_KEYS
    if unknown:
        raise invalid(f"Unknown field in FIELDS: {sorted(unknown)[0][:100]}")
    values: dict[str, Any] = {}
    if "TYPE" in fields:
        kind = _text(fields["TYPE"], "TYPE")
        values["type"] = _TYPE_ALIASES.get(kind, kind)
    kind = values.get("type", current.type if current else "")
    if "CODE" in fields:
        values["code"] = _text(fields["CODE"], "CODE")
    if "NAME" in fields:
        values["name"] = _text(fields["NAME"], "NAME")
    if "IS_REQUIRED" in fields:
        values["required"] = _flag(fields["IS_REQUIRED"], "IS_REQUIRED")
    if "MULTIPLE" in fields:
        values["multiple"] = _flag(fields["MULTIPLE"], "MULTIPLE")
    if "SORT" in fields:
        values["sort"] = _sort(fields["SORT"])
    if "LINK_IBLOCK_ID" in fields:
        values["settings"] = {"LINK_IBLOCK_ID": _text(fields["LINK_IBLOCK_ID"], "LINK_IBLOCK_ID")}
    if kind == PropertyType.LIST:
        options = _options_in(fields, current)
        if options is not None:
            values["options"] = options
    elif "DEFAULT_VALUE" in fields:
        values["default"] = fields["DEFAULT_VALUE"]
    if kind != PropertyType.LIST and ({"LIST", "LIST_TEXT_VALUES"} & set(fields)):
        raise invalid("LIST: only a field of type L has options.")
    return values


@method("lists.field.add")
def field_add(call: Call) -> str:
    """A new property; answers ``PROPERTY_<id>`` (a built-in field's ``TYPE``: its code, for
    built-in fields are always there)."""
    _check_admin(call)
    list_ = _list(call)
    fields = _upper_keys(call.param("FIELDS"), "FIELDS")
    kind = _text(fields.get("TYPE"), "TYPE")
    if kind in SYSTEM_FIELDS:
        return kind
    if not kind:
        raise _missing("FIELDS[TYPE]")
    if not _text(fields.get("NAME"), "NAME"):
        raise _missing("FIELDS[NAME]")
    if not _text(fields.get("CODE"), "CODE"):
        raise RestError("Please fill the code fields", "ERROR_SAVE_FIELD")
    values = _field_values(call, None)
    try:
        row = services.listfield_create(list_=list_, values=values, user=call.user)
    except ValidationError as error:
        raise _refused(error, "ERROR_SAVE_FIELD", _FIELD_NAMES) from None
    return row.rest_code


@method("lists.field.update")
def field_update(call: Call) -> bool:
    _check_admin(call)
    list_ = _list(call)
    row = _field_row(call, list_, "changed")
    values = _field_values(call, row)
    try:
        services.listfield_update(field=row, values=values, user=call.user)
    except ValidationError as error:
        raise _refused(error, "ERROR_UPDATE_FIELD", _FIELD_NAMES) from None
    return True


@method("lists.field.delete")
def field_delete(call: Call) -> bool:
    _check_admin(call)
    list_ = _list(call)
    services.listfield_delete(field=_field_row(call, list_, "deleted"), user=call.user)
    return True


# Element values out -----------------------------------------------------------------------------


def _moment_text(value: datetime.datetime | None) -> str | None:
    return localtime(value).strftime(DATETIME_FORMAT) if value else None


def _value_out(prop: Property, stored: Any) -> str:
    if prop.type == PropertyType.DATE:
        return datetime.date.fromisoformat(stored).strftime(DATE_FORMAT)
    if prop.type == PropertyType.DATETIME:
        return localtime(datetime.datetime.fromisoformat(stored)).strftime(DATETIME_FORMAT)
    if isinstance(stored, float):
        return str(int(stored)) if stored.is_integer() else repr(stored)
    return str(stored)


def _values_out(prop: Property, stored: Any) -> dict[str, str] | None:
    """``{valueId: value}``: a value's id is its position."""
    items = stored if isinstance(stored, list) else [stored]
    values = {str(at): _value_out(prop, item) for at, item in enumerate(items, 1) if item != ""}
    return values or None


def _id_text(value: Any) -> str | None:
    return str(value) if value is not None else None


_BUILTIN_OUT = {
    "ID": lambda e: str(e.pk),
    "IBLOCK_ID": lambda e: str(e.list_id),
    "IBLOCK_SECTION_ID": lambda e: None,
    "NAME": lambda e: e.name,
    "CODE": lambda e: e.code,
    "SORT": lambda e: str(e.sort),
    "ACTIVE_FROM": lambda e: _moment_text(e.active_from),
    "ACTIVE_TO": lambda e: _moment_text(e.active_to),
    "PREVIEW_TEXT": lambda e: e.preview_text,
    "DETAIL_TEXT": lambda e: e.detail_text,
    "CREATED_BY": lambda e: _id_text(e.created_by_id),
    "DATE_CREATE": lambda e: _moment_text(e.created_at),
    "MODIFIED_BY": lambda e: _id_text(e.modified_by_id),
    "TIMESTAMP_X": lambda e: _moment_text(e.modified_at),
}


def _element_out(element: Element, schema: Schema, codes: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    stored = element.values or {}
    for code in codes:
        if code in _BUILTIN_OUT:
            result[code] = _BUILTIN_OUT[code](element)
            continue
        prop = _property_of(schema, code)
        if prop is not None and stored.get(prop.key) is not None:
            values = _values_out(prop, stored[prop.key])
            if values:
                result[code] = values
    return result


# Element values in ------------------------------------------------------------------------------


@contextlib.contextmanager
def _file_uploads() -> Iterator[list[ElementFile]]:
    """A write that may store files: a refused write leaves none behind."""
    created: list[ElementFile] = []
    try:
        with transaction.atomic():
            yield created
    except BaseException:
        for row in created:
            row.file.delete(save=False)
        raise


def _is_file_data(raw: Any) -> bool:
    """``["name.ext", "<base64>"]``, told from two file ids by its name."""
    return (
        isinstance(raw, list | tuple)
        and len(raw) == 2
        and all(isinstance(item, str) for item in raw)
        and not raw[0].strip().isdigit()
    )


def _file_in(prop: Property, raw: Any, user: Any, uploads: list[ElementFile]) -> Any:
    if isinstance(raw, Mapping):
        keys = {str(key).lower(): value for key, value in raw.items()}
        if "filedata" in keys:
            raw = keys["filedata"]
        elif str(keys.get("del", "")).upper() == "Y":
            return None
        else:
            return keys.get("id")
    if not _is_file_data(raw):
        return raw  # a held file's id, or what the services refuse
    name, data = raw
    text = "".join(data.split())
    if len(text) > (settings.CRM_FILE_MAX_BYTES + 2) // 3 * 4:
        content = b"x" * (settings.CRM_FILE_MAX_BYTES + 1)  # refused below, never decoded
    else:
        try:
            content = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(
                {prop.engine_code: ["The file content is not valid base64."]}
            ) from None
    upload = SimpleUploadedFile(
        name[:255], content, mimetypes.guess_type(name)[0] or "application/octet-stream"
    )
    try:
        stored = services.element_file_create(upload=upload, user=user)
    except ValidationError as error:
        raise ValidationError({prop.engine_code: error.messages}) from None
    uploads.append(stored)
    return stored.pk


def _items(prop: Property, raw: Any) -> list[Any]:
    """The values of a REST value: one, a list, or a ``{valueId: value}`` map."""
    if raw is None or raw == "":
        return []
    if prop.type == PropertyType.FILE and _is_file_data(raw):
        return [raw]
    if isinstance(raw, Mapping):
        keys = {str(key).upper() for key in raw}
        if keys & {"VALUE", "TEXT", "FILEDATA", "ID", "DEL"}:
            return [raw]
        return list(raw.values())
    if isinstance(raw, list | tuple):
        return list(raw)
    return [raw]


def _one_in(prop: Property, item: Any, user: Any, uploads: list[ElementFile]) -> Any:
    if isinstance(item, Mapping) and prop.type != PropertyType.FILE:
        given = {str(key).upper(): value for key, value in item.items()}
        item = given.get("VALUE", given.get("TEXT"))
        if isinstance(item, Mapping):  # S:HTML as {"VALUE": {"TEXT": …, "TYPE": …}}
            item = {str(key).upper(): value for key, value in item.items()}.get("TEXT")
    if item is None or item == "":
        return None
    if prop.type == PropertyType.FILE:
        return _file_in(prop, item, user, uploads)
    if prop.type == PropertyType.LIST:
        option = prop.option_by_id(_text(item, prop.rest_code))
        if option is None:
            raise ValidationError(
                {prop.engine_code: [f"{_text(item, prop.rest_code)[:50]} is no option's ID."]}
            )
        return option.xml_id
    if prop.type == PropertyType.EMPLOYEE:
        text = _text(item, prop.rest_code)
        return f"user_{text}" if text.isdigit() else text
    return item


def _property_in(prop: Property, raw: Any, user: Any, uploads: list[ElementFile]) -> Any:
    values = [_one_in(prop, item, user, uploads) for item in _items(prop, raw)]
    values = [value for value in values if value is not None]
    if prop.multiple:
        return values
    if len(values) > 1:
        raise ValidationError({prop.engine_code: [f"{prop.rest_code} takes one value."]})
    return values[0] if values else None


def _values_in(
    schema: Schema, raw: Any, *, user: Any, uploads: list[ElementFile], whole: bool
) -> dict[str, Any]:
    """The services' values (by engine code) of a request's ``FIELDS``; with ``whole``, every
    field it leaves out empty."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in _upper_keys(raw, "FIELDS").items():
        prop = _property_of(schema, key)
        if prop is not None:
            try:
                values[prop.engine_code] = _property_in(prop, value, user, uploads)
            except ValidationError as error:
                for code, messages in error.message_dict.items():
                    errors.setdefault(code, []).extend(messages)
        elif key in (*WRITABLE, "CODE", *READ_ONLY):
            values[key] = list(value.values()) if isinstance(value, Mapping) else value
        elif key == "IBLOCK_SECTION_ID" and value in (None, "", 0, "0"):
            continue  # the list's root: lists here have no sections
        else:
            errors.setdefault(key, []).append(f"Unknown field: {key[:100]}")
    if errors:
        raise ValidationError(errors)
    if whole:
        for code in WRITABLE:
            values.setdefault(code, None)
        for prop in schema.properties:
            if not prop.read_only:
                values.setdefault(prop.engine_code, [] if prop.multiple else None)
    return values


def _rest_names(schema: Schema) -> dict[str, str]:
    return {prop.engine_code: prop.rest_code for prop in schema.properties}


# Elements ---------------------------------------------------------------------------------------


def _element_not_found() -> RestError:
    return RestError("Element not found", "ERROR_ELEMENT_NOT_FOUND")


def _element_filter(call: Call, queryset: QuerySet[Element]) -> QuerySet[Element] | None:
    """``queryset`` narrowed to ``ELEMENT_ID`` or ``ELEMENT_CODE``; None when neither is given."""
    raw_id = call.param("ELEMENT_ID")
    code = _text(call.param("ELEMENT_CODE"), "ELEMENT_CODE")
    if raw_id not in (None, ""):
        pk = bounded_int(_text(raw_id, "ELEMENT_ID"), minimum=1)
        if pk is None:
            raise invalid("ELEMENT_ID must be a positive integer.")
        return queryset.filter(pk=pk)
    if code:
        return queryset.filter(code=code)
    return None


def _element(call: Call, list_: List) -> Element:
    narrowed = _element_filter(call, permissions.readable(call.user, list_))
    if narrowed is None:
        raise _missing("ELEMENT_ID")
    element = narrowed.select_related("list").first()
    if element is None:
        raise _element_not_found()
    return element


def _integer(raw: Any) -> int | None:
    text = str(raw).strip().removeprefix("user_")
    if text == "":
        return None
    value = bounded_int(text)
    if value is None:
        raise ValueError("The value is not an integer.")
    return value


def _converter(field: Field) -> Any:
    def convert(raw: Any) -> Any:
        try:
            return field.convert(raw)
        except FieldValueError as error:
            raise ValueError(error.message) from None

    return convert


def _property_filter(prop: Property) -> FilterField:
    path = f"_p{prop.id}"
    if not prop.sortable:

        def refuse(_raw: Any) -> Any:
            raise ValueError("Filtering on this field is not supported.")

        return FilterField(path, refuse)
    if prop.type in (PropertyType.LIST, PropertyType.EMPLOYEE, PropertyType.ELEMENT):
        return FilterField(path, _integer)
    single = dataclasses.replace(prop, multiple=False, required=False)
    field = dataclasses.replace(single.engine_field(), required=False, max_length=None)
    typed = _converter(field)

    def convert(raw: Any) -> Any:
        try:
            return single.stored(typed(raw))
        except FieldValueError as error:
            raise ValueError(error.message) from None

    return FilterField(path, convert, text=prop.type == PropertyType.STRING)


def _builtin_filters() -> dict[str, FilterField]:
    def field(code: str, type_: str) -> Any:
        return _converter(Field(code, code, type_))

    return {
        "ID": FilterField("id", _integer),
        "NAME": FilterField("name", str, text=True),
        "CODE": FilterField("code", str, text=True),
        "SORT": FilterField("sort", _integer),
        "CREATED_BY": FilterField("created_by_id", _integer),
        "MODIFIED_BY": FilterField("modified_by_id", _integer),
        "DATE_CREATE": FilterField("created_at", field("DATE_CREATE", FieldType.DATETIME)),
        "TIMESTAMP_X": FilterField("modified_at", field("TIMESTAMP_X", FieldType.DATETIME)),
        "ACTIVE_FROM": FilterField("active_from", field("ACTIVE_FROM", FieldType.DATETIME)),
        "ACTIVE_TO": FilterField("active_to", field("ACTIVE_TO", FieldType.DATETIME)),
        "PREVIEW_TEXT": FilterField("preview_text", str, text=True),
        "DETAIL_TEXT": FilterField("detail_text", str, text=True),
    }


_ORDER_PATHS = {
    "ID": "id",
    "NAME": "name",
    "CODE": "code",
    "SORT": "sort",
    "DATE_CREATE": "created_at",
    "TIMESTAMP_X": "modified_at",
    "ACTIVE_FROM": "active_from",
    "ACTIVE_TO": "active_to",
    "CREATED_BY": "created_by_id",
    "MODIFIED_BY": "modified_by_id",
}


@method("lists.element.get")
def element_get(call: Call) -> Page:
    """The elements the user may read (all, or one by ``ELEMENT_ID``/``ELEMENT_CODE``)."""
    list_ = _list(call)
    schema = schema_of(list_.pk)
    queryset = permissions.readable(call.user, list_)
    narrowed = _element_filter(call, queryset)
    queryset = narrowed if narrowed is not None else queryset
    filters = _builtin_filters() | {p.rest_code: _property_filter(p) for p in schema.properties}
    paths = dict(_ORDER_PATHS) | {p.rest_code: f"_p{p.id}" for p in schema.properties if p.sortable}
    queryset = queryset.alias(
        **{f"_p{prop.id}": ObjectKey(prop.key, "values") for prop in schema.properties}
    )
    queryset = queryset.filter(filter_q(call.param("FILTER"), filters, "FILTER")).order_by(
        *ordering(call.param("ELEMENT_ORDER"), paths, ["id"])
    )
    property_codes = [prop.rest_code for prop in schema.properties]
    codes = selection(
        call.param("SELECT"),
        known=[*_BUILTIN_OUT, *property_codes],
        default=[*_BUILTIN_OUT, *property_codes],
        groups={"PROPERTY_*": property_codes},
    )
    rows, total, following = page_of(queryset, start_of(call.param("start")))
    return Page([_element_out(row, schema, codes) for row in rows], total, following)


def _element_code(call: Call) -> str:
    code = _text(call.param("ELEMENT_CODE"), "ELEMENT_CODE")
    if not code:
        raise _missing("ELEMENT_CODE")
    if len(code) > CODE_MAX_LENGTH:
        raise invalid(f"ELEMENT_CODE is at most {CODE_MAX_LENGTH} characters long.")
    return code


def _already_exists() -> RestError:
    return RestError("Element already exists", "ERROR_ELEMENT_ALREADY_EXISTS")


@method("lists.element.add")
def element_add(call: Call) -> int:
    list_ = _list(call)
    code = _element_code(call)
    if not permissions.can_add(call.user, list_):
        raise PermissionDenied
    if call.param("FIELDS") in (None, "", []):
        raise _missing("FIELDS")
    if Element.objects.filter(list=list_, code=code).exists():
        raise _already_exists()
    schema = schema_of(list_.pk)
    try:
        with _file_uploads() as uploads:
            values = _values_in(
                schema, call.param("FIELDS"), user=call.user, uploads=uploads, whole=False
            )
            values.pop("CODE", None)
            element = services.element_create(list_=list_, values=values, user=call.user, code=code)
    except ValidationError as error:
        if set(error.message_dict) == {"CODE"}:
            raise _already_exists() from None
        raise _refused(error, "ERROR_ELEMENT_FIELD_VALUE", _rest_names(schema)) from None
    return element.pk


@method("lists.element.update")
def element_update(call: Call) -> bool:
    """Overwrites the element: fields ``FIELDS`` leaves out become empty (its code stays)."""
    list_ = _list(call)
    element = _element(call, list_)
    if not permissions.can_edit(call.user, element):
        raise PermissionDenied
    if call.param("FIELDS") in (None, "", []):
        raise _missing("FIELDS")
    schema = schema_of(list_.pk)
    code = _upper_keys(call.param("FIELDS"), "FIELDS").get("CODE")
    if (
        isinstance(code, str | int)
        and str(code).strip()
        and Element.objects.filter(list=list_, code=str(code).strip())
        .exclude(pk=element.pk)
        .exists()
    ):
        raise _already_exists()
    try:
        with _file_uploads() as uploads:
            values = _values_in(
                schema, call.param("FIELDS"), user=call.user, uploads=uploads, whole=True
            )
            services.element_update(element=element, values=values, user=call.user)
    except ValidationError as error:
        raise _refused(error, "ERROR_ELEMENT_FIELD_VALUE", _rest_names(schema)) from None
    return True


@method("lists.element.delete")
def element_delete(call: Call) -> bool:
    list_ = _list(call)
    services.element_delete(element=_element(call, list_), user=call.user)
    return True
