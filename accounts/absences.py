"""The absence chart: who is away when, and why (Bitrix's ``ABSENCE_TYPE``).

Everyone may read the chart; absence administrators (superusers and holders of
``accounts.add_absence``) add and delete absences on its page, and processes add them (the
Absence block, through ``bizproc.directory``). An absence runs from ``start`` to ``end``, both
moments included.
"""

import datetime
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Absence, AbsenceKind, Department, User
from accounts.people import WITH_DEPARTMENTS, Person, person_of
from accounts.structure import department_subtree_ids, department_tree
from bizproc.calendars import calendar_get
from bizproc.workcalendar import WorkCalendar

REASON_MAX_LENGTH = 1000


def may_manage_absences(user: Any) -> bool:
    """Whether the user may add and delete absences on the chart's page."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("accounts.add_absence"))
    )


@transaction.atomic
def absence_create(
    *,
    user_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    kind: str,
    reason: str = "",
    author_id: int | None = None,
) -> Absence:
    """Adds an absence; raises ValidationError (by field: user, start, end, kind, reason) with
    messages in the active language for values it refuses."""
    errors: dict[str, str] = {}
    if not User.objects.filter(pk=user_id).exists():
        errors["user"] = _("Choose the employee who is away.")
    if timezone.is_naive(start) or timezone.is_naive(end):
        errors["start"] = _("The absence's moments must carry a time zone.")
    elif end < start:
        errors["end"] = _("The absence ends before it starts.")
    if kind not in AbsenceKind.values:
        errors["kind"] = _("Unknown kind of absence: “%(kind)s”. Known kinds: %(kinds)s.") % {
            "kind": str(kind)[:50],
            "kinds": ", ".join(AbsenceKind.values),
        }
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = _("The reason is longer than %(max)d characters.") % {
            "max": REASON_MAX_LENGTH
        }
    elif "\x00" in reason:
        errors["reason"] = _("The reason holds a character that is not allowed.")
    if errors:
        raise ValidationError(errors)
    return Absence.objects.create(
        user_id=user_id, start=start, end=end, kind=kind, reason=reason, author_id=author_id
    )


def absence_delete(*, absence: Absence) -> None:
    Absence.objects.filter(pk=absence.pk).delete()


def absent_users(*, user_ids: Iterable[int], at: datetime.datetime) -> set[int]:
    """Which of the users are away at the moment."""
    ids = set(user_ids)
    if not ids:
        return set()
    return set(
        Absence.objects.filter(user_id__in=ids, start__lte=at, end__gte=at).values_list(
            "user_id", flat=True
        )
    )


# --- the month view ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    date: datetime.date
    off: bool = False  # a day off by the working calendar: the week's, or a holiday
    holiday: bool = False  # a holiday (yearly or one-off) rather than the week's day off

    @property
    def label(self) -> str:
        """What the day is, in words (the chart shades days off, and says so)."""
        if self.holiday:
            return _("holiday")
        return _("day off") if self.off else ""


@dataclass(frozen=True)
class Cell:
    """A stretch of a row: ``span`` days from ``first`` to ``last``, an absence's bar or a free
    day."""

    span: int
    absence: Absence | None = None
    first: datetime.date | None = None
    last: datetime.date | None = None
    off: bool = False  # a free day that is a day off


@dataclass
class Row:
    person: Person
    lanes: list[list[Cell]]  # one line of bars each; overlapping absences take more lines


@dataclass
class Group:
    name: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Chart:
    month: datetime.date  # its first day
    days: list[Day]
    groups: list[Group]
    absences: list[Absence]  # of the people shown, this month, by start

    @property
    def previous(self) -> datetime.date:
        return (self.month - datetime.timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> datetime.date:
        return self.days[-1].date + datetime.timedelta(days=1)


def absence_chart(
    *, month: datetime.date, department_id: int | None, zone: zoneinfo.ZoneInfo | None = None
) -> Chart:
    """The chart of a month in the time zone ``zone`` (the active one by default): people
    grouped by department (the one chosen and its sub-departments, or all, then those in
    none), with their absences as bars over the month's days."""
    zone = zone or timezone.get_current_timezone()
    calendar = calendar_get()
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    days = [
        _day(calendar, first + datetime.timedelta(days=n)) for n in range((following - first).days)
    ]
    groups = _groups(department_id)
    user_ids = {row.person.value for group in groups for row in group.rows}
    pks = [int(value.removeprefix("user_")) for value in user_ids]
    begin = datetime.datetime.combine(first, datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(following, datetime.time(), tzinfo=zone)
    absences = list(
        Absence.objects.filter(user_id__in=pks, start__lt=end, end__gte=begin).select_related(
            "user"
        )
    )
    by_user: dict[str, list[Absence]] = {}
    for absence in absences:
        by_user.setdefault(absence.user.document_user_id, []).append(absence)
    last_day = days[-1].date
    for group in groups:
        for row in group.rows:
            row.lanes = _lanes(by_user.get(row.person.value, []), first, last_day, zone, calendar)
    return Chart(first, days, groups, absences)


def _day(calendar: WorkCalendar, date: datetime.date) -> Day:
    off = calendar.is_holiday(date)
    return Day(date, off, off and date.weekday() not in calendar.weekend)


def _groups(department_id: int | None) -> list[Group]:
    chosen = department_subtree_ids(department_id) if department_id is not None else None
    groups: list[Group] = []

    def walk(nodes: Sequence[Any]) -> None:
        for node in nodes:
            if (chosen is None or node.department.pk in chosen) and node.members:
                groups.append(Group(node.department.name, [Row(p, []) for p in node.members]))
            walk(node.children)

    walk(department_tree())
    if chosen is None:
        loose = User.objects.filter(is_active=True, departments__isnull=True).order_by(
            "full_name", "last_name", "first_name", "username"
        )
        # They have no departments: nothing to prefetch for ``person_of``.
        people = [person_of(user) for user in loose.prefetch_related(WITH_DEPARTMENTS)]
        if people:
            groups.append(Group(_("No department"), [Row(p, []) for p in people]))
    return groups


def _lanes(
    absences: list[Absence],
    first: datetime.date,
    last: datetime.date,
    zone: datetime.tzinfo,
    calendar: WorkCalendar,
) -> list[list[Cell]]:
    """The person's absences packed into as few lines as overlap allows, each line as cells."""
    placed: list[list[tuple[datetime.date, datetime.date, Absence]]] = []
    for absence in sorted(absences, key=lambda a: (a.start, a.pk)):
        start = max(timezone.localtime(absence.start, zone).date(), first)
        end = min(timezone.localtime(absence.end, zone).date(), last)
        for lane in placed:
            if lane[-1][1] < start:
                lane.append((start, end, absence))
                break
        else:
            placed.append([(start, end, absence)])
    lanes = []
    for lane in placed or [[]]:
        cells: list[Cell] = []
        day = first
        for start, end, absence in lane:
            cells += _free(day, start - datetime.timedelta(days=1), calendar)
            cells.append(Cell((end - start).days + 1, absence, start, end))
            day = end + datetime.timedelta(days=1)
        cells += _free(day, last, calendar)
        lanes.append(cells)
    return lanes


def _free(first: datetime.date, last: datetime.date, calendar: WorkCalendar) -> list[Cell]:
    """A free day's cell for each day from ``first`` to ``last``."""
    days = (first + datetime.timedelta(days=n) for n in range((last - first).days + 1))
    return [Cell(1, None, day, day, calendar.is_holiday(day)) for day in days]


def absence_kinds() -> dict[str, str]:
    """The kinds of absence by code, with their names in the active language."""
    return {kind.value: str(kind.label) for kind in AbsenceKind}


def department_exists(pk: int) -> bool:
    return Department.objects.filter(pk=pk).exists()
