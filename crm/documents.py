"""The CRM as a document provider for the engine (``bizproc.documents.DocumentProvider``)."""

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from bizproc.compiled import CompiledQuery
from bizproc.documents import (
    DocumentError,
    DocumentProvider,
    DocumentType,
    FieldsImport,
    Operation,
    described_fields,
)
from bizproc.fieldtypes import Field
from bizproc.schemas import flag
from crm import custom_fields, permissions, services
from crm.custom_fields import CustomField
from crm.fields import LazyRecordValues, field_specs, fields_of
from crm.files import record_file_ids
from crm.models import (
    RECORD_MODELS,
    Action,
    EntityType,
    Level,
    Record,
    StoredFile,
    UserField,
    UserFieldType,
)

DOCUMENT_TYPES: dict[str, DocumentType] = {
    EntityType.LEAD: DocumentType("crm", "CCrmDocumentLead", "LEAD"),
    EntityType.CONTACT: DocumentType("crm", "CCrmDocumentContact", "CONTACT"),
    EntityType.COMPANY: DocumentType("crm", "CCrmDocumentCompany", "COMPANY"),
    EntityType.DEAL: DocumentType("crm", "CCrmDocumentDeal", "DEAL"),
}

CAPTIONS = {
    EntityType.LEAD: (gettext_lazy("Lead"), gettext_lazy("Leads")),
    EntityType.CONTACT: (gettext_lazy("Contact"), gettext_lazy("Contacts")),
    EntityType.COMPANY: (gettext_lazy("Company"), gettext_lazy("Companies")),
    EntityType.DEAL: (gettext_lazy("Deal"), gettext_lazy("Deals")),
}

# Bitrix's ``GetDocumentFields`` types of custom fields (``CCrmUserType::AddBPFields``): the
# engine's own type where it has one, ``UF:<USER_TYPE_ID>`` where the field's type says more.
BPT_TYPES = {
    UserFieldType.STRING: "string",
    UserFieldType.INTEGER: "int",
    UserFieldType.DOUBLE: "double",
    UserFieldType.BOOLEAN: "UF:boolean",
    UserFieldType.DATE: "UF:date",
    UserFieldType.DATETIME: "datetime",
    UserFieldType.ENUMERATION: "select",
    UserFieldType.EMPLOYEE: "user",
    UserFieldType.MONEY: "UF:money",
    UserFieldType.URL: "UF:url",
    UserFieldType.CRM: "UF:crm",
    UserFieldType.FILE: "file",
}

_ID_RE = re.compile(r"(?:([A-Za-z]+)_)?(\d{1,18})")

# Bitrix's document field types and the custom field type each becomes when a ``.bpt`` file's
# ``DOCUMENT_FIELDS`` describes a ``UF_CRM_…`` field the CRM lacks (``CCrmDocument::
# AddDocumentField``); other types are not created.
IMPORT_TYPES = {
    "string": UserFieldType.STRING,
    "text": UserFieldType.STRING,
    "int": UserFieldType.INTEGER,
    "double": UserFieldType.DOUBLE,
    "bool": UserFieldType.BOOLEAN,
    "UF:boolean": UserFieldType.BOOLEAN,
    "date": UserFieldType.DATE,
    "UF:date": UserFieldType.DATE,
    "datetime": UserFieldType.DATETIME,
    "select": UserFieldType.ENUMERATION,
    "user": UserFieldType.EMPLOYEE,
    "UF:money": UserFieldType.MONEY,
    "UF:url": UserFieldType.URL,
    "UF:crm": UserFieldType.CRM,
    "file": UserFieldType.FILE,
}

_OPERATION_ACTIONS = {
    Operation.READ: Action.READ,
    Operation.WRITE: Action.UPDATE,
    Operation.START_PROCESS: Action.START_PROCESSES,
    Operation.DESIGN: Action.DESIGN_AUTOMATION,
}


def entity_type_of(document_type: DocumentType) -> str:
    for entity_type, known in DOCUMENT_TYPES.items():
        if known == tuple(document_type):
            return entity_type
    raise DocumentError(_("Incorrect document type!"))


def parse_document_id(document_id: str) -> tuple[str, int]:
    match = _ID_RE.fullmatch(str(document_id).strip())
    if not match or not match[1] or match[1].upper() not in DOCUMENT_TYPES:
        raise DocumentError(_("Wrong DOCUMENT_ID!"))
    return match[1].upper(), int(match[2])


# Every process start and REST call on a record reads it by id: compiled once (bizproc.compiled).
_RECORD_BY_PK: dict[str, CompiledQuery[Record]] = {
    entity_type: CompiledQuery(
        lambda pk, model=model: model.objects.filter(pk=pk), pk=-(2**62) + 7919
    )
    for entity_type, model in RECORD_MODELS.items()
}
MAX_RECORD_ID = 2**63 - 1


class CrmDocumentProvider(DocumentProvider):
    module = "crm"

    def document_types(self) -> Sequence[DocumentType]:
        return list(DOCUMENT_TYPES.values())

    def caption(self, document_type: DocumentType, *, plural: bool = False) -> str:
        singular, plural_caption = CAPTIONS[entity_type_of(document_type)]
        return str(plural_caption if plural else singular)

    def normalize_id(self, raw: Any, *, document_type: DocumentType | None = None) -> str:
        match = _ID_RE.fullmatch(str(raw).strip()) if raw is not None else None
        if not match:
            raise DocumentError(_("Wrong DOCUMENT_ID!"))
        prefix = match[1].upper() if match[1] else None
        if prefix is None:
            if document_type is None:
                raise DocumentError(_("Wrong DOCUMENT_ID!"))
            prefix = entity_type_of(document_type)
        if prefix not in DOCUMENT_TYPES:
            raise DocumentError(_("Wrong DOCUMENT_ID!"))
        if document_type is not None and prefix != entity_type_of(document_type):
            raise DocumentError(_("Incorrect document type!"))
        return f"{prefix}_{int(match[2])}"

    def document_type_of(self, document_id: str) -> DocumentType:
        return DOCUMENT_TYPES[parse_document_id(document_id)[0]]

    def fields(self, document_type: DocumentType) -> Sequence[Field]:
        return fields_of(entity_type_of(document_type))

    def _record(self, document_id: str) -> Record:
        entity_type, pk = parse_document_id(document_id)
        record = _RECORD_BY_PK[entity_type].first(pk=pk) if pk <= MAX_RECORD_ID else None
        if record is None:
            raise DocumentError(_("Cannot find item with this ID."))
        return record

    def read(self, document_id: str) -> Mapping[str, Any]:
        return LazyRecordValues(self._record(document_id))

    def write(
        self,
        document_id: str,
        values: Mapping[str, Any],
        *,
        user_id: int | None,
        current: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        """A process's write: system rights; ``user_id`` is whom the change is attributed to.
        The update saves against the record ``current`` was read from while the row is still at
        its version, else reads (and locks) the row itself; it leaves the saved values in
        ``record``."""
        entity_type, pk = parse_document_id(document_id)
        model = RECORD_MODELS[entity_type]
        record = model(pk=pk)
        held = current.record if isinstance(current, LazyRecordValues) else None
        if held is not None and (type(held) is not model or held.pk != pk):
            held = None
        # Only the id is needed to attribute the change: no query for the user.
        user = get_user_model()(pk=user_id) if user_id else None
        try:
            services.record_update(
                record=record, values=values, user=user, by_process=True, current=held
            )
        except model.DoesNotExist:
            raise DocumentError(_("Cannot find item with this ID.")) from None
        except ValidationError as error:
            messages = {code: " ".join(msgs) for code, msgs in error.message_dict.items()}
            raise DocumentError(" ".join(messages.values()), messages) from None
        return LazyRecordValues(record)

    def url(self, document_id: str) -> str:
        try:
            entity_type, pk = parse_document_id(document_id)
        except DocumentError:
            return ""
        return reverse("crm:record-detail", kwargs={"entity": entity_type.lower(), "pk": pk})

    def file_givable(self, file_id: int, *, user: Any, document_id: str) -> bool:
        """One's own upload, or a file the record holds."""
        if StoredFile.objects.filter(pk=file_id, created_by=user).exists():
            return True
        try:
            return file_id in record_file_ids(self._record(document_id))
        except DocumentError:
            return False

    def printable(self, document_type: DocumentType, code: str, value: Any) -> str | None:
        """Custom money, CRM link and file fields; the engine reads the rest."""
        spec = field_specs(entity_type_of(document_type)).get(code)
        if spec is None or spec.custom is None:
            return None
        items = value if isinstance(value, list) else [value]
        match spec.custom.type:
            case UserFieldType.MONEY:
                return ", ".join(_money_printable(item) for item in items)
            case UserFieldType.CRM:
                return ", ".join(_links_printable(spec.custom, items))
            case UserFieldType.FILE:
                names = dict(
                    StoredFile.objects.filter(
                        pk__in=[i for i in items if isinstance(i, int)]
                    ).values_list("pk", "name")
                )
                return ", ".join(names.get(item, str(item)) for item in items)
        return None

    def bpt_fields(self, document_type: DocumentType) -> dict[str, dict[str, Any]]:
        """Custom fields with Bitrix's types, their options and settings."""
        described = super().bpt_fields(document_type)
        for spec in field_specs(entity_type_of(document_type)).values():
            if spec.custom is None:
                continue
            definition = spec.custom
            entry = described[spec.code]
            entry["Type"] = BPT_TYPES[definition.type]
            entry["Settings"] = dict(definition.settings)
            if definition.type == UserFieldType.CRM:
                entry["Options"] = {entity_type: "Y" for entity_type in definition.crm_types()}
        return described

    def fields_import(
        self, document_type: DocumentType, described: Mapping[str, Mapping[str, Any]], *, user: Any
    ) -> FieldsImport:
        """Custom fields (``UF_CRM_…``) the entity type lacks are created, and those it has
        get the file's label, required flag and new options, by CRM administrators only; the
        built-in fields are the CRM's own."""
        entity_type = entity_type_of(document_type)
        existing = {row.code: row for row in UserField.objects.filter(entity_type=entity_type)}
        result = FieldsImport()
        may_manage = user is not None and permissions.is_crm_admin(user)
        for code, entry in described_fields(described):
            code = code.upper()
            if not code.startswith(custom_fields.PREFIX):
                continue
            row = existing.get(code)
            if row is None and not may_manage:
                result.not_created.append(code)
            elif may_manage and row is None:
                _userfield_create(entity_type, code, entry, user, result)
            elif may_manage and row is not None:
                _userfield_update(row, entry, user, result)
        return result

    def title(self, document_id: str) -> str:
        try:
            return str(self._record(document_id)) or document_id
        except DocumentError:
            return document_id

    def titles(self, document_ids: Iterable[str]) -> dict[str, str]:
        """One query per record type."""
        document_ids = list(document_ids)
        wanted: dict[str, dict[int, str]] = {}
        for document_id in document_ids:
            try:
                entity_type, pk = parse_document_id(document_id)
            except DocumentError:
                continue
            wanted.setdefault(entity_type, {})[pk] = document_id
        found = {}
        for entity_type, ids in wanted.items():
            for record in RECORD_MODELS[entity_type].objects.filter(pk__in=ids):
                found[ids[record.pk]] = str(record) or ids[record.pk]
        return {document_id: found.get(document_id, document_id) for document_id in document_ids}

    def exists(self, document_id: str) -> bool:
        try:
            self._record(document_id)
        except DocumentError:
            return False
        return True

    def read_checked(
        self, document_id: str, *, user: Any, operations: Collection[Operation]
    ) -> tuple[Mapping[str, Any], frozenset[Operation]]:
        """One read of the record for its values and the rights."""
        record = self._record(document_id)
        if operations and user is not None and not hasattr(user, "is_authenticated"):
            user = get_user_model().objects.filter(pk=user).first()
        allowed = frozenset(
            operation
            for operation in operations
            if user is not None
            and permissions.can_on_record(user, _OPERATION_ACTIONS[operation], record)
        )
        return LazyRecordValues(record), allowed

    def is_administrator(self, user: Any) -> bool:
        return permissions.is_crm_admin(user)

    def can(
        self,
        user: Any,
        operation: Operation,
        *,
        document_id: str | None = None,
        document_type: DocumentType | None = None,
    ) -> bool:
        """``user`` is a user or a user id."""
        if not hasattr(user, "is_authenticated"):
            user = get_user_model().objects.filter(pk=user).first()
            if user is None:
                return False
        action = _OPERATION_ACTIONS[operation]
        if document_id is not None:
            try:
                record = self._record(document_id)
            except DocumentError:
                return False
            return permissions.can_on_record(user, action, record)
        if document_type is None:
            raise PermissionDenied
        return permissions.can_on_type(user, entity_type_of(document_type), action)

    def readable_document_ids(self, user: Any, document_type: DocumentType) -> QuerySet | None:
        """``"DEAL_5"``-style ids of the records ``permissions.readable`` gives (own level: the
        user's records; none: no record), or None at the "all" level."""
        entity_type = entity_type_of(document_type)
        if permissions.level_for(user, entity_type, Action.READ) == Level.ALL:
            return None
        return (
            permissions.readable(user, entity_type)
            .annotate(document_id=Concat(Value(f"{entity_type}_"), Cast("pk", CharField())))
            .values("document_id")
        )


def _money_printable(value: Any) -> str:
    """``"1500.50|USD"`` as ``1,500.50 USD`` in the active language's number format."""
    amount, _sep, currency = str(value).partition("|")
    try:
        grouped = numberformat.format(
            amount,
            get_format("DECIMAL_SEPARATOR"),
            2,
            get_format("NUMBER_GROUPING"),
            get_format("THOUSAND_SEPARATOR"),
            force_grouping=True,
        )
    except (ValueError, TypeError):
        return str(value)
    return f"{grouped} {currency}".strip()


def _links_printable(definition: CustomField, values: list[Any]) -> list[str]:
    """The titles of the records a CRM link field names (its value where there is none)."""
    links = [definition.crm_link(str(value)) for value in values]
    wanted: dict[str, set[int]] = {}
    for link in links:
        if link is not None:
            wanted.setdefault(link[0], set()).add(link[1])
    titles = {
        (entity_type, record.pk): str(record)
        for entity_type, ids in wanted.items()
        for record in RECORD_MODELS[entity_type].objects.filter(pk__in=ids)
    }
    return [
        titles.get(link, str(value)) if link is not None else str(value)
        for link, value in zip(links, values, strict=True)
    ]


def _labels(entry: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    name = str(entry.get("Name") or "").strip()[:255]
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return {"form": {language: name}} if name else {}


def _items(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An enumeration's options; the file's keys become their external codes."""
    raw = entry.get("Options")
    if isinstance(raw, list):
        raw = {str(item): item for item in raw}
    if not isinstance(raw, Mapping):
        return []
    return [
        {"value": str(value)[:255], "xml_id": str(key)[:100], "sort": (index + 1) * 10}
        for index, (key, value) in enumerate(raw.items())
        if isinstance(value, str | int | float) and str(value).strip()
    ]


def _userfield_create(
    entity_type: str, code: str, entry: Mapping[str, Any], user: Any, result: FieldsImport
) -> None:
    type_ = IMPORT_TYPES.get(str(entry.get("Type") or "").strip())
    if type_ is None:
        result.messages.append(
            _("Field %(code)s was not created: its type %(type)s is not one the CRM has.")
            % {"code": code, "type": str(entry.get("Type"))[:50]}
        )
        return
    values: dict[str, Any] = {
        "code": code,
        "type": type_,
        "labels": _labels(entry),
        "multiple": flag(entry.get("Multiple")),
        "mandatory": flag(entry.get("Required")),
    }
    if type_ == UserFieldType.ENUMERATION:
        values["items"] = _items(entry)
    if type_ == UserFieldType.CRM and isinstance(entry.get("Options"), Mapping):
        # The entity types a link may point at, as Bitrix writes them: {"DEAL": "Y", …}.
        values["settings"] = {
            str(key).upper(): "Y"
            for key, value in entry["Options"].items()
            if str(value).upper() == "Y" and str(key).upper() in RECORD_MODELS
        }
    try:
        services.userfield_create(entity_type=entity_type, values=values, user=user)
    except ValidationError as error:
        result.messages.append(
            _("Field %(code)s was not created: %(reason)s")
            % {"code": code, "reason": " ".join(error.messages)}
        )
        return
    result.created.append(code)


def _userfield_update(
    row: UserField, entry: Mapping[str, Any], user: Any, result: FieldsImport
) -> None:
    type_ = IMPORT_TYPES.get(str(entry.get("Type") or "").strip())
    if type_ is not None and type_ != row.type:
        result.messages.append(
            _("Field %(code)s is of another type here than in the file; it was left as it is.")
            % {"code": row.code}
        )
        return
    values: dict[str, Any] = {}
    definition = CustomField.of(row)
    name = str(entry.get("Name") or "").strip()[:255]
    if name and name != definition.label():
        labels = {place: dict(texts) for place, texts in (row.labels or {}).items()}
        labels.setdefault("form", {}).update(_labels(entry)["form"])
        values["labels"] = labels
    if "Required" in entry and flag(entry.get("Required")) != row.mandatory:
        values["mandatory"] = flag(entry.get("Required"))
    if row.type == UserFieldType.ENUMERATION:
        known = {option.xml_id for option in definition.options if option.xml_id}
        new = [item for item in _items(entry) if item["xml_id"] not in known]
        if new:
            values["items"] = [{**item, "sort": item["sort"] + 10_000} for item in new]
    if not values:
        return
    try:
        services.userfield_update(field=row, values=values, user=user)
    except ValidationError as error:
        result.messages.append(
            _("Field %(code)s was not updated: %(reason)s")
            % {"code": row.code, "reason": " ".join(error.messages)}
        )
        return
    result.updated.append(row.code)
