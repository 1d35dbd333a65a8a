"""Acceptance of "Real Bitrix templates run" in a real browser: the administrator imports
Bitrix24's "business trip" template (``bp-179.bpt``) onto a new process list on the designer's
Import .bpt page, sees its warnings, names the company's manager and bookkeeper in its constants
and publishes; Boris starts it on his trip from the element's card; Helen, his head (Select
employee found her in the company structure), rejects it on her Tasks page, and the process ends
with the state Bitrix's template gives a rejected trip."""

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Site, log_in, new_context, own_site

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bitrix" / "bp-179.bpt"

NEW_LIST = """
import json
from accounts.models import User
from lists import services
from lists.models import ListKind
admin = User.objects.get(username="admin")
trips = services.list_create(
    values={"kind": ListKind.PROCESSES, "name": "Business trips", "code": "trips",
            "access": {"add": ["AU"]}},
    user=admin,
)
print(json.dumps({"list": trips.pk}))
"""

# What the administrator does in the template's settings after the import: the constants name
# the company's people (the file's user_11 / user_13 do not exist here).
CONSTANTS = """
from accounts.models import User
from bizproc import design
from bizproc.models import Template
admin = User.objects.get(username="admin")
olga = User.objects.get(username="olga")
template = Template.objects.get(name="Business trip")
constants = template.constants
constants["Manager"]["Default"] = [f"user_{admin.pk}"]
constants["Bookkeeper"]["Default"] = [f"user_{olga.pk}"]
design.template_settings_update(
    template=template, revision=template.revision, user=admin, name=template.name,
    description=template.description, auto_execute=template.auto_execute,
    parameters=template.parameters, variables=template.variables, constants=constants,
)
"""

# Boris's trip, as he would fill it in on the list's form.
TRIP = """
import json
from accounts.models import User
from lists import services
from lists.models import List
boris = User.objects.get(username="boris")
trips = List.objects.get(code="trips")
element = services.element_create(
    list_=trips,
    values={
        "NAME": "Trip", "PREVIEW_TEXT": "Meet the client",
        "PROPERTY_FROM": "2030-03-02", "PROPERTY_TO": "2030-03-05",
        "PROPERTY_FAMILIYA_IMYA_OTCHESTVO_KOMANDIRUEMOGO": ["Boris Ivanov"],
        "PROPERTY_MESTO_KOMANDIROVANIYA": "Kazan",
        "PROPERTY_KONTAKTNYY_NOMER_TELEFONA_RABOTNIKA": ["+7 900 000 00 00"],
        "PROPERTY_SUTOCHNYE": "700|RUB", "PROPERTY_STOIMOST_PROZHIVANIYA": "9000|RUB",
        "PROPERTY_STOIMOST_PROEZDA": "12000|RUB",
    },
    user=boris,
)
print(json.dumps({"element": f"/lists/{trips.pk}/{element.pk}/"}))
"""


def reload_until(page: Page, text: str, timeout: float = 30) -> None:
    """Reloads until ``text`` shows somewhere on the page (the server's worker runs the
    process meanwhile)."""
    deadline = time.monotonic() + timeout
    while not page.get_by_text(text).count():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never showed:\n{page.inner_text('main')[:2000]}")
        page.wait_for_timeout(300)
        page.reload()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory, "bp179") as started:
        yield started


def test_bitrixs_business_trip_is_imported_started_and_rejected_in_the_browser(
    browser: Browser, site: Site
) -> None:
    json.loads(site.shell(NEW_LIST).splitlines()[-1])
    admin = new_context(browser).new_page()
    log_in(admin, site.server)
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Automation").click()
    admin.get_by_role("link", name="Import .bpt").click()
    admin.get_by_label("Template file (.bpt)").set_input_files(FIXTURE)
    admin.get_by_label("Entity type").select_option(label="Business trips")
    admin.get_by_label("Name", exact=True).fill("Business trip")
    admin.get_by_role("button", name="Import and open the editor").click()
    expect(admin.get_by_role("heading", name="Business trip", level=1)).to_be_visible()
    publish = admin.get_by_role("complementary", name="Publish")
    expect(publish).to_contain_text("Published: version 1")
    expect(publish).to_contain_text("user_11")  # the warnings: users that do not exist here
    expect(publish).to_contain_text("PROPERTY_WHERE")

    site.shell(CONSTANTS)
    admin.reload()
    publish.get_by_role("button", name="Publish").click()
    expect(publish.get_by_role("status").filter(has_text="version 2")).to_be_visible()
    admin.context.close()

    element = json.loads(site.shell(TRIP).splitlines()[-1])["element"]
    boris = new_context(browser).new_page()
    log_in(boris, site.server, username="boris")
    boris.wait_for_url(lambda url: "/accounts/login/" not in url)
    boris.goto(site.server.url + element)
    boris.get_by_role("link", name="Business trip", exact=True).click()
    boris.get_by_role("button", name="Start").click()
    reload_until(boris, "Утверждение руководителем")  # the Approve block's status message

    helen = new_context(browser).new_page()
    log_in(helen, site.server, username="helen")
    helen.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Tasks")
    ).click()
    waiting = helen.get_by_role("region", name="Waiting for you")
    waiting.get_by_role("link", name=re.compile(r"^Утверждение командировки Boris Ivanov")).click()
    expect(helen.get_by_text("Сотрудник: Boris Ivanov")).to_be_visible()
    helen.get_by_role("button", name="Отклонить командировку").click()
    expect(helen.get_by_text("Your answer was sent")).to_be_visible()
    helen.context.close()

    boris.goto(site.server.url + element)
    reload_until(boris, "Отказано (Helen Carter)")
    expect(boris.get_by_role("region", name="Completed processes")).to_contain_text("Business trip")
    boris.context.close()
