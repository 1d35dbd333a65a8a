"""JSON kept as text, so the order of object keys survives the database.

Bitrix's trees and schemas are PHP arrays, whose key order is meaningful (the order of
variables, of fields to set, of properties in an export). PostgreSQL's ``jsonb`` sorts keys,
so Django's JSONField would lose that order there; text keeps it on every database.
"""

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models


class OrderedJSONField(models.TextField):
    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as error:
                raise ValidationError(str(error), code="invalid") from None
        return value

    def get_prep_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def value_to_string(self, obj: models.Model) -> str:
        return self.get_prep_value(self.value_from_object(obj)) or ""

    def formfield(self, **kwargs: Any) -> forms.Field:
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})
