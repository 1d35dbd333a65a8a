"""The processes of a document (the "Processes" tab of a CRM card) and a process's journal.

Rights come from the document provider: seeing a document's processes and journals needs the
read right on it; starting, stopping and deleting processes needs the "start processes" right.
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from bizproc import runtime
from bizproc.documents import DocumentError, DocumentProvider, Operation, document_providers
from bizproc.forms import StartParametersForm
from bizproc.journal import journal_rows
from bizproc.models import Instance, Template

PAGE = 50


def _document(
    request: HttpRequest, document_id: str, operation: Operation
) -> tuple[DocumentProvider, str]:
    """The provider and normalised id of a document the user may do ``operation`` on.

    A document the user may not read is a 404, as on the CRM pages.
    """
    for provider in document_providers.all():
        try:
            normalized = provider.normalize_id(document_id)
        except DocumentError:
            continue
        if not provider.can(request.user, Operation.READ, document_id=normalized):
            raise Http404
        if operation != Operation.READ and not provider.can(
            request.user, operation, document_id=normalized
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
        .distinct()
    )


@login_required
def document_processes(request: HttpRequest, document_id: str) -> HttpResponse:
    """The Processes tab: start a process, the active ones and the completed ones."""
    provider, document_id = _document(request, document_id, Operation.READ)
    instances = (
        Instance.objects.for_document(document_id)
        .select_related("template", "started_by")
        .order_by("-started_at")
    )
    may_start = provider.can(request.user, Operation.START_PROCESS, document_id=document_id)
    context = {
        "document_id": document_id,
        "may_start": may_start,
        "templates": _startable(provider, document_id) if may_start else [],
        "active": [i for i in instances if not i.is_finished],
        "completed": [i for i in instances if i.is_finished][:PAGE],
    }
    template_name = "bizproc/document_processes.html"
    if request.htmx:
        template_name += "#processes-tab"
    return render(request, template_name, context)


@login_required
def process_start(request: HttpRequest, document_id: str, template_pk: int) -> HttpResponse:
    """Asks for the template's parameters (if it has any) and starts it on the document."""
    provider, document_id = _document(request, document_id, Operation.START_PROCESS)
    template = get_object_or_404(Template.objects.listed().filter(active=True), pk=template_pk)
    if template not in _startable(provider, document_id):
        raise Http404
    schema = template.latest_version.parameters
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
    return render(
        request,
        "bizproc/process_start.html",
        {"template": template, "document_id": document_id, "form": form},
        status=status,
    )


def _instance(request: HttpRequest, instance_id: str, operation: Operation) -> Instance:
    instance = get_object_or_404(
        Instance.objects.select_related("template", "started_by", "version"), pk=instance_id
    )
    _document(request, instance.document_id, operation)
    return instance


@login_required
def instance_detail(request: HttpRequest, instance_id: str) -> HttpResponse:
    """A process and its journal, newest rows first, in Simplified or All records mode."""
    instance = _instance(request, instance_id, Operation.READ)
    simplified = request.GET.get("mode", "simplified") != "all"
    try:
        before = int(request.GET["before"]) if request.GET.get("before") else None
    except ValueError:
        before = None
    rows = journal_rows(instance=instance, simplified=simplified, before_id=before, limit=PAGE + 1)
    context: dict[str, Any] = {
        "instance": instance,
        "rows": rows[:PAGE],
        "next_before": rows[PAGE - 1].pk if len(rows) > PAGE else None,
        "simplified": simplified,
        "may_manage": _may_manage(request, instance),
        "document_url": _document_url(instance),
    }
    template_name = "bizproc/instance_detail.html"
    if request.htmx:
        template_name += "#journal"
    return render(request, template_name, context)


def _may_manage(request: HttpRequest, instance: Instance) -> bool:
    provider = document_providers.get(instance.module)
    return provider.can(request.user, Operation.START_PROCESS, document_id=instance.document_id)


def _document_url(instance: Instance) -> str:
    return document_providers.get(instance.module).url(instance.document_id)


@login_required
def instance_stop(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request, instance_id, Operation.START_PROCESS)
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
    instance = _instance(request, instance_id, Operation.START_PROCESS)
    if request.method == "POST":
        document_url = _document_url(instance)
        runtime.instance_kill(instance=instance)
        return redirect(document_url or "/")
    return render(
        request, "bizproc/instance_confirm.html", {"instance": instance, "action": "delete"}
    )
