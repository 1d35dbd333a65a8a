"""The Tasks page: what processes ask of the signed-in user (the Approve, Review and Request
information blocks), and answering. A task is shown to the people it was given to, and to no
one else (404). Request information asks for its fields with the start form's typed inputs."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bizproc.documents import document_providers
from bizproc.forms import StartParametersForm
from bizproc.models import ProcessTask, TaskStatus
from bizproc.process_tasks import (
    COMMENT,
    REQUEST_KINDS,
    TaskRefused,
    comment_problem,
    request_fields,
    request_schema,
    task_answer,
    task_answers,
    tasks_done,
    tasks_open,
)

SHOWN = 100


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    related = ("instance__template",)
    open_tasks = list(tasks_open(user=request.user).select_related(*related)[:SHOWN])
    context = {
        "open_tasks": _with_items(open_tasks),
        "done_tasks": list(tasks_done(user=request.user).select_related(*related)[:20]),
    }
    return render(request, "bizproc/task_list.html", context)


def _with_items(tasks: list[ProcessTask]) -> list[tuple[ProcessTask, str, str]]:
    """Each task with its item as a person knows it: the item's name and page."""
    titles: dict[str, dict[str, str]] = {}
    for module in {task.instance.module for task in tasks}:
        ids = [task.document_id for task in tasks if task.instance.module == module]
        titles[module] = document_providers.get(module).titles(ids)
    return [
        (
            task,
            titles[task.instance.module][task.document_id],
            document_providers.get(task.instance.module).url(task.document_id),
        )
        for task in tasks
    ]


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = (
        ProcessTask.objects.filter(pk=pk, assignees__user=request.user.pk)
        .select_related("instance__template")
        .first()
    )
    if task is None:
        raise Http404
    error, status = "", 200
    comment_error = ""
    form = _fields_form(task, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        answer = request.POST.get("answer")
        comment = request.POST.get("comment", "")
        if answer not in ("yes", "no") or (answer == "no" and not task.no_label):
            error, status = _("Choose one of the answers."), 422
        elif problem := comment_problem(comment):
            error, status = problem, 422
        elif form is not None and answer == "yes" and not form.is_valid():
            error, status = _("Check the values."), 422
        else:
            try:
                task_answer(
                    task=task,
                    user=request.user,
                    approve=answer == "yes",
                    comment=comment,
                    fields=form.cleaned_data if form is not None and answer == "yes" else None,
                )
            except TaskRefused as refused:
                error, status = refused.message, 409
                if refused.errors:
                    error, status = _("Check the values."), 422
                    comment_error = refused.errors.pop(COMMENT, "")
                    for code, message in refused.errors.items():
                        if form is not None:
                            form.add_error(code if code in form.fields else None, message)
                task.refresh_from_db()
            else:
                messages.success(request, _("Your answer was sent: “%(name)s”.") % {"name": task})
                return redirect("bizproc:task-list")
    answers = task_answers(task=task)
    mine = next(answer for answer in answers if answer.user_id == request.user.pk)
    provider = document_providers.get(task.instance.module)
    context = {
        "task": task,
        "mine": mine,
        "answers": answers,
        "may_answer": task.status == TaskStatus.WAITING and mine.status == TaskStatus.WAITING,
        "document_url": provider.url(task.document_id),
        "error": error,
        "comment_error": comment_error,
        "comment_required": task.parameters.get("CommentRequired") == "Y",
        "form": form,
        "comment": request.POST.get("comment", "") if error else "",
    }
    return render(request, "bizproc/task_detail.html", context, status=status)


def _fields_form(task: ProcessTask, data: Any) -> StartParametersForm | None:
    """Request information's fields as the process start form asks for parameters, filled
    with their defaults; None for other tasks."""
    if task.kind not in REQUEST_KINDS:
        return None
    schema = request_schema(task)
    for field in request_fields(task):
        schema[str(field["Name"])]["Default"] = field.get("Default")
    return StartParametersForm(schema, data, prefix="fields")
