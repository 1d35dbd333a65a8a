"""A document's processes: the "Processes" tab of a CRM card, starting a process, and the
record's journal (every process and smart scenario run of the record in one view).

Rights come from the document provider: seeing a document's processes and journals needs the
read right on it; starting processes needs the "start processes" right. The context builders
here are shared with the websocket consumers, which re-render the same partials live.
"""

import datetime
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizproc import runtime
from bizproc.bounds import DayField, cursor_param
from bizproc.dates import formatter
from bizproc.documents import DocumentError, DocumentProvider, Operation, document_providers
from bizproc.forms import StartParametersForm
from bizproc.http import HtmxHttpRequest
from bizproc.journal import FINISHED, journal_rows
from bizproc.models import (
    Instance,
    InstanceQuerySet,
    InstanceStatus,
    ScenarioRun,
    Template,
    TemplateVersion,
    TrackingType,
)
from bizproc.tree import find

PAGE = 50
TAB_ROWS = 10  # the latest journal rows on the Processes tab
RECENT = 20  # processes and runs listed above a record's journal


def document_for(user: Any, document_id: str, operation: Operation) -> tuple[DocumentProvider, str]:
    """The provider and normalised id of a document the user may do ``operation`` on.

    A document the user may not read is a 404 (as on the CRM pages); a readable one they may
    not do ``operation`` on is a 403.
    """
    for provider in document_providers.all():
        try:
            normalized = provider.normalize_id(document_id)
        except DocumentError:
            continue
        if not provider.can(user, Operation.READ, document_id=normalized):
            raise Http404
        if operation != Operation.READ and not provider.can(
            user, operation, document_id=normalized
        ):
            raise PermissionDenied
        return provider, normalized
    raise Http404


def _startable(provider: DocumentProvider, document_id: str) -> list[Template]:
    document_type = provider.document_type_of(document_id)
    return list(
        Template.objects.for_document_type(document_type)
        .listed()
        .filter(active=True, versions__isnull=False)
        .defer("tree", "parameters", "variables", "constants")
        .distinct()
    )


# JSON columns no list shows; decoding them would cost more than everything else in a row.
HEAVY_FIELDS = (
    "state",
    "parameters",
    "variables",
    "template__tree",
    "template__parameters",
    "template__variables",
    "template__constants",
)


# What the record's processes list shows of an instance: the list reads only these.
LISTED_FIELDS = (
    "document_id",
    "version_id",
    "status",
    "state_title",
    "error",
    "started_at",
    "template__name",
    "started_by__full_name",
    "started_by__first_name",
    "started_by__last_name",
    "started_by__username",
)


def listed(instances: InstanceQuerySet) -> InstanceQuerySet:
    """Instances for a list: newest first, with template and starter, without the heavy JSON."""
    return (
        instances.select_related("template", "started_by")
        .defer(*HEAVY_FIELDS)
        .order_by("-started_at")  # the (document, -started) index gives the order
    )


def processes_live_context(document_id: str, *, may_manage: bool) -> dict[str, Any]:
    """What the tab's live part shows: active and completed processes, the latest rows;
    ``may_manage``: each process links to stopping and deleting it (the "start processes"
    right on the record, as on the process's own page)."""
    instances = listed(Instance.objects.for_document(document_id))
    active = list(instances.unfinished()[: PAGE + 1])
    return {
        "document_id": document_id,
        "may_manage": may_manage,
        "active": active[:PAGE],
        "more_active": len(active) > PAGE,
        "completed": list(instances.filter(status__in=FINISHED)[:PAGE]),
        "rows": journal_rows(document_id=document_id, simplified=True, limit=TAB_ROWS),
    }


@login_required
def document_processes(request: HtmxHttpRequest, document_id: str) -> HttpResponse:
    """The Processes tab: start a process, the active ones, the completed ones, the latest
    journal rows — live (the partial opens its own websocket)."""
    provider, document_id = document_for(request.user, document_id, Operation.READ)
    may_start = provider.can(request.user, Operation.START_PROCESS, document_id=document_id)
    context = processes_live_context(document_id, may_manage=may_start) | {
        "may_start": may_start,
        "templates": _startable(provider, document_id) if may_start else [],
        "document_url": provider.url(document_id),
    }
    template_name = "bizproc/document_processes.html"
    if request.htmx:
        template_name += "#processes-tab"
    return render(request, template_name, context)


@login_required
def process_start(request: HttpRequest, document_id: str, template_pk: int) -> HttpResponse:
    """Asks for the template's parameters (if it has any) and starts it on the document."""
    provider, document_id = document_for(request.user, document_id, Operation.START_PROCESS)
    template = get_object_or_404(Template.objects.listed().filter(active=True), pk=template_pk)
    if template not in _startable(provider, document_id):
        raise Http404
    schema = template.versions.latest("number").parameters  # startable: it has versions
    form = StartParametersForm(schema, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    instance = runtime.workflow_start(
                        template=template,
                        document_id=document_id,
                        user=request.user,
                        parameters={
                            k: v for k, v in form.cleaned_data.items() if v not in ("", None)
                        },
                    )
            except runtime.ProcessRefused as refused:
                for code, message in refused.errors.items():
                    form.add_error(code if code in form.fields else None, message)
                if not refused.errors:
                    form.add_error(None, refused.message)
            else:
                return redirect("bizproc:instance-detail", instance_id=instance.pk)
        status = 422
    else:
        status = 200
    context = {"template": template, "document_id": document_id, "form": form}
    return render(
        request,
        "bizproc/process_start.html",
        context | record_named(provider, document_id),
        status=status,
    )


def record_named(provider: DocumentProvider, document_id: str) -> dict[str, str]:
    """What a page about one record says of it, and links back to: its type, its name and
    its card (``document_caption``, ``document_title``, ``document_url``)."""
    return {
        "document_caption": provider.caption(provider.document_type_of(document_id)),
        "document_title": provider.title(document_id),
        "document_url": provider.url(document_id),
    }


# ---- the record's journal ----------------------------------------------------------------

MODES = [("simplified", _("Simplified")), ("all", _("All records"))]


class JournalFilterForm(forms.Form):
    """Mode, type, process and dates of a record's journal (GET; also a live socket's query)."""

    mode = forms.ChoiceField(label=_("Mode"), choices=MODES, required=False)
    type = forms.TypedChoiceField(
        label=_("Type"),
        choices=[("", _("Any type")), *TrackingType.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    process = forms.ChoiceField(label=_("Process"), required=False)
    since = DayField(label=_("Date from"), required=False)
    until = DayField(label=_("Date to"), required=False)

    def __init__(self, data: QueryDict, *, processes: list[tuple[str, str | None]]) -> None:
        """``processes``: (id, template name) of the record's recent processes."""
        super().__init__(data)
        cast(forms.ChoiceField, self.fields["process"]).choices = [
            ("", _("All processes")),
            *((pk, f"{name or pk} · {pk}") for pk, name in processes),
        ]

    def query(self) -> dict[str, Any]:
        """``journal_rows`` arguments; a value that does not validate filters nothing."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "simplified": data.get("mode", "") != "all",
            "type_": data.get("type"),
            "instance_id": data.get("process") or None,
            "since": day_start(data.get("since")),
            "until": day_start(data.get("until"), days=1),
        }

    def live_query(self, *, after: int | None) -> str:
        """The socket's query string: these filters, and the newest row shown on page one."""
        keys = ("mode", "type", "process", "since", "until")
        params = {key: self.data[key] for key in keys if self.data.get(key)}
        if after is not None:
            params["after"] = str(after)
        return urlencode(params)


def day_start(day: datetime.date | None, *, days: int = 0) -> datetime.datetime | None:
    """Midnight of the day (plus ``days``) in the active time zone: the user's. ``day`` is
    a ``DayField``'s, so that both moments exist in every time zone."""
    if day is None:
        return None
    moment = datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time.min)
    return timezone.make_aware(moment)


def record_processes(document_id: str) -> dict[str, Any]:
    """The record's latest processes and smart scenario runs with their causal links: the run
    that started a process and the process and block that started the run; the runs each
    process started (on any record). A few small queries, whatever the number of rows."""
    instances = list(
        Instance.objects.for_document(document_id)
        .select_related("template", "started_by")
        .only(*LISTED_FIELDS)
        .order_by("-started_at")[:RECENT]
    )
    ids = [instance.pk for instance in instances]
    runs = ScenarioRun.objects.select_related("scenario").defer("parameters")
    run_of: dict[str, ScenarioRun] = {}
    started: dict[str, list[ScenarioRun]] = {}
    for scenario_run in runs.filter(Q(instance__in=ids) | Q(caller__in=ids)).order_by("pk"):
        if scenario_run.instance_id in ids:
            run_of[scenario_run.instance_id] = scenario_run
        if scenario_run.caller_id in ids:
            started.setdefault(scenario_run.caller_id, []).append(scenario_run)
    caller_ids = [run.caller_id for run in run_of.values() if run.caller_id]
    callers = (
        {
            caller["pk"]: caller
            for caller in Instance.objects.filter(pk__in=caller_ids).values(
                "pk", "document_id", "version_id", name=F("template__name")
            )
        }
        if caller_ids
        else {}
    )
    versions = {caller["version_id"] for caller in callers.values()}
    versions |= {instance.version_id for instance in instances if instance.pk in started}
    trees = (
        dict(TemplateVersion.objects.filter(pk__in=versions).values_list("pk", "tree"))
        if versions
        else {}
    )
    entries = []
    statuses = {value: str(label) for value, label in InstanceStatus.choices}
    written = formatter("SHORT_DATETIME_FORMAT")
    zone = timezone.get_current_timezone()
    for instance in instances:
        run = run_of.get(instance.pk)
        caller = callers.get(run.caller_id) if run and run.caller_id else None
        entries.append(
            {
                "instance": instance,
                # Written here, once per page, rather than by template filters row by row.
                "url": reverse("bizproc:instance-detail", args=[instance.pk]),
                "status": statuses.get(instance.status, instance.status),
                "started": written(instance.started_at.astimezone(zone)),
                "started_by": str(instance.started_by) if instance.started_by else "",
                "run": run,
                "caller": caller,
                "caller_block": block_title(trees, caller["version_id"], run.caller_activity)
                if run and caller
                else "",
                "started_runs": [
                    (other, block_title(trees, instance.version_id, other.caller_activity))
                    for other in started.get(instance.pk, [])
                ],
            }
        )
    without_process = runs.filter(document_id=document_id, instance__isnull=True)
    return {
        "document_id": document_id,
        "processes": entries,
        "runs_without_process": list(without_process.order_by("-created_at")[:RECENT]),
    }


def block_title(trees: dict[int, Any], version_id: int, name: str) -> str:
    found = find(trees[version_id], name) if name and version_id in trees else None
    if found is None:
        return name
    return (found[0].get("Properties") or {}).get("Title") or name


def record_journal_page(
    document_id: str,
    data: QueryDict,
    *,
    before: int | None = None,
    after: int | None = None,
    processes: list[tuple[str, str | None]] | None = None,
) -> tuple[JournalFilterForm, list[Any], int | None]:
    """The filter form, a page of rows (newest first; older than ``before`` or newer than
    ``after``) and the cursor of the next page. ``processes``: the record's recent processes
    (id, template name) when the caller has read them already."""
    if processes is None:
        processes = list(
            Instance.objects.for_document(document_id)
            .order_by("-started_at")
            .values_list("pk", "template__name")[:RECENT]
        )
    form = JournalFilterForm(data, processes=processes)
    rows = journal_rows(
        document_id=document_id, before_id=before, after_id=after, limit=PAGE + 1, **form.query()
    )
    return form, rows[:PAGE], rows[PAGE - 1].pk if len(rows) > PAGE else None


def cursor(request: HttpRequest) -> int | None:
    return cursor_param(request.GET, "before")


@login_required
def document_journal(request: HtmxHttpRequest, document_id: str) -> HttpResponse:
    """Every journal row of the record, newest first, keyset-paged; filters; live on page one."""
    provider, document_id = document_for(request.user, document_id, Operation.READ)
    before = cursor(request)
    # The whole page lists the recent processes above the journal: the filter offers the same.
    recent = None if request.htmx else record_processes(document_id)
    processes = (
        [
            (entry["instance"].pk, getattr(entry["instance"].template, "name", None))
            for entry in recent["processes"]
        ]
        if recent
        else None
    )
    form, rows, next_before = record_journal_page(
        document_id, request.GET, before=before, processes=processes
    )
    first_page = before is None
    context = {
        "document_id": document_id,
        "form": form,
        "rows": rows,
        "show_process": True,
        "next_before": next_before,
        "first_page": first_page,
        "filters_query": form.live_query(after=None),
        "live_query": form.live_query(after=(rows[0].pk if rows else 0) if first_page else None),
    }
    if recent is None:  # htmx asked for a page of the journal (filters, older rows)
        return render(request, "bizproc/document_journal.html#journal", context)
    context |= recent | {
        "document_url": provider.url(document_id),
        "document_caption": provider.caption(provider.document_type_of(document_id)),
    }
    return render(request, "bizproc/document_journal.html", context)
