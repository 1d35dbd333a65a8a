"""The working-calendar functions: ``addworkdays``, ``workdateadd``, ``isworkday``,
``isworktime`` (Bitrix's ``DateLib``), on the scope's working calendar (``Environment``).

They work on the wall clock of the calendar's time zone, or of the person given as the optional
last argument (Bitrix's ``touserdate``); a date without a time is that day, at midnight. As in
Bitrix, a value that is not a date gives an empty result (``addworkdays``, ``workdateadd``) or
No (``isworkday``, ``isworktime``) rather than an error. Unlike Bitrix, an interval with an
unknown unit or stray text is an error (as in ``dateadd``), and no hidden cap stops the count
of working days at 1000 days scanned.
"""

import datetime
import re
from typing import Any

from bizproc.bounds import FIRST_DAY, LAST_DAY

from .dates import as_calendar
from .environment import Environment
from .errors import Mismatch
from .functions import _function
from .values import as_number, flatten

_PART = re.compile(r"\s*(\d{1,9})\s*([A-Za-z]+)\s*,?", re.ASCII)
_DAY_UNITS = frozenset({"d", "day", "days"})
_UNIT_SECONDS = {
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("i", "min", "minute", "minutes"), 60),
}


def _single(value: Any) -> Any:
    """Bitrix's ``getFirstSingle``: a list's first value."""
    if isinstance(value, list | tuple):
        values = flatten(value)
        return values[0] if values else None
    return value


def _moment(value: Any) -> datetime.date | None:
    """A date or an aware date-time, or None for what is not a date (Bitrix's
    ``makeTimestamp`` answering false)."""
    value = _single(value)
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return as_calendar(value)
    except Mismatch:
        return None


def _zone(env: Environment, user: Any) -> datetime.tzinfo:
    if user not in (None, "", []):
        zone = env.user_zone(user)
        if zone is not None:
            return zone
    return env.calendar().zone()


def _wall_clock(moment: datetime.date, zone: datetime.tzinfo) -> datetime.datetime:
    if isinstance(moment, datetime.datetime):
        return moment.astimezone(zone).replace(tzinfo=None)
    return datetime.datetime.combine(moment, datetime.time())


def _aware(local: datetime.datetime, zone: datetime.tzinfo) -> datetime.datetime:
    if not FIRST_DAY <= local.date() <= LAST_DAY:
        raise OverflowError("outside the calendar")
    return local.replace(tzinfo=zone)


def _whole(value: Any) -> int:
    """PHP's ``(int)``: numbers truncated, anything else 0."""
    try:
        return int(as_number(_single(value)))
    except (Mismatch, OverflowError, ValueError):
        return 0


def _work_seconds(interval: str, day_seconds: int) -> int:
    """ "2d 3h 15i", "-1 day", "90 minutes": working seconds, a day being a working day."""
    text = interval.strip()
    sign = -1 if text.startswith("-") else 1
    position = 1 if text[:1] in ("+", "-") else 0
    total = 0
    while position < len(text):
        part = _PART.match(text, position)
        unit = part[2].lower() if part else ""
        if part is None or (unit not in _DAY_UNITS and unit not in _UNIT_SECONDS):
            raise Mismatch
        total += int(part[1]) * (day_seconds if unit in _DAY_UNITS else _UNIT_SECONDS[unit])
        position = part.end()
    return sign * total


@_function("addworkdays", 2, uses_env=True)
def _addworkdays(env: Environment, value: Any, days: Any) -> datetime.date | None:
    """The date ``days`` working days later (earlier, when negative), at the same time."""
    moment = _moment(value)
    if moment is None:
        return None
    count = _whole(days)
    if count == 0:
        return moment
    calendar = env.calendar()
    if not isinstance(moment, datetime.datetime):
        return calendar.add_work_days(moment, count)
    zone = calendar.zone()
    return _aware(calendar.add_work_days(_wall_clock(moment, zone), count), zone)


@_function("workdateadd", 2, 3, uses_env=True)
def _workdateadd(
    env: Environment, value: Any, interval: Any, user: Any = None
) -> datetime.date | None:
    """The moment ``interval`` of working time later ("1d" is a working day's hours)."""
    moment = _moment(value)
    interval = _single(interval) if isinstance(interval, list | tuple) else interval
    if moment is None or not isinstance(interval, str | int | float) or isinstance(interval, bool):
        return None
    if interval in ("", "0", 0):  # PHP's empty(): the date as it is
        return moment
    calendar = env.calendar()
    zone = _zone(env, user)
    seconds = _work_seconds(str(interval), calendar.day_seconds)
    return _aware(calendar.add_work_time(_wall_clock(moment, zone), seconds), zone)


@_function("isworkday", 1, 2, uses_env=True)
def _isworkday(env: Environment, value: Any, user: Any = None) -> bool:
    moment = _moment(value)
    if moment is None:
        return False
    return not env.calendar().is_holiday(_wall_clock(moment, _zone(env, user)).date())


@_function("isworktime", 1, 2, uses_env=True)
def _isworktime(env: Environment, value: Any, user: Any = None) -> bool:
    moment = _moment(value)
    if moment is None:
        return False
    calendar = env.calendar()
    local = _wall_clock(moment, _zone(env, user))
    return not calendar.is_holiday(local.date()) and calendar.is_work_time(local)
