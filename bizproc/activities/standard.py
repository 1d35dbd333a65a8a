"""The standard activities of a business-process template (Bitrix types and properties)."""

import datetime
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from bizproc.activities import conditions
from bizproc.activities.base import (
    UNKNOWN_FIELD,
    Activity,
    ActivityFault,
    Category,
    ChildLayout,
    MapKeys,
    Problem,
    Property,
    PropertyType,
    Reference,
    ReferenceRefused,
    Result,
    Status,
    TerminateProcess,
    ValidationContext,
    Widget,
    activities,
    has_expression,
    is_empty,
)
from bizproc.activities.context import Context
from bizproc.bounds import LATEST
from bizproc.expressions import display_text
from bizproc.fieldtypes import Field, FieldType, FieldValueError
from bizproc.tree import Node
from bizproc.user_values import users_resolve

SEQUENCE = "SequenceActivity"
IF_ELSE = "IfElseActivity"
IF_ELSE_BRANCH = "IfElseBranchActivity"

TITLE = Property("Title", pgettext_lazy("block", "Title"), PropertyType.STRING)


def _truthy(value: Any) -> bool:
    try:
        return bool(Field("v", "v", FieldType.BOOL).convert(value))
    except FieldValueError:
        return False


def _node(type_: str, name: str, properties: dict[str, Any]) -> Node:
    return {"Type": type_, "Name": name, "Properties": properties, "Children": []}


def _branch_title(number: int) -> dict[str, Any]:
    """A parallel branch's properties: its number."""
    return {"Title": _("Branch %(number)d") % {"number": number}}


@activities.register
class SequentialWorkflowActivity(Activity):
    type = "SequentialWorkflowActivity"
    title = gettext_lazy("Sequential business process")
    category = Category.CONSTRUCTIONS
    composite = True
    child_layout = ChildLayout.LIST
    designer = False
    parent_types = frozenset()  # only ever the root


@activities.register
class SequenceActivity(Activity):
    type = SEQUENCE
    title = gettext_lazy("Sequence of activities")
    category = Category.CONSTRUCTIONS
    composite = True
    child_layout = ChildLayout.LIST
    designer = False  # made by its parent (a parallel branch, a loop body)


class ConditionalActivity(Activity):
    """A block carrying a condition (a branch of IfElse, a While loop)."""

    # Whether a block without any condition holds always (Bitrix's "else" branch).
    unconditional_when_unset: ClassVar[bool] = False

    def condition_rows(self) -> list[conditions.Row] | None:
        """The condition's rows; None when it always holds ("otherwise")."""
        values = self.properties_values
        if self.unconditional_when_unset and conditions.condition_kind(values) is None:
            return None
        return conditions.condition_rows(values)

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        try:
            rows = self.condition_rows()
        except conditions.ConditionError as error:
            return [*problems, self.problem("Condition", error.message, "condition")]
        if rows is None:
            return problems
        if not rows:
            return [
                *problems,
                self.problem("Condition", _("The condition is not set."), "required"),
            ]
        for row in rows:
            target = _condition_target(row, ctx)
            if target is None:
                problems.append(
                    self.problem(
                        "Condition",
                        _("The condition refers to an unknown field: %(field)s")
                        % {"field": row.field},
                        UNKNOWN_FIELD if row.object.lower() == "document" else "unknown",
                    )
                )
                continue
            if row.operator in conditions.VALUELESS or is_empty(row.value):
                continue
            value_field = target
            if row.operator in ("in", "!in", "contain", "!contain"):
                value_field = Field(target.code, target.name, target.type, options=target.options)
            problems.extend(self._validate_typed("Condition", value_field, row.value, ctx))
        return problems

    def matches(self, ctx: Context) -> bool:
        try:
            rows = self.condition_rows()
        except conditions.ConditionError as error:
            raise ActivityFault(error.message) from None
        if rows is None:
            return True
        values = []
        for row in rows:
            objects = [row.object] if row.object else ["Variable", "Template", "Constant"]
            left = ctx.lookup_any(objects, row.field)
            right = row.value
            if isinstance(right, list):
                right = [ctx.evaluate(item) for item in right]
            else:
                right = ctx.evaluate(right)
            if row.object.lower() == "document":
                right = _option_keys(ctx.document_fields(), row.field, right)
            values.append((left, right))
        return conditions.rows_match(rows, values)

    def summary(self) -> str:
        try:
            rows = self.condition_rows()
        except conditions.ConditionError:
            return _("condition not set")
        if rows is None:
            return _("otherwise")
        parts = []
        for index, row in enumerate(rows):
            if index:
                parts.append(_("or") if row.join_or else _("and"))
            value = "" if row.operator in conditions.VALUELESS else f" {row.value}"
            parts.append(f"{row.field} {conditions.OPERATORS[row.operator]}{value}")
        return " ".join(parts) or _("condition not set")


def _option_keys(fields: Mapping[str, Field], code: str, value: Any) -> Any:
    """A list field compared with an option's name compares with the option's key (the
    field holds keys): publishing accepts either, as the field's conversion does."""
    found = next((f for name, f in fields.items() if name.lower() == code.lower()), None)
    if found is None or found.type != FieldType.SELECT or not found.options:
        return value
    keys = {str(name): key for key, name in found.options.items()}

    def key_of(item: Any) -> Any:
        text = str(item)
        return item if text in found.options else keys.get(text, item)

    return [key_of(item) for item in value] if isinstance(value, list) else key_of(value)


def _condition_target(row: conditions.Row, ctx: ValidationContext) -> Field | None:
    """The field a condition row compares; variables and parameters share one namespace."""
    sources: dict[str, Any] = {
        "document": ctx.document_fields,
        "variable": ctx.variables,
        "template": ctx.parameters,
        "constant": ctx.constants,
    }
    if row.object:
        pools = [sources.get(row.object.lower())] if row.object.lower() in sources else []
        if not pools:
            # A block's result: its type is not known statically.
            return Field(row.field, row.field, FieldType.STRING)
    else:
        pools = [ctx.variables, ctx.parameters, ctx.constants]
    for pool in pools:
        for code, found in (pool or {}).items():
            if code.lower() == row.field.lower():
                return found
    return None


@activities.register
class IfElseActivity(Activity):
    type = IF_ELSE
    title = gettext_lazy("Condition")
    category = Category.CONSTRUCTIONS
    composite = True
    child_layout = ChildLayout.BRANCHES
    branch_type = IF_ELSE_BRANCH
    child_types = frozenset({IF_ELSE_BRANCH})

    @classmethod
    def new_branch_properties(cls, parent: Node) -> dict[str, Any]:
        """A branch starts with an empty condition, which publishing asks to fill in."""
        return {"Title": _("Condition"), conditions.FIELD: []}

    @classmethod
    def new_children(cls, new_name: Callable[[], str]) -> list[Node]:
        return [
            _node(IF_ELSE_BRANCH, new_name(), cls.new_branch_properties({})),
            _node(IF_ELSE_BRANCH, new_name(), {"Title": _("Otherwise"), conditions.OTHERWISE: "1"}),
        ]

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        if not self.node.get("Children"):
            problems.append(
                self.problem("", _("A condition needs at least one branch."), "structure")
            )
        return problems

    def execute(self, ctx: Context) -> Status:
        """Runs the first branch whose condition holds; none: the block is done."""
        for branch in self.children():
            if IfElseBranchActivity(branch).matches(ctx):
                ctx.schedule(branch["Name"])
                return Status.EXECUTING
        return Status.CLOSED

    def on_child_closed(self, ctx: Context, child_name: str) -> Status:
        return Status.CLOSED


@activities.register
class IfElseBranchActivity(ConditionalActivity):
    type = IF_ELSE_BRANCH
    title = gettext_lazy("Condition branch")
    category = Category.CONSTRUCTIONS
    composite = True
    child_layout = ChildLayout.LIST
    designer = False  # added through its condition
    parent_types = frozenset({IF_ELSE})
    # Bitrix runs a branch without a condition as the "else" branch.
    unconditional_when_unset = True
    properties = (
        TITLE,
        Property(
            "Condition",
            gettext_lazy("Condition"),
            PropertyType.CONDITIONS,
            widget=Widget.BRANCH_CONDITIONS,
        ),
    )


@activities.register
class WhileActivity(ConditionalActivity):
    type = "WhileActivity"
    title = gettext_lazy("While loop")
    category = Category.CONSTRUCTIONS
    composite = True
    child_layout = ChildLayout.LOOP
    child_types = frozenset({SEQUENCE})
    properties = (TITLE, Property("Condition", gettext_lazy("Condition"), PropertyType.CONDITIONS))

    @classmethod
    def new_properties(cls) -> dict[str, Any]:
        return {"Title": str(cls.title), conditions.FIELD: []}

    @classmethod
    def new_children(cls, new_name: Callable[[], str]) -> list[Node]:
        return [_node(SEQUENCE, new_name(), {"Title": _("Loop body")})]

    def execute(self, ctx: Context) -> Status:
        ctx.data(self.node["Name"])["turns"] = 0
        return self._turn(ctx)

    def on_child_closed(self, ctx: Context, child_name: str) -> Status:
        return self._turn(ctx)

    def _turn(self, ctx: Context) -> Status:
        """Another turn while the condition holds, within the iteration budget (a setting)."""
        if not self.children() or not self.matches(ctx):
            return Status.CLOSED
        data = ctx.data(self.node["Name"])
        limit = ctx.loop_limit
        if data["turns"] >= limit:
            ctx.journal.error(
                self.node["Name"],
                self.display_title,
                _("The loop stopped after %(limit)d turns: its iteration budget.")
                % {"limit": limit},
            )
            raise TerminateProcess(pgettext("process", "Terminated"))
        data["turns"] += 1
        body = self.children()[0]
        ctx.reset(body)
        ctx.schedule(body["Name"])
        return Status.EXECUTING


@activities.register
class ParallelActivity(Activity):
    type = "ParallelActivity"
    title = gettext_lazy("Parallel execution")
    category = Category.CONSTRUCTIONS
    composite = True
    child_layout = ChildLayout.BRANCHES
    branch_type = SEQUENCE
    child_types = frozenset({SEQUENCE})

    @classmethod
    def new_branch_properties(cls, parent: Node) -> dict[str, Any]:
        """A branch is numbered after those the block has."""
        return _branch_title(len(parent.get("Children") or []) + 1)

    @classmethod
    def new_children(cls, new_name: Callable[[], str]) -> list[Node]:
        return [_node(SEQUENCE, new_name(), _branch_title(number)) for number in (1, 2)]

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        if len(self.node.get("Children") or []) < 2:
            problems.append(
                self.problem("", _("Parallel execution needs at least two branches."), "structure")
            )
        return problems

    def execute(self, ctx: Context) -> Status:
        names = [child["Name"] for child in self.children()]
        if not names:
            return Status.CLOSED
        ctx.data(self.node["Name"])["pending"] = names
        for name in names:
            ctx.schedule(name)
        return Status.EXECUTING

    def on_child_closed(self, ctx: Context, child_name: str) -> Status:
        """Joins when every branch has finished."""
        pending = ctx.data(self.node["Name"])["pending"]
        if child_name in pending:
            pending.remove(child_name)
        return Status.EXECUTING if pending else Status.CLOSED


UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _as_float(value: Any, name: str) -> float:
    try:
        return float(Field("v", name, FieldType.DOUBLE).convert(value) or 0)
    except FieldValueError as error:
        raise ActivityFault(error.message) from None


def moment_after(ctx: Context, seconds: float) -> datetime.datetime:
    """The step's now plus ``seconds`` (none if negative); a wait that would end after the
    last day the calendar holds is a fault, not an overflow."""
    if seconds > (LATEST - ctx.now).total_seconds():
        raise ActivityFault(_("The wait is too long: it would end after the year 9999."))
    return ctx.now + datetime.timedelta(seconds=max(seconds, 0))


DURATION_UNITS = {
    "s": gettext_lazy("seconds"),
    "m": gettext_lazy("minutes"),
    "h": gettext_lazy("hours"),
    "d": gettext_lazy("days"),
}


@activities.register
class DelayActivity(Activity):
    type = "DelayActivity"
    title = gettext_lazy("Pause execution")
    category = Category.CONSTRUCTIONS
    robot = True
    properties = (
        TITLE,
        Property("TimeoutDuration", gettext_lazy("Wait for"), PropertyType.DURATION),
        Property(
            "TimeoutDurationType",
            gettext_lazy("Unit"),
            PropertyType.SELECT,
            options=DURATION_UNITS,
            widget=Widget.UNIT,
            default="s",
        ),
        Property("TimeoutTime", gettext_lazy("Wait until"), PropertyType.DATETIME),
        # Bitrix's robot pause: count the pause in this person's working time (the company's
        # working calendar, in their time zone) and end it within working time.
        Property(
            "WaitWorkDayUser",
            gettext_lazy("Working time only, of"),
            PropertyType.USER,
            multiple=True,
        ),
    )

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        values = self.properties_values
        duration, until = values.get("TimeoutDuration"), values.get("TimeoutTime")
        working_time_only = not is_empty(values.get("WaitWorkDayUser"))
        if is_empty(duration) and is_empty(until) and not working_time_only:
            problems.append(
                self.problem(
                    "TimeoutDuration",
                    _("Set how long to wait or until when."),
                    "required",
                )
            )
        elif not is_empty(duration):
            field = Field("TimeoutDuration", str(_("Wait for")), FieldType.DOUBLE)
            problems.extend(self._validate_typed("TimeoutDuration", field, duration, ctx))
            negative = (
                not problems
                and not has_expression(duration)
                and float(str(duration).replace(",", ".")) < 0
            )
            if negative:
                problems.append(
                    self.problem("TimeoutDuration", _("A pause cannot be negative."), "type")
                )
        return problems

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        duration = ctx.evaluate(values.get("TimeoutDuration"))
        people = users_resolve(ctx, values.get("WaitWorkDayUser"))
        if people:
            until = self._working_time_end(ctx, people[0], duration)
        elif not is_empty(duration):
            unit = str(ctx.evaluate(values.get("TimeoutDurationType")) or "s")
            seconds = _as_float(duration, str(_("Wait for"))) * UNIT_SECONDS.get(unit, 1)
            until = moment_after(ctx, seconds)
        else:
            moment = ctx.evaluate(values.get("TimeoutTime"))
            field = Field("TimeoutTime", str(_("Wait until")), FieldType.DATETIME)
            try:
                until = field.convert(moment)
            except FieldValueError as error:
                raise ActivityFault(error.message) from None
            if until is None:
                raise ActivityFault(_("Set how long to wait or until when."))
        if until <= ctx.now:
            return Status.CLOSED
        ctx.wait_until(self.node["Name"], until)
        return Status.WAITING

    def _working_time_end(self, ctx: Context, person: int, duration: Any) -> datetime.datetime:
        """When a pause counted in the person's working time ends: the duration in working
        time (a day is a working day, as ``workdateadd`` counts it) from now, or the moment
        to wait until; either moved to the nearest working time (now's, without either)."""
        values = self.properties_values
        environment = ctx.environment()
        calendar = environment.calendar()
        zone = environment.user_zone(f"user_{person}") or calendar.zone()
        try:
            if not is_empty(duration):
                unit = str(ctx.evaluate(values.get("TimeoutDurationType")) or "s")
                per_unit = calendar.day_seconds if unit == "d" else UNIT_SECONDS.get(unit, 1)
                amount = max(_as_float(duration, str(_("Wait for"))), 0.0) * per_unit
                if amount > (LATEST - ctx.now).total_seconds():
                    raise OverflowError
                local = ctx.now.astimezone(zone).replace(tzinfo=None)
                local = calendar.add_work_time(local, round(amount))
            else:
                start = ctx.now
                if not is_empty(values.get("TimeoutTime")):
                    field = Field("TimeoutTime", str(_("Wait until")), FieldType.DATETIME)
                    try:
                        start = field.convert(ctx.evaluate(values.get("TimeoutTime"))) or start
                    except FieldValueError as error:
                        raise ActivityFault(error.message) from None
                local = calendar.nearest_work_time(start.astimezone(zone).replace(tzinfo=None))
            if local.date() > LATEST.date():
                raise OverflowError
        except (OverflowError, ValueError):
            raise ActivityFault(
                _("The wait is too long: it would end after the year 9999.")
            ) from None
        return local.replace(tzinfo=zone)

    def summary(self) -> str:
        values = self.properties_values
        working = _(", working time") if not is_empty(values.get("WaitWorkDayUser")) else ""
        if not is_empty(values.get("TimeoutDuration")):
            unit = DURATION_UNITS.get(str(values.get("TimeoutDurationType") or "s"), "")
            return f"{values['TimeoutDuration']} {unit}{working}"
        if not is_empty(values.get("TimeoutTime")):
            return _("until %(time)s") % {"time": values["TimeoutTime"]} + working
        return _("until working time") if working else ""


@activities.register
class RobotDelayActivity(DelayActivity):
    """Bitrix's robot pause, as robots templates exported from Bitrix name it: the Pause block
    under Bitrix's type, so that such files run and export unchanged (ours offer the Pause
    block itself as a robot)."""

    type = "RobotDelayActivity"
    title = gettext_lazy("Robot pause")
    designer = False
    robot = False


@activities.register
class SetFieldActivity(Activity):
    type = "SetFieldActivity"
    title = gettext_lazy("Modify document")
    category = Category.DOCUMENT
    robot = True
    properties = (
        TITLE,
        Property(
            "FieldValue",
            gettext_lazy("Fields"),
            PropertyType.MAP,
            required=True,
            map_keys=MapKeys.DOCUMENT_FIELDS,
        ),
    )

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        values = self.properties_values.get("FieldValue")
        for code in values if isinstance(values, dict) else {}:
            found = ctx.document_fields.get(code)
            if found is not None and found.read_only:
                problems.append(
                    self.problem(
                        "FieldValue",
                        _("The field '%(name)s' is read-only.") % {"name": found.name},
                        "read_only",
                    )
                )
        return problems

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values.get("FieldValue") or {}
        ctx.document_write({code: ctx.evaluate(value) for code, value in values.items()})
        return Status.CLOSED

    def summary(self) -> str:
        values = self.properties_values.get("FieldValue")
        return ", ".join(map(str, values)) if isinstance(values, dict) else ""


@activities.register
class SetVariableActivity(Activity):
    type = "SetVariableActivity"
    title = gettext_lazy("Set variables")
    category = Category.CONSTRUCTIONS
    properties = (
        TITLE,
        Property(
            "VariableValue",
            gettext_lazy("Variables"),
            PropertyType.MAP,
            required=True,
            map_keys=MapKeys.VARIABLES,
        ),
    )

    def execute(self, ctx: Context) -> Status:
        for name, value in (self.properties_values.get("VariableValue") or {}).items():
            ctx.set_variable(name, ctx.evaluate(value))
        return Status.CLOSED

    def summary(self) -> str:
        values = self.properties_values.get("VariableValue")
        return ", ".join(map(str, values)) if isinstance(values, dict) else ""


@activities.register
class LogActivity(Activity):
    type = "LogActivity"
    title = gettext_lazy("Write to report")
    category = Category.OTHER
    properties = (
        TITLE,
        Property("Text", gettext_lazy("Text"), PropertyType.TEXT, required=True),
        Property("SetVariable", gettext_lazy("Also set a variable"), PropertyType.BOOL),
    )

    def execute(self, ctx: Context) -> Status:
        text = ctx.evaluate(self.properties_values.get("Text"))
        ctx.journal.report(self.node["Name"], self.display_title, display_text(text))
        return Status.CLOSED

    def summary(self) -> str:
        return Truncator(str(self.properties_values.get("Text") or "")).chars(60)


@activities.register
class StartWorkflowActivity(Activity):
    type = "StartWorkflowActivity"
    title = gettext_lazy("Run business process")
    category = Category.DOCUMENT
    properties = (
        TITLE,
        Property(
            "DocumentId",
            gettext_lazy("Item ID"),
            PropertyType.STRING,
            required=True,
            default="{=Document:ID}",
            reference=Reference.DOCUMENT,
        ),
        Property(
            "TemplateId",
            gettext_lazy("Template"),
            PropertyType.INT,
            required=True,
            reference=Reference.TEMPLATE,
            widget=Widget.TEMPLATE,
        ),
        Property(
            "TemplateParameters",
            gettext_lazy("Start parameters"),
            PropertyType.MAP,
            map_keys=MapKeys.PARAMETERS,
        ),
        Property(
            "UseSubscription",
            gettext_lazy("Wait for the process to finish"),
            PropertyType.BOOL,
            default="N",
        ),
    )
    results = (Result("WorkflowId", gettext_lazy("Process ID"), FieldType.STRING),)

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        parameters = {
            key: ctx.evaluate(value)
            for key, value in (values.get("TemplateParameters") or {}).items()
        }
        try:
            child = ctx.start_child(
                template_id=ctx.evaluate(values.get("TemplateId")),
                document_id=ctx.evaluate(values.get("DocumentId")),
                parameters=parameters,
                activity_name=self.node["Name"],
            )
        except ReferenceRefused as refused:
            # Like the Start smart scenario block's checks: reported, and the process goes on.
            ctx.journal.error(self.node["Name"], self.display_title, refused.message)
            return Status.CLOSED
        ctx.set_result(self.node["Name"], "WorkflowId", child.pk)
        wait = _truthy(ctx.evaluate(values.get("UseSubscription")))
        if wait and not child.is_finished:
            ctx.wait_for_child(self.node["Name"], child.pk)
            return Status.WAITING
        return Status.CLOSED

    def summary(self) -> str:
        values = self.properties_values
        return _("template %(id)s on %(document)s") % {
            "id": values.get("TemplateId") or "?",
            "document": values.get("DocumentId") or "?",
        }


@activities.register
class TerminateActivity(Activity):
    type = "TerminateActivity"
    title = gettext_lazy("Terminate process")
    category = Category.CONSTRUCTIONS
    properties = (TITLE, Property("StateTitle", gettext_lazy("Status text"), PropertyType.STRING))

    def execute(self, ctx: Context) -> Status:
        raise TerminateProcess(display_text(ctx.evaluate(self.properties_values.get("StateTitle"))))


@activities.register
class SetStateTitleActivity(Activity):
    type = "SetStateTitleActivity"
    title = gettext_lazy("Set state name")
    category = Category.OTHER
    properties = (
        TITLE,
        Property(
            "TargetStateTitle", gettext_lazy("State name"), PropertyType.STRING, required=True
        ),
    )

    def execute(self, ctx: Context) -> Status:
        title = ctx.evaluate(self.properties_values.get("TargetStateTitle"))
        ctx.set_state_title(display_text(title))
        return Status.CLOSED

    def summary(self) -> str:
        return str(self.properties_values.get("TargetStateTitle") or "")
