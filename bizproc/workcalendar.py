"""The company's working calendar: which days are working days and which hours working hours.

A plain value, free of the database, so that the formula functions (``addworkdays``,
``workdateadd``, ``isworkday``, ``isworktime``), the Pause block's "working time only" and the
absence chart all read the same rules. ``calendar_get()`` (``bizproc.calendars``) builds it from
the stored settings.
"""

import datetime
from dataclasses import dataclass


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
