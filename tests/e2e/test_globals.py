"""Global constants in a real browser: an administrator defines one on its page, uses it in a
block through Insert value, publishes, and a process started on a deal reports its value."""

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_automation import sign_in


def test_a_constant_defined_on_its_page_is_inserted_in_a_block_and_read_by_a_process(
    page: Page, server: Server
) -> None:
    # Names of its own: other tests on this server define globals and templates too.
    suffix = uuid.uuid4().hex[:8]
    name, phone = f"Support line {suffix}", f"8-800-{suffix}"
    sign_in(page, server)

    # The constant, from the templates page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Automation").click()
    page.get_by_role("link", name="Global constants and variables").click()
    expect(page.get_by_role("heading", name="Global constants", level=1)).to_be_visible()
    page.get_by_role("link", name="New constant").click()
    page.get_by_label("Name").fill(name)
    expect(page.get_by_label("Type")).to_have_value("string")
    # A list type asks for options and then offers them as the value…
    page.get_by_label("Type").select_option(label="List")
    page.get_by_label("Options").fill("a = A\nb = B")
    page.get_by_label("Options").blur()
    expect(page.get_by_label("Value")).to_contain_text("B")
    # … and back to a string, whose value is typed.
    page.get_by_label("Type").select_option(label="String")
    expect(page.get_by_label("Options")).to_have_count(0)
    page.get_by_label("Value").fill(phone)
    page.get_by_label("Visible to").select_option(label="Deals")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"“{name}” saved.")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    expect(row).to_contain_text(phone)
    expect(row).to_contain_text("Irina Sokolova")
    token = row.locator("code").inner_text()
    assert re.fullmatch(r"\{=GlobalConst:Constant\d+\}", token), token

    # A deal template whose report block names it, from Insert value.
    template = f"Support flow {suffix}"
    page.get_by_role("link", name="Business process templates").click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill(template)
    page.get_by_label("Entity type").select_option(label="Deals")
    page.get_by_role("button", name="Create and open the editor").click()
    expect(page.get_by_role("heading", name=template, level=1)).to_be_visible()
    page.get_by_role("button", name="Write to report").click()
    dialog = page.get_by_role("dialog", name="Write to report")
    text = dialog.get_by_label("Text")
    text.fill("Call ")
    dialog.get_by_role("button", name="Insert value into Text").click()
    menu = page.get_by_role("menu", name="Insert value")
    expect(menu.get_by_role("group", name="Global constants")).to_be_visible()
    menu.get_by_role("menuitem", name=re.compile(rf"^{re.escape(name)} ")).click()
    expect(text).to_have_value(f"Call {token}")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("group", name="Write to report", exact=True)).to_contain_text(token)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="Published as version 1.")).to_be_visible()

    # Started on a deal, the process reports the constant's value.
    page.goto(f"{server.url}/crm/deal/add/")
    page.get_by_label("Deal name").fill(f"Deal {suffix}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=f"Deal {suffix}")).to_be_visible()
    page.get_by_role("region", name="Start new business process").get_by_role(
        "link", name=template
    ).click()
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator("#journal")).to_contain_text(f"Call {phone}")
