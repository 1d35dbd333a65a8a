import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, log_in, start_server, stop_server


def test_printed_credentials_log_in_and_open_the_admin(page: Page, server: Server) -> None:
    log_in(page, server)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="Deals")).to_be_visible()

    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name=re.compile("Site administration"))).to_be_visible()
    page.get_by_role("link", name="Deals").first.click()
    expect(page.get_by_role("heading", name=re.compile("Select deal to change"))).to_be_visible()


def test_wrong_password_is_refused_with_a_message(page: Page, server: Server) -> None:
    log_in(page, server, password="not-the-password")
    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password"
    )
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_the_server_stops_on_ctrl_c(tmp_path) -> None:
    running = start_server(tmp_path)
    assert stop_server(running) == 0
