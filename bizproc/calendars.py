"""The company's working calendar: reading it (``calendar_get``, cached per process) and
changing it (``calendar_update``, for administrators).

Every process keeps the calendar it last read and asks the cache, at most once a second,
whether it changed elsewhere (a generation shared by every process when the cache is Redis).
A change made in this process is seen at once; inside the transaction that makes it, what is
read is not kept (the transaction may roll back), and once it commits every process reads the
calendar again.
"""

import datetime
import time
import uuid
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import formats
from django.utils.translation import gettext as _

from bizproc import models
from bizproc.bounds import FIRST_DAY, LAST_DAY
from bizproc.workcalendar import WorkCalendar

MAX_DATES = 1000  # one-off holidays, and one-off working days, each
PERMISSION = "bizproc.change_workcalendar"

_GENERATION_KEY = "bizproc:calendar-generation"
_RECHECK_SECONDS = 1.0
_state: dict[str, Any] = {"calendar": None, "generation": "", "checked": 0.0, "pending": False}


def may_change_calendar(user: Any) -> bool:
    """Superusers and holders of ``bizproc.change_workcalendar`` change the calendar."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm(PERMISSION))
    )


def _generation() -> str:
    value = cache.get(_GENERATION_KEY)
    if value is None:
        value = uuid.uuid4().hex
        cache.add(_GENERATION_KEY, value, None)
        value = cache.get(_GENERATION_KEY, value)
    return str(value)


def calendar_get() -> WorkCalendar:
    """The company's working calendar (Bitrix's defaults until an administrator saves one)."""
    now = time.monotonic()
    if now - _state["checked"] > _RECHECK_SECONDS:
        generation = _generation()
        if generation != _state["generation"]:
            _state["calendar"] = None
            _state["generation"] = generation
        _state["checked"] = now
    if _state["pending"] and not connection.in_atomic_block:
        _state["pending"] = False  # the transaction that changed the calendar has ended
    found: WorkCalendar | None = _state["calendar"]
    if found is None:
        row = models.WorkCalendar.objects.filter(pk=models.WorkCalendar.ROW).first()
        found = WorkCalendar() if row is None else _value_of(row)
        if not _state["pending"]:
            _state["calendar"] = found
    return found


def calendar_forget() -> None:
    """This process reads the calendar again on next use (tests call it between tests: a
    rollback sends no signal)."""
    _state.update(calendar=None, checked=0.0, pending=False)


def _changed() -> None:
    _state["calendar"] = None
    _state["pending"] = True
    transaction.on_commit(_generation_bump)


def _generation_bump() -> None:
    cache.set(_GENERATION_KEY, uuid.uuid4().hex, None)
    calendar_forget()


def _value_of(row: models.WorkCalendar) -> WorkCalendar:
    def dates(items: Iterable[str]) -> frozenset[datetime.date]:
        return frozenset(datetime.date.fromisoformat(item) for item in items)

    return WorkCalendar(
        weekend=frozenset(int(day) for day in row.weekend),
        work_start=row.work_start,
        work_end=row.work_end,
        yearly_holidays=frozenset((int(item[:2]), int(item[3:])) for item in row.yearly_holidays),
        holidays=dates(row.holidays),
        workdays=dates(row.workdays),
        time_zone=row.time_zone,
    )


def _shown(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


@transaction.atomic
def calendar_update(
    *,
    user: Any,
    weekend: Iterable[int],
    work_start: datetime.time,
    work_end: datetime.time,
    yearly_holidays: Iterable[tuple[int, int]] = (),
    holidays: Iterable[datetime.date] = (),
    workdays: Iterable[datetime.date] = (),
    time_zone: str = "",
) -> WorkCalendar:
    """Saves the company's working calendar. ``PermissionDenied`` for anyone but its
    administrators; ``ValidationError`` (by field: weekend, work_end, yearly_holidays, holidays,
    workdays, time_zone) with messages in the active language for values it refuses — and then
    nothing is saved."""
    if not may_change_calendar(user):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    days_off = sorted(set(weekend))
    if any(not isinstance(day, int) or not 0 <= day <= 6 for day in days_off):
        refuse("weekend", _("Days of the week are numbered 0 (Monday) to 6 (Sunday)."))
    elif len(days_off) == 7:
        refuse("weekend", _("At least one day of the week must be a working day."))
    if work_end <= work_start:
        refuse("work_end", _("The working day must end after it starts."))
    yearly = sorted(set(yearly_holidays))
    for month, day in yearly:
        try:
            datetime.date(2000, month, day)  # a leap year: 29 February may be a holiday
        except (TypeError, ValueError):
            refuse("yearly_holidays", _("There is no day %(day)s.%(month)s in a year.") % {
                "day": day, "month": month,
            })  # fmt: skip
            break
    one_offs = {"holidays": sorted(set(holidays)), "workdays": sorted(set(workdays))}
    for field, days in one_offs.items():
        if len(days) > MAX_DATES:
            refuse(field, _("At most %(max)d dates.") % {"max": MAX_DATES})
        outside = [day for day in days if not FIRST_DAY <= day <= LAST_DAY]
        if outside:
            refuse(field, _("%(date)s is outside the calendar.") % {"date": _shown(outside[0])})
    both = sorted(set(one_offs["holidays"]) & set(one_offs["workdays"]))
    if both:
        refuse(
            "workdays",
            _("%(date)s is both a holiday and a working day.") % {"date": _shown(both[0])},
        )
    time_zone = time_zone.strip()
    if time_zone and time_zone not in zoneinfo.available_timezones():
        refuse("time_zone", _("Unknown time zone: “%(zone)s”.") % {"zone": time_zone[:64]})
    if errors:
        raise ValidationError(errors)
    row, _created = models.WorkCalendar.objects.select_for_update().get_or_create(
        pk=models.WorkCalendar.ROW
    )
    row.weekend = days_off
    row.work_start = work_start
    row.work_end = work_end
    row.yearly_holidays = [f"{month:02d}-{day:02d}" for month, day in yearly]
    row.holidays = [day.isoformat() for day in one_offs["holidays"]]
    row.workdays = [day.isoformat() for day in one_offs["workdays"]]
    row.time_zone = time_zone
    row.modified_by = user if getattr(user, "pk", None) else None
    row.save()
    _changed()
    return _value_of(row)
