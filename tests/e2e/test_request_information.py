"""Request information in a real browser: a process on a deal asks the admin for the trip's
cost and transport; the Tasks page shows the fields with their labels and defaults, refuses a
cost that is not a number next to its input, and once answered the process writes the answers
into its variables and reports them in the deal's journal."""

import json
import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Site, log_in, own_site
from tests.e2e.test_automation import reload_until

SETUP = """
import json
from accounts.models import User
from bizproc import runtime, services
from crm.documents import DOCUMENT_TYPES
from crm.models import Deal

admin = User.objects.get(username="admin")
fields = [
    {"Title": "Trip cost", "Name": "Cost", "Type": "int", "Required": True, "Multiple": False,
     "Description": "In roubles"},
    {"Title": "Transport", "Name": "Transport", "Type": "select", "Required": True,
     "Multiple": False, "Options": {"air": "By air", "rail": "By rail"}, "Default": "rail"},
]
template = services.template_create(
    document_type=DOCUMENT_TYPES["DEAL"], name="Trip details", user=admin
)
template.tree["Children"] = [
    {"Type": "RequestInformationActivity", "Name": "A_ask", "Children": [], "Properties": {
        "Title": "Ask for the trip", "Users": [f"user_{admin.pk}"],
        "Name": "Trip details for {=Document:TITLE}", "Description": "Before we book it.",
        "RequestedInformation": fields, "TaskButtonMessage": "Send the details",
        "ShowComment": "Y", "CommentLabelMessage": "Anything else"}},
    {"Type": "LogActivity", "Name": "A_log", "Children": [], "Properties": {
        "Title": "Report", "Text": "Cost {=Variable:Cost}, {=Variable:Transport}"}},
]
template.variables = {
    "Cost": {"Name": "Trip cost", "Type": "int", "Required": "0", "Multiple": "0"},
    "Transport": {"Name": "Transport", "Type": "select", "Required": "0", "Multiple": "0",
                  "Options": {"air": "By air", "rail": "By rail"}},
}
template.save()
services.template_publish(template=template, user=admin)
deal = Deal.objects.create(
    title="Trip to Kazan", assigned_by=admin, created_by=admin, modified_by=admin
)
instance = runtime.workflow_start(template=template, document_id=deal.document_id, user=admin)
print(json.dumps({"deal": deal.get_absolute_url(), "process": instance.pk}))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory, "request-information") as started:
        yield started


def test_a_request_for_information_is_answered_on_the_tasks_page(page: Page, site: Site) -> None:
    started = json.loads(site.shell(SETUP).splitlines()[-1])
    log_in(page, site.server)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Tasks")
    ).click()
    waiting = page.get_by_role("region", name="Waiting for you")
    waiting.get_by_role("link", name="Trip details for Trip to Kazan").click()
    expect(page.get_by_role("heading", name="Trip details for Trip to Kazan")).to_be_visible()
    expect(page.get_by_text("Before we book it.")).to_be_visible()
    expect(page.get_by_label("Transport")).to_have_value("rail")
    violations = [
        f"{violation['id']} ({violation['impact']})"
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert violations == []

    page.get_by_label("Trip cost").fill("a lot")
    page.get_by_role("button", name="Send the details").click()
    expect(page.get_by_text("The value of field 'Trip cost' is not an integer.")).to_be_visible()

    page.get_by_label("Trip cost").fill("12500")
    page.get_by_label("Transport").select_option(label="By air")
    page.get_by_label("Anything else").fill("Window seat")
    page.get_by_role("button", name="Send the details").click()
    expect(page.get_by_text(re.compile(r"^Your answer was sent"))).to_be_visible()
    expect(page.get_by_role("region", name="Waiting for you")).not_to_contain_text("Trip details")

    page.goto(f"{site.server.url}/bizproc/processes/{started['process']}/")
    reload_until(page, "Cost 12500, air")
    expect(page.locator("#journal")).to_contain_text(
        "has provided additional information: Window seat"
    )
