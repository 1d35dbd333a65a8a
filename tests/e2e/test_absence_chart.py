"""The company structure and the absence chart in a real browser: the demo company's tree with
its heads, an absence added by an administrator (the person found by name, their department
shown) drawn as a bar over its days, the wide month scrolling inside its card on a phone, and
the absence deleted again."""

import datetime
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Site, log_in, own_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory, "absences") as started:
        yield started


def test_the_structure_and_an_absence_added_and_deleted_on_the_chart(
    page: Page, site: Site
) -> None:
    log_in(page, site.server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Company").click()
    sales = page.get_by_role("region", name="Sales")
    expect(sales).to_contain_text("Helen Carter")
    expect(sales.get_by_role("list")).to_contain_text("Boris Ivanov")
    expect(page.get_by_role("region", name="Demo company")).to_contain_text("Irina Sokolova")

    page.get_by_role("link", name="Absence chart").click()
    expect(page.get_by_role("heading", name="Absence chart", level=1)).to_be_visible()
    form = page.get_by_role("region", name="Add an absence")
    employee = form.get_by_role("combobox", name="Employee")
    employee.press_sequentially("smirn")
    option = page.get_by_role("listbox", name="Employee").get_by_role(
        "option", name=re.compile(r"^Olga Smirnova")
    )
    expect(option).to_contain_text("Internal audit")
    option.click()
    form.get_by_label("Kind of absence").select_option(label="Sick leave")
    month = datetime.date.today().replace(day=1)
    form.get_by_label("From").fill(month.replace(day=10).isoformat())
    form.get_by_label("To").fill(month.replace(day=12).isoformat())
    form.get_by_label("Reason").fill("Flu")
    form.get_by_role("button", name="Add absence").click()

    messages = page.get_by_role("status").filter(has_text="The absence of")
    expect(messages).to_contain_text("The absence of Olga Smirnova is added")
    chart = page.get_by_role("group", name=re.compile(r"\d{4}$")).first
    olga = chart.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Olga Smirnova"))
    expect(olga.get_by_text("Sick leave")).to_be_visible()
    listed = page.get_by_role("region", name=re.compile(r"^Absences in"))
    expect(listed).to_contain_text("Flu")

    # On a phone the month scrolls inside its card; the page itself stays as wide as the window.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    assert chart.evaluate("element => element.scrollWidth > element.clientWidth")

    page.once("dialog", lambda dialog: dialog.accept())
    listed.get_by_role("button", name=re.compile(r"^Delete the absence of Olga Smirnova")).click()
    expect(messages).to_contain_text("The absence of Olga Smirnova is deleted.")
    expect(page.get_by_role("region", name=re.compile(r"^Absences in"))).not_to_contain_text("Flu")
