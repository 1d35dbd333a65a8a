"""What a template may refer to: templates, smart scenarios and items of the document types its
publisher may design, and whom its blocks may run as.

"No one can make the engine do through a template what they could not do themselves." A block
that starts another process or a smart scenario acts on another document, maybe as another
user, with system rights; so whoever saves or publishes such a block must be allowed to design
automation for the type it reaches. Blocks declare which of their properties are references
(``Property.reference``); this module checks them — at design time against the editing user's
scope, and at run time, for references only an expression decides, against the scope recorded
on the published version (so a publisher who later leaves does not stop their processes).

A run-as user other than the starter (``{=Template:TargetUser}``, ``{=User:ID}``) or a user field
of the template's own document may be chosen only by an administrator of the template's
documents (a CRM administrator for a CRM template).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from bizproc import user_values
from bizproc.activities import activities
from bizproc.activities.base import (
    Problem,
    Reference,
    ReferenceRefused,
    has_expression,
    is_empty,
)
from bizproc.documents import (
    DocumentError,
    DocumentType,
    Operation,
    caption_of,
    document_providers,
)
from bizproc.fieldtypes import FieldType
from bizproc.models import Template, TemplateVersion
from bizproc.tree import Node, walk

_SINGLE_REFERENCE = re.compile(r"^\s*\{=\s*([A-Za-z_]+)\s*:\s*([A-Za-z0-9_]+)\s*\}\s*$")
_STARTER = {("template", "targetuser"), ("user", "id")}


@dataclass(frozen=True)
class ReferenceScope:
    """The document types a template may reach (None: every type) and whether its blocks may
    run as any user."""

    document_types: frozenset[DocumentType] | None
    any_run_as: bool

    def allows(self, document_type: Iterable[str]) -> bool:
        return self.document_types is None or DocumentType(*document_type) in self.document_types

    def to_json(self) -> dict[str, Any]:
        types = (
            None
            if self.document_types is None
            else sorted(list(document_type) for document_type in self.document_types)
        )
        return {"document_types": types, "any_run_as": self.any_run_as}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ReferenceScope":
        types = data.get("document_types")
        return cls(
            document_types=None
            if types is None
            else frozenset(DocumentType(*item) for item in types if len(item) == 3),
            any_run_as=bool(data.get("any_run_as")),
        )


def scope_of(user: Any, document_type: DocumentType | None = None) -> ReferenceScope:
    """The scope of what ``user`` may make a template (of ``document_type``) refer to, from
    their rights now. Its blocks may run as anyone when the user administers the template's
    documents (a CRM administrator, a CRM template); without a type, every provider's."""
    providers = document_providers.all()
    if user is None or not getattr(user, "is_authenticated", False):
        return ReferenceScope(document_types=frozenset(), any_run_as=False)
    admin_of_all = bool(providers) and all(
        provider.is_administrator(user) for provider in providers
    )
    if document_type is None:
        any_run_as = admin_of_all
    else:
        try:
            any_run_as = document_providers.get(document_type.module).is_administrator(user)
        except DocumentError:
            any_run_as = False
    if admin_of_all:
        return ReferenceScope(document_types=None, any_run_as=True)
    return ReferenceScope(
        document_types=frozenset(
            DocumentType(*known)
            for provider in providers
            for known in provider.document_types()
            if provider.can(user, Operation.DESIGN, document_type=known)
        ),
        any_run_as=any_run_as,
    )


def version_scope(version: TemplateVersion) -> ReferenceScope:
    """The scope checked when the version was published. Versions published before scopes were
    recorded get their publisher's scope now (none when the publisher is gone)."""
    if version.reference_scope is not None:
        return ReferenceScope.from_json(version.reference_scope)
    return scope_of(version.published_by, version.template.document_type_triple)


def _literals(value: Any) -> list[str]:
    """The value's literal items; those an expression decides are checked at run time."""
    items = value if isinstance(value, list | tuple) else [value]
    return [
        str(item).strip()
        for item in items
        if not is_empty(item) and not has_expression(item) and str(item).strip()
    ]


def _template_type(template_id: str) -> DocumentType | None:
    try:
        pk = int(template_id)
    except ValueError:
        return None
    found = (
        Template.objects.filter(pk=pk).values_list("module", "entity", "document_type").first()
        if 0 < pk < 2**63
        else None
    )
    return DocumentType(*found) if found else None


def _document_type(document_id: str) -> DocumentType | None:
    for provider in document_providers.all():
        try:
            return provider.document_type_of(provider.normalize_id(document_id))
        except DocumentError:
            continue
    return None


def run_as_allowed(value: Any, *, document_type: DocumentType) -> bool:
    """Whether a run-as value is one anyone may choose: the starter, or a user field of the
    template's own document (``{=Document:ASSIGNED_BY_ID}``, Bitrix's ``["Document",
    "ASSIGNED_BY_ID"]``, or ``author``: the item's responsible person or creator)."""
    items = [
        user_values.reference_text(item) if user_values.is_reference(item) else item
        for item in user_values.flat_items(value)
    ]
    if len(items) != 1 or not isinstance(items[0], str):
        return False
    if user_values.is_author(items[0]):
        return True
    match = _SINGLE_REFERENCE.match(items[0])
    if match is None:
        return False
    obj, field = match.group(1).lower(), match.group(2).lower()
    if (obj, field) in _STARTER:
        return True
    if obj != "document":
        return False
    try:
        fields = document_providers.get(document_type.module).fields(document_type)
    except DocumentError:
        return False
    return any(f.code.lower() == field and f.type == FieldType.USER for f in fields)


def node_reference_problems(
    *, node: Node, scope: ReferenceScope, document_type: DocumentType
) -> list[Problem]:
    """The references of one block that ``scope`` does not allow."""
    activity = activities.for_node(node)
    values = activity.properties_values
    problems = []
    for prop in activity.properties:
        value = values.get(prop.name)
        if prop.reference == Reference.RUN_AS:
            allowed = scope.any_run_as or is_empty(value)
            if not allowed and not run_as_allowed(value, document_type=document_type):
                problems.append(activity.problem(prop.name, run_as_message(), "access"))
            continue
        if prop.reference in (Reference.TEMPLATE, Reference.SCENARIO):
            reached = [_template_type(literal) for literal in _literals(value)]
            message = _(
                "You may not design automation for %(type)s: a block may not start their "
                "templates or smart scenarios."
            )
        elif prop.reference == Reference.DOCUMENT:
            reached = [_document_type(literal) for literal in _literals(value)]
            message = _(
                "You may not design automation for %(type)s: a block may not act on their items."
            )
        else:
            continue
        problems.extend(
            activity.problem(
                prop.name, message % {"type": caption_of(found, plural=True)}, "access"
            )
            for found in reached
            if found is not None and not scope.allows(found)
        )
    return problems


def reference_problems(
    *, tree: Node, scope: ReferenceScope, document_type: DocumentType
) -> list[Problem]:
    """Every block's references that ``scope`` does not allow."""
    return [
        problem
        for node in walk(tree)
        for problem in node_reference_problems(node=node, scope=scope, document_type=document_type)
    ]


def run_as_message() -> str:
    return _(
        "Only a CRM administrator may choose whom a block runs as; others may choose the user "
        "who started the process or a user field of the item."
    )


def reference_check(*, version: TemplateVersion, document_type: Iterable[str]) -> None:
    """At run time: a template or scenario a block reached through an expression must be of a
    type the version's publisher could design; ReferenceRefused naming the reason otherwise."""
    if not version_scope(version).allows(document_type):
        raise ReferenceRefused(
            _(
                "Not started: whoever published this template may not design automation "
                "for %(type)s."
            )
            % {"type": caption_of(DocumentType(*document_type), plural=True)}
        )


def run_as_check(*, version: TemplateVersion, value: Any, document_type: DocumentType) -> None:
    """At run time: the block's run-as value must be one the version's publisher could choose."""
    if not version_scope(version).any_run_as and not run_as_allowed(
        value, document_type=document_type
    ):
        raise ReferenceRefused(_("Not started: %(reason)s") % {"reason": run_as_message()})
