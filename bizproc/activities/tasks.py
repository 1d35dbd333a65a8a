"""Tasks for people (Bitrix's "Задания"): Approve document and Review document.

The block gives each of its users a task (``bizproc.process_tasks``) and waits; an answer that
settles the task wakes it. Approve then runs its first branch (approved) or its second
(rejected); Review simply goes on. A timeout (``TimeoutDuration``) settles an open task as not
approved. Answers are written to the journal when the block wakes.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizproc import process_tasks
from bizproc.activities.base import (
    Activity,
    ActivityFault,
    Category,
    ChildLayout,
    Problem,
    Property,
    PropertyType,
    Result,
    Status,
    ValidationContext,
    Widget,
    activities,
    has_expression,
    is_empty,
)
from bizproc.activities.context import Context
from bizproc.activities.standard import (
    DURATION_UNITS,
    SEQUENCE,
    TITLE,
    UNIT_SECONDS,
    _as_float,
    _node,
    _truthy,
    moment_after,
)
from bizproc.expressions import display_text
from bizproc.fieldtypes import FieldType
from bizproc.models import ProcessTask, TaskStatus
from bizproc.tree import Node
from bizproc.user_values import users_resolve

APPROVE_TYPES = {
    "any": gettext_lazy("Any one of them"),
    "all": gettext_lazy("All of them"),
    "vote": gettext_lazy("By vote"),
}
REVIEW_TYPES = {"any": APPROVE_TYPES["any"], "all": APPROVE_TYPES["all"]}

# What both blocks keep from Bitrix files without acting on them.
KEPT = (
    Property("OverdueDate", gettext_lazy("Due date"), PropertyType.DATETIME),
    Property(
        "AccessControl", gettext_lazy("Only the task's users see its details"), PropertyType.BOOL
    ),
    Property("Parameters", gettext_lazy("Task parameters"), PropertyType.STRING),
)


def _common(buttons: tuple[Property, ...], types: dict[str, Any]) -> tuple[Property, ...]:
    return (
        TITLE,
        Property("Users", gettext_lazy("Users"), PropertyType.USER, required=True, multiple=True),
        Property(
            "ApproveType",
            gettext_lazy("Who decides"),
            PropertyType.SELECT,
            options=types,
            default="any",
        ),
        Property("Name", gettext_lazy("Task name"), PropertyType.STRING, required=True),
        Property("Description", gettext_lazy("Task description"), PropertyType.TEXT),
        *buttons,
        Property("ShowComment", gettext_lazy("Ask for a comment"), PropertyType.BOOL, default="N"),
        Property(
            "CommentLabelMessage",
            gettext_lazy("Comment label"),
            PropertyType.STRING,
            default=gettext_lazy("Comment"),
        ),
        Property(
            "SetStatusMessage", gettext_lazy("Set the state text"), PropertyType.BOOL, default="Y"
        ),
        Property("StatusMessage", gettext_lazy("State text"), PropertyType.STRING),
        Property("TimeoutDuration", gettext_lazy("Time limit"), PropertyType.DURATION),
        Property(
            "TimeoutDurationType",
            gettext_lazy("Unit"),
            PropertyType.SELECT,
            options=DURATION_UNITS,
            widget=Widget.UNIT,
            default="d",
        ),
        *KEPT,
    )


class TaskActivity(Activity):
    """What Approve and Review share: the task, the wait, the answers in the journal."""

    category = Category.TASKS
    kind: str
    summary_from_node = True
    default_unit = "d"  # of ``TimeoutDuration`` when a block has no ``TimeoutDurationType``

    @classmethod
    def new_properties(cls) -> dict[str, Any]:
        # Lazy defaults (button labels) are stored in the language the block was added in.
        return {key: str(value) for key, value in super().new_properties().items()}

    def _labels(self, ctx: Context) -> tuple[str, str]:
        """The buttons' labels: approve, reject."""
        raise NotImplementedError

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        users = users_resolve(ctx, values.get("Users"))
        yes_label, no_label = self._labels(ctx)
        approve_type = str(ctx.evaluate(values.get("ApproveType")) or "any")
        percent = ctx.evaluate(values.get("ApproveMinPercent"))
        min_percent = int(_as_float(percent, str(_("Percent of votes needed to approve")))) or 50
        min_percent = max(1, min(min_percent, 100))  # 0 would approve on a single "no"
        deadline = self._deadline(ctx)
        ctx.persist()  # the task points at the instance's row
        task = process_tasks.task_create(
            instance=ctx.instance,
            activity_name=self.node["Name"],
            kind=self.kind,
            user_ids=users,
            name=display_text(ctx.evaluate(values.get("Name"))) or self.display_title,
            description=display_text(ctx.evaluate(values.get("Description"))),
            yes_label=yes_label,
            no_label=no_label,
            comment_label=display_text(ctx.evaluate(values.get("CommentLabelMessage"))),
            show_comment=_truthy(values.get("ShowComment")),
            approve_type=approve_type if approve_type in APPROVE_TYPES else "any",
            min_percent=min_percent,
            wait_for_all=_truthy(values.get("ApproveWaitForAll")),
        )
        if task is None:
            raise ActivityFault(_("The task has no one to do it."))
        data = ctx.data(self.node["Name"])
        data["task"] = task.pk
        if deadline is not None:
            data["until"] = deadline.isoformat()
        ctx.wait_for_task(self.node["Name"], task.pk, until=deadline)
        if _truthy(values.get("SetStatusMessage", "Y")) and values.get("StatusMessage"):
            ctx.set_state_title(display_text(ctx.evaluate(values["StatusMessage"])))
        return Status.WAITING

    def _deadline(self, ctx: Context) -> datetime.datetime | None:
        values = self.properties_values
        duration = ctx.evaluate(values.get("TimeoutDuration"))
        if not duration or not _as_float(duration, str(_("Time limit"))):
            return None
        unit = str(ctx.evaluate(values.get("TimeoutDurationType")) or self.default_unit)
        seconds = _as_float(duration, str(_("Time limit"))) * UNIT_SECONDS.get(
            unit, UNIT_SECONDS[self.default_unit]
        )
        return moment_after(ctx, seconds)

    def _settled(self, ctx: Context) -> ProcessTask | None:
        """The task once settled (an answer, or the time limit past); None: wait on."""
        name = self.node["Name"]
        task = ProcessTask.objects.get(pk=ctx.data(name)["task"])
        if task.status == TaskStatus.WAITING:
            deadline = self._deadline_kept(ctx)
            if deadline is None or ctx.now < deadline:
                ctx.wait_for_task(name, task.pk, until=deadline)
                return None
            task = process_tasks.task_time_out(task=task)
            ctx.set_result(name, "IsTimeout", 1)
        else:
            ctx.set_result(name, "IsTimeout", 0)
        answers = process_tasks.task_answers(task=task)
        for answer in answers:
            if answer.answered_at is not None:
                ctx.journal.custom(name, self.display_title, self._answer_note(task, answer))
        for result, value in self._results(answers).items():
            ctx.set_result(name, result, value)
        return task

    def _deadline_kept(self, ctx: Context) -> datetime.datetime | None:
        deadline = ctx.data(self.node["Name"]).get("until")
        return datetime.datetime.fromisoformat(deadline) if deadline else None

    def _answer_note(self, task: ProcessTask, answer: Any) -> str:
        note = f"{answer.user.get_full_name()}: {answer.answer_label}"
        return f"{note}. {answer.comment}" if answer.comment else note

    def _results(self, answers: list[Any]) -> dict[str, Any]:
        """The block's results (``{=Block:Result}``) from its task's answers."""
        raise NotImplementedError

    @staticmethod
    def _answered(answers: list[Any], *statuses: TaskStatus) -> dict[str, Any]:
        """What both blocks tell of the answers with ``statuses``, oldest first: the last one's
        person and comment, and every comment."""
        answered = sorted((a for a in answers if a.status in statuses), key=lambda a: a.answered_at)
        last = answered[-1] if answered else None
        return {
            "answered": answered,
            "last": f"user_{last.user_id}" if last else "",
            "last_comment": last.comment if last else "",
            "comments": "\n".join(
                f"{a.user.get_full_name()}: {a.comment}" for a in answered if a.comment
            ),
        }

    def summary(self) -> str:
        return str(self.properties_values.get("Name") or "")[:60]


@activities.register
class ApproveActivity(TaskActivity):
    type = "ApproveActivity"
    title = gettext_lazy("Approve document")
    kind = "approve"
    composite = True
    child_layout = ChildLayout.LIST
    child_types = frozenset({SEQUENCE})
    properties = _common(
        (
            Property(
                "ApproveMinPercent",
                gettext_lazy("Percent of votes needed to approve"),
                PropertyType.INT,
                default="50",
            ),
            Property(
                "ApproveWaitForAll",
                gettext_lazy("Wait for every vote"),
                PropertyType.BOOL,
                default="N",
            ),
            Property(
                "TaskButton1Message",
                gettext_lazy("Approve button"),
                PropertyType.STRING,
                default=gettext_lazy("Approve"),
            ),
            Property(
                "TaskButton2Message",
                gettext_lazy("Reject button"),
                PropertyType.STRING,
                default=gettext_lazy("Reject"),
            ),
        ),
        APPROVE_TYPES,
    )
    results = (
        Result("LastApprover", gettext_lazy("Last to answer"), FieldType.USER),
        Result("LastApproverComment", gettext_lazy("Last answer's comment"), FieldType.STRING),
        Result("Comments", gettext_lazy("Comments"), FieldType.TEXT),
        Result("Approvers", gettext_lazy("Who approved"), FieldType.STRING),
        Result("Rejecters", gettext_lazy("Who rejected"), FieldType.STRING),
        Result("VotedCount", gettext_lazy("Votes"), FieldType.INT),
        Result("TotalCount", gettext_lazy("Users"), FieldType.INT),
        Result("ApprovedCount", gettext_lazy("Approved"), FieldType.INT),
        Result("NotApprovedCount", gettext_lazy("Rejected"), FieldType.INT),
        Result("VotedPercent", gettext_lazy("Percent voted"), FieldType.INT),
        Result("ApprovedPercent", gettext_lazy("Percent approved"), FieldType.INT),
        Result("NotApprovedPercent", gettext_lazy("Percent rejected"), FieldType.INT),
        Result("IsTimeout", gettext_lazy("Time limit reached"), FieldType.INT),
    )

    @classmethod
    def new_children(cls, new_name: Callable[[], str]) -> list[Node]:
        return [
            _node(SEQUENCE, new_name(), {"Title": _("Approved")}),
            _node(SEQUENCE, new_name(), {"Title": _("Rejected")}),
        ]

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        if len(self.node.get("Children") or []) != 2:
            problems.append(
                self.problem(
                    "", _("Approval needs two branches: approved and rejected."), "structure"
                )
            )
        percent = self.properties_values.get("ApproveMinPercent")
        checkable = not (
            is_empty(percent)
            or has_expression(percent)
            or any(problem.parameter == "ApproveMinPercent" for problem in problems)
        )
        if checkable and not 1 <= float(str(percent).replace(",", ".")) <= 100:
            problems.append(
                self.problem("ApproveMinPercent", _("The percent must be from 1 to 100."), "type")
            )
        return problems

    def _labels(self, ctx: Context) -> tuple[str, str]:
        values = self.properties_values
        return (
            display_text(ctx.evaluate(values.get("TaskButton1Message"))) or _("Approve"),
            display_text(ctx.evaluate(values.get("TaskButton2Message"))) or _("Reject"),
        )

    def resume(self, ctx: Context) -> Status:
        task = self._settled(ctx)
        if task is None:
            return Status.WAITING
        branches = self.children()
        index = 0 if task.status == TaskStatus.YES else 1
        if index >= len(branches):
            return Status.CLOSED
        ctx.schedule(branches[index]["Name"])
        return Status.EXECUTING

    def on_child_closed(self, ctx: Context, child_name: str) -> Status:
        return Status.CLOSED

    def _results(self, answers: list[Any]) -> dict[str, Any]:
        approved = [a for a in answers if a.status == TaskStatus.YES]
        rejected = [a for a in answers if a.status == TaskStatus.NO]
        answered = self._answered(answers, TaskStatus.YES, TaskStatus.NO)
        voted, total = len(answered["answered"]), len(answers) or 1
        return {
            "LastApprover": answered["last"],
            "LastApproverComment": answered["last_comment"],
            "Comments": answered["comments"],
            "Approvers": ", ".join(a.user.get_full_name() for a in approved),
            "Rejecters": ", ".join(a.user.get_full_name() for a in rejected),
            "VotedCount": voted,
            "TotalCount": len(answers),
            "ApprovedCount": len(approved),
            "NotApprovedCount": len(rejected),
            "VotedPercent": round(100 * voted / total),
            "ApprovedPercent": round(100 * len(approved) / total),
            "NotApprovedPercent": round(100 * len(rejected) / total),
        }


@activities.register
class ReviewActivity(TaskActivity):
    type = "ReviewActivity"
    title = gettext_lazy("Review document")
    kind = "review"
    properties = _common(
        (
            Property(
                "TaskButtonMessage",
                gettext_lazy("Button"),
                PropertyType.STRING,
                default=gettext_lazy("Reviewed"),
            ),
        ),
        REVIEW_TYPES,
    )
    results = (
        Result("LastReviewer", gettext_lazy("Last to review"), FieldType.USER),
        Result("LastReviewerComment", gettext_lazy("Last review's comment"), FieldType.STRING),
        Result("Comments", gettext_lazy("Comments"), FieldType.TEXT),
        Result("ReviewedCount", gettext_lazy("Reviewed"), FieldType.INT),
        Result("TotalCount", gettext_lazy("Users"), FieldType.INT),
        Result("IsTimeout", gettext_lazy("Time limit reached"), FieldType.INT),
    )

    def _labels(self, ctx: Context) -> tuple[str, str]:
        label = display_text(ctx.evaluate(self.properties_values.get("TaskButtonMessage")))
        return label or _("Reviewed"), ""

    def resume(self, ctx: Context) -> Status:
        return Status.WAITING if self._settled(ctx) is None else Status.CLOSED

    def _results(self, answers: list[Any]) -> dict[str, Any]:
        reviewed = self._answered(answers, TaskStatus.OK)
        return {
            "LastReviewer": reviewed["last"],
            "LastReviewerComment": reviewed["last_comment"],
            "Comments": reviewed["comments"],
            "ReviewedCount": len(reviewed["answered"]),
            "TotalCount": len(answers),
        }
