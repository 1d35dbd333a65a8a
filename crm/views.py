from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from crm import permissions
from crm.documents import CAPTIONS
from crm.fields import FIELD_SPECS, record_values
from crm.models import Action, EntityType


def _entity_type(entity: str) -> EntityType:
    try:
        return EntityType(entity.upper())
    except ValueError:
        raise Http404 from None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    readable = permissions.entity_types_readable(request.user)
    if not readable:
        raise PermissionDenied
    return redirect("crm:record-list", entity=readable[-1].lower())


@login_required
def record_list(request: HttpRequest, entity: str) -> HttpResponse:
    entity_type = _entity_type(entity)
    if not permissions.can_on_type(request.user, entity_type, Action.READ):
        raise PermissionDenied
    queryset = permissions.readable(request.user, entity_type).select_related("assigned_by")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/record_list.html",
        {
            "entity_type": entity_type,
            "caption_plural": CAPTIONS[entity_type][1],
            "page": page,
        },
    )


@login_required
def record_detail(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    entity_type = _entity_type(entity)
    record = permissions.get_readable_or_404(request.user, entity_type, pk)
    values = record_values(record)
    rows = [(spec, values[spec.code]) for spec in FIELD_SPECS[entity_type]]
    return render(
        request,
        "crm/record_detail.html",
        {
            "entity_type": entity_type,
            "caption": CAPTIONS[entity_type][0],
            "record": record,
            "rows": rows,
        },
    )
