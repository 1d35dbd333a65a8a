"""The working calendar in a real browser: an administrator adds a holiday on its page (found
from the company structure) and the absence chart names that day a holiday."""

import datetime
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Site, log_in, own_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory, "calendar") as started:
        yield started


def test_an_administrator_adds_a_holiday_and_the_absence_chart_shows_it(
    page: Page, site: Site
) -> None:
    log_in(page, site.server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Company").click()
    page.get_by_role("link", name="Working calendar").click()
    expect(page.get_by_role("heading", name="Working calendar", level=1)).to_be_visible()
    week = page.get_by_role("group", name="Days off in the week")
    expect(week.get_by_role("checkbox", name="Saturday")).to_be_checked()
    expect(week.get_by_role("checkbox", name="Monday")).not_to_be_checked()

    # A Wednesday of next month: a working day by the week, made a holiday.
    month = (datetime.date.today().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    holiday = month + datetime.timedelta(days=(2 - month.weekday()) % 7)
    page.get_by_label("One-off holidays").fill(f"not a date\n{holiday.isoformat()}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(page.get_by_text("Line 1: “not a date” is not a date")).to_be_visible()

    page.get_by_label("One-off holidays").fill(holiday.isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The working calendar is saved.")

    page.get_by_role("link", name="Absence chart").first.click()
    page.get_by_role("link", name=re.compile("Next month")).click()
    day = page.get_by_role("columnheader", name=re.compile(rf"^{holiday.day} {holiday:%B}, "))
    expect(day).to_have_accessible_name(re.compile(r", holiday$"))
    sunday = month + datetime.timedelta(days=(6 - month.weekday()) % 7)
    expect(
        page.get_by_role("columnheader", name=re.compile(rf"^{sunday.day} {sunday:%B}, "))
    ).to_have_accessible_name(re.compile(r", day off$"))
    expect(page.get_by_role("list", name="Days off")).to_contain_text("Holiday")
