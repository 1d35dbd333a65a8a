"""The CRM administrators' pages of custom fields (``UF_CRM_…``), one set per entity type: the
list, the create and edit form (which shows the processes using the field, so a type change
is no surprise) and the delete confirmation (how many records hold a value, which processes
use it). Everyone else gets 403 on every page and partial; every write goes through
``crm.services``.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from bizproc.models import SCRIPT_FLAG
from bizproc.usages import FieldUsage
from crm import custom_fields, permissions, services
from crm.custom_fields import CustomField
from crm.documents import CAPTIONS
from crm.field_forms import TEXT_DEFAULT_TYPES, UserFieldForm
from crm.models import EntityType, UserField, UserFieldType
from crm.views import _entity_type, _partial, _redirect, _vary


@dataclass(frozen=True)
class Usage:
    """A process that names the field, as the pages show it."""

    name: str
    url: str | None  # its editor in the designer
    blocks: list[str]
    published: bool


def _admin_entity_type(request: HttpRequest, entity: str) -> EntityType:
    if not permissions.is_crm_admin(request.user):
        raise PermissionDenied
    return _entity_type(entity)


def _field_or_404(entity_type: str, pk: int) -> UserField:
    try:
        return UserField.objects.get(entity_type=entity_type, pk=pk)
    except UserField.DoesNotExist:
        raise Http404 from None


def _designer_url(usage: FieldUsage) -> str | None:
    template = usage.template
    try:
        if template.auto_execute >= SCRIPT_FLAG:
            scenario = getattr(template, "scenario", None)
            return reverse("designer:scenario-edit", args=[scenario.pk]) if scenario else None
        return reverse("designer:template-edit", args=[template.pk])
    except NoReverseMatch:
        return None


def _usages(field: UserField) -> list[Usage]:
    return [
        Usage(usage.template.name, _designer_url(usage), usage.blocks, usage.published)
        for usage in services.userfield_usages(field=field)
    ]


def _context(entity_type: EntityType, **extra: Any) -> dict[str, Any]:
    return {
        "entity_type": entity_type,
        "entity": entity_type.lower(),
        "caption_plural": CAPTIONS[entity_type][1],
        # The switch between the entity types' field lists.
        "field_lists": [
            (et, CAPTIONS[et][1], reverse("crm:field-list", args=[et.lower()])) for et in EntityType
        ],
        **extra,
    }


@login_required
@require_safe
def field_list(request: HttpRequest, entity: str) -> HttpResponse:
    """The custom fields of an entity type, in their sort order."""
    entity_type = _admin_entity_type(request, entity)
    rows = (
        UserField.objects.filter(entity_type=entity_type)
        .annotate(option_count=Count("items"))
        .order_by("sort", "pk")
    )
    fields = [
        (row, CustomField.of(row, options=()).label(), row.type == UserFieldType.ENUMERATION)
        for row in rows
    ]
    return render(request, "crm/field_list.html", _context(entity_type, fields=fields))


def _form_page(request: HttpRequest, entity_type: EntityType, field: UserField | None):
    adding_option = request.method == "POST" and "add_option" in request.POST
    form = UserFieldForm(
        request.POST if request.method == "POST" else None,
        field=field,
        adding_option=adding_option,
    )
    if request.method == "POST" and not adding_option and form.is_valid() and not form.has_errors:
        try:
            if field is None:
                saved = services.userfield_create(
                    entity_type=entity_type, values=form.values(), user=request.user
                )
            else:
                saved = services.userfield_update(
                    field=field, values=form.values(), user=request.user
                )
        except ValidationError as error:
            form.add_service_errors(error)
        except UserField.DoesNotExist:  # deleted meanwhile
            raise Http404 from None
        else:
            messages.success(request, _("Field %(code)s saved.") % {"code": saved.code})
            return _redirect(request, reverse("crm:field-list", args=[entity_type.lower()]))
    context = _context(
        entity_type,
        form=form,
        field=field,
        form_url=reverse("crm:field-update", args=[entity_type.lower(), field.pk])
        if field is not None
        else reverse("crm:field-create", args=[entity_type.lower()]),
        usages=_usages(field) if field is not None else [],
        text_default_types=" ".join(TEXT_DEFAULT_TYPES),
    )
    template = "crm/field_form.html"
    if adding_option:
        template = _partial(request, template, "field-options")
    else:
        template = _partial(request, template, "field-form")
    return _vary(render(request, template, context, status=422 if form.has_errors else 200))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def field_create(request: HttpRequest, entity: str) -> HttpResponse:
    return _form_page(request, _admin_entity_type(request, entity), None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def field_update(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    entity_type = _admin_entity_type(request, entity)
    return _form_page(request, entity_type, _field_or_404(entity_type, pk))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def field_delete(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """Asks first, saying what goes with the field: the records' values and the processes
    that name it."""
    entity_type = _admin_entity_type(request, entity)
    field = _field_or_404(entity_type, pk)
    if request.method == "POST":
        try:
            services.userfield_delete(field=field, user=request.user)
        except UserField.DoesNotExist:
            raise Http404 from None
        messages.success(request, _("Field %(code)s deleted.") % {"code": field.code})
        return _redirect(request, reverse("crm:field-list", args=[entity_type.lower()]))
    definition = CustomField.of(field, options=())
    context = _context(
        entity_type,
        field=field,
        label=definition.label(),
        values_count=custom_fields.values_count(definition=definition),
        usages=_usages(field),
    )
    return render(request, "crm/field_confirm_delete.html", context)
