"""Typed process values in JSON columns: dates and date-times are tagged so they come back
as the same types (``{"$date": "2026-01-31"}``, ``{"$datetime": "2026-01-31T10:00:00+00:00"}``)."""

import datetime
from typing import Any


def encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$datetime" in value:
            return datetime.datetime.fromisoformat(value["$datetime"])
        if len(value) == 1 and "$date" in value:
            return datetime.date.fromisoformat(value["$date"])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value
