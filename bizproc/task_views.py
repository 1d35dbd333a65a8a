"""The Tasks page: what processes ask of the signed-in user (the Approve and Review blocks),
and answering. A task is shown to the people it was given to, and to no one else (404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bizproc.documents import document_providers
from bizproc.models import ProcessTask, TaskStatus
from bizproc.process_tasks import (
    TaskRefused,
    comment_problem,
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
    if request.method == "POST":
        answer = request.POST.get("answer")
        comment = request.POST.get("comment", "")
        if answer not in ("yes", "no") or (answer == "no" and not task.no_label):
            error, status = _("Choose one of the answers."), 422
        elif problem := comment_problem(comment):
            error, status = problem, 422
        else:
            try:
                task_answer(task=task, user=request.user, approve=answer == "yes", comment=comment)
            except TaskRefused as refused:
                error, status = refused.message, 409
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
        "comment": request.POST.get("comment", "") if error else "",
    }
    return render(request, "bizproc/task_detail.html", context, status=status)
