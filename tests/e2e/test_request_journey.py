"""The whole cycle of a request in a real browser against the real server and its worker: an
employee asks for leave on the Requests page, the approver approves it on the Tasks page, and
the employee's My requests shows it done without a reload."""

import re
import uuid

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Server, log_in, new_context


def test_a_leave_request_is_sent_approved_and_seen_done(browser: Browser, server: Server) -> None:
    name = f"Summer leave {uuid.uuid4().hex[:6]}"

    employee = new_context(browser).new_page()
    log_in(employee, server, username="boris")
    employee.get_by_role("banner").get_by_role("link", name="Requests", exact=True).click()
    employee.get_by_role("link", name="Leave request").click()
    employee.get_by_role("textbox", name="Name", exact=True).fill(name)
    # A required field's label ends with a star.
    employee.get_by_label(re.compile(r"^From\b")).fill("2027-07-05")
    employee.get_by_label(re.compile(r"^To\b")).fill("2027-07-07")
    employee.get_by_label(re.compile(r"^Days\b")).fill("3")
    employee.get_by_role("button", name="Send").click()
    expect(employee.get_by_role("heading", name="My requests", level=1)).to_be_visible()
    request = employee.get_by_role("row").filter(has_text=name)
    expect(request).to_contain_text("Running")
    expect(request).to_contain_text("Helen Carter")  # whom it waits for

    approver = new_context(browser).new_page()
    log_in(approver, server, username="helen")
    approver.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    waiting = approver.get_by_role("region", name="Waiting for you")
    waiting.get_by_role("link", name=f"Leave request: {name}").click()
    expect(approver.get_by_text("Boris Ivanov asks for 3 days")).to_be_visible()
    approver.get_by_role("button", name="Approve").click()
    expect(approver.get_by_text("Your answer was sent")).to_be_visible()
    approver.context.close()

    # No reload: the page asks for its table again while a request's process runs.
    expect(request).to_contain_text("Completed", timeout=30_000)
    expect(request).to_contain_text("Approved")
    expect(request.get_by_role("cell", name="nobody")).to_be_visible()  # waits for no one
    employee.context.close()
