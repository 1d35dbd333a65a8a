"""Lists as a document provider for the engine (``bizproc.documents.DocumentProvider``).

A list is a document type: ``("lists", "Bitrix\\Lists\\BizprocDocumentLists", "iblock_<ID>")``
for a list of type ``lists``, ``("lists", "BizprocDocument", "iblock_<ID>")`` for a process
list; Bitrix takes either entity for any list, and so do we (``resolve_type``). An element's
document id is its ID, as in Bitrix.
"""

import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from bizproc.documents import (
    DocumentError,
    DocumentProvider,
    DocumentType,
    FieldsImport,
    Operation,
    PermissionMode,
    described_fields,
)
from bizproc.fieldtypes import Field
from bizproc.schemas import flag
from lists import permissions, services
from lists.models import (
    Element,
    ElementFile,
    ElementGrant,
    GrantOperation,
    List,
    ListField,
    ListKind,
    PropertyType,
    Right,
)
from lists.properties import (
    BPT_BASE_TYPES,
    BPT_TYPES,
    CODE_RE,
    PREFIX,
    element_values,
    schema_of,
)

MODULE = "lists"
ENTITIES = {
    ListKind.LISTS: "Bitrix\\Lists\\BizprocDocumentLists",
    ListKind.PROCESSES: "BizprocDocument",
}
_TYPE_RE = re.compile(r"iblock_(\d{1,18})")
_ID_RE = re.compile(r"\d{1,18}")
# Set permissions' operation codes: Bitrix's lists name them by the letters of their access
# levels (extended rights mode) or ``read`` / ``write`` (simple mode).
GRANT_OF_CODE = {
    "R": GrantOperation.READ,
    "S": GrantOperation.READ,
    "T": GrantOperation.READ,
    "read": GrantOperation.READ,
    "U": GrantOperation.EDIT,
    "W": GrantOperation.EDIT,
    "X": GrantOperation.EDIT,
    "write": GrantOperation.EDIT,
}
NO_GRANT = frozenset({"D", "E"})  # a denial, adding elements: nothing to grant on one element


def document_type_of_list(list_: List) -> DocumentType:
    return DocumentType(MODULE, ENTITIES[ListKind(list_.kind)], f"iblock_{list_.pk}")


def list_id_of(document_type: DocumentType) -> int:
    match = _TYPE_RE.fullmatch(str(document_type.type))
    if document_type.module != MODULE or match is None:
        raise DocumentError(_("Incorrect document type!"))
    return int(match[1])


def _list(document_type: DocumentType) -> List:
    found = List.objects.filter(pk=list_id_of(document_type)).first()
    if found is None:
        raise DocumentError(_("Incorrect document type!"))
    return found


class ListsDocumentProvider(DocumentProvider):
    module = MODULE

    def document_types(self) -> Sequence[DocumentType]:
        return [document_type_of_list(list_) for list_ in List.objects.filter(bizproc=True)]

    def resolve_type(self, entity: str, type_: str) -> DocumentType | None:
        """Either entity name for any list, as Bitrix takes them."""
        if entity not in ENTITIES.values():
            return None
        match = _TYPE_RE.fullmatch(str(type_))
        found = List.objects.filter(pk=int(match[1])).first() if match else None
        return document_type_of_list(found) if found is not None else None

    def caption(self, document_type: DocumentType, *, plural: bool = False) -> str:
        try:
            return _list(document_type).name
        except DocumentError:
            return document_type.type

    def normalize_id(self, raw: Any, *, document_type: DocumentType | None = None) -> str:
        text = str(raw).strip() if raw is not None and not isinstance(raw, bool) else ""
        if not _ID_RE.fullmatch(text) or int(text) == 0:
            raise DocumentError(_("Wrong DOCUMENT_ID!"))
        document_id = str(int(text))
        if document_type is not None:
            list_id = Element.objects.filter(pk=int(text)).values_list("list_id", flat=True)
            found = list_id.first()
            if found is not None and f"iblock_{found}" != document_type.type:
                raise DocumentError(_("Incorrect document type!"))
        return document_id

    def _element(self, document_id: str) -> Element:
        text = str(document_id).strip()
        found = (
            Element.objects.select_related("list").filter(pk=int(text)).first()
            if _ID_RE.fullmatch(text)
            else None
        )
        if found is None:
            raise DocumentError(_("Cannot find item with this ID."))
        return found

    def document_type_of(self, document_id: str) -> DocumentType:
        return document_type_of_list(self._element(document_id).list)

    def fields(self, document_type: DocumentType) -> Sequence[Field]:
        return schema_of(list_id_of(document_type)).engine_fields()

    def read(self, document_id: str) -> Mapping[str, Any]:
        return element_values(self._element(document_id))

    def write(
        self,
        document_id: str,
        values: Mapping[str, Any],
        *,
        user_id: int | None,
        current: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        """``current`` is not used: the update reads the element locked anyway."""
        element = self._element(document_id)
        user = get_user_model()(pk=user_id) if user_id else None
        try:
            services.element_update(element=element, values=values, user=user, by_process=True)
        except ValidationError as error:
            messages = {code: " ".join(msgs) for code, msgs in error.message_dict.items()}
            raise DocumentError(" ".join(messages.values()), messages) from None
        return element_values(element)

    def exists(self, document_id: str) -> bool:
        text = str(document_id).strip()
        return bool(_ID_RE.fullmatch(text)) and Element.objects.filter(pk=int(text)).exists()

    def url(self, document_id: str) -> str:
        try:
            element = self._element(document_id)
        except DocumentError:
            return ""
        try:
            return reverse(
                "lists:element-detail", kwargs={"list_pk": element.list_id, "pk": element.pk}
            )
        except NoReverseMatch:  # a site that serves no list pages
            return ""

    def title(self, document_id: str) -> str:
        try:
            return self._element(document_id).name or document_id
        except DocumentError:
            return document_id

    def titles(self, document_ids: Iterable[str]) -> dict[str, str]:
        document_ids = list(document_ids)
        ids = [int(d) for d in document_ids if _ID_RE.fullmatch(str(d))]
        names = dict(Element.objects.filter(pk__in=ids).values_list("pk", "name"))
        return {
            document_id: names.get(int(document_id), "") or document_id
            if _ID_RE.fullmatch(str(document_id))
            else document_id
            for document_id in document_ids
        }

    def file_givable(self, file_id: int, *, user: Any, document_id: str) -> bool:
        """One's own upload no element holds yet, or a file of this element."""
        row = ElementFile.objects.filter(pk=file_id).first()
        if row is None:
            return False
        if row.element_id is not None:
            return str(row.element_id) == str(document_id)
        return row.uploaded_by_id == getattr(user, "pk", None)

    def printable(self, document_type: DocumentType, code: str, value: Any) -> str | None:
        """Money, linked elements and files; the engine reads the rest."""
        prop = schema_of(list_id_of(document_type)).by_code(code)
        if prop is None:
            return None
        items = value if isinstance(value, list) else [value]
        if prop.type == PropertyType.MONEY:
            return ", ".join(str(item).replace("|", " ") for item in items)
        if prop.type in (PropertyType.ELEMENT, PropertyType.FILE):
            model = Element if prop.type == PropertyType.ELEMENT else ElementFile
            ids = [item for item in items if isinstance(item, int)]
            names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
            return ", ".join(names.get(item, str(item)) for item in items)
        return None

    def bpt_fields(self, document_type: DocumentType) -> dict[str, dict[str, Any]]:
        """The fields as Bitrix's lists describe them (``getDocumentFields``): properties with
        their Bitrix ``Type``, ``TypeReal`` (the property type), the ``Alias`` REST names them
        by (``PROPERTY_<id>``), options by external code, sort and the list form's settings."""
        described = super().bpt_fields(document_type)
        for code, entry in described.items():
            entry.setdefault("active", code == "NAME")
            entry["Complex"] = None
        for prop in schema_of(list_id_of(document_type)).properties:
            type_ = BPT_TYPES[prop.type]
            entry = {
                "Name": prop.name,
                "Filterable": prop.filterable,
                "Editable": not prop.read_only,
                "Required": prop.required,
                "Multiple": prop.multiple,
                "TypeReal": prop.type,
                "UserTypeSettings": [],
                "Alias": prop.rest_code,
                "Type": type_,
                "DefaultValue": prop.default_value,
                "sort": prop.sort,
                "settings": {
                    "SHOW_ADD_FORM": "Y" if prop.in_add_form else "N",
                    "SHOW_EDIT_FORM": "Y" if prop.in_edit_form else "N",
                },
                "active": True,
                "BaseType": BPT_BASE_TYPES.get(type_, type_),
                "Complex": True if prop.type == PropertyType.LIST else None,
            }
            if prop.type == PropertyType.LIST:
                entry["Options"] = {option.xml_id: option.value for option in prop.options}
                chosen = [option.value for option in prop.options if option.is_default]
                entry["DefaultValue"] = chosen[0] if chosen else ""
            if prop.link_list_id is not None:
                entry["Options"] = prop.link_list_id
            described[prop.engine_code] = entry
        return described

    def fields_import(
        self, document_type: DocumentType, described: Mapping[str, Mapping[str, Any]], *, user: Any
    ) -> FieldsImport:
        """Properties (``PROPERTY_<CODE>``) the list lacks are created, and those it has get
        the file's name, required flag, new options and, from single, multiple values — as
        Bitrix's lists do on import; by lists administrators only. Built-in fields are the
        list's own and stay as they are."""
        list_ = _list(document_type)
        existing = {row.code: row for row in ListField.objects.filter(list=list_)}
        result = FieldsImport()
        may_manage = user is not None and permissions.is_lists_admin(user)
        for code, entry in described_fields(described):
            if not code.upper().startswith(PREFIX):
                continue  # a built-in field of every element
            own = code[len(PREFIX) :].upper()
            row = existing.get(own)
            if row is None and not may_manage:
                result.not_created.append(code)
            elif may_manage:
                _property_import(list_, own, row, entry, user, result)
        return result

    def permission_operations(self, document_type: DocumentType) -> dict[str, str]:
        """Bitrix's lists in extended rights mode name them by their access letters."""
        return {"R": pgettext("access", "Read"), "W": _("Edit")}

    def permissions_set(
        self,
        document_id: str,
        permissions: Mapping[str, Sequence[str]],
        *,
        mode: PermissionMode,
        workflow_id: str,
    ) -> None:
        """Rights on the element from now on (``ElementGrant``): read for ``R`` (and
        Bitrix's other reading letters, ``read``), edit for ``W`` (``U``, ``X``, ``write``);
        a denial (``D``) or adding elements (``E``) grants nothing on an element."""
        element = self._element(document_id)
        grants: list[ElementGrant] = []
        operations = set()
        for code, principals in permissions.items():
            operation = GRANT_OF_CODE.get(str(code).strip())
            if operation is None and str(code).strip() not in NO_GRANT:
                raise DocumentError(_("Unknown permission: %(code)s") % {"code": str(code)[:20]})
            if operation is None:
                continue
            operations.add(operation)
            for principal in principals:
                kind, _sep, pk = str(principal).partition("_")
                if kind not in ("user", "group") or not pk.isdigit():
                    continue
                grants.append(
                    ElementGrant(
                        element=element,
                        operation=operation,
                        user_id=int(pk) if kind == "user" else None,
                        group_id=int(pk) if kind == "group" else None,
                        workflow_id=workflow_id,
                    )
                )
        if mode == PermissionMode.CLEAR:
            ElementGrant.objects.filter(element=element).delete()
        elif mode == PermissionMode.REWRITE:
            ElementGrant.objects.filter(element=element, operation__in=operations).delete()
        existing = set(
            ElementGrant.objects.filter(element=element).values_list(
                "operation", "user_id", "group_id"
            )
        )
        fresh = {}
        for grant in grants:
            key = (grant.operation, grant.user_id, grant.group_id)
            if key not in existing:
                fresh[key] = grant
        ElementGrant.objects.bulk_create(fresh.values())

    def is_administrator(self, user: Any) -> bool:
        return permissions.is_lists_admin(user)

    def can(
        self,
        user: Any,
        operation: Operation,
        *,
        document_id: str | None = None,
        document_type: DocumentType | None = None,
    ) -> bool:
        """``user`` is a user or a user id. Starting a process on an element takes the right
        to edit it; on the list, the right to add to it. Reading a list means reading some of
        its elements (at least one's own)."""
        if not hasattr(user, "is_authenticated"):
            user = get_user_model().objects.filter(pk=user).first()
            if user is None:
                return False
        if document_id is not None:
            try:
                element = self._element(document_id)
            except DocumentError:
                return False
            if operation == Operation.READ:
                return permissions.can_read(user, element)
            if operation == Operation.DESIGN:
                return permissions.can_design(user, element.list)
            if operation == Operation.START_PROCESS and not element.list.bizproc:
                return False
            return permissions.can_edit(user, element)
        if document_type is None:
            raise PermissionDenied
        try:
            list_ = _list(document_type)
        except DocumentError:
            return False
        if operation == Operation.DESIGN:
            return permissions.can_design(user, list_)
        if operation == Operation.READ:
            # Some of it: everyone reads their own elements (``readable_document_ids`` says
            # which), so a list one adds to or holds elements in is readable.
            return permissions.can_see_list(user, list_) or permissions.holds_elements(user, list_)
        if operation == Operation.START_PROCESS:
            return list_.bizproc and permissions.can_add(user, list_)
        return permissions.has_right(user, list_, Right.EDIT)

    def readable_document_ids(self, user: Any, document_type: DocumentType) -> QuerySet | None:
        """The ids of the user's own elements, or None when they may read the whole list."""
        list_ = _list(document_type)
        if permissions.has_right(user, list_, Right.READ):
            return None
        return (
            permissions.readable(user, list_)
            .annotate(document_id=Cast("pk", CharField()))
            .values("document_id")
        )


# Bitrix's document field types (``Type``) and the property type each becomes on import, when
# the file does not give the property type itself (``TypeReal``, or a ``Type`` of the
# ``PROPERTY_TYPE:USER_TYPE`` form).
IMPORT_TYPES: dict[str, str] = {
    "select": PropertyType.LIST,
    "bool": PropertyType.LIST,
    "user": PropertyType.EMPLOYEE,
    "date": PropertyType.DATE,
    "datetime": PropertyType.DATETIME,
    "file": PropertyType.FILE,
    "int": PropertyType.NUMBER,
    "double": PropertyType.NUMBER,
    "string": PropertyType.STRING,
    "text": PropertyType.STRING,
}
_TYPE_ALIASES = {"E:EList": PropertyType.ELEMENT, "T": PropertyType.STRING}


def import_type(entry: Mapping[str, Any]) -> str | None:
    """The property type a described field becomes (None: none of ours)."""
    for raw in (entry.get("TypeReal"), entry.get("Type")):
        text = str(raw or "").strip()
        if text in PropertyType.values:
            return text
        if text in _TYPE_ALIASES:
            return _TYPE_ALIASES[text]
    return IMPORT_TYPES.get(str(entry.get("Type") or "").strip())


def _import_options(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A list property's options by external code (the keys templates compare with)."""
    if str(entry.get("Type") or "") == "bool" and import_type(entry) == PropertyType.LIST:
        raw: Any = {"Y": _("Yes"), "N": _("No")}
    else:
        raw = entry.get("Options")
    if isinstance(raw, list):
        raw = {str(item): item for item in raw}
    if not isinstance(raw, Mapping):
        return []
    default = entry.get("DefaultValue")
    defaults = {str(item) for item in (default if isinstance(default, list) else [default])}
    return [
        {
            "xml_id": str(key)[:100],
            "value": str(value)[:255],
            "sort": (index + 1) * 10,
            "default": str(key) in defaults or str(value) in defaults,
        }
        for index, (key, value) in enumerate(raw.items())
        if isinstance(value, str | int | float) and str(value).strip()
    ]


def _import_default(entry: Mapping[str, Any]) -> Any:
    default = entry.get("DefaultValue")
    if isinstance(default, Mapping):  # HTML: {"TYPE": "HTML", "TEXT": …}
        default = default.get("TEXT")
    return default if isinstance(default, str | int | float | list) else None


def _property_import(
    list_: List,
    code: str,
    row: ListField | None,
    entry: Mapping[str, Any],
    user: Any,
    result: FieldsImport,
) -> None:
    engine_code = PREFIX + code
    type_ = import_type(entry)
    if row is not None:
        _property_update(row, entry, type_, user, result)
        return
    if type_ is None:
        result.messages.append(
            _("Field %(code)s was not created: its type %(type)s is not one a list has.")
            % {"code": engine_code, "type": str(entry.get("Type"))[:50]}
        )
        return
    if not CODE_RE.fullmatch(code):
        result.messages.append(
            _("Field %(code)s was not created: a list field's code starts with a Latin letter.")
            % {"code": engine_code}
        )
        return
    values: dict[str, Any] = {
        "code": code,
        "type": type_,
        "name": str(entry.get("Name") or code).strip()[:255] or code,
        "multiple": flag(entry.get("Multiple")),
        "required": flag(entry.get("Required")),
        "filterable": flag(entry.get("Filterable")),
        "settings": entry.get("settings") if isinstance(entry.get("settings"), Mapping) else {},
    }
    with contextlib.suppress(TypeError, ValueError):
        values["sort"] = max(0, min(int(entry.get("sort") or 500), 1_000_000_000))
    if type_ == PropertyType.LIST:
        values["options"] = _import_options(entry)
    elif type_ != PropertyType.FILE and _import_default(entry) not in (None, "", []):
        values["default"] = _import_default(entry)
    try:
        services.listfield_create(list_=list_, values=values, user=user)
    except ValidationError:
        # A default or setting of the other system's that does not fit here: without them.
        values.pop("default", None)
        values["settings"] = {}
        try:
            services.listfield_create(list_=list_, values=values, user=user)
        except ValidationError as error:
            result.messages.append(
                _("Field %(code)s was not created: %(reason)s")
                % {"code": engine_code, "reason": " ".join(error.messages)}
            )
            return
    result.created.append(engine_code)


def _property_update(
    row: ListField, entry: Mapping[str, Any], type_: str | None, user: Any, result: FieldsImport
) -> None:
    engine_code = PREFIX + row.code
    if type_ is not None and type_ != row.type:
        result.messages.append(
            _("Field %(code)s is of another type here than in the file; it was left as it is.")
            % {"code": engine_code}
        )
        return
    values: dict[str, Any] = {}
    name = str(entry.get("Name") or "").strip()[:255]
    if name and name != row.name:
        values["name"] = name
    if "Required" in entry and flag(entry.get("Required")) != row.required:
        values["required"] = flag(entry.get("Required"))
    if flag(entry.get("Multiple")) and not row.multiple:
        values["multiple"] = True  # never the other way: values would be lost
    if row.type == PropertyType.LIST:
        current = list(row.options.all())
        known = {option.xml_id: option for option in current}
        options = [
            {
                "id": option.pk,
                "value": option.value,
                "xml_id": option.xml_id,
                "sort": option.sort,
                "default": option.default,
            }
            for option in current
        ]
        changed = False
        for item in _import_options(entry):
            if item["xml_id"] not in known:
                options.append({**item, "sort": item["sort"] + 10_000, "default": False})
                changed = True
                continue
            mine = next(option for option in options if option["xml_id"] == item["xml_id"])
            if mine["value"] != item["value"]:
                mine["value"], changed = item["value"], True
        if changed:
            values["options"] = options
    if not values:
        return
    try:
        services.listfield_update(field=row, values=values, user=user)
    except ValidationError as error:
        result.messages.append(
            _("Field %(code)s was not updated: %(reason)s")
            % {"code": engine_code, "reason": " ".join(error.messages)}
        )
        return
    result.updated.append(engine_code)
