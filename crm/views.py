"""CRM pages: record lists, record cards with their timeline, and the create, edit and delete
forms.

One function view serves a page and its partials (``template#partial`` when htmx asks for a
part of the page). Every view asks ``crm.permissions`` and writes through ``crm.services``.
"""

import datetime
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from html import escape
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import numberformat, timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, get_format
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from bizproc.dates import strftime_pattern
from bizproc.fieldtypes import FieldType, user_id_of
from crm import permissions, services
from crm.custom_fields import FILTERABLE, CustomField, caption_of
from crm.documents import CAPTIONS
from crm.fields import FieldSpec, Kind, field_specs, record_values, specs_of
from crm.files import file_url, record_file_ids
from crm.forms import (
    CommentForm,
    FilterKind,
    RecordFilterForm,
    as_query_dict,
    crm_link_choices,
    custom_filter_fields,
    form_values,
    link_choices,
    record_form,
    search_q,
)
from crm.models import (
    RECORD_MODELS,
    Action,
    EntityType,
    ListSettings,
    Record,
    StoredFile,
    TimelineEntry,
    TimelineKind,
    UserFieldType,
)

PER_PAGE = 50
# Counting stops here: past it the list says "more than" and the pager has no last page, so a
# page of a big table never costs a COUNT(*) over the whole of it.
COUNT_CAP = 10_000
MAX_PAGE = 1_000_000
TIMELINE_PAGE = 20
MAX_ID = 2**63 - 1
# The web addresses a card shows as links (others, as text: no ``javascript:`` link).
LINKED_SCHEMES = {"http", "https", "ftp"}

# The columns of each list after the record's name, by field code, unless the person chose
# others (``ListSettings``).
LIST_COLUMNS = {
    EntityType.DEAL: ["STAGE_ID", "OPPORTUNITY", "COMPANY_ID", "ASSIGNED_BY_ID", "DATE_CREATE"],
    EntityType.LEAD: ["STATUS_ID", "COMPANY_TITLE", "OPPORTUNITY", "ASSIGNED_BY_ID", "DATE_CREATE"],
    EntityType.CONTACT: ["POST", "COMPANY_ID", "PHONE", "EMAIL", "ASSIGNED_BY_ID", "DATE_CREATE"],
    EntityType.COMPANY: ["COMPANY_TYPE", "INDUSTRY", "REVENUE", "ASSIGNED_BY_ID", "DATE_CREATE"],
}
# Sort keys of the list: the name column, the amount column and the creation date.
SORTS = {
    EntityType.DEAL: {"name": ["title"], "OPPORTUNITY": ["opportunity"]},
    EntityType.LEAD: {"name": ["title"], "OPPORTUNITY": ["opportunity"]},
    EntityType.CONTACT: {"name": ["last_name", "name"]},
    EntityType.COMPANY: {"name": ["title"], "REVENUE": ["revenue"]},
}
# The fields ``str(record)`` reads.
NAME_FIELDS = {
    EntityType.DEAL: ["title"],
    EntityType.LEAD: ["title"],
    EntityType.CONTACT: ["name", "last_name"],
    EntityType.COMPANY: ["title"],
}
STAGE_CODES = {EntityType.DEAL: "STAGE_ID", EntityType.LEAD: "STATUS_ID"}
NAME_CAPTIONS = {
    EntityType.DEAL: gettext_lazy("Deal name"),
    EntityType.LEAD: gettext_lazy("Lead name"),
    EntityType.CONTACT: gettext_lazy("Full name"),
    EntityType.COMPANY: gettext_lazy("Company name"),
}
NEW_CAPTIONS = {
    EntityType.DEAL: gettext_lazy("New deal"),
    EntityType.LEAD: gettext_lazy("New lead"),
    EntityType.CONTACT: gettext_lazy("New contact"),
    EntityType.COMPANY: gettext_lazy("New company"),
}
CREATED_TEXTS = {
    EntityType.DEAL: gettext_lazy("Deal created"),
    EntityType.LEAD: gettext_lazy("Lead created"),
    EntityType.CONTACT: gettext_lazy("Contact created"),
    EntityType.COMPANY: gettext_lazy("Company created"),
}


def _entity_type(entity: str) -> EntityType:
    try:
        return EntityType(entity.upper())
    except ValueError:
        raise Http404 from None


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


def _card_urls(entity_type: str) -> Callable[[int], str]:
    """Record card URLs for many records: one ``reverse`` instead of one a record."""
    marker = 987654321
    pattern = reverse("crm:record-detail", args=[entity_type.lower(), marker])
    return lambda pk: pattern.replace(str(marker), str(pk))


def _vary(response: HttpResponse) -> HttpResponse:
    # The same URL answers with a page or a partial: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also leaves the page when the form was sent by htmx."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


# --- how values read -----------------------------------------------------------------------------


class Display:
    """Field values written as people read them, as HTML: option names, user names, titles
    of the linked records the viewer may read (with links), dates in the viewer's time zone
    and format, amounts with their currency. Values may be typed or their JSON form from the
    timeline.

    Values are written here rather than by the template: a list page shows hundreds, and
    the formats, time zone and names looked up once per page make that cheap.
    """

    def __init__(self, viewer: Any) -> None:
        # The user itself rather than request.user's lazy stand-in (evaluated by asking it
        # anything): a list page asks the rights module about it hundreds of times.
        viewer.is_authenticated  # noqa: B018
        self.viewer = getattr(viewer, "_wrapped", viewer)
        self._options: dict[str, dict[str, str]] = {}
        self._links: dict[tuple[str, int], str] = {}
        self._zone = timezone.get_current_timezone()
        self._formats = {
            name: (get_format(name), strftime_pattern(get_format(name)))
            for name in ("SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT")
        }
        self._files: dict[int, str] = {}
        self._record_files: dict[tuple[str, int], frozenset[int]] = {}
        self._number_format = (
            get_format("DECIMAL_SEPARATOR"),
            get_format("NUMBER_GROUPING"),
            get_format("THOUSAND_SEPARATOR"),
        )
        not_set = escape(_("not set"))  # outside the f-string, where makemessages finds it
        self._empty = (
            '<span class="empty"><span aria-hidden="true">—</span>'
            f'<span class="visually-hidden">{not_set}</span></span>'
        )

    @cached_property
    def users(self) -> dict[int, str]:
        users = get_user_model().objects.only("full_name", "first_name", "last_name", "username")
        return {user.pk: user.get_full_name() for user in users}

    def options(self, spec: FieldSpec) -> dict[str, str]:
        if spec.code not in self._options:
            self._options[spec.code] = spec.options() if spec.options else {}
        return self._options[spec.code]

    def remember(self, records: Iterable[Record | None]) -> None:
        """Linked records read already (``select_related``): no query for their titles."""
        url_makers: dict[str, Callable[[int], str]] = {}
        for record in records:
            if record is None or (record.entity_type, record.pk) in self._links:
                continue
            if permissions.can_on_record(self.viewer, Action.READ, record):
                if record.entity_type not in url_makers:
                    url_makers[record.entity_type] = _card_urls(record.entity_type)
                url = url_makers[record.entity_type](record.pk)
                shown = f'<a href="{escape(url)}">{escape(str(record))}</a>'
            else:
                shown = f"#{record.pk}"
            self._links[(record.entity_type, record.pk)] = shown

    def prefetch(self, pairs: Iterable[tuple[FieldSpec, Any]]) -> None:
        """Reads the linked records (one query per entity type) and the names of the files
        of many values at once."""
        wanted: dict[str, set[int]] = {}
        files: set[int] = set()
        for spec, value in pairs:
            if not value:
                continue
            items = value if isinstance(value, list) else [value]
            for entity_type, pk in _links_of(spec, items):
                wanted.setdefault(entity_type, set()).add(pk)
            if spec.custom is not None and spec.custom.type == UserFieldType.FILE:
                files.update(item for item in items if isinstance(item, int))
        for entity_type, ids in wanted.items():
            missing = [pk for pk in ids if (entity_type, pk) not in self._links]
            if missing:
                self.remember(permissions.readable(self.viewer, entity_type).filter(pk__in=missing))
                for pk in missing:
                    self._links.setdefault((entity_type, pk), f"#{pk}")
        missing_files = files - self._files.keys()
        if missing_files:
            rows = StoredFile.objects.filter(pk__in=missing_files).values_list("pk", "name")
            self._files.update(rows)
            self._files.update((pk, f"#{pk}") for pk in missing_files - self._files.keys())

    def html(
        self, spec: FieldSpec, value: Any, *, currency: str = "", record: Record | None = None
    ) -> SafeString:
        """The value as HTML; the items of a multiple field comma-separated. ``record``:
        whose files a file field's value names (they are links while it holds them)."""
        if value is None or value == "" or value == []:
            return mark_safe(self._empty)  # noqa: S308 (a constant with an escaped text)
        items = value if spec.multiple and isinstance(value, list) else [value]
        if spec.custom is not None:
            shown = ", ".join(self._custom(spec, item, record) for item in items)
        else:
            shown = ", ".join(self._one(spec, item, currency) for item in items)
        return mark_safe(shown)  # noqa: S308 (_one and _custom escape every part)

    def plain(self, value: Any) -> SafeString:
        """A value of a field that no longer exists, as it was stored."""
        if value is None or value == "" or value == []:
            return mark_safe(self._empty)  # noqa: S308 (a constant with an escaped text)
        items = value if isinstance(value, list) else [value]
        return mark_safe(", ".join(escape(str(item)) for item in items))  # noqa: S308

    def _custom(self, spec: FieldSpec, value: Any, record: Record | None) -> str:
        """A custom field's value; one of another type (its type changed since the timeline
        entry was written) is shown as it was stored."""
        if spec.custom is None:
            return self._one(spec, value, "")
        try:
            return self._custom_typed(spec, spec.custom, value, record)
        except (TypeError, ValueError, ArithmeticError):
            return escape(str(value))

    def _custom_typed(
        self, spec: FieldSpec, definition: CustomField, value: Any, record: Record | None
    ) -> str:
        kind = definition.type
        if kind == UserFieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise TypeError(value)
            return escape(_("Yes") if value else _("No"))
        if kind == UserFieldType.EMPLOYEE:
            user_id = user_id_of(str(value))
            if user_id is None:
                raise ValueError(value)
            return escape(self.users.get(user_id, f"#{user_id}"))
        if kind == UserFieldType.MONEY:
            amount, _bar, currency = str(value).partition("|")
            return self._number(Decimal(amount), 2) + escape(f" {currency}" if currency else "")
        if kind in (UserFieldType.INTEGER, UserFieldType.DOUBLE):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(value)
            return self._number(value, None)
        if kind == UserFieldType.URL:
            text = str(value)
            if urlsplit(text).scheme.lower() not in LINKED_SCHEMES:
                return escape(text)
            return f'<a href="{escape(text)}" rel="noopener nofollow">{escape(text)}</a>'
        if kind == UserFieldType.CRM:
            link = definition.crm_link(str(value))
            if link is None:
                raise ValueError(value)
            self.prefetch([(spec, value)])
            return self._links[link]
        if kind == UserFieldType.FILE:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(value)
            self.prefetch([(spec, value)])
            name = escape(self._files[value])
            if record is None or value not in self._held_files(record):
                return name
            return f'<a href="{escape(file_url(record, value))}" download>{name}</a>'
        return self._one(spec, value, "")

    def _held_files(self, record: Record) -> frozenset[int]:
        key = (record.entity_type, record.pk)
        if key not in self._record_files:
            self._record_files[key] = record_file_ids(record)
        return self._record_files[key]

    def _number(self, value: Any, decimals: int | None) -> str:
        decimal, grouping, thousands = self._number_format
        return escape(
            numberformat.format(value, decimal, decimals, grouping, thousands, force_grouping=True)
        )

    def _one(self, spec: FieldSpec, value: Any, currency: str) -> str:
        if spec.link_to:
            if not isinstance(value, int):
                return escape(str(value))
            self.prefetch([(spec, value)])
            return self._links[(spec.link_to, value)]
        if spec.kind == Kind.USER:
            user_id = user_id_of(str(value))
            return escape(self.users.get(user_id, f"#{user_id}"))
        if spec.type == FieldType.SELECT:
            return escape(str(self.options(spec).get(value, value)))
        if spec.kind == Kind.DECIMAL:
            amount = self._number(value, 2)
            return amount + escape(f" {currency}") if currency else amount
        if spec.type == FieldType.DATE:
            day = parse_date(value) if isinstance(value, str) else value
            return self._time(day, day.isoformat(), "SHORT_DATE_FORMAT") if day else self._empty
        if spec.type == FieldType.DATETIME:
            moment = parse_datetime(value) if isinstance(value, str) else value
            if moment is None:
                return self._empty
            local = moment.astimezone(self._zone) if timezone.is_aware(moment) else moment
            return self._time(local, local.isoformat(), "SHORT_DATETIME_FORMAT")
        if spec.type == FieldType.TEXT:
            return escape(str(value)).replace("\n", "<br>")
        return escape(str(value))

    def _time(self, value: Any, machine: str, format_name: str) -> str:
        django_format, pattern = self._formats[format_name]
        shown = value.strftime(pattern) if pattern else date_format(value, django_format)
        return f'<time datetime="{machine}">{escape(shown)}</time>'


def _links_of(spec: FieldSpec, items: Iterable[Any]) -> Iterable[tuple[str, int]]:
    """The (entity type, id) of the records a link field's values name."""
    if spec.link_to:
        return [(spec.link_to, item) for item in items if isinstance(item, int)]
    if spec.custom is not None and spec.custom.type == UserFieldType.CRM:
        links = (spec.custom.crm_link(str(item)) for item in items)
        return [link for link in links if link is not None]
    return []


@dataclass
class Change:
    caption: Promise | str
    old: SafeString
    new: SafeString


def _changes(
    entity_type: str, changes: dict[str, Any], display: Display, record: Record | None = None
) -> list[Change]:
    """A timeline entry's changes as shown, in the order of the fields (PostgreSQL keeps a
    JSON object's keys in an order of its own); a field deleted since is named by its code,
    after the others."""
    specs = field_specs(entity_type)
    display.prefetch(
        (specs[code], value) for code, pair in changes.items() if code in specs for value in pair
    )
    ordered = [code for code in specs if code in changes]
    ordered += sorted(code for code in changes if code not in specs)
    shown = []
    for code in ordered:
        old, new = changes[code]
        spec = specs.get(code)
        if spec is None:
            shown.append(Change(code, display.plain(old), display.plain(new)))
        else:
            shown.append(
                Change(
                    spec.caption,
                    display.html(spec, old, record=record),
                    display.html(spec, new, record=record),
                )
            )
    return shown


# --- lists ---------------------------------------------------------------------------------------


@dataclass
class Page:
    """A page of a list whose total is counted only up to ``COUNT_CAP``."""

    records: list[Record]
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


@dataclass(frozen=True)
class Columns:
    """What a list shows: the fields of its columns, the model fields to read for them and
    the linked records to read along."""

    specs: list[FieldSpec]
    related: list[str]
    loaded: list[str]

    @classmethod
    def of(cls, entity_type: str, codes: list[str]) -> "Columns":
        specs = [field_specs(entity_type)[code] for code in codes]
        related = [spec.attr for spec in specs if spec.kind == Kind.LINK]
        loaded = {"assigned_by", *NAME_FIELDS[entity_type]}
        # Custom columns read the one JSON column that holds them all (``attr`` "uf").
        loaded.update(spec.attr for spec in specs if spec.kind != Kind.LINK)
        if any(spec.kind == Kind.DECIMAL for spec in specs):
            loaded.add("currency")
        for spec in specs:
            if spec.kind == Kind.LINK:
                names = [*NAME_FIELDS[spec.link_to], "assigned_by"]
                loaded.update(f"{spec.attr}__{name}" for name in names)
        return cls(specs, related, sorted(loaded))


def column_choices(entity_type: str) -> list[FieldSpec]:
    """The fields a list may show as columns, in the field table's order: the built-in ones
    a cell can show, and the custom fields shown in lists (not files: a cell names no file)."""
    name_attrs = set(NAME_FIELDS[entity_type])
    return [
        spec
        for spec in specs_of(entity_type)
        if spec.code not in ("ID", "CURRENCY_ID")
        and spec.kind != Kind.LINKS
        and spec.attr not in name_attrs
        and (
            spec.custom is None
            or (spec.custom.show_in_list and spec.custom.type != UserFieldType.FILE)
        )
    ]


def column_caption(spec: FieldSpec) -> Promise:
    """A column's heading: a custom field's caption for list columns."""
    return caption_of(spec.custom, "column") if spec.custom is not None else spec.caption


def chosen_columns(user: Any, entity_type: str) -> list[str]:
    """The codes of the columns the person chose (fields deleted since are skipped), or the
    default columns."""
    saved = (
        ListSettings.objects.filter(user=user, entity_type=entity_type)
        .values_list("columns", flat=True)
        .first()
    )
    if saved is None:
        return LIST_COLUMNS[entity_type]
    chosen = set(saved) if isinstance(saved, list) else set()
    return [spec.code for spec in column_choices(entity_type) if spec.code in chosen]


def _paginate(queryset: QuerySet, ordering: list, raw_number: Any, columns: Columns) -> Page:
    """One page. Its rows are found by their ids in a subquery, which the database answers
    from the index alone where the order allows: a late page skips index entries, not rows.
    Only the columns the list shows are read, with the linked records they name."""
    number = min(_int(raw_number) or 1, MAX_PAGE)
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    capped = count > COUNT_CAP
    num_pages = None
    if not capped:
        num_pages = max(1, math.ceil(count / PER_PAGE))
        number = min(number, num_pages)
    offset = (number - 1) * PER_PAGE
    ids = queryset.order_by(*ordering).values("pk")[offset : offset + PER_PAGE + 1]
    rows = queryset.model.objects.filter(pk__in=ids).only(*columns.loaded).order_by(*ordering)
    records = list(rows.select_related(*columns.related) if columns.related else rows)
    return Page(
        records=records[:PER_PAGE],
        number=number,
        count=min(count, COUNT_CAP),
        capped=capped,
        has_next=len(records) > PER_PAGE,
        num_pages=num_pages,
    )


def _filtered(
    queryset: QuerySet, entity_type: str, filters: RecordFilterForm, chosen: dict[str, Any]
) -> QuerySet:
    for word in chosen.get("q", "").split()[:5]:
        queryset = queryset.filter(search_q(entity_type, word))
    if "stage" in chosen:
        queryset = queryset.filter(
            **{field_specs(entity_type)[STAGE_CODES[entity_type]].attr: chosen["stage"]}
        )
    if "assigned" in chosen:
        queryset = queryset.filter(assigned_by_id=chosen["assigned"])
    if "created_from" in chosen:
        queryset = queryset.filter(created_at__gte=_start_of(chosen["created_from"]))
    if "created_to" in chosen:
        next_day = chosen["created_to"] + datetime.timedelta(days=1)
        queryset = queryset.filter(created_at__lt=_start_of(next_day))
    for custom in filters.custom:
        queryset = queryset.filter(_custom_q(custom.definition, custom.kind, chosen))
    return queryset


def _custom_q(definition: Any, kind: str, chosen: dict[str, Any]) -> Q:
    """A custom field's filter, written as lookups on its JSON key so that the field's
    expression index serves them (``crm.custom_fields.index_sync``)."""
    code = definition.code
    key = f"uf__{code}"
    low, high = chosen.get(f"{code}_from"), chosen.get(f"{code}_to")
    match = Q()
    if kind == FilterKind.RANGE:
        if low is not None:
            match &= Q(**{f"{key}__gte": low})
        if high is not None:
            match &= Q(**{f"{key}__lte": high})
    elif kind == FilterKind.DATE_RANGE:
        if definition.type == UserFieldType.DATETIME:
            # Moments are kept in UTC, as ISO text: the viewer's days turned into UTC text.
            def moment(day: datetime.date) -> str:
                return _start_of(day).astimezone(datetime.UTC).isoformat(timespec="seconds")

            if low is not None:
                match &= Q(**{f"{key}__gte": moment(low)})
            if high is not None:
                match &= Q(**{f"{key}__lt": moment(high + datetime.timedelta(days=1))})
        else:
            if low is not None:
                match &= Q(**{f"{key}__gte": low.isoformat()})
            if high is not None:
                match &= Q(**{f"{key}__lte": high.isoformat()})
    elif code not in chosen:
        return match
    elif kind == FilterKind.YES_NO:
        if chosen[code] == "Y":
            match = Q(**{key: True})
        else:  # a record without a value is a "no", as the card shows it
            match = Q(**{key: False}) | Q(**{f"{key}__isnull": True})
    elif kind == FilterKind.CONTAINS:
        match = Q(**{f"{key}__icontains": chosen[code]})
    elif kind == FilterKind.EQUALS:
        value = chosen[code].strip()
        match = Q(**{key: value.upper() if definition.type == UserFieldType.CRM else value})
    else:  # an option's id, a user's id
        match = Q(**{key: chosen[code]})
    return match


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight of the day in the viewer's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def custom_sorts(entity_type: str) -> list[str]:
    """The custom fields a list may sort on: one value of a type whose stored values order
    as the type does (by its option's id for an enumeration, by the user's id for an
    employee)."""
    return [
        spec.code
        for spec in specs_of(entity_type)
        if spec.custom is not None and not spec.multiple and spec.custom.type in FILTERABLE
    ]


def _ordering(entity_type: str, sort: str) -> list:
    """The order of a list sort key, the id breaking ties so that pages never overlap.

    Empty amounts go last either way; non-null columns keep the plain order their btree
    index can serve (``NULLS LAST`` on a descending sort would defeat it). A custom field's
    empty values go last either way too: its two indexes (``index_sync``) serve both orders.
    """
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    if key.startswith("UF_CRM_") and key in custom_sorts(entity_type):
        value = KeyTransform(key, "uf")
        if descending:
            return [value.desc(nulls_last=True), "-pk"]
        return [value.asc(nulls_last=True), "pk"]
    fields = ["created_at"] if key == "DATE_CREATE" else SORTS[entity_type].get(key)
    if not fields:
        return ["-pk"]
    model = RECORD_MODELS[entity_type]
    expressions = []
    for name in fields:
        nulls_last = True if model._meta.get_field(name).null else None
        column = F(name)
        expressions.append(
            column.desc(nulls_last=nulls_last) if descending else column.asc(nulls_last=nulls_last)
        )
    return [*expressions, "-pk" if descending else "pk"]


@dataclass
class Header:
    caption: Promise
    sort_key: str | None = None  # ascending key, None: not sortable
    current: str = ""  # "ascending" / "descending" when the list is sorted by it

    @property
    def next_sort(self) -> str:
        return f"-{self.sort_key}" if self.current == "ascending" else str(self.sort_key)


def _sort_keys(entity_type: str) -> list[str]:
    return [*SORTS[entity_type], "DATE_CREATE", *custom_sorts(entity_type)]


def _headers(entity_type: str, columns: Columns, sort: str) -> list[Header]:
    sortable = set(_sort_keys(entity_type))
    headers = []
    for key, caption in [
        ("name", NAME_CAPTIONS[entity_type]),
        *((spec.code, column_caption(spec)) for spec in columns.specs),
    ]:
        header = Header(caption, key if key in sortable else None)
        if header.sort_key and sort.removeprefix("-") == key:
            header.current = "descending" if sort.startswith("-") else "ascending"
        headers.append(header)
    return headers


@dataclass
class Row:
    """A row of a list, written as HTML by ``{{ row }}``: fifty rows of variables cost the
    template engine more than the rest of the page, so the row's markup is written here."""

    record: Record
    url: str
    select_label: str
    cells: list[SafeString] = field(default_factory=list)

    def __html__(self) -> str:
        cells = "".join(f"<td>{cell}</td>" for cell in self.cells)
        return (
            f'<tr><td class="select"><input type="checkbox" name="ids" value="{self.record.pk}"'
            f' aria-label="{escape(self.select_label)}"></td>'
            f'<th scope="row"><a href="{escape(self.url)}">{escape(str(self.record))}</a></th>'
            f"{cells}</tr>"
        )

    def __str__(self) -> str:
        return mark_safe(self.__html__())  # noqa: S308 (every part is escaped above)


def _rows(entity_type: str, records: list[Record], columns: Columns, display: Display) -> list[Row]:
    specs = columns.specs
    values = [[spec.read(record) for spec in specs] for record in records]
    for spec in specs:
        if spec.kind == Kind.LINK:
            display.remember(getattr(record, spec.attr) for record in records)
    display.prefetch(
        (spec, value) for row in values for spec, value in zip(specs, row, strict=True)
    )
    url_of = _card_urls(entity_type)
    select = _("Select %(name)s")
    rows = []
    for record, row_values in zip(records, values, strict=True):
        currency = getattr(record, "currency", "")
        rows.append(
            Row(
                record,
                url_of(record.pk),
                select % {"name": record},
                [
                    display.html(spec, value, currency=currency)
                    for spec, value in zip(specs, row_values, strict=True)
                ],
            )
        )
    return rows


@login_required
def home(request: HttpRequest) -> HttpResponse:
    readable = permissions.entity_types_readable(request.user)
    if not readable:
        raise PermissionDenied
    return redirect("crm:record-list", entity=readable[-1].lower())


@login_required
@require_safe
def record_list(request: HttpRequest, entity: str) -> HttpResponse:
    """The records of a type the user may read: search, filters, sorting, pages."""
    entity_type = _entity_type(entity)
    if not permissions.can_on_type(request.user, entity_type, Action.READ):
        raise PermissionDenied
    display = Display(request.user)
    stage_spec = (
        field_specs(entity_type)[STAGE_CODES[entity_type]] if entity_type in STAGE_CODES else None
    )
    sort_keys = _sort_keys(entity_type)
    filters = RecordFilterForm(
        request.GET,
        stages=(stage_spec.caption, display.options(stage_spec)) if stage_spec else None,
        sorts=[*sort_keys, *(f"-{key}" for key in sort_keys)],
        custom=custom_filter_fields(entity_type),
    )
    chosen = filters.valid_data()
    sort = chosen.get("sort", "")
    readable = permissions.readable(request.user, entity_type)
    queryset = _filtered(readable, entity_type, filters, chosen)
    shown = chosen_columns(request.user, entity_type)
    columns = Columns.of(entity_type, shown)
    page = _paginate(queryset, _ordering(entity_type, sort), request.GET.get("page"), columns)
    context = {
        "entity_type": entity_type,
        "entity": entity_type.lower(),
        "caption": CAPTIONS[entity_type][0],
        "caption_plural": CAPTIONS[entity_type][1],
        "filters": filters,
        "filtered": bool(set(chosen) - {"sort"}),
        "sort": sort,
        "new_caption": NEW_CAPTIONS[entity_type],
        "headers": _headers(entity_type, columns, sort),
        "column_choices": [
            (spec.code, column_caption(spec), spec.code in shown)
            for spec in column_choices(entity_type)
        ],
        "page": page,
        "rows": _rows(entity_type, page.records, columns, display),
        "can_add": permissions.can_on_type(request.user, entity_type, Action.ADD),
        "may_manage_fields": permissions.is_crm_admin(request.user),
    }
    template = _partial(request, "crm/record_list.html", "record-list")
    return _vary(render(request, template, context))


@login_required
@require_POST
def list_columns(request: HttpRequest, entity: str) -> HttpResponse:
    """Keeps the columns the person chose for the list (``reset``: back to the default ones)
    and returns to the list as it was (its search, filters and sort)."""
    entity_type = _entity_type(entity)
    if not permissions.can_on_type(request.user, entity_type, Action.READ):
        raise PermissionDenied
    columns = None if "reset" in request.POST else request.POST.getlist("columns")
    services.list_columns_save(user=request.user, entity_type=entity_type, columns=columns)
    url = reverse("crm:record-list", args=[entity_type.lower()])
    # Only the query string of our own list is taken back: no redirect elsewhere.
    query = QueryDict(str(request.POST.get("query", ""))[:2000].lstrip("?")).urlencode()
    return redirect(f"{url}?{query}" if query else url)


_FORM_ACTIONS = (Action.READ, Action.ADD)


@login_required
@require_safe
def record_lookup(request: HttpRequest, entity: str, code: str) -> HttpResponse:
    """The choice of a link field (a deal's company …) narrowed to the records matching
    ``q`` that the user may read: the select of the form, to be swapped in."""
    entity_type = _entity_type(entity)
    # Asked by the form of a record of the type: no field of a type one may neither read nor add.
    if not any(permissions.can_on_type(request.user, entity_type, a) for a in _FORM_ACTIONS):
        raise PermissionDenied
    spec = field_specs(entity_type).get(code)
    custom = spec.custom if spec is not None else None
    if spec is None or (spec.link_to is None and getattr(custom, "type", "") != UserFieldType.CRM):
        raise Http404
    search = str(request.GET.get("q", ""))[:200].replace("\x00", "")
    posted = "" if spec.multiple else str(request.GET.get(code, ""))[:22]
    held = [posted] if posted else []
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    if custom is not None:
        held_choices, groups, _more = crm_link_choices(
            request.user, custom, held=held, search=search
        )
        options: list[tuple[str, str]] = []
    else:
        if not permissions.can_on_type(request.user, spec.link_to, Action.READ):
            raise PermissionDenied
        held_choices, options, _more = link_choices(
            request.user, spec.link_to, held=held, search=search
        )
    context = {
        "select_id": f"id_{code}_add" if spec.multiple else f"id_{code}",
        "select_name": code,
        "select_options": held_choices + options,
        "select_groups": groups,
        "select_value": held_choices[0][0] if held_choices else "",
        "select_required": spec.required and custom is None,
    }
    return _vary(render(request, "crm/record_form.html#link-select", context))


# --- record card ---------------------------------------------------------------------------------


@dataclass
class Entry:
    """A timeline entry as shown."""

    entry: TimelineEntry
    author: str
    text: str = ""
    changes: list[Change] = field(default_factory=list)


def _timeline(
    record: Record, display: Display, before: int | None = None
) -> tuple[list[Entry], int | None]:
    """A page of the record's timeline, newest first, and the id to continue before."""
    entries = TimelineEntry.objects.filter(document_id=record.document_id)
    if before is not None:
        anchor = entries.filter(pk=before).values_list("created_at", flat=True).first()
        if anchor is None:
            return [], None
        entries = entries.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=before))
    rows = list(entries.order_by("-created_at", "-id")[: TIMELINE_PAGE + 1])
    shown = [_shown(record, row, display) for row in rows[:TIMELINE_PAGE]]
    more = rows[TIMELINE_PAGE - 1].pk if len(rows) > TIMELINE_PAGE else None
    return shown, more


def timeline_after(record: Record, display: Display, after: int) -> list[Entry]:
    """The record's timeline entries added since entry ``after`` was shown, newest first
    (a page's live update: ``crm.consumers.RecordCardConsumer``)."""
    rows = TimelineEntry.objects.filter(document_id=record.document_id, pk__gt=after)
    return [_shown(record, row, display) for row in rows.order_by("-created_at", "-id")]


def _shown(record: Record, row: TimelineEntry, display: Display) -> Entry:
    author = display.users.get(row.author_id, "") if row.author_id else ""
    if row.by_process:
        author = _("Business process") + (f" · {author}" if author else "")
    return Entry(
        entry=row,
        author=author or pgettext("timeline", "System"),
        text=str(CREATED_TEXTS[record.entity_type])
        if row.kind == TimelineKind.CREATED
        else row.text,
        changes=_changes(record.entity_type, row.changes, display, record)
        if row.kind == TimelineKind.CHANGED
        else [],
    )


def record_rows(record: Record, display: Display) -> list[tuple[str, SafeString]]:
    """The card's details: each field's caption and its value as shown."""
    values = record_values(record)
    specs = specs_of(record.entity_type)
    display.prefetch((spec, values[spec.code]) for spec in specs)
    currency = values.get("CURRENCY_ID", "")
    return [
        (spec.caption, display.html(spec, values[spec.code], currency=currency, record=record))
        for spec in specs
        if spec.code != "CURRENCY_ID"
    ]


def _card_context(
    request: HttpRequest,
    record: Record,
    comment_form: CommentForm | None = None,
    before: int | None = None,
) -> dict[str, Any]:
    entity_type = record.entity_type
    display = Display(request.user)
    rows = record_rows(record, display)
    entries, more = _timeline(record, display, before)
    return {
        "entity_type": entity_type,
        "entity": entity_type.lower(),
        "caption": CAPTIONS[entity_type][0],
        "caption_plural": CAPTIONS[entity_type][1],
        "record": record,
        "rows": rows,
        "entries": entries,
        # The newest entry shown: the card's socket sends the ones added after it.
        "newest": entries[0].entry.pk if entries and before is None else 0,
        "more": more,
        "comment_form": comment_form or CommentForm(),
        "can_update": permissions.can_on_record(request.user, Action.UPDATE, record),
        "can_delete": permissions.can_on_record(request.user, Action.DELETE, record),
    }


@login_required
@require_safe
def record_detail(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """The record card: its fields, its timeline and its processes.

    ``?before=<entry id>`` shows the timeline entries older than that one (with htmx: only
    them, to be appended).
    """
    record = permissions.get_readable_or_404(request.user, _entity_type(entity), pk)
    before = _int(request.GET.get("before"))
    context = _card_context(request, record, before=before)
    template = "crm/record_detail.html"
    if before is not None:
        template = _partial(request, template, "timeline-entries")
    return _vary(render(request, template, context))


@login_required
@require_POST
def comment_create(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """Adds a comment to the record's timeline (commenting needs only the read right)."""
    record = permissions.get_readable_or_404(request.user, _entity_type(entity), pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.timeline_comment_add(
                record=record, text=form.cleaned_data["text"], user=request.user
            )
        except ValidationError as error:
            for message in error.message_dict.get("text", error.messages):
                form.add_error("text", message)
        except type(record).DoesNotExist:
            raise Http404 from None
    if form.errors:
        context = _card_context(request, record, form)
        template = _partial(request, "crm/record_detail.html", "timeline")
        return render(request, template, context, status=422)
    if not request.htmx:
        return redirect(f"{record.get_absolute_url()}#timeline")
    context = _card_context(request, record) | {"comment_added": True}
    return render(request, "crm/record_detail.html#timeline", context)


# --- forms ---------------------------------------------------------------------------------------


def _form_response(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    template = _partial(request, "crm/record_form.html", "record-form")
    return _vary(render(request, template, context, status=status))


def _form_context(entity_type: str, form: Any, **extra: Any) -> dict[str, Any]:
    return {
        "entity_type": entity_type,
        "entity": entity_type.lower(),
        "caption": CAPTIONS[entity_type][0],
        "caption_plural": CAPTIONS[entity_type][1],
        "new_caption": NEW_CAPTIONS[entity_type],
        "form": form,
        **extra,
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def record_create(request: HttpRequest, entity: str) -> HttpResponse:
    entity_type = _entity_type(entity)
    if not permissions.can_on_type(request.user, entity_type, Action.ADD):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    files = request.FILES if data is not None else None
    form = record_form(
        entity_type=entity_type, user=request.user, record=None, data=data, files=files
    )
    if data is not None and form.is_valid() and form.store_uploads(request.user):
        try:
            record = services.record_create(
                entity_type=entity_type, values=form.values(), user=request.user
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Saved."))
            return _redirect(request, record.get_absolute_url())
    status = 422 if form.errors else 200
    return _form_response(request, _form_context(entity_type, form), status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def record_update(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """Edits a record. The form carries the version it was based on: if someone (a person or
    a process) changed the record meanwhile, nothing is written and the form comes back with
    what they changed, the person's own edits kept on top of the current values."""
    entity_type = _entity_type(entity)
    record = permissions.get_readable_or_404(request.user, entity_type, pk)
    if not permissions.can_on_record(request.user, Action.UPDATE, record):
        raise PermissionDenied
    if request.method != "POST":
        form = record_form(entity_type=entity_type, user=request.user, record=record)
        return _form_response(
            request, _form_context(entity_type, form, record=record, version=record.version)
        )

    version = _int(request.POST.get("version")) or 0
    since = (
        services.timeline_changes_since(record=record, version=version)
        if version != record.version
        else {}
    )
    based_on = {code: old for code, (old, _now) in since.items()}
    form = record_form(
        entity_type=entity_type,
        user=request.user,
        record=record,
        data=request.POST,
        files=request.FILES,
        based_on=based_on,
    )
    if not (form.is_valid() and form.store_uploads(request.user)):
        context = _form_context(entity_type, form, record=record, version=version)
        return _form_response(request, context, 422)
    try:
        services.record_update(
            record=record,
            values=form.changed_values(),
            user=request.user,
            expected_version=version,
        )
    except ValidationError as error:
        form.add_service_errors(error)
        context = _form_context(entity_type, form, record=record, version=version)
        return _form_response(request, context, 422)
    except services.StaleRecord as stale:
        return _stale_response(request, stale.record, form, version)
    messages.success(request, _("Saved."))
    if permissions.readable(request.user, entity_type).filter(pk=record.pk).exists():
        return _redirect(request, record.get_absolute_url())
    return _redirect(request, reverse("crm:record-list", args=[entity_type.lower()]))


def _stale_response(request: HttpRequest, current: Record, form: Any, version: int) -> HttpResponse:
    """The refused edit: what others changed, and a form on the current version that keeps
    the person's edits, so saving again applies exactly those."""
    entity_type = current.entity_type
    since = services.timeline_changes_since(record=current, version=version)
    data = form_values(entity_type, record_values(current))
    data |= {code: form.cleaned_data[code] for code in form.changed_data}
    fresh = record_form(
        entity_type=entity_type, user=request.user, record=current, data=as_query_dict(data)
    )
    context = _form_context(
        entity_type,
        fresh,
        record=current,
        version=current.version,
        stale=_changes(entity_type, since, Display(request.user), current),
    )
    return _form_response(request, context, 409)


@login_required
@require_safe
def record_file(request: HttpRequest, entity: str, pk: int, file_id: int) -> FileResponse:
    """A file of the record, to whoever may read the record, while the record holds it."""
    record = permissions.get_readable_or_404(request.user, _entity_type(entity), pk)
    if file_id not in record_file_ids(record):
        raise Http404
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
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


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def record_delete(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """Asks, then deletes. Asked by htmx from the card, the question is a modal dialog."""
    entity_type = _entity_type(entity)
    record = permissions.get_readable_or_404(request.user, entity_type, pk)
    if not permissions.can_on_record(request.user, Action.DELETE, record):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.record_delete(record=record, user=request.user)
        except type(record).DoesNotExist:
            raise Http404 from None
        messages.success(request, _("Deleted: %(name)s") % {"name": record})
        return _redirect(request, reverse("crm:record-list", args=[entity_type.lower()]))
    context = _form_context(entity_type, None, record=record, as_dialog=bool(request.htmx))
    template = _partial(request, "crm/record_confirm_delete.html", "delete-dialog")
    return _vary(render(request, template, context))
