"""A lists administrator creates a list with a List property through the lists pages, and an
employee adds an element to it and finds it in the list's table — in a real browser against
the real server."""

import re
import uuid

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Server, log_in, new_context


def test_an_admin_creates_a_list_and_an_employee_adds_an_element(
    browser: Browser, server: Server
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name = f"Office supplies {suffix}"

    admin = new_context(browser).new_page()
    log_in(admin, server)
    admin.get_by_role("banner").get_by_role("link", name="Lists", exact=True).click()
    admin.get_by_role("link", name="New list").click()
    admin.get_by_label("Name", exact=True).fill(name)
    admin.get_by_label("Code", exact=True).fill(f"supplies-{suffix}")
    admin.get_by_label("Icon").select_option(label="Box")
    adding = admin.get_by_role("group", name="Add elements")
    adding.get_by_label("Every employee").check()
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"{name}: fields")

    admin.get_by_role("link", name="New field").click()
    admin.get_by_label("Code", exact=True).fill("KIND")
    admin.get_by_label("Name", exact=True).fill("Kind")
    admin.get_by_label("Type").select_option(label="List")
    expect(admin.get_by_role("group", name="List options")).to_be_visible()
    expect(admin.get_by_label("Linked list")).to_be_hidden()  # not a link field
    admin.get_by_label("Option 1", exact=True).fill("Paper")
    admin.get_by_label("Option 2", exact=True).fill("Pens")
    admin.get_by_role("button", name="Add option").click()
    expect(admin.get_by_label("Option 3", exact=True)).to_be_focused()
    admin.get_by_label("Option 3", exact=True).fill("Staples")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("status")).to_contain_text("Field KIND saved.")
    row = admin.get_by_role("row").filter(has_text="PROPERTY_KIND")
    expect(row.get_by_role("rowheader")).to_have_text("Kind")
    expect(row.get_by_role("cell").nth(7)).to_have_text("3")  # its options
    admin.context.close()

    employee = new_context(browser).new_page()
    log_in(employee, server, username="boris")
    employee.get_by_role("banner").get_by_role("link", name="Lists", exact=True).click()
    employee.get_by_role("link", name=name).click()
    employee.get_by_role("link", name="Add element").click()
    employee.get_by_role("textbox", name="Name", exact=True).fill("A4 paper, 10 packs")
    employee.get_by_label("Kind").select_option(label="Paper")
    employee.get_by_role("button", name="Save").click()
    expect(employee.get_by_role("heading", level=1)).to_contain_text("A4 paper, 10 packs")
    expect(employee.locator("#element-fields")).to_contain_text("Paper")

    employee.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name=name).click()
    expect(employee).to_have_url(re.compile(r"/lists/\d+/$"))
    row = employee.get_by_role("row").filter(has_text="A4 paper, 10 packs")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Paper")
    expect(row).to_contain_text("Boris Ivanov")
    employee.context.close()
