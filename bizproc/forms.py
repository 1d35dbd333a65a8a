"""A form for a template's start parameters, generated from its typed schema."""

from collections.abc import Mapping
from typing import Any, TypedDict

from django import forms
from django.contrib.auth import get_user_model

from bizproc.fieldtypes import FieldType
from bizproc.schemas import flag, options_of


class _FieldArguments(TypedDict):
    label: str
    required: bool
    help_text: str


def _form_field(entry: Mapping[str, Any]) -> forms.Field:
    """Every value is checked by the runtime's converters; the widget only helps typing it."""
    type_ = entry.get("Type")
    common: _FieldArguments = {
        "label": str(entry.get("Name") or ""),
        "required": flag(entry.get("Required", "0")),
        "help_text": entry.get("Description") or "",
    }
    if type_ == FieldType.BOOL:
        return forms.ChoiceField(choices=[("N", "—"), ("Y", "✓")], **common)
    if type_ == FieldType.SELECT:
        return forms.ChoiceField(choices=[("", "—"), *options_of(entry).items()], **common)
    if type_ == FieldType.USER:
        users = get_user_model().objects.filter(is_active=True)
        return forms.ChoiceField(
            choices=[("", "—"), *((f"user_{u.pk}", u.get_full_name()) for u in users)], **common
        )
    widget: forms.Widget = forms.TextInput()
    if type_ == FieldType.TEXT:
        widget = forms.Textarea(attrs={"rows": 3})
    elif type_ in (FieldType.INT, FieldType.DOUBLE):
        widget = forms.TextInput(attrs={"inputmode": "decimal"})
    elif type_ == FieldType.DATE:
        widget = forms.DateInput(attrs={"type": "date"})
    elif type_ == FieldType.DATETIME:
        widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
    return forms.CharField(widget=widget, max_length=10_000, **common)


class StartParametersForm(forms.Form):
    def __init__(self, schema: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, entry in schema.items():
            if isinstance(entry, Mapping):
                self.fields[code] = _form_field(entry)
                default = entry.get("Default")
                if default not in (None, "", []):
                    self.fields[code].initial = default
