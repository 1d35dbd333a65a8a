"""The bounds of what a request or a process may name: integers a database column holds, and
moments a ``datetime`` holds in every time zone.

Python's integers have no limit and its dates stop at the years 1 and 9999: a 20-digit id, an
offset of 2**64, midnight of 1 January of the year 1 in Moscow (which is the year 0 in UTC) or
a pause ending after the year 9999 each fail deep inside the database adapter or ``astimezone``
as a server error. The pages' query parameters, the sockets', REST's ids, offsets and dates,
typed date-time values and the moments waits end at are read through here, so that such a
value is refused where it comes in, with a message, before anything is built from it.
"""

import datetime
import re
from typing import Any

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy

# Ids are BigAutoField; every integer column fits in a signed 64-bit integer.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# A day off each end of Python's calendar: no time zone is a whole day away from UTC, so every
# moment from the first to the last of these days exists in UTC and in every local time.
FIRST_DAY, LAST_DAY = datetime.date(1, 1, 2), datetime.date(9999, 12, 30)
EARLIEST = datetime.datetime.combine(FIRST_DAY, datetime.time.min, datetime.UTC)
LATEST = datetime.datetime.combine(LAST_DAY, datetime.time.max, datetime.UTC)

_INT_RE = re.compile(r"[+-]?[0-9]+")


def bounded_int(raw: Any, *, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int | None:
    """The integer ``raw`` spells (ASCII digits, a sign), if it lies within the bounds."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _INT_RE.fullmatch(text := raw.strip()) and len(text) <= 20:
        value = int(text)
    else:
        return None
    return value if minimum <= value <= maximum else None


def cursor_param(data: QueryDict, name: str) -> int | None:
    """A paging cursor (a row id the page itself wrote into a link): absent is None; one no
    page could have written is a 400."""
    raw = data.get(name, "")
    if raw == "":
        return None
    value = bounded_int(raw, minimum=0)
    if value is None:
        # Django's 400 page shows no exception text: this one is for the log.
        raise BadRequest(f"Query parameter {name!r} is not a row id: {raw[:50]!r}")
    return value


def in_range(moment: datetime.datetime) -> bool:
    """Whether ``moment`` (naive: in the active time zone) lies between EARLIEST and LATEST."""
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return EARLIEST <= moment <= LATEST
    except OverflowError:
        return False


def moment_param(raw: str) -> datetime.datetime | None:
    """An ISO 8601 moment within the bounds (naive: in the active time zone), else None."""
    try:
        moment = parse_datetime(raw)
    except ValueError:  # well formed, but no such day or hour
        return None
    if moment is None or not in_range(moment):
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def localtime(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in the active time zone; as it is when that would fall beyond the calendar
    (a wait until 31 December 9999 seen from Moscow), rather than an error on a page."""
    try:
        return timezone.localtime(moment)
    except OverflowError:
        return moment


class DayField(forms.DateField):
    """A date whose day, and the day after it, start at a moment every time zone can hold."""

    default_error_messages = {
        "out_of_range": gettext_lazy("Enter a date from %(first)s to %(last)s.")
    }
    widget = forms.DateInput(attrs={"type": "date"})

    def validate(self, value: datetime.date | None) -> None:
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={
                    "first": formats.date_format(FIRST_DAY, "SHORT_DATE_FORMAT"),
                    "last": formats.date_format(LAST_DAY, "SHORT_DATE_FORMAT"),
                },
            )
