"""Processes: the list of every process the user may read, and a process's page — its
template tree (the version it runs) with each block's state, its journal, and its actions.

Reading a process needs the read right on its document; stopping and deleting need the "start
processes" right; resuming a process stuck past its worker's lease is for administrators.
"""

import datetime
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bizproc import runtime
from bizproc.activities import activities
from bizproc.bounds import DayField, localtime, moment_param
from bizproc.documents import DocumentError, DocumentType, Operation, document_providers
from bizproc.http import HtmxHttpRequest
from bizproc.journal import block_progress, journal_rows
from bizproc.models import (
    Instance,
    InstanceQuerySet,
    InstanceStatus,
    ProcessTask,
    TaskStatus,
    Template,
    TrackingType,
)
from bizproc.state import ExecutionState
from bizproc.tree import Node
from bizproc.views import PAGE, cursor, day_start, document_for, listed


def is_process_admin(user: Any, module: str) -> bool:
    """Superusers, and whoever administers the documents of ``module`` (a CRM administrator
    for a deal's process, a lists administrator for an element's), as its provider says."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    try:
        return document_providers.get(module).is_administrator(user)
    except DocumentError:
        return False


def is_stuck(instance: Instance) -> bool:
    """Running, and the lease of the step that took it has expired: its worker died."""
    return (
        instance.status == InstanceStatus.RUNNING
        and instance.owned_until is not None
        and instance.owned_until < timezone.now()
    )


def _instance(user: Any, instance_id: str, operation: Operation) -> Instance:
    instance = get_object_or_404(
        Instance.objects.select_related("template", "started_by", "version"), pk=instance_id
    )
    document_for(user, instance.document_id, operation)
    return instance


# ---- the list ------------------------------------------------------------------------------


def readable_types(user: Any) -> list[tuple[DocumentType, str]]:
    return [
        (document_type, provider.caption(document_type, plural=True))
        for provider in document_providers.all()
        for document_type in provider.document_types()
        if provider.can(user, Operation.READ, document_type=document_type)
    ]


def readable_instances(user: Any) -> InstanceQuerySet:
    """Processes on documents the user may read, filtered in the database: per document type,
    all of them at the "all" level, else those whose document is among the readable ones."""
    condition = Q(pk__in=[])
    for document_type, _caption in readable_types(user):
        provider = document_providers.get(document_type.module)
        of_type = Q(module=document_type.module, document_type=document_type.type)
        ids = provider.readable_document_ids(user, document_type)
        condition |= of_type if ids is None else of_type & Q(document_id__in=ids)
    return Instance.objects.filter(condition)


WAITING = {
    "1h": (datetime.timedelta(hours=1), gettext_lazy("an hour")),
    "1d": (datetime.timedelta(days=1), gettext_lazy("a day")),
    "7d": (datetime.timedelta(days=7), gettext_lazy("a week")),
    "30d": (datetime.timedelta(days=30), gettext_lazy("30 days")),
}


class ProcessFilterForm(forms.Form):
    template = forms.ModelChoiceField(
        label=gettext_lazy("Template"), queryset=Template.objects.none(), required=False
    )
    status = forms.TypedChoiceField(
        label=pgettext_lazy("process", "Status"),
        choices=[("", gettext_lazy("Any status")), *InstanceStatus.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    entity = forms.ChoiceField(label=gettext_lazy("Item type"), required=False)
    started_by = forms.ModelChoiceField(
        label=gettext_lazy("Started by"),
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
    )
    since = DayField(label=gettext_lazy("Started from"), required=False)
    until = DayField(label=gettext_lazy("Started to"), required=False)
    waiting = forms.ChoiceField(
        label=gettext_lazy("Waiting longer than"),
        choices=[("", "—"), *((key, label) for key, (_delta, label) in WAITING.items())],
        required=False,
    )
    error = forms.BooleanField(label=gettext_lazy("Terminated with an error"), required=False)
    document = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, data: QueryDict, *, types: list[tuple[DocumentType, str]]) -> None:
        super().__init__(data)
        self.types = {f"{t.module}:{t.type}": t for t, _caption in types}
        cast(forms.ChoiceField, self.fields["entity"]).choices = [
            ("", gettext_lazy("Any type")),
            *((f"{t.module}:{t.type}", caption) for t, caption in types),
        ]
        of_types = Q(pk__in=[])
        for document_type, _caption in types:
            of_types |= Q(
                module=document_type.module,
                entity=document_type.entity,
                document_type=document_type.type,
            )
        templates = cast(forms.ModelChoiceField, self.fields["template"])
        templates.queryset = Template.objects.listed().filter(of_types)

    def apply(self, instances: InstanceQuerySet) -> InstanceQuerySet:
        """The filters that validate; one that does not shows its error and filters nothing."""
        self.is_valid()
        data = self.cleaned_data
        if data.get("template"):
            instances = instances.filter(template=data["template"])
        if data.get("status") is not None:
            instances = instances.filter(status=data["status"])
        if document_type := self.types.get(data.get("entity") or ""):
            instances = instances.filter(
                module=document_type.module, document_type=document_type.type
            )
        if data.get("started_by"):
            instances = instances.filter(started_by=data["started_by"])
        if since := day_start(data.get("since")):
            instances = instances.filter(started_at__gte=since)
        if until := day_start(data.get("until"), days=1):
            instances = instances.filter(started_at__lt=until)
        if data.get("waiting"):
            delta = WAITING[data["waiting"]][0]
            instances = instances.unfinished().filter(modified_at__lte=timezone.now() - delta)
        if data.get("error"):
            instances = instances.filter(status=InstanceStatus.TERMINATED).exclude(error="")
        if data.get("document"):
            instances = instances.filter(document_id=data["document"])
        return instances


def page_after(after: str) -> tuple[datetime.datetime, str]:
    """The (started, id) of the last process on the previous page, as its "Next" link wrote
    them; anything else is a 400."""
    started, _sep, last_id = after.partition("|")
    moment = moment_param(started)
    if moment is None or not last_id:
        # Django's 400 page shows no exception text: this one is for the log.
        raise BadRequest(f"Query parameter 'after' is not a page of the list: {after[:80]!r}")
    return moment, last_id


@login_required
def process_list(request: HttpRequest) -> HttpResponse:
    """Every process the user may read, newest first, keyset-paged on (started, id)."""
    form = ProcessFilterForm(request.GET, types=readable_types(request.user))
    instances = listed(form.apply(readable_instances(request.user))).order_by("-started_at", "-id")
    after = request.GET.get("after", "")
    if after:
        moment, last_id = page_after(after)
        instances = instances.filter(
            Q(started_at__lt=moment) | Q(started_at=moment, id__lt=last_id)
        )
    page = list(instances[: PAGE + 1])
    filters = {key: value for key, value in request.GET.items() if key != "after" and value}
    next_query = None
    if len(page) > PAGE:
        last = page[PAGE - 1]
        next_query = urlencode(filters | {"after": f"{last.started_at.isoformat()}|{last.pk}"})
    shown = page[:PAGE]
    titles: dict[str, dict[str, str]] = {}
    for module in {instance.module for instance in shown}:
        titles[module] = document_providers.get(module).titles(
            [instance.document_id for instance in shown if instance.module == module]
        )
    rows = []
    for instance in shown:
        provider = document_providers.get(instance.module)
        title = titles[instance.module].get(instance.document_id) or instance.document_id
        rows.append((instance, provider.url(instance.document_id), title))
    return render(
        request,
        "bizproc/process_list.html",
        {
            "form": form,
            "rows": rows,
            "next_query": next_query,
            "first_query": urlencode(filters),
            "paged": bool(after),
        },
    )


# ---- a process ------------------------------------------------------------------------------


def block_tree(instance: Instance) -> list[dict[str, Any]]:
    """The version's blocks, nested, each with its state: derived from the instance's state
    (waits) and the latest start / stop / cancel / fault row of the block in its journal."""
    progress = block_progress(instance.pk)
    waits = ExecutionState.from_json(instance.state).waits

    def state(name: str) -> tuple[str, str]:
        wait = waits.get(name)
        if wait and not instance.is_finished:
            moment = ""
            if wait.until is not None:
                moment = date_format(localtime(wait.until), "SHORT_DATETIME_FORMAT")
            if wait.task is not None and moment:
                label = _("waiting for an answer to its task, until %(time)s")
                return "waiting", label % {"time": moment}
            if wait.task is not None:
                return "waiting", _("waiting for an answer to its task")
            if moment:
                return "waiting", _("waiting until %(time)s") % {"time": moment}
            return "waiting", _("waiting for a process")
        row = progress.get(name)
        if row is None:
            return "pending", _("not started")
        if row.type == TrackingType.FAULT:
            return "error", _("error")
        if row.type == TrackingType.CANCEL:
            return "canceled", _("canceled")
        if row.type == TrackingType.CLOSE:
            return "done", _("done")
        if instance.is_finished:
            return "interrupted", _("interrupted")
        return "running", _("running")

    def describe(node: Node) -> dict[str, Any]:
        activity = activities.for_node(node)
        code, label = state(node["Name"])
        return {
            "title": activity.display_title,
            "kind": str(activity.title),
            "state": code,
            "state_label": label,
            "children": [describe(child) for child in node.get("Children") or []],
        }

    return [describe(instance.version.tree)]


def waiting_tasks(user: Any, instance: Instance) -> list[dict[str, Any]]:
    """The process's open tasks: their names, who has yet to answer, and whether the user is
    one of them (their page is then a link away)."""
    if instance.is_finished or not ExecutionState.from_json(instance.state).tasks:
        return []
    tasks = ProcessTask.objects.filter(instance=instance, status=TaskStatus.WAITING)
    entries = []
    for task in tasks.prefetch_related("assignees__user").order_by("pk"):
        waiting = [a for a in task.assignees.all() if a.status == TaskStatus.WAITING]
        entries.append(
            {
                "task": task,
                "people": ", ".join(a.user.get_full_name() for a in waiting),
                "mine": any(a.user_id == user.pk for a in waiting),
            }
        )
    return entries


def instance_context(user: Any, instance: Instance) -> dict[str, Any]:
    """The live parts of a process page: its summary, actions and block tree."""
    provider = document_providers.get(instance.module)
    return {
        "instance": instance,
        "waiting_tasks": waiting_tasks(user, instance),
        "blocks": block_tree(instance),
        "may_manage": provider.can(user, Operation.START_PROCESS, document_id=instance.document_id),
        "may_resume": is_process_admin(user, instance.module) and is_stuck(instance),
        "stuck": is_stuck(instance),
        "document_url": provider.url(instance.document_id),
    }


def instance_rows(instance: Instance, data: QueryDict, **page: Any) -> list[Any]:
    return journal_rows(
        instance_id=instance.pk, simplified=data.get("mode", "simplified") != "all", **page
    )


@login_required
def instance_detail(request: HtmxHttpRequest, instance_id: str) -> HttpResponse:
    """A process: summary, blocks with their states, and its journal (Simplified or All
    records, newest first, keyset-paged) — live."""
    instance = _instance(request.user, instance_id, Operation.READ)
    simplified = request.GET.get("mode", "simplified") != "all"
    before = cursor(request)
    rows = instance_rows(instance, request.GET, before_id=before, limit=PAGE + 1)
    mode = "simplified" if simplified else "all"
    after = {"after": rows[0].pk if rows else 0} if before is None else {}
    context = instance_context(request.user, instance) | {
        "rows": rows[:PAGE],
        "next_before": rows[PAGE - 1].pk if len(rows) > PAGE else None,
        "simplified": simplified,
        "mode": mode,
        "live_query": urlencode({"mode": mode, **after}),
    }
    template_name = "bizproc/instance_detail.html"
    if request.htmx:
        template_name += "#journal"
    return render(request, template_name, context)


@login_required
def instance_stop(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request.user, instance_id, Operation.START_PROCESS)
    if request.method == "POST":
        try:
            runtime.instance_terminate(instance=instance, user=request.user)
        except runtime.ProcessRefused as refused:
            return render(
                request,
                "bizproc/instance_confirm.html",
                {"instance": instance, "action": "stop", "error": refused.message},
                status=409,
            )
        return redirect("bizproc:instance-detail", instance_id=instance.pk)
    return render(
        request, "bizproc/instance_confirm.html", {"instance": instance, "action": "stop"}
    )


@login_required
def instance_delete(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request.user, instance_id, Operation.START_PROCESS)
    if request.method == "POST":
        document_url = document_providers.get(instance.module).url(instance.document_id)
        runtime.instance_kill(instance=instance)
        return redirect(document_url or "/")
    return render(
        request, "bizproc/instance_confirm.html", {"instance": instance, "action": "delete"}
    )


@login_required
def instance_resume(request: HttpRequest, instance_id: str) -> HttpResponse:
    """An administrator hands a process stuck past its worker's lease to a worker again."""
    instance = _instance(request.user, instance_id, Operation.READ)
    if not is_process_admin(request.user, instance.module):
        raise PermissionDenied
    if request.method == "POST":
        if is_stuck(instance):
            runtime.instance_resume(instance=instance)
            messages.success(request, _("The process was handed to a worker again."))
        else:
            messages.warning(request, _("The process is not stuck: there is nothing to resume."))
    return redirect("bizproc:instance-detail", instance_id=instance.pk)
