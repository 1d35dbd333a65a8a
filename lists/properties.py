"""A list's element fields as the engine, the pages and REST see them: the built-in fields
Bitrix names (``NAME``, ``SORT`` …) and the list's properties (``PROPERTY_<CODE>``).

Typed values are the engine's (``bizproc.fieldtypes``): an ``L`` value is its option's external
code (``XML_ID``, the key Bitrix's templates use), an employee ``"user_<id>"``, a date a
``datetime.date``. Stored values (``Element.values``, keyed by the property's id) sort and
compare in the database as the type does: numbers as JSON numbers, dates and moments as ISO
text (moments in UTC), an option, a file, an element or an employee as its id, money as Bitrix
writes it (``"100.00|RUB"``).

A list's schema is read once per process and re-read when any list's fields change: a
generation in the cache (shared by every process when the cache is Redis) says when.
"""

import datetime
import json
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Func, Index, TextField
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bizproc.fieldtypes import Field, FieldType, FieldValueError, user_id_of
from bizproc.keyindexes import ObjectKey, key_indexes, key_indexes_sync
from lists.models import Element, ListField, PropertyType

PREFIX = "PROPERTY_"
CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{0,49}")
STRING_MAX_LENGTH = 10_000
VALUES_MAX = 100  # values of one multiple property
NUMBER_LIMIT = 10**15
ID_MAX = 2**63 - 1
ID_RE = re.compile(r"[0-9]{1,18}")
SORT_LIMIT = 2**31 - 1
TEXT_MAX_LENGTH = 100_000  # an element's preview and detail text

ENGINE_TYPES: dict[str, str] = {
    PropertyType.STRING: FieldType.STRING,
    PropertyType.NUMBER: FieldType.DOUBLE,
    PropertyType.LIST: FieldType.SELECT,
    PropertyType.FILE: FieldType.FILE,
    PropertyType.ELEMENT: FieldType.INT,
    PropertyType.DATE: FieldType.DATE,
    PropertyType.DATETIME: FieldType.DATETIME,
    PropertyType.EMPLOYEE: FieldType.USER,
    PropertyType.HTML: FieldType.TEXT,
    PropertyType.MONEY: FieldType.STRING,
    PropertyType.SEQUENCE: FieldType.INT,
}
# Bitrix's ``GetDocumentFields`` type of each property type (``TypeReal`` is the property's
# own), as its lists' document (``BizprocDocument::getDocumentFields``) gives them: a number is
# an ``int``, an employee a ``user``, HTML and money keep their user types.
BPT_TYPES: dict[str, str] = {
    PropertyType.STRING: "string",
    PropertyType.NUMBER: "int",
    PropertyType.LIST: "select",
    PropertyType.FILE: "file",
    PropertyType.ELEMENT: "E:EList",
    PropertyType.DATE: "date",
    PropertyType.DATETIME: "datetime",
    PropertyType.EMPLOYEE: "user",
    PropertyType.HTML: "S:HTML",
    PropertyType.MONEY: "S:Money",
    PropertyType.SEQUENCE: "N:Sequence",
}
# The base type Bitrix gives a type of its own (the others are their own base type).
BPT_BASE_TYPES: dict[str, str] = {
    "S:HTML": "string",
    "S:Money": "string",
    "E:EList": "int",
    "N:Sequence": "int",
}
# Types whose stored values order as the type does: a list may filter and sort on them.
SORTABLE = {
    PropertyType.STRING,
    PropertyType.NUMBER,
    PropertyType.LIST,
    PropertyType.ELEMENT,
    PropertyType.DATE,
    PropertyType.DATETIME,
    PropertyType.EMPLOYEE,
    PropertyType.SEQUENCE,
}
CURRENCIES = ("RUB", "USD", "EUR", "KZT", "BYN", "UAH")
_MONEY_RE = re.compile(r"\s*([+-]?\d{1,16}(?:[.,]\d+)?)\s*(?:\|\s*([A-Za-z]{3}))?\s*")

# The built-in fields of an element, as Bitrix names them: (code, caption, engine type,
# required, read-only, model attribute).
BUILTINS: tuple[tuple[str, Any, str, bool, bool, str], ...] = (
    ("ID", gettext_lazy("ID"), FieldType.INT, False, True, "pk"),
    ("IBLOCK_ID", gettext_lazy("List ID"), FieldType.INT, False, True, "list_id"),
    ("NAME", gettext_lazy("Name"), FieldType.STRING, True, False, "name"),
    ("CODE", gettext_lazy("Code"), FieldType.STRING, False, False, "code"),
    ("SORT", gettext_lazy("Sort"), FieldType.INT, False, False, "sort"),
    ("ACTIVE_FROM", gettext_lazy("Active from"), FieldType.DATETIME, False, False, "active_from"),
    ("ACTIVE_TO", gettext_lazy("Active to"), FieldType.DATETIME, False, False, "active_to"),
    ("PREVIEW_TEXT", gettext_lazy("Preview text"), FieldType.TEXT, False, False, "preview_text"),
    ("DETAIL_TEXT", gettext_lazy("Detail text"), FieldType.TEXT, False, False, "detail_text"),
    ("CREATED_BY", gettext_lazy("Created by"), FieldType.USER, False, True, "created_by_id"),
    (
        "DATE_CREATE",
        pgettext_lazy("date", "Created"),
        FieldType.DATETIME,
        False,
        True,
        "created_at",
    ),
    ("MODIFIED_BY", gettext_lazy("Modified by"), FieldType.USER, False, True, "modified_by_id"),
    ("TIMESTAMP_X", gettext_lazy("Modified"), FieldType.DATETIME, False, True, "modified_at"),
)
BUILTIN_ATTRS = {code: attr for code, _c, _t, _r, _ro, attr in BUILTINS}
NAME_MAX_LENGTH = 255
BUILTIN_MAX_LENGTHS = {
    "NAME": NAME_MAX_LENGTH,
    "CODE": 255,
    "PREVIEW_TEXT": TEXT_MAX_LENGTH,
    "DETAIL_TEXT": TEXT_MAX_LENGTH,
}


def code_of(raw: Any) -> str:
    """A property's code as Bitrix writes it: upper case, without the ``PROPERTY_`` prefix."""
    code = str(raw or "").strip().upper()
    return code.removeprefix(PREFIX)


@dataclass(frozen=True)
class Option:
    id: int
    value: str
    xml_id: str
    sort: int
    is_default: bool


@dataclass(frozen=True)
class Property:
    """A property's definition as the process holds it (read from ``ListField``)."""

    id: int
    list_id: int
    code: str
    name: str
    type: str
    multiple: bool
    required: bool
    sort: int
    show_in_list: bool
    filterable: bool
    default_value: Any = field(compare=False, hash=False)
    settings: Mapping[str, Any] = field(compare=False, hash=False)
    options: tuple[Option, ...] = ()

    @classmethod
    def of(cls, row: ListField) -> "Property":
        """The row's definition; a row not saved yet has no options."""
        options = row.options.all() if row.pk is not None else []
        return cls(
            id=row.pk,
            list_id=row.list_id,
            code=row.code,
            name=row.name,
            type=row.type,
            multiple=row.multiple,
            required=row.required,
            sort=row.sort,
            show_in_list=row.show_in_list,
            filterable=row.filterable,
            default_value=row.default,
            settings=dict(row.settings or {}),
            options=tuple(Option(o.pk, o.value, o.xml_id, o.sort, o.default) for o in options),
        )

    @property
    def engine_code(self) -> str:
        return PREFIX + self.code

    @property
    def rest_code(self) -> str:
        return f"{PREFIX}{self.id}"

    @property
    def key(self) -> str:
        """The key of its values in ``Element.values``."""
        return str(self.id)

    @property
    def engine_type(self) -> str:
        return ENGINE_TYPES[self.type]

    @property
    def read_only(self) -> bool:
        return self.type == PropertyType.SEQUENCE

    @property
    def sortable(self) -> bool:
        return self.type in SORTABLE and not self.multiple

    @property
    def in_add_form(self) -> bool:
        """Bitrix's ``SHOW_ADD_FORM``: whether a person fills it in when adding (a field that
        a process fills, such as a request's status, is not). A required one always shows."""
        return self.required or self.settings.get("SHOW_ADD_FORM", "Y") != "N"

    @property
    def in_edit_form(self) -> bool:
        """Bitrix's ``SHOW_EDIT_FORM``, likewise for an edit."""
        return self.required or self.settings.get("SHOW_EDIT_FORM", "Y") != "N"

    @property
    def link_list_id(self) -> int | None:
        raw = str(self.settings.get("LINK_IBLOCK_ID") or "")
        return int(raw) if ID_RE.fullmatch(raw) else None

    def engine_field(self) -> Field:
        return Field(
            code=self.engine_code,
            name=self.name,
            type=self.engine_type,
            required=self.required and not self.read_only,
            multiple=self.multiple,
            read_only=self.read_only,
            options={option.xml_id: option.value for option in self.options},
            max_length=STRING_MAX_LENGTH
            if self.engine_type in (FieldType.STRING, FieldType.TEXT)
            else None,
        )

    def option_by_id(self, option_id: Any) -> Option | None:
        return next((o for o in self.options if str(o.id) == str(option_id)), None)

    def option_by_xml_id(self, xml_id: Any) -> Option | None:
        return next((o for o in self.options if o.xml_id == str(xml_id)), None)

    def default(self) -> Any:
        """The typed value a new element gets when none is given (None: no default)."""
        if self.type == PropertyType.LIST:
            chosen = [option.xml_id for option in self.options if option.is_default]
            if not chosen:
                return None
            return chosen if self.multiple else chosen[0]
        if self.default_value in (None, "", []):
            return None
        return self.default_value

    # typed ↔ stored -------------------------------------------------------------------------

    def empty(self) -> Any:
        if self.multiple:
            return []
        return "" if self.engine_type in (FieldType.STRING, FieldType.TEXT) else None

    def typed(self, stored: Any) -> Any:
        if stored is None:
            return self.empty()
        if self.multiple:
            items = stored if isinstance(stored, list) else [stored]
            typed = [self._typed_one(item) for item in items if item is not None]
            return [item for item in typed if item is not None]
        if isinstance(stored, list):
            stored = stored[0] if stored else None
            if stored is None:
                return self.empty()
        typed = self._typed_one(stored)
        return self.empty() if typed is None else typed

    def _typed_one(self, stored: Any) -> Any:
        kind = self.type
        if kind == PropertyType.DATE:
            return datetime.date.fromisoformat(stored)
        if kind == PropertyType.DATETIME:
            return datetime.datetime.fromisoformat(stored)
        if kind == PropertyType.LIST:
            option = self.option_by_id(stored)
            return option.xml_id if option is not None else None
        if kind == PropertyType.EMPLOYEE:
            return f"user_{stored}"
        if kind == PropertyType.NUMBER:
            return float(stored)
        return stored

    def stored(self, typed: Any) -> Any:
        """The JSON value kept in ``Element.values`` (None: no value); raises
        ``FieldValueError``."""
        if self.multiple:
            items = [item for item in typed or [] if item not in (None, "")]
            if len(items) > VALUES_MAX:
                raise FieldValueError(
                    _("The field '%(name)s' takes at most %(max)d values.")
                    % {"name": self.name, "max": VALUES_MAX}
                )
            return [self._stored_one(item) for item in items] or None
        if typed is None or typed == "":
            return None
        return self._stored_one(typed)

    def incorrect(self) -> FieldValueError:
        return FieldValueError(
            _("The value of field '%(name)s' is incorrect.") % {"name": self.name}
        )

    def _stored_one(self, typed: Any) -> Any:
        kind = self.type
        if kind == PropertyType.DATE:
            return typed.isoformat()
        if kind == PropertyType.DATETIME:
            return typed.astimezone(datetime.UTC).isoformat(timespec="seconds")
        if kind == PropertyType.LIST:
            option = self.option_by_xml_id(typed)
            if option is None:
                raise self.incorrect()
            return option.id
        if kind == PropertyType.EMPLOYEE:
            return user_id_of(typed)
        if kind == PropertyType.NUMBER:
            if not -NUMBER_LIMIT <= typed <= NUMBER_LIMIT:
                raise self.incorrect()
            return int(typed) if float(typed).is_integer() else typed
        if kind == PropertyType.ELEMENT:
            if not isinstance(typed, int) or not 0 < typed <= ID_MAX:
                raise self.incorrect()
            return typed
        if kind == PropertyType.MONEY:
            return money_normalize(typed, name=self.name)
        return typed


def money_normalize(value: Any, *, name: str) -> str:
    """``"100,5"`` / ``"100.5|usd"`` as ``"100.50|USD"`` (roubles when no currency is given)."""
    match = _MONEY_RE.fullmatch(str(value))
    if match is not None:
        try:
            amount = Decimal(match[1].replace(",", ".")).quantize(Decimal("0.01"))
        except InvalidOperation:
            amount = None
        currency = (match[2] or CURRENCIES[0]).upper()
        if amount is not None and currency in CURRENCIES and abs(amount) < NUMBER_LIMIT:
            return f"{amount}|{currency}"
    raise FieldValueError(
        _("The value of field '%(name)s' is not an amount with a currency.") % {"name": name}
    )


# ---- a list's schema, cached per process ---------------------------------------------------

_GENERATION_KEY = "lists:schema-generation"
_RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Schema:
    """A list's properties, by engine code, id and REST code."""

    list_id: int
    properties: tuple[Property, ...]

    def by_code(self, code: str) -> Property | None:
        return next((p for p in self.properties if p.engine_code == code), None)

    def by_id(self, property_id: Any) -> Property | None:
        return next((p for p in self.properties if str(p.id) == str(property_id)), None)

    def engine_fields(self) -> list[Field]:
        builtins = [
            Field(
                code=code,
                name=str(caption),
                type=type_,
                required=required,
                read_only=ro,
                max_length=BUILTIN_MAX_LENGTHS.get(code),
            )
            for code, caption, type_, required, ro, _attr in BUILTINS
        ]
        return builtins + [p.engine_field() for p in self.properties]


_schemas: dict[int, Schema] = {}
_state: dict[str, Any] = {"generation": "", "checked": 0.0, "pending": False}


def _generation() -> str:
    value = cache.get(_GENERATION_KEY)
    if value is None:
        value = uuid.uuid4().hex
        cache.add(_GENERATION_KEY, value, None)
        value = cache.get(_GENERATION_KEY, value)
    return str(value)


def schema_of(list_id: int) -> Schema:
    """The list's properties as last saved (re-read at most a second after a change elsewhere,
    at once after a change in this process)."""
    now = time.monotonic()
    if now - _state["checked"] > _RECHECK_SECONDS:  # type: ignore[operator]
        generation = _generation()
        if generation != _state["generation"]:
            _schemas.clear()
            _state["generation"] = generation
        _state["checked"] = now
    if _state["pending"] and not connection.in_atomic_block:
        _state["pending"] = False  # the transaction that changed fields has ended
    found = _schemas.get(list_id)
    if found is None:
        rows = ListField.objects.filter(list_id=list_id).prefetch_related("options")
        found = Schema(list_id=list_id, properties=tuple(Property.of(row) for row in rows))
        if not _state["pending"]:
            _schemas[list_id] = found
    return found


def schemas_forget() -> None:
    """Called by every change of a property, inside its transaction: this process reads the
    schemas afresh and keeps none of what it reads until the transaction ends (it may roll
    back); once it commits, every process re-reads them."""
    _schemas.clear()
    _state["pending"] = True
    transaction.on_commit(_generation_bump)


def _generation_bump() -> None:
    cache.set(_GENERATION_KEY, uuid.uuid4().hex, None)
    schemas_clear()


def schemas_clear() -> None:
    """This process forgets the schemas it keeps (and reads them again on next use)."""
    _schemas.clear()
    _state["checked"] = 0.0
    _state["pending"] = False


# ---- reading an element ---------------------------------------------------------------------


def builtin_typed(element: Element, code: str) -> Any:
    value = getattr(element, BUILTIN_ATTRS[code])
    if code in ("CREATED_BY", "MODIFIED_BY"):
        return f"user_{value}" if value else None
    return value


def element_values(element: Element, schema: Schema | None = None) -> dict[str, Any]:
    """Every field's typed value by engine code."""
    schema = schema or schema_of(element.list_id)
    values: dict[str, Any] = {code: builtin_typed(element, code) for code in BUILTIN_ATTRS}
    stored = element.values or {}
    for prop in schema.properties:
        values[prop.engine_code] = prop.typed(stored.get(prop.key))
    return values


# ---- indexes for filterable properties -----------------------------------------------------


class ObjectKeyText(Func):
    """The key's value as text (a string property's text, for ``icontains``): not a
    ``KeyTransform``, whose text lookups rebuild a ``KeyTransform`` of their own."""

    output_field = TextField()

    def __init__(self, key: str, column: str) -> None:
        super().__init__(F(column))
        self.key = str(key)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        return f"JSON_EXTRACT({column}, %s)", (*params, "$." + json.dumps(self.key))

    def as_mysql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = self.as_sql(compiler, connection)
        return f"JSON_UNQUOTE({sql})", params

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column} ->> %s)", (*params, self.key)


def value_of(prop: "Property") -> ObjectKey:
    """The stored value of the property in ``Element.values``, for filters and ordering."""
    return ObjectKey(prop.key, "values")


def property_indexes(prop: "Property") -> list[Index]:
    """The property's two indexes, after the list (every query of a page names its list)."""
    return key_indexes(column="values", key=prop.key, name=f"lists_el_p{prop.id}", leading=["list"])


def index_sync(*, prop: Property, drop: bool = False) -> None:
    """Creates the expression indexes a list filtered and sorted on the property reads from,
    and drops them when it is no longer filterable (or when ``drop``)."""
    key_indexes_sync(
        model=Element,
        indexes=property_indexes(prop),
        wanted=prop.filterable and prop.sortable and not drop,
    )
