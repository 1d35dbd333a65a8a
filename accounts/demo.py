"""The demo company's structure and a few absences, built from the demo people (``crm.demo``
makes them): the director heads the company, each team its head; every head is a demo person.
Made once: nothing is added when the company has departments already."""

import datetime
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Absence, AbsenceKind, Department

# (name, parent's name, head's username, members' usernames, sort)
DEPARTMENTS = [
    ("Demo company", None, "admin", ["admin"], 100),
    ("Sales", "Demo company", "helen", ["helen", "anna", "boris"], 200),
    ("Marketing", "Demo company", "mark", ["mark"], 300),
    ("Internal audit", "Demo company", "olga", ["olga"], 400),
]
# (username, kind, first day from today, last day from today, reason)
ABSENCES = [
    ("boris", AbsenceKind.VACATION, 7, 13, "Family holiday"),
    ("mark", AbsenceKind.ASSIGNMENT, 2, 4, "Trade fair in Berlin"),
    ("anna", AbsenceKind.LEAVESICK, -3, -2, ""),
]


@transaction.atomic
def demo_structure_create(*, users: Mapping[str, Any]) -> bool:
    """Builds the structure from the demo users by username; False when there is one already
    (or a demo person is missing)."""
    if Department.objects.exists() or any(
        username not in users
        for _name, _parent, head, members, _sort in DEPARTMENTS
        for username in [head, *members]
    ):
        return False
    made: dict[str, Department] = {}
    for name, parent, head, members, sort in DEPARTMENTS:
        department = Department.objects.create(
            name=name,
            parent=made[parent] if parent else None,
            head=users[head],
            sort=sort,
        )
        department.members.add(*(users[username] for username in members))
        made[name] = department
    today = timezone.localdate()
    for username, kind, first, last, reason in ABSENCES:
        user = users[username]
        zone = zoneinfo.ZoneInfo(user.time_zone)
        start = today + datetime.timedelta(days=first)
        end = today + datetime.timedelta(days=last)
        Absence.objects.create(
            user=user,
            start=datetime.datetime.combine(start, datetime.time(), tzinfo=zone),
            end=datetime.datetime.combine(end, datetime.time(23, 59, 59), tzinfo=zone),
            kind=kind,
            reason=reason,
            author=users["admin"],
        )
    return True
