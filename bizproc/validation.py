"""Publish-time validation of a whole template: structure, every property, every expression.

Problems name the block (Bitrix's "Action '#TITLE#':" prefix) and the property, so the designer
can link each to its block.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from bizproc.activities import activities
from bizproc.activities.base import (
    UNKNOWN_FIELD,
    UNKNOWN_GLOBAL,
    UNKNOWN_USER,
    Activity,
    Problem,
    ValidationContext,
)
from bizproc.documents import DocumentError, DocumentType, document_providers
from bizproc.expressions import ExpressionError, references
from bizproc.fieldtypes import Field
from bizproc.globals import globals_schema, globals_visible
from bizproc.models import SCRIPT_FLAG, GlobalKind, Scenario, Template
from bizproc.schemas import schema_fields, schema_problems, schema_warnings
from bizproc.tree import ROOT_NAME, ROOT_TYPE, Node, walk_with_parents

# The root of Bitrix's status-driven processes, which the engine does not run yet.
STATE_MACHINE_TYPE = "StateMachineWorkflowActivity"

GLOBAL_OBJECTS = {kind.lower() for kind in GlobalKind.values}

SYSTEM_FIELDS = {
    "workflow": {"id"},
    "user": {"id"},
    "system": {"now", "nowlocal", "date"},
}


def document_fields(document_type: DocumentType) -> dict[str, Field]:
    try:
        provider = document_providers.get(document_type.module)
        return {f.code: f for f in provider.fields(document_type)}
    except DocumentError:
        return {}


def template_parameters(template_id: Any) -> dict[str, Field] | None:
    """The start parameters of the template a block starts (a process or a smart scenario's
    robots template), from its latest version; None when it does not exist or is inactive."""
    try:
        pk = int(str(template_id).strip())
    except ValueError:
        return None
    template = Template.objects.filter(pk=pk, active=True).first()
    if template is None:
        return None
    if (
        template.auto_execute & SCRIPT_FLAG
        and not Scenario.objects.filter(template=template, active=True).exists()
    ):
        return None
    version = template.latest_version
    return schema_fields(version.parameters) if version else None


def template_problems(
    *,
    tree: Node,
    parameters: Mapping[str, Any],
    variables: Mapping[str, Any],
    constants: Mapping[str, Any],
    document_type: DocumentType,
    target_parameters: Callable[[Any], Mapping[str, Field] | None] | None = None,
) -> list[Problem]:
    problems: list[Problem] = []
    for kind, schema in (
        (_("Parameters"), parameters),
        (_("Variables"), variables),
        (_("Constants"), constants),
    ):
        problems.extend(
            Problem(code="schema", parameter="", message=f"{kind}: {message}")
            for message in schema_problems(schema)
        )
        problems.extend(
            Problem(code=UNKNOWN_USER, parameter="", message=f"{kind}: {message}")
            for message in schema_warnings(schema)
        )

    fields = document_fields(document_type)
    params = schema_fields(parameters)
    variable_fields = schema_fields(variables)
    constant_fields = schema_fields(constants)
    results: dict[str, set[str] | None] = {}  # block name → its results (None: unknown)
    checked: list[Activity] = []  # the block whose values ``check_text`` is given
    globals_seen: set[str] = set()

    def known_globals() -> set[str]:
        """``kind:id`` of every global the document type sees, in lower case, read once."""
        if not globals_seen:
            globals_seen.add("")
            for kind in GlobalKind.values:
                globals_seen.update(
                    f"{kind}:{code}".lower()
                    for code in globals_visible(kind=kind, document_type=document_type)
                )
        return globals_seen

    def check_text(text: str) -> list[str]:
        try:
            found = references(text)
        except ExpressionError as error:
            return [str(error)]
        messages = []
        for ref in found:
            if ref.obj.lower() in GLOBAL_OBJECTS:
                if f"{ref.obj}:{ref.field}".lower() not in known_globals():
                    message = _(
                        "There is no global %(str)s here: it reads as empty until an "
                        "administrator defines it."
                    ) % {"str": f"{{={ref.obj}:{ref.field}}}"}
                    problem = Problem(code=UNKNOWN_GLOBAL, parameter="", message=message)
                    if checked:
                        problem = checked[-1].problem("", message, UNKNOWN_GLOBAL)
                    problems.append(problem)
                continue
            if not _resolves(
                ref.obj, ref.field, fields, params, variable_fields, constant_fields, results
            ):
                message = _('Unknown reference "%(str)s" at position %(position)d') % {
                    "str": f"{{={ref.obj}:{ref.field}}}",
                    "position": ref.position,
                }
                if ref.obj.lower() == "document" and checked:
                    # A field the document type lacks here (yet): a warning, not a refusal.
                    problems.append(checked[-1].problem("", message, UNKNOWN_FIELD))
                else:
                    messages.append(message)
        return messages

    ctx = ValidationContext(
        document_fields=fields,
        parameters=params,
        variables=variable_fields,
        constants=constant_fields,
        check_text=check_text,
        target_parameters=target_parameters or template_parameters,
        document_type=document_type,
        global_variables=global_variables_of(document_type),
    )
    if tree.get("Type") == STATE_MACHINE_TYPE:
        # Its states and their blocks are kept as imported; none of them can run.
        return [
            *problems,
            Problem(code="unsupported", parameter="", message=state_machine_message()),
        ]
    if tree.get("Type") != ROOT_TYPE or tree.get("Name") != ROOT_NAME:
        problems.append(
            Problem(
                code="structure", parameter="", message=_("The template's root block is damaged.")
            )
        )
    seen: set[str] = set()
    for node, parent in walk_with_parents(tree):
        activity = activities.for_node(node)
        name = str(node.get("Name") or "")
        if name in seen:
            problems.append(
                activity.problem("", _("The block name %(name)s is used twice.") % {"name": name})
            )
        seen.add(name)
        problems.extend(structure_problems(node, parent))
        checked.append(activity)
        problems.extend(activity.validate_properties(ctx))
        results[name.lower()] = (
            {result.name.lower() for result in activity.results} if activity.supported else None
        )
    return problems


def global_variables_of(document_type: DocumentType) -> Callable[[], Mapping[str, Field]]:
    """The global variables processes of ``document_type`` see, as typed fields: read from the
    database the first time a block asks (most templates have no Set global variable)."""
    found: list[Mapping[str, Field]] = []

    def read() -> Mapping[str, Field]:
        if not found:
            schema = globals_schema(kind=GlobalKind.VARIABLE, document_type=document_type)
            found.append(schema_fields(schema))
        return found[0]

    return read


def problems_split(problems: list[Problem]) -> tuple[list[Problem], list[Problem]]:
    """(What refuses a publication, what it only warns about): a block's own properties that
    are wrong refuse it, as Bitrix's loader does; document fields and users that do not exist
    here (yet) are warnings."""
    return (
        [problem for problem in problems if not problem.is_warning],
        [problem for problem in problems if problem.is_warning],
    )


def state_machine_message() -> str:
    return _("Status-driven processes are not supported yet.")


def structure_problems(node: Node, parent: Node | None) -> list[Problem]:
    """Whether the block may stand where it is."""
    activity = activities.for_node(node)
    problems = []
    if parent is not None:
        parent_class = activities.get(str(parent.get("Type", "")))
        allowed = parent_class.child_types
        if allowed is not None and node.get("Type") not in allowed:
            problems.append(activity.problem("", _("This block cannot stand here."), "structure"))
        own = activity.parent_types
        if own is not None and parent.get("Type") not in own:
            problems.append(activity.problem("", _("This block cannot stand here."), "structure"))
    if node.get("Children") and not activity.composite:
        problems.append(
            activity.problem("", _("This block cannot hold other blocks."), "structure")
        )
    return problems


def _resolves(
    obj: str,
    field: str,
    fields: Mapping[str, Field],
    params: Mapping[str, Field],
    variables: Mapping[str, Field],
    constants: Mapping[str, Field],
    results: Mapping[str, set[str] | None],
) -> bool:
    obj_l, field_l = obj.lower(), field.lower()
    pools = {
        "document": fields,
        "template": {**params, "TargetUser": None},
        "variable": variables,
        "constant": constants,
    }
    if obj_l in pools:
        return any(code.lower() == field_l for code in pools[obj_l])
    if obj_l in SYSTEM_FIELDS:
        return field_l in SYSTEM_FIELDS[obj_l]
    if obj_l in results:
        known = results[obj_l]
        return known is None or field_l in known
    return False


def block_problems(
    *,
    node: Node,
    document_type: DocumentType,
    parameters: Mapping[str, Any],
    variables: Mapping[str, Any],
    constants: Mapping[str, Any],
    complete: bool = False,
) -> list[Problem]:
    """What an edit of one block may not save: wrong types, unknown keys, broken expressions,
    and — for a block saved from its dialog (``complete``) — required values left empty.

    A block just inserted or imported may miss required values (its dialog asks for them), and
    references to values that do not exist yet are allowed in a draft: publication reports them.
    """

    def check_syntax(text: str) -> list[str]:
        try:
            references(text)
        except ExpressionError as error:
            return [str(error)]
        return []

    ctx = ValidationContext(
        document_fields=document_fields(document_type),
        parameters=schema_fields(parameters),
        variables=schema_fields(variables),
        constants=schema_fields(constants),
        check_text=check_syntax,
        target_parameters=template_parameters,
        document_type=document_type,
        global_variables=global_variables_of(document_type),
    )
    allowed = {"structure"} if complete else {"required", "structure"}
    return [
        problem
        for problem in activities.for_node(node).validate_properties(ctx)
        if problem.code not in allowed
    ]


def template_warnings(*, tree: Node, document_type: DocumentType) -> list[Problem]:
    """Every block's warnings: allowed, but probably not what the designer meant."""
    return [
        warning
        for node, _parent in walk_with_parents(tree)
        for warning in block_warnings(node=node, document_type=document_type)
    ]


def block_warnings(*, node: Node, document_type: DocumentType) -> list[Problem]:
    ctx = ValidationContext(
        document_fields={},
        parameters={},
        variables={},
        constants={},
        check_text=lambda _text: [],
        document_type=document_type,
    )
    return activities.for_node(node).warnings(ctx)
