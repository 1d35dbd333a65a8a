"""The profile page in a real browser: a change of language is confirmed in the new language."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, log_in


def test_saving_a_language_says_so_in_that_language(page: Page, server: Server) -> None:
    log_in(page, server, "helen", server.password)  # Helen, head of sales, works in English
    page.goto(f"{server.url}/accounts/profile/")

    page.get_by_label("Language").select_option(label="Russian")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Профиль сохранён.")).to_be_visible()
    expect(page.get_by_label("Часовой пояс")).to_have_value("UTC")

    page.get_by_label("Язык").select_option(label="Английский")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status").filter(has_text="Your profile was saved.")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("UTC")
