"""HTML forms of the lists pages: a list's settings, a property, an element, and the element
table's search and filters.

Forms check only the shape of what is typed (lengths, numbers, a known choice); the rules of
lists, properties and values are ``lists.services``' alone, so a page refuses exactly what REST
and processes refuse, with the same messages, placed next to the input they concern.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.core import validators
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from accounts.people import user_picker, user_pk_of
from lists import permissions, services
from lists.models import (
    Element,
    ElementFile,
    List,
    ListField,
    ListIcon,
    ListKind,
    PropertyType,
    Right,
)
from lists.properties import (
    CURRENCIES,
    NAME_MAX_LENGTH,
    Property,
    Schema,
    element_values,
)

LOOKUP_SIZE = 200
SORT_MAX = 1_000_000_000
EMPTY_OPTION_ROWS = 2
_OPTION_KEY_RE = re.compile(r"option-(\d{1,4})-(id|value|xml_id|sort|default|delete)")
ACCESS_RIGHTS = [Right.READ, Right.ADD, Right.EDIT, Right.DESIGN]


def _no_nulls(value: Any) -> None:
    validators.ProhibitNullCharactersValidator()(value)


# --- a list's settings -------------------------------------------------------------------------


@dataclass
class AccessRow:
    """Who holds one right, as the settings form draws it."""

    right: str
    label: str
    everyone: bool
    picker: Any
    groups: list[tuple[str, str, bool]]  # (value, name, checked)


class ListForm(forms.Form):
    """A list's settings; its type is chosen once, when it is created."""

    name = forms.CharField(label=_("Name"), max_length=255)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=10_000, widget=forms.Textarea
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=50,
        help_text=_("Latin letters, digits, '_' and '-'; unique among the lists."),
    )
    sort = forms.IntegerField(label=_("Sort"), min_value=0, max_value=SORT_MAX, initial=500)
    icon = forms.ChoiceField(label=_("Icon"), choices=ListIcon.choices)
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=ListKind.choices,
        help_text=_(
            "A process list is offered to employees on the Requests page. The type cannot be "
            "changed later."
        ),
    )
    bizproc = forms.BooleanField(label=_("Business processes"), required=False, initial=True)
    element_name = forms.CharField(
        label=_("Element name"),
        required=False,
        max_length=100,
        help_text=_("What one element is called (“Request”, “Trip”)."),
    )

    def __init__(self, data: QueryDict | None = None, *, list_: List | None = None) -> None:
        self.list = list_
        initial = None
        if list_ is not None:
            initial = {
                name: getattr(list_, name)
                for name in (
                    "name",
                    "description",
                    "code",
                    "sort",
                    "icon",
                    "kind",
                    "bizproc",
                    "element_name",
                )
            }
        super().__init__(data, initial=initial)
        if list_ is not None:
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = _("The type of a list cannot be changed.")
        for field in self.fields.values():
            field.validators.append(_no_nulls)
        self.group_choices = [(str(group.pk), group.name) for group in Group.objects.all()]

    def _codes(self, right: str) -> list[str]:
        """The access codes of the right as posted, or as the list holds them."""
        if not self.is_bound:
            return [
                str(code) for code in ((self.list.access if self.list else {}) or {}).get(right, [])
            ]
        codes = []
        if self.data.get(f"access_{right}_all"):
            codes.append("AU")
        for value in self.data.getlist(f"access_{right}_users"):
            pk = user_pk_of(value)
            if pk is not None:
                codes.append(f"U{pk}")
        for value in self.data.getlist(f"access_{right}_groups"):
            if str(value).isdigit():
                codes.append(f"G{int(value)}")
        return list(dict.fromkeys(codes))

    @property
    def access_rows(self) -> list[AccessRow]:
        rows = []
        for right in ACCESS_RIGHTS:
            codes = self._codes(right)
            users = [f"user_{code[1:]}" for code in codes if code.startswith("U")]
            groups = {code[1:] for code in codes if code.startswith("G")}
            rows.append(
                AccessRow(
                    right=str(right),
                    label=str(Right(right).label),
                    everyone="AU" in codes,
                    picker=user_picker(
                        id=f"id_access_{right}_users",
                        name=f"access_{right}_users",
                        label=str(_("People: %(right)s") % {"right": Right(right).label}),
                        values=users,
                        multiple=True,
                    ),
                    groups=[(pk, name, pk in groups) for pk, name in self.group_choices],
                )
            )
        return rows

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in ("name", "description", "code", "sort", "icon", "bizproc", "element_name")
        }
        if self.list is None:
            values["kind"] = data["kind"]
        values["access"] = {str(right): self._codes(right) for right in ACCESS_RIGHTS}
        return values

    def add_service_errors(self, error: ValidationError) -> None:
        for key, messages in error.message_dict.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)


# --- a property ------------------------------------------------------------------------------


@dataclass
class OptionRow:
    """A row of the options editor, as drawn and as posted (texts as typed)."""

    index: int
    id: str = ""
    value: str = ""
    xml_id: str = ""
    sort: str = ""
    is_default: bool = False
    delete: bool = False
    focus: bool = False  # the row "Add option" just added


class ListFieldForm(forms.Form):
    """A property of a list. Its code and type are chosen once."""

    code = forms.CharField(
        label=_("Code"),
        max_length=50,
        help_text=_(
            "Latin letters, digits and underscores, starting with a letter. Processes name the "
            "field PROPERTY_<code>. It cannot be changed later."
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=255)
    type = forms.ChoiceField(label=_("Type"), choices=PropertyType.choices)
    sort = forms.IntegerField(label=_("Sort"), min_value=0, max_value=SORT_MAX, initial=500)
    multiple = forms.BooleanField(label=_("Multiple"), required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    show_in_list = forms.BooleanField(label=_("Shown in the list"), required=False, initial=True)
    filterable = forms.BooleanField(label=_("Shown in the filter"), required=False)
    in_add_form = forms.BooleanField(
        label=_("Shown in the add form"),
        required=False,
        initial=True,
        help_text=_("Leave a field a process fills (a status) out of the forms people fill."),
    )
    in_edit_form = forms.BooleanField(
        label=_("Shown in the edit form"), required=False, initial=True
    )
    default = forms.CharField(
        label=_("Default value"),
        required=False,
        max_length=1000,
        help_text=_(
            "The value a new element gets when none is given. Dates as 2026-12-31; "
            "employees as user_<id>; money as 100.00|RUB."
        ),
    )
    link_list = forms.ChoiceField(label=_("Linked list"), required=False)

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        list_: List,
        field: ListField | None = None,
        adding_option: bool = False,
    ) -> None:
        self.list = list_
        self.field = field
        self.adding_option = adding_option
        super().__init__(data, initial=self._initial(field) if field is not None else None)
        self.fields["link_list"].choices = [("", _("Any list"))] + [
            (str(pk), name) for pk, name in List.objects.values_list("pk", "name")
        ]
        for form_field in self.fields.values():
            form_field.validators.append(_no_nulls)
        if field is not None:
            del self.fields["code"]
            self.fields["type"].disabled = True
            self.fields["type"].help_text = _("The type of a field cannot be changed.")
        self.option_errors: list[str] = []
        self.option_rows = self._posted_rows() if self.is_bound else self._saved_rows()
        if adding_option or not self.is_bound:
            self._add_empty_rows(1 if adding_option else EMPTY_OPTION_ROWS, focus=adding_option)

    @staticmethod
    def _initial(field: ListField) -> dict[str, Any]:
        default = field.default
        if isinstance(default, list):
            default = ", ".join(str(item) for item in default)
        return {
            "name": field.name,
            "type": field.type,
            "sort": field.sort,
            "multiple": field.multiple,
            "required": field.required,
            "show_in_list": field.show_in_list,
            "filterable": field.filterable,
            "in_add_form": (field.settings or {}).get("SHOW_ADD_FORM", "Y") != "N",
            "in_edit_form": (field.settings or {}).get("SHOW_EDIT_FORM", "Y") != "N",
            "default": "" if default is None else str(default),
            "link_list": str((field.settings or {}).get("LINK_IBLOCK_ID") or ""),
        }

    def _saved_rows(self) -> list[OptionRow]:
        if self.field is None:
            return []
        return [
            OptionRow(index, str(o.pk), o.value, o.xml_id, str(o.sort), o.default)
            for index, o in enumerate(self.field.options.all())
        ]

    def _posted_rows(self) -> list[OptionRow]:
        rows: dict[int, OptionRow] = {}
        for key in self.data:
            match = _OPTION_KEY_RE.fullmatch(key)
            if match is None:
                continue
            index = int(match[1])
            if index not in rows and len(rows) >= services.OPTIONS_MAX + EMPTY_OPTION_ROWS:
                continue
            row = rows.setdefault(index, OptionRow(index))
            text = str(self.data.get(key, ""))[:1000]
            if match[2] == "default":
                row.is_default = True
            elif match[2] == "delete":
                row.delete = True
            else:
                setattr(row, match[2], text)
        return [rows[index] for index in sorted(rows)]

    def _add_empty_rows(self, count: int, *, focus: bool) -> None:
        start = max((row.index for row in self.option_rows), default=-1) + 1
        for index in range(start, start + count):
            self.option_rows.append(OptionRow(index, focus=focus and index == start))

    def full_clean(self) -> None:
        if self.adding_option:
            # "Add option" only draws the form again with one more row: nothing is checked.
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.option_errors)

    def _options(self) -> list[dict[str, Any]]:
        options = []
        for row in self.option_rows:
            if row.delete or not row.value.strip():
                continue
            sort = row.sort.strip()
            if sort and not (sort.isascii() and sort.isdigit() and int(sort) <= SORT_MAX):
                self.option_errors.append(
                    _("The sort of option “%(value)s” must be a whole number from 0.")
                    % {"value": row.value[:50]}
                )
                continue
            options.append(
                {
                    "id": row.id.strip() or None,
                    "value": row.value,
                    "xml_id": row.xml_id.strip(),
                    "sort": sort or None,
                    "default": row.is_default,
                }
            )
        return options

    def field_type(self) -> str:
        return self.field.type if self.field is not None else self.cleaned_data.get("type", "")

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        field_type = self.field_type()
        values: dict[str, Any] = {
            name: data[name]
            for name in ("name", "sort", "multiple", "required", "show_in_list", "filterable")
        }
        if self.field is None:
            values["code"] = data["code"]
            values["type"] = field_type
        if field_type not in (PropertyType.LIST, PropertyType.FILE, PropertyType.SEQUENCE):
            default = data["default"].strip()
            if data["multiple"] and default:
                values["default"] = [item.strip() for item in default.split(",") if item.strip()]
            else:
                values["default"] = default or None
        if field_type == PropertyType.LIST:
            values["options"] = self._options()
        values["settings"] = {
            "SHOW_ADD_FORM": "Y" if data["in_add_form"] else "N",
            "SHOW_EDIT_FORM": "Y" if data["in_edit_form"] else "N",
        }
        if field_type == PropertyType.ELEMENT and data.get("link_list"):
            values["settings"]["LINK_IBLOCK_ID"] = data["link_list"]
        return values

    def add_service_errors(self, error: ValidationError) -> None:
        targets = {"settings": "link_list"}
        for key, messages in error.message_dict.items():
            for message in messages:
                if key == "options":
                    self.option_errors.append(message)
                    continue
                target = targets.get(key, key)
                self.add_error(target if target in self.fields else None, message)


# --- an element ------------------------------------------------------------------------------


class Widget:
    """How an element's field is drawn (``templates/lists/element_form.html``)."""

    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    SELECT = "select"
    CHECKS = "checks"  # several options: a checkbox each
    MULTI = "multi"  # several texts: an input per value and an empty one to add one
    USER = "user"
    MONEY = "money"
    FILE = "file"
    SHOWN = "shown"  # read-only: the value shown (a counter)


class MultiField(forms.Field):
    """Every value posted under the field's name."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        return [str(item).strip() for item in value or [] if str(item).strip()]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        for item in value:
            _no_nulls(item)


class TextField(forms.CharField):
    """A text of several lines, with its line breaks as ``\\n`` whatever the browser sent."""

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).replace("\r\n", "\n").replace("\r", "\n")


class MoneyWidget(forms.Widget):
    """An amount and a currency per value, posted as ``CODE`` and ``CODE__currency``."""

    CURRENCY = "__currency"

    def __init__(self, *, multiple: bool) -> None:
        super().__init__()
        self.multiple = multiple

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str | list[str]:
        values = []
        for amount, currency in zip_longest(
            data.getlist(name), data.getlist(name + self.CURRENCY), fillvalue=""
        ):
            amount, currency = str(amount).strip(), str(currency).strip()
            if amount:
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
            pairs.append((amount, currency or CURRENCIES[0]))
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
        for item in value if isinstance(value, list) else [value]:
            _no_nulls(item)


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


class FileIdsField(forms.Field):
    def __init__(self, *, multiple: bool, **kwargs: Any) -> None:
        super().__init__(widget=FileIdsWidget(multiple=multiple), **kwargs)
        self.multiple = multiple

    def to_python(self, value: Any) -> Any:
        return list(value or []) if self.multiple else value or ""


def _datetime_text(value: Any) -> str:
    if not isinstance(value, datetime.datetime):
        return str(value or "")
    moment = timezone.localtime(value) if timezone.is_aware(value) else value
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def form_value(prop: Property | None, code: str, value: Any) -> str | list[str]:
    """A typed value as the form's inputs hold it (``prop`` None: a built-in field)."""
    kind = prop.type if prop is not None else code
    if prop is not None and prop.multiple:
        items = value if isinstance(value, list) else [value]
        return [text for text in (_one_value(kind, item) for item in items) if text]
    return _one_value(kind, value)


def _one_value(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind in (PropertyType.DATETIME, "ACTIVE_FROM", "ACTIVE_TO"):
        return _datetime_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if kind == PropertyType.NUMBER:
        return _number_text(value)
    return str(value)


BUILTIN_FORM = (
    ("NAME", _("Name"), Widget.TEXT),
    ("SORT", _("Sort"), Widget.NUMBER),
    ("ACTIVE_FROM", _("Active from"), Widget.DATETIME),
    ("ACTIVE_TO", _("Active to"), Widget.DATETIME),
    ("PREVIEW_TEXT", _("Preview text"), Widget.TEXTAREA),
    ("DETAIL_TEXT", _("Detail text"), Widget.TEXTAREA),
)
# The built-in fields a process list's request form leaves out: an employee names the request
# and fills its properties.
REQUEST_BUILTINS = {"NAME"}


class ElementForm(forms.Form):
    """An element's add or edit form; field names are engine codes (``NAME``,
    ``PROPERTY_DAYS``), as the services' messages are keyed."""

    def __init__(
        self,
        data: QueryDict | None = None,
        files: MultiValueDict | None = None,
        *,
        list_: List,
        schema: Schema,
        user: Any,
        element: Element | None,
        builtins: set[str] | None = None,
    ) -> None:
        self.list = list_
        self.schema = schema
        self.user = user
        self.element = element
        self.opened: dict[str, Any] = {}
        if element is not None:
            typed = element_values(element, schema)
            self.opened = {code: value for code, value in typed.items()}
        initial = self._initial(element)
        super().__init__(data, files, initial=initial)
        for code, label, kind in BUILTIN_FORM:
            if builtins is not None and code not in builtins:
                continue
            if kind == Widget.TEXTAREA:
                field: forms.Field = TextField(required=False, strip=False)
            elif code == "NAME":
                field = forms.CharField(required=False, max_length=NAME_MAX_LENGTH)
            else:
                field = forms.CharField(required=False, max_length=100)
            field.validators.append(_no_nulls)
            field.label = label
            field.widget_kind = kind
            field.required_mark = code == "NAME"
            field.multiple = False
            self.fields[code] = field
        for prop in schema.properties:
            if prop.in_edit_form if element is not None else prop.in_add_form:
                self.fields[prop.engine_code] = self._property_field(prop)

    def _initial(self, element: Element | None) -> dict[str, Any]:
        if element is None:
            initial: dict[str, Any] = {"SORT": "500"}
            for prop in self.schema.properties:
                default = prop.default()
                if default is not None:
                    initial[prop.engine_code] = form_value(prop, prop.engine_code, default)
            return initial
        initial = {}
        for code, _label, _kind in BUILTIN_FORM:
            initial[code] = form_value(None, code, self.opened.get(code))
        for prop in self.schema.properties:
            initial[prop.engine_code] = form_value(
                prop, prop.engine_code, self.opened.get(prop.engine_code)
            )
        return initial

    def _held(self, code: str) -> list[str]:
        held = self.data.getlist(code) if self.is_bound else self.initial.get(code) or []
        return [str(item) for item in (held if isinstance(held, list) else [held]) if item]

    def _property_field(self, prop: Property) -> forms.Field:
        kind = prop.type
        multiple = prop.multiple
        held = self._held(prop.engine_code)
        field: forms.Field
        if kind == PropertyType.SEQUENCE:
            field = forms.CharField(required=False, disabled=True)
            field.widget_kind = Widget.SHOWN
        elif kind == PropertyType.FILE:
            field = FileIdsField(multiple=multiple, required=False)
            field.widget_kind = Widget.FILE
            field.files = self._files_named(prop, held)
        elif kind == PropertyType.MONEY:
            field = MoneyField(multiple=multiple, required=False)
            field.widget_kind = Widget.MONEY
            field.currencies = CURRENCIES
            field.currency = CURRENCIES[0]
        elif kind == PropertyType.EMPLOYEE:
            field = MultiField(required=False) if multiple else forms.CharField(required=False)
            field.widget_kind = Widget.USER
            field.picker = user_picker(
                id=f"id_{prop.engine_code}",
                name=prop.engine_code,
                label=prop.name,
                values=held,
                multiple=multiple,
                required=prop.required,
            )
        elif kind in (PropertyType.LIST, PropertyType.ELEMENT):
            field = MultiField(required=False) if multiple else forms.CharField(required=False)
            field.widget_kind = Widget.CHECKS if multiple else Widget.SELECT
            if kind == PropertyType.LIST:
                field.options = [(o.xml_id, o.value) for o in prop.options]
            else:
                field.options = element_choices(self.user, prop, held)
            known = {value for value, _label in field.options}
            field.options += [(value, value) for value in held if value not in known]
        elif kind == PropertyType.HTML:
            field = MultiField(required=False) if multiple else TextField(required=False)
            field.widget_kind = Widget.MULTI if multiple else Widget.TEXTAREA
        else:
            field = MultiField(required=False) if multiple else forms.CharField(required=False)
            field.widget_kind = (
                Widget.MULTI
                if multiple
                else {
                    PropertyType.NUMBER: Widget.NUMBER,
                    PropertyType.DATE: Widget.DATE,
                    PropertyType.DATETIME: Widget.DATETIME,
                }.get(kind, Widget.TEXT)
            )
            field.input_type = {
                PropertyType.DATE: "date",
                PropertyType.DATETIME: "datetime-local",
            }.get(kind, "text")
            if kind == PropertyType.NUMBER:
                field.inputmode = "decimal"
        if not isinstance(field, FileIdsField | MultiField | MoneyField):
            field.validators.append(_no_nulls)
        field.label = prop.name
        field.multiple = multiple
        field.required_mark = prop.required and not prop.read_only
        field.blank_option = not prop.required or not held
        return field

    def _files_named(self, prop: Property, held: list[str]) -> list[tuple[str, str]]:
        """The files the field holds with their names: only files the element held when the
        form was opened or the person uploaded (an id posted by hand names nothing)."""
        ids = [int(item) for item in held if item.isascii() and item.isdigit() and len(item) < 19]
        opened = self.opened.get(prop.engine_code)
        opened_ids = {str(item) for item in (opened if isinstance(opened, list) else [opened])}
        rows = ElementFile.objects.filter(pk__in=ids).values_list("pk", "name", "uploaded_by_id")
        names = {
            pk: name for pk, name, owner in rows if str(pk) in opened_ids or owner == self.user.pk
        }
        return [(str(pk), names.get(pk, f"#{pk}")) for pk in ids]

    def store_uploads(self) -> bool:
        """Stores the files uploaded with the form; their ids become the fields' values (and
        the form's data, so that a form shown again holds them). False: a file was refused,
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
                    stored.append(str(services.element_file_create(upload=item, user=self.user).pk))
                except ValidationError as error:
                    self.add_error(code, error.messages)
            data.setlist(code, stored)
            data.setlist(f"{code}{FileIdsWidget.REMOVE}", [])
            prop = self.schema.by_code(code)
            if prop is not None:
                self.data = data
                field.files = self._files_named(prop, stored)
            self.cleaned_data[code] = stored if field.multiple else (stored or [""])[-1]
        self.data = data
        self.files = MultiValueDict()
        return not self.errors

    def values(self) -> dict[str, Any]:
        """The raw values for the services, by engine code (read-only fields left out)."""
        values = {}
        for code, value in self.cleaned_data.items():
            field = self.fields[code]
            if field.disabled:
                continue
            values[code] = value
        return values

    def add_service_errors(self, error: ValidationError) -> None:
        for code, messages in error.message_dict.items():
            target = code if code in self.fields else None
            shown = self.errors.get(target or "__all__", [])
            for message in dict.fromkeys(messages):  # the same refusal said once
                if message not in shown:
                    self.add_error(target, message)

    def stale_fields(self, current: Element) -> list[tuple[str, str]]:
        """For a refused stale edit: the fields whose saved value now differs from what the
        form holds, with the saved value as the form would show it."""
        typed = element_values(current, self.schema)
        differing = []
        for code, field in self.fields.items():
            if field.disabled:
                continue
            prop = self.schema.by_code(code)
            saved = form_value(prop, code, typed.get(code))
            posted = self.cleaned_data.get(code, "")
            if isinstance(saved, list) or isinstance(posted, list):
                same = sorted(map(str, saved or [])) == sorted(map(str, posted or []))
            else:
                same = str(saved) == str(posted)
            if not same:
                shown = ", ".join(saved) if isinstance(saved, list) else saved
                differing.append((str(field.label), shown))
        return differing


def element_choices(user: Any, prop: Property, held: Iterable[str]) -> list[tuple[str, str]]:
    """For a link to an element: the elements of the linked list the person may read (those
    the field holds first, named if readable), at most ``LOOKUP_SIZE`` more."""
    held_ids = [int(item) for item in held if item.isascii() and item.isdigit() and len(item) < 19]
    linked = List.objects.filter(pk=prop.link_list_id).first() if prop.link_list_id else None
    readable = Element.objects.none() if linked is None else permissions.readable(user, linked)
    names = dict(readable.filter(pk__in=held_ids).values_list("pk", "name"))
    choices = [(str(pk), names.get(pk, f"#{pk}")) for pk in held_ids]
    offered = readable.exclude(pk__in=held_ids).order_by("name", "pk").values_list("pk", "name")
    choices += [(str(pk), name) for pk, name in offered[:LOOKUP_SIZE]]
    return choices


# --- the element table's search and filters ----------------------------------------------------


class FilterKind:
    OPTION = "option"  # an option of an L property, or a linked element's id
    RANGE = "range"  # numbers
    DATE_RANGE = "date-range"  # dates, moments (days in the viewer's zone)
    USER = "user"
    CONTAINS = "contains"  # strings


FILTER_KINDS = {
    PropertyType.LIST: FilterKind.OPTION,
    PropertyType.NUMBER: FilterKind.RANGE,
    PropertyType.SEQUENCE: FilterKind.RANGE,
    PropertyType.DATE: FilterKind.DATE_RANGE,
    PropertyType.DATETIME: FilterKind.DATE_RANGE,
    PropertyType.EMPLOYEE: FilterKind.USER,
    PropertyType.STRING: FilterKind.CONTAINS,
}


@dataclass(frozen=True)
class PropertyFilter:
    prop: Property
    kind: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class FilterControl:
    field: forms.BoundField
    input: str  # "select", "number", "date", "text" or "user"
    step: str = ""
    picker: Any = None


def _sane_date(value: datetime.date) -> None:
    if not 1900 <= value.year <= 9000:
        raise ValidationError(_("Enter a date between 1900 and 9000."))


def filter_properties(schema: Schema) -> list[Property]:
    """The properties the table may filter on: shown in the filter, one value, a type whose
    stored values compare as the type does."""
    return [
        prop
        for prop in schema.properties
        if prop.filterable and not prop.multiple and prop.type in FILTER_KINDS
    ]


class ElementFilterForm(forms.Form):
    """The element table's search and filters (a GET form); invalid values are ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    created_by = forms.CharField(label=_("Created by"), required=False, max_length=40)
    sort = forms.ChoiceField(required=False)

    def __init__(self, data: QueryDict, *, sorts: list[str], schema: Schema) -> None:
        super().__init__(data)
        self.created_by_picker = user_picker(
            id="id_created_by",
            name="created_by",
            label=str(_("Created by")),
            values=[value for value in [data.get("created_by", "")] if user_pk_of(value)],
        )
        self.fields["sort"].choices = [("", ""), *((key, key) for key in sorts)]
        self.filters: list[PropertyFilter] = []
        for prop in filter_properties(schema):
            kind = FILTER_KINDS[prop.type]
            added = self._property_fields(prop, kind)
            self.fields.update(added)
            self.filters.append(PropertyFilter(prop, kind, tuple(added)))

    @staticmethod
    def _property_fields(prop: Property, kind: str) -> dict[str, forms.Field]:
        code = prop.engine_code
        if kind == FilterKind.OPTION:
            choices = [("", _("Any")), *((str(o.id), o.value) for o in prop.options)]
            return {
                code: forms.TypedChoiceField(
                    label=prop.name, required=False, choices=choices, coerce=int, empty_value=None
                )
            }
        if kind in (FilterKind.USER, FilterKind.CONTAINS):
            return {code: forms.CharField(label=prop.name, required=False, max_length=200)}
        if kind == FilterKind.RANGE:

            def bound() -> forms.Field:
                return forms.FloatField(required=False, min_value=-1e15, max_value=1e15)
        else:

            def bound() -> forms.Field:
                return forms.DateField(required=False, validators=[_sane_date])

        low, high = bound(), bound()
        low.label = _("%(name)s from") % {"name": prop.name}
        high.label = _("%(name)s to") % {"name": prop.name}
        return {f"{code}_from": low, f"{code}_to": high}

    @property
    def chosen_count(self) -> int:
        names = [name for item in self.filters for name in item.names]
        return sum(1 for name in names if str(self.data.get(name, "")).strip())

    @property
    def controls(self) -> list[FilterControl]:
        controls = []
        for item in self.filters:
            for name in item.names:
                bound = self[name]
                if item.kind == FilterKind.USER:
                    picked = [value for value in [self.data.get(name, "")] if user_pk_of(value)]
                    picker = user_picker(
                        id=bound.id_for_label, name=name, label=str(bound.label), values=picked
                    )
                    controls.append(FilterControl(bound, "user", picker=picker))
                elif item.kind == FilterKind.OPTION:
                    controls.append(FilterControl(bound, "select"))
                elif item.kind == FilterKind.RANGE:
                    controls.append(FilterControl(bound, "number", step="any"))
                elif item.kind == FilterKind.DATE_RANGE:
                    controls.append(FilterControl(bound, "date"))
                else:
                    controls.append(FilterControl(bound, "text"))
        return controls

    def clean_created_by(self) -> int | None:
        return user_pk_of(self.cleaned_data["created_by"])

    def valid_data(self) -> dict[str, Any]:
        """The values that passed, so one bad filter does not drop the others."""
        self.is_valid()
        chosen = {key: value for key, value in self.cleaned_data.items() if value not in ("", None)}
        for item in self.filters:
            code = item.prop.engine_code
            if item.kind == FilterKind.USER and code in chosen:
                pk = user_pk_of(chosen[code])
                if pk is None:
                    del chosen[code]
                else:
                    chosen[code] = pk
        return chosen
