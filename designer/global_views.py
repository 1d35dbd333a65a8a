"""The pages of global constants and variables (``{=GlobalConst:Id}``, ``{=GlobalVar:Id}``):
one list per kind, the create and edit form, whose value input follows the chosen type (as a
smart scenario's start parameter dialog does), and the delete confirmation, which names the
processes that use the global (and then deletes nothing).

Administrators (``globals_manageable``) manage them; whoever designs processes reads the
lists, seeing the globals visible to the document types they design, without buttons; everyone
else gets 403 on every page and partial. Every write goes through ``bizproc.globals``, whose
refusals name the form field they concern. Two administrators editing one global: the second
save is refused (the form carries the time it was drawn from), and nothing is saved.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRedirect

from accounts.people import person_name
from bizproc.expressions.errors import ExpressionError
from bizproc.expressions.scope import display_text
from bizproc.fieldtypes import FieldType, FieldValueError, base_type, type_choices
from bizproc.globals import (
    GlobalRefused,
    global_delete,
    global_save,
    global_usages,
    globals_manageable,
    globals_readable,
    readable_visibilities,
    visibility_caption,
    visibility_choices,
)
from bizproc.models import GLOBAL_VISIBILITY, SCRIPT_FLAG, GlobalField, GlobalKind
from bizproc.schemas import flag, schema_fields
from bizproc.usages import FieldUsage
from designer import forms, widgets


@dataclass(frozen=True)
class Kind:
    slug: str  # in URLs
    kind: GlobalKind
    title: Any  # the page's heading
    new: Any  # the create button and page
    none_yet: Any


KINDS = {
    "constants": Kind(
        "constants",
        GlobalKind.CONSTANT,
        gettext_lazy("Global constants"),
        gettext_lazy("New constant"),
        gettext_lazy("No global constants yet."),
    ),
    "variables": Kind(
        "variables",
        GlobalKind.VARIABLE,
        gettext_lazy("Global variables"),
        gettext_lazy("New variable"),
        gettext_lazy("No global variables yet."),
    ),
}
# The types a global may be given here: files and linked lists have no input of their own.
VALUE_TYPES = [
    (value, label)
    for value, label in type_choices()
    if value not in (FieldType.FILE, FieldType.INTERNALSELECT)
]
# The typed part of the form (value, options), fetched again when the type changes.
TYPED = "global-typed"


@dataclass(frozen=True)
class Usage:
    """A process that names the global, as the pages show it."""

    name: str
    url: str | None
    blocks: list[str]
    published: bool


@dataclass
class Row:
    """The form's values: a global's, or as posted."""

    code: str = ""
    name: str = ""
    type: str = FieldType.STRING
    required: bool = False
    multiple: bool = False
    options: str = ""  # ``key = label`` lines
    value: Any = ""
    visibility: str = GLOBAL_VISIBILITY
    description: str = ""
    modified: str = ""  # the global's ``modified_at`` when the form was drawn
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def option_map(self) -> dict[str, str]:
        return forms.options_from_text(self.options)


# ---- rights and lookups ----------------------------------------------------------------------


def _kind(slug: str) -> Kind:
    if slug not in KINDS:
        raise Http404
    return KINDS[slug]


def _readable(request: HttpRequest) -> None:
    if not globals_readable(request.user):
        raise PermissionDenied


def _manageable(request: HttpRequest) -> None:
    if not globals_manageable(request.user):
        raise PermissionDenied


def _global_or_404(kind: Kind, pk: int) -> GlobalField:
    found = GlobalField.objects.filter(kind=kind.kind, pk=pk).first()
    if found is None:
        raise Http404
    return found


def _list_url(kind: Kind) -> str:
    return reverse("designer:global-list", args=[kind.slug])


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also leaves the page when the form was sent by htmx."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


# ---- values as people read them ----------------------------------------------------------------


def value_shown(row: GlobalField) -> str:
    """A global's value as people read it: people by name, options by label, dates in the
    reader's format and time zone, Yes/No."""
    value = row.value
    if value in (None, "", []):
        return ""
    found = schema_fields({row.code: row.definition}).get(row.code)
    if found is None:
        return widgets.display(value)
    try:
        typed = found.convert(value)
    except FieldValueError:
        return widgets.display(value)  # stored before its type changed: shown as it is
    items = typed if isinstance(typed, list) else [typed]
    if found.options:
        return ", ".join(str(found.options.get(str(item), item)) for item in items)
    if found.type == FieldType.USER:
        return person_name(items)
    try:
        return display_text(typed)
    except ExpressionError:
        return widgets.display(value)


def type_caption(type_: str) -> str:
    return dict(type_choices()).get(type_, type_)


def _usages(usages: list[FieldUsage]) -> list[Usage]:
    return [
        Usage(usage.template.name, _designer_url(usage), usage.blocks, usage.published)
        for usage in usages
    ]


def _designer_url(usage: FieldUsage) -> str | None:
    template = usage.template
    try:
        if template.auto_execute >= SCRIPT_FLAG:
            scenario = getattr(template, "scenario", None)
            return reverse("designer:scenario-edit", args=[scenario.pk]) if scenario else None
        return reverse("designer:template-edit", args=[template.pk])
    except NoReverseMatch:
        return None


# ---- the list ----------------------------------------------------------------------------------


@login_required
@require_safe
def global_list(request: HttpRequest, kind: str) -> HttpResponse:
    """The globals of a kind the user may read, by ID; buttons for administrators only."""
    chosen = _kind(kind)
    _readable(request)
    rows = GlobalField.objects.filter(kind=chosen.kind).select_related("modified_by")
    visible = readable_visibilities(request.user)
    if visible is not None:
        rows = rows.filter(visibility__in=visible)
    context = {
        "kind": chosen,
        "kinds": KINDS.values(),
        "manage": globals_manageable(request.user),
        "rows": [
            {
                "global": row,
                "token": f"{{={chosen.kind}:{row.code}}}",
                "type": type_caption(row.type),
                "value": value_shown(row),
                "visibility": visibility_caption(row.visibility),
                "modified_by": row.modified_by.get_full_name() if row.modified_by else "",
            }
            for row in rows.order_by("code")
        ],
    }
    return render(request, "designer/global_list.html", context)


# ---- the form ----------------------------------------------------------------------------------


def _row_of(found: GlobalField) -> Row:
    definition = found.definition
    return Row(
        code=found.code,
        name=found.name,
        type=found.type,
        required=flag(definition.get("Required", "0")),
        multiple=flag(definition.get("Multiple", "0")),
        options=forms.options_text(definition),
        value=found.value,
        visibility=found.visibility,
        description=str(definition.get("Description") or ""),
        modified=found.modified_at.isoformat(),
    )


def _items(value: Any) -> list[str]:
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _posted_row(data: QueryDict) -> Row:
    multiple = bool(data.get("multiple"))
    type_ = data.get("type", FieldType.STRING)
    value: Any
    if multiple:
        value = widgets.split_list(widgets.posted_text(data, "value"))
    elif base_type(type_) == FieldType.USER:
        value = widgets.posted_value(data, "value")
    else:
        value = data.get("value", "")
    return Row(
        code=data.get("code", "").strip(),
        name=data.get("name", ""),
        type=type_,
        required=bool(data.get("required")),
        multiple=multiple,
        options=data.get("options", ""),
        value=value,
        visibility=data.get("visibility", GLOBAL_VISIBILITY),
        description=data.get("description", ""),
        modified=data.get("modified", ""),
    )


def _value_input(row: Row) -> widgets.Input:
    """The value's input, by the global's type: a person picker, a list's options (boxes to
    tick when it holds several), a date, a number, text; several values as a list typed with
    commas."""
    type_ = base_type(row.type)
    item = widgets.typed_input(
        "value",
        _("Value"),
        type_,
        row.value,
        options=row.option_map,
        required=row.required,
        multiple=row.multiple,
        checkbox=False,
        expressions=False,
    )
    if "value" in row.errors:
        item.errors = [row.errors["value"]]
    return item


def _form_context(kind: Kind, row: Row, found: GlobalField | None) -> dict[str, Any]:
    if found is None:
        form_url = reverse("designer:global-create", args=[kind.slug])
    else:
        form_url = reverse("designer:global-update", args=[kind.slug, found.pk])
    types = list(VALUE_TYPES)
    if row.type not in dict(types):
        types.append((row.type, row.type))  # a type brought from elsewhere stays visible
    visibilities = visibility_choices()
    if row.visibility not in dict(visibilities):
        visibilities.append((row.visibility, row.visibility))
    value = _value_input(row)
    return {
        "kind": kind,
        "found": found,
        "row": row,
        "errors": row.errors,
        "form_error": row.errors.get(""),
        "token": f"{{={kind.kind}:{found.code}}}" if found else "",
        "form_url": form_url,
        "types": types,
        "visibilities": visibilities,
        "is_list": base_type(row.type) == FieldType.SELECT,
        # A list holding several values: a box for each option.
        "choices": [(key, label, key in _items(row.value)) for key, label in row.option_map.items()]
        if base_type(row.type) == FieldType.SELECT and row.multiple
        else None,
        "value": value,
        "usages": _usages(global_usages(kind=kind.kind, code=found.code)) if found else [],
    }


def _save(request: HttpRequest, kind: Kind, row: Row, found: GlobalField | None) -> GlobalField:
    """Saves the posted row; a global changed since the form was drawn is refused."""
    with transaction.atomic():
        if found is not None:
            locked = GlobalField.objects.select_for_update().filter(pk=found.pk).first()
            if locked is None:
                raise GlobalRefused(_("This global was deleted meanwhile. Nothing was saved."))
            if locked.modified_at.isoformat() != row.modified:
                raise GlobalRefused(
                    _(
                        "Another administrator changed this global after you opened it. "
                        "Nothing was saved: open it again to see their changes."
                    )
                )
            found = locked
        return global_save(
            user=request.user,
            kind=kind.kind,
            name=row.name,
            type=row.type,
            value=row.value,
            description=row.description,
            multiple=row.multiple,
            required=row.required,
            options=row.option_map if base_type(row.type) == FieldType.SELECT else None,
            visibility=row.visibility,
            code=row.code,
            instance=found,
        )


def _form_page(request: HttpRequest, kind: Kind, found: GlobalField | None) -> HttpResponse:
    page = "designer/global_form.html"
    if request.method == "GET" and request.htmx and request.htmx.target == TYPED:
        row = _posted_row(request.GET)
        return render(request, f"{page}#global-typed", _form_context(kind, row, found))
    if request.method != "POST":
        row = _row_of(found) if found is not None else Row()
        return render(request, page, _form_context(kind, row, found))
    row = _posted_row(request.POST)
    if found is not None:
        row.code = found.code
    try:
        saved = _save(request, kind, row, found)
    except GlobalRefused as refused:
        row.errors = dict(refused.errors)
        listed = base_type(row.type) == FieldType.SELECT
        if row.errors.get("type") and listed and not row.option_map:
            row.errors["options"] = row.errors.pop("type")  # "needs options": said by them
        context = _form_context(kind, row, found)
        if refused.usages:
            context["usages"] = _usages(refused.usages)
        stale = found is not None and "" in row.errors and not refused.usages
        if request.htmx:
            page += "#global-form"
        return render(request, page, context, status=409 if stale else 422)
    messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
    return _redirect(request, _list_url(kind))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def global_create(request: HttpRequest, kind: str) -> HttpResponse:
    chosen = _kind(kind)
    _manageable(request)
    return _form_page(request, chosen, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def global_update(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    chosen = _kind(kind)
    _manageable(request)
    return _form_page(request, chosen, _global_or_404(chosen, pk))


# ---- deleting ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def global_delete_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Asks first; a global processes use is not deleted, and the page names them."""
    chosen = _kind(kind)
    _manageable(request)
    found = _global_or_404(chosen, pk)
    refusal = ""
    usages: list[FieldUsage]
    if request.method == "POST":
        try:
            global_delete(user=request.user, instance=found)
        except GlobalRefused as refused:
            refusal, usages = refused.message, refused.usages
        else:
            messages.success(request, _("“%(name)s” deleted.") % {"name": found.name})
            return _redirect(request, _list_url(chosen))
    else:
        usages = global_usages(kind=chosen.kind, code=found.code)
    context = {
        "kind": chosen,
        "found": found,
        "refusal": refusal,
        "usages": _usages(usages),
        "value": value_shown(found),
    }
    return render(
        request, "designer/global_confirm_delete.html", context, status=409 if refusal else 200
    )
