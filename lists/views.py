"""The lists pages: the lists index, a list's settings and fields (lists administrators), its
element table, an element's form and card, file downloads, and the employees' pages of
process lists — "Requests" (pick a process list, fill its form) and "My requests".

One function view serves a page and its partials (``template#partial`` when htmx asks for part
of a page). Every view asks ``lists.permissions`` and writes through ``lists.services``: an
element one may not read is a 404, an action one may not do on what one may read a 403.
"""

import datetime
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from html import escape
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import numberformat, timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, get_format
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRedirect

from bizproc.bounds import bounded_int
from bizproc.dates import strftime_pattern
from bizproc.models import SCRIPT_FLAG, Instance, InstanceStatus, ProcessTaskUser, TaskStatus
from bizproc.usages import field_usages
from lists import permissions, services
from lists.documents import MODULE, document_type_of_list
from lists.forms import (
    ElementFilterForm,
    ElementForm,
    FilterKind,
    ListFieldForm,
    ListForm,
)
from lists.models import Element, ElementFile, List, ListField, ListKind, PropertyType, Right
from lists.properties import (
    BUILTINS,
    ObjectKeyText,
    Property,
    Schema,
    schema_of,
    value_of,
)

PER_PAGE = 50
# Counting stops here: past it the table says "more than" and the pager has no last page, so a
# page of a big list never costs a COUNT(*) over the whole of it.
COUNT_CAP = 10_000
MAX_PAGE = 1_000_000
MAX_ID = 2**63 - 1
REQUESTS_PAGE = 50
# My requests draws itself again this often while one of its processes runs.
REQUESTS_POLL = "every 5s"
UNFINISHED = (InstanceStatus.CREATED, InstanceStatus.RUNNING, InstanceStatus.SUSPENDED)


def _int(raw: Any) -> int | None:
    """A positive id or page number from a query string, or None."""
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def _partial(request: HttpRequest, template: str, name: str) -> str:
    """The partial when htmx asks for part of a page; the page for a history restore."""
    if request.htmx and not request.htmx.history_restore_request:
        return f"{template}#{name}"
    return template


def _vary(response: HttpResponse) -> HttpResponse:
    # The same URL answers with a page or a partial: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also leaves the page when the form was sent by htmx."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _element_urls(list_id: int) -> Callable[[int], str]:
    """Element card URLs for many elements: one ``reverse`` instead of one an element."""
    marker = 987654321
    pattern = reverse("lists:element-detail", kwargs={"list_pk": list_id, "pk": marker})
    return lambda pk: pattern.replace(str(marker), str(pk))


def file_url(file_id: int) -> str:
    return reverse("lists:file-download", args=[file_id])


# --- finding what the user may open ----------------------------------------------------------


def _list_or_404(pk: int) -> List:
    found = List.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _admin_list(request: HttpRequest, pk: int) -> List:
    """A list for its settings and fields pages: lists administrators only (403), then 404."""
    if not permissions.is_lists_admin(request.user):
        raise PermissionDenied
    return _list_or_404(pk)


def _visible_list(user: Any, pk: int) -> List:
    """A list the user may open: its access shows it, or it holds their own elements."""
    list_ = _list_or_404(pk)
    if permissions.can_see_list(user, list_):
        return list_
    if permissions.holds_elements(user, list_):
        return list_
    raise Http404


def _readable_element(user: Any, list_pk: int, pk: int) -> Element:
    if bounded_int(list_pk, minimum=1) is None or bounded_int(pk, minimum=1) is None:
        raise Http404  # an id past the database's integers names nothing
    element = (
        Element.objects.select_related("list", "created_by", "modified_by")
        .filter(list_id=list_pk, pk=pk)
        .first()
    )
    if element is None or not permissions.can_read(user, element):
        raise Http404
    return element


def _element_caption(list_: List) -> str:
    return list_.element_name or _("Element")


# --- how values read ---------------------------------------------------------------------------


class Display:
    """Stored values written as people read them, as HTML: option names, people's names,
    linked elements (links when the viewer may read them), files (download links), dates in
    the viewer's time zone and format, numbers and money in the viewer's format.

    Values are written here rather than by the template: a table shows hundreds, and names
    looked up once per page make that cheap.
    """

    def __init__(self, viewer: Any) -> None:
        viewer.is_authenticated  # noqa: B018 (the user itself, not request.user's stand-in)
        self.viewer = getattr(viewer, "_wrapped", viewer)
        self._zone = timezone.get_current_timezone()
        self._formats = {
            name: (get_format(name), strftime_pattern(get_format(name)))
            for name in ("SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT")
        }
        self._number_format = (
            get_format("DECIMAL_SEPARATOR"),
            get_format("NUMBER_GROUPING"),
            get_format("THOUSAND_SEPARATOR"),
        )
        self._elements: dict[int, str] = {}
        self._files: dict[int, str] = {}
        self._user_ids: set[int] = set()
        not_set = escape(_("not set"))
        self.empty = mark_safe(  # noqa: S308 (a constant with an escaped text)
            '<span class="empty"><span aria-hidden="true">—</span>'
            f'<span class="visually-hidden">{not_set}</span></span>'
        )

    @cached_property
    def users(self) -> dict[int, str]:
        users = get_user_model().objects.filter(pk__in=self._user_ids)
        return {
            user.pk: user.get_full_name()
            for user in users.only("full_name", "first_name", "last_name", "username")
        }

    def want_users(self, ids: Iterable[int | None]) -> None:
        self._user_ids.update(pk for pk in ids if pk)
        self.__dict__.pop("users", None)

    def prefetch(self, props: Iterable[Property], stored: Iterable[dict[str, Any]]) -> None:
        """Reads the names of the people, linked elements and files the values name."""
        props = list(props)
        users: set[int] = set()
        elements: set[int] = set()
        files: set[int] = set()
        for values in stored:
            for prop in props:
                value = (values or {}).get(prop.key)
                if value is None:
                    continue
                items = value if isinstance(value, list) else [value]
                ids = {item for item in items if isinstance(item, int) and item > 0}
                if prop.type == PropertyType.EMPLOYEE:
                    users |= ids
                elif prop.type == PropertyType.ELEMENT:
                    elements |= ids
                elif prop.type == PropertyType.FILE:
                    files |= ids
        self.want_users(users)
        missing = elements - self._elements.keys()
        if missing:
            rows = Element.objects.filter(pk__in=missing).select_related("list")
            for row in rows.only("pk", "name", "list", "created_by_id"):
                if permissions.can_read(self.viewer, row):
                    url = _element_urls(row.list_id)(row.pk)
                    self._elements[row.pk] = f'<a href="{escape(url)}">{escape(row.name)}</a>'
                else:
                    self._elements[row.pk] = f"#{row.pk}"
            self._elements.update((pk, f"#{pk}") for pk in missing - self._elements.keys())
        missing = files - self._files.keys()
        if missing:
            self._files.update(ElementFile.objects.filter(pk__in=missing).values_list("pk", "name"))
            self._files.update((pk, f"#{pk}") for pk in missing - self._files.keys())

    def user(self, pk: int | None) -> SafeString:
        if not pk:
            return self.empty
        return mark_safe(escape(self.users.get(pk, f"#{pk}")))  # noqa: S308

    def moment(self, value: Any) -> SafeString:
        if value is None:
            return self.empty
        moment = parse_datetime(value) if isinstance(value, str) else value
        if moment is None:
            return mark_safe(escape(str(value)))  # noqa: S308
        local = moment.astimezone(self._zone) if timezone.is_aware(moment) else moment
        return mark_safe(  # noqa: S308 (_time escapes)
            self._time(local, local.isoformat(), "SHORT_DATETIME_FORMAT")
        )

    def text(self, value: Any) -> SafeString:
        """A text of several lines, escaped, its line breaks kept (never read as HTML)."""
        if value in (None, ""):
            return self.empty
        return mark_safe(escape(str(value)).replace("\n", "<br>"))  # noqa: S308

    def number(self, value: Any, decimals: int | None = None) -> str:
        decimal, grouping, thousands = self._number_format
        return escape(
            numberformat.format(value, decimal, decimals, grouping, thousands, force_grouping=True)
        )

    def html(self, prop: Property, stored: Any, *, held_files: bool = True) -> SafeString:
        """A property's stored value as HTML; several values comma-separated. ``held_files``:
        the viewer may read the element, so its files are download links."""
        if stored is None or stored == "" or stored == []:
            return self.empty
        items = stored if isinstance(stored, list) else [stored]
        shown = []
        for item in items:
            try:
                shown.append(self._one(prop, item, held_files))
            except (TypeError, ValueError, ArithmeticError, InvalidOperation):
                shown.append(escape(str(item)))
        separator = "<br>" if prop.type == PropertyType.HTML else ", "
        return mark_safe(separator.join(shown))  # noqa: S308 (_one escapes every part)

    def _one(self, prop: Property, value: Any, held_files: bool) -> str:
        kind = prop.type
        if kind == PropertyType.LIST:
            option = prop.option_by_id(value)
            return escape(option.value if option is not None else str(value))
        if kind == PropertyType.EMPLOYEE:
            return escape(self.users.get(int(value), f"#{value}"))
        if kind == PropertyType.ELEMENT:
            return self._elements.get(int(value), f"#{int(value)}")
        if kind == PropertyType.FILE:
            name = escape(self._files.get(int(value), f"#{int(value)}"))
            if not held_files:
                return name
            return f'<a href="{escape(file_url(int(value)))}" download>{name}</a>'
        if kind in (PropertyType.NUMBER, PropertyType.SEQUENCE):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(value)
            return self.number(value)
        if kind == PropertyType.MONEY:
            amount, _bar, currency = str(value).partition("|")
            return self.number(Decimal(amount), 2) + escape(f" {currency}" if currency else "")
        if kind == PropertyType.DATE:
            day = parse_date(str(value))
            if day is None:
                raise ValueError(value)
            return self._time(day, day.isoformat(), "SHORT_DATE_FORMAT")
        if kind == PropertyType.DATETIME:
            return str(self.moment(value))
        if kind == PropertyType.HTML:
            return escape(str(value)).replace("\n", "<br>")
        return escape(str(value))

    def _time(self, value: Any, machine: str, format_name: str) -> str:
        django_format, pattern = self._formats[format_name]
        shown = value.strftime(pattern) if pattern else date_format(value, django_format)
        return f'<time datetime="{escape(machine)}">{escape(shown)}</time>'


# --- the lists index ---------------------------------------------------------------------------


@dataclass
class ListEntry:
    list: List
    count: int
    may_manage: bool


def _counts(user: Any, lists: list[List]) -> dict[int, int]:
    """How many elements of each list the user may read: every one where the list grants
    reading, their own elsewhere (two queries)."""
    whole = [list_.pk for list_ in lists if permissions.has_right(user, list_, Right.READ)]
    own = [list_.pk for list_ in lists if list_.pk not in whole]
    counts: dict[int, int] = {}
    for ids, extra in ((whole, Q()), (own, permissions.personal(user))):
        if ids:
            rows = Element.objects.filter(extra, list_id__in=ids).values("list_id")
            counts |= dict(rows.annotate(n=Count("pk")).values_list("list_id", "n"))
    return counts


@login_required
@require_safe
def list_index(request: HttpRequest) -> HttpResponse:
    """The lists the user may open, with how many of their elements the user may read."""
    lists = permissions.visible_lists(request.user)
    counts = _counts(request.user, lists)
    is_admin = permissions.is_lists_admin(request.user)
    entries = [ListEntry(list_, counts.get(list_.pk, 0), is_admin) for list_ in lists]
    return render(request, "lists/list_index.html", {"entries": entries, "may_create": is_admin})


# --- a list's settings -------------------------------------------------------------------------


def _list_form_page(request: HttpRequest, list_: List | None) -> HttpResponse:
    form = ListForm(request.POST if request.method == "POST" else None, list_=list_)
    if request.method == "POST" and form.is_valid():
        try:
            if list_ is None:
                saved = services.list_create(values=form.values(), user=request.user)
            else:
                saved = services.list_update(list_=list_, values=form.values(), user=request.user)
        except ValidationError as error:
            form.add_service_errors(error)
        except List.DoesNotExist:  # deleted meanwhile
            raise Http404 from None
        else:
            messages.success(request, _("List “%(name)s” saved.") % {"name": saved.name})
            target = "lists:field-list" if list_ is None else "lists:element-list"
            return _redirect(request, reverse(target, kwargs={"list_pk": saved.pk}))
    status = 422 if form.errors else 200
    template = _partial(request, "lists/list_form.html", "list-form")
    context = {"form": form, "list": list_}
    return _vary(render(request, template, context, status=status))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def list_create(request: HttpRequest) -> HttpResponse:
    if not permissions.is_lists_admin(request.user):
        raise PermissionDenied
    return _list_form_page(request, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def list_update(request: HttpRequest, list_pk: int) -> HttpResponse:
    return _list_form_page(request, _admin_list(request, list_pk))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def list_delete(request: HttpRequest, list_pk: int) -> HttpResponse:
    """Asks, saying how many elements go with the list, then deletes it."""
    list_ = _admin_list(request, list_pk)
    if request.method == "POST":
        services.list_delete(list_=list_, user=request.user)
        messages.success(request, _("List “%(name)s” deleted.") % {"name": list_.name})
        return _redirect(request, reverse("lists:list-index"))
    context = {"list": list_, "element_count": Element.objects.filter(list=list_).count()}
    return render(request, "lists/list_confirm_delete.html", context)


# --- fields ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """A process that names the field, as the pages show it."""

    name: str
    url: str | None  # its editor in the designer
    blocks: list[str]
    published: bool


def _usages(list_: List, field_: ListField) -> list[Usage]:
    usages = []
    for usage in field_usages(
        document_type=document_type_of_list(list_), code=f"PROPERTY_{field_.code}"
    ):
        template = usage.template
        try:
            url = (
                None
                if template.auto_execute >= SCRIPT_FLAG
                else reverse("designer:template-edit", args=[template.pk])
            )
        except NoReverseMatch:
            url = None
        usages.append(Usage(template.name, url, usage.blocks, usage.published))
    return usages


def _field_or_404(list_: List, pk: int) -> ListField:
    found = ListField.objects.filter(list=list_, pk=pk).first()
    if found is None:
        raise Http404
    return found


@login_required
@require_safe
def field_list(request: HttpRequest, list_pk: int) -> HttpResponse:
    """The list's built-in fields (what they are) and its properties, in their sort order."""
    list_ = _admin_list(request, list_pk)
    rows = ListField.objects.filter(list=list_).annotate(option_count=Count("options"))
    context = {
        "list": list_,
        "builtins": [
            (code, caption, required, read_only)
            for code, caption, _type, required, read_only, _attr in BUILTINS
        ],
        "fields": rows.order_by("sort", "pk"),
    }
    return render(request, "lists/field_list.html", context)


def _field_form_page(request: HttpRequest, list_: List, field_: ListField | None) -> HttpResponse:
    adding_option = request.method == "POST" and "add_option" in request.POST
    form = ListFieldForm(
        request.POST if request.method == "POST" else None,
        list_=list_,
        field=field_,
        adding_option=adding_option,
    )
    if request.method == "POST" and not adding_option and form.is_valid():
        values = form.values()
        if not form.has_errors:
            try:
                if field_ is None:
                    saved = services.listfield_create(list_=list_, values=values, user=request.user)
                else:
                    saved = services.listfield_update(
                        field=field_, values=values, user=request.user
                    )
            except ValidationError as error:
                form.add_service_errors(error)
            except ListField.DoesNotExist:  # deleted meanwhile
                raise Http404 from None
            else:
                messages.success(request, _("Field %(code)s saved.") % {"code": saved.code})
                return _redirect(request, reverse("lists:field-list", kwargs={"list_pk": list_.pk}))
    form_url = (
        reverse("lists:field-update", kwargs={"list_pk": list_.pk, "pk": field_.pk})
        if field_ is not None
        else reverse("lists:field-create", kwargs={"list_pk": list_.pk})
    )
    context = {
        "list": list_,
        "form": form,
        "field": field_,
        "form_url": form_url,
        "usages": _usages(list_, field_) if field_ is not None else [],
    }
    template = "lists/field_form.html"
    template = _partial(request, template, "field-options" if adding_option else "field-form")
    status = 422 if form.has_errors else 200
    return _vary(render(request, template, context, status=status))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def field_create(request: HttpRequest, list_pk: int) -> HttpResponse:
    return _field_form_page(request, _admin_list(request, list_pk), None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def field_update(request: HttpRequest, list_pk: int, pk: int) -> HttpResponse:
    list_ = _admin_list(request, list_pk)
    return _field_form_page(request, list_, _field_or_404(list_, pk))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def field_delete(request: HttpRequest, list_pk: int, pk: int) -> HttpResponse:
    """Asks first, saying what goes with the field: the elements' values and the processes
    that name it."""
    list_ = _admin_list(request, list_pk)
    field_ = _field_or_404(list_, pk)
    if request.method == "POST":
        try:
            services.listfield_delete(field=field_, user=request.user)
        except ListField.DoesNotExist:
            raise Http404 from None
        messages.success(request, _("Field %(code)s deleted.") % {"code": field_.code})
        return _redirect(request, reverse("lists:field-list", kwargs={"list_pk": list_.pk}))
    context = {
        "list": list_,
        "field": field_,
        "values_count": Element.objects.filter(list=list_, values__has_key=str(field_.pk)).count(),
        "usages": _usages(list_, field_),
    }
    return render(request, "lists/field_confirm_delete.html", context)


# --- the element table -------------------------------------------------------------------------


@dataclass
class Page:
    """A page of a table whose total is counted only up to ``COUNT_CAP``."""

    elements: list[Element]
    number: int
    count: int
    capped: bool
    has_next: bool
    num_pages: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


# Built-in sort keys and the columns they order by (each with the id breaking ties, so that
# pages never overlap); every one has an index after the list.
BUILTIN_SORTS = {
    "ID": [],
    "NAME": ["name"],
    "SORT": ["sort"],
    "DATE_CREATE": ["created_at"],
    "TIMESTAMP_X": ["modified_at"],
}
LOADED = ["id", "list_id", "name", "sort", "created_by_id", "created_at", "modified_at"]


def sortable_properties(schema: Schema) -> list[Property]:
    """The properties the table sorts on: one value of a type whose stored values order as
    the type does, shown in the filter — those have the two indexes ``index_sync`` keeps, so
    a sort on them stays fast on a big list."""
    return [prop for prop in schema.properties if prop.sortable and prop.filterable]


def _sort_keys(schema: Schema) -> list[str]:
    return [*BUILTIN_SORTS, *(prop.engine_code for prop in sortable_properties(schema))]


def _ordering(schema: Schema, sort: str) -> list[Any]:
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    prop = schema.by_code(key) if key.startswith("PROPERTY_") else None
    if prop is not None and prop in sortable_properties(schema):
        value = value_of(prop)
        if descending:
            return [value.desc(nulls_last=True), "-pk"]
        return [value.asc(nulls_last=True), "pk"]
    if key not in BUILTIN_SORTS or not sort:
        return ["-pk"]
    columns = [F(name) for name in BUILTIN_SORTS[key]]
    if descending:
        return [*(column.desc() for column in columns), "-pk"]
    return [*(column.asc() for column in columns), "pk"]


def _paginate(queryset: QuerySet, ordering: list[Any], raw_number: Any) -> Page:
    """One page. Its rows are found by their ids in a subquery, which the database answers
    from an index alone where the order allows; only the columns the table shows are read."""
    number = min(_int(raw_number) or 1, MAX_PAGE)
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    capped = count > COUNT_CAP
    num_pages = None
    if not capped:
        num_pages = max(1, math.ceil(count / PER_PAGE))
        number = min(number, num_pages)
    offset = (number - 1) * PER_PAGE
    ids = queryset.order_by(*ordering).values("pk")[offset : offset + PER_PAGE + 1]
    rows = Element.objects.filter(pk__in=ids).only(*LOADED, "values").order_by(*ordering)
    elements = list(rows)
    return Page(
        elements=elements[:PER_PAGE],
        number=number,
        count=min(count, COUNT_CAP),
        capped=capped,
        has_next=len(elements) > PER_PAGE,
        num_pages=num_pages,
    )


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight of the day in the viewer's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _moment_text(day: datetime.date) -> str:
    """The viewer's midnight as moments are stored: UTC ISO text."""
    return _start_of(day).astimezone(datetime.UTC).isoformat(timespec="seconds")


def _property_filter(
    queryset: QuerySet, prop: Property, kind: str, chosen: dict[str, Any]
) -> QuerySet:
    """A property's filter, on the expression its indexes are built on (an alias, so that
    the lookups compare as JSON: numbers with numbers, ISO text with text)."""
    code = prop.engine_code
    name = f"property_{prop.id}_value"
    low, high = chosen.get(f"{code}_from"), chosen.get(f"{code}_to")
    lookups: dict[str, Any] = {}
    if kind == FilterKind.RANGE:
        if low is not None:
            lookups[f"{name}__gte"] = low
        if high is not None:
            lookups[f"{name}__lte"] = high
    elif kind == FilterKind.DATE_RANGE:
        if prop.type == PropertyType.DATETIME:
            if low is not None:
                lookups[f"{name}__gte"] = _moment_text(low)
            if high is not None:
                lookups[f"{name}__lt"] = _moment_text(high + datetime.timedelta(days=1))
        else:
            if low is not None:
                lookups[f"{name}__gte"] = low.isoformat()
            if high is not None:
                lookups[f"{name}__lte"] = high.isoformat()
    elif code not in chosen:
        pass
    elif kind == FilterKind.CONTAINS:
        text = ObjectKeyText(prop.key, "values")
        return queryset.alias(**{name: text}).filter(**{f"{name}__icontains": chosen[code]})
    else:  # an option's id, a user's id
        lookups[name] = chosen[code]
    if not lookups:
        return queryset
    return queryset.alias(**{name: value_of(prop)}).filter(**lookups)


def _filtered(queryset: QuerySet, filters: ElementFilterForm, chosen: dict[str, Any]) -> QuerySet:
    for word in chosen.get("q", "").split()[:5]:
        match = Q(name__icontains=word)
        if word.isascii() and word.isdigit() and len(word) < 19:
            match |= Q(pk=int(word))
        queryset = queryset.filter(match)
    if "created_by" in chosen:
        queryset = queryset.filter(created_by_id=chosen["created_by"])
    for item in filters.filters:
        queryset = _property_filter(queryset, item.prop, item.kind, chosen)
    return queryset


@dataclass
class Header:
    caption: Promise | str
    sort_key: str | None = None  # ascending key, None: not sortable
    current: str = ""  # "ascending" / "descending" when the table is sorted by it

    @property
    def next_sort(self) -> str:
        return f"-{self.sort_key}" if self.current == "ascending" else str(self.sort_key)


@dataclass
class Row:
    """A row of the table, written as HTML by ``{{ row }}`` (fifty rows of variables cost the
    template engine more than the rest of the page)."""

    element: Element
    url: str
    cells: list[SafeString] = field(default_factory=list)

    def __html__(self) -> str:
        cells = "".join(f"<td>{cell}</td>" for cell in self.cells)
        return (
            f"<tr><td>{self.element.pk}</td>"
            f'<th scope="row"><a href="{escape(self.url)}">{escape(self.element.name)}</a></th>'
            f"{cells}</tr>"
        )

    def __str__(self) -> str:
        return mark_safe(self.__html__())  # noqa: S308 (every part is escaped above)


def _columns(schema: Schema) -> list[Property]:
    return [prop for prop in schema.properties if prop.show_in_list]


def _headers(schema: Schema, columns: list[Property], sort: str) -> list[Header]:
    sortable = set(_sort_keys(schema))
    headers = []
    for key, caption in [
        ("ID", gettext_lazy("ID")),
        ("NAME", gettext_lazy("Name")),
        *((prop.engine_code, prop.name) for prop in columns),
        ("SORT", gettext_lazy("Sort")),
        ("CREATED_BY", gettext_lazy("Created by")),
        ("DATE_CREATE", pgettext_lazy("date", "Created")),
        ("TIMESTAMP_X", gettext_lazy("Modified")),
    ]:
        header = Header(caption, key if key in sortable else None)
        if header.sort_key and sort.removeprefix("-") == key:
            header.current = "descending" if sort.startswith("-") else "ascending"
        headers.append(header)
    return headers


def _rows(list_: List, elements: list[Element], columns: list[Property], display: Display):
    display.prefetch(columns, (element.values for element in elements))
    display.want_users(element.created_by_id for element in elements)
    url_of = _element_urls(list_.pk)
    rows = []
    for element in elements:
        values = element.values or {}
        cells = [display.html(prop, values.get(prop.key)) for prop in columns]
        cells += [
            mark_safe(display.number(element.sort)),  # noqa: S308 (escaped)
            display.user(element.created_by_id),
            display.moment(element.created_at),
            display.moment(element.modified_at),
        ]
        rows.append(Row(element, url_of(element.pk), cells))
    return rows


@login_required
@require_safe
def element_list(request: HttpRequest, list_pk: int) -> HttpResponse:
    """The elements of a list the user may read: search, filters, sorting, pages."""
    list_ = _visible_list(request.user, list_pk)
    schema = schema_of(list_.pk)
    sort_keys = _sort_keys(schema)
    filters = ElementFilterForm(
        request.GET, sorts=[*sort_keys, *(f"-{key}" for key in sort_keys)], schema=schema
    )
    chosen = filters.valid_data()
    sort = chosen.get("sort", "")
    queryset = _filtered(permissions.readable(request.user, list_), filters, chosen)
    page = _paginate(queryset, _ordering(schema, sort), request.GET.get("page"))
    columns = _columns(schema)
    display = Display(request.user)
    context = {
        "list": list_,
        "filters": filters,
        "filtered": bool(set(chosen) - {"sort"}),
        "sort": sort,
        "headers": _headers(schema, columns, sort),
        "page": page,
        "rows": _rows(list_, page.elements, columns, display),
        "can_add": permissions.can_add(request.user, list_),
        "may_manage": permissions.is_lists_admin(request.user),
    }
    template = _partial(request, "lists/element_list.html", "element-list")
    return _vary(render(request, template, context))


# --- the element card -------------------------------------------------------------------------


def element_rows(element: Element, schema: Schema, display: Display) -> list[tuple[Any, Any]]:
    """The card's details: each field's caption and its value as shown."""
    display.prefetch(schema.properties, [element.values])
    display.want_users([element.created_by_id, element.modified_by_id])
    values = element.values or {}
    rows: list[tuple[Any, Any]] = [
        (gettext_lazy("ID"), element.pk),
        (gettext_lazy("Name"), element.name),
        (gettext_lazy("Sort"), element.sort),
        (gettext_lazy("Active from"), display.moment(element.active_from)),
        (gettext_lazy("Active to"), display.moment(element.active_to)),
        (gettext_lazy("Preview text"), display.text(element.preview_text)),
        (gettext_lazy("Detail text"), display.text(element.detail_text)),
    ]
    rows += [(prop.name, display.html(prop, values.get(prop.key))) for prop in schema.properties]
    rows += [
        (gettext_lazy("Created by"), display.user(element.created_by_id)),
        (pgettext_lazy("date", "Created"), display.moment(element.created_at)),
        (gettext_lazy("Modified by"), display.user(element.modified_by_id)),
        (gettext_lazy("Modified"), display.moment(element.modified_at)),
    ]
    return rows


@login_required
@require_safe
def element_detail(request: HttpRequest, list_pk: int, pk: int) -> HttpResponse:
    """The element card: its fields and its processes (with their journal, live)."""
    element = _readable_element(request.user, list_pk, pk)
    list_ = element.list
    may_edit = permissions.can_edit(request.user, element)
    context = {
        "list": list_,
        "element": element,
        "element_caption": _element_caption(list_),
        "rows": element_rows(element, schema_of(list_.pk), Display(request.user)),
        "can_edit": may_edit,
        "is_request": list_.kind == ListKind.PROCESSES,
    }
    return render(request, "lists/element_detail.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def element_delete(request: HttpRequest, list_pk: int, pk: int) -> HttpResponse:
    element = _readable_element(request.user, list_pk, pk)
    if not permissions.can_edit(request.user, element):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.element_delete(element=element, user=request.user)
        except Element.DoesNotExist:
            raise Http404 from None
        messages.success(request, _("Deleted: %(name)s") % {"name": element.name})
        return _redirect(request, reverse("lists:element-list", kwargs={"list_pk": list_pk}))
    context = {"list": element.list, "element": element}
    return render(request, "lists/element_confirm_delete.html", context)


@login_required
@require_safe
def file_download(request: HttpRequest, pk: int) -> FileResponse:
    """A file of an element's file field: to whoever may read the element, or while no
    element holds it yet, to the person who uploaded it."""
    stored = ElementFile.objects.select_related("element__list").filter(pk=pk).first()
    if stored is None:
        raise Http404
    if stored.element is not None:
        allowed = permissions.can_read(request.user, stored.element)
    else:
        allowed = stored.uploaded_by_id is not None and stored.uploaded_by_id == request.user.pk
    if not allowed:
        raise Http404
    try:
        content = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(content, as_attachment=True, filename=stored.name)
    # The uploader chose the type: the browser is not to read anything else into it.
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the element form ---------------------------------------------------------------------------

REQUEST_BUILTINS = {"NAME"}


def _form_response(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    template = _partial(request, "lists/element_form.html", "element-form")
    return _vary(render(request, template, context, status=status))


def _form_context(list_: List, form: ElementForm, **extra: Any) -> dict[str, Any]:
    return {"list": list_, "form": form, "element_caption": _element_caption(list_), **extra}


def _element_add(request: HttpRequest, list_: List, *, as_request: bool) -> HttpResponse:
    schema = schema_of(list_.pk)
    builtins = REQUEST_BUILTINS if as_request else None
    data = request.POST if request.method == "POST" else None
    files = request.FILES if data is not None else None
    form = ElementForm(
        data, files, list_=list_, schema=schema, user=request.user, element=None, builtins=builtins
    )
    if data is not None and form.is_valid() and form.store_uploads():
        try:
            element = services.element_create(list_=list_, values=form.values(), user=request.user)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            if as_request:
                messages.success(request, _("Request sent: %(name)s") % {"name": element.name})
                return _redirect(request, reverse("lists:my-requests"))
            messages.success(request, _("Saved."))
            return _redirect(
                request,
                reverse("lists:element-detail", kwargs={"list_pk": list_.pk, "pk": element.pk}),
            )
    form_url = reverse(
        "lists:request-add" if as_request else "lists:element-add", kwargs={"list_pk": list_.pk}
    )
    context = _form_context(list_, form, form_url=form_url, as_request=as_request)
    return _form_response(request, context, 422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def element_add(request: HttpRequest, list_pk: int) -> HttpResponse:
    list_ = _visible_list(request.user, list_pk)
    if not permissions.can_add(request.user, list_):
        raise PermissionDenied
    return _element_add(request, list_, as_request=False)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def element_edit(request: HttpRequest, list_pk: int, pk: int) -> HttpResponse:
    """Edits an element. The form carries the version it was based on: if someone (a person
    or a process) changed the element meanwhile, nothing is written and the form comes back
    with the person's input and the fields that now hold something else."""
    element = _readable_element(request.user, list_pk, pk)
    if not permissions.can_edit(request.user, element):
        raise PermissionDenied
    list_ = element.list
    schema = schema_of(list_.pk)
    form_url = reverse("lists:element-edit", kwargs={"list_pk": list_.pk, "pk": element.pk})
    if request.method != "POST":
        form = ElementForm(list_=list_, schema=schema, user=request.user, element=element)
        context = _form_context(
            list_, form, element=element, version=element.version, form_url=form_url
        )
        return _form_response(request, context)
    version = _int(request.POST.get("version")) or 0
    form = ElementForm(
        request.POST,
        request.FILES,
        list_=list_,
        schema=schema,
        user=request.user,
        element=element,
    )
    context = _form_context(list_, form, element=element, version=version, form_url=form_url)
    if not (form.is_valid() and form.store_uploads()):
        return _form_response(request, context, 422)
    try:
        services.element_update(
            element=element, values=form.values(), user=request.user, expected_version=version
        )
    except ValidationError as error:
        form.add_service_errors(error)
        return _form_response(request, context, 422)
    except services.StaleElement as stale:
        context |= {"version": stale.element.version, "stale": form.stale_fields(stale.element)}
        return _form_response(request, context, 409)
    except Element.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Saved."))
    if permissions.can_read(request.user, element):
        return _redirect(request, _element_urls(list_.pk)(element.pk))
    return _redirect(request, reverse("lists:element-list", kwargs={"list_pk": list_.pk}))


# --- processes in the feed: Requests and My requests ------------------------------------------


def request_lists(user: Any) -> list[List]:
    """The process lists the user may add to."""
    return [
        list_
        for list_ in List.objects.filter(kind=ListKind.PROCESSES)
        if permissions.can_add(user, list_)
    ]


@login_required
@require_safe
def request_index(request: HttpRequest) -> HttpResponse:
    """The process lists an employee may fill a request in."""
    return render(request, "lists/request_index.html", {"lists": request_lists(request.user)})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_add(request: HttpRequest, list_pk: int) -> HttpResponse:
    """A process list's form: sending it adds the element, which starts the list's processes
    that start on add, and leads to My requests."""
    list_ = _list_or_404(list_pk)
    if list_.kind != ListKind.PROCESSES:
        raise Http404
    if not permissions.can_add(request.user, list_):
        if not permissions.can_see_list(request.user, list_):
            raise Http404
        raise PermissionDenied
    return _element_add(request, list_, as_request=True)


@dataclass
class RequestRow:
    element: Element
    url: str
    instance: Instance | None
    waiting_for: list[str]

    @property
    def status_label(self) -> str:
        if self.instance is None:
            return _("No process")
        return str(self.instance.get_status_display())

    @property
    def running(self) -> bool:
        return self.instance is not None and self.instance.status in UNFINISHED


def my_requests(user: Any, before: int | None = None) -> tuple[list[RequestRow], int | None]:
    """The user's own elements of process lists, newest first, each with the state of its
    latest process and the people whose task it waits for; and the id to continue before."""
    elements = Element.objects.filter(created_by=user, list__kind=ListKind.PROCESSES)
    if before is not None:
        elements = elements.filter(pk__lt=before)
    rows = list(
        elements.select_related("list")
        .only("pk", "name", "created_at", "list__name", "list__kind", "list_id")
        .order_by("-pk")[: REQUESTS_PAGE + 1]
    )
    more = rows[REQUESTS_PAGE - 1].pk if len(rows) > REQUESTS_PAGE else None
    rows = rows[:REQUESTS_PAGE]
    ids = [str(element.pk) for element in rows]
    latest: dict[str, Instance] = {}
    instances = (
        Instance.objects.filter(module=MODULE, document_id__in=ids)
        .only("id", "document_id", "status", "started_at", "state_title")
        .order_by("document_id", "-started_at")
    )
    for instance in instances:
        latest.setdefault(instance.document_id, instance)
    waiting: dict[str, list[str]] = {}
    assignees = (
        ProcessTaskUser.objects.filter(
            task__document_id__in=ids,
            task__instance__module=MODULE,
            task__status=TaskStatus.WAITING,
            status=TaskStatus.WAITING,
        )
        .select_related("user", "task")
        .order_by("task__created_at", "pk")
    )
    for assignee in assignees:
        names = waiting.setdefault(assignee.task.document_id, [])
        name = assignee.user.get_full_name()
        if name not in names:
            names.append(name)
    result = []
    for element in rows:
        key = str(element.pk)
        url = _element_urls(element.list_id)(element.pk)
        result.append(RequestRow(element, url, latest.get(key), waiting.get(key, [])))
    return result, more


@login_required
@require_safe
def my_requests_page(request: HttpRequest) -> HttpResponse:
    """The employee's requests with their processes' state — drawn again every few seconds
    while a process runs (htmx polling of this page's ``requests`` partial)."""
    before = _int(request.GET.get("before"))
    rows, more = my_requests(request.user, before)
    context = {
        "rows": rows,
        "more": more,
        "before": before,
        "poll": REQUESTS_POLL if any(row.running for row in rows) else "",
        "may_request": bool(request_lists(request.user)),
    }
    template = _partial(request, "lists/my_requests.html", "requests")
    return _vary(render(request, template, context))
