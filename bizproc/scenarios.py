"""Smart scenarios: create, import and export them, edit them in the designer, and run them on
records.

A run is queued first (``ScenarioRun``, status Queued) and executed by the task worker, which
starts the scenario's robots template — the version the run was queued with — on the record,
as the user who started the run (``TargetUser``). A partial unique constraint allows one
unfinished run per scenario and record. A worker holds a lease on the run while it starts it,
and the sweeper sends again a run whose task was lost or whose worker died, as it does for
processes.

The designer edits a scenario as it edits a template: its robots template's draft (the robots
are the root's children, its start parameters the draft's ``PARAMETERS``) changes one edit at a
time, each naming the draft revision it was based on (``StaleRevision`` otherwise) and refused
as a whole with a message (``EditRefused``); publishing checks everything and makes the version
new runs use.
"""

import dataclasses
import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskException
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from bizproc import journal, runtime
from bizproc import values as encoded
from bizproc.activities import activities
from bizproc.activities.base import Activity, Problem, ReferenceRefused, is_empty
from bizproc.design import RESERVED_PARAMETERS
from bizproc.documents import DocumentError, DocumentType, Operation, document_providers
from bizproc.fieldtypes import FieldValueError, user_id_of
from bizproc.models import (
    SCRIPT_FLAG,
    UNFINISHED_RUN,
    Instance,
    RunStatus,
    Scenario,
    ScenarioRun,
    Template,
    TemplateVersion,
)
from bizproc.schemas import schema_fields, schema_problems
from bizproc.scope import reference_check, run_as_check
from bizproc.services import (
    EditRefused,
    PublishRefused,
    draft_lock,
    draft_save,
    name_clean,
    template_publish,
    tree_delete,
    tree_insert,
    tree_move,
    tree_update,
)
from bizproc.tree import ROOT_NAME, Node, new_name, root_node
from bizproc.validation import block_problems, template_problems

EXPORT_FORMAT = "bizproc-designer/smart-scenario"
EXPORT_VERSION = 1


class ScenarioRefused(Exception):
    """A refused start or edit; ``message`` is in the active language. Nothing changed."""

    def __init__(
        self, message: str, errors: Mapping[str, str] | None = None, *, forbidden: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})
        self.forbidden = forbidden  # refused for want of rights (a 403 on pages and REST)


def default_name() -> str:
    return _("New scenario")


def _robots_problems(
    robots: Any, document_type: DocumentType, parameters: Any, constants: Any
) -> list[str]:
    if not isinstance(robots, list):
        return [_("The list of robots is damaged.")]
    problems = []
    for robot in robots:
        if not isinstance(robot, dict) or not isinstance(robot.get("Type"), str):
            problems.append(_("The list of robots is damaged."))
            continue
        activity_class = activities.get(robot["Type"])
        if not activities.is_known(robot["Type"]) or not activity_class.robot:
            problems.append(_("Unknown robot: %(type)s") % {"type": str(robot["Type"])[:100]})
            continue
        if not isinstance(robot.get("Properties", {}), dict):
            problems.append(_("The list of robots is damaged."))
            continue
        problems.extend(
            problem.message
            for problem in block_problems(
                node=robot,
                document_type=document_type,
                parameters=parameters,
                variables={},
                constants=constants,
            )
        )
    return problems


def _tree(robots: Sequence[Mapping[str, Any]]) -> dict:
    tree = root_node()
    taken = {"Template"}
    for robot in robots:
        name = robot.get("Name")
        if not isinstance(name, str) or not name or name in taken:
            name = new_name(taken)
        taken.add(name)
        tree["Children"].append(
            {
                "Type": robot["Type"],
                "Name": name,
                "Properties": dict(robot.get("Properties") or {}),
                "Children": [],
            }
        )
    return tree


def scenario_problems(
    *,
    document_type: DocumentType,
    name: str,
    parameters: Any,
    constants: Any,
    robots: Any,
) -> list[str]:
    """Everything wrong with a scenario's settings, schema and robots; writes nothing."""
    try:
        provider = document_providers.get(document_type.module)
    except DocumentError as error:
        return [error.message]
    if tuple(document_type) not in {tuple(t) for t in provider.document_types()}:
        return [_("Incorrect document type!")]
    if not isinstance(parameters, Mapping) or not isinstance(constants, Mapping):
        return [_("The file is damaged or incomplete.")]
    problems = [
        *(_("Start parameters: %(problem)s") % {"problem": p} for p in schema_problems(parameters)),
        *(_("Constants: %(problem)s") % {"problem": p} for p in schema_problems(constants)),
    ]
    if len(name) > 255:
        problems.append(_("The name is too long: at most %(max)d characters.") % {"max": 255})
    robot_problems = _robots_problems(robots, document_type, parameters, constants)
    problems.extend(robot_problems)
    if not problems:
        problems.extend(
            problem.message
            for problem in template_problems(
                tree=_tree(robots),
                parameters=parameters,
                variables={},
                constants=constants,
                document_type=document_type,
            )
        )
    return problems


@transaction.atomic
def scenario_save(
    *,
    user: Any,
    document_type: DocumentType,
    name: str = "",
    description: str = "",
    active: bool = True,
    sort: int = 500,
    parameters: Mapping[str, Any] | None = None,
    constants: Mapping[str, Any] | None = None,
    robots: Sequence[Mapping[str, Any]] = (),
    scenario: Scenario | None = None,
) -> Scenario:
    """Creates or replaces a scenario and publishes its robots as a new version.

    Everything is checked first (the schema, every robot and expression); on any problem
    ``ScenarioRefused`` lists them all and nothing is saved.
    """
    parameters, constants = dict(parameters or {}), dict(constants or {})
    name = (name or "").strip() or default_name()
    problems = scenario_problems(
        document_type=document_type,
        name=name,
        parameters=parameters,
        constants=constants,
        robots=robots,
    )
    if problems:
        raise ScenarioRefused(" ".join(problems), {str(i): p for i, p in enumerate(problems)})

    if scenario is None:
        template = Template.objects.create(
            module=document_type.module,
            entity=document_type.entity,
            document_type=document_type.type,
            name=name,
            auto_execute=SCRIPT_FLAG,
            created_by=user,
            modified_by=user,
        )
        scenario = Scenario(template=template, created_by=user)
    else:
        template = Template.objects.select_for_update().get(pk=scenario.template_id)
        template.revision += 1
    template.name = name
    template.tree = _tree(robots)
    template.parameters = parameters
    template.constants = constants
    template.modified_by = user
    template.save()
    try:
        template_publish(template=template, user=user)
    except PublishRefused as refused:
        messages = [problem.message for problem in refused.problems]
        raise ScenarioRefused(
            " ".join(messages), {str(i): m for i, m in enumerate(messages)}
        ) from None
    scenario.name, scenario.description = name, description or ""
    scenario.module, scenario.entity, scenario.document_type = document_type
    scenario.active, scenario.sort, scenario.modified_by = active, sort, user
    scenario.save()
    return scenario


def scenario_robots(source: Template | TemplateVersion) -> list[dict]:
    """The robots of a scenario's draft or of one of its versions: its tree is one list."""
    return list(source.tree.get("Children") or [])


def scenario_has_unpublished_changes(scenario: Scenario, version: TemplateVersion | None) -> bool:
    """Whether the draft differs from ``version`` (the latest published one, which runs use),
    or nothing is published yet."""
    template = scenario.template
    return version is None or (version.tree, version.parameters, version.constants) != (
        template.tree,
        template.parameters,
        template.constants,
    )


def robots_template(robots: Sequence[Node]) -> Node:
    """The robots in the shape Bitrix24 keeps a robots template in: the root, a parallel block,
    and one sequence holding the robots in order (the shape exports carry for Bitrix24)."""
    taken = {str(robot.get("Name")) for robot in robots}

    def name(base: str) -> str:  # the same on every export of the same robots
        number = 1
        while f"{base}{number}" in taken:
            number += 1
        return f"{base}{number}"

    sequence = {
        "Type": "SequenceActivity",
        "Name": name("Robots"),
        "Properties": {"Title": ""},
        "Children": [dict(robot) for robot in robots],
    }
    parallel = {
        "Type": "ParallelActivity",
        "Name": name("Stages"),
        "Properties": {"Title": ""},
        "Children": [sequence],
    }
    tree = root_node()
    tree["Children"] = [parallel]
    return tree


def robots_of_template(tree: Any) -> list[Node]:
    """The robots of a robots template in Bitrix24's shape (or in our flat one), in order: the
    parallel block's branches one after the other. A pause before a robot stays a robot of its
    own; a robot under a condition cannot be kept as a plain robot, and is refused."""
    if not isinstance(tree, Mapping) or not isinstance(tree.get("Children") or [], list):
        raise ScenarioRefused(_("The file is damaged or incomplete."))
    robots: list[Node] = []
    for child in tree.get("Children") or []:
        branches = [child]
        if isinstance(child, Mapping) and child.get("Type") == "ParallelActivity":
            branches = []
            for branch in child.get("Children") or []:
                if not isinstance(branch, Mapping) or branch.get("Type") != "SequenceActivity":
                    raise ScenarioRefused(_("The file is damaged or incomplete."))
                branches.extend(branch.get("Children") or [])
        for robot in branches:
            if isinstance(robot, Mapping) and robot.get("Type") == "IfElseActivity":
                raise ScenarioRefused(_("Robots that run under a condition cannot be imported."))
            robots.append(robot)
    return robots


def scenario_export(*, scenario: Scenario) -> dict:
    """The scenario as JSON: its settings, typed start parameters, constants and robots.

    The parameters and robots are those of the latest published version, which runs use and
    which importing the file publishes again; a draft's unpublished changes are not part of
    it (the draft only for a scenario never published). ``template`` holds the same robots in
    Bitrix24's robots-template shape (``robots_template``)."""
    source = scenario.template.latest_version or scenario.template
    robots = [
        {"Type": robot["Type"], "Name": robot["Name"], "Properties": robot.get("Properties", {})}
        for robot in scenario_robots(source)
    ]
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "name": scenario.name,
        "description": scenario.description,
        "document_type": list(scenario.document_type_triple),
        "active": scenario.active,
        "sort": scenario.sort,
        "parameters": source.parameters,
        "constants": source.constants,
        "robots": robots,
        "template": robots_template(robots),
    }


def scenario_import(*, data: bytes | str | Mapping[str, Any], user: Any) -> Scenario:
    """A new scenario from an export; refused as a whole, with every reason, if anything is off.
    Without ``robots``, the robots come from ``template``, a robots template in Bitrix24's
    shape."""
    if isinstance(data, bytes | str):
        if len(data) > 5 * 1024 * 1024:
            raise ScenarioRefused(_("The file is larger than %(max)s MB.") % {"max": 5})
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ScenarioRefused(_("The file is not a smart scenario export (JSON).")) from None
    if not isinstance(data, Mapping) or data.get("format") != EXPORT_FORMAT:
        raise ScenarioRefused(_("The file is not a smart scenario export (JSON)."))
    document_type = data.get("document_type")
    if not isinstance(document_type, list) or len(document_type) != 3:
        raise ScenarioRefused(_("Incorrect document type!"))
    for key, kind in (("parameters", dict), ("constants", dict), ("robots", list)):
        if not isinstance(data.get(key, kind()), kind):
            raise ScenarioRefused(_("The file is damaged or incomplete."))
    return scenario_save(
        user=user,
        document_type=DocumentType(*map(str, document_type)),
        name=str(data.get("name") or ""),
        description=str(data.get("description") or ""),
        active=bool(data.get("active", True)),
        sort=int(data["sort"]) if str(data.get("sort", "")).isdigit() else 500,
        parameters=data.get("parameters") or {},
        constants=data.get("constants") or {},
        robots=data["robots"] if "robots" in data else robots_of_template(data.get("template", {})),
    )


@transaction.atomic
def scenario_set_active(*, scenario: Scenario, active: bool, user: Any) -> None:
    Scenario.objects.filter(pk=scenario.pk).update(
        active=active, modified_by=user, modified_at=timezone.now()
    )
    scenario.refresh_from_db()


@transaction.atomic
def scenario_delete(*, scenario: Scenario, user: Any) -> None:
    """Deletes the scenario; its robots template stays, inactive, for the runs' journals."""
    Template.objects.filter(pk=scenario.template_id).update(active=False, modified_by=user)
    unfinished = ScenarioRun.objects.filter(scenario=scenario, status__in=UNFINISHED_RUN)
    stopped = list(unfinished.values_list("pk", "document_id"))
    unfinished.update(status=RunStatus.TERMINATED, finished_at=timezone.now())
    for run_id, document_id in stopped:
        journal.announce(document_id=document_id, run_id=run_id)
    scenario.delete()


def scenario_may_run(*, user: Any, scenario: Scenario, document_id: str) -> bool:
    """Running a scenario on a record needs the "start processes" right on that record."""
    provider = document_providers.get(scenario.module)
    return provider.can(user, Operation.START_PROCESS, document_id=document_id)


@dataclass
class StartOutcome:
    document_id: str
    run: ScenarioRun | None
    message: str = ""


def scenarios_start(
    *,
    scenario: Scenario,
    document_ids: Iterable[Any],
    user: Any,
    parameters: Mapping[str, Any] | None = None,
) -> list[StartOutcome]:
    """Queues a run per record (from a card, a list or REST). Refuses the whole request for a
    deactivated scenario, no records, a record the user may not run it on, no parameters at all
    where some are required and have no default, or bad parameters;
    a record that has an unfinished run of this scenario is reported and skipped."""
    if not scenario.active:
        raise ScenarioRefused(_("Cannot run the smart scenario because it is deactivated."))
    provider = document_providers.get(scenario.module)
    normalized = []
    for raw in document_ids:
        try:
            document_id = provider.normalize_id(raw, document_type=scenario.document_type_triple)
        except DocumentError as error:
            raise ScenarioRefused(error.message) from None
        if document_id not in normalized:
            normalized.append(document_id)
    if not normalized:
        raise ScenarioRefused(_("No items were selected."))
    for document_id in normalized:
        if not scenario_may_run(user=user, scenario=scenario, document_id=document_id):
            raise ScenarioRefused(
                _("Insufficient permission to run smart scenario."), forbidden=True
            )
    version = scenario.template.latest_version
    if not parameters and any(
        field.required and is_empty(version.parameters[code].get("Default"))
        for code, field in schema_fields(version.parameters).items()
    ):
        raise ScenarioRefused(_("Smart scenario parameters are missing."))
    typed = _typed_parameters(version.parameters, parameters or {})
    outcomes = []
    with transaction.atomic():
        for document_id in normalized:
            run = _queue(
                scenario=scenario,
                version=version,
                document_id=document_id,
                user=user,
                parameters=typed,
            )
            outcomes.append(
                StartOutcome(
                    document_id,
                    run,
                    ""
                    if run
                    else _("This smart scenario is still running. You cannot start it again."),
                )
            )
    return outcomes


def _typed_parameters(schema: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Converted parameter values; DOMAIN.md §3's messages for values that do not fit."""
    errors, typed = {}, {}
    for code, field in schema_fields(schema).items():
        value = raw.get(code, schema[code].get("Default"))
        try:
            converted = dataclasses.replace(field, required=False).convert(value)
        except FieldValueError as error:
            errors[code] = error.message
            continue
        if field.required and converted in (None, "", []):
            errors[code] = _("The required parameter is empty: %(name)s.") % {"name": field.name}
            continue
        typed[code] = converted
    if errors:
        raise ScenarioRefused(" ".join(errors.values()), errors)
    return typed


def _queue(
    *,
    scenario: Scenario,
    version: Any,
    document_id: str,
    user: Any,
    parameters: Mapping[str, Any],
    caller: Instance | None = None,
    caller_activity: str = "",
) -> ScenarioRun | None:
    """A queued run, or None when the record has an unfinished run of this scenario.

    The partial unique constraint decides under concurrency: the insert is in a savepoint.
    """
    if ScenarioRun.objects.filter(
        scenario=scenario, document_id=document_id, status__in=UNFINISHED_RUN
    ).exists():
        return None
    try:
        with transaction.atomic():
            run = ScenarioRun.objects.create(
                scenario=scenario,
                version=version,
                document_id=document_id,
                started_by=user,
                parameters=encoded.encode(dict(parameters)),
                caller=caller,
                caller_activity=caller_activity,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue(run.pk), robust=True)
    return run


def _enqueue(run_id: int) -> None:
    """Sends the run to the task queue and notes its task, by which the sweeper tells a run
    waiting its turn in a busy queue from one whose task was lost."""
    from bizproc.tasks import scenario_run_execute

    task_id = scenario_run_execute.enqueue(run_id).id
    with transaction.atomic():
        # A run a worker is starting right now is locked: no need to wait for it.
        waiting = ScenarioRun.objects.select_for_update(skip_locked=True).filter(
            pk=run_id, status=RunStatus.QUEUED
        )
        ScenarioRun.objects.filter(pk__in=list(waiting.values_list("pk", flat=True))).update(
            task_id=task_id
        )


def _task_pending(task_id: str, *, taken_since: datetime.datetime) -> bool:
    """Whether the run's task still waits in the queue, or a worker took it so recently that
    it may yet take the run (False when the task is unknown or finished, or the backend cannot
    tell)."""
    from bizproc.tasks import scenario_run_execute

    if not task_id:
        return False
    try:
        result = scenario_run_execute.get_result(task_id)
    except (TaskException, NotImplementedError):
        return False
    if result.status == TaskResultStatus.RUNNING:
        return result.started_at is not None and result.started_at > taken_since
    return result.status == TaskResultStatus.READY


def scenario_run_execute(run_id: int, *, worker_id: str = "") -> None:
    """The task: starts the run's process (its version, as its starter) on the record.

    Safe to run again (the sweeper may send a run twice). The lease is taken in its own
    committed transaction first, as ``runtime.instance_step`` does: a run another worker holds
    under a live lease, or one already started, is left alone; if this worker dies, the run's
    own transaction rolls back, the run stays Queued and its expired lease lets the sweeper
    send it again. The run leaves Queued in the transaction that creates its process, so the
    process starts once.
    """
    now = timezone.now()
    lease = datetime.timedelta(seconds=runtime.setting("LEASE_SECONDS", 60))
    worker_id = (worker_id or get_random_string(12))[:64]
    claimed = (
        ScenarioRun.objects.filter(pk=run_id, status=RunStatus.QUEUED)
        .filter(Q(owned_until__isnull=True) | Q(owned_until__lt=now))
        .update(owned_until=now + lease, owner=worker_id)
    )
    if not claimed:
        return
    with transaction.atomic():
        run = (
            ScenarioRun.objects.select_for_update(of=("self",))
            .select_related("scenario__template", "version", "started_by")
            .filter(pk=run_id, status=RunStatus.QUEUED, owner=worker_id)
            .first()
        )
        if run is None:
            return
        run.status = RunStatus.EXECUTING
        run.owned_until, run.owner = None, ""
        run.save(update_fields=["status", "owned_until", "owner"])
        try:
            runtime.workflow_start(
                template=run.scenario.template,
                version=run.version,
                document_id=run.document_id,
                user=run.started_by,
                parameters=encoded.decode(run.parameters),
                check_rights=False,
                scenario_run=run,
            )
        except runtime.ProcessRefused as refused:
            run.status = RunStatus.FAULT
            run.error = refused.message
            run.finished_at = timezone.now()
            run.save()
            journal.announce(document_id=run.document_id, run_id=run.pk)


def runs_sweep(*, now: datetime.datetime | None = None) -> int:
    """Sends queued runs to the task queue again when their worker died (the lease expired)
    or their task was lost (neither waiting in the queue nor just taken, yet no worker took the
    run within the grace period). Each run is looked at once per grace period at most; a run a
    worker is starting right now is locked and left alone. Returns how many were sent again."""
    now = now or timezone.now()
    grace = datetime.timedelta(seconds=runtime.setting("SWEEP_GRACE_SECONDS", 30))
    lease = datetime.timedelta(seconds=runtime.setting("LEASE_SECONDS", 60))
    overdue = ScenarioRun.objects.filter(status=RunStatus.QUEUED, sent_at__lte=now - grace).filter(
        Q(owned_until__isnull=True) | Q(owned_until__lt=now)
    )
    # Asking the task queue takes time: done before any row is locked.
    looked_at = list(overdue.values_list("pk", "owned_until", "task_id")[:1000])
    lost = {
        run_id
        for run_id, owned_until, task_id in looked_at
        if owned_until is not None or not _task_pending(task_id, taken_since=now - lease)
    }
    with transaction.atomic():
        # Runs a worker took meanwhile are locked, or no longer overdue: they are left out.
        free = set(
            overdue.select_for_update(skip_locked=True)
            .filter(pk__in=[run_id for run_id, *_rest in looked_at])
            .values_list("pk", flat=True)
        )
        ScenarioRun.objects.filter(pk__in=free).update(sent_at=now)
        resend = sorted(free & lost)
        # The dead worker's lease goes: from now on the new task tells whether the run waits.
        ScenarioRun.objects.filter(pk__in=resend).update(owned_until=None, owner="")
        for run_id in resend:
            # Sent while the run stays locked: no worker takes it before this commits.
            _enqueue(run_id)
    return len(resend)


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


def _is_recursive(runner: Any, scenario: Scenario) -> bool:
    """Whether the calling process is, or descends from, a run of this scenario (following
    parent processes and the processes that started runs)."""
    instance: Instance | None = runner.instance
    seen: set[str] = set()
    while instance is not None and instance.pk not in seen:
        seen.add(instance.pk)
        state = runner.state if instance is runner.instance else instance.state
        run = ScenarioRun.objects.filter(pk=state.get("run")).first() if state.get("run") else None
        if run is not None and run.scenario_id == scenario.pk:
            return True
        if run is not None and run.caller_id:
            instance = Instance.objects.filter(pk=run.caller_id).first()
        else:
            instance = instance.parent
    return False


def scenario_start_from_block(
    *, runner: Any, block_name: str, properties: Mapping[str, Any]
) -> ScenarioRun:
    """The Start smart scenario block's run-time checks, in Bitrix's order; the first that
    fails raises ``ScenarioRefused`` with Bitrix's message. Rights: the run-as user needs the
    "start processes" right on the target record."""
    template_id = _first(runner.evaluate(properties.get("TemplateId")))
    raw_document = _first(runner.evaluate(properties.get("DocumentId")))
    start_by = _first(runner.evaluate(properties.get("StartBy")))
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
        reference_check(version=runner.version, document_type=scenario.document_type_triple)
        run_as_check(
            version=runner.version,
            value=properties.get("StartBy"),
            document_type=runner.version.template.document_type_triple,
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

    runner.scenario_launches += 1
    if runner.scenario_launches > runtime.setting("SCENARIO_LAUNCH_LIMIT", 1000):
        raise ScenarioRefused(_("Maximum number of smart scenario launches exceeded."))

    if ScenarioRun.objects.filter(
        scenario=scenario, document_id=document_id, status__in=UNFINISHED_RUN
    ).exists():
        raise ScenarioRefused(_("This smart scenario is still running. You cannot start it again."))

    started = runner.data(block_name).setdefault("started", [])
    if _is_recursive(runner, scenario) or [scenario.pk, document_id] in started:
        raise ScenarioRefused(_("Smart scenario blocked because it calls itself recursively."))

    user = get_user_model().objects.filter(pk=user_id_of(str(start_by)), is_active=True).first()
    if user is None or not scenario_may_run(user=user, scenario=scenario, document_id=document_id):
        raise ScenarioRefused(_("Insufficient permission to run smart scenario."))

    version = scenario.template.latest_version
    raw_parameters = {
        key: runner.evaluate(value)
        for key, value in (properties.get("TemplateParameters") or {}).items()
    }
    try:
        typed = _typed_parameters(version.parameters, raw_parameters)
    except ScenarioRefused as refused:
        raise ScenarioRefused(next(iter(refused.errors.values()), refused.message)) from None

    runner.persist()
    run = _queue(
        scenario=scenario,
        version=version,
        document_id=document_id,
        user=user,
        parameters=typed,
        caller=runner.instance,
        caller_activity=block_name,
    )
    if run is None:
        raise ScenarioRefused(_("This smart scenario is still running. You cannot start it again."))
    started.append([scenario.pk, document_id])
    return run


# ---- the scenario editor ------------------------------------------------------------------


@transaction.atomic
def scenario_create(
    *,
    user: Any,
    document_type: DocumentType,
    name: str,
    description: str = "",
    active: bool = True,
) -> Scenario:
    """A new scenario with neither parameters nor robots, published as version 1 so that it can
    be picked and started at once (it does nothing until robots are added and published). Its
    document type is fixed from now on: its robots' fields and expressions depend on it."""
    try:
        return scenario_save(
            user=user,
            document_type=document_type,
            name=name_clean(name),
            description=description,
            active=active,
            robots=[],
        )
    except ScenarioRefused as refused:
        raise EditRefused(refused.message) from None


@transaction.atomic
def scenario_settings_update(
    *, scenario: Scenario, revision: int, user: Any, name: str, description: str, active: bool
) -> None:
    """Renames, describes, activates or deactivates the scenario (at once: these are not
    versioned) as the next draft revision."""
    locked = draft_lock(scenario.template, revision)
    locked.name = name_clean(name)
    draft_save(locked, scenario.template, user)
    scenario.name, scenario.description = locked.name, description or ""
    scenario.active, scenario.modified_by = active, user
    scenario.save()


def _parameter_problems(parameters: Mapping[str, Any]) -> list[Problem]:
    problems = [
        Problem(code="schema", parameter="parameters", message=message)
        for message in schema_problems(parameters)
    ]
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


def _parameter_or_refuse(parameters: Mapping[str, Any], code: str) -> None:
    if code not in parameters:
        raise EditRefused(
            _("There is no parameter %(id)s in this scenario.") % {"id": str(code)[:100]}
        )


@transaction.atomic
def scenario_parameter_save(
    *,
    scenario: Scenario,
    revision: int,
    user: Any,
    code: str,
    entry: Mapping[str, Any],
    replaces: str = "",
) -> None:
    """Adds a start parameter at the end, or replaces the one with the ID ``replaces`` in its
    place (``code`` may rename it). The whole schema must stay valid: a unique ID that is not
    reserved, a known type, options for a list, a default of the parameter's type."""
    locked = draft_lock(scenario.template, revision)
    current = dict(locked.parameters or {})
    if replaces:
        _parameter_or_refuse(current, replaces)
    others = {str(other).lower() for other in current if other != replaces}
    if str(code).lower() in others:
        raise EditRefused(_("The ID '%(id)s' is used twice.") % {"id": code})
    if replaces:
        parameters = {
            (code if other == replaces else other): (dict(entry) if other == replaces else value)
            for other, value in current.items()
        }
    else:
        parameters = {**current, code: dict(entry)}
    problems = _parameter_problems(parameters)
    if problems:
        raise EditRefused(" ".join(problem.message for problem in problems), problems)
    locked.parameters = parameters
    draft_save(locked, scenario.template, user)


@transaction.atomic
def scenario_parameter_move(
    *, scenario: Scenario, revision: int, user: Any, code: str, index: int
) -> None:
    """Puts a start parameter at ``index`` (the order the start form asks them in)."""
    locked = draft_lock(scenario.template, revision)
    current = dict(locked.parameters or {})
    _parameter_or_refuse(current, code)
    order = [other for other in current if other != code]
    if not isinstance(index, int) or not 0 <= index <= len(order):
        raise EditRefused(_("The position is not valid."))
    order.insert(index, code)
    locked.parameters = {other: current[other] for other in order}
    draft_save(locked, scenario.template, user)


@transaction.atomic
def scenario_parameter_delete(*, scenario: Scenario, revision: int, user: Any, code: str) -> None:
    """Removes a start parameter; robots still naming it are reported when publishing."""
    locked = draft_lock(scenario.template, revision)
    current = dict(locked.parameters or {})
    _parameter_or_refuse(current, code)
    locked.parameters = {other: value for other, value in current.items() if other != code}
    draft_save(locked, scenario.template, user)


def robot_class(robot_type: str) -> type[Activity]:
    """The activity class of a robot type; ``EditRefused`` for a type that is not a robot."""
    if not activities.is_known(robot_type):
        raise EditRefused(_("Unknown robot: %(type)s") % {"type": str(robot_type)[:100]})
    activity_class = activities.get(robot_type)
    if not activity_class.robot:
        raise EditRefused(
            _("“%(title)s” is not a robot: a smart scenario runs robots only.")
            % {"title": activity_class.title}
        )
    return activity_class


def scenario_robot(scenario: Scenario, name: str) -> Node:
    """The robot of that name in the scenario's draft (never the root); ``EditRefused`` else."""
    for robot in scenario.template.tree.get("Children") or []:
        if robot.get("Name") == name:
            return robot
    raise EditRefused(_("There is no robot %(name)s in this scenario.") % {"name": str(name)[:100]})


@transaction.atomic
def scenario_robot_add(
    *,
    scenario: Scenario,
    revision: int,
    user: Any,
    robot_type: str,
    index: int,
    properties: Mapping[str, Any] | None = None,
) -> str:
    """Puts a new robot at ``index`` in the scenario's list; returns its name."""
    robot_class(robot_type)
    return tree_insert(
        template=scenario.template,
        revision=revision,
        parent=ROOT_NAME,
        index=index,
        type=robot_type,
        properties=properties,
        user=user,
    )


@transaction.atomic
def scenario_robot_update(
    *, scenario: Scenario, revision: int, user: Any, name: str, properties: Mapping[str, Any]
) -> None:
    """Replaces a robot's settings (checked as the template editor checks a block's)."""
    robot_class(str(scenario_robot(scenario, name).get("Type")))
    tree_update(
        template=scenario.template, revision=revision, name=name, properties=properties, user=user
    )


@transaction.atomic
def scenario_robot_move(
    *, scenario: Scenario, revision: int, user: Any, name: str, index: int
) -> None:
    """Puts a robot at ``index`` among the others (counted once it has left its place)."""
    scenario_robot(scenario, name)
    tree_move(
        template=scenario.template,
        revision=revision,
        name=name,
        parent=ROOT_NAME,
        index=index,
        user=user,
    )


@transaction.atomic
def scenario_robot_delete(*, scenario: Scenario, revision: int, user: Any, name: str) -> None:
    scenario_robot(scenario, name)
    tree_delete(template=scenario.template, revision=revision, name=name, user=user)


@transaction.atomic
def scenario_publish(
    *, scenario: Scenario, revision: int, user: Any, comment: str = ""
) -> TemplateVersion:
    """Publishes the draft the editor shows as the version new runs use, or refuses with every
    problem (each robot's problems name the robot)."""
    locked = draft_lock(scenario.template, revision)
    problems = _parameter_problems(locked.parameters or {})
    for robot in locked.tree.get("Children") or []:
        try:
            robot_class(str(robot.get("Type")))
        except EditRefused as refused:
            problems.append(Problem("robot", "", refused.message, str(robot.get("Name"))))
        if robot.get("Children"):
            problems.append(
                Problem(
                    "structure",
                    "",
                    _("A robot cannot hold other blocks."),
                    str(robot.get("Name")),
                )
            )
    message = _("The scenario has problems and was not published.")
    if problems:
        raise PublishRefused(message, problems)
    try:
        return template_publish(template=locked, user=user, comment=comment)
    except PublishRefused as refused:
        raise PublishRefused(message, refused.problems) from None
