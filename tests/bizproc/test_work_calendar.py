"""The company's working calendar: stored and read back, changed by administrators only, bad
values refused in both languages with nothing saved, read by running processes (formula
functions in the people's time zones, and the Pause block's "working time only" — a pause of
two working days across a weekend and a holiday wakes, through the task worker, on the right
day)."""

import datetime
import zoneinfo

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from bizproc import bpt, services
from bizproc.calendars import calendar_get, calendar_update
from bizproc.models import Instance, InstanceStatus
from bizproc.models import WorkCalendar as CalendarRow
from bizproc.runtime import workflow_start
from bizproc.workcalendar import WorkCalendar
from tests.bizproc.builders import node, notes, published, run_tasks
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REPORT = 6
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
NINE_TO_SIX = {"work_start": datetime.time(9), "work_end": datetime.time(18)}


@pytest.fixture
def admin():
    return UserFactory(is_superuser=True, full_name="Anna Admin", time_zone="Europe/Moscow")


@pytest.fixture
def worker():
    return UserFactory(is_crm_admin=True, full_name="Ivan Petrov", time_zone="Europe/Moscow")


@pytest.fixture
def deal(worker):
    return DealFactory(title="Big deal", stage="NEW", assigned_by=worker)


def save(user, **values) -> WorkCalendar:
    return calendar_update(user=user, **{"weekend": [5, 6], **NINE_TO_SIX, **values})


def start(template, deal, user) -> Instance:
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    return instance


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Log")


# --- storage and rights ------------------------------------------------------------------------


def test_without_a_saved_calendar_it_is_bitrix_s_default() -> None:
    assert calendar_get() == WorkCalendar()
    assert not CalendarRow.objects.exists()


def test_an_administrator_saves_the_calendar_and_everyone_reads_it(admin) -> None:
    saved = save(
        admin,
        weekend=[6],
        work_start=datetime.time(8, 30),
        work_end=datetime.time(17, 30),
        yearly_holidays=[(1, 1), (2, 29)],
        holidays=[datetime.date(2030, 5, 10)],
        workdays=[datetime.date(2030, 4, 27)],
        time_zone="Europe/Moscow",
    )
    assert calendar_get() == saved
    assert saved.weekend == frozenset({6})
    assert saved.is_holiday(datetime.date(2032, 2, 29))
    assert not saved.is_holiday(datetime.date(2030, 4, 27))
    assert saved.zone() == MOSCOW


def test_a_holder_of_the_permission_may_change_it_and_others_may_not(admin) -> None:
    clerk = UserFactory()
    with pytest.raises(PermissionDenied):
        save(clerk, weekend=[6])
    clerk.user_permissions.add(Permission.objects.get(codename="change_workcalendar"))
    clerk = type(clerk).objects.get(pk=clerk.pk)  # permissions are cached on the object
    assert save(clerk, weekend=[6]).weekend == frozenset({6})


@pytest.mark.parametrize(
    ("values", "field", "english"),
    [
        ({"weekend": list(range(7))}, "weekend", "At least one day of the week"),
        ({"work_end": datetime.time(9)}, "work_end", "must end after it starts"),
        ({"yearly_holidays": [(2, 30)]}, "yearly_holidays", "There is no day 30.2"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone: “Mars/Olympus”"),
        (
            {"holidays": [datetime.date(2030, 1, 5)], "workdays": [datetime.date(2030, 1, 5)]},
            "workdays",
            "is both a holiday and a working day",
        ),
        (
            {"holidays": [datetime.date(2000, 1, 1) + datetime.timedelta(n) for n in range(1001)]},
            "holidays",
            "At most 1000 dates",
        ),
    ],
    ids=["every day off", "ends before start", "no such day", "zone", "both", "too many"],
)
def test_bad_values_are_refused_with_a_message_and_nothing_is_saved(
    admin, values, field, english
) -> None:
    save(admin, weekend=[6])
    for language in ("en", "ru"):
        with translation.override(language), pytest.raises(ValidationError) as caught:
            save(admin, **values)
        message = " ".join(caught.value.message_dict[field])
        # The Russian wording is the catalogue's (the lead translates); it is never empty.
        assert english in message if language == "en" else message.strip()
    assert calendar_get().weekend == frozenset({6})
    assert CalendarRow.objects.get().weekend == [6]


def test_a_change_rolled_back_is_not_kept(admin) -> None:
    save(admin, weekend=[6])
    with pytest.raises(RuntimeError), transaction.atomic():
        save(admin, weekend=[0])
        assert calendar_get().weekend == frozenset({0})  # seen inside its transaction
        raise RuntimeError
    assert calendar_get().weekend == frozenset({6})


# --- processes ---------------------------------------------------------------------------------


def test_a_process_reads_the_company_calendar_and_people_s_time_zones(admin, worker, deal) -> None:
    save(admin, holidays=[datetime.date(2030, 1, 7)], time_zone="Europe/Moscow")
    far_east = UserFactory(time_zone="Asia/Vladivostok")
    template = published(
        log('{{=isworkday("2030-01-07")}} {{=isworkday("2030-01-08")}}'),
        log('{{=workdateadd("2030-01-04 17:00", "2h")}}'),
        log(f'{{{{=workdateadd("2030-01-04 17:00", "2h", "user_{far_east.pk}")}}}}'),
        user=worker,
    )
    instance = start(template, deal, worker)
    # The starter reads Moscow time; Vladivostok is 7 hours ahead (17:00 is 00:00 there).
    assert notes(instance, REPORT) == ["N Y", "2030-01-08 10:00", "2030-01-08 04:00"]


def _time_passes(instance: Instance) -> None:
    """The moment the pause waits for comes: its timer (the instance's wait and the queued
    wake-up task) is due now."""
    now = timezone.now()
    state = instance.state
    for wait in state["waits"].values():
        wait["until"] = now.isoformat()
    Instance.objects.filter(pk=instance.pk).update(state=state, wake_at=now)
    DBTaskResult.objects.filter(status="READY").update(run_after=now)


def test_two_working_days_across_a_weekend_and_a_holiday_wake_on_the_right_day(
    admin, worker, deal
) -> None:
    today = timezone.localdate(timezone=MOSCOW)
    week = [(today + datetime.timedelta(days=n)).weekday() for n in range(1, 3)]
    # Tomorrow and the day after are the weekend, the day after them a holiday; working time
    # is the whole day, so that the test does not depend on the hour it runs at.
    save(
        admin,
        weekend=week,
        work_start=datetime.time(0, 0),
        work_end=datetime.time(23, 59),
        holidays=[today + datetime.timedelta(days=3)],
        time_zone="UTC",
    )
    template = published(
        node(
            "DelayActivity",
            TimeoutDuration="2",
            TimeoutDurationType="d",
            WaitWorkDayUser=["{=Document:ASSIGNED_BY_ID}"],
            Title="Wait 2 working days",
        ),
        log("woke"),
        user=worker,
    )
    before = timezone.now()
    instance = start(template, deal, worker)
    assert instance.status == InstanceStatus.RUNNING
    woke_on = timezone.localtime(instance.wake_at, MOSCOW)
    assert woke_on.date() == today + datetime.timedelta(days=5)  # days 1-3 are off
    assert abs(instance.wake_at - before - datetime.timedelta(days=5)) < datetime.timedelta(
        minutes=1
    )
    wake_up = DBTaskResult.objects.get(status="READY")
    assert wake_up.run_after == instance.wake_at  # the worker is not woken before
    assert notes(instance, REPORT) == []

    _time_passes(instance)
    run_tasks()
    instance.refresh_from_db()
    assert notes(instance, REPORT) == ["woke"]
    assert instance.status == InstanceStatus.COMPLETED


def test_a_pause_ending_outside_working_time_ends_when_working_time_starts(
    admin, worker, deal
) -> None:
    save(admin, **NINE_TO_SIX, holidays=[datetime.date(2100, 3, 8)])
    template = published(
        node(
            "DelayActivity",
            TimeoutTime="2100-03-05 20:00",  # a Friday evening in Moscow (the starter's zone)
            WaitWorkDayUser=[f"user_{worker.pk}"],
        ),
        log("woke"),
        user=worker,
    )
    instance = start(template, deal, worker)
    # Saturday, Sunday, the Monday holiday: Tuesday at nine.
    assert instance.wake_at == datetime.datetime(2100, 3, 9, 9, 0, tzinfo=MOSCOW)


def test_a_working_time_pause_of_hours_counts_working_hours_only(admin, worker, deal) -> None:
    save(admin, weekend=[5, 6], work_start=datetime.time(0), work_end=datetime.time(0, 1))
    template = published(
        node(
            "DelayActivity",
            TimeoutDuration="3",
            TimeoutDurationType="m",
            WaitWorkDayUser=[f"user_{worker.pk}"],
        ),
        user=worker,
    )
    instance = start(template, deal, worker)
    # A working day of one minute: three minutes of work are three working days away at least.
    assert instance.wake_at - timezone.now() > datetime.timedelta(days=2)


def test_without_a_person_the_pause_is_a_plain_pause(admin, worker, deal) -> None:
    save(admin, weekend=[0, 1, 2, 3, 4, 5])
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h", WaitWorkDayUser=[]),
        user=worker,
    )
    before = timezone.now()
    instance = start(template, deal, worker)
    assert before + datetime.timedelta(hours=1) <= instance.wake_at
    assert instance.wake_at <= timezone.now() + datetime.timedelta(hours=1)


def test_bitrix_robot_pause_keeps_its_type_and_wait_work_day_user_through_bpt(worker) -> None:
    properties = {
        "TimeoutDuration": "2",
        "TimeoutDurationType": "d",
        "TimeoutTimeIsLocal": "N",
        "WriteToLog": "Y",
        "WaitWorkDayUser": ["{=Document:ASSIGNED_BY_ID}"],
        "Title": "Пауза робота",
    }
    template = published(
        node("RobotDelayActivity", "A1_robot_delay", **properties),
        node("DelayActivity", "A2_delay", **{**properties, "WaitWorkDayUser": ["user_1"]}),
        user=worker,
    )
    tree = bpt.bpt_read(services.template_export_bpt(source=template.versions.get())).template[0]
    kept = {child["Name"]: child for child in tree["Children"]}
    assert kept["A1_robot_delay"]["Type"] == "RobotDelayActivity"
    assert kept["A1_robot_delay"]["Properties"]["WaitWorkDayUser"] == ["{=Document:ASSIGNED_BY_ID}"]
    assert kept["A2_delay"]["Properties"]["WaitWorkDayUser"] == ["user_1"]
