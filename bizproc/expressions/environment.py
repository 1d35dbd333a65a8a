"""What some formula functions need from outside the expression: the clock, the working
calendar, people's time zones and details, the document's address.

A scope offers an ``Environment`` (``Scope.environment()``); functions registered with
``uses_env=True`` receive it first. Keeping these behind one object lets the interpreter stay
free of the database: the runner's scope answers from the company's settings and directory,
tests pass a plain ``Environment`` with fixed answers.
"""

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ..workcalendar import WorkCalendar


def _nobody(user: Any) -> None:
    return None


def _no_url() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Environment:
    now: Callable[[], datetime.datetime] = timezone.now
    """The current moment (a running process's ``System:Now``)."""
    calendar: Callable[[], WorkCalendar] = WorkCalendar
    """The company's working calendar (work week, hours, holidays, time zone)."""
    user_zone: Callable[[Any], datetime.tzinfo | None] = _nobody
    """A person's time zone, given a user value (``user_5``, ``5``, a list of them): the
    first person's; None when there is nobody."""
    user_info: Callable[[Any], Mapping[str, Any] | None] = _nobody
    """A person's details in Bitrix's ``getuserinfo`` shape (``ID``, ``NAME``, ``EMAIL`` …),
    or None when there is nobody the process may see."""
    document_url: Callable[[], str | None] = _no_url
    """The absolute path of the process's document page (``/crm/deal/5/``), or None outside a
    process; ``getdocumenturl`` puts ``settings.SITE_URL`` before it for a full address."""
    document_title: Callable[[], str | None] = _no_url
    """How a person names the process's document (a deal's title), or None outside one."""
