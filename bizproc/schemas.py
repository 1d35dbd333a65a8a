"""Typed schemas of template parameters, variables and constants.

Bitrix's shape: ``{Id: {"Name", "Description", "Type", "Required", "Multiple", "Options",
"Default"}}`` with flags as ``"0"``/``"1"`` (or ``"Y"``/``"N"``). Ids are identifiers because
expressions name them (``{=Variable:Id}``).
"""

import re
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from bizproc.activities.base import has_expression, is_empty
from bizproc.fieldtypes import (
    UF_TYPES,
    Field,
    FieldType,
    FieldValueError,
    base_type,
    user_id_of,
)

ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def flag(value: Any) -> bool:
    return str(value).strip().upper() in {"1", "Y", "TRUE", "YES"}


def options_of(entry: Mapping[str, Any]) -> dict[str, str]:
    options = entry.get("Options") or {}
    if isinstance(options, list):
        return {str(item): str(item) for item in options}
    if isinstance(options, dict):
        return {str(key): str(label) for key, label in options.items()}
    return {}


def schema_fields(schema: Mapping[str, Any]) -> dict[str, Field]:
    fields = {}
    for code, entry in (schema or {}).items():
        if not isinstance(entry, Mapping):
            continue
        fields[str(code)] = Field(
            code=str(code),
            name=str(entry.get("Name") or code),
            type=base_type(str(entry.get("Type") or FieldType.STRING)),
            required=flag(entry.get("Required", "0")),
            multiple=flag(entry.get("Multiple", "0")),
            options=options_of(entry),
            user_groups=True,  # a user parameter or variable may hold ``author``, a group …
        )
    return fields


def schema_problems(schema: Any) -> list[str]:
    """What is wrong with a schema, one message each, in the active language."""
    if not isinstance(schema, Mapping):
        return [_("The list of fields is damaged.")]
    problems = []
    seen: set[str] = set()
    for code, entry in schema.items():
        code = str(code)
        if not ID_RE.fullmatch(code):
            problems.append(
                _("'%(id)s' is not a valid ID: use Latin letters, digits and _.") % {"id": code}
            )
            continue
        if code.lower() in seen:
            problems.append(_("The ID '%(id)s' is used twice.") % {"id": code})
            continue
        seen.add(code.lower())
        if not isinstance(entry, Mapping):
            problems.append(_("The field '%(id)s' is damaged.") % {"id": code})
            continue
        name = str(entry.get("Name") or "").strip()
        if not name:
            problems.append(_("The field '%(id)s' needs a name.") % {"id": code})
        type_ = entry.get("Type")
        if type_ not in FieldType.values and type_ not in UF_TYPES:
            problems.append(
                _("The field '%(name)s' has an unknown type: %(type)s")
                % {"name": name or code, "type": type_}
            )
            continue
        if type_ == FieldType.SELECT and not options_of(entry):
            problems.append(_("The list field '%(name)s' needs options.") % {"name": name or code})
            continue
        default = entry.get("Default")
        if type_ == FieldType.USER:
            # Users named by id are checked by ``schema_warnings``: a template brought from
            # elsewhere names people who do not exist here (yet).
            default = _without_user_ids(default)
        if (
            is_empty(default)
            or (isinstance(default, str) and has_expression(default))
            or type_ in (FieldType.FILE, FieldType.INTERNALSELECT)
        ):
            continue
        try:
            schema_fields({code: entry})[code].convert(default)
        except FieldValueError as error:
            problems.append(_("Default value: %(message)s") % {"message": error.message})
    return problems


def _user_ids(default: Any) -> list[str]:
    items = default if isinstance(default, list) else [default]
    return [
        str(item).strip()
        for item in items
        if isinstance(item, str | int) and user_id_of(str(item).strip()) is not None
    ]


def _without_user_ids(default: Any) -> Any:
    if not isinstance(default, list):
        return None if _user_ids(default) else default
    return [item for item in default if not _user_ids(item)]


def schema_warnings(schema: Any) -> list[str]:
    """The users a schema's defaults name that do not exist here or are inactive: the
    template is kept, and the defaults wait to be set (Bitrix's constants too are set after
    an import)."""
    if not isinstance(schema, Mapping):
        return []
    named: list[tuple[str, str]] = []
    for code, entry in schema.items():
        if isinstance(entry, Mapping) and entry.get("Type") == FieldType.USER:
            name = str(entry.get("Name") or code)
            named.extend((name, value) for value in _user_ids(entry.get("Default")))
    if not named:
        return []
    ids = {user_id_of(value) or 0 for _name, value in named}
    active = set(
        get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True)
    )
    return [
        _(
            "The default value of '%(name)s' names user %(user)s, who does not exist here or is "
            "inactive."
        )
        % {"name": name, "user": value}
        for name, value in named
        if user_id_of(value) not in active
    ]
