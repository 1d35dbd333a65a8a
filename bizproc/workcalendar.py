"""The company's working calendar: which days are working days and which hours working hours.

A plain value, free of the database, so that the formula functions (``addworkdays``,
``workdateadd``, ``isworkday``, ``isworktime``), the Pause block's "working time only" and the
absence chart all read the same rules. ``calendar_get()`` (``bizproc.calendars``) builds it from
the stored settings.

The arithmetic is Bitrix's (``Bitrix\\Bizproc\\Calc\\Libs\\DateLib``) on wall-clock moments:
naive date-times in the calendar's (or a person's) time zone. Unlike Bitrix, which gives up
after 1000 days scanned, moving by working days skips whole years at once, so that any count
ends quickly — with the right day, or with ``OverflowError`` past the year 9999 (a calendar
without a single working day ends there too).
"""

import datetime
import functools
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings

from bizproc.bounds import FIRST_DAY, LAST_DAY

_DAY = datetime.timedelta(days=1)
_DAY_SECONDS = 86400
D = TypeVar("D", datetime.date, datetime.datetime)


def _clock(moment: datetime.datetime) -> int:
    """Seconds since midnight to the minute, as Bitrix counts them (seconds are left out)."""
    return moment.hour * 3600 + moment.minute * 60


def _seconds(time: datetime.time) -> int:
    return time.hour * 3600 + time.minute * 60 + time.second


def _day_of(moment: datetime.date) -> datetime.date:
    return moment.date() if isinstance(moment, datetime.datetime) else moment


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Defaults are Bitrix's: Monday to Friday, 09:00 to 18:00, no holidays."""

    weekend: frozenset[int] = frozenset({5, 6})
    """Days of the week off, as ``date.weekday()`` numbers (Monday 0 … Sunday 6)."""
    work_start: datetime.time = datetime.time(9)
    work_end: datetime.time = datetime.time(18)
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()
    """Holidays every year, as (month, day)."""
    holidays: frozenset[datetime.date] = frozenset()
    """One-off holidays."""
    workdays: frozenset[datetime.date] = frozenset()
    """One-off working days that would be off otherwise (a Saturday worked for a bridge day)."""
    time_zone: str = ""
    """The company's time zone name; empty means the site's (``settings.TIME_ZONE``)."""

    def is_holiday(self, day: datetime.date) -> bool:
        """Whether ``day`` is a day off: a one-off working day never is; otherwise a weekend
        day or a holiday is."""
        if day in self.workdays:
            return False
        return (
            day.weekday() in self.weekend
            or (day.month, day.day) in self.yearly_holidays
            or day in self.holidays
        )

    def zone(self) -> datetime.tzinfo:
        """The calendar's time zone (the site's when none is set or the name is unknown)."""
        for name in (self.time_zone, settings.TIME_ZONE):
            if name:
                try:
                    return zoneinfo.ZoneInfo(name)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    continue
        return datetime.UTC

    @property
    def day_seconds(self) -> int:
        """The length of a working day in seconds (Bitrix's "1d" of ``workdateadd``)."""
        return _seconds(self.work_end) - _seconds(self.work_start)

    def is_work_time(self, moment: datetime.datetime) -> bool:
        """Whether the wall-clock time is within working hours, both ends included (the day
        itself is not looked at: see ``is_holiday``)."""
        return _seconds(self.work_start) <= _clock(moment) <= _seconds(self.work_end)

    # ---- moving by working days -----------------------------------------------------------

    def add_work_days(self, start: D, days: int) -> D:
        """The ``days``-th working day after ``start`` (before it, when negative), at the same
        time of day; ``start`` itself when ``days`` is 0. ``OverflowError`` when there is no
        such day before the end (or after the start) of the calendar."""
        step = _DAY if days > 0 else -_DAY
        edge = (12, 31) if days > 0 else (1, 1)
        remaining = abs(days)
        moment = start
        while remaining:
            day = _day_of(moment)
            if (day.month, day.day) == edge:
                # At a year's edge: skip the whole next (previous) year if the count passes it.
                year = day.year + (1 if days > 0 else -1)
                if not FIRST_DAY.year <= year <= LAST_DAY.year:
                    raise OverflowError("no such working day")
                count = self.work_days_in_year(year)
                if count < remaining:
                    remaining -= count
                    moment = moment.replace(year=year)
                    continue
            moment = moment + step
            if not FIRST_DAY <= _day_of(moment) <= LAST_DAY:
                raise OverflowError("no such working day")
            if not self.is_holiday(_day_of(moment)):
                remaining -= 1
        return moment

    def work_days_in_year(self, year: int) -> int:
        first = datetime.date(year, 1, 1)
        length = (datetime.date(year + 1, 1, 1) - first).days if year < 9999 else 365
        off = _base_days_off(self.weekend, self.yearly_holidays, length == 366, first.weekday())
        for day in _one_offs_by_year(self.holidays, self.workdays).get(year, ()):
            usual = day.weekday() in self.weekend or (day.month, day.day) in self.yearly_holidays
            off += int(self.is_holiday(day)) - int(usual)
        return length - off

    # ---- moving by working time (``workdateadd``) -------------------------------------------

    def nearest_work_time(
        self, moment: datetime.datetime, backward: bool = False
    ) -> datetime.datetime:
        """``moment`` if it is working time, else the start of the next working time (the end
        of the previous one, ``backward``). Wall-clock, naive."""
        start, end = _seconds(self.work_start), _seconds(self.work_end)
        clock = _clock(moment)
        if self.is_holiday(moment.date()):
            moment += datetime.timedelta(
                seconds=-clock + (end - _DAY_SECONDS if backward else start)
            )
            clock = end if backward else start
        if not start <= clock <= end:
            moment -= datetime.timedelta(seconds=clock)
            if clock < start:
                moment += datetime.timedelta(seconds=end - _DAY_SECONDS if backward else start)
            else:
                moment += datetime.timedelta(seconds=end if backward else _DAY_SECONDS + start)
        if self.is_holiday(moment.date()):
            moment = self.add_work_days(moment, -1 if backward else 1)
        return moment

    def add_work_time(self, moment: datetime.datetime, seconds: int) -> datetime.datetime:
        """Bitrix's ``workdateadd``: ``seconds`` of working time after ``moment`` (before it,
        when negative), a working day counting as ``day_seconds``. Midnight means the start of
        that day's working time; a moment outside working time starts from the nearest one.
        Wall-clock, naive."""
        length = self.day_seconds
        if length <= 0:
            raise ValueError("the working day ends before it starts")
        backward = seconds < 0
        sign = -1 if backward else 1
        amount = abs(seconds)
        if moment.time() == datetime.time():
            moment += datetime.timedelta(seconds=_seconds(self.work_start))
        moment = self.nearest_work_time(moment, backward)
        if amount:
            days, rest = divmod(amount, length)
            clock = _clock(moment)
            remain = (
                clock - _seconds(self.work_start) if backward else _seconds(self.work_end) - clock
            )
            if days:
                moment = self.add_work_days(moment, sign * days)
            if rest > remain:
                moment += datetime.timedelta(seconds=sign * (remain + 60))
                moment = self.nearest_work_time(moment, backward)
                moment += datetime.timedelta(seconds=sign * (rest - remain))
            else:
                moment += datetime.timedelta(seconds=sign * rest)
        return moment


@functools.lru_cache(maxsize=256)
def _base_days_off(
    weekend: frozenset[int], yearly: frozenset[tuple[int, int]], leap: bool, first_weekday: int
) -> int:
    """Days off in a year by the week and the yearly holidays alone: the same for every year
    that starts on the same day of the week and is as long."""
    sample = datetime.date(2000 if leap else 2001, 1, 1)
    off = 0
    for n in range(366 if leap else 365):
        day = sample + datetime.timedelta(days=n)
        off += (first_weekday + n) % 7 in weekend or (day.month, day.day) in yearly
    return off


@functools.lru_cache(maxsize=32)
def _one_offs_by_year(
    holidays: frozenset[datetime.date], workdays: frozenset[datetime.date]
) -> dict[int, tuple[datetime.date, ...]]:
    by_year: dict[int, set[datetime.date]] = {}
    for day in _chain(holidays, workdays):
        by_year.setdefault(day.year, set()).add(day)
    return {year: tuple(days) for year, days in by_year.items()}


def _chain(*groups: Iterable[datetime.date]) -> Iterable[datetime.date]:
    for group in groups:
        yield from group
