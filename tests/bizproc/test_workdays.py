"""The working-calendar functions — addworkdays, workdateadd, isworkday, isworktime — against
a golden table (normal, edge and bad input), each result shown as a person reads it in English
and in Russian; and the arithmetic's bounds on hostile calendars and counts."""

import datetime
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone, translation

from bizproc.expressions import Environment, ExpressionError, MappingScope, display_text, evaluate
from bizproc.workcalendar import WorkCalendar

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
VLADIVOSTOK = zoneinfo.ZoneInfo("Asia/Vladivostok")  # Moscow + 7 hours
# Russia's 2024 in small: 8 March and 9 May every year, 10 May 2024 off, Saturday 27 April
# 2024 worked; Monday to Friday, 09:00 to 18:00, in Moscow.
CALENDAR = WorkCalendar(
    yearly_holidays=frozenset({(1, 1), (3, 8), (5, 9)}),
    holidays=frozenset({datetime.date(2024, 5, 10)}),
    workdays=frozenset({datetime.date(2024, 4, 27)}),
    time_zone="Europe/Moscow",
)
VALUES = {"Variable": {"Intervals": ["2h", "5d"]}}  # a list: its first value counts
PEOPLE = {"user_7": VLADIVOSTOK, "user_8": datetime.UTC}


def _zone_of(value: Any) -> datetime.tzinfo | None:
    first = value[0] if isinstance(value, list) and value else value
    return PEOPLE.get(first) if isinstance(first, str) else None


def run(text: str, calendar: WorkCalendar = CALENDAR, language: str = "en") -> Any:
    environment = Environment(calendar=lambda: calendar, user_zone=_zone_of)
    with translation.override(language), timezone.override(MOSCOW):
        return evaluate(text, MappingScope(VALUES, environment=environment))


def shown(text: str, language: str) -> str:
    value = run(text, language=language)
    with translation.override(language), timezone.override(MOSCOW):
        return display_text(value)


GOLDEN = [
    # workdateadd: hours within the day, across a holiday and a weekend, whole working days
    ('=workdateadd("2024-03-14 10:00", "2h")', "2024-03-14 12:00", "14.03.2024 12:00"),
    ('=workdateadd("2024-03-07 17:00", "2h")', "2024-03-11 10:00", "11.03.2024 10:00"),
    ('=workdateadd("2024-03-13 10:00", "1d")', "2024-03-14 10:00", "14.03.2024 10:00"),
    ('=workdateadd("2024-03-07 10:00", "2 days")', "2024-03-12 10:00", "12.03.2024 10:00"),
    ('=workdateadd("2024-03-13 10:00", "1d 2h 30i")', "2024-03-14 12:30", "14.03.2024 12:30"),
    ('=workdateadd("2024-03-13 17:00", "1 hour")', "2024-03-13 18:00", "13.03.2024 18:00"),
    # a date alone starts at the working day's start; outside hours, at the next working time
    ('=workdateadd("2024-03-15", "1h")', "2024-03-15 10:00", "15.03.2024 10:00"),
    ('=workdateadd("2024-03-14 20:00", "30i")', "2024-03-15 09:30", "15.03.2024 09:30"),
    ('=workdateadd("2024-03-09 12:00", "0d")', "2024-03-11 09:00", "11.03.2024 09:00"),
    # backwards
    ('=workdateadd("2024-03-11 10:00", "-2h")', "2024-03-07 17:00", "07.03.2024 17:00"),
    ('=workdateadd("2024-03-11 10:00", "-1d")', "2024-03-07 10:00", "07.03.2024 10:00"),
    # a Saturday worked, a one-off and a yearly holiday before a weekend
    ('=workdateadd("2024-04-26 17:00", "2h")', "2024-04-27 10:00", "27.04.2024 10:00"),
    ('=workdateadd("2024-05-08 17:00", "1d")', "2024-05-13 17:00", "13.05.2024 17:00"),
    # an empty interval (PHP's empty(), "0" too) leaves the moment as it is, even off hours
    ('=workdateadd("2024-03-09 12:00", "")', "2024-03-09 12:00", "09.03.2024 12:00"),
    ('=workdateadd("2024-03-09 12:00", "0")', "2024-03-09 12:00", "09.03.2024 12:00"),
    # a person's working time: 17:00 in Moscow is midnight of 8 March in Vladivostok
    ('=workdateadd("2024-03-07 17:00", "2h", "user_7")', "2024-03-11 04:00", "11.03.2024 04:00"),
    ('=workdateadd("2024-03-07 17:00", "2h", "user_99")', "2024-03-11 10:00", "11.03.2024 10:00"),
    (
        '=workdateadd("2024-03-14 10:00", {=Variable:Intervals})',
        "2024-03-14 12:00",
        "14.03.2024 12:00",
    ),
    # not a date: empty, as Bitrix's null
    ('=workdateadd("someday", "1d")', "", ""),
    ('=workdateadd("", "1d")', "", ""),
    ('=workdateadd(true, "1d")', "", ""),
    # addworkdays: dates stay dates, moments keep their time
    ('=addworkdays("2024-03-07", 1)', "2024-03-11", "11.03.2024"),
    ('=addworkdays("2024-03-11", -1)', "2024-03-07", "07.03.2024"),
    ('=addworkdays("2024-03-07 15:30", 2)', "2024-03-12 15:30", "12.03.2024 15:30"),
    ('=addworkdays("2024-04-26", 1)', "2024-04-27", "27.04.2024"),
    ('=addworkdays("2024-05-08", "1")', "2024-05-13", "13.05.2024"),
    ('=addworkdays("2024-03-07", 2.9)', "2024-03-12", "12.03.2024"),
    ('=addworkdays("2024-03-07", 0)', "2024-03-07", "07.03.2024"),
    ('=addworkdays("2024-03-07", "several")', "2024-03-07", "07.03.2024"),
    ('=addworkdays("2024-03-09", 250)', "2025-02-25", "25.02.2025"),
    ('=addworkdays("someday", 1)', "", ""),
    # isworkday
    ('=isworkday("2024-03-07")', "Yes", "Да"),
    ('=isworkday("2024-03-08")', "No", "Нет"),
    ('=isworkday("2025-03-08")', "No", "Нет"),
    ('=isworkday("2024-03-10")', "No", "Нет"),
    ('=isworkday("2024-04-27")', "Yes", "Да"),
    ('=isworkday("2024-05-10")', "No", "Нет"),
    ('=isworkday("2024-03-07 23:30", "user_7")', "No", "Нет"),
    ('=isworkday("2024-03-07 23:30", "user_8")', "Yes", "Да"),
    ('=isworkday("someday")', "No", "Нет"),
    ('=isworkday("")', "No", "Нет"),
    # isworktime: both ends of the working day are working time
    ('=isworktime("2024-03-07 10:00")', "Yes", "Да"),
    ('=isworktime("2024-03-07 09:00")', "Yes", "Да"),
    ('=isworktime("2024-03-07 18:00")', "Yes", "Да"),
    ('=isworktime("2024-03-07 18:01")', "No", "Нет"),
    ('=isworktime("2024-03-07 08:59")', "No", "Нет"),
    ('=isworktime("2024-03-09 12:00")', "No", "Нет"),
    ('=isworktime("2024-03-07 10:00", "user_7")', "Yes", "Да"),
    ('=isworktime("2024-03-07 12:00", "user_7")', "No", "Нет"),
    ('=isworktime("someday")', "No", "Нет"),
]


@pytest.mark.parametrize(("text", "english", "russian"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_table_in_english_and_russian(text: str, english: str, russian: str) -> None:
    assert (shown(text, "en"), shown(text, "ru")) == (english, russian)


def test_results_are_dates_moments_and_booleans() -> None:
    assert run('=addworkdays("2024-03-07", 1)') == datetime.date(2024, 3, 11)
    moment = run('=workdateadd("2024-03-07 17:00", "2h", "user_7")')
    assert moment == datetime.datetime(2024, 3, 11, 11, 0, tzinfo=VLADIVOSTOK)
    assert run('=isworkday("2024-03-07")') is True
    assert run('=isworktime("2024-03-09 12:00")') is False
    assert run('=workdateadd("someday", "1d")') is None


BAD = [
    ('=workdateadd("2024-03-07", "1 fortnight")', "workdateadd"),
    ('=workdateadd("2024-03-07", "2 months")', "workdateadd"),
    ('=workdateadd("2024-03-07", "5")', "workdateadd"),
    ('=addworkdays("2024-03-07", 1000000000)', "addworkdays"),
    ('=workdateadd("2024-03-07", "999999999d")', "workdateadd"),
    ('=addworkdays("2024-03-07")', "addworkdays"),
]


@pytest.mark.parametrize(("text", "name"), BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_are_reported_in_both_languages(text: str, name: str) -> None:
    messages = {}
    for language in ("en", "ru"):
        with pytest.raises(ExpressionError) as caught:
            run(text, language=language)
        messages[language] = caught.value.message
    assert name in messages["en"]
    assert name in messages["ru"]
    assert messages["en"] != messages["ru"]


def test_a_calendar_without_working_days_answers_at_once() -> None:
    never = WorkCalendar(weekend=frozenset(range(7)))
    assert run('=isworkday("2024-03-07")', calendar=never) is False
    for text in ('=addworkdays("2024-03-07", 1)', '=workdateadd("2024-03-07 10:00", "1h")'):
        with pytest.raises(ExpressionError, match="Incorrect arguments"):
            run(text, calendar=never)


def test_counting_working_days_far_ahead_skips_whole_years_and_matches_day_by_day() -> None:
    day, count = datetime.date(2024, 3, 7), 0
    expected = day
    while count < 3000:
        expected += datetime.timedelta(days=1)
        count += not CALENDAR.is_holiday(expected)
    assert CALENDAR.add_work_days(day, 3000) == expected
    assert CALENDAR.add_work_days(expected, -3000) == day


def test_only_one_off_working_days_left_are_found() -> None:
    saturday = datetime.date(2030, 6, 1)
    sparse = WorkCalendar(weekend=frozenset(range(7)), workdays=frozenset({saturday}))
    assert sparse.add_work_days(datetime.date(2024, 1, 1), 1) == saturday
    with pytest.raises(OverflowError):
        sparse.add_work_days(datetime.date(2024, 1, 1), 2)


def test_without_a_calendar_the_defaults_are_bitrix_s(settings) -> None:
    settings.TIME_ZONE = "UTC"
    scope = MappingScope({})
    with timezone.override(MOSCOW):
        assert evaluate('=isworkday("2024-03-08")', scope) is True  # no holidays by default
        assert evaluate('=isworkday("2024-03-09")', scope) is False
        # In the site's time zone (UTC here): 09:00 in Moscow is 06:00 there.
        assert evaluate('=isworktime("2024-03-07 09:00")', scope) is False
        assert evaluate('=isworktime("2024-03-07 12:00")', scope) is True
