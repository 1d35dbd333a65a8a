"""The fields of each entity type under their Bitrix codes, and their mapping to model columns.

One table serves the document provider, the services, the forms and REST: a field's code,
caption, business-process type, flags and how its typed value is stored on the model.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from bizproc.fieldtypes import Field, FieldType, FieldValueError, user_id_of
from crm.custom_fields import CustomField, custom_specs
from crm.models import RECORD_MODELS, Currency, EntityType, Record, Status, StatusList


class Kind:
    """How a typed value is stored on the model."""

    PLAIN = "plain"  # the column holds the value as it is
    DECIMAL = "decimal"  # float ↔ Decimal
    USER = "user"  # "user_5" ↔ <attr>_id
    LINK = "link"  # record id ↔ <attr>_id
    LINKS = "links"  # [record ids] ↔ many-to-many
    MULTI = "multi"  # [strings] ↔ [{"VALUE": …, "VALUE_TYPE": "WORK"}]
    ID = "id"
    CUSTOM = "custom"  # a custom field's value in ``Record.uf`` (``crm.custom_fields``)


@dataclass(frozen=True)
class FieldSpec:
    code: str
    attr: str
    type: str
    caption: Promise
    kind: str = Kind.PLAIN
    required: bool = False
    read_only: bool = False
    multiple: bool = False
    options: Callable[[], dict[str, str]] | None = None
    link_to: str | None = None  # the entity type a LINK/LINKS field points at
    bounds: tuple[int, int] | None = None  # for integers, when tighter than the column's
    custom: CustomField | None = dataclass_field(default=None, compare=False, hash=False)

    def field(self, model: type[Record]) -> Field:
        max_length = None
        if self.custom is not None:
            max_length = self.custom.max_length()
        elif self.kind == Kind.PLAIN and self.type in (FieldType.STRING, FieldType.TEXT):
            max_length = getattr(model._meta.get_field(self.attr), "max_length", None)
        return Field(
            code=self.code,
            name=str(self.caption),
            type=self.type,
            required=self.required,
            multiple=self.multiple,
            read_only=self.read_only,
            options=LazyOptions(self.options) if self.options else {},
            max_length=max_length,
        )

    def read(self, record: Record) -> Any:
        if self.custom is not None:
            return self.custom.typed(record.uf.get(self.code))
        value = getattr(record, self.attr + ("_id" if self.kind in (Kind.USER, Kind.LINK) else ""))
        if self.kind == Kind.USER:
            return f"user_{value}" if value else None
        if self.kind == Kind.DECIMAL:
            return float(value) if value is not None else None
        if self.kind == Kind.LINKS:
            return sorted(value.values_list("pk", flat=True)) if record.pk else []
        if self.kind == Kind.MULTI:
            return [item.get("VALUE", "") for item in value]
        if self.type == FieldType.STRING and value is None:
            return ""
        return value

    def normalize(self, value: Any) -> Any:
        """A converted value in the form ``read`` gives, so that comparing them finds changes."""
        if self.custom is not None:
            return self.custom.normalize(value)
        if self.kind == Kind.DECIMAL:
            decimal = self.to_model(value)
            return float(decimal) if decimal is not None else None
        if self.kind == Kind.LINKS:
            return sorted(set(value or []))
        if value is None and self.type in _BLANK_TYPES:
            return ""
        return value

    def to_model(self, value: Any) -> Any:
        """The column value for a typed value (already converted by ``Field.convert``); for a
        custom field, the value kept under its code in ``Record.uf`` (None: none)."""
        if self.custom is not None:
            return self.custom.stored(value)
        if self.kind == Kind.USER:
            return user_id_of(value)
        if self.kind == Kind.DECIMAL:
            if value is None:
                return None
            try:
                result = Decimal(str(value)).quantize(Decimal("0.01"))
            except InvalidOperation:
                result = None
            if result is None or abs(result) >= Decimal(10) ** 16:
                raise self._incorrect()
            return result
        if self.kind in (Kind.LINK, Kind.LINKS):
            ids = value if isinstance(value, list) else [value]
            if any(item is not None and not 1 <= item <= _MAX_ID for item in ids):
                raise self._incorrect()
            return value
        if self.kind == Kind.MULTI:
            return [{"VALUE": item, "VALUE_TYPE": "WORK"} for item in value]
        if self.kind == Kind.PLAIN and self.type == FieldType.INT and value is not None:
            low, high = self.bounds or _column_range(self.attr, self.code)
            if not low <= value <= high:
                raise self._incorrect()
        if value is None and self.type in _BLANK_TYPES:
            return ""
        return value

    def _incorrect(self) -> FieldValueError:
        return FieldValueError(
            _("The value of field '%(name)s' is incorrect.") % {"name": self.caption}
        )


_BLANK_TYPES = (FieldType.STRING, FieldType.TEXT, FieldType.SELECT)
_MAX_ID = 2**63 - 1


def _column_range(attr: str, code: str) -> tuple[int, int]:
    model = next(
        model
        for entity_type, model in RECORD_MODELS.items()
        if any(spec.code == code and spec.attr == attr for spec in BUILTIN_SPECS[entity_type])
    )
    internal_type = model._meta.get_field(attr).get_internal_type()
    low, high = connection.ops.integer_field_range(internal_type)
    return (low if low is not None else -_MAX_ID - 1, high if high is not None else _MAX_ID)


class LazyOptions(Mapping[str, str]):
    """A select field's options, read when first asked for: most who take a record's fields
    (an edit's validation, a dialog's list of values to insert) never look at them."""

    def __init__(self, load: Callable[[], dict[str, str]]) -> None:
        self._load = load
        self._options: dict[str, str] | None = None

    @property
    def _loaded(self) -> dict[str, str]:
        if self._options is None:
            self._options = self._load()
        return self._options

    def __getitem__(self, key: str) -> str:
        return self._loaded[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded)

    def __len__(self) -> int:
        return len(self._loaded)


def status_options(status_list: str) -> Callable[[], dict[str, str]]:
    def options() -> dict[str, str]:
        rows = Status.objects.filter(list=status_list).values_list("code", "name")
        return {code: gettext(name) for code, name in rows}

    return options


def currency_options() -> dict[str, str]:
    return {str(value): str(label) for value, label in Currency.choices}


def _common_head() -> list[FieldSpec]:
    return [FieldSpec("ID", "pk", FieldType.INT, _("ID"), kind=Kind.ID, read_only=True)]


def _common_tail() -> list[FieldSpec]:
    return [
        FieldSpec("COMMENTS", "comments", FieldType.TEXT, _("Comment")),
        FieldSpec(
            "ASSIGNED_BY_ID", "assigned_by", FieldType.USER, _("Responsible"), Kind.USER, True
        ),
        FieldSpec(
            "CREATED_BY_ID",
            "created_by",
            FieldType.USER,
            _("Created by"),
            Kind.USER,
            read_only=True,
        ),
        FieldSpec(
            "MODIFY_BY_ID",
            "modified_by",
            FieldType.USER,
            _("Modified by"),
            Kind.USER,
            read_only=True,
        ),
        FieldSpec(
            "DATE_CREATE",
            "created_at",
            FieldType.DATETIME,
            pgettext_lazy("date", "Created"),
            read_only=True,
        ),
        FieldSpec("DATE_MODIFY", "modified_at", FieldType.DATETIME, _("Modified"), read_only=True),
    ]


def _contacts_points() -> list[FieldSpec]:
    return [
        FieldSpec("PHONE", "phone", FieldType.STRING, _("Phone"), Kind.MULTI, multiple=True),
        FieldSpec("EMAIL", "email", FieldType.STRING, _("Email"), Kind.MULTI, multiple=True),
    ]


def _money(amount_attr: str, amount_code: str, caption: Promise) -> list[FieldSpec]:
    return [
        FieldSpec(amount_code, amount_attr, FieldType.DOUBLE, caption, Kind.DECIMAL),
        FieldSpec(
            "CURRENCY_ID", "currency", FieldType.SELECT, _("Currency"), options=currency_options
        ),
    ]


SOURCE = FieldSpec(
    "SOURCE_ID", "source", FieldType.SELECT, _("Source"), options=status_options(StatusList.SOURCE)
)

BUILTIN_SPECS: dict[str, list[FieldSpec]] = {
    EntityType.DEAL: [
        *_common_head(),
        FieldSpec("TITLE", "title", FieldType.STRING, _("Deal name"), required=True),
        FieldSpec(
            "STAGE_ID",
            "stage",
            FieldType.SELECT,
            _("Stage"),
            required=True,
            options=status_options(StatusList.DEAL_STAGE),
        ),
        FieldSpec(
            "PROBABILITY", "probability", FieldType.INT, _("Probability, %"), bounds=(0, 100)
        ),
        *_money("opportunity", "OPPORTUNITY", _("Amount")),
        FieldSpec(
            "COMPANY_ID", "company", FieldType.INT, _("Company"), Kind.LINK, link_to="COMPANY"
        ),
        FieldSpec(
            "CONTACT_ID", "contact", FieldType.INT, _("Contact"), Kind.LINK, link_to="CONTACT"
        ),
        FieldSpec(
            "CONTACT_IDS",
            "contacts",
            FieldType.INT,
            _("Contacts"),
            Kind.LINKS,
            multiple=True,
            link_to="CONTACT",
        ),
        FieldSpec("BEGINDATE", "begin_date", FieldType.DATE, _("Start date")),
        FieldSpec("CLOSEDATE", "close_date", FieldType.DATE, _("Close date")),
        SOURCE,
        *_common_tail(),
    ],
    EntityType.LEAD: [
        *_common_head(),
        FieldSpec("TITLE", "title", FieldType.STRING, _("Lead name"), required=True),
        FieldSpec("NAME", "name", FieldType.STRING, _("First name")),
        FieldSpec("LAST_NAME", "last_name", FieldType.STRING, _("Last name")),
        FieldSpec("COMPANY_TITLE", "company_title", FieldType.STRING, _("Company name")),
        FieldSpec(
            "STATUS_ID",
            "status",
            FieldType.SELECT,
            pgettext_lazy("lead", "Status"),
            required=True,
            options=status_options(StatusList.LEAD_STATUS),
        ),
        SOURCE,
        *_money("opportunity", "OPPORTUNITY", _("Amount")),
        *_contacts_points(),
        *_common_tail(),
    ],
    EntityType.CONTACT: [
        *_common_head(),
        FieldSpec("NAME", "name", FieldType.STRING, _("First name")),
        FieldSpec("LAST_NAME", "last_name", FieldType.STRING, _("Last name")),
        FieldSpec("POST", "post", FieldType.STRING, _("Position")),
        FieldSpec(
            "COMPANY_ID", "company", FieldType.INT, _("Company"), Kind.LINK, link_to="COMPANY"
        ),
        *_contacts_points(),
        SOURCE,
        *_common_tail(),
    ],
    EntityType.COMPANY: [
        *_common_head(),
        FieldSpec("TITLE", "title", FieldType.STRING, _("Company name"), required=True),
        FieldSpec(
            "COMPANY_TYPE",
            "company_type",
            FieldType.SELECT,
            _("Company type"),
            options=status_options(StatusList.COMPANY_TYPE),
        ),
        FieldSpec(
            "INDUSTRY",
            "industry",
            FieldType.SELECT,
            _("Industry"),
            options=status_options(StatusList.INDUSTRY),
        ),
        *_money("revenue", "REVENUE", _("Annual revenue")),
        *_contacts_points(),
        *_common_tail(),
    ],
}


def specs_of(entity_type: str) -> list[FieldSpec]:
    """The entity type's fields: the built-in ones, then its custom fields in their order."""
    return BUILTIN_SPECS[entity_type] + custom_specs(entity_type)


def field_specs(entity_type: str) -> dict[str, FieldSpec]:
    return {spec.code: spec for spec in specs_of(entity_type)}


def fields_of(entity_type: str) -> list[Field]:
    model = RECORD_MODELS[entity_type]
    return [spec.field(model) for spec in specs_of(entity_type)]


def record_values(record: Record) -> dict[str, Any]:
    """Every field's typed value, by code."""
    return {spec.code: spec.read(record) for spec in specs_of(record.entity_type)}


class LazyRecordValues(Mapping[str, Any]):
    """A record's values by code, each read when first asked for (linked lists cost a query)."""

    def __init__(self, record: Record) -> None:
        self._record = record
        self._specs = field_specs(record.entity_type)
        self._values: dict[str, Any] = {}

    @property
    def record(self) -> Record:
        """The record the values are read from, as it was loaded."""
        return self._record

    def __getitem__(self, code: str) -> Any:
        if code not in self._values:
            self._values[code] = self._specs[code].read(self._record)
        return self._values[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)
