"""The CRM pages in a real browser against the real server (started as `make run` starts it,
with the demo company): a deal's way from creation to its timeline, what an "own" manager
sees, and two people editing the same deal."""

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server, log_in, new_context


@pytest.fixture
def person(browser: Browser) -> Iterator:
    """Opens a page for one more person: a browser context of its own (its own cookies)."""
    contexts = []

    def open_page() -> Page:
        context = new_context(browser)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def unique(title: str) -> str:
    return f"{title} {uuid.uuid4().hex[:8]}"


def create_deal(page: Page, server: Server, title: str) -> str:
    """Creates a deal through the form; returns its card's URL."""
    page.goto(f"{server.url}/crm/deal/")
    page.get_by_role("link", name="New deal").click()
    page.get_by_label("Deal name").fill(title)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    return page.url


def test_a_deal_from_creation_to_its_timeline(page: Page, server: Server) -> None:
    log_in(page, server)
    title = unique("Browser deal")
    create_deal(page, server, title)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deals").click()
    page.get_by_role("searchbox", name="Search").fill(title)
    deals = page.get_by_role("table")
    expect(deals.get_by_role("row")).to_have_count(2)  # the header and the one found
    expect(page.get_by_role("status").filter(has_text="Total")).to_have_text("Total: 1")
    deals.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Stage").select_option(label="Deal won")
    page.get_by_role("button", name="Save").click()
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Deal won")

    timeline = page.get_by_role("region", name="Timeline")
    timeline.get_by_label("Comment").fill("Called the client, they signed.")
    timeline.get_by_role("button", name="Add comment").click()

    timeline = page.get_by_role("region", name="Timeline")
    entries = timeline.get_by_role("listitem")
    expect(entries.first).to_contain_text("Called the client, they signed.")
    expect(timeline).to_contain_text(re.compile(r"Stage:\s*New → Deal won"))
    expect(timeline).to_contain_text("Deal created")
    expect(timeline.get_by_label("Comment")).to_have_value("")
    expect(page.get_by_role("region", name="Processes", exact=True)).to_be_visible()


def test_an_own_manager_sees_only_their_deals(page: Page, person, server: Server) -> None:
    log_in(page, server)
    page.goto(f"{server.url}/crm/deal/")
    filters = page.get_by_role("search", name="Search and filters")
    summary = page.get_by_role("status").filter(has_text="Total")

    rows = page.get_by_role("table").get_by_role("row").filter(has=page.get_by_role("rowheader"))
    responsible = filters.get_by_role("combobox", name="Responsible")
    responsible.fill("Boris")
    page.get_by_role("option", name=re.compile(r"^Boris Ivanov")).click()
    expect(rows.first.get_by_role("cell").nth(4)).to_have_text("Boris Ivanov")
    boris_deal = rows.first.get_by_role("rowheader").get_by_role("link")
    boris_title, boris_url = boris_deal.inner_text(), boris_deal.get_attribute("href")
    responsible.fill("Anna")
    page.get_by_role("option", name=re.compile(r"^Anna Petrova")).click()
    expect(rows.first.get_by_role("cell").nth(4)).to_have_text("Anna Petrova")
    annas_total = re.fullmatch(r"Total: (\d+)", summary.inner_text())[1]

    anna = person()  # Anna works in Russian: her page is found by roles, not English words
    log_in(anna, server, "anna", server.password)
    anna.goto(f"{server.url}/crm/deal/")

    anna_summary = anna.locator("#record-list").get_by_role("status").first
    expect(anna_summary).to_have_text(re.compile(rf"\D{annas_total}$"))
    own_rows = (
        anna.get_by_role("table").get_by_role("row").filter(has=anna.get_by_role("rowheader"))
    )
    expect(own_rows.first).to_be_visible()
    responsible = {row.get_by_role("cell").nth(4).inner_text() for row in own_rows.all()}
    assert responsible == {"Anna Petrova"}
    anna.get_by_role("searchbox").fill(boris_title)
    expect(anna).to_have_url(re.compile(r"q="))
    expect(anna_summary).to_have_text(re.compile(r"\D0$"))
    expect(anna.get_by_role("link", name=boris_title)).to_have_count(0)
    response = anna.goto(f"{server.url}{boris_url}")
    assert response is not None and response.status == 404


def test_the_second_of_two_editors_is_refused_and_the_first_change_stays(
    page: Page, person, server: Server
) -> None:
    log_in(page, server)
    title = unique("Contested deal")
    card = create_deal(page, server, title)
    helen = person()  # head of sales: may change every deal
    log_in(helen, server, "helen", server.password)

    page.goto(f"{card}edit/")
    helen.goto(f"{card}edit/")
    page.get_by_label("Deal name").fill(f"{title} (renamed)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{title} (renamed)")

    helen.get_by_label("Stage").select_option(label="Deal lost")
    helen.get_by_role("button", name="Save").click()

    alert = helen.get_by_role("alert")
    expect(alert).to_contain_text("Someone changed this record while you were editing it")
    expect(alert).to_contain_text(f"Deal name: {title} → {title} (renamed)")
    expect(helen.get_by_label("Deal name")).to_have_value(f"{title} (renamed)")
    helen.goto(card)
    details = helen.get_by_role("region", name="Details")
    expect(helen.get_by_role("heading", level=1)).to_contain_text(f"{title} (renamed)")
    expect(details).to_contain_text("New")
    expect(details).not_to_contain_text("Deal lost")


def test_a_deal_is_deleted_after_a_confirmation_dialog(page: Page, server: Server) -> None:
    log_in(page, server)
    title = unique("Short-lived deal")
    create_deal(page, server, title)

    page.get_by_role("link", name="Delete").click()
    dialog = page.get_by_role("dialog", name=f"Delete “{title}”?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()

    expect(page.get_by_role("status").filter(has_text="Deleted")).to_contain_text(title)
    expect(page.get_by_role("heading", level=1)).to_have_text("Deals")


def test_the_list_is_usable_with_the_keyboard_alone(page: Page, server: Server) -> None:
    log_in(page, server)
    page.goto(f"{server.url}/crm/deal/")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    select_all = page.get_by_role("checkbox", name="Select all on this page")
    select_all.focus()
    page.keyboard.press("Space")
    rows = page.get_by_role("table").get_by_role("checkbox", name=re.compile("^Select (?!all)"))
    expect(rows.first).to_be_checked()
    expect(rows.last).to_be_checked()
    expect(page.get_by_text(re.compile(r"^Selected: \d+$"))).to_have_text(
        f"Selected: {rows.count()}"
    )
    page.get_by_role("link", name="Next").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 2 of")
