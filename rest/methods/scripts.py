"""Our extension: smart scenarios over REST (Bitrix24 has no public method for them).

``bizproc.script.list`` lists the scenarios of the types the user may read, as the scenario
page does; ``bizproc.script.start`` (``scriptId``, ``documentIds``, ``parameters``) queues a run
per record through ``scenarios_start`` and answers the status and the run ids.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q

from bizproc import scenarios
from bizproc.bounds import bounded_int
from bizproc.documents import Operation
from bizproc.documents import document_providers as providers
from bizproc.models import Scenario
from rest.api import Call, Page, RestError, method
from rest.listing import mapping, page_of, start_of


def _readable_types(call: Call) -> Q:
    readable = Q(pk__in=[])
    for provider in providers.all():
        for document_type in provider.document_types():
            if provider.can(call.user, Operation.READ, document_type=document_type):
                readable |= Q(
                    module=document_type.module,
                    entity=document_type.entity,
                    document_type=document_type.type,
                )
    return readable


def _scenario_out(scenario: Scenario) -> dict[str, Any]:
    version = scenario.template.latest_version
    return {
        "ID": str(scenario.pk),
        "NAME": scenario.name,
        "DESCRIPTION": scenario.description,
        "DOCUMENT_TYPE": list(scenario.document_type_triple),
        "ACTIVE": "Y" if scenario.active else "N",
        "TEMPLATE_ID": str(scenario.template_id),
        "PARAMETERS": version.parameters if version else {},
    }


@method("bizproc.script.list")
def script_list(call: Call) -> Page:
    queryset = (
        Scenario.objects.filter(_readable_types(call))
        .select_related("template")
        .order_by("sort", "name", "id")
    )
    rows, total, following = page_of(queryset, start_of(call.param("start")))
    return Page([_scenario_out(row) for row in rows], total, following)


@method("bizproc.script.start")
def script_start(call: Call) -> dict[str, Any]:
    pk = bounded_int(call.param("scriptId"), minimum=1)
    scenario = (
        Scenario.objects.filter(_readable_types(call))
        .select_related("template")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if scenario is None:
        raise RestError("The smart scenario you requested was not found.")
    raw_documents = call.param("documentIds")
    if isinstance(raw_documents, Mapping):
        raw_documents = list(raw_documents.values())
    if isinstance(raw_documents, str | int):
        raw_documents = [raw_documents]
    if not isinstance(raw_documents, list):
        raise RestError("Parameter 'documentIds' must be array.")
    parameters = mapping(call.param("parameters"), "parameters")
    try:
        with transaction.atomic():
            outcomes = scenarios.scenarios_start(
                scenario=scenario, document_ids=raw_documents, user=call.user, parameters=parameters
            )
    except scenarios.ScenarioRefused as refused:
        if refused.forbidden:
            raise PermissionDenied from None
        raise RestError(refused.message) from None
    return {
        "status": "queued",
        "runs": [
            {
                "documentId": outcome.document_id,
                "runId": outcome.run.pk if outcome.run else None,
                **({"error": outcome.message} if outcome.message else {}),
            }
            for outcome in outcomes
        ],
    }
