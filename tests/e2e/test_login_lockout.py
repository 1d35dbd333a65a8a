"""Login brute force against the real server (ASGI, as `make run` serves it)."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, log_in


def test_the_sixth_try_after_five_failures_shows_the_lockout_page(
    page: Page, server: Server
) -> None:
    # A username of its own: the session's server is shared with the other browser tests.
    for _ in range(4):
        log_in(page, server, "nobody-here", "wrong password")
        expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    log_in(page, server, "nobody-here", "wrong password")
    expect(page.get_by_role("alert")).to_contain_text(
        "Too many failed attempts to log in with this username from your address. "
        "Try again in 15 minutes"
    )
    expect(page.get_by_role("link", name="Back to the login page")).to_be_visible()
    log_in(page, server)  # another username from the same address is not locked out
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
