"""HTML forms for CRM records, the record list's filters and timeline comments.

The record form is built from the field table (``crm.fields``) and accepts any text: the
services validate it, so a page refuses exactly what REST and processes refuse, with the same
messages. The form carries the raw values, knows which ones the person changed, and places the
services' messages next to their fields.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from accounts.people import person_of, user_picker, user_pk_of
from bizproc.fieldtypes import FieldType
from crm import permissions, services
from crm.custom_fields import CRM_PREFIXES, INT_LIMIT, CustomField, caption_of
from crm.documents import CAPTIONS
from crm.fields import FieldSpec, Kind, currency_options, field_specs, record_values, specs_of
from crm.models import Action, Currency, Level, Record, StoredFile, UserFieldType

LOOKUP_SIZE = 200


class Widget:
    """How a field is drawn (``templates/crm/record_form.html``)."""

    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    DATE = "date"
    SELECT = "select"
    USER = "user"  # the user picker: people found and shown by name
    LINK = "link"  # an id, with the readable records offered in a datalist
    LINKS = "links"  # several ids: a checkbox per linked record and an input to add one
    MULTI = "multi"  # several strings: an input per value and an empty one to add one
    CHECKS = "checks"  # several options: a checkbox per option
    MONEY = "money"  # an amount and its currency (a row of them when multiple)
    FILE = "file"  # the files held, each with a "remove" box, and an input to upload


# The ``type`` of the input that edits a custom field's value, by the field's type.
INPUT_TYPES = {
    UserFieldType.DATE: "date",
    UserFieldType.DATETIME: "datetime-local",
    UserFieldType.URL: "url",
}


class ListField(forms.Field):
    """Every value posted under the field's name (phones, e-mails, linked contacts)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        return [str(item).strip() for item in value if str(item).strip()]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        null_characters = validators.ProhibitNullCharactersValidator()
        for item in value:
            null_characters(item)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial) != self.to_python(data)


def form_value(spec: FieldSpec, value: Any) -> str | list[str]:
    """A typed value (or its JSON form on the timeline) as the form's inputs hold it."""
    if spec.custom is not None:
        if spec.multiple:
            return [_custom_form_value(spec.custom, item) for item in value or []]
        return _custom_form_value(spec.custom, value)
    if spec.multiple:
        return [str(item) for item in value or []]
    if value is None:
        return ""
    if spec.kind == Kind.USER:
        return str(value)
    if spec.kind == Kind.DECIMAL:
        return f"{float(value):.2f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _custom_form_value(definition: CustomField, value: Any) -> str:
    if value is None or value == "":
        return ""
    if definition.type == UserFieldType.BOOLEAN:
        return "Y" if value else "N"
    if definition.type == UserFieldType.DATETIME:
        moment = parse_datetime(value) if isinstance(value, str) else value
        if moment is None:
            return str(value)
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        # What a datetime-local input holds: seconds only when there are some.
        return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def form_values(entity_type: str, values: dict[str, Any]) -> dict[str, str | list[str]]:
    return {
        spec.code: form_value(spec, values.get(spec.code))
        for spec in specs_of(entity_type)
        if not spec.read_only
    }


def as_query_dict(values: dict[str, str | list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for code, value in values.items():
        data.setlist(code, value if isinstance(value, list) else [value])
    return data


def _widget(spec: FieldSpec) -> str:
    if spec.kind == Kind.LINK:
        return Widget.LINK
    if spec.kind == Kind.LINKS:
        return Widget.LINKS
    if spec.kind == Kind.MULTI:
        return Widget.MULTI
    if spec.kind == Kind.USER:
        return Widget.USER
    if spec.type == FieldType.SELECT:
        return Widget.SELECT
    return {
        FieldType.TEXT: Widget.TEXTAREA,
        FieldType.INT: Widget.NUMBER,
        FieldType.DOUBLE: Widget.NUMBER,
        FieldType.DATE: Widget.DATE,
    }.get(spec.type, Widget.TEXT)


class UserField(forms.CharField):
    """A user, posted as ``user_6`` by the picker (or ``6``, as forms used to post it)."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        return user_pk_of(initial or "") != user_pk_of(data or "")


class ChecksField(ListField):
    """Several options ticked: their order on the page is not a change."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        return sorted(self.to_python(initial)) != sorted(self.to_python(data))


class MoneyWidget(forms.Widget):
    """An amount input and a currency select per value, posted as ``CODE`` and
    ``CODE__currency``; read back as Bitrix writes money (``"100.00|RUB"``)."""

    CURRENCY = "__currency"

    def __init__(self, *, multiple: bool) -> None:
        super().__init__()
        self.multiple = multiple

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str | list[str]:
        amounts = data.getlist(name)
        currencies = data.getlist(name + self.CURRENCY)
        values = []
        for amount, currency in zip_longest(amounts, currencies, fillvalue=""):
            amount, currency = str(amount).strip(), str(currency).strip()
            if not amount:
                continue
            # A value carried over whole (a refused stale edit's form) keeps its currency.
            values.append(amount if "|" in amount or not currency else f"{amount}|{currency}")
        if self.multiple:
            return values
        return values[-1] if values else ""


class MoneyBoundField(forms.BoundField):
    @property
    def amounts(self) -> list[tuple[str, str]]:
        """The (amount, currency) pairs the inputs hold."""
        value = self.value()
        items = value if isinstance(value, list) else [value] if value else []
        pairs = []
        for item in items:
            amount, _bar, currency = str(item).partition("|")
            pairs.append((amount, currency or self.field.currency))
        return pairs


class MoneyField(forms.Field):
    bound_field_class = MoneyBoundField

    def __init__(self, *, multiple: bool, **kwargs: Any) -> None:
        super().__init__(widget=MoneyWidget(multiple=multiple), **kwargs)
        self.multiple = multiple

    def to_python(self, value: Any) -> str | list[str]:
        if self.multiple:
            return [str(item) for item in value or [] if str(item).strip()]
        return str(value or "").strip()

    def validate(self, value: Any) -> None:
        null_characters = validators.ProhibitNullCharactersValidator()
        for item in value if isinstance(value, list) else [value]:
            null_characters(item)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial) != self.to_python(data)


class FileIdsWidget(forms.Widget):
    """The ids of the files held (hidden inputs, each with a "remove" box posted as
    ``CODE__remove``) and the files uploaded under ``CODE``."""

    REMOVE = "__remove"
    needs_multipart_form = True

    def __init__(self, *, multiple: bool) -> None:
        super().__init__()
        self.multiple = multiple

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        removed = {str(item) for item in data.getlist(name + self.REMOVE)}
        kept = [str(item) for item in data.getlist(name) if item and str(item) not in removed]
        uploads = files.getlist(name) if files else []
        if self.multiple:
            return kept + uploads
        return (uploads or kept or [""])[-1]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and name not in (files or {})


class FileIdsField(forms.Field):
    """A file field's value: ids of stored files and files uploaded, stored by
    ``RecordForm.store_uploads`` once the form is valid."""

    def __init__(self, *, multiple: bool, **kwargs: Any) -> None:
        super().__init__(widget=FileIdsWidget(multiple=multiple), **kwargs)
        self.multiple = multiple

    def to_python(self, value: Any) -> Any:
        if self.multiple:
            return list(value or [])
        return value or ""

    def validate(self, value: Any) -> None:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, UploadedFile):
                services.stored_file_check(upload=item)

    def has_changed(self, initial: Any, data: Any) -> bool:
        def ids(value: Any) -> list[str]:
            items = value if isinstance(value, list) else [value] if value else []
            return sorted(str(item) for item in items)

        items = data if isinstance(data, list) else [data]
        return any(isinstance(item, UploadedFile) for item in items) or ids(initial) != ids(data)


class RecordForm(forms.Form):
    """Create or edit form of a record; its field names are Bitrix codes (``TITLE`` …).

    ``initial`` is what the form was based on: the record's values when it was opened.
    Every select and user picker offers the value the field holds, even one the person could
    not pick (an inactive user, a company they may not read), so that saving does not drop it.
    """

    def __init__(
        self,
        data: QueryDict | None = None,
        files: MultiValueDict | None = None,
        *,
        entity_type: str,
        user: Any,
        initial: dict[str, Any],
        creating: bool,
    ) -> None:
        super().__init__(data, files, initial=initial)
        # Who may add only their own records makes only themselves responsible for a new one.
        own_only = creating and permissions.level_for(user, entity_type, Action.ADD) == Level.OWN
        for spec in specs_of(entity_type):
            if spec.read_only:
                continue
            held = self._held(spec.code)
            if spec.custom is not None:
                self.fields[spec.code] = self._custom_field(spec.custom, user, held)
                continue
            if spec.multiple:
                field: forms.Field = ListField(required=False)
            elif spec.kind == Kind.USER:
                field = UserField(required=False)
            else:
                field = forms.CharField(required=False)
            field.label = spec.caption
            field.widget_kind = _widget(spec)
            field.required_mark = spec.required
            field.blank_option = not spec.required
            self.fields[spec.code] = field
            if spec.link_to is not None:
                field.held, field.options, field.more = link_choices(user, spec.link_to, held=held)
                if spec.kind == Kind.LINK:
                    field.options = field.held + field.options
            elif spec.kind == Kind.USER:
                field.picker = user_picker(
                    id=f"id_{spec.code}",
                    name=spec.code,
                    label=str(spec.caption),
                    values=held,
                    required=spec.required,
                    fixed=[person_of(user)] if own_only else [],
                    search=not own_only,
                )
            elif spec.options is not None:
                field.options = _with_held(list(spec.options().items()), held)

    def _held(self, code: str) -> list[str]:
        """The values the field holds now (posted, or those the form was opened with)."""
        held = self.data.getlist(code) if self.is_bound else self.initial.get(code) or []
        return [str(item) for item in (held if isinstance(held, list) else [held]) if item]

    def _custom_field(self, definition: CustomField, user: Any, held: list[str]) -> forms.Field:
        """The input of a custom field, by its type (``templates/crm/record_form.html``)."""
        kind = definition.type
        multiple = definition.multiple
        field: forms.Field
        if kind == UserFieldType.FILE:
            field = FileIdsField(multiple=multiple, required=False)
            field.widget_kind = Widget.FILE
            field.definition = definition
            field.files = self._files_named(definition, user, held)
        elif kind == UserFieldType.MONEY:
            field = MoneyField(multiple=multiple, required=False)
            field.widget_kind = Widget.MONEY
            field.options = currency_options()
            field.currency = definition.settings.get("CURRENCY") or Currency.RUB
        elif kind == UserFieldType.EMPLOYEE:
            field = ListField(required=False) if multiple else UserField(required=False)
            field.widget_kind = Widget.USER
            field.picker = user_picker(
                id=f"id_{definition.code}",
                name=definition.code,
                label=definition.label(),
                values=held,
                multiple=multiple,
                required=definition.mandatory,
            )
        elif kind == UserFieldType.CRM:
            field = ListField(required=False) if multiple else forms.CharField(required=False)
            field.widget_kind = Widget.LINKS if multiple else Widget.LINK
            field.held, field.groups, field.more = crm_link_choices(user, definition, held=held)
            # One record: the select offers the one held first; several: boxes hold them.
            field.options = [] if multiple else field.held
        elif kind == UserFieldType.ENUMERATION:
            field = ChecksField(required=False) if multiple else forms.CharField(required=False)
            field.widget_kind = Widget.CHECKS if multiple else Widget.SELECT
            field.options = _with_held(list(definition.option_names().items()), held)
        elif kind == UserFieldType.BOOLEAN and not multiple:
            field = forms.CharField(required=False)
            field.widget_kind = Widget.SELECT
            field.options = [("Y", _("Yes")), ("N", _("No"))]
        else:
            field = ListField(required=False) if multiple else forms.CharField(required=False)
            field.widget_kind = Widget.MULTI if multiple else Widget.TEXT
            field.input_type = INPUT_TYPES.get(kind, "text")
            if kind == UserFieldType.INTEGER:
                field.inputmode = "numeric"
            elif kind == UserFieldType.DOUBLE:
                field.inputmode = "decimal"
        field.label = definition.label()
        field.required_mark = definition.mandatory
        # A mandatory field without a value offers "not selected" too: the first option
        # would otherwise be saved without the person having chosen it.
        field.blank_option = not definition.mandatory or not held
        return field

    def _files_named(
        self, definition: CustomField, user: Any, held: list[str]
    ) -> list[tuple[str, str]]:
        """The files the field holds with their names: only of files the record held when
        the form was opened or the person uploaded (an id posted by hand names nothing)."""
        ids = [int(item) for item in held if item.isascii() and item.isdigit() and len(item) < 19]
        opened = self.initial.get(definition.code) or []
        opened = {str(item) for item in (opened if isinstance(opened, list) else [opened])}
        rows = StoredFile.objects.filter(pk__in=ids).values_list("pk", "name", "created_by_id")
        names = {pk: name for pk, name, owner in rows if str(pk) in opened or owner == user.pk}
        return [(str(pk), names.get(pk, f"#{pk}")) for pk in ids]

    def store_uploads(self, user: Any) -> bool:
        """Stores the files uploaded with a valid form; their ids become the fields' values
        (and the form's data, so a form shown again holds them). False: a file was refused,
        the message is next to its field."""
        data = self.data.copy()
        for code, field in self.fields.items():
            if not isinstance(field, FileIdsField) or code not in self.cleaned_data:
                continue
            value = self.cleaned_data[code]
            items = value if isinstance(value, list) else [value] if value else []
            stored: list[str] = []
            for item in items:
                if not isinstance(item, UploadedFile):
                    stored.append(str(item))
                    continue
                try:
                    stored.append(str(services.stored_file_create(upload=item, user=user).pk))
                except ValidationError as error:
                    self.add_error(code, error.messages)
            data.setlist(code, stored)
            data.setlist(f"{code}{FileIdsWidget.REMOVE}", [])
            field.files = self._files_named(field.definition, user, stored)
            if code in self.cleaned_data:
                self.cleaned_data[code] = stored if field.multiple else (stored or [""])[-1]
        self.data = data
        self.files = MultiValueDict()
        return not self.errors

    def values(self) -> dict[str, Any]:
        """The raw values of the fields filled in, for a create: the services give the
        others their defaults (the responsible: the author; the stage: the first)."""
        return {code: value for code, value in self.cleaned_data.items() if value not in ("", [])}

    def changed_values(self) -> dict[str, Any]:
        """The raw values of the fields the person changed, for an update."""
        return {code: self.cleaned_data[code] for code in self.changed_data}

    def add_service_errors(self, error: ValidationError) -> None:
        """Places the services' messages next to their fields (the rest above the form)."""
        for code, messages in error.message_dict.items():
            for message in messages:
                self.add_error(code if code in self.fields else None, message)


def _with_held(options: list[tuple[str, str]], held: list[str]) -> list[tuple[str, str]]:
    known = {value for value, _label in options}
    return options + [(value, value) for value in held if value not in known]


def link_choices(
    user: Any, entity_type: str, *, held: list[str], search: str = ""
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], bool]:
    """For a link field: the records it holds (named if the person may read them), the
    readable records to offer (matching ``search``), and whether there are more of those."""
    held_ids = [int(item) for item in held if item.isascii() and item.isdigit() and len(item) < 19]
    readable = permissions.readable(user, entity_type)
    names = {record.pk: str(record) for record in readable.filter(pk__in=held_ids)}
    held_choices = [(str(pk), names.get(pk, f"#{pk}")) for pk in held_ids]
    offered = readable.exclude(pk__in=held_ids)
    for word in search.split()[:5]:
        offered = offered.filter(search_q(entity_type, word))
    records = list(offered[: LOOKUP_SIZE + 1])
    options = [(str(record.pk), str(record)) for record in records[:LOOKUP_SIZE]]
    return held_choices, options, len(records) > LOOKUP_SIZE


def crm_link_choices(
    user: Any, definition: CustomField, *, held: list[str], search: str = ""
) -> tuple[list[tuple[str, str]], list[tuple[str, list[tuple[str, str]]]], bool]:
    """For a custom CRM link field: the records it holds (named if readable), the readable
    records to offer grouped by entity type, and whether there are more of those. A field
    of several entity types writes its values as Bitrix does (``D_17``)."""
    types = definition.crm_types()
    several = len(types) > 1
    links = [link for link in map(definition.crm_link, held) if link is not None]
    names: dict[tuple[str, str], str] = {}
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    more = False
    for entity_type in types:
        prefix = f"{CRM_PREFIXES[entity_type]}_" if several else ""
        ids = [str(pk) for linked_type, pk in links if linked_type == entity_type]
        named, offered, type_more = link_choices(user, entity_type, held=ids, search=search)
        caption = str(CAPTIONS[entity_type][0])
        names |= {
            (entity_type, pk): f"{caption}: {name}" if several else name for pk, name in named
        }
        groups.append((caption, [(prefix + pk, name) for pk, name in offered]))
        more = more or type_more
    held_choices = [  # in the order the field holds them: posted back, they are no change
        (f"{CRM_PREFIXES[linked_type]}_{pk}" if several else str(pk), names[(linked_type, str(pk))])
        for linked_type, pk in links
    ]
    return held_choices, groups, more


SEARCH_FIELDS = {
    "DEAL": ["title"],
    "LEAD": ["title", "name", "last_name", "company_title"],
    "CONTACT": ["name", "last_name"],
    "COMPANY": ["title"],
}


def search_q(entity_type: str, word: str) -> Q:
    """Records whose name contains the word (or whose id it is)."""
    match = Q()
    for name in SEARCH_FIELDS[entity_type]:
        match |= Q(**{f"{name}__icontains": word})
    if word.isascii() and word.isdigit() and len(word) < 19:
        match |= Q(pk=int(word))
    return match


def record_form(
    *,
    entity_type: str,
    user: Any,
    record: Record | None,
    data: QueryDict | None = None,
    files: MultiValueDict | None = None,
    based_on: dict[str, Any] | None = None,
) -> RecordForm:
    """The form for a new record (``record`` None) or for an edit of ``record``.

    ``based_on`` overrides the record's values the form was opened with (a stale edit).
    """
    if record is None:
        initial = _defaults(entity_type, user)
    else:
        initial = form_values(entity_type, record_values(record) | (based_on or {}))
    return RecordForm(
        data, files, entity_type=entity_type, user=user, initial=initial, creating=record is None
    )


def _defaults(entity_type: str, user: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {"ASSIGNED_BY_ID": user.document_user_id}
    for code in ("STAGE_ID", "STATUS_ID"):
        spec = field_specs(entity_type).get(code)
        if spec is not None and spec.options is not None:
            initial[code] = next(iter(spec.options()), "")
    # Custom fields show their defaults, as the services would give them.
    for spec in specs_of(entity_type):
        if spec.custom is not None:
            default = services.userfield_default(definition=spec.custom, user=user)
            if default is not None:
                initial[spec.code] = form_value(spec, default)
    return initial


class CommentForm(forms.Form):
    """The comment box of the timeline; the service checks the text."""

    text = forms.CharField(
        label=_("Comment"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _sane_date(value: datetime.date) -> None:
    # A date far from now cannot be turned into a moment in every time zone.
    if not 1900 <= value.year <= 9000:
        raise ValidationError(_("Enter a date between 1900 and 9000."))


class FilterKind:
    """How a custom field is filtered in the list (``RecordFilterForm.custom``)."""

    OPTION = "option"  # one of the enumeration's options
    RANGE = "range"  # from / to: integers, numbers
    DATE_RANGE = "date-range"  # from / to days: dates, moments (days in the viewer's zone)
    YES_NO = "yes-no"
    USER = "user"
    CONTAINS = "contains"  # strings: the value contains the text
    EQUALS = "equals"  # web addresses, CRM links: the value is the text


FILTER_KINDS = {
    UserFieldType.ENUMERATION: FilterKind.OPTION,
    UserFieldType.INTEGER: FilterKind.RANGE,
    UserFieldType.DOUBLE: FilterKind.RANGE,
    UserFieldType.DATE: FilterKind.DATE_RANGE,
    UserFieldType.DATETIME: FilterKind.DATE_RANGE,
    UserFieldType.BOOLEAN: FilterKind.YES_NO,
    UserFieldType.EMPLOYEE: FilterKind.USER,
    UserFieldType.STRING: FilterKind.CONTAINS,
    UserFieldType.URL: FilterKind.EQUALS,
    UserFieldType.CRM: FilterKind.EQUALS,
}


@dataclass(frozen=True)
class CustomFilter:
    """A custom field's filter: the form fields that hold it (``CODE``, or ``CODE_from`` and
    ``CODE_to`` for a range)."""

    definition: CustomField
    kind: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class FilterControl:
    """One input of a custom field's filter, as the list's template draws it."""

    field: forms.BoundField
    input: str  # "select", "number", "date", "text" or "user"
    step: str = ""
    picker: Any = None


def custom_filter_fields(entity_type: str) -> list[CustomField]:
    """The custom fields the list may filter on: shown in the filter, one value, a type whose
    stored values compare as the type does."""
    return [
        spec.custom
        for spec in specs_of(entity_type)
        if spec.custom is not None
        and spec.custom.show_filter
        and not spec.multiple
        and spec.custom.type in FILTER_KINDS
    ]


def _custom_form_fields(definition: CustomField, kind: str) -> dict[str, forms.Field]:
    caption = caption_of(definition, "filter")
    code = definition.code
    if kind == FilterKind.OPTION:
        choices = [("", _("Any")), *definition.option_names().items()]
        return {
            code: forms.TypedChoiceField(
                label=caption, required=False, choices=choices, coerce=int, empty_value=None
            )
        }
    if kind == FilterKind.YES_NO:
        choices = [("", _("Any")), ("Y", _("Yes")), ("N", _("No"))]
        return {code: forms.ChoiceField(label=caption, required=False, choices=choices)}
    if kind in (FilterKind.USER, FilterKind.CONTAINS, FilterKind.EQUALS):
        return {code: forms.CharField(label=caption, required=False, max_length=200)}
    if kind == FilterKind.RANGE:

        def bound() -> forms.Field:
            if definition.type == UserFieldType.INTEGER:
                return forms.IntegerField(required=False, min_value=-INT_LIMIT, max_value=INT_LIMIT)
            return forms.FloatField(required=False, min_value=-1e300, max_value=1e300)
    else:

        def bound() -> forms.Field:
            return forms.DateField(required=False, validators=[_sane_date])

    low, high = bound(), bound()
    low.label = _("%(name)s from") % {"name": caption}
    high.label = _("%(name)s to") % {"name": caption}
    return {f"{code}_from": low, f"{code}_to": high}


class RecordFilterForm(forms.Form):
    """The record list's search and filters (a GET form); invalid values are ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    stage = forms.ChoiceField(required=False)
    assigned = forms.CharField(label=_("Responsible"), required=False, max_length=40)
    created_from = forms.DateField(label=_("Created from"), required=False, validators=[_sane_date])
    created_to = forms.DateField(label=_("Created to"), required=False, validators=[_sane_date])
    sort = forms.ChoiceField(required=False)

    def __init__(
        self,
        data: QueryDict,
        *,
        stages: tuple[Any, dict[str, str]] | None,
        sorts: list[str],
        custom: Iterable[CustomField] = (),
    ) -> None:
        """``stages``: the caption and options of the stage (status) filter, if the type has one;
        ``custom``: the custom fields to filter on (``custom_filter_fields``)."""
        super().__init__(data)
        self.assigned_picker = user_picker(
            id="id_assigned",
            name="assigned",
            label=str(_("Responsible")),
            values=[value for value in [data.get("assigned", "")] if user_pk_of(value)],
        )
        if stages is None:
            del self.fields["stage"]
        else:
            caption, options = stages
            self.fields["stage"].label = caption
            self.fields["stage"].choices = [("", _("Any")), *options.items()]
        self.fields["sort"].choices = [("", ""), *((key, key) for key in sorts)]
        self.custom: list[CustomFilter] = []
        for definition in custom:
            kind = FILTER_KINDS[definition.type]
            added = _custom_form_fields(definition, kind)
            self.fields.update(added)
            self.custom.append(CustomFilter(definition, kind, tuple(added)))

    @property
    def custom_chosen(self) -> int:
        """How many custom field filters hold a value: their group is open when any does."""
        names = [name for custom in self.custom for name in custom.names]
        return sum(1 for name in names if str(self.data.get(name, "")).strip())

    @property
    def controls(self) -> list[FilterControl]:
        """The inputs of the custom fields' filters, in the fields' order."""
        controls = []
        for custom in self.custom:
            for name in custom.names:
                bound = self[name]
                if custom.kind == FilterKind.USER:
                    picked = [value for value in [self.data.get(name, "")] if user_pk_of(value)]
                    picker = user_picker(
                        id=bound.id_for_label, name=name, label=str(bound.label), values=picked
                    )
                    controls.append(FilterControl(bound, "user", picker=picker))
                elif custom.kind in (FilterKind.OPTION, FilterKind.YES_NO):
                    controls.append(FilterControl(bound, "select"))
                elif custom.kind == FilterKind.RANGE:
                    integer = custom.definition.type == UserFieldType.INTEGER
                    controls.append(FilterControl(bound, "number", step="1" if integer else "any"))
                elif custom.kind == FilterKind.DATE_RANGE:
                    controls.append(FilterControl(bound, "date"))
                else:
                    controls.append(FilterControl(bound, "text"))
        return controls

    def clean_assigned(self) -> int | None:
        """The person chosen (``user_6``, or ``6`` as older links have it); None: anyone."""
        return user_pk_of(self.cleaned_data["assigned"])

    def valid_data(self) -> dict[str, Any]:
        """The values that passed, so one bad filter does not drop the others."""
        self.is_valid()
        chosen = {key: value for key, value in self.cleaned_data.items() if value not in ("", None)}
        for custom in self.custom:
            code = custom.definition.code
            if custom.kind == FilterKind.USER and code in chosen:
                pk = user_pk_of(chosen[code])
                if pk is None:
                    del chosen[code]
                else:
                    chosen[code] = pk
        return chosen
