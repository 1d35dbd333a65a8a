"""PHP's ``strtotime`` for the ``strtotime`` formula function: a bounded subset of its formats.

Understood, in any case and combined in any order (as PHP combines them):

* absolute dates: ``2024-03-15``, ``2024/03/15``, ``15.03.2024``, ``03/15/2024`` (American),
  ``15 March 2024``, ``15-Mar-2024``, ``March 15, 2024``, ``March 15``, ``March 2024``,
  ``March``; a date alone is at midnight;
* times: ``10:30``, ``10:30:15``, ``10:30pm``, ``3pm``, ``2024-03-15T10:30:00``, followed by
  an optional zone ``Z``, ``UTC``, ``GMT``, ``+03:00``, ``+0300``;
* ``@1710495000`` (a Unix timestamp, in UTC);
* ``now``, ``today``, ``midnight``, ``noon``, ``tomorrow``, ``yesterday``;
* relative amounts: ``+1 day``, ``-2 weeks``, ``3 months``, ``1 year 2 days``, ``2 hours ago``
  (``ago`` turns every amount before it round), units ``sec``/``second``, ``min``/``minute``,
  ``hour``, ``day``, ``week``, ``fortnight``, ``month``, ``year`` and their plurals;
* ``next``/``last``/``previous``/``this`` with a unit (``next month``) or a day of the week
  (``next monday``); a day's name alone (``friday``: today if it is Friday, else the next one);
* ``first day of`` / ``last day of`` (``last day of next month``).

As in PHP, a day of the week is found first, then years and months are added (Jan 31 + 1
month overflows into March), then "first/last day of" picks the day, then days and the clock
move. Anything else, text over ``MAX_INPUT`` characters, or a result outside the years
1–9999 gives None — PHP's false, which Bitrix turns into an empty value.
"""

import calendar
import datetime
import re
from dataclasses import dataclass, field

from django.utils import timezone

MAX_INPUT = 200

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
_DAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"), ("friday", "fri"), ("saturday", "sat"),
            ("sunday", "sun"),
        )
    )
    for name in names
}  # fmt: skip
_UNITS = {
    **dict.fromkeys(("sec", "secs", "second", "seconds"), ("seconds", 1)),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), ("minutes", 1)),
    **dict.fromkeys(("hour", "hours"), ("hours", 1)),
    **dict.fromkeys(("day", "days"), ("days", 1)),
    **dict.fromkeys(("week", "weeks"), ("days", 7)),
    **dict.fromkeys(("fortnight", "fortnights"), ("days", 14)),
    **dict.fromkeys(("month", "months"), ("months", 1)),
    **dict.fromkeys(("year", "years"), ("years", 1)),
}


def _alternatives(names: object) -> str:
    return "|".join(sorted(map(re.escape, names), key=len, reverse=True))  # type: ignore[call-overload]


_MONTH = rf"(?P<month>{_alternatives(_MONTHS)})\.?"
_DAY = rf"(?P<weekday>{_alternatives(_DAYS)})"
_UNIT = rf"(?P<unit>{_alternatives(_UNITS)})"
_END = r"(?=t\d|z(?![a-z])|[^a-z0-9]|$)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern + _END, re.ASCII))
    for kind, pattern in (
        ("timestamp", r"@(?P<number>-?\d{1,12})"),
        ("ymd", r"(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})"),
        ("dmy", r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"),
        ("mdy", r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"),
        ("d month", rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[ \-]*{_MONTH}(?:[ \-,]*(?P<y>\d{{4}}))?"),
        ("month d", rf"{_MONTH}[ \-]*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:[ ,]+(?P<y>\d{{4}}))?"),
        ("month", rf"{_MONTH}(?:[ \-,]+(?P<y>\d{{4}}))?"),
        (
            "time",
            r"t?(?P<h>\d{1,2}):(?P<i>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,9})?)?"
            r"(?:\s*(?P<ampm>[ap])\.?m\.?)?",
        ),
        ("hour", r"(?P<h>\d{1,2})\s*(?P<ampm>[ap])\.?m\.?"),
        ("first last day of", r"(?P<which>first|last) day of"),
        ("relative", rf"(?P<sign>[+-]?)\s*(?P<number>\d{{1,9}})\s*{_UNIT}"),
        ("zone", r"(?P<sign>[+-])(?P<zh>\d{2}):?(?P<zm>\d{2})"),
        ("named zone", r"(?P<name>utc|gmt|z)"),
        ("ago", r"ago"),
        ("word unit", rf"(?P<word>next|last|previous|this)\s+{_UNIT}"),
        ("word day", rf"(?P<word>next|last|previous|this)\s+{_DAY}"),
        ("day", _DAY),
        ("keyword", r"(?P<keyword>now|today|midnight|noon|tomorrow|yesterday)"),
    )
)
_SKIP = re.compile(r"[\s,]+")


@dataclass
class _Parsed:
    date: tuple[int | None, int, int | None] | None = None  # year, month, day (None: keep)
    time: tuple[int, int, int] | None = None  # the last of "10:30", "today", "noon"…
    explicit_time: bool = False
    midnight_unless_timed: bool = False  # a date or a day's name without a time
    zone: datetime.tzinfo | None = None
    base: datetime.datetime | None = None  # "@timestamp"
    relative: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("years", "months", "days", "hours", "minutes", "seconds"), 0
        )
    )
    weekday: tuple[int, int] | None = None  # day of the week, -1 last / 0 this / 1 next
    first_last: str | None = None


def _hour(match: re.Match[str]) -> int | None:
    hour = int(match["h"])
    if match["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["ampm"] == "p" else 0)
    return hour if hour <= 23 else None


def _read(kind: str, match: re.Match[str], parsed: _Parsed) -> bool:
    """Records one token; False when it makes no sense (a 13th month, a 25th hour)."""
    if kind == "timestamp":
        parsed.base = datetime.datetime.fromtimestamp(int(match["number"]), datetime.UTC)
        parsed.zone = datetime.UTC
    elif kind in ("ymd", "dmy", "mdy", "d month", "month d", "month"):
        if parsed.date is not None:
            return False
        month = _MONTHS[match["month"]] if "month" in match.groupdict() else int(match["m"])
        day = int(match["d"]) if match.groupdict().get("d") else None
        year = int(match["y"]) if match["y"] else None
        if kind == "month" and year is not None:
            day = 1  # "March 2024" is its first day, "March" today's day in March
        if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
            return False
        parsed.date = (year, month, day)
        parsed.midnight_unless_timed = True
    elif kind in ("time", "hour"):
        hour = _hour(match)
        minute = int(match["i"]) if kind == "time" else 0
        second = int(match["s"] or 0) if kind == "time" else 0
        if parsed.explicit_time or hour is None or minute > 59 or second > 59:
            return False
        parsed.time, parsed.explicit_time = (hour, minute, second), True
    elif kind == "first last day of":
        parsed.first_last = match["which"]
    elif kind == "relative":
        unit, factor = _UNITS[match["unit"]]
        sign = -1 if match["sign"] == "-" else 1
        parsed.relative[unit] += sign * factor * int(match["number"])
    elif kind in ("zone", "named zone"):
        if parsed.zone is not None or (kind == "zone" and parsed.time is None):
            return False
        if kind == "named zone":
            parsed.zone = datetime.UTC
        else:
            minutes = int(match["zh"]) * 60 + int(match["zm"])
            if minutes > 14 * 60:
                return False
            sign = -1 if match["sign"] == "-" else 1
            parsed.zone = datetime.timezone(datetime.timedelta(minutes=sign * minutes))
    elif kind == "ago":
        parsed.relative = {unit: -amount for unit, amount in parsed.relative.items()}
    elif kind == "word unit":
        unit, factor = _UNITS[match["unit"]]
        step = {"next": 1, "this": 0}.get(match["word"], -1)
        parsed.relative[unit] += step * factor
    elif kind in ("word day", "day"):
        if parsed.weekday is not None:
            return False
        word = match["word"] if kind == "word day" else "this"
        step = {"next": 1, "last": -1, "previous": -1}.get(word, 0)
        parsed.weekday = (_DAYS[match["weekday"]], step)
        parsed.midnight_unless_timed = True
    elif kind == "keyword":
        # As in PHP, these set the clock where they stand: "11:00 tomorrow" is at midnight.
        keyword = match["keyword"]
        if keyword == "noon":
            parsed.time = (12, 0, 0)
        elif keyword != "now":
            parsed.time = (0, 0, 0)
            parsed.relative["days"] += {"tomorrow": 1, "yesterday": -1}.get(keyword, 0)
    return True


def _parse(text: str) -> _Parsed | None:
    parsed = _Parsed()
    position = 0
    text = text.strip().lower()
    while position < len(text):
        skipped = _SKIP.match(text, position)
        if skipped:
            position = skipped.end()
            continue
        for kind, pattern in _PATTERNS:
            match = pattern.match(text, position)
            if match:
                if not _read(kind, match, parsed):
                    return None
                position = match.end()
                break
        else:
            return None
    return parsed


def _weekday_shift(day: datetime.date, target: int, step: int) -> datetime.date:
    ahead = (target - day.weekday()) % 7
    if step > 0:
        return day + datetime.timedelta(days=ahead or 7)
    if step < 0:
        behind = (day.weekday() - target) % 7
        return day - datetime.timedelta(days=behind or 7)
    return day + datetime.timedelta(days=ahead)


def strtotime(text: str, base: datetime.datetime) -> datetime.datetime | None:
    """The moment ``text`` names, relative to the aware ``base``; None when it names none."""
    if len(text) > MAX_INPUT:
        return None
    parsed = _parse(text)
    if parsed is None:
        return None
    zone = parsed.zone or timezone.get_current_timezone()
    start = (parsed.base or base).astimezone(zone)
    try:
        year, month, day = start.year, start.month, start.day
        if parsed.date is not None:
            year = parsed.date[0] or year
            month = parsed.date[1]
            day = parsed.date[2] or day
        clock = (start.hour, start.minute, start.second)
        if parsed.midnight_unless_timed:
            clock = (0, 0, 0)
        clock = parsed.time or clock
        # PHP lets a day past the month's end run over into the next month (Feb 30 = Mar 1).
        date = datetime.date(year, month, 1) + datetime.timedelta(days=day - 1)
        if parsed.weekday is not None:
            date = _weekday_shift(date, *parsed.weekday)
        months = date.year * 12 + date.month - 1 + 12 * parsed.relative["years"]
        months += parsed.relative["months"]
        year, month = divmod(months, 12)
        day = date.day
        if parsed.first_last == "first":
            day = 1
        elif parsed.first_last == "last":
            day = calendar.monthrange(year, month + 1)[1]
        date = datetime.date(year, month + 1, 1) + datetime.timedelta(
            days=day - 1 + parsed.relative["days"]
        )
        moment = datetime.datetime.combine(date, datetime.time(*clock))
        moment += datetime.timedelta(
            hours=parsed.relative["hours"],
            minutes=parsed.relative["minutes"],
            seconds=parsed.relative["seconds"],
        )
        if isinstance(zone, datetime.timezone):
            aware = moment.replace(tzinfo=zone)
        else:
            aware = timezone.make_aware(moment, zone)
        return timezone.localtime(aware)
    except (ValueError, OverflowError):
        return None
