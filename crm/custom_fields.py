"""Custom fields (Bitrix's ``UF_CRM_…``): their types, how their values are stored, and the
field table rows (``crm.fields.FieldSpec``) that make them go wherever a built-in field goes.

Values live in one JSON column per record (``Record.uf``), keyed by field code, in a form that
sorts and compares in the database as the type does: integers and numbers as JSON numbers,
dates and moments as ISO text (moments in UTC), an enumeration as its option's id, an employee
as the user's id, money as Bitrix writes it (``"100.00|RUB"``), a CRM link as Bitrix writes it
(``"17"`` for a field of one entity type, ``"D_17"`` for one of several), a file as the id of a
``StoredFile``. A filterable field gets an expression index on its key (``index_sync``), so
a list filtered and sorted on it reads from the index like one on a built-in column.

The definitions are read once per process and re-read when a definition changes: a
generation in the cache (shared by every process when the cache is Redis) says when.
"""

import datetime
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Index
from django.utils.functional import Promise, lazy
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from bizproc.fieldtypes import FieldType, FieldValueError, user_id_of
from bizproc.keyindexes import key_indexes, key_indexes_sync
from crm.models import RECORD_MODELS, Currency, EntityType, Record, UserField, UserFieldType

if TYPE_CHECKING:
    from crm.fields import FieldSpec

PREFIX = "UF_CRM_"
CODE_MAX_LENGTH = 50
CODE_RE = re.compile(r"UF_CRM_[A-Z0-9_]{1,43}")
STRING_MAX_LENGTH = 10_000
URL_MAX_LENGTH = 2_000
INT_LIMIT = 2**63 - 1
VALUES_MAX = 100  # values of one multiple field
LABEL_PLACES = ("form", "column", "filter")

ENGINE_TYPES: dict[str, str] = {
    UserFieldType.STRING: FieldType.STRING,
    UserFieldType.INTEGER: FieldType.INT,
    UserFieldType.DOUBLE: FieldType.DOUBLE,
    UserFieldType.BOOLEAN: FieldType.BOOL,
    UserFieldType.DATE: FieldType.DATE,
    UserFieldType.DATETIME: FieldType.DATETIME,
    UserFieldType.ENUMERATION: FieldType.SELECT,
    UserFieldType.EMPLOYEE: FieldType.USER,
    UserFieldType.MONEY: FieldType.STRING,
    UserFieldType.URL: FieldType.STRING,
    UserFieldType.CRM: FieldType.STRING,
    UserFieldType.FILE: FieldType.FILE,
}
# The types a list may filter and sort on: their stored values order as the type does.
FILTERABLE = {
    UserFieldType.STRING,
    UserFieldType.INTEGER,
    UserFieldType.DOUBLE,
    UserFieldType.BOOLEAN,
    UserFieldType.DATE,
    UserFieldType.DATETIME,
    UserFieldType.ENUMERATION,
    UserFieldType.EMPLOYEE,
    UserFieldType.URL,
    UserFieldType.CRM,
}
# Bitrix's short prefixes of a CRM link to one of several entity types (``D_17``).
CRM_PREFIXES = {
    EntityType.LEAD: "L",
    EntityType.CONTACT: "C",
    EntityType.COMPANY: "CO",
    EntityType.DEAL: "D",
}
_CRM_PREFIXED_RE = re.compile(r"(L|C|CO|D)_(\d{1,18})")
_MONEY_RE = re.compile(r"\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:\|\s*([A-Za-z]{3}))?\s*")


def code_of(raw: str) -> str:
    """Bitrix's form of a field code: upper case, ``UF_CRM_`` added when missing."""
    code = str(raw).strip().upper()
    return code if code.startswith(PREFIX) else PREFIX + code


@dataclass(frozen=True)
class Option:
    id: int
    value: str
    sort: int
    is_default: bool
    xml_id: str


@dataclass(frozen=True)
class CustomField:
    """A custom field's definition as the process holds it (read from ``UserField``)."""

    id: int
    entity_type: str
    code: str
    type: str
    multiple: bool
    mandatory: bool
    sort: int
    show_in_list: bool
    show_filter: bool
    labels: Mapping[str, Mapping[str, str]] = field(compare=False, hash=False)
    settings: Mapping[str, Any] = field(compare=False, hash=False)
    options: tuple[Option, ...] = ()

    @classmethod
    def of(cls, row: UserField, *, options: tuple[Option, ...] | None = None) -> "CustomField":
        """``options``: instead of the row's saved ones (a definition about to be saved)."""
        if options is None:
            options = tuple(
                Option(item.pk, item.value, item.sort, item.is_default, item.xml_id)
                for item in row.items.all()
            )
        return cls(
            id=row.pk,
            entity_type=row.entity_type,
            code=row.code,
            type=row.type,
            multiple=row.multiple,
            mandatory=row.mandatory,
            sort=row.sort,
            show_in_list=row.show_in_list,
            show_filter=row.show_filter,
            labels=row.labels or {},
            settings=row.settings or {},
            options=options,
        )

    def label(self, place: str = "form") -> str:
        """The caption for ``place`` in the active language, falling back to the form's
        caption, then to another language, then to the code."""
        active = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
        for language in (active, settings.LANGUAGE_CODE.split("-")[0]):
            for where in (place, "form", *LABEL_PLACES):
                text = (self.labels.get(where) or {}).get(language)
                if text:
                    return str(text)
        for texts in self.labels.values():
            for text in (texts or {}).values():
                if text:
                    return str(text)
        return self.code

    @property
    def engine_type(self) -> str:
        return ENGINE_TYPES[self.type]

    @property
    def filterable(self) -> bool:
        return self.type in FILTERABLE

    def option_names(self) -> dict[str, str]:
        return {str(option.id): option.value for option in self.options}

    def crm_types(self) -> list[str]:
        """The entity types a CRM link may point at (``SETTINGS``: ``{"DEAL": "Y", …}``)."""
        chosen = [
            entity_type
            for entity_type in CRM_PREFIXES
            if str(self.settings.get(entity_type, "")).upper() == "Y"
        ]
        return chosen or [EntityType.DEAL]

    def crm_link(self, value: str) -> tuple[str, int] | None:
        """The (entity type, id) a CRM link value names, or None when it names none."""
        types = self.crm_types()
        text = str(value).strip()
        if len(types) == 1 and text.isascii() and text.isdigit() and len(text) <= 18:
            return types[0], int(text)
        match = _CRM_PREFIXED_RE.fullmatch(text.upper())
        if match is None:
            return None
        entity_type = next(key for key, prefix in CRM_PREFIXES.items() if prefix == match[1])
        return (entity_type, int(match[2])) if entity_type in types else None

    def default(self) -> Any:
        """The value a new record gets when none is given (None: no default)."""
        if self.type == UserFieldType.ENUMERATION:
            chosen = [str(option.id) for option in self.options if option.is_default]
            if not chosen:
                return None
            return chosen if self.multiple else chosen[0]
        value = self.settings.get("DEFAULT_VALUE")
        if value in (None, "", []):
            return None
        if self.type == UserFieldType.BOOLEAN:
            return bool(int(value)) if str(value).isdigit() else value
        return value

    # typed ↔ stored -------------------------------------------------------------------------

    def empty(self) -> Any:
        """The typed value of a field without a value, as ``crm.fields.FieldSpec.read`` gives
        it for a built-in field of the same type."""
        if self.multiple:
            return []
        return "" if self.engine_type in (FieldType.STRING, FieldType.SELECT) else None

    def typed(self, stored: Any) -> Any:
        if stored is None:
            return self.empty()
        if self.multiple:
            items = stored if isinstance(stored, list) else [stored]
            return [self._typed_one(item) for item in items if item is not None]
        if isinstance(stored, list):
            stored = stored[0] if stored else None
            if stored is None:
                return self.empty()
        return self._typed_one(stored)

    def _typed_one(self, stored: Any) -> Any:
        kind = self.type
        if kind == UserFieldType.DATE:
            return datetime.date.fromisoformat(stored)
        if kind == UserFieldType.DATETIME:
            return datetime.datetime.fromisoformat(stored)
        if kind == UserFieldType.ENUMERATION:
            return str(stored)
        if kind == UserFieldType.EMPLOYEE:
            return f"user_{stored}"
        if kind == UserFieldType.BOOLEAN:
            return bool(stored)
        if kind == UserFieldType.DOUBLE:
            return float(stored)
        return stored

    def normalize(self, typed: Any) -> Any:
        """A converted value in the form ``typed`` gives back (money written one way)."""
        if self.multiple:
            return [self._normalize_one(item) for item in typed or []]
        if typed is None or typed == "":
            return self.empty()
        return self._normalize_one(typed)

    def _normalize_one(self, typed: Any) -> Any:
        if self.type == UserFieldType.MONEY:
            match = _MONEY_RE.fullmatch(str(typed))
            if match is not None:
                try:
                    amount = Decimal(match[1].replace(",", ".")).quantize(Decimal("0.01"))
                except InvalidOperation:
                    return typed
                currency = (match[2] or self.settings.get("CURRENCY") or Currency.RUB).upper()
                return f"{amount}|{currency}"
        if self.type == UserFieldType.CRM:
            return str(typed).strip().upper()
        return typed

    def stored(self, typed: Any) -> Any:
        """The JSON value kept in ``Record.uf`` (None: no value); raises ``FieldValueError``."""
        if self.multiple:
            items = [item for item in typed or [] if item not in (None, "")]
            if len(items) > VALUES_MAX:
                raise FieldValueError(
                    _("The field '%(name)s' takes at most %(max)d values.")
                    % {"name": self.label(), "max": VALUES_MAX}
                )
            return [self._stored_one(item) for item in items] or None
        if typed is None or typed == "":
            return None
        return self._stored_one(typed)

    def _incorrect(self) -> FieldValueError:
        return FieldValueError(
            _("The value of field '%(name)s' is incorrect.") % {"name": self.label()}
        )

    def _stored_one(self, typed: Any) -> Any:
        kind = self.type
        if kind == UserFieldType.DATE:
            return typed.isoformat()
        if kind == UserFieldType.DATETIME:
            return typed.astimezone(datetime.UTC).isoformat(timespec="seconds")
        if kind == UserFieldType.ENUMERATION:
            return int(typed)
        if kind == UserFieldType.EMPLOYEE:
            return user_id_of(typed)
        if kind == UserFieldType.INTEGER:
            if not -INT_LIMIT <= typed <= INT_LIMIT:
                raise self._incorrect()
            return typed
        if kind == UserFieldType.MONEY:
            match = re.fullmatch(r"(-?\d{1,16}\.\d{2})\|([A-Z]{3})", str(typed))
            if match is None or match[2] not in Currency.values:
                raise FieldValueError(
                    _("The value of field '%(name)s' is not an amount with a currency.")
                    % {"name": self.label()}
                )
            return typed
        if kind == UserFieldType.URL:
            try:
                URLValidator(schemes=["http", "https", "ftp", "ftps"])(typed)
            except ValidationError:
                raise FieldValueError(
                    _("The value of field '%(name)s' is not a web address.")
                    % {"name": self.label()}
                ) from None
            return typed
        if kind == UserFieldType.CRM:
            link = self.crm_link(typed)
            if link is None:
                raise self._incorrect()
            return typed
        return typed

    def max_length(self) -> int | None:
        if self.type == UserFieldType.STRING:
            return STRING_MAX_LENGTH
        if self.type == UserFieldType.URL:
            return URL_MAX_LENGTH
        return None


def _label_of(definition: CustomField, place: str) -> str:
    return definition.label(place)


# Made once: ``lazy`` builds a proxy class per call, which a list page would pay per column.
_lazy_label = lazy(_label_of, str)


def caption_of(definition: CustomField, place: str = "form") -> Promise:
    """The caption as a lazy text: read in the language active where it is shown."""
    return _lazy_label(definition, place)


# The definitions per entity type --------------------------------------------------------------

GENERATION_KEY = "crm:userfields:generation"
# A process asks the cache whether definitions changed at most this often (seconds): a page
# reads the field table many times, and asking Redis each time would cost a round trip each.
RECHECK_SECONDS = 1.0

_held: dict[str, tuple[str, list["FieldSpec"]]] = {}
_checked: dict[str, float] = {}


def _generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        fresh = uuid.uuid4().hex
        generation = fresh if cache.add(GENERATION_KEY, fresh, None) else cache.get(GENERATION_KEY)
    return str(generation)


def custom_specs(entity_type: str) -> list["FieldSpec"]:
    """The field table rows of the entity type's custom fields, in their sort order."""
    now = time.monotonic()
    held = _held.get(entity_type)
    if held is not None and now - _checked.get(entity_type, 0.0) < RECHECK_SECONDS:
        return held[1]
    generation = _generation()
    _checked[entity_type] = now
    if held is not None and held[0] == generation:
        return held[1]
    specs = [spec_of(definition) for definition in definitions(entity_type)]
    _held[entity_type] = (generation, specs)
    return specs


def definitions(entity_type: str) -> list[CustomField]:
    rows = UserField.objects.filter(entity_type=entity_type).prefetch_related("items")
    return [CustomField.of(row) for row in rows.order_by("sort", "pk")]


def definitions_forget() -> None:
    """Every process re-reads the definitions (after a change of one, or of the database)."""
    cache.delete(GENERATION_KEY)
    _held.clear()
    _checked.clear()


def spec_of(definition: CustomField) -> "FieldSpec":
    from crm.fields import FieldSpec, Kind

    options: Callable[[], dict[str, str]] | None = None
    if definition.type == UserFieldType.ENUMERATION:
        options = definition.option_names
    return FieldSpec(
        code=definition.code,
        attr="uf",
        type=definition.engine_type,
        caption=caption_of(definition),
        kind=Kind.CUSTOM,
        required=definition.mandatory,
        multiple=definition.multiple,
        options=options,
        link_to=None,
        custom=definition,
    )


# Indexes --------------------------------------------------------------------------------------


def index_name(definition: CustomField) -> str:
    return f"crm_{definition.entity_type.lower()}_uf{definition.id}"


def _indexes(definition: CustomField) -> list[Index]:
    return key_indexes(column="uf", key=definition.code, name=index_name(definition))


def index_sync(*, definition: CustomField, drop: bool = False) -> None:
    """Creates the expression indexes on the field's key when the list may filter and sort
    on it, and drops them when not (or when ``drop``)."""
    wanted = not drop and definition.show_filter and definition.filterable
    key_indexes_sync(
        model=RECORD_MODELS[definition.entity_type], indexes=_indexes(definition), wanted=wanted
    )


def values_count(*, definition: CustomField) -> int:
    """How many records hold a value of the field."""
    model: type[Record] = RECORD_MODELS[definition.entity_type]
    return model.objects.filter(uf__has_key=definition.code).count()
