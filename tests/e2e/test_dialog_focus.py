"""The designer's dialogs keep the keyboard inside while open and give focus back when closed
(issue 19, accessibility)."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, log_in


def open_first_template(page: Page, server: Server) -> None:
    log_in(page, server)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{server.url}/designer/")
    page.get_by_role("link", name="Deal follow-up").first.click()
    expect(page.get_by_role("heading", name="Deal follow-up", level=1)).to_be_visible()


def test_tab_goes_round_inside_a_block_dialog_and_escape_returns_to_the_block(
    page: Page, server: Server
) -> None:
    open_first_template(page, server)
    block = page.get_by_role("group").filter(has=page.locator(".block-title")).first
    block.get_by_role("button", name=re.compile("^Edit")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    for _ in range(30):
        page.keyboard.press("Tab")
        assert dialog.evaluate("dialog => dialog.contains(document.activeElement)")
    for _ in range(30):
        page.keyboard.press("Shift+Tab")
        assert dialog.evaluate("dialog => dialog.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(block).to_be_focused()


def test_the_settings_dialog_gives_focus_back_to_its_button(page: Page, server: Server) -> None:
    open_first_template(page, server)
    settings = page.get_by_role("link", name="Settings")
    settings.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(settings).to_be_focused()
