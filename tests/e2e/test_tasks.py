"""Tasks from processes, as a person answers them: a discount approval started from a deal's
card waits for the head of sales, who finds it under Tasks and approves it with a comment."""

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_automation import reload_until, sign_in


def test_a_discount_approval_is_answered_from_the_tasks_page(page: Page, server: Server) -> None:
    # A deal of its own: other tests on this server start processes and leave tasks too.
    title = f"Discount for {uuid.uuid4().hex[:8]}"
    sign_in(page, server)
    page.goto(f"{server.url}/crm/deal/add/")
    page.get_by_label("Deal name").fill(title)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    starts = page.get_by_role("region", name="Start new business process")
    starts.get_by_role("link", name="Discount approval").click()
    page.get_by_label("Discount, %").fill("15")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Discount approval")).to_be_visible()
    expect(page.get_by_text("Waiting for the head of sales")).to_be_visible()
    process_url = page.url

    navigation = page.get_by_role("navigation", name="Main")
    tasks = navigation.get_by_role("link", name=re.compile(r"^Tasks.*\d+ waiting for you"))
    tasks.click()
    expect(page.get_by_role("heading", name="Tasks", level=1)).to_be_visible()
    waiting = page.get_by_role("region", name="Waiting for you")
    waiting.get_by_role("link", name=f"Discount of 15% on {title}").click()

    page.get_by_label("Comment").fill("A loyal client")
    page.get_by_role("button", name="Approve the discount").click()
    expect(page.get_by_text(re.compile(r"^Your answer was sent"))).to_be_visible()
    expect(page.get_by_role("region", name="Waiting for you")).not_to_contain_text(title)

    page.goto(process_url)
    reload_until(page, "Discount approved")
    expect(page.locator("#journal")).to_contain_text(
        "Discount approved by Irina Sokolova. Irina Sokolova: A loyal client"
    )
