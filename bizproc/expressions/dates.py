"""Dates in expressions: reading them, PHP's ``date()`` letters, Bitrix's ``dateadd`` intervals
and PHP's ``DateInterval::format`` codes for ``datediff``.

Wall-clock work (formatting, adding days or months, differences) happens in the active Django
time zone, as Bitrix does it in the user's. Adding months clamps to the month's last day
(Jan 31 + 1 month = Feb 28/29) instead of PHP's overflow into March.
"""

import calendar
import datetime
import email.utils
import re
from collections.abc import Callable
from typing import Any

from django.utils import dates as date_names
from django.utils import timezone

from .errors import Mismatch

_DOTTED = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def parse_moment(text: str) -> datetime.date | datetime.datetime | None:
    """ISO dates and date-times, or Bitrix's Russian ``DD.MM.YYYY[ HH:MM[:SS]]``."""
    text = text.strip()
    if not text or len(text) > 40:
        return None
    for parse in (datetime.date.fromisoformat, datetime.datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            pass
    for pattern in _DOTTED:
        try:
            moment = datetime.datetime.strptime(text, pattern)
        except ValueError:
            continue
        return moment.date() if pattern == "%d.%m.%Y" else moment
    return None


def to_datetime(moment: datetime.date) -> datetime.datetime:
    """An aware date-time; a date is midnight and naive times are in the active time zone."""
    if not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.combine(moment, datetime.time())
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def as_calendar(value: Any) -> datetime.date:
    """A date or aware date-time from a date, a date string or a Unix timestamp."""
    if isinstance(value, datetime.datetime):
        return to_datetime(value)
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.datetime.fromtimestamp(value, datetime.UTC)
        except (OverflowError, OSError, ValueError):
            raise Mismatch from None
    moment = parse_moment(value) if isinstance(value, str) else None
    if moment is None:
        raise Mismatch
    return to_datetime(moment) if isinstance(moment, datetime.datetime) else moment


def as_moment(value: Any) -> datetime.datetime:
    return to_datetime(as_calendar(value))


class ZonedDateTime(datetime.datetime):
    """A moment shown on its own zone's wall clock rather than the active zone's: what
    ``touserdate`` gives, as Bitrix's date-time value that carries a person's offset. Anything
    computed from it (adding days, comparing) is a plain moment again."""


def zoned(moment: datetime.datetime, zone: datetime.tzinfo) -> ZonedDateTime:
    return ZonedDateTime.fromtimestamp(moment.timestamp(), zone)


def _local(moment: datetime.date) -> datetime.datetime:
    """The wall clock of ``moment``: its own zone's for a ``ZonedDateTime``, else the active
    zone's."""
    if isinstance(moment, ZonedDateTime):
        return moment
    return timezone.localtime(to_datetime(moment))


wall_clock = _local


# date(format, value) --------------------------------------------------------------------

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def _ordinal_suffix(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _offset(moment: datetime.datetime, separator: str) -> str:
    # php_date formats a local time (``_local``): aware, its offset never None.
    minutes = int(moment.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{separator}{minutes:02d}"


_LETTERS: dict[str, Callable[[datetime.datetime], Any]] = {
    "d": lambda m: f"{m.day:02d}",
    "D": lambda m: _DAYS[m.weekday()][:3],
    "j": lambda m: m.day,
    "l": lambda m: _DAYS[m.weekday()],
    "N": lambda m: m.isoweekday(),
    "S": lambda m: _ordinal_suffix(m.day),
    "w": lambda m: m.isoweekday() % 7,
    "z": lambda m: m.timetuple().tm_yday - 1,
    "W": lambda m: f"{m.isocalendar().week:02d}",
    "F": lambda m: _MONTHS[m.month - 1],
    "m": lambda m: f"{m.month:02d}",
    "M": lambda m: _MONTHS[m.month - 1][:3],
    "n": lambda m: m.month,
    "t": lambda m: calendar.monthrange(m.year, m.month)[1],
    "L": lambda m: int(calendar.isleap(m.year)),
    "o": lambda m: m.isocalendar().year,
    "Y": lambda m: f"{m.year:04d}",
    "y": lambda m: f"{m.year % 100:02d}",
    "a": lambda m: "am" if m.hour < 12 else "pm",
    "A": lambda m: "AM" if m.hour < 12 else "PM",
    "g": lambda m: (m.hour - 1) % 12 + 1,
    "G": lambda m: m.hour,
    "h": lambda m: f"{(m.hour - 1) % 12 + 1:02d}",
    "H": lambda m: f"{m.hour:02d}",
    "i": lambda m: f"{m.minute:02d}",
    "s": lambda m: f"{m.second:02d}",
    "u": lambda m: f"{m.microsecond:06d}",
    "v": lambda m: f"{m.microsecond // 1000:03d}",
    "e": lambda m: str(m.tzinfo),
    "T": lambda m: m.tzname(),
    "P": lambda m: _offset(m, ":"),
    "O": lambda m: _offset(m, ""),
    "c": lambda m: m.isoformat(timespec="seconds"),
    "r": lambda m: email.utils.format_datetime(m),
    "U": lambda m: int(m.timestamp()),
}


def _localized_letters() -> dict[str, Callable[[datetime.datetime], Any]]:
    """Names in the active language (Django's own translations of them): ``locdate``."""

    def short_month(m: datetime.datetime) -> str:
        name = str(date_names.MONTHS_3[m.month])
        return name[:1].upper() + name[1:]

    def rfc(m: datetime.datetime) -> str:
        day = str(date_names.WEEKDAYS_ABBR[m.weekday()])
        return f"{day}, {m.day:02d} {short_month(m)} {m:%Y %H:%M:%S} {_offset(m, '')}"

    return {
        "D": lambda m: date_names.WEEKDAYS_ABBR[m.weekday()],
        "l": lambda m: date_names.WEEKDAYS[m.weekday()],
        "F": lambda m: date_names.MONTHS[m.month],
        "M": short_month,
        "r": rfc,
    }


_GENITIVE_BEFORE = ("j ", "d ", "jS ")
"""Bitrix's ``locdate`` writes the month after a day number ("j F") in the genitive case, as
Russian wants ("15 марта")."""


def php_date(pattern: str, value: Any, *, localized: bool = False) -> str:
    """PHP ``date()``: letters above are replaced, ``\\x`` is a literal x, the rest is kept.
    ``localized`` gives day and month names in the active language (Bitrix's ``locdate``)."""
    if len(pattern) > 1000:
        raise Mismatch
    moment = _local(as_calendar(value))
    letters = _LETTERS | _localized_letters() if localized else _LETTERS
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index + 1 : index + 2])
            index += 2
            continue
        if localized and char == "F" and pattern[:index].endswith(_GENITIVE_BEFORE):
            out.append(str(date_names.MONTHS_ALT[moment.month]))
        elif letter := letters.get(char):
            out.append(str(letter(moment)))
        else:
            out.append(char)
        index += 1
    return "".join(out)


# dateadd(date, interval) ----------------------------------------------------------------

_UNITS = {
    **dict.fromkeys(("y", "year", "years"), "years"),
    **dict.fromkeys(("m", "month", "months"), "months"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("h", "hour", "hours"), "hours"),
    **dict.fromkeys(("i", "min", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("s", "sec", "second", "seconds"), "seconds"),
}
_PART = re.compile(r"\s*(\d{1,9})\s*([A-Za-z]+)\s*,?", re.ASCII)


def _add_months[D: datetime.date](moment: D, months: int) -> D:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        raise Mismatch
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _interval(text: str) -> dict[str, int]:
    """Bitrix's intervals: "1y 2m 3d 4h 5i 6s", "2 days 3 minutes", "-1d" (the sign is for
    the whole interval, "m" is months and "i" minutes). Unlike Bitrix, unknown units and stray
    text are errors instead of being skipped."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    position = 1 if text[:1] in ("+", "-") else 0
    amounts = dict.fromkeys(("years", "months", "days", "hours", "minutes", "seconds"), 0)
    while position < len(text):
        part = _PART.match(text, position)
        unit = _UNITS.get(part[2].lower()) if part else None
        if part is None or unit is None:
            raise Mismatch
        amounts[unit] += sign * int(part[1])
        position = part.end()
    return amounts


def date_add(value: Any, interval: Any) -> datetime.date | None:
    """A date stays a date when only years, months and days are added. Years, months and days
    move the wall clock (same local time); hours, minutes and seconds move real time."""
    if value is None or value == "":
        return None
    moment = as_calendar(value)
    if interval is None or interval == "":
        return moment
    if not isinstance(interval, str):
        raise Mismatch
    amounts = _interval(interval)
    try:
        clock = datetime.timedelta(
            hours=amounts["hours"], minutes=amounts["minutes"], seconds=amounts["seconds"]
        )
        if not clock and not isinstance(moment, datetime.datetime):
            shifted = _add_months(moment, amounts["years"] * 12 + amounts["months"])
            return shifted + datetime.timedelta(days=amounts["days"])
        local = _add_months(_local(moment), amounts["years"] * 12 + amounts["months"])
        local += datetime.timedelta(days=amounts["days"])
        return timezone.localtime(local.astimezone(datetime.UTC) + clock)
    except OverflowError:
        raise Mismatch from None


# datediff(first, second, format) --------------------------------------------------------


def date_diff(first: Any, second: Any, pattern: Any) -> str | None:
    """PHP ``$first->diff($second)->format($pattern)``: %y %m %d %h %i %s (%Y %M %D %H %I %S
    zero-padded), %a total days, %R sign (+/-), %r sign (- or nothing), %% a percent sign."""
    if first in (None, "") or second in (None, ""):
        return None
    if not isinstance(pattern, str) or len(pattern) > 1000:
        raise Mismatch
    start, end = (_local(as_calendar(v)).replace(tzinfo=None) for v in (first, second))
    negative = start > end
    if negative:
        start, end = end, start
    months = (end.year - start.year) * 12 + end.month - start.month
    if _add_months(start, months) > end:
        months -= 1
    rest = end - _add_months(start, months)
    hours, seconds = divmod(rest.seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    fields = {
        "y": months // 12, "m": months % 12, "d": rest.days,
        "h": hours, "i": minutes, "s": seconds,
    }  # fmt: skip
    codes = {key: str(number) for key, number in fields.items()}
    codes |= {key.upper(): f"{number:02d}" for key, number in fields.items()}
    codes |= {
        "a": str((end - start).days),
        "R": "-" if negative else "+",
        "r": "-" if negative else "",
        "%": "%",
    }
    return re.sub(r"%(.)", lambda m: codes.get(m[1], m[0]), pattern, flags=re.DOTALL)
