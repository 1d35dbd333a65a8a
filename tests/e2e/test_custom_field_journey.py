"""A custom field from end to end, in a real browser against the real server: a CRM
administrator adds a list field to deals on the Fields page, a sales manager fills it in a
deal's form, finds the deal by it in the list's filter, and a process started from the card
branches on it."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, Site, log_in, own_site
from tests.e2e.test_automation import reload_until

# The process reads the field by the code the administrator gave it; its branches compare
# the option's name, as a person writes a condition in the designer.
ROUTING = """
from accounts.models import User
from tests.bizproc.builders import branch, node, published
admin = User.objects.get(username="admin")
def log(text):
    return node("LogActivity", Text=text, Title="Log")
published(
    node("IfElseActivity", children=[
        branch({"fieldcondition": [["UF_CRM_DELIVERY", "=", "Courier"]]},
               log("Ship {=Document:TITLE} by courier")),
        branch({"truecondition": "1"}, log("{=Document:TITLE} is picked up")),
    ]),
    user=admin,
    name="Delivery routing",
)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory, "field-journey") as started:
        yield started


def add_deal(page: Page, server: Server, title: str, delivery: str) -> None:
    page.goto(f"{server.url}/crm/deal/add/")
    page.get_by_label("Deal name").fill(title)
    page.get_by_label("Delivery", exact=True).select_option(label=delivery)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def test_a_list_field_from_its_definition_to_a_process_branching_on_it(
    page: Page, site: Site
) -> None:
    server = site.server
    log_in(page, server)
    page.goto(f"{server.url}/crm/deal/")
    page.get_by_role("link", name="Fields", exact=True).click()
    page.get_by_role("link", name="New field").click()
    page.get_by_label("Code").fill("DELIVERY")
    page.get_by_label("Type").select_option(label="List")
    page.get_by_label("Form label (English)").fill("Delivery")
    page.get_by_label("Option 1", exact=True).fill("Courier")
    page.get_by_label("Option 2", exact=True).fill("Pickup")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Field UF_CRM_DELIVERY saved.")
    site.shell(ROUTING)

    page.context.clear_cookies()
    log_in(page, server, username="boris")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    add_deal(page, server, "Sofa for the lobby", "Pickup")
    add_deal(page, server, "Chairs for the hall", "Courier")

    page.goto(f"{server.url}/crm/deal/")
    filters = page.get_by_role("search", name="Search and filters")
    filters.get_by_text("More filters", exact=True).click()
    filters.get_by_label("Delivery", exact=True).select_option(label="Courier")
    filters.get_by_role("button", name="Apply").click()
    records = page.locator("#record-list")
    expect(records.get_by_role("link", name="Chairs for the hall")).to_be_visible()
    expect(records.get_by_role("link", name="Sofa for the lobby")).to_have_count(0)

    records.get_by_role("link", name="Chairs for the hall").click()
    expect(page.get_by_text("Courier", exact=True)).to_be_visible()  # the card reads the option
    page.locator("#processes").get_by_role("link", name="Delivery routing").click()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Delivery routing")).to_be_visible()
    reload_until(page, "Completed")
    journal = page.locator("#journal")
    expect(journal).to_contain_text("Ship Chairs for the hall by courier")
    expect(journal).not_to_contain_text("is picked up")
