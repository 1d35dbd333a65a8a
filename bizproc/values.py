"""Typed process values in JSON columns: dates and date-times are tagged so they come back
as the same types (``{"$date": "2026-01-31"}``, ``{"$datetime": "2026-01-31T10:00:00+00:00"}``)."""

import datetime
from typing import Any

from bizproc.jsonfield import json_dumps


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


def stored_size(value: Any, *, limit: int) -> int:
    """Bytes ``value`` takes as stored JSON (as ``jsonfield.json_dumps`` writes it, in UTF-8),
    counted item by item and given up as soon as it passes ``limit``: a list holding one long
    text a thousand times is small in memory but huge once written, and must not be written
    out to be measured. Past ``limit`` the figure is only known to be larger."""
    size = 0
    pending = [value]
    while pending and size <= limit:
        item = pending.pop()
        if isinstance(item, dict):
            # Braces, a colon per entry, commas between entries; then keys and values.
            size += 2 + len(item) + max(len(item) - 1, 0)
            pending.extend(str(key) for key in item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            size += 2 + max(len(item) - 1, 0)
            pending.extend(item)
        else:
            size += len(json_dumps(item).encode())
    return size
