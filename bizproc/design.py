"""Design-time services the visual designer needs beyond the tree edits of ``services``: a
template's settings (name, auto-start, typed parameters, variables and constants), duplicating
and activating a template.

Like the tree edits, a settings change names the draft revision it was based on, is refused as a
whole with every problem (each ``Problem.parameter`` names the setting: ``name``,
``auto_execute``, ``parameters``, ``variables`` or ``constants``) and bumps the revision.
"""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from bizproc.activities.base import Problem
from bizproc.models import AutoExecute, Template, TemplateVersion
from bizproc.schemas import schema_problems
from bizproc.services import (
    NAME_MAX,
    EditRefused,
    draft_lock,
    draft_save,
    name_clean,
    template_publish,
)

# Filled by the engine when a process starts: a template may not declare it.
RESERVED_PARAMETERS = frozenset({"targetuser"})


def _settings_problems(
    *,
    name: str,
    auto_execute: Any,
    parameters: Any,
    variables: Any,
    constants: Any,
) -> list[Problem]:
    problems = []
    try:
        name_clean(name)
    except EditRefused as refused:
        problems.append(Problem(code="invalid", parameter="name", message=refused.message))
    if auto_execute not in AutoExecute.values:
        problems.append(
            Problem(
                code="invalid",
                parameter="auto_execute",
                message=_("Choose when the process starts."),
            )
        )
    for key, schema in (
        ("parameters", parameters),
        ("variables", variables),
        ("constants", constants),
    ):
        problems.extend(
            Problem(code="schema", parameter=key, message=message)
            for message in schema_problems(schema)
        )
    if isinstance(parameters, Mapping):
        problems.extend(
            Problem(
                code="schema",
                parameter="parameters",
                message=_("The ID '%(id)s' is reserved: the engine fills it in.") % {"id": code},
            )
            for code in parameters
            if str(code).lower() in RESERVED_PARAMETERS
        )
    return problems


@transaction.atomic
def template_settings_update(
    *,
    template: Template,
    revision: int,
    user: Any,
    name: str,
    description: str,
    auto_execute: int,
    parameters: Mapping[str, Any],
    variables: Mapping[str, Any],
    constants: Mapping[str, Any],
) -> None:
    """Replaces the draft's settings and typed schemas; refused as a whole, nothing changed."""
    locked = draft_lock(template, revision)
    problems = _settings_problems(
        name=name,
        auto_execute=auto_execute,
        parameters=parameters,
        variables=variables,
        constants=constants,
    )
    if problems:
        raise EditRefused(" ".join(problem.message for problem in problems), problems)
    locked.name = name_clean(name)
    locked.description = description or ""
    locked.auto_execute = auto_execute
    locked.parameters = dict(parameters)
    locked.variables = dict(variables)
    locked.constants = dict(constants)
    draft_save(locked, template, user)


@transaction.atomic
def template_duplicate(*, template: Template, user: Any) -> Template:
    """A new template with a copy of the draft (not of the versions: the copy is unpublished)."""
    name = _("%(name)s (copy)") % {"name": template.name}
    return Template.objects.create(
        module=template.module,
        entity=template.entity,
        document_type=template.document_type,
        name=name[:NAME_MAX],
        description=template.description,
        auto_execute=template.auto_execute,
        active=template.active,
        sort=template.sort,
        tree=template.tree,
        parameters=template.parameters,
        variables=template.variables,
        constants=template.constants,
        created_by=user,
        modified_by=user,
    )


@transaction.atomic
def template_set_active(*, template: Template, active: bool, user: Any) -> None:
    """An inactive template starts no new processes (by hand or automatically); the running
    ones go on with their versions."""
    template.active = active
    template.modified_by = user
    template.save(update_fields=["active", "modified_by", "modified_at"])


@transaction.atomic
def template_publish_draft(
    *, template: Template, revision: int, user: Any, comment: str = ""
) -> TemplateVersion:
    """Publishes the draft only if it is still the revision the publisher looked at."""
    draft_lock(template, revision)
    return template_publish(template=template, user=user, comment=comment)
