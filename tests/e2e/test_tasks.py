"""Tasks from processes, as a person answers them: a discount approval started from a deal's
card waits for the head of sales, who finds it under Tasks and approves it with a comment."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_automation import open_card, reload_until, sign_in


def test_a_discount_approval_is_answered_from_the_tasks_page(page: Page, server: Server) -> None:
    sign_in(page, server)
    open_card(page, server, "deal", index=2)
    page.locator("#processes").get_by_role("link", name="Discount approval").click()
    page.get_by_label("Discount, %").fill("15")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Discount approval")).to_be_visible()
    expect(page.get_by_text("Waiting for the head of sales")).to_be_visible()
    process_url = page.url

    navigation = page.get_by_role("navigation", name="Main")
    tasks = navigation.get_by_role("link", name=re.compile(r"^Tasks.*1 waiting for you"))
    tasks.click()
    expect(page.get_by_role("heading", name="Tasks", level=1)).to_be_visible()
    waiting = page.get_by_role("region", name="Waiting for you")
    waiting.get_by_role("link", name=re.compile(r"^Discount of 15% on ")).click()

    page.get_by_label("Comment").fill("A loyal client")
    page.get_by_role("button", name="Approve the discount").click()
    expect(page.get_by_text(re.compile(r"^Your answer was sent"))).to_be_visible()
    expect(page.get_by_role("region", name="Waiting for you")).to_contain_text(
        "No task is waiting for you."
    )

    page.goto(process_url)
    reload_until(page, "Discount approved")
    expect(page.locator("#journal")).to_contain_text(
        "Discount approved by Irina Sokolova. Irina Sokolova: A loyal client"
    )
