"""Who may design what: the "design automation" right per document type, asked of the document
provider, and fetching a template together with that check."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from bizproc.documents import DocumentError, DocumentProvider, DocumentType, Operation
from bizproc.documents import document_providers as providers
from bizproc.models import Template


def provider_of(document_type: DocumentType) -> DocumentProvider:
    return providers.get(document_type.module)


def types_where(user: Any, operation: Operation) -> list[DocumentType]:
    """The document types on which the user has the right (own or all) to ``operation``."""
    return [
        document_type
        for provider in providers.all()
        for document_type in provider.document_types()
        if provider.can(user, operation, document_type=document_type)
    ]


def may_design(user: Any, document_type: DocumentType) -> bool:
    try:
        provider = provider_of(document_type)
    except DocumentError:
        return False
    found = provider.resolve_type(document_type.entity, document_type.type)
    known = {tuple(known) for known in provider.document_types()}
    return (
        found is not None
        and tuple(found) in known
        and provider.can(user, Operation.DESIGN, document_type=found)
    )


def designable_types(user: Any) -> list[DocumentType]:
    """403 when there is none: every designer page needs the right on some type."""
    found = types_where(user, Operation.DESIGN) if user.is_authenticated else []
    if not found:
        raise PermissionDenied
    return found


def designed_templates() -> Any:
    """Templates people design: not the robots of smart scenarios, not the deleted ones."""
    return Template.objects.listed()


def editable_template(user: Any, pk: int) -> Template:
    """The template, for a user who may design its document type (404 / 403 otherwise)."""
    designable_types(user)
    try:
        template = designed_templates().get(pk=pk)
    except Template.DoesNotExist:
        raise Http404 from None
    if not may_design(user, template.document_type_triple):
        raise PermissionDenied
    return template
