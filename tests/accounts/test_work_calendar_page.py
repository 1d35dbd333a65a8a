"""The working calendar's page: its administrators change the work week, hours, holidays and
time zone; everyone else reads it; bad input is refused with a message (English and Russian)
and nothing saved; the absence chart shows the days off it sets, in words as well as shading."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from bizproc.calendars import calendar_get
from bizproc.models import WorkCalendar as CalendarRow
from bizproc.workcalendar import WorkCalendar
from tests.html import accessible_name, by_role, html_parse, labelled, submitted, text, value

pytestmark = pytest.mark.django_db

PAGE = reverse("accounts:work-calendar")
CHART = reverse("accounts:absence-chart")
FORM = "work-calendar-form"


def person(username: str, **fields) -> User:
    return User.objects.create_user(
        username=username, full_name=username.title(), email=f"{username}@example.com", **fields
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin() -> Client:
    return signed_in(person("irina", is_superuser=True, time_zone="Europe/Moscow"))


@pytest.fixture
def employee() -> Client:
    return signed_in(person("anna"))


def form_data(client: Client, **changes: str | list[str]) -> dict[str, list[str]]:
    data = submitted(client.get(PAGE).content.decode(), FORM)
    data.update({name: v if isinstance(v, list) else [v] for name, v in changes.items()})
    return data


def test_an_administrator_sees_bitrix_s_defaults_and_saves_a_calendar(admin) -> None:
    page = html_parse(admin.get(PAGE).content.decode())
    week = by_role(page, "group", "Days off in the week")[0]
    boxes = by_role(week, "checkbox")
    checked = [accessible_name(page, box) for box in boxes if "checked" in box.attrs]
    assert checked == ["Saturday", "Sunday"]
    assert value(labelled(page, "Working day starts")) == "09:00"
    assert value(labelled(page, "Working day ends")) == "18:00"

    response = admin.post(
        PAGE,
        form_data(
            admin,
            weekend=["6"],
            work_start="08:30",
            work_end="17:30",
            yearly_holidays="1.1\n8.3, 9.5",
            holidays="2030-05-10\n11.05.2030",
            workdays="2030-04-27",
            time_zone="Europe/Moscow",
        ),
        follow=True,
    )
    assert "The working calendar is saved." in response.content.decode()
    assert calendar_get() == WorkCalendar(
        weekend=frozenset({6}),
        work_start=datetime.time(8, 30),
        work_end=datetime.time(17, 30),
        yearly_holidays=frozenset({(1, 1), (3, 8), (5, 9)}),
        holidays=frozenset({datetime.date(2030, 5, 10), datetime.date(2030, 5, 11)}),
        workdays=frozenset({datetime.date(2030, 4, 27)}),
        time_zone="Europe/Moscow",
    )
    page = html_parse(admin.get(PAGE).content.decode())
    assert value(labelled(page, "Holidays every year")).split() == ["1.1", "8.3", "9.5"]
    assert value(labelled(page, "Time zone")) == "Europe/Moscow"


def test_everyone_else_reads_it_and_may_not_change_it(employee) -> None:
    page = html_parse(employee.get(PAGE).content.decode())
    assert not by_role(page, "button", "Save")
    assert "Saturday, Sunday" in text(by_role(page, "region", "The company's working time")[0])
    assert "09:00 – 18:00" in text(page)
    assert employee.post(PAGE, {"weekend": ["0"], "work_start": "1:00"}).status_code == 403
    assert not CalendarRow.objects.exists()


def test_a_holder_of_the_permission_changes_it(admin) -> None:
    clerk = person("clerk")
    clerk.user_permissions.add(Permission.objects.get(codename="change_workcalendar"))
    client = signed_in(clerk)
    assert by_role(html_parse(client.get(PAGE).content.decode()), "button", "Save")
    response = client.post(PAGE, form_data(client, weekend=["5"]))
    assert response.status_code == 302
    assert calendar_get().weekend == frozenset({5})


def test_signed_out_people_are_sent_to_sign_in() -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


BAD = [
    ({"holidays": "2030-05-10\nsoon"}, "One-off holidays", "Line 2: “soon” is not a date"),
    ({"yearly_holidays": "8th of March"}, "Holidays every year", "is not a day.month"),
    ({"yearly_holidays": "30.2"}, "Holidays every year", "There is no day 30.2"),
    ({"work_end": "08:00"}, "Working day ends", "The working day must end after it starts."),
    ({"work_start": "25:00"}, "Working day starts", "Enter a valid time."),
    ({"weekend": [str(n) for n in range(7)]}, "Days off in the week", "At least one day"),
    ({"time_zone": "Mars/Olympus"}, "Time zone", "Select a valid choice."),
    ({"holidays": "2030-01-05", "workdays": "05.01.2030"}, "Working days that would be days off",
     "both a holiday and a working day"),
    ({"holidays": "\n".join(["2030-01-01"] * 2001)}, "One-off holidays", "At most 1000 dates."),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "label", "message"), BAD, ids=[b[2] for b in BAD])
@pytest.mark.parametrize("language", ["en", "ru"])
def test_bad_input_is_refused_with_a_message_and_nothing_is_saved(
    admin, changes, label, message, language
) -> None:
    admin.post(PAGE, form_data(admin, weekend=["6"]))
    User.objects.filter(username="irina").update(language=language)
    response = admin.post(PAGE, form_data(admin, **changes))
    assert response.status_code == 422
    page = html_parse(response.content.decode())
    with translation.override(language):
        alert = gettext("Nothing was saved: please correct the fields marked below.")
        week_label = gettext("Days off in the week")
    assert alert in text(by_role(page, "alert")[0])
    if language == "en":
        assert message in text(page)
    if label == "Days off in the week":
        week = by_role(page, "group", week_label)[0]  # the group carries the message
        assert week.attrs.get("aria-describedby") == "id_weekend_error"
    elif language == "en":
        field = labelled(page, label)
        assert field.attrs.get("aria-invalid") == "true"
    assert calendar_get().weekend == frozenset({6})
    assert CalendarRow.objects.get().holidays == []


def test_the_absence_chart_shows_days_off_and_holidays_in_words(admin) -> None:
    admin.post(PAGE, form_data(admin, holidays="2030-05-10", workdays="2030-05-11"))
    page = html_parse(admin.get(CHART, {"month": "2030-05"}).content.decode())
    headers = {text(th).split(",")[0]: text(th) for th in by_role(page, "columnheader")}
    assert headers["10 May"].endswith(", holiday")  # a Friday made a holiday
    assert headers["11 May"] == "11 May, Saturday"  # a Saturday worked
    assert headers["12 May"].endswith(", day off")  # a Sunday
    assert headers["13 May"] == "13 May, Monday"
    assert by_role(page, "link", "Working calendar")
