"""Where references get their values: the ``Scope`` protocol and a mapping-backed scope."""

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, Protocol

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .dates import wall_clock
from .environment import Environment
from .values import as_text, joined


class Scope(Protocol):
    """What the interpreter asks about ``{=Obj:Field}``. Names arrive as written in the source
    (they are case-insensitive) with ``_printable`` already removed from the field."""

    def lookup(self, obj: str, field: str) -> Any:
        """The typed value; raises ``LookupError`` for an unknown object or field."""
        ...

    def printable(self, obj: str, field: str, value: Any) -> str:
        """The display form of ``value`` (a user's name, an option's label…)."""
        ...

    def environment(self) -> Environment:
        """What functions such as ``date`` or ``workdateadd`` need: the clock (``System:Now``),
        the working calendar, people's time zones and details."""
        ...


def system_values(now: datetime.datetime) -> dict[str, Any]:
    """``System:Now`` (UTC), ``NowLocal`` and ``Date`` (the active time zone) for ``now``."""
    return {
        "Now": now.astimezone(datetime.UTC),
        "NowLocal": timezone.localtime(now),
        "Date": timezone.localdate(now),
    }


def display_text(value: Any) -> str:
    """A generic display form: Yes/No, dates in the active language's short formats (in the
    active time zone), lists joined with ", ", anything else as substituted into text.
    Raises ``ExpressionError`` when the text would be too long."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(wall_clock(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, list | tuple):
        return joined(", ", (display_text(item) for item in value))
    return as_text(value)


def _fold(mapping: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        obj.lower(): {field.lower(): value for field, value in fields.items()}
        for obj, fields in mapping.items()
    }


class MappingScope:
    """A scope over ``{object: {field: value}}`` (case-insensitive names).

    ``labels`` gives display forms (``{"Document": {"ASSIGNED_BY_ID": "Ivan Petrov"}}``); a
    value without one is shown by ``display_text``. ``System`` fields not given in ``values``
    come from ``now`` (the current time when None), which makes time injectable in tests.
    ``environment`` gives the functions' surroundings; its clock is ``System:Now``.
    """

    def __init__(
        self,
        values: Mapping[str, Mapping[str, Any]],
        *,
        labels: Mapping[str, Mapping[str, str]] | None = None,
        now: datetime.datetime | None = None,
        environment: Environment | None = None,
    ) -> None:
        self._values = _fold(values)
        self._labels = _fold(labels or {})
        self._now = now
        self._environment = environment or Environment()

    def lookup(self, obj: str, field: str) -> Any:
        fields = self._values.get(obj.lower(), {})
        if field.lower() in fields:
            return fields[field.lower()]
        if obj.lower() == "system":
            system = system_values(self._now or timezone.now())
            for name, value in system.items():
                if name.lower() == field.lower():
                    return value
        raise LookupError(f"{obj}:{field}")

    def printable(self, obj: str, field: str, value: Any) -> str:
        label = self._labels.get(obj.lower(), {}).get(field.lower())
        return display_text(value) if label is None else label

    def environment(self) -> Environment:
        return dataclasses.replace(self._environment, now=lambda: self.lookup("System", "Now"))
