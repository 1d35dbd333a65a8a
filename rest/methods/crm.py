"""``crm.<lead|contact|company|deal>.fields|add|get|list|update|delete`` over ``crm.services``.

Reads go through ``permissions.readable`` (a record the webhook's user may not read is "Not
found"); writes go through the services, which check the rights (a refusal is 403
``ACCESS_DENIED``) and validate. Values come out as Bitrix24 sends them — strings for numbers
and ids, ISO 8601 dates, ``PHONE``/``EMAIL`` as multi-fields — and go in as its clients send
them. Custom fields (``UF_CRM_…``) go in and out as ``rest.custom_values`` describes; a list
gives them when ``select`` names them or ``UF_*``. As in Bitrix24, ``fields`` keys that are
unknown or read-only (``TYPE_ID``, ``DATE_CREATE``) are ignored on add and update, and so are
unknown ``select`` names; ``filter`` and ``order`` refuse unknown fields (a filter condition
dropped quietly would answer every record).
"""

import dataclasses
import datetime
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bizproc.bounds import bounded_int, localtime
from bizproc.fieldtypes import FieldType, FieldValueError
from crm import permissions, services
from crm.fields import FieldSpec, Kind, field_specs, specs_of
from crm.models import RECORD_MODELS, Action, EntityType, Record, StoredFile
from rest.api import Call, Page, RestError, method, not_found
from rest.custom_values import (
    custom_description,
    custom_filter_field,
    custom_in,
    custom_out,
    custom_sortable,
    file_uploads,
)
from rest.listing import FilterField, filter_q, mapping, ordering, page_of, selection, start_of

ENTITY_NAMES = {
    "lead": EntityType.LEAD,
    "contact": EntityType.CONTACT,
    "company": EntityType.COMPANY,
    "deal": EntityType.DEAL,
}

_BITRIX_TYPES = {
    FieldType.INT: "integer",
    FieldType.DOUBLE: "double",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.STRING: "string",
    FieldType.TEXT: "string",
}
# Bitrix's reference-list names (crm.status ENTITY_ID) of the select fields.
_STATUS_TYPES = {
    "STAGE_ID": "DEAL_STAGE",
    "STATUS_ID": "STATUS",
    "SOURCE_ID": "SOURCE",
    "COMPANY_TYPE": "COMPANY_TYPE",
    "INDUSTRY": "INDUSTRY",
}


def _bitrix_type(spec: FieldSpec) -> str:
    if spec.kind == Kind.USER:
        return "user"
    if spec.kind in (Kind.LINK, Kind.LINKS):
        return f"crm_{spec.link_to.lower()}"
    if spec.kind == Kind.MULTI:
        return "crm_multifield"
    if spec.type == FieldType.SELECT:
        return "crm_currency" if spec.code == "CURRENCY_ID" else "crm_status"
    return _BITRIX_TYPES[spec.type]


def record_fields(call: Call, *, entity_type: str) -> dict[str, Any]:
    result = {}
    for spec in specs_of(entity_type):
        if spec.custom is not None:
            result[spec.code] = custom_description(spec.custom)
            continue
        description = {
            "type": _bitrix_type(spec),
            "isRequired": spec.required,
            "isReadOnly": spec.read_only,
            "isImmutable": False,
            "isMultiple": spec.multiple,
            "isDynamic": False,
            "title": str(spec.caption),
        }
        if spec.code in _STATUS_TYPES:
            description["statusType"] = _STATUS_TYPES[spec.code]
        result[spec.code] = description
    return result


# Values out -------------------------------------------------------------------------------


def _date_text(value: datetime.date | None) -> str:
    if value is None:
        return ""
    moment = datetime.datetime.combine(value, datetime.time(), timezone.get_current_timezone())
    return moment.isoformat(timespec="seconds")


def _multi_out(code: str, items: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "ID": str(index),
            "VALUE_TYPE": item.get("VALUE_TYPE", "WORK"),
            "VALUE": item.get("VALUE", ""),
            "TYPE_ID": code,
        }
        for index, item in enumerate(items, start=1)
    ]


def _text_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None


def _column(spec: FieldSpec) -> str:
    """Where a field's value is read from: its column, or for a linked list (``CONTACT_IDS``),
    which has none, its name (``_records_out`` adds it to the rows)."""
    if spec.kind == Kind.ID:
        return "id"
    if spec.kind in (Kind.USER, Kind.LINK):
        return f"{spec.attr}_id"
    return spec.attr


def _columns(entity_type: str, codes: list[str]) -> list[str]:
    """The columns that fields ``codes`` are read from, the id first."""
    specs = field_specs(entity_type)
    wanted = [_column(specs[code]) for code in codes if specs[code].kind != Kind.LINKS]
    return list(dict.fromkeys(["id", *wanted]))


@functools.cache
def _writer(spec: FieldSpec) -> Callable[[Any], Any]:
    """How a field's stored value goes out, chosen once per field rather than per value: a list
    page writes hundreds of values."""
    if spec.kind == Kind.ID:
        return str
    if spec.kind in (Kind.USER, Kind.LINK):
        return _text_or_none
    if spec.kind == Kind.LINKS:
        return lambda ids: [str(pk) for pk in ids]
    if spec.kind == Kind.MULTI:
        return functools.partial(_multi_out, spec.code)
    if spec.kind == Kind.DECIMAL:
        return lambda value: f"{value:.2f}" if value is not None else None
    if spec.type == FieldType.INT:
        return _text_or_none
    if spec.type == FieldType.DATETIME:
        return lambda value: localtime(value).isoformat(timespec="seconds") if value else ""
    if spec.type == FieldType.DATE:
        return _date_text
    return lambda value: value if value is not None else ""


def _linked_ids(model: type[Record], attr: str, ids: list[int]) -> dict[int, list[int]]:
    """{record id: ids of the records its many-to-many field ``attr`` links}, read from the
    link table alone; the highest first, as records are ordered."""
    field = model._meta.get_field(attr)
    source, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
    links = field.remote_field.through.objects.filter(**{f"{source}__in": ids})
    linked: dict[int, list[int]] = {}
    for pk, other in links.order_by(f"-{target}").values_list(source, target):
        linked.setdefault(pk, []).append(other)
    return linked


def _reader(spec: FieldSpec, at: int) -> Callable[[tuple], Any]:
    """How a row's value of a field goes out; a custom field's from the row's ``uf`` column
    (its writer is made per call: the definition may have changed since the last)."""
    definition = spec.custom
    if definition is not None:
        return lambda row: custom_out(definition, row[at].get(definition.code), record_pk=row[0])
    write = _writer(spec)
    return lambda row: write(row[at])


def _records_out(rows: list[tuple], entity_type: str, codes: list[str]) -> list[dict]:
    """Rows of ``values_list(*_columns(entity_type, codes))`` as Bitrix24 sends them; a linked
    list is read for all the rows at once."""
    specs = field_specs(entity_type)
    columns = _columns(entity_type, codes)
    readers = []
    for code in codes:
        spec = specs[code]
        if spec.kind == Kind.LINKS:
            linked = _linked_ids(RECORD_MODELS[entity_type], spec.attr, [row[0] for row in rows])
            rows = [(*row, linked.get(row[0], [])) for row in rows]
            columns.append(spec.attr)
        readers.append((code, _reader(spec, columns.index(_column(spec)))))
    return [{code: read(row) for code, read in readers} for row in rows]


# Values in --------------------------------------------------------------------------------


def _multi_in(spec: FieldSpec, raw: Any, record: Record | None) -> list[str]:
    """The whole list of values after Bitrix24's multi-field edit: an item with the ``ID`` of
    an existing one changes it (``DELETE: "Y"`` removes it), an item without adds one.

    An item's ``ID`` is its 1-based position in the record's list, as ``get`` shows it. The
    services keep values only, so ``VALUE_TYPE`` is stored as ``WORK``.
    """
    values: list[str | None] = (
        [item.get("VALUE", "") for item in getattr(record, spec.attr)] if record else []
    )
    items = list(raw.values()) if isinstance(raw, Mapping) else raw
    for item in items if isinstance(items, list) else [items]:
        if not isinstance(item, Mapping):
            values.append(item)
            continue
        position = str(item.get("ID", "")).strip()
        if position.isdigit() and 1 <= int(position) <= len(values):
            index = int(position) - 1
            delete = str(item.get("DELETE", "")).upper() == "Y"
            values[index] = None if delete else item.get("VALUE", "")
        else:
            values.append(item.get("VALUE", ""))
    return [value for value in values if value is not None]


def _fields_in(
    entity_type: str,
    raw: Any,
    *,
    user: Any,
    uploads: list[StoredFile],
    record: Record | None = None,
) -> dict[str, Any]:
    """The writable fields of the request by code, for the services to validate; the files
    it carries are stored (in ``uploads``)."""
    specs = field_specs(entity_type)
    values = {}
    for key, value in mapping(raw, "fields").items():
        spec = specs.get(str(key).strip().upper())
        if spec is None or spec.read_only:
            continue
        if spec.custom is not None:
            value = custom_in(spec.custom, value, user=user, uploads=uploads)
        elif spec.kind == Kind.MULTI:
            value = _multi_in(spec, value, record)
        values[spec.code] = value
    return values


def refused(error: ValidationError, names: Mapping[str, str] | None = None) -> RestError:
    """A 400 naming each wrong value by its field (``names``: the REST name of a key)."""
    messages = []
    for code, texts in error.message_dict.items():
        text = " ".join(texts)
        name = (names or {}).get(code, code)
        messages.append(text if code == "__all__" else f"{name}: {text}")
    return RestError(" ".join(messages))


def _record_id(call: Call) -> int:
    raw = call.param("id")
    pk = bounded_int(raw, minimum=1)
    if pk is None:
        raise RestError("ID is not defined or invalid.")
    return pk


def _readable_record(call: Call, entity_type: str) -> Record:
    try:
        return permissions.readable(call.user, entity_type).get(pk=_record_id(call))
    except RECORD_MODELS[entity_type].DoesNotExist:
        raise not_found() from None


# Methods ----------------------------------------------------------------------------------


def record_add(call: Call, *, entity_type: str) -> int:
    try:
        with file_uploads() as uploads:
            values = _fields_in(entity_type, call.param("fields"), user=call.user, uploads=uploads)
            record = services.record_create(entity_type=entity_type, values=values, user=call.user)
    except ValidationError as error:
        raise refused(error) from None
    return record.pk


def record_get(call: Call, *, entity_type: str) -> dict[str, Any]:
    """Every field but linked lists (``CONTACT_IDS``), as Bitrix24's ``get`` leaves them out:
    ``list`` with that field selected gives them."""
    record = _readable_record(call, entity_type)
    codes = [spec.code for spec in specs_of(entity_type) if spec.kind != Kind.LINKS]
    # The row a list reads (for one record, the model's own query is the cheaper one).
    row = tuple(getattr(record, column) for column in _columns(entity_type, codes))
    return _records_out([row], entity_type, codes)[0]


def record_update(call: Call, *, entity_type: str) -> bool:
    record = _readable_record(call, entity_type)
    try:
        with file_uploads() as uploads:
            values = _fields_in(
                entity_type, call.param("fields"), user=call.user, uploads=uploads, record=record
            )
            services.record_update(record=record, values=values, user=call.user)
    except ValidationError as error:
        raise refused(error) from None
    return True


def record_delete(call: Call, *, entity_type: str) -> bool:
    services.record_delete(record=_readable_record(call, entity_type), user=call.user)
    return True


def _filter_field(spec: FieldSpec, entity_type: str) -> FilterField:
    """How a filter reads a field: ids and user ids as integers, others by their converter."""
    if spec.custom is not None:
        return custom_filter_field(spec, spec.custom)
    if spec.kind == Kind.ID:
        return FilterField("id", _integer)
    if spec.kind in (Kind.USER, Kind.LINK):
        return FilterField(f"{spec.attr}_id", _integer)
    if spec.kind == Kind.DECIMAL:
        return FilterField(spec.attr, _decimal)

    def convert(raw: Any) -> Any:
        # Built per value: a select field's options are read from the database.
        field = dataclasses.replace(spec.field(RECORD_MODELS[entity_type]), required=False)
        try:
            return field.convert(raw)
        except FieldValueError as error:
            raise ValueError(error.message) from None

    return FilterField(spec.attr, convert, text=spec.type in (FieldType.STRING, FieldType.TEXT))


def _integer(raw: Any) -> int | None:
    text = str(raw).strip().removeprefix("user_")
    if text == "":
        return None
    value = bounded_int(text)
    if value is None:
        raise ValueError("The value is not an integer.")
    return value


def _decimal(raw: Any) -> Decimal | None:
    text = str(raw).strip().replace(",", ".")
    if text == "":
        return None
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise ValueError("The value is not a number.") from None
    if not value.is_finite():
        raise ValueError("The value is not a number.")
    return value


def _filter_fields(entity_type: str) -> dict[str, FilterField]:
    return {
        spec.code: _filter_field(spec, entity_type)
        for spec in specs_of(entity_type)
        if spec.kind not in (Kind.LINKS, Kind.MULTI)
    }


def _sortable(spec: FieldSpec) -> bool:
    return spec.custom is None or custom_sortable(spec.custom)


def record_list(call: Call, *, entity_type: str) -> Page:
    """``select``: ``*`` (the default) is the built-in fields but linked lists, ``UF_*`` every
    custom field."""
    if not permissions.can_on_type(call.user, entity_type, Action.READ):
        raise PermissionDenied
    specs = specs_of(entity_type)
    codes = selection(
        call.param("select"),
        known=[spec.code for spec in specs],
        default=[spec.code for spec in specs if not spec.multiple and spec.custom is None],
        groups={"UF_*": [spec.code for spec in specs if spec.custom is not None]},
    )
    fields = _filter_fields(entity_type)
    paths = {
        code: fields[code].path
        for code, spec in field_specs(entity_type).items()
        if code in fields and _sortable(spec)
    }
    queryset = (
        permissions.readable(call.user, entity_type)
        .filter(filter_q(call.param("filter"), fields))
        .order_by(*ordering(call.param("order"), paths, ["id"]))
    )
    queryset = queryset.values_list(*_columns(entity_type, codes))
    rows, total, following = page_of(queryset, start_of(call.param("start")))
    return Page(_records_out(rows, entity_type, codes), total, following)


def _register() -> None:
    actions = {
        "fields": record_fields,
        "add": record_add,
        "get": record_get,
        "list": record_list,
        "update": record_update,
        "delete": record_delete,
    }
    for name, entity_type in ENTITY_NAMES.items():
        for action, function in actions.items():
            method(f"crm.{name}.{action}")(functools.partial(function, entity_type=entity_type))


_register()
