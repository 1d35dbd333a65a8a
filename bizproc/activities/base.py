"""What an activity is: its type, title, category, property schema, results and checks.

A template node (``{"Type", "Name", "Properties", "Children"}``) is given life by the class
registered for its ``Type``. Types we do not implement become ``UnsupportedActivity``: inert
blocks that keep every property and child verbatim and fail publication.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizproc import user_values
from bizproc.activities.context import Context
from bizproc.fieldtypes import Field, FieldType, FieldValueError, user_id_of
from bizproc.registry import Registry
from bizproc.tree import Node


class ActivityFault(Exception):
    """A block failed at run time: the process is terminated with a FaultActivity row."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TerminateProcess(Exception):
    """The process is to stop now (the Terminate block, a loop past its budget)."""

    def __init__(self, state_title: str = "") -> None:
        super().__init__(state_title)
        self.state_title = state_title


class ReferenceRefused(Exception):
    """A block reached, through an expression, a template or user outside what its version's
    publisher could choose (``bizproc.scope``): the block starts nothing, the error goes to
    the journal and the process goes on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Status(models.TextChoices):
    """What a block's run-time method returns."""

    CLOSED = "closed"  # done: its parent goes on
    EXECUTING = "executing"  # a composite waiting for the children it scheduled
    WAITING = "waiting"  # waiting for a timer or an event (it registered the wait)


class Category(models.TextChoices):
    DOCUMENT = "document", gettext_lazy("Document processing")
    TASKS = "tasks", gettext_lazy("Tasks")
    CONSTRUCTIONS = "constructions", gettext_lazy("Constructions")
    NOTIFICATIONS = "notifications", gettext_lazy("Notifications")
    OTHER = "other", gettext_lazy("Other")


class ChildLayout(models.TextChoices):
    """How a block holds its children, and so how the designer draws them and where it lets a
    user add one: the designer reads this, never a block's type."""

    NONE = "none"  # a leaf
    LIST = "list"  # one list of blocks, top to bottom (a sequence)
    BRANCHES = "branches"  # branches side by side, each a list; "Add branch" adds one
    LOOP = "loop"  # a loop body: each child a list, drawn under the block


class PropertyType(models.TextChoices):
    """DOMAIN.md §4's value types, plus the shapes activities need."""

    BOOL = FieldType.BOOL.value, FieldType.BOOL.label
    DATE = FieldType.DATE.value, FieldType.DATE.label
    DATETIME = FieldType.DATETIME.value, FieldType.DATETIME.label
    DOUBLE = FieldType.DOUBLE.value, FieldType.DOUBLE.label
    FILE = FieldType.FILE.value, FieldType.FILE.label
    INT = FieldType.INT.value, FieldType.INT.label
    SELECT = FieldType.SELECT.value, FieldType.SELECT.label
    INTERNALSELECT = FieldType.INTERNALSELECT.value, FieldType.INTERNALSELECT.label
    STRING = FieldType.STRING.value, FieldType.STRING.label
    TEXT = FieldType.TEXT.value, FieldType.TEXT.label
    USER = FieldType.USER.value, FieldType.USER.label
    MAP = "map", gettext_lazy("Key-value rows")
    CONDITIONS = "conditions", gettext_lazy("Condition rows")
    DURATION = "duration", gettext_lazy("Duration")
    # Typed fields asked of people (Request information's ``RequestedInformation``): a list of
    # ``{Title, Name, Type, Required, Multiple, Options, Default, Description}``.
    FIELDS = "fields", gettext_lazy("Fields")


class MapKeys(models.TextChoices):
    """What the keys of a ``map`` property name."""

    DOCUMENT_FIELDS = "document_fields"
    VARIABLES = "variables"
    PARAMETERS = "parameters"  # the start parameters of another template
    GLOBAL_VARIABLES = "global_variables"  # those processes of the template's type see


_GLOBAL_VARIABLE_KEY = re.compile(r"\{=\s*GlobalVar\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}", re.I)


def global_variable_id(key: str) -> str:
    """The ID of the global variable a key of a ``GLOBAL_VARIABLES`` map names: Bitrix writes
    the ID (``Variable1``) or, in its newer dialogs, the expression (``{=GlobalVar:Variable1}``)."""
    found = _GLOBAL_VARIABLE_KEY.fullmatch(key.strip())
    return found[1] if found else key


class Reference(models.TextChoices):
    """What a property's value points at outside its own process, for the rights checks of
    ``bizproc.scope``: whoever designs a block may reach only what they could design."""

    TEMPLATE = "template"  # a process template's id
    SCENARIO = "scenario"  # the id of a smart scenario's robots template
    DOCUMENT = "document"  # a document id the block acts on
    RUN_AS = "run_as"  # the user the block acts as


class Widget(models.TextChoices):
    """How a block's dialog asks for a property: the designer's widget registry draws each and
    reads it back, so a new activity declares its widgets and touches nothing in the designer.
    Values typed in (text, numbers, users, dates, durations, map values) may be expressions."""

    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    CHECKBOX = "checkbox"  # yes or no
    SELECT = "select"  # one of the property's options
    USER = "user"  # users picked by name, or an expression
    DATE = "date"
    DATETIME = "datetime"
    DURATION = "duration"  # a number, with its unit property (``<name>Type``) beside it
    UNIT = "unit"  # the unit of a duration: drawn inside it, not on its own
    MAP = "map"  # key-value rows, keys as ``Property.map_keys`` says
    CONDITIONS = "conditions"  # condition rows
    BRANCH_CONDITIONS = "branch-conditions"  # condition rows, or "otherwise"
    READONLY = "readonly"  # shown, kept as it is (files, internal selects)
    TEMPLATE = "template"  # an active process template of the template's own entity type
    SCENARIO = "scenario"  # a smart scenario the user reads, grouped by entity type
    SCENARIO_PARAMETERS = "scenario-parameters"  # the chosen scenario's start parameters
    FIELDS = "fields"  # rows of typed fields: title, code, type, required, multiple, default
    PERMISSIONS = "permissions"  # users per operation the document type grants


# The widget a property gets when it declares none, by its type.
WIDGET_OF_TYPE: Mapping[str, Widget] = {
    FieldType.BOOL: Widget.CHECKBOX,
    FieldType.SELECT: Widget.SELECT,
    FieldType.TEXT: Widget.TEXTAREA,
    FieldType.INT: Widget.NUMBER,
    FieldType.DOUBLE: Widget.NUMBER,
    FieldType.USER: Widget.USER,
    FieldType.DATE: Widget.DATE,
    FieldType.DATETIME: Widget.DATETIME,
    FieldType.FILE: Widget.READONLY,
    FieldType.INTERNALSELECT: Widget.READONLY,
    "map": Widget.MAP,
    "conditions": Widget.CONDITIONS,
    "duration": Widget.DURATION,
    "fields": Widget.FIELDS,
}


@dataclass(frozen=True)
class Property:
    """A block's property: its name as Bitrix stores it, its value type, how its dialog asks
    for it (``widget``, by default the type's) and what it reaches outside the process."""

    name: str
    title: Promise
    type: str
    required: bool = False
    multiple: bool = False
    options: Mapping[str, Promise | str] = field(default_factory=dict)  # str: read at run time
    default: Any = None
    map_keys: str | None = None
    reference: Reference | None = None
    widget: Widget | None = None  # None: the type's (``dialog_widget``)

    @property
    def dialog_widget(self) -> Widget:
        return self.widget or WIDGET_OF_TYPE.get(self.type, Widget.TEXT)

    def field(self) -> Field:
        return Field(
            code=self.name,
            name=str(self.title),
            type=self.type,
            required=False,
            multiple=self.multiple,
            options={key: str(label) for key, label in self.options.items()},
            user_groups=True,  # users in every form Bitrix writes them (``user_values``)
        )


@dataclass(frozen=True)
class Result:
    """A value a block exposes to later blocks as ``{=<Name>:<result>}``."""

    name: str
    title: Promise
    type: str


# Problem codes about what a block finds around it rather than about its own properties: a
# document field or a user that does not exist here (yet). Publication warns about them and goes
# on, as Bitrix's loader, which checks only each block's own properties, does.
UNKNOWN_FIELD = "unknown_field"
UNKNOWN_USER = "unknown_user"
UNKNOWN_GLOBAL = "unknown_global"
WARNING_CODES = frozenset({UNKNOWN_FIELD, UNKNOWN_USER, UNKNOWN_GLOBAL})


@dataclass(frozen=True)
class Problem:
    """A design-time problem; ``node`` names the block, ``parameter`` its property."""

    code: str
    parameter: str
    message: str
    node: str | None = None

    @property
    def is_warning(self) -> bool:
        return self.code in WARNING_CODES

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "parameter": self.parameter,
            "message": self.message,
            "node": self.node,
        }


class ValidationContext:
    """What property checks need to know about the template around a block.

    ``check_text`` parses a value's expressions and resolves their references; it is given by
    the validator so activities need not know the expression package.
    """

    def __init__(
        self,
        *,
        document_fields: Mapping[str, Field],
        parameters: Mapping[str, Field],
        variables: Mapping[str, Field],
        constants: Mapping[str, Field],
        check_text: Callable[[str], list[str]],
        target_parameters: Callable[[Any], Mapping[str, Field] | None] | None = None,
        document_type: tuple[str, str, str] | None = None,
        global_variables: Callable[[], Mapping[str, Field]] | None = None,
    ) -> None:
        self.document_fields = document_fields
        self.parameters = parameters
        self.variables = variables
        self.constants = constants
        self.check_text = check_text
        self.target_parameters = target_parameters or (lambda _template_id: None)
        self.document_type = document_type  # the template's own
        # The global variables processes of the template's type see (read when first asked);
        # None: not known here, any key is taken.
        self._global_variables = global_variables

    def keys_for(
        self, map_keys: str | None, properties: Mapping[str, Any]
    ) -> Mapping[str, Field] | None:
        if map_keys == MapKeys.DOCUMENT_FIELDS:
            return self.document_fields
        if map_keys == MapKeys.VARIABLES:
            return self.variables
        if map_keys == MapKeys.PARAMETERS:
            return self.target_parameters(properties.get("TemplateId"))
        if map_keys == MapKeys.GLOBAL_VARIABLES and self._global_variables is not None:
            return self._global_variables()
        return None


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def has_expression(value: Any) -> bool:
    return isinstance(value, str) and ("{=" in value or "{{" in value or value.startswith("="))


class Activity:
    type: ClassVar[str]
    title: ClassVar[Promise]
    category: ClassVar[str] = Category.OTHER
    properties: ClassVar[Sequence[Property]] = ()
    results: ClassVar[Sequence[Result]] = ()
    composite: ClassVar[bool] = False
    # How a composite's children are drawn (NONE for a leaf); with BRANCHES, the type of the
    # block "Add branch" inserts (``new_branch_properties`` gives its properties).
    child_layout: ClassVar[ChildLayout] = ChildLayout.NONE
    branch_type: ClassVar[str] = ""
    # For composites: the only child types allowed (None: any block that may stand alone).
    child_types: ClassVar[frozenset[str] | None] = None
    # Blocks that may only stand inside a certain parent (a branch inside a condition).
    parent_types: ClassVar[frozenset[str] | None] = None
    designer: ClassVar[bool] = True
    robot: ClassVar[bool] = False
    supported: ClassVar[bool] = True
    # Whether ``summary`` reads the node alone: the designer keeps such blocks' cards drawn
    # for as long as their nodes stay the same.
    summary_from_node: ClassVar[bool] = True

    def __init__(self, node: Node) -> None:
        self.node = node

    @property
    def properties_values(self) -> dict[str, Any]:
        # Read only: a published version's blocks are shared by the processes that run it.
        return self.node.get("Properties") or {}

    @property
    def display_title(self) -> str:
        return str(self.properties_values.get("Title") or self.title)

    @classmethod
    def new_properties(cls) -> dict[str, Any]:
        values: dict[str, Any] = {"Title": str(cls.title)}
        for prop in cls.properties:
            if prop.default is not None:
                values[prop.name] = prop.default
        return values

    @classmethod
    def new_branch_properties(cls, parent: Node) -> dict[str, Any]:
        """The properties of a branch (``branch_type``) added to ``parent``, a block of this
        class, on top of the branch class's own ``new_properties``."""
        return {}

    @classmethod
    def new_children(cls, new_name: Callable[[], str]) -> list[Node]:
        """Children a freshly inserted block comes with (branches of a condition …)."""
        return []

    def problem(self, parameter: str, message: str, code: str = "invalid") -> Problem:
        return Problem(
            code=code,
            parameter=parameter,
            message=_("Action '%(title)s': %(message)s")
            % {"title": self.display_title, "message": message},
            node=self.node.get("Name"),
        )

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        """Design-time checks of every declared property; subclasses add their own."""
        problems: list[Problem] = []
        values = self.properties_values
        for prop in self.properties:
            value = values.get(prop.name)
            if is_empty(value):
                if prop.required:
                    problems.append(
                        self.problem(
                            prop.name,
                            _("The field '%(name)s' is required.") % {"name": prop.title},
                            "required",
                        )
                    )
                continue
            problems.extend(self._validate_value(prop, value, ctx))
        return problems

    def warnings(self, ctx: ValidationContext) -> list[Problem]:
        """What is allowed but probably not meant (shown in the dialog and on publishing)."""
        return []

    def _validate_value(self, prop: Property, value: Any, ctx: ValidationContext) -> list[Problem]:
        if prop.type == PropertyType.MAP:
            return self._validate_map(prop, value, ctx)
        if prop.type in (PropertyType.FILE, PropertyType.INTERNALSELECT):
            return []  # kept verbatim, shown read-only
        if prop.type in (PropertyType.CONDITIONS, PropertyType.DURATION, PropertyType.FIELDS):
            return []  # checked by the activities that own them
        return self._validate_typed(prop.name, prop.field(), value, ctx)

    def _validate_typed(
        self, parameter: str, target: Field, value: Any, ctx: ValidationContext
    ) -> list[Problem]:
        users = target.type == FieldType.USER
        # Users come in every form Bitrix writes them: nested lists, reference arrays.
        items = user_values.flat_items(value) if users else value
        items = items if isinstance(items, list) else [items]
        problems: list[Problem] = []
        for item in items:
            if users and user_values.is_reference(item):
                text = user_values.reference_text(item)
                problems.extend(
                    self.problem(parameter, message) for message in ctx.check_text(text)
                )
                continue
            if has_expression(item):
                problems.extend(
                    self.problem(parameter, message) for message in ctx.check_text(item)
                )
                continue
            try:
                target.convert(item)
            except FieldValueError as error:
                if target.type == FieldType.USER and user_id_of(str(item).strip()) is not None:
                    # Well formed, but nobody here (yet): a template brought from elsewhere.
                    message = _("User %(user)s does not exist here or is inactive.") % {
                        "user": str(item).strip()
                    }
                    problems.append(self.problem(parameter, message, UNKNOWN_USER))
                else:
                    problems.append(self.problem(parameter, error.message, "type"))
        return problems

    def _validate_map(self, prop: Property, value: Any, ctx: ValidationContext) -> list[Problem]:
        if not isinstance(value, dict):
            return [self.problem(prop.name, _("The value must be a list of rows."), "type")]
        known = ctx.keys_for(prop.map_keys, self.properties_values)
        problems = []
        for key, item in value.items():
            if prop.map_keys == MapKeys.GLOBAL_VARIABLES:
                key = global_variable_id(str(key))
            target = None if known is None else _lookup(known, str(key))
            if known is not None and target is None:
                code = UNKNOWN_FIELD if prop.map_keys == MapKeys.DOCUMENT_FIELDS else "unknown"
                message = _("Unknown field: %(code)s") % {"code": key}
                if prop.map_keys == MapKeys.GLOBAL_VARIABLES:
                    message = _(
                        "There is no global variable %(id)s for processes of this type."
                    ) % {"id": key}
                problems.append(self.problem(prop.name, message, code))
                continue
            # Keys we cannot know (another template's parameters, unresolved) take any value.
            target = target or Field(str(key), str(key), FieldType.STRING)
            problems.extend(self._validate_typed(prop.name, target, item, ctx))
        return problems

    def summary(self) -> str:
        """One line for the designer, after the block's title."""
        return ""

    def variables_declared(self) -> dict[str, dict[str, Any]]:
        """Variables the block writes and brings into its template when its settings are saved
        (Bitrix's dialog adds them so): ``{code: schema entry}``."""
        return {}

    # ---- run time (``ctx``: what a block may do, ``bizproc.activities.context``) ------------
    def children(self) -> list[Node]:
        return list(self.node.get("Children") or [])

    def execute(self, ctx: Context) -> Status:
        """Does the block's work; a composite runs its children one after another."""
        if self.composite:
            children = self.children()
            if not children:
                return Status.CLOSED
            ctx.schedule(children[0]["Name"])
            return Status.EXECUTING
        return Status.CLOSED

    def on_child_closed(self, ctx: Context, child_name: str) -> Status:
        names = [child["Name"] for child in self.children()]
        position = names.index(child_name) + 1
        if position < len(names):
            ctx.schedule(names[position])
            return Status.EXECUTING
        return Status.CLOSED

    def resume(self, ctx: Context) -> Status:
        """Called when what the block waited for has happened."""
        return Status.CLOSED


def _lookup(fields: Mapping[str, Field], key: str) -> Field | None:
    if key in fields:
        return fields[key]
    lowered = key.lower()
    return next((f for code, f in fields.items() if code.lower() == lowered), None)


class UnsupportedActivity(Activity):
    """A block of a type we do not run: kept verbatim, never offered, never published."""

    type = ""
    title = gettext_lazy("Unsupported block")
    supported = False
    designer = False
    composite = True  # keeps whatever children it came with
    child_layout = ChildLayout.LIST  # drawn read-only

    @property
    def display_title(self) -> str:
        return str(self.properties_values.get("Title") or self.node.get("Type") or self.title)

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        return [
            self.problem(
                "",
                _("blocks of type %(type)s are not supported and cannot be published.")
                % {"type": self.node.get("Type")},
                "unsupported",
            )
        ]


A = TypeVar("A", bound=type[Activity])


class ActivityRegistry(Registry[type[Activity]]):
    """Maps a node's ``Type`` (as stored in trees and .bpt files) to its class."""

    def __init__(self) -> None:
        super().__init__(key=lambda cls: cls.type)

    def register(self, item: A) -> A:
        """Registers an activity class and returns it as it is (a class decorator)."""
        super().register(item)
        return item

    def get(self, type_: str) -> type[Activity]:
        # Unknown types are not an error here: import keeps them as inert blocks.
        return self.find(type_) or UnsupportedActivity

    def is_known(self, type_: str) -> bool:
        return type_ in self

    def robots(self) -> list[type[Activity]]:
        """The activities a smart scenario may hold."""
        return [cls for cls in self if cls.robot and cls.supported]

    def for_node(self, node: Node) -> Activity:
        return self.get(str(node.get("Type", "")))(node)


activities = ActivityRegistry()
