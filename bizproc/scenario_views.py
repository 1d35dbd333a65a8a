"""Smart scenario pages: the list, a scenario with where it is used and its runs, and starting
one on records (from a card's "Smart scenarios" menu or a list's "Run for selected").

Seeing scenarios of a type needs the read right on the type; running one needs the "start
processes" right on every record it runs on; a run history shows only readable records.
"""

from typing import Any
from urllib.parse import quote, urlsplit

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from bizproc import scenarios
from bizproc.bounds import bounded_int, cursor_param
from bizproc.documents import DocumentError, DocumentType, Operation, document_providers
from bizproc.forms import StartParametersForm
from bizproc.models import Scenario, ScenarioRun, Template
from bizproc.tree import walk
from bizproc.views import record_named

PAGE = 50


def _readable_types(user: Any) -> list[tuple[DocumentType, str]]:
    types = []
    for provider in document_providers.all():
        for document_type in provider.document_types():
            if provider.can(user, Operation.READ, document_type=document_type):
                types.append((document_type, provider.caption(document_type, plural=True)))
    return types


def _scenario(request: HttpRequest, pk: int) -> Scenario:
    scenario = get_object_or_404(Scenario.objects.select_related("template"), pk=pk)
    provider = document_providers.get(scenario.module)
    if not provider.can(request.user, Operation.READ, document_type=scenario.document_type_triple):
        raise PermissionDenied
    return scenario


@login_required
def scenario_list(request: HttpRequest) -> HttpResponse:
    """Scenarios grouped by entity type (the types the user may read)."""
    groups = []
    for document_type, caption in _readable_types(request.user):
        items = list(Scenario.objects.for_document_type(document_type))
        groups.append({"caption": caption, "scenarios": items})
    return render(request, "bizproc/scenario_list.html", {"groups": groups})


def scenario_usages(scenario: Scenario) -> list[dict[str, Any]]:
    """Templates whose draft or latest version has a Start smart scenario block for it."""
    wanted = str(scenario.template_id)
    usages = []
    for template in Template.objects.listed().prefetch_related("versions"):
        trees = {"draft": template.tree}
        if version := template.latest_version:
            trees["published"] = version.tree
        blocks = {
            node.get("Properties", {}).get("Title") or node["Name"]
            for tree in trees.values()
            for node in walk(tree)
            if node.get("Type") == "StartScriptActivity"
            and str(node.get("Properties", {}).get("TemplateId", "")).strip() == wanted
        }
        if blocks:
            usages.append({"template": template, "blocks": sorted(blocks)})
    return usages


@login_required
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What runs use (the latest published version's parameters and robots, not the draft's),
    where the scenario is used, and its runs."""
    scenario = _scenario(request, pk)
    version = scenario.template.latest_version
    provider = document_providers.get(scenario.module)
    before = cursor_param(request.GET, "before")
    runs = ScenarioRun.objects.filter(scenario=scenario).select_related("started_by", "caller")
    if before:
        runs = runs.filter(pk__lt=before)
    page = [
        run
        for run in runs.order_by("-pk")[: PAGE + 1]
        if provider.can(request.user, Operation.READ, document_id=run.document_id)
    ]
    context = {
        "scenario": scenario,
        "version": version,
        "parameters": version.parameters if version else {},
        "robots": scenarios.scenario_robots(version) if version else [],
        "unpublished": scenarios.scenario_has_unpublished_changes(scenario, version),
        "usages": scenario_usages(scenario),
        "runs": [(run, provider.url(run.document_id)) for run in page[:PAGE]],
        "next_before": page[PAGE - 1].pk if len(page) > PAGE else None,
        # Whether to link to the scenario's editor: the "design automation" right on its type.
        "editable": provider.can(
            request.user, Operation.DESIGN, document_type=scenario.document_type_triple
        ),
    }
    return render(request, "bizproc/scenario_detail.html", context)


@login_required
def document_scenarios(request: HttpRequest, document_id: str) -> HttpResponse:
    """The card's "Smart scenarios" menu: active scenarios of the record's type it may run."""
    provider, document_id = _document(request, document_id)
    may_run = provider.can(request.user, Operation.START_PROCESS, document_id=document_id)
    document_type = provider.document_type_of(document_id)
    items = (
        list(Scenario.objects.for_document_type(document_type).filter(active=True))
        if may_run
        else []
    )
    return render(
        request,
        "bizproc/scenario_menu.html#scenario-menu",
        {"document_id": document_id, "scenarios": items},
    )


def _document(request: HttpRequest, raw: str) -> tuple[Any, str]:
    for provider in document_providers.all():
        try:
            document_id = provider.normalize_id(raw)
        except DocumentError:
            continue
        if provider.can(request.user, Operation.READ, document_id=document_id):
            return provider, document_id
        break
    raise Http404


def _start_refused(
    request: HttpRequest, scenario: Scenario | None, message: str, *, status: int
) -> HttpResponse:
    """The start page saying why the scenario cannot run (Bitrix's messages), with no form."""
    context = {"scenario": scenario, "refusal": message}
    return render(request, "bizproc/scenario_start.html", context, status=status)


@login_required
def scenario_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks for the parameters (title: the scenario's name, button: Send), then queues a run
    per selected record and shows their progress until the scenario has completed."""
    try:
        scenario = _scenario(request, pk)
    except Http404:
        scenario = None
    version = scenario.template.latest_version if scenario is not None else None
    if scenario is None or version is None:  # nothing a run could use
        return _start_refused(
            request, None, _("The smart scenario you requested was not found."), status=404
        )
    if not scenario.active:
        return _start_refused(
            request,
            scenario,
            _("Cannot run the smart scenario because it is deactivated."),
            status=409,
        )
    data = request.POST if request.method == "POST" else request.GET
    document_ids = data.getlist("documents")
    schema = version.parameters
    form = StartParametersForm(schema, request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {
        "scenario": scenario,
        "documents": document_ids,
        "form": form,
    } | _way_back(request, document_ids, data.get("back", ""))
    if request.method == "POST":
        if form.is_valid():
            values = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
            try:
                with transaction.atomic():
                    outcomes = scenarios.scenarios_start(
                        scenario=scenario,
                        document_ids=document_ids,
                        user=request.user,
                        parameters=values,
                    )
            except scenarios.ScenarioRefused as refused:
                if refused.forbidden:
                    raise PermissionDenied(refused.message) from None
                for code, message in refused.errors.items():
                    form.add_error(code if code in form.fields else None, message)
                if not refused.errors:
                    form.add_error(None, refused.message)
            else:
                runs = [outcome.run for outcome in outcomes if outcome.run]
                context |= {
                    "runs": runs,
                    "run_ids": [run.pk for run in runs],
                    "skipped": [outcome for outcome in outcomes if not outcome.run],
                    "finished": all(run.is_finished for run in runs),
                }
                return render(request, "bizproc/scenario_start.html", context)
        return render(request, "bizproc/scenario_start.html", context, status=422)
    return render(request, "bizproc/scenario_start.html", context)


def _way_back(request: HttpRequest, document_ids: list[str], back: str) -> dict[str, str]:
    """One record is named, with a link back to its card; records chosen on a list link back
    to it (``back``: a path on this site, kept from the list's "Run for selected")."""
    if len(document_ids) == 1:
        try:
            provider, document_id = _document(request, document_ids[0])
        except Http404:
            return {}
        return record_named(provider, document_id)
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        return {"back_url": back}
    return {}


@login_required
def bulk_scenarios(request: HttpRequest, entity: str) -> HttpResponse:
    """ "Run for selected" on a list page: the active scenarios of the type the user may run.

    Rendered into the list's bulk-actions form; the button submits the ticked ``ids``.
    """
    types = [
        document_type
        for provider in document_providers.all()
        for document_type in provider.document_types()
        if document_type.type.lower() == entity.lower()
        and provider.can(request.user, Operation.START_PROCESS, document_type=document_type)
    ]
    items = list(Scenario.objects.for_document_type(types[0]).filter(active=True)) if types else []
    return render(request, "bizproc/scenario_menu.html#bulk-scenarios", {"scenarios": items})


@login_required
def scenario_run_selected(request: HttpRequest) -> HttpResponse:
    """From a list's selection to the start page of the chosen scenario."""
    pk = bounded_int(request.GET.get("scenario", ""), minimum=1)
    if pk is None:
        raise Http404
    documents = request.GET.getlist("ids")[:500]
    query = "&".join(f"documents={quote(str(document))}" for document in documents)
    # The list the records were chosen on, for the start page's way back.
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path:
        back = referer.path + (f"?{referer.query}" if referer.query else "")
        query += "&back=" + quote(back, safe="")
    return redirect(f"{reverse('bizproc:scenario-start', args=[pk])}?{query}")
