"""The designer's forms: a new template, a block's dialog generated from its activity's property
schema, what "Insert value" offers, and the settings panel.

Block dialogs are not Django forms: their fields come from the registry at run time, values may
be expressions, and every check is the engine's (``tree_update`` refuses with ``Problem``s that
name the property). ``BlockForm`` only asks each property's widget (``designer.widgets``) for
its input and for the properties the posted inputs give back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from bizproc.activities import activities
from bizproc.activities.base import Activity, Property, Widget
from bizproc.documents import DocumentType
from bizproc.fieldtypes import FieldType
from bizproc.globals import globals_schema
from bizproc.models import AutoExecute, GlobalKind, Template
from bizproc.schemas import flag, options_of
from bizproc.tree import Node, walk
from designer.access import provider_of
from designer.widgets import (
    REMOVED,
    DialogWidget,
    Input,
    caption,
    dialog_widgets,
    display,
    posted_text,
    schema_entries,
)


def type_key(document_type: DocumentType) -> str:
    """How a document type travels in forms and URLs: ``crm.CCrmDocumentDeal.DEAL``."""
    return ".".join(document_type)


class TemplateCreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=255)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    document_type = forms.ChoiceField(label=gettext_lazy("Entity type"))
    auto_execute = forms.TypedChoiceField(
        label=gettext_lazy("Auto-start"),
        choices=AutoExecute.choices,
        coerce=int,
        initial=AutoExecute.NONE,
    )

    def __init__(self, *args: Any, document_types: list[DocumentType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document_types = {type_key(t): t for t in document_types}
        self.fields["document_type"].choices = [
            (key, provider_of(t).caption(t, plural=True)) for key, t in self.document_types.items()
        ]

    def cleaned_document_type(self) -> DocumentType:
        return self.document_types[self.cleaned_data["document_type"]]


# ---- what "Insert value" offers --------------------------------------------------------------


@dataclass
class ValueGroup:
    label: str
    items: list[tuple[str, str]]  # (caption, token)


def value_sources(template: Template, block_name: str) -> list[ValueGroup]:
    """Document fields, parameters, variables, constants, the global constants and variables
    the template's document type sees, the results of the blocks before this one, and system
    values — each as the ``{=Object:Field}`` token it inserts."""
    document_type = template.document_type_triple
    fields = provider_of(document_type).fields(document_type)
    groups = [
        ValueGroup(
            provider_of(document_type).caption(document_type),
            [(f.name, f"{{=Document:{f.code}}}") for f in fields],
        ),
        ValueGroup(
            _("Parameters"),
            [(_("Started by"), "{=Template:TargetUser}")]
            + [
                (caption(entry, code), f"{{=Template:{code}}}")
                for code, entry in schema_entries(template.parameters)
            ],
        ),
        ValueGroup(
            _("Variables"),
            [
                (caption(entry, code), f"{{=Variable:{code}}}")
                for code, entry in schema_entries(template.variables)
            ],
        ),
        ValueGroup(
            _("Constants"),
            [
                (caption(entry, code), f"{{=Constant:{code}}}")
                for code, entry in schema_entries(template.constants)
            ],
        ),
        ValueGroup(
            _("Global constants"),
            [
                (caption(entry, code), f"{{=GlobalConst:{code}}}")
                for code, entry in globals_schema(
                    kind=GlobalKind.CONSTANT, document_type=document_type
                ).items()
            ],
        ),
        ValueGroup(
            _("Global variables"),
            [
                (caption(entry, code), f"{{=GlobalVar:{code}}}")
                for code, entry in globals_schema(
                    kind=GlobalKind.VARIABLE, document_type=document_type
                ).items()
            ],
        ),
        ValueGroup(
            _("Results of earlier blocks"), list(_earlier_results(template.tree, block_name))
        ),
        ValueGroup(
            pgettext("insert value", "System"),
            [
                (_("Process ID"), "{=Workflow:ID}"),
                (_("Current user"), "{=User:ID}"),
                (_("Now"), "{=System:Now}"),
                (_("Now (local time)"), "{=System:NowLocal}"),
                (_("Today"), "{=System:Date}"),
            ],
        ),
    ]
    return [group for group in groups if group.items]


def _earlier_results(tree: Node, block_name: str) -> Iterable[tuple[str, str]]:
    for node in walk(tree):
        if node.get("Name") == block_name:
            return
        activity = activities.for_node(node)
        for result in activity.results:
            yield (
                f"{activity.display_title}: {result.title}",
                f"{{={node['Name']}:{result.name}}}",
            )


# ---- block dialogs ---------------------------------------------------------------------------


@dataclass
class BlockForm:
    """The inputs of a block's dialog, and the properties they post back: each property is
    drawn and read by the widget it declares (``designer.widgets``)."""

    activity: Activity
    template: Template
    user: Any
    inputs: list[Input] = field(default_factory=list)
    non_field_errors: list[str] = field(default_factory=list)
    conceal_warnings: bool = False  # set by a widget whose value the user may not see
    # The dialog of a block just inserted, never saved from it: cancelling it takes the block
    # back (``discard_url`` in ``editing.block_dialog_context``). Posted with the dialog.
    fresh: bool = False

    @classmethod
    def for_block(
        cls, *, activity: Activity, template: Template, user: Any, fresh: bool = False
    ) -> BlockForm:
        form = cls(activity, template, user, fresh=fresh)
        values = activity.properties_values
        form.inputs = [
            Input(
                "Title",
                pgettext("block", "Title"),
                Widget.TEXT,
                display(values.get("Title") or activity.title),
            )
        ]
        for prop in activity.properties:
            if prop.name == "Title":
                continue
            built = dialog_widgets.get(prop.dialog_widget).build(form, prop, values.get(prop.name))
            if built is not None:
                form.inputs.append(built)
        return form

    def property_named(self, name: str) -> Property:
        return next(prop for prop in self.activity.properties if prop.name == name)

    def _widgets(self) -> Iterable[tuple[DialogWidget, Input]]:
        """The inputs the posted form fills, with the widget of each."""
        declared = {prop.name: prop.dialog_widget for prop in self.activity.properties}
        for item in self.inputs:
            if item.name in declared:
                yield dialog_widgets.get(declared[item.name]), item

    def properties(self, post: QueryDict) -> dict[str, Any]:
        """The block's properties from the posted dialog. Properties the dialog does not edit
        (read-only ones, designer state) are kept as they were."""
        values = dict(self.activity.properties_values)
        values["Title"] = post.get("Title", "").strip() or str(self.activity.title)
        for widget, item in self._widgets():
            for name, value in widget.read(self, item, post).items():
                if value is REMOVED:
                    values.pop(name, None)
                else:
                    values[name] = value
        return values

    def refusals(self, post: QueryDict) -> dict[str, list[str]]:
        """What the designer refuses before the engine sees it, by property."""
        refused: dict[str, list[str]] = {}
        for widget, item in self._widgets():
            refused.update(widget.refusals(self, item, post))
        return refused

    def show_posted(self, post: QueryDict, problems: Iterable[tuple[str, str]]) -> None:
        """Refills the inputs with what was posted and puts each problem next to its field."""
        properties = self.properties(post)
        self.activity = activities.get(self.activity.type)(
            {**self.activity.node, "Properties": properties}
        )
        errors_by_name: dict[str, list[str]] = {}
        for parameter, message in problems:
            errors_by_name.setdefault(parameter, []).append(message)
        refilled = BlockForm.for_block(
            activity=self.activity, template=self.template, user=self.user
        )
        self.inputs, self.conceal_warnings = refilled.inputs, refilled.conceal_warnings
        names = {item.name for item in self.inputs}
        for item in self.inputs:
            item.errors = errors_by_name.get(item.name, [])
        self.non_field_errors = [
            message
            for name, messages in errors_by_name.items()
            if name not in names
            for message in messages
        ]


# ---- the settings panel ----------------------------------------------------------------------

SCHEMA_KINDS = ("parameters", "variables", "constants")


@dataclass
class SchemaRow:
    index: int
    id: str
    name: str
    type: str
    required: bool
    multiple: bool
    default: str
    options: str
    description: str


def options_text(entry: Mapping[str, Any]) -> str:
    return "\n".join(
        key if key == label else f"{key} = {label}" for key, label in options_of(entry).items()
    )


def options_from_text(text: str) -> dict[str, str]:
    options = {}
    for line in text.splitlines():
        key, sep, label = line.partition("=")
        key, label = key.strip(), label.strip()
        if key:
            options[key] = label if sep and label else key
    return options


def schema_rows(schema: Any) -> list[SchemaRow]:
    return [
        SchemaRow(
            index,
            code,
            str(entry.get("Name") or ""),
            str(entry.get("Type") or FieldType.STRING),
            flag(entry.get("Required", "0")),
            flag(entry.get("Multiple", "0")),
            display(entry.get("Default")),
            options_text(entry),
            str(entry.get("Description") or ""),
        )
        for index, (code, entry) in enumerate(schema_entries(schema))
    ]


def posted_schema(post: QueryDict, kind: str) -> tuple[dict[str, Any], list[SchemaRow], list[str]]:
    """The schema in Bitrix's shape, the rows to show again if it is refused, and the IDs
    given twice (a mapping cannot hold them, so the schema check would not see them). Rows are
    numbered ``<kind>-<n>-<column>``; a row with neither ID nor name is dropped."""
    pattern = re.compile(rf"{kind}-(\d+)-id")
    numbers = sorted(int(match[1]) for key in post if (match := pattern.fullmatch(key)))
    schema: dict[str, Any] = {}
    rows, twice = [], []
    for number in numbers:
        prefix = f"{kind}-{number}-"
        row = SchemaRow(
            len(rows),
            post.get(prefix + "id", "").strip(),
            post.get(prefix + "name", "").strip(),
            post.get(prefix + "type", FieldType.STRING),
            bool(post.get(prefix + "required")),
            bool(post.get(prefix + "multiple")),
            posted_text(post, prefix + "default"),
            post.get(prefix + "options", ""),
            post.get(prefix + "description", ""),
        )
        if not (row.id or row.name):
            continue
        rows.append(row)
        if row.id in schema:
            twice.append(_("The ID '%(id)s' is used twice.") % {"id": row.id})
            continue
        schema[row.id] = {
            "Name": row.name,
            "Description": row.description,
            "Type": row.type,
            "Required": "1" if row.required else "0",
            "Multiple": "1" if row.multiple else "0",
            "Default": row.default,
        }
        if row.type == FieldType.SELECT:
            schema[row.id]["Options"] = options_from_text(row.options)
    return schema, rows, twice


# The settings dialog's fields that are not schemas.
SETTINGS = ("name", "description", "auto_execute")


def _auto_execute(posted: str) -> int:
    try:
        return int(posted)
    except ValueError:
        return -1  # never a choice: the engine says to choose


class _SchemaInput(forms.Widget):
    """A schema's table of rows (``<kind>-<n>-<column>``), read as ``posted_schema`` reads it;
    the dialog draws the rows itself."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return posted_schema(data, name)


class SchemaField(forms.Field):
    """Parameters, variables or constants: the schema in Bitrix's shape, refused when an ID is
    given twice (the engine's schema check, which sees a mapping, cannot tell)."""

    widget = _SchemaInput

    def __init__(self) -> None:
        super().__init__(required=False)

    def clean(self, value: Any) -> dict[str, Any]:
        schema, _rows, twice = value
        if twice:
            raise forms.ValidationError(twice)
        return schema


class TemplateSettingsForm(forms.Form):
    """The settings dialog: name, description, auto-start and the typed schemas. What makes a
    setting valid is the engine's (``template_settings_update``, whose ``Problem``s name these
    fields): the form reads the posted values, refuses what the engine could not be given, and
    shows the engine's refusal by its fields (``refuse``)."""

    name = forms.CharField(required=False, strip=False)
    description = forms.CharField(required=False, strip=False)
    auto_execute = forms.CharField(required=False)
    parameters = SchemaField()
    variables = SchemaField()
    constants = SchemaField()

    def __init__(self, data: QueryDict | None = None, *, template: Template) -> None:
        super().__init__(data)
        self.template = template

    def clean_auto_execute(self) -> int:
        return _auto_execute(self.cleaned_data["auto_execute"])

    def refuse(self, messages: Iterable[tuple[str, str]]) -> None:
        """Shows ``(field, message)`` refusals (no field: the whole form's) by their fields."""
        for name, message in messages:
            self.add_error(name if name in self.fields else None, message)

    def values(self) -> dict[str, Any]:
        """The name, description and auto-start to show: as posted, else the template's."""
        if not self.is_bound:
            return {key: getattr(self.template, key) for key in SETTINGS}
        # Not ``cleaned_data``: a field the engine refused has left it.
        values = {key: self.data.get(key, "") for key in SETTINGS}
        return values | {"auto_execute": _auto_execute(values["auto_execute"])}

    def rows(self, kind: str) -> list[SchemaRow]:
        """A schema's rows to show: as posted, else the template's."""
        if self.is_bound:
            return posted_schema(self.data, kind)[1]
        return schema_rows(getattr(self.template, kind))

    def errors_by_field(self) -> dict[str, list[str]]:
        """The messages by field, the whole form's under ``""``."""
        return {
            "" if key == NON_FIELD_ERRORS else key: list(messages)
            for key, messages in self.errors.items()
        }
