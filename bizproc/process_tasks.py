"""Tasks processes give people (the Approve, Review and Request information blocks): creating
them, the rule that settles them, and answering them. The answer that settles a task wakes the
block waiting for it (``runtime.task_settled``); the others' copies of the task leave their
lists."""

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bizproc import runtime, values
from bizproc.documents import document_providers
from bizproc.models import Instance, ProcessTask, ProcessTaskUser, TaskStatus
from bizproc.notifications import Notice, notices_send
from bizproc.parameters import ParametersRefused, convert
from bizproc.schemas import flag

# The kinds of Request information's tasks: the answer fills in fields; the optional one may
# be declined.
REQUEST_KINDS = ("request", "optional_request")
COMMENT = "task_comment"  # the comment's key among a refusal's ``errors`` (Bitrix's name)


class TaskRefused(Exception):
    """An answer that cannot be taken; ``errors``: messages by field code (``COMMENT`` for the
    comment) when the answer's values are what is wrong."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


def task_create(
    *,
    instance: Instance,
    activity_name: str,
    kind: str,
    user_ids: Sequence[int],
    name: str,
    description: str,
    yes_label: str,
    no_label: str,
    comment_label: str,
    show_comment: bool,
    approve_type: str,
    min_percent: int,
    wait_for_all: bool,
    parameters: Mapping[str, Any] | None = None,
    overdue_at: datetime.datetime | None = None,
) -> ProcessTask | None:
    """The task, given to those of ``user_ids`` who are active users, each told so by a
    notification in their language; None when none is active."""
    users = list(get_user_model().objects.filter(pk__in=user_ids, is_active=True))
    if not users:
        return None
    task = ProcessTask.objects.create(
        instance=instance,
        activity_name=activity_name,
        document_id=instance.document_id,
        kind=kind,
        name=name[:255],
        description=description,
        yes_label=yes_label[:255],
        no_label=no_label[:255],
        comment_label=comment_label[:255],
        show_comment=show_comment,
        approve_type=approve_type,
        min_percent=min_percent,
        wait_for_all=wait_for_all,
        parameters=dict(parameters or {}),
        overdue_at=overdue_at,
    )
    ProcessTaskUser.objects.bulk_create(ProcessTaskUser(task=task, user=user) for user in users)
    link = reverse("bizproc:task-detail", args=[task.pk])
    notices = []
    for user in users:
        with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
            text = _("A new task for you: “%(name)s”.") % {"name": task.name}
        notices.append(Notice(user.pk, text, link=link))
    notices_send(notices=notices)
    return task


def task_decision(task: ProcessTask, answers: Sequence[int]) -> TaskStatus | None:
    """How the task stands given each assignee's answer (``TaskStatus``); None: undecided.

    Any one: the first answer decides. All: one rejection rejects, every approval approves.
    A review is done when any one (or all) of its people have read it.
    By vote: approved once the approvals reach ``min_percent`` of the assignees, rejected once
    they no longer can; with ``wait_for_all``, only when everyone has voted.
    """
    total = len(answers)
    yes = sum(1 for answer in answers if answer in (TaskStatus.YES, TaskStatus.OK))
    no = sum(1 for answer in answers if answer == TaskStatus.NO)
    waiting = total - yes - no
    if task.kind in REQUEST_KINDS:
        # The first to fill the fields in settles it; declining takes anyone, or everyone
        # when ``approve_type`` (Bitrix's CancelType) is "all".
        declined = sum(1 for answer in answers if answer == TaskStatus.CANCELED)
        if yes:
            return TaskStatus.OK
        if declined and (task.approve_type != "all" or declined == total):
            return TaskStatus.CANCELED
        return None
    if task.kind == "review":
        return TaskStatus.OK if yes and (task.approve_type != "all" or not waiting) else None
    if task.approve_type == "all":
        if no:
            return TaskStatus.NO
        return TaskStatus.YES if not waiting else None
    if task.approve_type == "vote":
        if task.wait_for_all and waiting:
            return None
        if yes * 100 >= task.min_percent * total:
            return TaskStatus.YES
        if (yes + waiting) * 100 < task.min_percent * total or not waiting:
            return TaskStatus.NO
        return None
    if yes:
        return TaskStatus.YES
    return TaskStatus.NO if no else None


@transaction.atomic
def task_answer(
    *,
    task: ProcessTask,
    user: Any,
    approve: bool,
    comment: str = "",
    fields: Mapping[str, Any] | None = None,
) -> ProcessTask:
    """Records the user's answer; when it settles the task, wakes the waiting block.

    ``approve``: yes or no to an approval; a review is read either way; Request information's
    ``fields`` are given (``approve``) or the request declined (its optional kind). Values are
    checked against the fields asked for and kept typed; a refusal names each wrong one.

    The process's row is locked before the task's, in the order a step and a stop take them:
    the other order deadlocks with a step timing the task out or a stop cancelling it."""
    Instance.objects.select_for_update().filter(pk=task.instance_id).first()
    locked = ProcessTask.objects.select_for_update().get(pk=task.pk)
    mine = locked.assignees.filter(user=user).first()
    if mine is None:
        raise TaskRefused(_("This task is not yours."))
    if locked.status != TaskStatus.WAITING:
        raise TaskRefused(_("This task has been completed already."))
    if mine.status != TaskStatus.WAITING:
        raise TaskRefused(_("You have answered this task already."))
    comment = comment.strip()
    response: dict[str, Any] = {}
    if locked.kind in REQUEST_KINDS:
        if not approve and locked.kind != "optional_request":
            raise TaskRefused(_("This request cannot be declined."))
        errors = _comment_errors(locked, comment)
        try:
            if approve:
                answers = request_values(locked, fields or {})
                errors |= _files_not_givable(locked, answers, user)
                response = values.encode(answers)
        except TaskRefused as refused:
            errors = refused.errors | errors
        if errors:
            raise TaskRefused(" ".join(errors.values()), errors)
    now = timezone.now()
    if locked.kind == "review" or (locked.kind in REQUEST_KINDS and approve):
        mine.status = TaskStatus.OK
    elif locked.kind in REQUEST_KINDS:
        mine.status = TaskStatus.CANCELED
    else:
        mine.status = TaskStatus.YES if approve else TaskStatus.NO
    mine.comment = comment
    mine.response = response
    mine.answered_at = now
    mine.save(update_fields=["status", "comment", "response", "answered_at"])
    decided = task_decision(locked, list(locked.assignees.values_list("status", flat=True)))
    if decided is not None:
        locked.status = decided
        locked.completed_at = now
        locked.save(update_fields=["status", "completed_at"])
        runtime.task_settled(
            instance_id=locked.instance_id, name=locked.activity_name, task_id=locked.pk
        )
    return locked


def _files_not_givable(task: ProcessTask, answers: Mapping[str, Any], user: Any) -> dict:
    """An error per file answer the person may not give (another person's upload)."""
    provider = document_providers.get(task.instance.module)
    errors = {}
    for name, field in request_schema(task).items():
        if field["Type"] != "file":
            continue
        given = answers.get(name)
        for file_id in given if isinstance(given, list) else [given] if given else []:
            if not provider.file_givable(file_id, user=user, document_id=task.document_id):
                errors[name] = _("The file %(id)s is not yours to give.") % {"id": file_id}
    return errors


def request_fields(task: ProcessTask) -> list[dict[str, Any]]:
    """The fields a Request information task asks for, in Bitrix's shape (``Name`` is the
    variable the answer goes to, ``Title`` what people read), unnamed ones left out."""
    fields = task.parameters.get("REQUEST") or []
    return [dict(f) for f in fields if isinstance(f, Mapping) and str(f.get("Name") or "").strip()]


def request_schema(task: ProcessTask) -> dict[str, dict[str, Any]]:
    """The fields as a schema of parameters (``bizproc.schemas``), keyed by variable."""
    return {
        str(f["Name"]): {
            "Name": str(f.get("Title") or f["Name"]),
            "Type": f.get("Type") or "string",
            "Required": "1" if flag(f.get("Required")) else "0",
            "Multiple": "1" if flag(f.get("Multiple")) else "0",
            "Options": f.get("Options") or {},
            "Description": f.get("Description") or "",
        }
        for f in request_fields(task)
    }


def request_values(task: ProcessTask, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every requested field's typed value from ``raw`` (a field not given is empty);
    ``TaskRefused`` names each value that does not fit and each required one left empty."""
    try:
        return convert(
            request_schema(task),
            {key: value for key, value in raw.items() if value not in (None, "")},
            required_message=_("The required value ('%(name)s') is missing."),
        )
    except ParametersRefused as refused:
        raise TaskRefused(refused.message, refused.errors) from None


def _comment_errors(task: ProcessTask, comment: str) -> dict[str, str]:
    """The comment's error when the task requires one and it is empty (``COMMENT``)."""
    shown = flag(task.show_comment)
    if shown and not comment and flag(task.parameters.get("CommentRequired", "N")):
        label = task.comment_label or _("Comment")
        return {COMMENT: _("The '%(label)s' field is required.") % {"label": label}}
    return {}


COMMENT_LENGTH = 5000


def comment_problem(comment: str) -> str | None:
    """Why an answer's comment cannot be kept, if it cannot."""
    if len(comment) > COMMENT_LENGTH:
        return _("The comment is too long (at most %(count)d characters).") % {
            "count": COMMENT_LENGTH
        }
    if "\x00" in comment:
        return _("The comment contains a character that cannot be saved.")
    return None


def task_time_out(*, task: ProcessTask) -> ProcessTask:
    """The time limit passed with the task open (an approval counts as not approved)."""
    ProcessTask.objects.filter(pk=task.pk, status=TaskStatus.WAITING).update(
        status=TaskStatus.TIMEOUT, completed_at=timezone.now()
    )
    task.refresh_from_db()
    return task


def task_answers(*, task: ProcessTask) -> list[ProcessTaskUser]:
    return list(task.assignees.select_related("user", "task").order_by("pk"))


def tasks_open(*, user: Any) -> QuerySet[ProcessTask]:
    """The tasks waiting for the user's answer, oldest first."""
    return ProcessTask.objects.filter(
        status=TaskStatus.WAITING,
        assignees__user=user,
        assignees__status=TaskStatus.WAITING,
    ).order_by("created_at", "pk")


def tasks_done(*, user: Any) -> QuerySet[ProcessTask]:
    """The user's tasks no longer waiting for them (answered, settled by others, canceled)."""
    mine = ProcessTaskUser.objects.filter(user=user).exclude(
        status=TaskStatus.WAITING, task__status=TaskStatus.WAITING
    )
    return ProcessTask.objects.filter(pk__in=mine.values("task")).order_by("-created_at", "-pk")
