"""The form of a custom field's page: what a CRM administrator types, turned into the values
``services.userfield_create`` / ``userfield_update`` take, and their refusals put back next to
the inputs they concern.

The form checks only the shape of the input (lengths, numbers, a known type); the rules of a
field (its code, conversions, defaults, options) are the services' alone.
"""

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm import custom_fields, services
from crm.custom_fields import LABEL_PLACES, CustomField
from crm.documents import CAPTIONS
from crm.models import Currency, EntityType, UserField, UserFieldType

PLACE_CAPTIONS = {
    "form": _("Form label"),
    "column": _("List column header"),
    "filter": _("Filter label"),
}
# The types whose default value is typed as text (a list's defaults are its options'; a yes/no
# field's is chosen; a file has none).
TEXT_DEFAULT_TYPES = [
    value
    for value in UserFieldType.values
    if value not in (UserFieldType.BOOLEAN, UserFieldType.ENUMERATION, UserFieldType.FILE)
]
EMPTY_OPTION_ROWS = 2
_OPTION_KEY_RE = re.compile(r"option-(\d{1,4})-(id|value|sort|default|delete)")


def label_name(place: str, language: str) -> str:
    return f"label_{place}_{language}"


@dataclass
class OptionRow:
    """A row of the options editor, as drawn and as posted (texts as typed)."""

    index: int
    id: str = ""
    value: str = ""
    sort: str = ""
    is_default: bool = False
    delete: bool = False
    focus: bool = False  # the row "Add option" just added


class UserFieldForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=100,
        help_text=format_lazy(
            _(
                "Latin letters, digits and underscores. The prefix {prefix} is added: "
                "CONTRACT_NO becomes {prefix}CONTRACT_NO. It cannot be changed later."
            ),
            prefix=custom_fields.PREFIX,
        ),
    )
    type = forms.ChoiceField(label=_("Type"), choices=UserFieldType.choices)
    multiple = forms.BooleanField(label=_("Multiple"), required=False)
    mandatory = forms.BooleanField(label=_("Required"), required=False)
    show_in_list = forms.BooleanField(label=_("Shown in the list"), required=False, initial=True)
    show_filter = forms.BooleanField(label=_("Shown in the filter"), required=False, initial=True)
    sort = forms.IntegerField(
        label=_("Sort"), min_value=0, max_value=services.SORT_MAX, initial=100
    )
    default_value = forms.CharField(label=_("Default value"), required=False, max_length=1000)
    default_boolean = forms.ChoiceField(
        label=_("Default value of a yes/no field"),
        required=False,
        choices=[("", _("Not set")), ("1", _("Yes")), ("0", _("No"))],
    )
    currency = forms.ChoiceField(
        label=_("Default currency"), required=False, choices=Currency.choices
    )
    crm_types = forms.MultipleChoiceField(
        label=_("Records it may link to"),
        required=False,
        choices=[(et.value, CAPTIONS[et][1]) for et in EntityType],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        data: Any = None,
        *,
        field: UserField | None = None,
        adding_option: bool = False,
    ) -> None:
        self.field = field
        self.adding_option = adding_option
        super().__init__(data, initial=self._initial(field) if field else None)
        for place in LABEL_PLACES:
            for language, language_name in settings.LANGUAGES:
                self.fields[label_name(place, language)] = forms.CharField(
                    label=format_lazy("{} ({})", PLACE_CAPTIONS[place], language_name),
                    required=False,
                    max_length=services.LABEL_MAX_LENGTH,
                )
        if field is not None:
            del self.fields["code"]  # shown, not edited: the code is immutable
            self.fields["type"].help_text = _(
                "A new type converts the values records hold. It is refused while some value "
                "does not convert or a published process uses the field."
            )
        # Errors of the parts that are not one input: the labels and the options.
        self.section_errors: dict[str, list[str]] = {"labels": [], "items": []}
        self.option_rows = self._posted_rows() if self.is_bound else self._saved_rows()
        if adding_option or not self.is_bound:
            self._add_empty_rows(1 if adding_option else EMPTY_OPTION_ROWS, focus=adding_option)

    @staticmethod
    def _initial(field: UserField) -> dict[str, Any]:
        definition = CustomField.of(field, options=())
        default = field.settings.get("DEFAULT_VALUE")
        default_text = str(default) if isinstance(default, str | int | float) else ""
        initial = {
            "type": field.type,
            "multiple": field.multiple,
            "mandatory": field.mandatory,
            "show_in_list": field.show_in_list,
            "show_filter": field.show_filter,
            "sort": field.sort,
            "currency": field.settings.get("CURRENCY") or Currency.RUB,
            "crm_types": definition.crm_types(),
        }
        if field.type == UserFieldType.BOOLEAN:
            initial["default_boolean"] = {"1": "1", "0": "0"}.get(default_text, "")
        else:
            initial["default_value"] = default_text
        for place in LABEL_PLACES:
            for language, _name in settings.LANGUAGES:
                text = (field.labels.get(place) or {}).get(language, "")
                initial[label_name(place, language)] = text
        return initial

    # --- the options editor ------------------------------------------------------------------

    def _saved_rows(self) -> list[OptionRow]:
        if self.field is None:
            return []
        return [
            OptionRow(index, str(item.pk), item.value, str(item.sort), item.is_default)
            for index, item in enumerate(self.field.items.all())
        ]

    def _posted_rows(self) -> list[OptionRow]:
        rows: dict[int, OptionRow] = {}
        for key in self.data:
            match = _OPTION_KEY_RE.fullmatch(key)
            if match is None:
                continue
            index = int(match[1])
            if index not in rows and len(rows) >= services.ITEMS_MAX + EMPTY_OPTION_ROWS:
                continue
            row = rows.setdefault(index, OptionRow(index))
            text = str(self.data.get(key, ""))
            if match[2] == "default":
                row.is_default = True
            elif match[2] == "delete":
                row.delete = True
            else:
                setattr(row, match[2], text[: services.LABEL_MAX_LENGTH * 4])
        return [rows[index] for index in sorted(rows)]

    def _add_empty_rows(self, count: int, *, focus: bool) -> None:
        start = max((row.index for row in self.option_rows), default=-1) + 1
        for index in range(start, start + count):
            self.option_rows.append(OptionRow(index, focus=focus and index == start))

    def _items(self) -> list[dict[str, Any]]:
        items = []
        for row in self.option_rows:
            sort = row.sort.strip()
            if sort and not (sort.isascii() and sort.isdigit() and int(sort) <= services.SORT_MAX):
                self.section_errors["items"].append(
                    _("The sort of option “%(value)s” must be a whole number from 0.")
                    % {"value": row.value[:50]}
                )
            items.append(
                {
                    "id": row.id.strip() or None,
                    "value": row.value,
                    "sort": sort or None,
                    "is_default": row.is_default,
                    "delete": row.delete,
                }
            )
        return items

    # --- validation --------------------------------------------------------------------------

    def full_clean(self) -> None:
        if self.adding_option:
            # "Add option" only draws the form again with one more row: nothing is checked.
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("type") == UserFieldType.ENUMERATION:
            cleaned["items"] = self._items()
        return cleaned

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or any(self.section_errors.values()))

    def values(self) -> dict[str, Any]:
        """The service's values from the valid form."""
        data = self.cleaned_data
        field_type = data["type"]
        values: dict[str, Any] = {
            "type": field_type,
            "labels": {
                place: {
                    language: data[label_name(place, language)]
                    for language, _name in settings.LANGUAGES
                }
                for place in LABEL_PLACES
            },
            "multiple": data["multiple"],
            "mandatory": data["mandatory"],
            "show_in_list": data["show_in_list"],
            "show_filter": data["show_filter"],
            "sort": data["sort"],
            "settings": self._settings(field_type),
        }
        if self.field is None:
            values["code"] = data["code"]
        if field_type == UserFieldType.ENUMERATION:
            values["items"] = data["items"]
        return values

    def _settings(self, field_type: str) -> dict[str, Any]:
        """The field's settings with what the form edits replaced: keys it does not show (an
        imported field's SIZE, ROWS …) are kept."""
        data = self.cleaned_data
        result = dict(self.field.settings) if self.field is not None else {}
        result.pop("DEFAULT_VALUE", None)
        if field_type == UserFieldType.BOOLEAN:
            default = data["default_boolean"]
        elif field_type in TEXT_DEFAULT_TYPES:
            default = data["default_value"].strip()
        else:
            default = ""
        if default:
            result["DEFAULT_VALUE"] = default
        if field_type == UserFieldType.CRM:
            for entity_type in EntityType:
                result.pop(entity_type.value, None)
            result |= dict.fromkeys(data["crm_types"] or [EntityType.DEAL.value], "Y")
        if field_type == UserFieldType.MONEY:
            result["CURRENCY"] = data["currency"] or Currency.RUB
        return result

    def add_service_errors(self, error: ValidationError) -> None:
        """Puts each refusal of the services next to the input it concerns."""
        field_type = self.cleaned_data.get("type")
        default_input = (
            "default_boolean" if field_type == UserFieldType.BOOLEAN else "default_value"
        )
        targets = {"settings": default_input}
        for key, messages in error.message_dict.items():
            for message in messages:
                if key in self.section_errors:
                    self.section_errors[key].append(message)
                    continue
                target = targets.get(key, key)
                self.add_error(target if target in self.fields else None, message)
