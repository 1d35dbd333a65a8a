"""Global constants and variables: company-wide values processes read (``{=GlobalConst:Id}``,
``{=GlobalVar:Id}``) and, for variables, write (Set global variable).

Rights follow the issue and Bitrix: administrators (superusers, or holders of the
``bizproc.change_globalfield`` permission) define and change them; whoever may design processes
of some document type reads them, and sees only those visible to the types they design.
A process may write a global variable visible to its document type: the template's publisher
could read it, and changing variables is what processes are for.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from bizproc.documents import DocumentType, caption_of, document_providers
from bizproc.fieldtypes import FieldValueError, base_type
from bizproc.models import GLOBAL_VISIBILITY, GlobalField, GlobalKind
from bizproc.schemas import ID_RE, schema_fields, schema_problems
from bizproc.scope import scope_of
from bizproc.usages import FieldUsage, template_usages

MANAGE_PERMISSION = "bizproc.change_globalfield"
MAX_NAME = 255
MAX_DESCRIPTION = 2000
# The most characters a global's value holds (all its values together): every step of every
# process that sees the global reads it, and a text column in Bitrix holds as much.
MAX_VALUE = 65_535


class GlobalRefused(Exception):
    """A change the person may not make, or one that would break processes: ``errors`` maps a
    form field (``""`` for the whole) to its message; ``usages`` names the processes."""

    def __init__(
        self,
        message: str,
        errors: Mapping[str, str] | None = None,
        usages: list[FieldUsage] | None = None,
    ) -> None:
        self.message = message
        self.errors = dict(errors or {"": message})
        self.usages = usages or []
        super().__init__(message)


def globals_manageable(user: Any) -> bool:
    """Whether ``user`` may define, change and delete globals."""
    return bool(getattr(user, "is_active", False) and user.has_perm(MANAGE_PERMISSION))


def readable_visibilities(user: Any) -> frozenset[str] | None:
    """The visibilities of the globals ``user`` may read (None: all of them): administrators
    read every global, designers those visible to a document type they design."""
    if globals_manageable(user):
        return None
    types = scope_of(user).document_types
    if types is None:
        return None
    return frozenset(key for document_type in types for key in visibility_keys(document_type))


def globals_readable(user: Any) -> bool:
    visible = readable_visibilities(user)
    return visible is None or bool(visible)


def visibility_keys(document_type: DocumentType) -> tuple[str, str, str]:
    """Bitrix's visibilities a process of ``document_type`` sees: every process's, its
    module's, its own type's (``GLOBAL``, ``CRM``, ``CRM_DEAL``)."""
    module = document_type.module.upper()
    return (GLOBAL_VISIBILITY, module, f"{module}_{document_type.type.upper()}")


def visibility_choices() -> list[tuple[str, str]]:
    """Every visibility a global may have, with its caption: all processes, each module's,
    each document type's."""
    choices = [(GLOBAL_VISIBILITY, _("All processes"))]
    for provider in document_providers.all():
        types = list(provider.document_types())
        if not types:
            continue
        module = types[0][0].upper()
        choices.append((module, _("All processes of %(module)s") % {"module": module}))
        choices.extend(
            (visibility_keys(DocumentType(*known))[2], str(caption_of(known, plural=True)))
            for known in types
        )
    return choices


def visibility_caption(visibility: str) -> str:
    return dict(visibility_choices()).get(visibility, visibility)


def globals_visible(
    *, kind: GlobalKind | str, document_type: DocumentType | None
) -> dict[str, GlobalField]:
    """The globals of ``kind`` a process of ``document_type`` sees, by ID (every one when
    ``document_type`` is None)."""
    rows = GlobalField.objects.filter(kind=kind)
    if document_type is not None:
        rows = rows.filter(visibility__in=visibility_keys(document_type))
    return {row.code: row for row in rows.order_by("code")}


def globals_schema(
    *, kind: GlobalKind | str, document_type: DocumentType | None
) -> dict[str, dict[str, Any]]:
    """The visible globals' definitions in the parameter shape (``{Id: {Name, Type …}}``)."""
    return {
        code: dict(row.definition)
        for code, row in globals_visible(kind=kind, document_type=document_type).items()
    }


def globals_values(*, kind: GlobalKind | str, document_type: DocumentType) -> dict[str, Any]:
    """The typed values a process of ``document_type`` reads; a value that no longer fits its
    type is read as stored."""
    schema = globals_schema(kind=kind, document_type=document_type)
    values = {}
    for code, field in schema_fields(schema).items():
        try:
            values[code] = field.convert(schema[code].get("Default"))
        except FieldValueError:
            values[code] = schema[code].get("Default")
    return values


def global_usages(*, kind: GlobalKind | str, code: str) -> list[FieldUsage]:
    """The templates whose draft or latest version names the global: ``{=GlobalVar:Id}`` in
    any letter case, or (for a variable) the ID as a key Set global variable writes."""
    word = rf"{re.escape(code)}(?![A-Za-z0-9_])"
    pattern = rf"\{{=\s*{kind}\s*:\s*{word}"
    if kind == GlobalKind.VARIABLE:
        # Only a key of Set global variable's map: a template's own variable, or a key Set
        # variables writes, may well have the same ID (``Variable1``) and is no use of it.
        pattern += rf'|"GlobalVariableValue"\s*:\s*\{{(?:\s*{_STRING}\s*:\s*{_VALUE}\s*,)*'
        pattern += rf'\s*"{re.escape(code)}"\s*:'
    return template_usages(pattern=re.compile(pattern, re.IGNORECASE))


# JSON as ``json.dumps`` writes a map's values: a string, a list (of strings, numbers or
# reference pairs) or a scalar; for ``global_usages`` to read a map's keys and nothing else.
_STRING = r'"(?:[^"\\]|\\.)*"'
_VALUE = (
    rf"(?:{_STRING}|\[(?:{_STRING}|\[(?:{_STRING}|[^\[\]\"])*\]|[^\[\]\"])*\]"
    r'|[^,{}\[\]"\s][^,{}\[\]"]*)'
)


def _next_code(kind: str) -> str:
    prefix = "Constant" if kind == GlobalKind.CONSTANT else "Variable"
    numbers = [
        int(code[len(prefix) :])
        for code in GlobalField.objects.filter(kind=kind, code__startswith=prefix).values_list(
            "code", flat=True
        )
        if code[len(prefix) :].isdigit() and len(code) - len(prefix) < 18
    ]
    return f"{prefix}{max(numbers, default=0) + 1}"


def _definition(
    *,
    name: str,
    description: str,
    type: str,
    multiple: bool,
    required: bool,
    options: Mapping[str, str] | None,
    value: Any,
) -> dict[str, Any]:
    return {
        "Name": name.strip(),
        "Description": description.strip(),
        "Type": type,
        "Required": "1" if required else "0",
        "Multiple": "1" if multiple else "0",
        "Options": dict(options or {}),
        "Default": value,
    }


def _problems(code: str, definition: dict[str, Any], visibility: str) -> dict[str, str]:
    """What refuses the global; its value in ``definition`` becomes the typed one otherwise."""
    errors: dict[str, str] = {}
    if not ID_RE.fullmatch(code):
        errors["code"] = _("Use Latin letters, digits and _ for the ID, starting with a letter.")
    if not definition["Name"]:
        errors["name"] = _("Give the global a name.")
    elif len(definition["Name"]) > MAX_NAME:
        errors["name"] = _("The name is longer than %(limit)d characters.") % {"limit": MAX_NAME}
    if len(definition["Description"]) > MAX_DESCRIPTION:
        errors["description"] = _("The description is longer than %(limit)d characters.") % {
            "limit": MAX_DESCRIPTION
        }
    if visibility not in dict(visibility_choices()):
        errors["visibility"] = _("Choose who sees the global.")
    if not errors.get("code"):
        # The type and its options; a missing name is told above, next to the name, and the
        # value is converted below, its message without the "Default value:" a template's
        # schema puts before it.
        without_value = {key: item for key, item in definition.items() if key != "Default"} | {
            "Name": definition["Name"] or code
        }
        for message in schema_problems({code: without_value}):
            errors.setdefault("type", message)
    if "value" not in errors and "type" not in errors:
        field = schema_fields({code: definition})[code]
        try:
            converted = field.convert(definition["Default"])
        except FieldValueError as error:
            errors["value"] = error.message
        else:
            if too_long := _too_long(field.name, converted):
                errors["value"] = too_long
            else:
                # Kept typed, as Set global variable keeps it: a date and time as the moment
                # its author meant, whatever time zone a process reads it in later.
                definition["Default"] = _stored(converted)
    return errors


def _size(value: Any) -> int:
    if isinstance(value, list):
        return sum(_size(item) for item in value)
    return len(str(value)) if value is not None else 0


def _too_long(name: str, value: Any) -> str:
    """A message when the typed ``value`` is past ``MAX_VALUE`` characters, else ``""``."""
    if _size(value) <= MAX_VALUE:
        return ""
    return _("The value of field '%(name)s' is too long: at most %(max)d characters.") % {
        "name": name,
        "max": MAX_VALUE,
    }


@transaction.atomic
def global_save(
    *,
    user: Any,
    kind: GlobalKind | str,
    name: str,
    type: str,
    value: Any,
    description: str = "",
    multiple: bool = False,
    required: bool = False,
    options: Mapping[str, str] | None = None,
    visibility: str = GLOBAL_VISIBILITY,
    code: str = "",
    instance: GlobalField | None = None,
) -> GlobalField:
    """Creates a global (``instance`` None; ``code`` given or ``Constant<n>``/``Variable<n>``)
    or changes one. Its ID and kind never change; its type or visibility do not change while
    processes use it. Raises ``GlobalRefused``."""
    if not globals_manageable(user):
        raise GlobalRefused(_("Only administrators may change global constants and variables."))
    if kind not in GlobalKind.values:
        raise GlobalRefused(_("Unknown kind of global."))
    definition = _definition(
        name=name,
        description=description,
        type=type,
        multiple=multiple,
        required=required,
        options=options,
        value=value,
    )
    if instance is None:
        code = code.strip() or _next_code(kind)
        errors = _problems(code, definition, visibility)
        if not errors and GlobalField.objects.filter(kind=kind, code__iexact=code).exists():
            errors["code"] = _("The ID %(id)s is taken.") % {"id": code}
        if errors:
            raise GlobalRefused(" ".join(errors.values()), errors)
        return GlobalField.objects.create(
            kind=kind,
            code=code,
            definition=definition,
            visibility=visibility,
            created_by=user,
            modified_by=user,
        )
    instance = GlobalField.objects.select_for_update().get(pk=instance.pk)
    errors = _problems(instance.code, definition, visibility)
    if errors:
        raise GlobalRefused(" ".join(errors.values()), errors)
    retyped = base_type(type) != base_type(instance.type) or (
        definition["Multiple"] != instance.definition.get("Multiple", "0")
    )
    narrowed = visibility != instance.visibility and visibility != GLOBAL_VISIBILITY
    if retyped or narrowed:
        usages = global_usages(kind=instance.kind, code=instance.code)
        if usages:
            message = (
                _("Processes use this global, so its type cannot change.")
                if retyped
                else _("Processes use this global, so who sees it cannot narrow.")
            )
            raise GlobalRefused(message, {"type" if retyped else "visibility": message}, usages)
    instance.definition = definition
    instance.visibility = visibility
    instance.modified_by = user
    instance.save()
    return instance


@transaction.atomic
def global_delete(*, user: Any, instance: GlobalField) -> None:
    """Deletes a global no process names; raises ``GlobalRefused`` with the ones that do."""
    if not globals_manageable(user):
        raise GlobalRefused(_("Only administrators may change global constants and variables."))
    usages = global_usages(kind=instance.kind, code=instance.code)
    if usages:
        raise GlobalRefused(_("Processes use this global, so it cannot be deleted."), None, usages)
    instance.delete()


def global_variables_write(
    *, document_type: DocumentType, values: Mapping[str, Any], user: Any | None = None
) -> dict[str, Any]:
    """Sets global variables from a process of ``document_type`` (Set global variable): each
    must be visible to the type, and each value converts as its type says. All or nothing;
    raises ``GlobalRefused`` naming the variable. Returns the typed values written."""
    with transaction.atomic():
        visible = {
            code.lower(): row
            for code, row in globals_visible(
                kind=GlobalKind.VARIABLE, document_type=document_type
            ).items()
        }
        written: dict[str, Any] = {}
        changed: list[GlobalField] = []
        for code, value in values.items():
            row = visible.get(str(code).lower())
            if row is None:
                raise GlobalRefused(_("There is no global variable %(id)s.") % {"id": code})
            locked = GlobalField.objects.select_for_update().get(pk=row.pk)
            field = schema_fields({locked.code: locked.definition})[locked.code]
            try:
                typed = field.convert(value)
            except FieldValueError as error:
                raise GlobalRefused(
                    _("Global variable %(name)s: %(message)s")
                    % {"name": locked.name, "message": error.message}
                ) from None
            if too_long := _too_long(locked.name, typed):
                raise GlobalRefused(
                    _("Global variable %(name)s: %(message)s")
                    % {"name": locked.name, "message": too_long}
                )
            locked.definition = {**locked.definition, "Default": _stored(typed)}
            if user is not None and getattr(user, "pk", None):
                locked.modified_by = user
            changed.append(locked)
            written[locked.code] = typed
        for row in changed:
            row.save()
        return written


def _stored(value: Any) -> Any:
    """A typed value as its definition keeps it (dates as ISO text)."""
    if isinstance(value, list):
        return [_stored(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def missing_globals(
    references: Iterable[tuple[str, str]], *, document_type: DocumentType
) -> list[str]:
    """The ``{=GlobalConst:…}`` / ``{=GlobalVar:…}`` references no visible global answers, as
    written, for import and publication warnings."""
    visible: dict[str, set[str]] = {}
    missing = []
    for obj, field in references:
        kind = next((k for k in GlobalKind.values if k.lower() == obj.lower()), None)
        if kind is None:
            continue
        if kind not in visible:
            visible[kind] = {
                code.lower() for code in globals_visible(kind=kind, document_type=document_type)
            }
        if field.lower() not in visible[kind]:
            missing.append(f"{{={obj}:{field}}}")
    return missing
