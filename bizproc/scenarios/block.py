"""The Start smart scenario block's side of a run: a process, not a person, starts it.

Its checks come in Bitrix's order with Bitrix's messages (the first that fails is reported in
the calling process's journal), and a scenario may not start itself again through the
processes its runs started.
"""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from bizproc import runtime
from bizproc.activities.base import ReferenceRefused
from bizproc.activities.context import Context
from bizproc.documents import DocumentError, document_providers
from bizproc.models import (
    UNFINISHED_RUN,
    Instance,
    Scenario,
    ScenarioRun,
)
from bizproc.parameters import ParametersRefused
from bizproc.scenarios.editing import ScenarioRefused
from bizproc.scenarios.runs import run_queue, scenario_may_run, typed_parameters
from bizproc.scope import reference_check, run_as_check
from bizproc.state import ExecutionState
from bizproc.user_values import users_resolve


def scenario_for_template_id(template_id: Any) -> Scenario | None:
    try:
        return (
            Scenario.objects.select_related("template")
            .filter(template_id=int(str(template_id).strip()))
            .first()
        )
    except ValueError:
        return None


def _first(value: Any) -> Any:
    while isinstance(value, list | tuple):
        value = value[0] if value else None
    return value


def _is_recursive(ctx: Context, scenario: Scenario) -> bool:
    """Whether the calling process is, or descends from, a run of this scenario (following
    parent processes and the processes that started runs)."""
    instance: Instance | None = ctx.instance
    seen: set[str] = set()
    while instance is not None and instance.pk not in seen:
        seen.add(instance.pk)
        run_id = ExecutionState.from_json(instance.state).run
        run = ScenarioRun.objects.filter(pk=run_id).first() if run_id else None
        if run is not None and run.scenario_id == scenario.pk:
            return True
        if run is not None and run.caller_id:
            instance = Instance.objects.filter(pk=run.caller_id).first()
        else:
            instance = instance.parent
    return False


def scenario_start_from_block(
    *, ctx: Context, block_name: str, properties: Mapping[str, Any]
) -> ScenarioRun:
    """The Start smart scenario block's run-time checks, in Bitrix's order; the first that
    fails raises ``ScenarioRefused`` with Bitrix's message. Rights: the run-as user needs the
    "start processes" right on the target record."""
    template_id = _first(ctx.evaluate(properties.get("TemplateId")))
    raw_document = _first(ctx.evaluate(properties.get("DocumentId")))
    start_by = _first(ctx.evaluate(properties.get("StartBy")))
    try:
        template_number = int(str(template_id).strip())
    except ValueError:
        template_number = 0
    if template_number <= 0:
        raise ScenarioRefused(_("Invalid template ID."))
    if raw_document in (None, ""):
        raise ScenarioRefused(_("Item ID is missing."))
    if start_by in (None, ""):
        raise ScenarioRefused(_('The field "Run as user" is required.'))

    scenario = scenario_for_template_id(template_number)
    if scenario is None or not scenario.active or not scenario.template.active:
        raise ScenarioRefused(_("Smart scenario not found or inactive."))
    # What an expression chose must be what the version's publisher could have chosen.
    try:
        reference_check(version=ctx.version, document_type=scenario.document_type_triple)
        run_as_check(
            version=ctx.version,
            value=properties.get("StartBy"),
            document_type=ctx.version.template.document_type_triple,
        )
    except ReferenceRefused as refused:
        raise ScenarioRefused(refused.message) from None

    provider = document_providers.get(scenario.module)
    try:
        document_id = provider.normalize_id(
            raw_document, document_type=scenario.document_type_triple
        )
    except DocumentError:
        try:
            provider.normalize_id(raw_document)
        except DocumentError:
            raise ScenarioRefused(_("Cannot find item with this ID.")) from None
        raise ScenarioRefused(
            _("The type of the selected item ID is not supported by smart scenarios.")
        ) from None
    if not provider.exists(document_id):
        raise ScenarioRefused(_("Cannot find item with this ID."))

    ctx.scenario_launches += 1
    if ctx.scenario_launches > runtime.setting("SCENARIO_LAUNCH_LIMIT", 1000):
        raise ScenarioRefused(_("Maximum number of smart scenario launches exceeded."))

    if ScenarioRun.objects.filter(
        scenario=scenario, document_id=document_id, status__in=UNFINISHED_RUN
    ).exists():
        raise ScenarioRefused(_("This smart scenario is still running. You cannot start it again."))

    started = ctx.data(block_name).setdefault("started", [])
    if _is_recursive(ctx, scenario) or [scenario.pk, document_id] in started:
        raise ScenarioRefused(_("Smart scenario blocked because it calls itself recursively."))

    # Users in every form Bitrix writes them (``author``, a document field's array …).
    resolved = users_resolve(ctx, properties.get("StartBy"))
    user = get_user_model().objects.filter(pk=resolved[0]).first() if resolved else None
    if user is None or not scenario_may_run(user=user, scenario=scenario, document_id=document_id):
        raise ScenarioRefused(_("Insufficient permission to run smart scenario."))

    version = scenario.template.versions.latest("number")  # saving a scenario publishes it
    raw_parameters = {
        key: ctx.evaluate(value)
        for key, value in (properties.get("TemplateParameters") or {}).items()
    }
    try:
        typed = typed_parameters(version.parameters, raw_parameters)
    except ParametersRefused as refused:
        raise ScenarioRefused(next(iter(refused.errors.values()))) from None

    ctx.persist()
    run = run_queue(
        scenario=scenario,
        version=version,
        document_id=document_id,
        user=user,
        parameters=typed,
        caller=ctx.instance,
        caller_activity=block_name,
    )
    if run is None:
        raise ScenarioRefused(_("This smart scenario is still running. You cannot start it again."))
    started.append([scenario.pk, document_id])
    return run
