"""Where a document field or a global is used: the templates (and smart scenarios' robots)
whose blocks, parameters, variables or constants name it.

A document provider asks before it changes or deletes a field (a CRM custom field), so that
the person is told which processes would break, as a scenario's page lists the templates that
start it.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from bizproc.documents import DocumentType
from bizproc.models import Template
from bizproc.tree import walk


@dataclass(frozen=True)
class FieldUsage:
    template: Template
    blocks: list[str]  # the titles of the blocks that name the field
    published: bool  # whether the latest published version names it (not only the draft)


def _names(value: Any, pattern: re.Pattern[str]) -> bool:
    return bool(pattern.search(json.dumps(value, ensure_ascii=False, default=str)))


def field_usages(*, document_type: DocumentType, code: str) -> list[FieldUsage]:
    """The templates of the document type whose draft or latest version names field ``code``
    (``{=Document:CODE}``, a field picker's value, a Modify document key …)."""
    # A field code is a whole word (UF_CRM_A is not named by UF_CRM_AB), in any letter case
    # as expressions are read, and ``CODE_PRINTABLE`` names it too.
    pattern = re.compile(
        rf"(?<![A-Za-z0-9_]){re.escape(code)}(?:_printable)?(?![A-Za-z0-9_])", re.IGNORECASE
    )
    templates = Template.objects.for_document_type(document_type)
    return template_usages(pattern=pattern, templates=templates)


def template_usages(
    *, pattern: re.Pattern[str], templates: QuerySet[Template] | None = None
) -> list[FieldUsage]:
    """The templates (of ``templates``, else every one) whose draft or latest version has text
    matching ``pattern`` in its blocks, parameters, variables or constants."""
    usages = []
    templates = Template.objects.all() if templates is None else templates
    for template in templates.filter(deleted_at__isnull=True).order_by("name", "pk"):
        version = template.latest_version
        published = version is not None and _names(
            [version.tree, version.parameters, version.variables, version.constants], pattern
        )
        drafted = _names(
            [template.tree, template.parameters, template.variables, template.constants], pattern
        )
        if not (published or drafted):
            continue
        trees = [template.tree] + ([version.tree] if version is not None else [])
        blocks = {
            str((node.get("Properties") or {}).get("Title") or node.get("Name", ""))
            for tree in trees
            for node in walk(tree)
            if node.get("Name") != tree.get("Name")
            and _names({key: value for key, value in node.items() if key != "Children"}, pattern)
        }
        usages.append(FieldUsage(template, sorted(blocks), published))
    return usages
