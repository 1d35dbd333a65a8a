"""Start parameters typed by their schema: the one conversion behind starting a process (by a
person, REST or a parent process) and queuing a smart scenario run (by a person, REST or the
Start smart scenario block).

The callers differ only in wording and in how they report a refusal: a process names the
field and refuses IDs its template lacks, a scenario says the parameter is empty (Bitrix's
wording), the block reports the first problem only, the start forms put each message by its
field. So ``convert`` takes the wording and raises ``ParametersRefused`` for each to adapt.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from bizproc.fieldtypes import FieldValueError
from bizproc.schemas import schema_fields


class ParametersRefused(Exception):
    """Values that do not fit the schema: ``errors`` holds one message per parameter ID (IDs
    the schema lacks first, then the schema's order), ``message`` all of them in one line."""

    def __init__(self, errors: Mapping[Any, str]) -> None:
        self.errors = dict(errors)
        self.message = " ".join(self.errors.values())
        super().__init__(self.message)


def convert(
    schema: Mapping[str, Any],
    raw: Mapping[str, Any],
    *,
    required_message: str,
    unknown_message: str | None = None,
) -> dict[str, Any]:
    """The typed value of every parameter of ``schema``: the raw one, else its default.

    ``required_message`` (with ``%(name)s``) words a required parameter left empty; with
    ``unknown_message`` (``%(name)s`` is the ID) values for IDs the schema lacks are refused,
    without it they are ignored. Every problem is collected before ``ParametersRefused``.
    """
    fields = schema_fields(schema)
    errors: dict[Any, str] = {}
    if unknown_message is not None:
        for key in raw:
            if key not in fields:
                errors[key] = unknown_message % {"name": str(key)[:100]}
    typed = {}
    for code, field in fields.items():
        value = raw.get(code, schema[code].get("Default"))
        # An empty required value is the caller's to word, not the field's.
        optional = dataclasses.replace(field, required=False) if field.required else field
        try:
            converted = optional.convert(value)
        except FieldValueError as error:
            errors[code] = error.message
            continue
        if field.required and converted in (None, "", []):
            errors[code] = required_message % {"name": field.name}
            continue
        typed[code] = converted
    if errors:
        raise ParametersRefused(errors)
    return typed
