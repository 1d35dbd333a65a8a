"""The designer's forms: a new template, a block's dialog generated from its activity's property
schema, the Start smart scenario dialog's scenario picker and parameters, and the settings panel.

Block dialogs are not Django forms: their fields come from the registry at run time, values may
be expressions, and every check is the engine's (``tree_update`` refuses with ``Problem``s that
name the property). This module only turns a property schema into inputs and the posted inputs
back into the block's properties.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizproc.activities import activities
from bizproc.activities import conditions as cond
from bizproc.activities.base import Activity, MapKeys, Property, PropertyType
from bizproc.bounds import bounded_int
from bizproc.documents import DocumentType, Operation
from bizproc.fieldtypes import FieldType
from bizproc.models import AutoExecute, Scenario, Template
from bizproc.schemas import flag, options_of
from bizproc.tree import Node, walk
from designer.access import designed_templates, provider_of, types_where

START_SCRIPT = "StartScriptActivity"
START_WORKFLOW = "StartWorkflowActivity"


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


# ---- inputs --------------------------------------------------------------------------------


@dataclass
class Input:
    """One field of a dialog. ``widget`` picks the markup in ``designer/input.html``."""

    name: str
    label: str
    widget: str
    value: Any = ""
    required: bool = False
    multiple: bool = False
    expressions: bool = False  # offers "Insert value"
    options: list[tuple[str, str]] = field(default_factory=list)
    groups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)
    unit: Input | None = None
    errors: list[str] = field(default_factory=list)
    otherwise: bool | None = None  # conditions: None when "otherwise" is not offered
    free_keys: bool = False  # map: keys typed in (another template's parameters)

    @property
    def id(self) -> str:
        return "field-" + re.sub(r"[^A-Za-z0-9_-]", "_", self.name)


def display(value: Any) -> str:
    """A stored value as a text input shows it (lists joined by commas)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(display(item) for item in value)
    return str(value)


def split_list(text: str) -> list[str]:
    """Comma-separated items, not splitting inside ``{=…}`` or ``{{=…}}``."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth <= 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return [item.strip() for item in items if item.strip()]


def users() -> list[tuple[str, str]]:
    found = get_user_model().objects.filter(is_active=True).order_by("full_name", "username")
    return [(f"user_{user.pk}", user.get_full_name() or user.username) for user in found]


def typed_input(
    name: str,
    label: str,
    type_: str,
    value: Any,
    *,
    options: Mapping[str, Any] | None = None,
    required: bool = False,
    multiple: bool = False,
    checkbox: bool = True,
) -> Input:
    """An input for a value of a bizproc type; everything but lists and yes/no takes
    expressions. ``checkbox=False`` asks a yes/no as a list, which can stay unset."""
    common = {"name": name, "label": label, "required": required, "multiple": multiple}
    if type_ == FieldType.BOOL:
        text = "" if value in (None, "") else ("Y" if flag(value) else "N")
        if checkbox:
            return Input(widget="checkbox", value=text == "Y", **common)
        choices = [("Y", _("Yes")), ("N", _("No"))]
        return Input(widget="select", value=text, options=_with_blank(choices, required), **common)
    if type_ == FieldType.SELECT:
        choices = [(str(key), str(title)) for key, title in (options or {}).items()]
        text = display(value)
        if text and text not in dict(choices):
            choices.append((text, text))  # an imported or expression value stays visible
        return Input(widget="select", value=text, options=_with_blank(choices, required), **common)
    widgets = {
        FieldType.TEXT: "textarea",
        FieldType.INT: "number",
        FieldType.DOUBLE: "number",
        FieldType.USER: "user",
        FieldType.DATE: "date",
        FieldType.DATETIME: "datetime",
    }
    widget = widgets.get(type_, "text")
    text = display(value)
    if widget in DATE_PATTERNS and (multiple or (text and not DATE_PATTERNS[widget].match(text))):
        widget = "text"  # an expression, or a value a date input cannot show
    if widget == "datetime":
        text = text.replace(" ", "T")[:16]
    return Input(widget=widget, value=text, expressions=True, **common)


DATE_PATTERNS = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}$"),
    "datetime": re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
}


def _with_blank(choices: list[tuple[str, str]], required: bool) -> list[tuple[str, str]]:
    return choices if required else [("", _("Not selected")), *choices]


# ---- what "Insert value" offers --------------------------------------------------------------


@dataclass
class ValueGroup:
    label: str
    items: list[tuple[str, str]]  # (caption, token)


def value_sources(template: Template, block_name: str) -> list[ValueGroup]:
    """Document fields, parameters, variables, constants, the results of the blocks before this
    one, and system values — each as the ``{=Object:Field}`` token it inserts."""
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
                (_caption(entry, code), f"{{=Template:{code}}}")
                for code, entry in _schema(template.parameters)
            ],
        ),
        ValueGroup(
            _("Variables"),
            [
                (_caption(entry, code), f"{{=Variable:{code}}}")
                for code, entry in _schema(template.variables)
            ],
        ),
        ValueGroup(
            _("Constants"),
            [
                (_caption(entry, code), f"{{=Constant:{code}}}")
                for code, entry in _schema(template.constants)
            ],
        ),
        ValueGroup(
            _("Results of earlier blocks"), list(_earlier_results(template.tree, block_name))
        ),
        ValueGroup(
            _("System"),
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


def _schema(schema: Any) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (str(code), entry) for code, entry in (schema or {}).items() if isinstance(entry, Mapping)
    ]


def _caption(entry: Mapping[str, Any], code: str) -> str:
    return str(entry.get("Name") or code)


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


# ---- the Start smart scenario dialog -------------------------------------------------------


@dataclass
class ScenarioGroup:
    label: str
    scenarios: list[Scenario]


def scenario_groups(user: Any) -> list[ScenarioGroup]:
    """Active scenarios, one group per document type the user may read, labelled with the
    type's plural caption (DOMAIN.md §2)."""
    groups = []
    for document_type in types_where(user, Operation.READ):
        found = list(Scenario.objects.for_document_type(document_type).filter(active=True))
        if found:
            caption = provider_of(document_type).caption(document_type, plural=True)
            groups.append(ScenarioGroup(caption, found))
    return groups


def visible_scenario(user: Any, template_id: Any) -> Scenario | None:
    """The active scenario whose robots template this is, if its type is one the user reads."""
    pk = bounded_int(str(template_id), minimum=1)
    if pk is None:
        return None
    scenario = Scenario.objects.select_related("template").filter(template_id=pk, active=True)
    found = scenario.first()
    if found is None or found.document_type_triple not in types_where(user, Operation.READ):
        return None
    return found


@dataclass
class ScenarioParameters:
    """The parameters section: nothing without a scenario or parameters; one line when the
    user may not run the scenario (``forbidden``); else a row per start parameter."""

    scenario: Scenario | None
    inputs: list[Input] = field(default_factory=list)
    forbidden: bool = False


PARAMETER_PREFIX = "TemplateParameters-"


def scenario_parameters(
    user: Any, scenario: Scenario | None, values: Mapping[str, Any] | None
) -> ScenarioParameters:
    """``values``: the block's saved (or just posted) values; None pre-fills the defaults."""
    if scenario is None:
        return ScenarioParameters(None)
    version = scenario.template.latest_version
    schema = _schema(version.parameters if version else {})
    if not schema:
        return ScenarioParameters(scenario)
    document_type = scenario.document_type_triple
    if not provider_of(document_type).can(
        user, Operation.START_PROCESS, document_type=document_type
    ):
        return ScenarioParameters(scenario, forbidden=True)
    return ScenarioParameters(
        scenario,
        inputs=[
            typed_input(
                PARAMETER_PREFIX + code,
                _caption(entry, code),
                str(entry.get("Type") or FieldType.STRING),
                entry.get("Default") if values is None else values.get(code, ""),
                options=options_of(entry),
                required=flag(entry.get("Required", "0")),
                multiple=flag(entry.get("Multiple", "0")),
                checkbox=False,
            )
            for code, entry in schema
        ],
    )


def posted_parameters(post: QueryDict, section: ScenarioParameters) -> dict[str, Any]:
    values = {}
    for item in section.inputs:
        code = item.name.removeprefix(PARAMETER_PREFIX)
        raw = post.get(item.name, "").strip()
        if raw:
            values[code] = split_list(raw) if item.multiple else raw
    return values


# ---- block dialogs ---------------------------------------------------------------------------


@dataclass
class MapRow:
    key: str
    value: str


@dataclass
class ConditionRow:
    field: str  # "Object:Field"
    operator: str
    value: str
    join_or: bool


@dataclass
class BlockForm:
    """The inputs of a block's dialog, and the properties they post back."""

    activity: Activity
    template: Template
    user: Any
    inputs: list[Input] = field(default_factory=list)
    scenario: Scenario | None = None
    parameters: ScenarioParameters | None = None
    non_field_errors: list[str] = field(default_factory=list)

    @classmethod
    def for_block(cls, *, activity: Activity, template: Template, user: Any) -> BlockForm:
        form = cls(activity, template, user)
        values = activity.properties_values
        form.inputs = [
            Input("Title", _("Title"), "text", display(values.get("Title") or activity.title))
        ]
        form.inputs += [
            form._input(prop, values.get(prop.name))
            for prop in activity.properties
            if prop.name != "Title" and not form._is_unit(prop)
        ]
        if activity.type == START_SCRIPT:
            form.scenario = visible_scenario(user, values.get("TemplateId"))
            form.parameters = scenario_parameters(
                user, form.scenario, values.get("TemplateParameters") or {}
            )
        return form

    @property
    def picks_users(self) -> bool:
        """Whether an input offers users from the dialog's list (a smart scenario's start
        parameters, fetched once one is chosen, may)."""
        return self.activity.type == START_SCRIPT or any(
            item.widget == "user" for item in self.inputs
        )

    # -- building inputs
    def _is_unit(self, prop: Property) -> bool:
        """The unit select of a duration (``TimeoutDurationType``) is drawn inside it."""
        return any(
            other.type == PropertyType.DURATION and prop.name == other.name + "Type"
            for other in self.activity.properties
        )

    def _input(self, prop: Property, value: Any) -> Input:
        label, required = str(prop.title), prop.required
        if self.activity.type == START_SCRIPT and prop.name == "TemplateId":
            return Input(prop.name, label, "scenario", display(value), required=required)
        if self.activity.type == START_SCRIPT and prop.name == "TemplateParameters":
            return Input(prop.name, label, "scenario-parameters")
        if self.activity.type == START_WORKFLOW and prop.name == "TemplateId":
            return self._template_picker(prop, value)
        if prop.type == PropertyType.MAP:
            return self._map(prop, value)
        if prop.type == PropertyType.CONDITIONS:
            return self._conditions(prop)
        if prop.type == PropertyType.DURATION:
            unit = next(p for p in self.activity.properties if p.name == prop.name + "Type")
            unit_value = self.activity.properties_values.get(unit.name) or unit.default
            return Input(
                prop.name,
                label,
                "duration",
                display(value),
                required=required,
                expressions=True,
                unit=typed_input(
                    unit.name,
                    str(unit.title),
                    FieldType.SELECT,
                    unit_value,
                    options=unit.options,
                    required=True,
                ),
            )
        if prop.type in (PropertyType.FILE, PropertyType.INTERNALSELECT):
            return Input(prop.name, label, "readonly", display(value))
        return typed_input(
            prop.name,
            label,
            prop.type,
            value,
            options=prop.options,
            required=required,
            multiple=prop.multiple,
        )

    def _template_picker(self, prop: Property, value: Any) -> Input:
        document_type = self.template.document_type_triple
        found = designed_templates().for_document_type(document_type).filter(active=True)
        choices = [(str(t.pk), t.name) for t in found]
        return typed_input(
            prop.name, str(prop.title), FieldType.SELECT, value, options=dict(choices)
        )

    def _map_keys(self, prop: Property) -> list[tuple[str, str]] | None:
        """The keys a map may have (None: free text, e.g. another template's parameters)."""
        if prop.map_keys == MapKeys.DOCUMENT_FIELDS:
            document_type = self.template.document_type_triple
            fields = provider_of(document_type).fields(document_type)
            return [(f.code, f.name) for f in fields if not f.read_only]
        if prop.map_keys == MapKeys.VARIABLES:
            return [
                (code, _caption(entry, code)) for code, entry in _schema(self.template.variables)
            ]
        return None

    def _map(self, prop: Property, value: Any) -> Input:
        keys = self._map_keys(prop)
        stored = value if isinstance(value, dict) else {}
        rows = [MapRow(str(key), display(item)) for key, item in stored.items()]
        options = list(keys or [])
        known = {code for code, _title in options}
        options += [(row.key, row.key) for row in rows if keys is not None and row.key not in known]
        return Input(
            prop.name,
            str(prop.title),
            "map",
            rows=rows,
            options=options,
            required=prop.required,
            expressions=True,
            free_keys=keys is None,
        )

    def condition_fields(self) -> list[tuple[str, list[tuple[str, str]]]]:
        document_type = self.template.document_type_triple
        provider = provider_of(document_type)
        return [
            (
                provider.caption(document_type),
                [(f"Document:{f.code}", f.name) for f in provider.fields(document_type)],
            ),
            (_("Parameters"), self._schema_options("Template", self.template.parameters)),
            (_("Variables"), self._schema_options("Variable", self.template.variables)),
            (_("Constants"), self._schema_options("Constant", self.template.constants)),
        ]

    def _schema_options(self, obj: str, schema: Any) -> list[tuple[str, str]]:
        return [(f"{obj}:{code}", _caption(entry, code)) for code, entry in _schema(schema)]

    def _conditions(self, prop: Property) -> Input:
        values = self.activity.properties_values
        groups = [group for group in self.condition_fields() if group[1]]
        otherwise = None
        if self.activity.type == "IfElseBranchActivity":
            otherwise = cond.condition_kind(values) == cond.OTHERWISE
        try:
            rows = cond.condition_rows(values) or []
        except cond.ConditionError:
            rows = []
        drawn = [
            ConditionRow(
                f"{row.object or self._object_of(row.field)}:{row.field}",
                row.operator,
                display(row.value),
                row.join_or,
            )
            for row in rows
        ]
        known = {value for _group, items in groups for value, _title in items}
        extra = [(row.field, row.field) for row in drawn if row.field not in known]
        if extra:
            groups.append((_("Other"), extra))
        return Input(
            prop.name,
            str(prop.title),
            "conditions",
            rows=drawn,
            groups=groups,
            options=[(key, str(label)) for key, label in cond.OPERATORS.items()],
            expressions=True,
            otherwise=otherwise,
        )

    def _object_of(self, code: str) -> str:
        """Variables and parameters share one namespace in ``propertyvariablecondition``."""
        for obj, schema in (
            ("Variable", self.template.variables),
            ("Template", self.template.parameters),
            ("Constant", self.template.constants),
        ):
            if any(str(key).lower() == code.lower() for key in schema or {}):
                return obj
        return "Variable"

    # -- reading a post
    def properties(self, post: QueryDict) -> dict[str, Any]:
        """The block's properties from the posted dialog. Properties the dialog does not edit
        (read-only ones, designer state) are kept as they were."""
        values = dict(self.activity.properties_values)
        values["Title"] = post.get("Title", "").strip() or str(self.activity.title)
        for item in self.inputs:
            if item.name == "Title" or item.widget == "readonly":
                continue
            if item.widget == "scenario-parameters":
                values[item.name] = self._posted_parameters(post)
            elif item.widget == "map":
                values[item.name] = _posted_map(post, item.name)
            elif item.widget == "conditions":
                for kind in cond.KINDS:
                    values.pop(kind, None)
                values.update(_posted_conditions(post, item))
            elif item.widget == "checkbox":
                values[item.name] = "Y" if post.get(item.name) else "N"
            else:
                raw = post.get(item.name, "")
                raw = raw if item.widget == "textarea" else raw.strip()
                values[item.name] = split_list(raw) if item.multiple else raw
                if item.unit is not None:
                    values[item.unit.name] = post.get(item.unit.name, "")
        return values

    def _posted_parameters(self, post: QueryDict) -> dict[str, Any]:
        """Values for the chosen scenario's parameters. A user who may not see or run the
        scenario cannot edit them: the block keeps its values (if the scenario did not change)."""
        saved = self.activity.properties_values
        chosen = post.get("TemplateId", "").strip()
        section = scenario_parameters(self.user, visible_scenario(self.user, chosen), None)
        if section.scenario is not None and not section.forbidden:
            return posted_parameters(post, section)
        if chosen == display(saved.get("TemplateId")):
            return dict(saved.get("TemplateParameters") or {})
        return {}

    def refusals(self, post: QueryDict) -> dict[str, list[str]]:
        """What the designer refuses before the engine sees it: a smart scenario the user
        cannot see (of a type they may not read, inactive or missing), unless the block had it
        already. The message does not tell which, so nothing leaks."""
        if self.activity.type != START_SCRIPT:
            return {}
        chosen = post.get("TemplateId", "").strip()
        if not chosen or chosen == display(self.activity.properties_values.get("TemplateId")):
            return {}
        if visible_scenario(self.user, chosen) is None:
            return {"TemplateId": [_("Smart scenario not found or inactive.")]}
        return {}

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
        self.inputs, self.scenario, self.parameters = (
            refilled.inputs,
            refilled.scenario,
            refilled.parameters,
        )
        names = {item.name for item in self.inputs}
        for item in self.inputs:
            item.errors = errors_by_name.get(item.name, [])
        self.non_field_errors = [
            message
            for name, messages in errors_by_name.items()
            if name not in names
            for message in messages
        ]


def _posted_map(post: QueryDict, name: str) -> dict[str, str]:
    keys, values = post.getlist(f"{name}-key"), post.getlist(f"{name}-value")
    return {key.strip(): value for key, value in zip(keys, values, strict=False) if key.strip()}


def _posted_conditions(post: QueryDict, item: Input) -> dict[str, Any]:
    """Stored as Bitrix stores them: ``fieldcondition`` when every row compares a document
    field, ``propertyvariablecondition`` when none does, else ``mixedcondition``."""
    name = item.name
    if item.otherwise is not None and post.get(f"{name}-kind") == "otherwise":
        return {cond.OTHERWISE: "1"}
    rows = []
    for position, (target, operator, value, joiner) in enumerate(
        zip(
            post.getlist(f"{name}-field"),
            post.getlist(f"{name}-operator"),
            post.getlist(f"{name}-value"),
            post.getlist(f"{name}-joiner"),
            strict=False,
        )
    ):
        obj, _sep, code = target.partition(":")
        if code:
            join = "1" if joiner == "or" and position else "0"
            value = "" if operator in cond.VALUELESS else value.strip()
            rows.append((obj, code, operator, value, join))
    objects = {obj for obj, *_rest in rows}
    if objects <= {"Document"}:
        return {cond.FIELD: [[code, op, value, join] for _obj, code, op, value, join in rows]}
    if not objects & {"Document"} and objects <= {"Variable", "Template", "Constant"}:
        return {cond.VARIABLE: [[code, op, value, join] for _obj, code, op, value, join in rows]}
    return {
        cond.MIXED: [
            {"object": obj, "field": code, "operator": op, "value": value, "joiner": join}
            for obj, code, op, value, join in rows
        ]
    }


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


def _options_text(entry: Mapping[str, Any]) -> str:
    return "\n".join(
        key if key == label else f"{key} = {label}" for key, label in options_of(entry).items()
    )


def _options_from_text(text: str) -> dict[str, str]:
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
            _options_text(entry),
            str(entry.get("Description") or ""),
        )
        for index, (code, entry) in enumerate(_schema(schema))
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
            post.get(prefix + "default", "").strip(),
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
            schema[row.id]["Options"] = _options_from_text(row.options)
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
