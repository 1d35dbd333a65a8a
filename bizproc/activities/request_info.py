"""Request information (Bitrix's "Запрос дополнительной информации"): a task whose form asks its
people for typed fields and writes the answers into the template's variables of those names.

``RequestInformationActivity`` waits for the first person to fill the fields in (or its time
limit) and goes on. ``RequestInformationOptionalActivity`` may also be declined: it then runs
its second branch ("Cancel", also on a time limit), else its first ("OK"). The fields
(``RequestedInformation``) are Bitrix's list of ``{Title, Name, Type, Required, Multiple,
Options, Default, Description}``, ``Name`` being the variable; saving the block brings those
variables into its template, as Bitrix's dialog does.
"""

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizproc import process_tasks
from bizproc.activities.base import (
    ActivityFault,
    ChildLayout,
    Problem,
    Property,
    PropertyType,
    Result,
    Status,
    ValidationContext,
    Widget,
    activities,
    is_empty,
)
from bizproc.activities.context import Context
from bizproc.activities.notify import user_ids
from bizproc.activities.standard import DURATION_UNITS, SEQUENCE, TITLE, _node, _truthy
from bizproc.activities.tasks import REVIEW_TYPES, TaskActivity
from bizproc.expressions import display_text
from bizproc.fieldtypes import Field, FieldType, FieldValueError
from bizproc.models import ProcessTask, TaskStatus
from bizproc.schemas import flag, schema_problems
from bizproc.tree import Node
from bizproc.values import decode

REQUESTED = "RequestedInformation"


def requested_fields(value: Any) -> list[dict[str, Any]]:
    """The block's fields as stored (a list, or PHP's array keyed 0, 1, … as a map)."""
    items = list(value.values()) if isinstance(value, Mapping) else value
    return [dict(item) for item in items or [] if isinstance(item, Mapping)]


def field_schema(fields: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The fields as a schema of variables (``bizproc.schemas``): keyed by ``Name``, named by
    ``Title``, with flags as ``"1"`` / ``"0"``."""
    schema = {}
    for item in fields:
        entry = {
            "Name": str(item.get("Title") or ""),
            "Description": str(item.get("Description") or ""),
            "Type": str(item.get("Type") or FieldType.STRING),
            "Required": "1" if flag(item.get("Required")) else "0",
            "Multiple": "1" if flag(item.get("Multiple")) else "0",
            "Default": item.get("Default", ""),
        }
        if item.get("Options"):
            entry["Options"] = item["Options"]
        schema[str(item.get("Name") or "")] = entry
    return schema


def _raw(value: Any) -> Any:
    """A typed value as a form or REST gives it back (dates in ISO form, yes/no as Y/N)."""
    if isinstance(value, list | tuple):
        return [_raw(item) for item in value]
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _properties(*, optional: bool) -> tuple[Property, ...]:
    cancel: tuple[Property, ...] = ()
    if optional:
        cancel = (
            Property(
                "TaskButtonCancelMessage",
                gettext_lazy("Decline button"),
                PropertyType.STRING,
                default=gettext_lazy("Decline"),
            ),
            Property(
                "CancelType",
                gettext_lazy("Who declines"),
                PropertyType.SELECT,
                options=REVIEW_TYPES,
                default="any",
            ),
        )
    return (
        TITLE,
        Property("Users", gettext_lazy("Users"), PropertyType.USER, required=True, multiple=True),
        Property("Name", gettext_lazy("Task name"), PropertyType.STRING, required=True),
        Property("Description", gettext_lazy("Task description"), PropertyType.TEXT),
        Property(REQUESTED, gettext_lazy("Fields to fill in"), PropertyType.FIELDS, required=True),
        Property(
            "TaskButtonMessage",
            gettext_lazy("Button"),
            PropertyType.STRING,
            default=gettext_lazy("Save"),
        ),
        *cancel,
        Property("ShowComment", gettext_lazy("Ask for a comment"), PropertyType.BOOL, default="Y"),
        Property(
            "CommentRequired",
            gettext_lazy("The comment is required"),
            PropertyType.BOOL,
            default="N",
        ),
        Property(
            "CommentLabelMessage",
            gettext_lazy("Comment label"),
            PropertyType.STRING,
            default=gettext_lazy("Comment"),
        ),
        Property(
            "SetStatusMessage", gettext_lazy("Set the state text"), PropertyType.BOOL, default="Y"
        ),
        Property(
            "StatusMessage",
            gettext_lazy("State text"),
            PropertyType.STRING,
            default=gettext_lazy("Waiting for additional information"),
        ),
        Property("TimeoutDuration", gettext_lazy("Time limit"), PropertyType.DURATION),
        Property(
            "TimeoutDurationType",
            gettext_lazy("Unit"),
            PropertyType.SELECT,
            options=DURATION_UNITS,
            widget=Widget.UNIT,
            default="s",
        ),
        # Kept from Bitrix files without acting on them.
        Property("OverdueDate", gettext_lazy("Due date"), PropertyType.DATETIME),
        Property(
            "AccessControl",
            gettext_lazy("Only the task's users see its details"),
            PropertyType.BOOL,
        ),
        Property("Parameters", gettext_lazy("Task parameters"), PropertyType.STRING),
        Property("DelegationType", gettext_lazy("Delegation"), PropertyType.STRING),
    )


class _RequestActivity(TaskActivity):
    """What both Request information blocks share: the fields, the task, the answers."""

    optional = False
    default_unit = "s"  # Bitrix's

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        raw = self.properties_values.get(REQUESTED)
        if is_empty(raw):
            return problems  # named as required
        fields = requested_fields(raw)
        if not fields:
            return [*problems, self.problem(REQUESTED, _("At least one field is required."))]
        names = [str(item.get("Name") or "") for item in fields]
        for name in {n for n in names if n and names.count(n) > 1}:
            problems.append(
                self.problem(REQUESTED, _("The ID '%(id)s' is used twice.") % {"id": name})
            )
        for message in schema_problems(field_schema(fields)):
            problems.append(self.problem(REQUESTED, message, "type"))
        return problems

    def warnings(self, ctx: ValidationContext) -> list[Problem]:
        known = {code.lower() for code in ctx.variables}
        return [
            self.problem(
                REQUESTED,
                _("The template has no variable %(name)s: the answer to “%(title)s” is not kept.")
                % {"name": item.get("Name"), "title": item.get("Title") or item.get("Name")},
                "variable",
            )
            for item in requested_fields(self.properties_values.get(REQUESTED))
            if item.get("Name") and str(item["Name"]).lower() not in known
        ]

    def variables_declared(self) -> dict[str, dict[str, Any]]:
        fields = requested_fields(self.properties_values.get(REQUESTED))
        return {code: entry for code, entry in field_schema(fields).items() if code}

    def _labels(self, ctx: Context) -> tuple[str, str]:
        values = self.properties_values
        save = display_text(ctx.evaluate(values.get("TaskButtonMessage"))) or _("Save")
        if not self.optional:
            return save, ""
        decline = display_text(ctx.evaluate(values.get("TaskButtonCancelMessage")))
        return save, decline or _("Decline")

    def _requested(self, ctx: Context) -> list[dict[str, Any]]:
        """The fields as the task keeps them: texts evaluated; an empty default is the
        variable's value, as Bitrix fills it in."""
        asked = []
        for item in requested_fields(self.properties_values.get(REQUESTED)):
            name = str(item.get("Name") or "").strip()
            if not name:
                continue
            default = ctx.evaluate(item.get("Default"))
            if is_empty(default):
                try:
                    default = ctx.lookup_any(["Variable"], name)
                except ActivityFault:
                    default = None
            asked.append(
                {
                    "Title": display_text(ctx.evaluate(item.get("Title"))) or name,
                    "Name": name,
                    "Description": display_text(ctx.evaluate(item.get("Description"))),
                    "Type": str(item.get("Type") or FieldType.STRING),
                    "Required": flag(item.get("Required")),
                    "Multiple": flag(item.get("Multiple")),
                    "Options": item.get("Options") or None,
                    "Default": "" if is_empty(default) else _raw(default),
                }
            )
        return asked

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        name = self.node["Name"]
        users = user_ids(ctx, ctx.evaluate(values.get("Users")))
        yes_label, no_label = self._labels(ctx)
        deadline = self._deadline(ctx)
        overdue = deadline or _moment(ctx.evaluate(values.get("OverdueDate")))
        cancel_type = str(ctx.evaluate(values.get("CancelType")) or "any")
        ctx.persist()  # the task points at the instance's row
        task = process_tasks.task_create(
            instance=ctx.instance,
            activity_name=name,
            kind=self.kind,
            user_ids=users,
            name=display_text(ctx.evaluate(values.get("Name"))) or self.display_title,
            description=display_text(ctx.evaluate(values.get("Description"))),
            yes_label=yes_label,
            no_label=no_label,
            comment_label=display_text(ctx.evaluate(values.get("CommentLabelMessage")))
            or _("Comment"),
            show_comment=_truthy(values.get("ShowComment", "Y")),
            approve_type=cancel_type if cancel_type in REVIEW_TYPES else "any",
            min_percent=50,
            wait_for_all=False,
            parameters={
                "REQUEST": self._requested(ctx),
                "CommentRequired": "Y" if _truthy(values.get("CommentRequired")) else "N",
                "AccessControl": "Y" if _truthy(values.get("AccessControl")) else "N",
            },
            overdue_at=overdue,
        )
        if task is None:
            raise ActivityFault(_("The task has no one to do it."))
        people = ", ".join(
            person.get_full_name()
            for person in get_user_model().objects.filter(process_tasks__task=task)
        )
        ctx.journal.custom(
            name,
            self.display_title,
            _("Additional information is to be provided by %(users)s") % {"users": people},
        )
        ctx.set_result(name, "TaskId", task.pk)
        data = ctx.data(name)
        data["task"] = task.pk
        if deadline is not None:
            data["until"] = deadline.isoformat()
        ctx.wait_for_task(name, task.pk, until=deadline)
        if _truthy(values.get("SetStatusMessage", "Y")):
            status = display_text(ctx.evaluate(values.get("StatusMessage")))
            ctx.set_state_title(status or _("Waiting for additional information"))
        return Status.WAITING

    def _answer_note(self, task: ProcessTask, answer: Any) -> str:
        comment = f": {answer.comment}" if answer.comment else ""
        person = answer.user.get_full_name()
        if answer.status == TaskStatus.CANCELED:
            return _("User %(person)s has canceled additional information%(comment)s") % {
                "person": person,
                "comment": comment,
            }
        return _("User %(person)s has provided additional information%(comment)s") % {
            "person": person,
            "comment": comment,
        }

    def _results(self, answers: list[Any]) -> dict[str, Any]:
        answered = self._answered(answers, TaskStatus.OK, TaskStatus.CANCELED)
        return {"InfoUser": answered["last"], "Comments": answered["last_comment"]}

    def _keep_answers(self, ctx: Context, task: ProcessTask) -> None:
        """The values given go into the variables of the fields' names; a variable the
        template lacks is named in an Error row and the process goes on."""
        answer = next(
            (a for a in process_tasks.task_answers(task=task) if a.status == TaskStatus.OK), None
        )
        if answer is None:
            return
        given = decode(answer.response or {})
        changed = []
        for item in task.parameters.get("REQUEST") or []:
            code = str(item.get("Name") or "")
            value = given.get(code)
            if _raw(value) != item.get("Default") and not (
                is_empty(value) and is_empty(item.get("Default"))
            ):
                changed.append(str(item.get("Title") or code))
            try:
                ctx.set_variable(code, value)
            except ActivityFault as fault:
                ctx.journal.error(self.node["Name"], self.display_title, fault.message)
        self._changes(ctx, changed)

    def _changes(self, ctx: Context, changed: list[str]) -> None:
        """The plain block tells which fields were changed (``Changes``)."""


def _moment(value: Any) -> datetime.datetime | None:
    """``OverdueDate`` as a moment; one that is not a date and time is no due date."""
    try:
        moment = Field("OverdueDate", "", FieldType.DATETIME).convert(value)
    except FieldValueError:
        return None
    return moment if isinstance(moment, datetime.datetime) else None


@activities.register
class RequestInformationActivity(_RequestActivity):
    type = "RequestInformationActivity"
    title = gettext_lazy("Request for additional information")
    kind = "request"
    properties = _properties(optional=False)
    results = (
        Result("TaskId", gettext_lazy("Task ID"), FieldType.INT),
        Result("Comments", gettext_lazy("Comment"), FieldType.STRING),
        Result("IsTimeout", gettext_lazy("Time limit reached"), FieldType.INT),
        Result("InfoUser", gettext_lazy("Information provided by"), FieldType.USER),
        Result("Changes", gettext_lazy("Changed fields"), FieldType.STRING),
    )

    def resume(self, ctx: Context) -> Status:
        task = self._settled(ctx)
        if task is None:
            return Status.WAITING
        if task.status == TaskStatus.OK:
            self._keep_answers(ctx, task)
        else:
            ctx.set_result(self.node["Name"], "Changes", [])
        return Status.CLOSED

    def _changes(self, ctx: Context, changed: list[str]) -> None:
        ctx.set_result(self.node["Name"], "Changes", changed)


@activities.register
class RequestInformationOptionalActivity(_RequestActivity):
    type = "RequestInformationOptionalActivity"
    title = gettext_lazy("Request for additional information (can be declined)")
    kind = "optional_request"
    optional = True
    composite = True
    child_layout = ChildLayout.LIST
    child_types = frozenset({SEQUENCE})
    properties = _properties(optional=True)
    results = (
        Result("TaskId", gettext_lazy("Task ID"), FieldType.INT),
        Result("Comments", gettext_lazy("Comment"), FieldType.STRING),
        Result("IsTimeout", gettext_lazy("Time limit reached"), FieldType.INT),
        Result("InfoUser", gettext_lazy("Information provided by"), FieldType.USER),
    )

    @classmethod
    def new_children(cls, new_name: Callable[[], str]) -> list[Node]:
        return [
            _node(SEQUENCE, new_name(), {"Title": _("OK")}),
            _node(SEQUENCE, new_name(), {"Title": _("Declined")}),
        ]

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        if len(self.node.get("Children") or []) != 2:
            problems.append(
                self.problem(
                    "",
                    _("The request needs two branches: information given and declined."),
                    "structure",
                )
            )
        return problems

    def resume(self, ctx: Context) -> Status:
        task = self._settled(ctx)
        if task is None:
            return Status.WAITING
        if task.status == TaskStatus.OK:
            self._keep_answers(ctx, task)
            index = 0
        else:  # declined, or the time limit passed (Bitrix runs the second branch for both)
            index = 1
        branches = self.children()
        if index >= len(branches):
            return Status.CLOSED
        ctx.schedule(branches[index]["Name"])
        return Status.EXECUTING

    def on_child_closed(self, ctx: Context, child_name: str) -> Status:
        return Status.CLOSED
