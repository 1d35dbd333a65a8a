"""The block dialog's widgets: what each ``Widget`` a property declares becomes in the dialog.

An activity says how each of its properties is asked for (``Property.widget``); a widget here
turns that declaration into an ``Input`` (what the dialog draws, with its template) and reads
the posted form back into properties. The designer thus names no activity type: a new block
declares its widgets and needs nothing here, unless it asks for something new — then a new
``DialogWidget`` is registered beside these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.utils.translation import gettext as _

from accounts.people import Person, UserPicker, user_picker
from bizproc.activities import conditions as cond
from bizproc.activities.base import Activity, MapKeys, Property, Widget
from bizproc.activities.permissions import not_applicable_message
from bizproc.bounds import bounded_int
from bizproc.documents import Operation
from bizproc.fieldtypes import Field, FieldType, type_choices
from bizproc.globals import globals_visible
from bizproc.models import GlobalField, GlobalKind, Scenario
from bizproc.registry import Registry
from bizproc.schemas import flag, options_of
from designer.access import designed_templates, provider_of, types_where

if TYPE_CHECKING:
    from designer.forms import BlockForm

FIELD_TEMPLATE = "designer/widgets/field.html"
# What a widget reads for a property the posted form removes (a kind of condition it replaced).
REMOVED: Any = object()
# A user field's value for the person responsible for the item the process runs on: the
# picker offers it by name. (Bitrix also writes ``author``, which only some blocks understand.)
RESPONSIBLE = "{=Document:ASSIGNED_BY_ID}"
# A list element has no responsible person: its author stands in (Bitrix's ``author``).
AUTHOR = "{=Document:CREATED_BY}"


def document_people(document_type: Any) -> list[Person]:
    """The people a user field may name through the item itself: its responsible person
    (a CRM record), else its author (a list element)."""
    codes = {f.code for f in provider_of(document_type).fields(document_type)}
    if "ASSIGNED_BY_ID" in codes:
        return [Person(RESPONSIBLE, _("Responsible for the item"), RESPONSIBLE, symbol="{=}")]
    if "CREATED_BY" in codes:
        return [Person(AUTHOR, _("Author of the item"), AUTHOR, symbol="{=}")]
    return []


@dataclass
class Input:
    """One field of a dialog, drawn by ``template``; ``widget`` picks the control in it."""

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
    section: ScenarioParameters | None = None  # a smart scenario's start parameters
    picker: UserPicker | None = None  # users, found and shown by name
    value_lists: list[ValueList] = field(default_factory=list)  # rows' values to pick from
    template: str = FIELD_TEMPLATE

    @property
    def id(self) -> str:
        return "field-" + re.sub(r"[^A-Za-z0-9_-]", "_", self.name)


@dataclass
class ValueList:
    """The values a row's value box offers (a ``<datalist>``): a list field's options, or the
    people for every user field. The box still takes any text or expression."""

    id: str
    keys: list[str]  # the fields it serves, as the row's field picker names them
    values: list[tuple[str, str]]  # (value, caption)


# The people list names at most this many; the rest are typed in or inserted.
PEOPLE_LISTED = 200


def value_lists(fields: Sequence[Field], *, prefix: str, key_prefix: str = "") -> list[ValueList]:
    """What the value boxes offer: a list field's option keys (the field holds keys, so
    renaming an option breaks no template) and ``user_<id>``, captioned by name."""
    lists = []
    people = ValueList(f"{prefix}-values-people", [], [])
    for f in fields:
        if f.type == FieldType.SELECT and f.options:
            list_id = f"{prefix}-values-" + re.sub(r"[^A-Za-z0-9_-]", "_", f.code)
            values = [(str(key), str(name)) for key, name in f.options.items()]
            lists.append(ValueList(list_id, [key_prefix + f.code], values))
        elif f.type == FieldType.USER:
            people.keys.append(key_prefix + f.code)
    if people.keys:
        users = get_user_model().objects.filter(is_active=True).order_by("pk")[:PEOPLE_LISTED]
        people.values = [(f"user_{user.pk}", user.get_full_name()) for user in users]
        lists.append(people)
    return lists


def list_id_of(lists: list[ValueList], key: str) -> str:
    return next((found.id for found in lists if key in found.keys), "")


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


def posted_text(post: QueryDict, name: str) -> str:
    """What a field of several values posts (a user picker's chips and its text), joined by
    commas as one would type them."""
    return ", ".join(value.strip() for value in post.getlist(name) if value.strip())


def posted_value(post: QueryDict, name: str) -> str:
    """What a field of one value posts: in a user picker, the text typed if any (it replaced
    the person chosen before it), else the person."""
    return next((value.strip() for value in reversed(post.getlist(name)) if value.strip()), "")


def schema_entries(schema: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """A template's parameters, variables or constants as (code, entry), malformed ones left."""
    return [
        (str(code), entry) for code, entry in (schema or {}).items() if isinstance(entry, Mapping)
    ]


def caption(entry: Mapping[str, Any], code: str) -> str:
    return str(entry.get("Name") or code)


# ---- typed values ------------------------------------------------------------------------------

DATE_PATTERNS = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}$"),
    "datetime": re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
}
CONTROL_OF_TYPE = {
    FieldType.TEXT: Widget.TEXTAREA,
    FieldType.INT: Widget.NUMBER,
    FieldType.DOUBLE: Widget.NUMBER,
    FieldType.USER: Widget.USER,
    FieldType.DATE: Widget.DATE,
    FieldType.DATETIME: Widget.DATETIME,
}


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
    expressions: bool = True,
    people: Sequence[Person] | None = None,
) -> Input:
    """An input for a value of a bizproc type; everything but lists and yes/no takes
    expressions (unless ``expressions=False``). ``checkbox=False`` asks a yes/no as a list,
    which can stay unset. ``people``: the fixed choices a user field offers (the item's
    responsible person when not given)."""
    common = {"name": name, "label": label, "required": required, "multiple": multiple}
    if type_ == FieldType.BOOL:
        text = "" if value in (None, "") else ("Y" if flag(value) else "N")
        if checkbox:
            return Input(
                widget=Widget.CHECKBOX,
                value=text == "Y",
                template=dialog_widgets.get(Widget.CHECKBOX).template,
                **common,
            )
        choices = [("Y", _("Yes")), ("N", _("No"))]
        return Input(
            widget=Widget.SELECT, value=text, options=_with_blank(choices, required), **common
        )
    if type_ == FieldType.SELECT:
        choices = [(str(key), str(title)) for key, title in (options or {}).items()]
        text = display(value)
        if text and text not in dict(choices):
            choices.append((text, text))  # an imported or expression value stays visible
        return Input(
            widget=Widget.SELECT, value=text, options=_with_blank(choices, required), **common
        )
    widget = CONTROL_OF_TYPE.get(type_, Widget.TEXT)
    text = display(value)
    if widget == Widget.USER:
        item = Input(widget=widget, expressions=expressions, **common)
        item.picker = user_picker(
            id=item.id,
            name=name,
            label=label,
            values=value if isinstance(value, list) else split_list(text),
            multiple=multiple,
            free_text=expressions,
            required=required,
            fixed=(
                list(people)
                if people is not None
                else [Person(RESPONSIBLE, _("Responsible for the item"), RESPONSIBLE, symbol="{=}")]
            )
            if expressions
            else [],
        )
        return item
    if widget in DATE_PATTERNS and (multiple or (text and not DATE_PATTERNS[widget].match(text))):
        widget = Widget.TEXT  # an expression, or a value a date input cannot show
    if widget == Widget.DATETIME:
        text = text.replace(" ", "T")[:16]
    return Input(widget=widget, value=text, expressions=expressions, **common)


def _with_blank(choices: list[tuple[str, str]], required: bool) -> list[tuple[str, str]]:
    return choices if required else [("", _("Not selected")), *choices]


# ---- the widgets -------------------------------------------------------------------------------


class DialogWidget:
    """Draws one kind of property in a block's dialog and reads it back.

    ``build`` gives the dialog's input (None: drawn by another widget); ``read`` the properties
    the posted form sets (``REMOVED`` removes one; the dialog keeps the others as they are);
    ``refusals`` what the designer refuses before the engine sees the block (messages by
    property)."""

    kind: ClassVar[Widget]
    template: ClassVar[str] = FIELD_TEMPLATE

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        return typed_input(
            prop.name,
            str(prop.title),
            prop.type,
            value,
            options=prop.options,
            required=prop.required,
            multiple=prop.multiple,
            people=document_people(dialog.template.document_type_triple)
            if prop.type == FieldType.USER
            else None,
        )

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        """The text as typed; a list for a property of several values, or one the block held
        as a list (Bitrix writes even one user so)."""
        raw = post.get(item.name, "")
        raw = raw if item.widget == Widget.TEXTAREA else raw.strip()
        listed = item.multiple or isinstance(dialog.activity.properties_values.get(item.name), list)
        return {item.name: split_list(raw) if listed else raw}

    def refusals(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, list[str]]:
        return {}


class WidgetRegistry(Registry[DialogWidget]):
    def __init__(self) -> None:
        super().__init__(key=lambda widget: widget.kind)

    def get(self, kind: str) -> DialogWidget:
        found = self.find(kind)
        if found is None:
            raise LookupError(f"No dialog widget is registered for {kind!r}")
        return found


dialog_widgets = WidgetRegistry()


def _registered(cls: type[DialogWidget]) -> type[DialogWidget]:
    dialog_widgets.register(cls())
    return cls


@_registered
class TextWidget(DialogWidget):
    kind = Widget.TEXT


@_registered
class TextareaWidget(DialogWidget):
    kind = Widget.TEXTAREA


@_registered
class NumberWidget(DialogWidget):
    kind = Widget.NUMBER


@_registered
class DateWidget(DialogWidget):
    kind = Widget.DATE


@_registered
class DatetimeWidget(DialogWidget):
    kind = Widget.DATETIME


@_registered
class SelectWidget(DialogWidget):
    kind = Widget.SELECT


@_registered
class UserWidget(DialogWidget):
    """The user picker: people chosen by name post their values, the text box expressions."""

    kind = Widget.USER

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        """The people and the text, in a list for a property of several values or one the
        block held as a list; else the text if one is typed (it replaced the person), else
        the person."""
        if item.multiple or isinstance(dialog.activity.properties_values.get(item.name), list):
            return {item.name: split_list(posted_text(post, item.name))}
        return {item.name: posted_value(post, item.name)}


@_registered
class CheckboxWidget(DialogWidget):
    kind = Widget.CHECKBOX
    template = "designer/widgets/checkbox.html"

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        """Y or N, or 1 or 0 for a block that had them (Bitrix writes both)."""
        checked = bool(post.get(item.name))
        if str(dialog.activity.properties_values.get(item.name)) in ("0", "1"):
            return {item.name: "1" if checked else "0"}
        return {item.name: "Y" if checked else "N"}


@_registered
class ReadonlyWidget(DialogWidget):
    """Files and internal selects: shown, and kept as they are."""

    kind = Widget.READONLY

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        return Input(prop.name, str(prop.title), Widget.READONLY, display(value))

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        return {}


@_registered
class UnitWidget(DialogWidget):
    """A duration's unit, drawn and read by its duration."""

    kind = Widget.UNIT

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        return None


@_registered
class DurationWidget(DialogWidget):
    """A number (or expression) and its unit, the property named ``<name>Type`` as Bitrix
    names them (``TimeoutDuration``, ``TimeoutDurationType``)."""

    kind = Widget.DURATION

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        unit = dialog.property_named(prop.name + "Type")
        unit_value = dialog.activity.properties_values.get(unit.name) or unit.default
        return Input(
            prop.name,
            str(prop.title),
            Widget.DURATION,
            display(value),
            required=prop.required,
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

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        assert item.unit is not None  # noqa: S101 - built with one
        return super().read(dialog, item, post) | {item.unit.name: post.get(item.unit.name, "")}


@_registered
class TemplateWidget(DialogWidget):
    """An active process template of the template's own entity type."""

    kind = Widget.TEMPLATE

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        document_type = dialog.template.document_type_triple
        found = designed_templates().for_document_type(document_type).filter(active=True)
        choices = {str(template.pk): template.name for template in found}
        return typed_input(prop.name, str(prop.title), FieldType.SELECT, value, options=choices)


@dataclass
class MapRow:
    key: str
    value: str
    list_id: str = ""  # the ValueList its value box offers


@_registered
class MapWidget(DialogWidget):
    """Key-value rows: keys chosen among document fields or variables, or typed in (another
    template's parameters, which this one cannot know)."""

    kind = Widget.MAP
    template = "designer/widgets/map.html"

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        keys = self._keys(dialog, prop)
        stored = value if isinstance(value, dict) else {}
        lists = []
        if prop.map_keys == MapKeys.DOCUMENT_FIELDS:
            document_type = dialog.template.document_type_triple
            fields = provider_of(document_type).fields(document_type)
            lists = value_lists(fields, prefix=f"field-{prop.name}")
        rows = [
            MapRow(str(key), display(item), list_id_of(lists, str(key)))
            for key, item in stored.items()
        ]
        options = list(keys or [])
        known = {code for code, _title in options}
        options += [(row.key, row.key) for row in rows if keys is not None and row.key not in known]
        return Input(
            prop.name,
            str(prop.title),
            Widget.MAP,
            rows=rows,
            options=options,
            required=prop.required,
            expressions=True,
            free_keys=keys is None,
            value_lists=lists,
            template=self.template,
        )

    def _keys(self, dialog: BlockForm, prop: Property) -> list[tuple[str, str]] | None:
        if prop.map_keys == MapKeys.DOCUMENT_FIELDS:
            document_type = dialog.template.document_type_triple
            fields = provider_of(document_type).fields(document_type)
            return [(f.code, f.name) for f in fields if not f.read_only]
        if prop.map_keys == MapKeys.VARIABLES:
            variables = schema_entries(dialog.template.variables)
            return [(code, caption(entry, code)) for code, entry in variables]
        if prop.map_keys == MapKeys.GLOBAL_VARIABLES:
            return [(code, row.name) for code, row in _global_variables(dialog).items()]
        return None

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        """The rows; a value becomes a list, as Bitrix stores several values, when its key
        held a list already or, for a new key, when its field takes several values."""
        keys, values = post.getlist(f"{item.name}-key"), post.getlist(f"{item.name}-value")
        stored = dialog.activity.properties_values.get(item.name)
        stored = stored if isinstance(stored, dict) else {}
        several = self._several(dialog, dialog.property_named(item.name))
        rows = {}
        for key, value in zip(keys, values, strict=False):
            key = key.strip()
            if not key:
                continue
            listed = isinstance(stored[key], list) if key in stored else key in several
            rows[key] = split_list(value) if listed else value
        return {item.name: rows}

    def _several(self, dialog: BlockForm, prop: Property) -> set[str]:
        """The keys whose fields take several values."""
        if prop.map_keys == MapKeys.DOCUMENT_FIELDS:
            document_type = dialog.template.document_type_triple
            fields = provider_of(document_type).fields(document_type)
            return {f.code for f in fields if f.multiple}
        if prop.map_keys == MapKeys.VARIABLES:
            variables = schema_entries(dialog.template.variables)
            return {code for code, entry in variables if flag(entry.get("Multiple", "0"))}
        if prop.map_keys == MapKeys.GLOBAL_VARIABLES:
            return {
                code
                for code, row in _global_variables(dialog).items()
                if flag(row.definition.get("Multiple", "0"))
            }
        return set()


def _global_variables(dialog: BlockForm) -> dict[str, GlobalField]:
    """The global variables processes of the template's type see."""
    return globals_visible(
        kind=GlobalKind.VARIABLE, document_type=dialog.template.document_type_triple
    )


@dataclass
class ConditionRow:
    field: str  # "Object:Field"
    operator: str
    value: str
    join_or: bool
    list_id: str = ""  # the ValueList its value box offers


def _is_otherwise(dialog: BlockForm, values: Any) -> bool:
    """ "Otherwise", or a branch without any condition, which Bitrix runs as "otherwise"."""
    kind = cond.condition_kind(values)
    unset = kind is None and getattr(dialog.activity, "unconditional_when_unset", False)
    return kind == cond.OTHERWISE or unset


@_registered
class ConditionsWidget(DialogWidget):
    """Condition rows, stored as Bitrix stores them (``bizproc.activities.conditions``)."""

    kind = Widget.CONDITIONS
    template = "designer/widgets/conditions.html"
    otherwise: ClassVar[bool] = False  # offers "otherwise" instead of rows

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        values = dialog.activity.properties_values
        groups = [group for group in self.fields(dialog) if group[1]]
        try:
            rows = cond.condition_rows(values) or []
        except cond.ConditionError:
            rows = []
        document_type = dialog.template.document_type_triple
        lists = value_lists(
            provider_of(document_type).fields(document_type),
            prefix=f"field-{prop.name}",
            key_prefix="Document:",
        )
        drawn = []
        for row in rows:
            target = f"{row.object or _object_of(dialog, row.field)}:{row.field}"
            drawn.append(
                ConditionRow(
                    target, row.operator, display(row.value), row.join_or, list_id_of(lists, target)
                )
            )
        known = {value for _group, items in groups for value, _title in items}
        extra = [(row.field, row.field) for row in drawn if row.field not in known]
        if extra:
            groups.append((_("Other"), extra))
        return Input(
            prop.name,
            str(prop.title),
            Widget.CONDITIONS,
            rows=drawn,
            groups=groups,
            options=[(key, str(label)) for key, label in cond.OPERATORS.items()],
            expressions=True,
            otherwise=_is_otherwise(dialog, values) if self.otherwise else None,
            value_lists=lists,
            template=self.template,
        )

    @staticmethod
    def fields(dialog: BlockForm) -> list[tuple[str, list[tuple[str, str]]]]:
        """What a condition may compare, by group: document fields, parameters, variables,
        constants."""
        document_type = dialog.template.document_type_triple
        provider = provider_of(document_type)
        template = dialog.template
        return [
            (
                provider.caption(document_type),
                [(f"Document:{f.code}", f.name) for f in provider.fields(document_type)],
            ),
            (_("Parameters"), _schema_options("Template", template.parameters)),
            (_("Variables"), _schema_options("Variable", template.variables)),
            (_("Constants"), _schema_options("Constant", template.constants)),
        ]

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        """Every kind of condition the block had goes; the posted one is stored as Bitrix
        stores it: ``fieldcondition`` when every row compares a document field,
        ``propertyvariablecondition`` when none does, else ``mixedcondition``."""
        cleared: dict[str, Any] = dict.fromkeys(cond.KINDS, REMOVED)
        name = item.name
        if item.otherwise is not None and post.get(f"{name}-kind") == "otherwise":
            return cleared | {cond.OTHERWISE: "1"}
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
            return cleared | {
                cond.FIELD: [[code, op, value, join] for _obj, code, op, value, join in rows]
            }
        if not objects & {"Document"} and objects <= {"Variable", "Template", "Constant"}:
            return cleared | {
                cond.VARIABLE: [[code, op, value, join] for _obj, code, op, value, join in rows]
            }
        return cleared | {
            cond.MIXED: [
                {"object": obj, "field": code, "operator": op, "value": value, "joiner": join}
                for obj, code, op, value, join in rows
            ]
        }


@_registered
class BranchConditionsWidget(ConditionsWidget):
    """A condition branch's: rows, or "otherwise" (when no branch before it applies)."""

    kind = Widget.BRANCH_CONDITIONS
    otherwise = True


def _schema_options(obj: str, schema: Any) -> list[tuple[str, str]]:
    return [(f"{obj}:{code}", caption(entry, code)) for code, entry in schema_entries(schema)]


def _object_of(dialog: BlockForm, code: str) -> str:
    """Variables and parameters share one namespace in ``propertyvariablecondition``."""
    for obj, schema in (
        ("Variable", dialog.template.variables),
        ("Template", dialog.template.parameters),
        ("Constant", dialog.template.constants),
    ):
        if any(str(key).lower() == code.lower() for key in schema or {}):
            return obj
    return "Variable"


# ---- smart scenarios ---------------------------------------------------------------------------


def scenario_groups(user: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Active scenarios (robots template id, name), one group per document type the user may
    read, labelled with the type's plural caption (DOMAIN.md §2)."""
    groups = []
    for document_type in types_where(user, Operation.READ):
        found = Scenario.objects.for_document_type(document_type).filter(active=True)
        choices = [(str(scenario.template_id), scenario.name) for scenario in found]
        if choices:
            groups.append((provider_of(document_type).caption(document_type, plural=True), choices))
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
    schema = schema_entries(version.parameters if version else {})
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
                caption(entry, code),
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
        if item.multiple:
            listed = split_list(posted_text(post, item.name))
            if listed:
                values[code] = listed
        elif raw := posted_value(post, item.name):
            values[code] = raw
    return values


@_registered
class ScenarioWidget(DialogWidget):
    """The smart scenario picker, grouped by entity type. The chosen scenario's parameters
    section (``ScenarioParametersWidget``) is fetched again when the choice changes."""

    kind = Widget.SCENARIO
    template = "designer/widgets/scenario.html"

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        visible = visible_scenario(dialog.user, value)
        # Warnings about a scenario the user may not see would tell its type.
        dialog.conceal_warnings = visible is None
        groups = scenario_groups(dialog.user)
        text = display(value)
        if text and visible is None:
            # Kept as the block has it, named by its id alone: its type is not the user's.
            missing = _("Smart scenario %(id)s (not available)") % {"id": text}
            groups.insert(0, ("", [(text, missing)]))
        return Input(
            prop.name,
            str(prop.title),
            Widget.SCENARIO,
            text,
            required=prop.required,
            groups=groups,
            template=self.template,
        )

    def refusals(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, list[str]]:
        """A smart scenario the user cannot see (of a type they may not read, inactive or
        missing), unless the block had it already. The message does not tell which, so
        nothing leaks."""
        chosen = post.get(item.name, "").strip()
        if not chosen or chosen == display(dialog.activity.properties_values.get(item.name)):
            return {}
        if visible_scenario(dialog.user, chosen) is None:
            return {item.name: [_("Smart scenario not found or inactive.")]}
        return {}


def _scenario_property(dialog: BlockForm) -> Property:
    found = property_with(dialog.activity, Widget.SCENARIO)
    if found is None:
        raise LookupError(f"{dialog.activity.type} has start parameters but no smart scenario")
    return found


@_registered
class ScenarioParametersWidget(DialogWidget):
    """The start parameters of the scenario the block's ``ScenarioWidget`` property holds."""

    kind = Widget.SCENARIO_PARAMETERS
    template = "designer/widgets/scenario_parameters.html"

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        chosen = dialog.activity.properties_values.get(_scenario_property(dialog).name)
        scenario = visible_scenario(dialog.user, chosen)
        section = scenario_parameters(dialog.user, scenario, value or {})
        return Input(
            prop.name,
            str(prop.title),
            Widget.SCENARIO_PARAMETERS,
            section=section,
            template=self.template,
        )

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        """Values for the chosen scenario's parameters. A user who may not see or run the
        scenario cannot edit them: the block keeps its values (if the scenario did not
        change)."""
        picker = _scenario_property(dialog).name
        saved = dialog.activity.properties_values
        chosen = post.get(picker, "").strip()
        section = scenario_parameters(dialog.user, visible_scenario(dialog.user, chosen), None)
        if section.scenario is not None and not section.forbidden:
            return {item.name: posted_parameters(post, section)}
        if chosen == display(saved.get(picker)):
            return {item.name: dict(saved.get(item.name) or {})}
        return {item.name: {}}


def property_with(activity: Activity, widget: Widget) -> Property | None:
    """The block's property drawn by ``widget`` (the one holding its smart scenario, say)."""
    return next((prop for prop in activity.properties if prop.dialog_widget == widget), None)


# ---- fields asked of people (Request information) --------------------------------------------


def _requested_schema(value: Any) -> dict[str, Any]:
    """Bitrix's list of requested fields as a schema keyed by variable (``Name``), named by
    ``Title``: the rows the settings panel draws for parameters and variables."""
    items = list(value.values()) if isinstance(value, Mapping) else value
    schema: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, Mapping):
            schema[str(item.get("Name") or "")] = {**item, "Name": item.get("Title") or ""}
    return schema


def _requested_item(code: str, entry: Mapping[str, Any], stored: Mapping[str, Any]) -> dict:
    """A posted row as Bitrix stores a requested field. A field the block had keeps what the
    row does not show (``Default_printable`` …) and its way of writing flags (Bitrix's dialog
    writes true/false, its exports "1"/"0"); empty keys it lacked stay out."""
    old = dict(stored.get(code) or {})
    old.pop("Name", None)  # the title, in the schema: the row's replaces it
    old.pop("Title", None)
    strings = isinstance(old.get("Required"), str) or isinstance(old.get("Multiple"), str)
    item: dict[str, Any] = {"Title": entry["Name"], "Name": code, **old, "Type": entry["Type"]}
    for key in ("Required", "Multiple"):
        item[key] = entry[key] if strings else entry[key] == "1"
    for key, value in (
        ("Description", entry["Description"]),
        ("Options", entry.get("Options") or None),
        ("Default", entry["Default"]),
    ):
        if value not in ("", None) or key in old:
            item[key] = value
    return item


@_registered
class FieldsWidget(DialogWidget):
    """Rows of typed fields — title, code (the variable the answer goes to), type, required,
    multiple, default, options — drawn as the template settings draw variables and stored
    as Bitrix stores ``RequestedInformation``: ``[{Title, Name, Description, Type, Required,
    Multiple, Options, Default}]``."""

    kind = Widget.FIELDS
    template = "designer/widgets/fields.html"

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        from designer.forms import schema_rows  # the forms import the widgets

        return Input(
            prop.name,
            str(prop.title),
            Widget.FIELDS,
            required=prop.required,
            rows=schema_rows(_requested_schema(value)),
            options=type_choices(),
            template=self.template,
        )

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        from designer.forms import posted_schema

        schema, _rows, _twice = posted_schema(post, item.name)
        stored = _requested_schema(dialog.activity.properties_values.get(item.name))
        return {item.name: [_requested_item(code, entry, stored) for code, entry in schema.items()]}

    def refusals(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, list[str]]:
        from designer.forms import posted_schema

        twice = posted_schema(post, item.name)[2]
        return {item.name: twice} if twice else {}


# ---- permissions -------------------------------------------------------------------------------


@_registered
class PermissionsWidget(DialogWidget):
    """Set permissions' users, one picker per operation the template's document type grants
    (``DocumentProvider.permission_operations``), stored as Bitrix stores them
    (``{"R": ["author", "user_5"]}``). Operations a file brought that the type does not offer
    are shown by their codes and kept. For a type where processes grant nothing (a CRM's), a
    note says the block does not apply."""

    kind = Widget.PERMISSIONS
    template = "designer/widgets/permissions.html"

    def build(self, dialog: BlockForm, prop: Property, value: Any) -> Input | None:
        document_type = dialog.template.document_type_triple
        operations = provider_of(document_type).permission_operations(document_type)
        stored = value if isinstance(value, dict) else {}
        item = Input(prop.name, str(prop.title), Widget.PERMISSIONS, template=self.template)
        if not operations:
            item.value = not_applicable_message(document_type)
        people = document_people(document_type)
        for code, label in [*operations.items(), *((k, k) for k in stored if k not in operations)]:
            item.rows.append(
                typed_input(
                    f"{prop.name}-{code}",
                    str(label),
                    FieldType.USER,
                    stored.get(code) or [],
                    multiple=True,
                    people=people,
                )
            )
        return item

    def read(self, dialog: BlockForm, item: Input, post: QueryDict) -> dict[str, Any]:
        granted: dict[str, Any] = {}
        for row in item.rows:
            users = split_list(posted_text(post, row.name))
            if users:
                granted[row.name.removeprefix(f"{item.name}-")] = users
        return {item.name: granted}
