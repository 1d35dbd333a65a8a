"""HTML forms for CRM records, the record list's filters and timeline comments.

The record form is built from the field table (``crm.fields``) and accepts any text: the
services validate it, so a page refuses exactly what REST and processes refuse, with the same
messages. The form carries the raw values, knows which ones the person changed, and places the
services' messages next to their fields.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from accounts.people import person_of, user_picker, user_pk_of
from bizproc.fieldtypes import FieldType
from crm import permissions
from crm.custom_fields import INT_LIMIT, CustomField, caption_of
from crm.fields import FieldSpec, Kind, field_specs, record_values, specs_of
from crm.models import Action, Level, Record, UserFieldType

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


class RecordForm(forms.Form):
    """Create or edit form of a record; its field names are Bitrix codes (``TITLE`` …).

    ``initial`` is what the form was based on: the record's values when it was opened.
    Every select and user picker offers the value the field holds, even one the person could
    not pick (an inactive user, a company they may not read), so that saving does not drop it.
    """

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        entity_type: str,
        user: Any,
        initial: dict[str, Any],
        creating: bool,
    ) -> None:
        super().__init__(data, initial=initial)
        # Who may add only their own records makes only themselves responsible for a new one.
        own_only = creating and permissions.level_for(user, entity_type, Action.ADD) == Level.OWN
        for spec in specs_of(entity_type):
            if spec.read_only:
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
            self.fields[spec.code] = field
            held = self._held(spec.code)
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
        data, entity_type=entity_type, user=user, initial=initial, creating=record is None
    )


def _defaults(entity_type: str, user: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {"ASSIGNED_BY_ID": user.document_user_id}
    for code in ("STAGE_ID", "STATUS_ID"):
        spec = field_specs(entity_type).get(code)
        if spec is not None and spec.options is not None:
            initial[code] = next(iter(spec.options()), "")
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
