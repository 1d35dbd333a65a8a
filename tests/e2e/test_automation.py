"""Processes and smart scenarios from the CRM pages, as a person uses them (issue 5 and 6)."""

import re
import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, log_in, new_context


def sign_in(page: Page, server: Server, username: str | None = None) -> None:
    log_in(page, server, username=username)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def open_card(page: Page, server: Server, entity: str, index: int = 0) -> str:
    """Opens the card of the ``index``-th record of the list; returns its document id."""
    page.goto(f"{server.url}/crm/{entity}/")
    link = page.locator("table.records tbody tr").nth(index).get_by_role("link").first
    link.click()
    match = re.search(rf"/crm/{entity}/(\d+)/", page.url)
    assert match, page.url
    return f"{entity.upper()}_{match[1]}"


def reload_until(page: Page, text: str, timeout: float = 20) -> None:
    """Reloads until ``text`` shows (the process runs on the server's worker meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        page.reload()
        if page.get_by_text(text, exact=True).count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never showed")
        page.wait_for_timeout(300)


def test_a_process_with_a_pause_started_from_a_deal_card_completes(
    page: Page, server: Server
) -> None:
    sign_in(page, server)
    open_card(page, server, "deal")
    processes = page.locator("#processes")
    processes.get_by_role("link", name="Deal follow-up").click()

    expect(page.get_by_role("heading", name="Deal follow-up")).to_be_visible()
    page.get_by_label("Note").fill("Call about the renewal")
    page.get_by_role("button", name="Start").click()

    expect(page.get_by_role("heading", name="Deal follow-up")).to_be_visible()
    reload_until(page, "Completed")
    journal = page.locator("#journal")
    expect(journal).to_contain_text("Follow-up by Irina Sokolova: Call about the renewal")
    expect(journal).to_contain_text("Done:")

    page.get_by_role("link", name="Back to the item").click()
    completed = page.locator("#processes")
    expect(completed.get_by_role("heading", name="Completed processes")).to_be_visible()
    expect(completed.get_by_role("link", name="Deal follow-up").first).to_be_visible()


def test_a_scenario_with_parameters_runs_from_a_deal_card(page: Page, server: Server) -> None:
    sign_in(page, server)
    open_card(page, server, "deal", index=1)
    page.get_by_role("button", name="Smart scenarios").click()
    page.get_by_role("menuitem", name="Client welcome").click()

    expect(page.get_by_role("heading", name="Client welcome")).to_be_visible()
    greeting = page.get_by_label("Greeting")
    expect(greeting).to_have_value("Welcome aboard")
    greeting.fill("Glad to have you")
    page.get_by_label("Level").select_option(label="Gold")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_text("Scenario started")).to_be_visible()
    expect(page.get_by_text("Scenario completed")).to_be_visible(timeout=20_000)


def test_a_scenario_runs_for_three_selected_leads(page: Page, server: Server) -> None:
    sign_in(page, server)
    page.goto(f"{server.url}/crm/lead/")
    rows = page.locator("table.records tbody tr")
    for index in range(3):
        rows.nth(index).get_by_role("checkbox").check()
    page.get_by_label("Smart scenario").select_option(label="Qualify lead")
    page.get_by_role("button", name="Run for selected").click()

    expect(
        page.get_by_text("The scenario will run for all selected items. Selected: 3")
    ).to_be_visible()
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("Scenario completed")).to_be_visible(timeout=20_000)
    expect(page.locator("#run-status li")).to_have_count(3)


def test_a_user_without_the_right_neither_sees_nor_runs_a_scenario(
    page: Page, server: Server
) -> None:
    # olga, the read-only auditor, works in Russian.
    sign_in(page, server, username="olga")
    document_id = open_card(page, server, "deal", index=7)
    page.get_by_role("button", name="Умные сценарии").click()
    menu = page.get_by_role("menu", name="Умные сценарии")
    expect(menu).to_contain_text("Нет Умных сценариев, которые вы можете здесь запустить.")
    expect(menu.get_by_role("menuitem", name="Client welcome")).to_have_count(0)

    page.goto(f"{server.url}/bizproc/scenarios/")
    href = page.get_by_role("link", name="Client welcome").get_attribute("href")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{server.url}{href}start/",
        form={"documents": document_id, "Greeting": "Hi", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{server.url}{href}"},
    )
    assert response.status == 403

    page.goto(f"{server.url}{href}")
    expect(page.get_by_role("heading", name="История запусков")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(document_id)


def test_the_smart_scenarios_menu_button_by_keyboard_and_the_way_back(
    page: Page, server: Server
) -> None:
    sign_in(page, server)
    open_card(page, server, "deal", index=2)
    card = page.url
    title = page.get_by_role("heading", level=1).inner_text().splitlines()[-1].strip()
    button = page.get_by_role("button", name="Smart scenarios")
    menu = page.get_by_role("menu", name="Smart scenarios")
    items = menu.get_by_role("menuitem")
    expect(button).to_have_attribute("aria-haspopup", "menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()

    button.focus()
    page.keyboard.press("ArrowDown")
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(items.first).to_be_focused()
    page.keyboard.press("End")
    expect(menu.get_by_role("menuitem", name="All scenarios")).to_be_focused()
    page.keyboard.press("ArrowDown")  # round to the first
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(items.last).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("ArrowUp")  # opens on the last item
    expect(items.last).to_be_focused()
    page.keyboard.press("c")  # type-ahead: "Client welcome"
    expect(menu.get_by_role("menuitem", name="Client welcome")).to_be_focused()
    page.keyboard.press("Enter")

    # The start page names the record and leads back to it.
    expect(page.get_by_role("heading", name="Client welcome")).to_be_visible()
    expect(page.get_by_role("link", name=title, exact=True)).to_have_attribute(
        "href", re.compile(r"/crm/deal/\d+/$")
    )
    page.get_by_role("link", name="Back to the item").click()
    expect(page).to_have_url(card)


def test_the_card_timeline_goes_live(page: Page, server: Server) -> None:
    sign_in(page, server)
    open_card(page, server, "deal", index=3)
    card = page.url
    timeline = page.get_by_role("list", name="Timeline entries")
    other = new_context(page.context.browser)
    try:
        colleague = other.new_page()
        sign_in(colleague, server)
        colleague.goto(card)
        colleague.get_by_label("Comment").fill("Seen from the other page")
        colleague.get_by_role("button", name="Add comment").click()
        expect(timeline).to_contain_text("Seen from the other page")  # without a reload

        # A comment of one's own shows once, the socket drawn anew with the timeline.
        page.get_by_label("Comment").fill("My own note")
        page.get_by_role("button", name="Add comment").click()
        expect(timeline.get_by_text("My own note")).to_have_count(1)
        colleague.get_by_label("Comment").fill("And a reply")
        colleague.get_by_role("button", name="Add comment").click()
        expect(timeline.get_by_text("And a reply")).to_have_count(1)
        expect(timeline.get_by_text("My own note")).to_have_count(1)
        expect(timeline.get_by_text("Seen from the other page")).to_have_count(1)
    finally:
        other.close()
