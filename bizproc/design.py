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
from django.utils import timezone
from django.utils.translation import gettext as _

from bizproc.activities.base import Problem
from bizproc.models import AutoExecute, Instance, Template, TemplateVersion
from bizproc.schemas import schema_problems
from bizproc.services import (
    NAME_MAX,
    EditRefused,
    bpt_draft_read,
    document_fields_import,
    draft_lock,
    draft_save,
    import_notices,
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


def _settings_apply(
    locked: Template,
    *,
    name: str,
    auto_execute: Any,
    parameters: Mapping[str, Any],
    variables: Mapping[str, Any],
    constants: Mapping[str, Any],
) -> None:
    """Puts the settings and typed schemas on the locked draft, or refuses them as a whole."""
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
    locked.auto_execute = auto_execute
    locked.parameters = dict(parameters)
    locked.variables = dict(variables)
    locked.constants = dict(constants)


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
    _settings_apply(
        locked,
        name=name,
        auto_execute=auto_execute,
        parameters=parameters,
        variables=variables,
        constants=constants,
    )
    locked.description = description or ""
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


@transaction.atomic
def template_delete(*, template: Template, user: Any) -> bool:
    """Deletes the template with its versions; if processes use a version, deactivates it and
    hides it instead (they keep their version and journal). Returns whether it was kept."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    if not Instance.objects.filter(version__template=locked).exists():
        locked.delete()
        return False
    template_set_active(template=locked, active=False, user=user)
    if locked.deleted_at is None:
        locked.deleted_at, locked.deleted_by = timezone.now(), user
        locked.save(update_fields=["deleted_at", "deleted_by"])
    return True


@transaction.atomic
def template_replace(
    *,
    template: Template,
    revision: int,
    user: Any,
    name: str | None = None,
    description: str | None = None,
    auto_execute: int | None = None,
    bpt_data: bytes | None = None,
) -> None:
    """Replaces what is given of the draft: its settings and, from a ``.bpt`` file, its blocks,
    parameters, variables and constants (Bitrix's ``template.update``). The same checks as the
    designer's: settings and schemas, the file, the references the user may make; refused as a
    whole, nothing changed."""
    locked = draft_lock(template, revision)
    draft = None
    if bpt_data is not None:
        draft = bpt_draft_read(data=bpt_data, document_type=locked.document_type_triple, user=user)
    _settings_apply(
        locked,
        name=locked.name if name is None else name,
        auto_execute=locked.auto_execute if auto_execute is None else auto_execute,
        parameters=locked.parameters if draft is None else draft.parameters,
        variables=locked.variables if draft is None else draft.variables,
        constants=locked.constants if draft is None else draft.constants,
    )
    if draft is not None:
        # As an import: the file's fields are created or updated, and what stops the new
        # draft's publication (and what it would warn about) goes to the notices.
        locked.tree = draft.tree
        imported = document_fields_import(
            document_type=locked.document_type_triple, described=draft.document_fields, user=user
        )
        locked.notices = import_notices(locked, imported)
    if description is not None:
        locked.description = description
    draft_save(locked, template, user)
