"""A CRM administrator adds a list field with two options through the Fields page of deals,
in a real browser against the real server."""

import uuid

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, log_in


def test_an_administrator_adds_a_list_field_with_two_options(page: Page, server: Server) -> None:
    code = f"COLOUR_{uuid.uuid4().hex[:6].upper()}"
    log_in(page, server)
    page.goto(f"{server.url}/crm/deal/")
    page.get_by_role("link", name="Fields", exact=True).click()
    page.get_by_role("link", name="New field").click()

    page.get_by_label("Code").fill(code)
    page.get_by_label("Type").select_option(label="List")
    options = page.get_by_role("group", name="List options", exact=True)
    expect(options).to_be_visible()
    expect(page.get_by_label("Default currency")).to_be_hidden()  # not a money field
    page.get_by_label("Form label (English)").fill("Colour")
    page.get_by_label("Option 1", exact=True).fill("Red")
    page.get_by_label("Option 2", exact=True).fill("Blue")
    page.get_by_role("button", name="Add option").click()
    expect(page.get_by_label("Option 3", exact=True)).to_be_focused()
    expect(page.get_by_label("Option 1", exact=True)).to_have_value("Red")
    page.get_by_label("Option 2 is the default").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text(f"Field UF_CRM_{code} saved.")
    row = page.get_by_role("row").filter(has_text=f"UF_CRM_{code}")
    expect(row.get_by_role("cell")).to_have_text(
        [f"UF_CRM_{code}", "List", "no", "no", "yes", "yes", "100", "2", "Edit Delete"]
    )
    expect(row.get_by_role("rowheader")).to_have_text("Colour")
