"""The interface through which the engine reads and writes documents.

The engine knows documents only by Bitrix's document type triple (``("crm",
"CCrmDocumentDeal", "DEAL")``) and document id (``"DEAL_5"``). An app that owns documents (the
CRM) implements ``DocumentProvider`` and registers it from its ``AppConfig.ready``.
"""

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from bizproc.fieldtypes import Field
from bizproc.registry import Registry


class DocumentType(NamedTuple):
    module: str
    entity: str
    type: str


class Operation(StrEnum):
    READ = "read"
    WRITE = "write"
    START_PROCESS = "start_process"
    DESIGN = "design"


class PermissionMode(StrEnum):
    """How Set permissions treats what processes granted on a document before (Bitrix's
    ``CBPSetPermissionsMode``: Hold 1, Rewrite 2, Clear 3)."""

    HOLD = "1"  # add to the earlier grants
    REWRITE = "2"  # replace the earlier grants of the operations given
    CLEAR = "3"  # replace every earlier grant


class DocumentError(Exception):
    """A document id or value the provider refuses; ``message`` is in the active language.

    ``errors`` maps field codes to messages when the refusal concerns fields.
    """

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


@dataclass
class FieldsImport:
    """What importing a ``.bpt`` file's ``DOCUMENT_FIELDS`` did to a document type: the codes
    of the fields created and updated, those the type lacks that the importing user may not
    create (they stay unknown: the template's warnings say so), and what could not be done,
    one message each in the active language."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    not_created: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def described_fields(described: Mapping[Any, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The entries of a ``DOCUMENT_FIELDS`` map an importer may create, in their ``sort``
    order, as Bitrix's importer takes them: ``*_PRINTABLE`` companions and dotted references
    to linked documents' fields are skipped, and so is anything that is not a description."""
    entries = [
        (str(code), entry)
        for code, entry in described.items()
        if isinstance(entry, Mapping)
        and not str(code).upper().endswith("_PRINTABLE")
        and "." not in str(code)
        and str(code).strip()
    ]

    def sort_of(item: tuple[str, Mapping[str, Any]]) -> int:
        try:
            return int(item[1].get("sort") or 0)
        except (TypeError, ValueError):
            return 0

    yield from sorted(entries, key=sort_of)


class DocumentProvider(ABC):
    module: str

    @abstractmethod
    def document_types(self) -> Sequence[DocumentType]: ...

    def resolve_type(self, entity: str, type_: str) -> DocumentType | None:
        """The provider's document type a caller names by ``entity`` and ``type_`` (as REST and
        ``.bpt`` files write it), or None. A provider whose types go by several entity names
        (Bitrix's lists) answers its own form for each."""
        for known in self.document_types():
            if known.entity == entity and known.type == type_:
                return known
        return None

    @abstractmethod
    def caption(self, document_type: DocumentType, *, plural: bool = False) -> str: ...

    @abstractmethod
    def normalize_id(self, raw: Any, *, document_type: DocumentType | None = None) -> str:
        """``"DEAL_5"`` for ``"DEAL_5"``, or for ``5`` when the type is given.

        Raises DocumentError for anything else.
        """

    @abstractmethod
    def document_type_of(self, document_id: str) -> DocumentType: ...

    @abstractmethod
    def fields(self, document_type: DocumentType) -> Sequence[Field]: ...

    @abstractmethod
    def read(self, document_id: str) -> Mapping[str, Any]:
        """Every field's typed value, by field code; DocumentError when there is none."""

    @abstractmethod
    def write(
        self,
        document_id: str,
        values: Mapping[str, Any],
        *,
        user_id: int | None,
        current: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any] | None:
        """Converts, validates and saves, all or nothing, with system rights (a process's write).

        ``user_id`` is whom the change is attributed to (None: nobody in particular). Returns
        the document as saved when the provider has it at hand (as ``read`` would), so that the
        process need not read it again; None otherwise.

        ``current``: the document as this provider gave it to the caller before (from ``read``,
        ``read_checked`` or ``write``), when the caller holds it. A provider may save against it
        instead of reading the document again, but only after making sure the document has not
        changed since: the caller does not promise that it is still the stored one.
        """

    @abstractmethod
    def exists(self, document_id: str) -> bool: ...

    @abstractmethod
    def url(self, document_id: str) -> str:
        """Where a person sees the document ("" when it has no page)."""

    def title(self, document_id: str) -> str:
        """How a person names the document (a deal's title); its id when it has no name."""
        return document_id

    def file_givable(self, file_id: int, *, user: Any, document_id: str) -> bool:
        """Whether ``user`` may hand the stored file to a process working on the document (an
        answer to Request information): a file of their own, or one the document holds —
        never someone else's upload, which the process would then attach with its rights."""
        return False

    def printable(self, document_type: DocumentType, code: str, value: Any) -> str | None:
        """How a person reads field ``code``'s typed value when its type alone does not say
        (an amount with its currency, a linked record's title, a file's name); None leaves it
        to the engine, which knows options, users, yes/no and dates."""
        return None

    def bpt_fields(self, document_type: DocumentType) -> dict[str, dict[str, Any]]:
        """The document's fields as a ``.bpt`` file's ``DOCUMENT_FIELDS`` describes them
        (Bitrix's ``GetDocumentFields``): a provider whose fields have types of its own
        (Bitrix's ``UF:money``) or settings says so here."""
        return {
            f.code: {
                "Name": f.name,
                "Type": f.type,
                "Filterable": True,
                "Editable": not f.read_only,
                "Required": f.required,
                "Multiple": f.multiple,
                "BaseType": f.type,
                **({"Options": dict(f.options)} if f.options else {}),
            }
            for f in self.fields(document_type)
        }

    def fields_import(
        self, document_type: DocumentType, described: Mapping[str, Mapping[str, Any]], *, user: Any
    ) -> FieldsImport:
        """Creates the fields a ``.bpt`` file's ``DOCUMENT_FIELDS`` describes (``described``,
        code → Bitrix's description) that the type lacks, and updates those it has, as Bitrix's
        importer does (``AddDocumentField`` / ``UpdateDocumentField``) — when ``user`` may manage
        the type's fields; otherwise the missing ones are listed as not created. Runs in the
        import's transaction. A provider whose fields are fixed creates nothing."""
        return FieldsImport()

    def titles(self, document_ids: Iterable[str]) -> dict[str, str]:
        """``title`` of each document, for lists: a provider reads them in few queries."""
        return {document_id: self.title(document_id) for document_id in document_ids}

    @abstractmethod
    def can(
        self,
        user: Any,
        operation: Operation,
        *,
        document_id: str | None = None,
        document_type: DocumentType | None = None,
    ) -> bool: ...

    def read_checked(
        self, document_id: str, *, user: Any, operations: Collection[Operation]
    ) -> tuple[Mapping[str, Any], frozenset[Operation]]:
        """The document (as ``read`` gives it) and which of ``operations`` ``user`` (None:
        nobody) may do on it; DocumentError when there is none. A provider that reads the
        document to judge rights answers all from one read (a process start needs both)."""
        document = self.read(document_id)
        allowed = frozenset(
            operation
            for operation in operations
            if user is not None and self.can(user, operation, document_id=document_id)
        )
        return document, allowed

    def is_administrator(self, user: Any) -> bool:
        """Whether the user administers this provider's documents: such a user may make
        blocks run as anyone (``bizproc.scope``)."""
        return False

    def permission_operations(self, document_type: DocumentType) -> dict[str, str]:
        """What the Set permissions block may grant on documents of the type (Bitrix's
        ``GetAllowableOperations``): operation codes with their names. None: the block does
        not apply (access to the type's documents is decided otherwise, a CRM's by roles)."""
        return {}

    def permissions_set(
        self,
        document_id: str,
        permissions: Mapping[str, Sequence[str]],
        *,
        mode: PermissionMode,
        workflow_id: str,
    ) -> None:
        """Grants the operations (``permission_operations`` codes, or Bitrix's other codes
        for them) on the document to the users (``user_<id>``) and groups (``group_<id>``,
        local ids) listed, from now on and on every surface, in the caller's transaction;
        ``workflow_id`` is the process that grants them. DocumentError for what the provider
        refuses."""
        raise DocumentError(_("Setting permissions is not supported for this document type."))

    @abstractmethod
    def readable_document_ids(self, user: Any, document_type: DocumentType) -> QuerySet | None:
        """The ids of the documents of the type the user may read, as a one-column queryset
        to filter by in the database (``document_id__in=…``); None when the user may read
        every document of the type (nothing to filter). Lists of processes use it: asking
        ``can`` per row would not scale."""


class ProviderRegistry(Registry[DocumentProvider]):
    """The document providers by module (``crm``, ``lists`` …): who answers for a document."""

    def __init__(self) -> None:
        super().__init__(key=lambda provider: provider.module)

    def get(self, module: str) -> DocumentProvider:
        found = self.find(module)
        if found is None:
            raise DocumentError(_("Unknown document module: %(module)s") % {"module": module})
        return found


document_providers = ProviderRegistry()


def caption_of(document_type: tuple[str, str, str], *, plural: bool = False) -> str:
    """The document type's caption ("Deals"), or its code when no provider knows it."""
    try:
        return document_providers.get(document_type[0]).caption(
            DocumentType(*document_type), plural=plural
        )
    except DocumentError:
        return document_type[2]
