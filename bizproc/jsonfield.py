"""JSON kept as text, so the order of object keys survives the database.

Bitrix's trees and schemas are PHP arrays, whose key order is meaningful (the order of
variables, of fields to set, of properties in an export). PostgreSQL's ``jsonb`` sorts keys,
so Django's JSONField would lose that order there; text keeps it on every database.

orjson reads and writes it: a 200-block tree is read or written several times an edit, and the
standard library took an eighth of the editor's time doing so. What orjson refuses (integers
past 64 bits, text that is not JSON, types the standard library refuses too) goes to the
standard library, which decides as it always did; NaN and infinities, which the standard
library wrote as tokens that are not JSON, are written as null.
"""

import json
from typing import TYPE_CHECKING, Any

import orjson
from django import forms
from django.core.exceptions import ValidationError
from django.db import models

# Keys as json.dumps writes them; datetimes and dataclasses refused as json.dumps refuses them.
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def json_loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def json_dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False)


JSONObject = dict[str, Any]

if TYPE_CHECKING:
    # django-stubs reads a field's two parameters as the types set on and read from a model's
    # attribute; Django's fields take no parameters at run time.
    _JSONObjectText = models.TextField[JSONObject, JSONObject]
else:
    _JSONObjectText = models.TextField


class OrderedJSONField(_JSONObjectText):
    """A JSON object (a Bitrix array with string keys) kept as text."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else json_loads(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json_loads(value)
            except json.JSONDecodeError as error:
                raise ValidationError(str(error), code="invalid") from None
        return value

    def get_prep_value(self, value: Any) -> str | None:
        return None if value is None else json_dumps(value)

    def value_to_string(self, obj: models.Model) -> str:
        return self.get_prep_value(self.value_from_object(obj)) or ""

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})
