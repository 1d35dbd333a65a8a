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
    """Bytes ``value`` takes as stored JSON (as ``jsonfield.json_dumps`` writes it, in UTF-8).

    A list holding one long text a thousand times is small in memory but huge once written,
    so it must not be written out to be measured: a walk first adds up a lower bound (a text
    takes at least its length, a value at least a byte) and returns it as soon as it passes
    ``limit``; only a value that may fit is written out and measured exactly."""
    bound = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            bound += len(item) + 2
        elif isinstance(item, dict):
            bound += 1 + 2 * len(item)  # braces, a colon per entry, commas between entries
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            bound += 1 + len(item)
            pending.extend(item)
        else:
            bound += 1
        if bound > limit:
            return bound
    return len(json_dumps(value).encode())
