"""What a smart scenario is made of and how it changes: its settings, start parameters and
robots, checked as a whole before anything is saved.

A scenario is saved whole (``scenario_save``: the admin, import, the demo data), or edited in
the designer as a template is: its robots template's draft (the robots are the root's children,
its start parameters the draft's ``PARAMETERS``) changes one edit at a time, each naming the
draft revision it was based on (``StaleRevision`` otherwise) and refused as a whole with a
message (``EditRefused``); publishing checks everything and makes the version new runs use.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bizproc import journal
from bizproc.activities import activities
from bizproc.activities.base import Activity, Problem
from bizproc.design import RESERVED_PARAMETERS
from bizproc.documents import DocumentError, DocumentType, document_providers
from bizproc.models import (
    SCRIPT_FLAG,
    UNFINISHED_RUN,
    RunStatus,
    Scenario,
    ScenarioRun,
    Template,
    TemplateVersion,
)
from bizproc.schemas import schema_problems
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
        scenario.template = template  # what it publishes below is the caller's to run
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


# ---- the designer: one edit of the draft at a time -----------------------------------------


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
        return template_publish(template=scenario.template, user=user, comment=comment)
    except PublishRefused as refused:
        raise PublishRefused(message, refused.problems) from None
