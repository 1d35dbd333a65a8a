"""Custom fields in a real browser: a deal's form with a money field, a moment, a yes/no
choice and a file, sent by htmx (the file goes as multipart), a refusal shown next to its
input, then the card with the values as people read them and the file to download; the form
fits a phone and axe-core finds nothing serious on it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Site, log_in, own_site

FIELDS = """
from crm import services
for code, kind, label, extra in [
    ("E2E_PRICE", "money", "Agreed price", {"settings": {"CURRENCY": "EUR"}}),
    ("E2E_MEETING", "datetime", "Meeting", {}),
    ("E2E_SIGNED", "boolean", "Signed by the client", {}),
    ("E2E_SEATS", "integer", "Seats", {}),
    ("E2E_SCAN", "file", "Contract scan", {}),
]:
    services.userfield_create(entity_type="DEAL", user=None, values={
        "code": code, "type": kind, "labels": {"form": {"en": label}}, **extra})
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory, "custom-fields") as started:
        started.shell(FIELDS)
        yield started


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']})"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_a_deal_with_custom_fields_from_its_form_to_its_card(
    page: Page, site: Site, tmp_path: Path
) -> None:
    scan = tmp_path / "contract.pdf"
    scan.write_bytes(b"%PDF-1.4 signed")
    log_in(page, site.server)
    page.goto(f"{site.server.url}/crm/deal/add/")
    page.get_by_label("Deal name").fill("Deal with extras")
    page.get_by_label("Agreed price", exact=True).fill("1500.5")
    expect(page.get_by_label("Currency: Agreed price")).to_have_value("EUR")
    page.get_by_label("Currency: Agreed price").select_option("USD")
    page.get_by_label("Meeting", exact=True).fill("2026-03-01T10:30")
    page.get_by_label("Signed by the client", exact=True).select_option(label="Yes")
    page.get_by_label("Seats", exact=True).fill("many")
    page.get_by_label("Contract scan", exact=True).set_input_files(scan)
    page.get_by_role("button", name="Save").click()

    seats_error = page.locator("#UF_CRM_E2E_SEATS-error")
    expect(seats_error).to_have_text("The value of field 'Seats' is not an integer.")
    expect(page.get_by_label("Seats", exact=True)).to_have_attribute("aria-invalid", "true")
    # The file went up with the refused form: it is held, not to be chosen again.
    expect(page.get_by_label("Remove “contract.pdf”")).not_to_be_checked()
    page.get_by_label("Seats", exact=True).fill("12")
    page.get_by_role("button", name="Save").click()

    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("1,500.50 USD")
    expect(details).to_contain_text("2026-03-01 10:30")
    expect(details).to_contain_text("Yes")
    with page.expect_download() as downloading:
        details.get_by_role("link", name="contract.pdf").click()
    download = downloading.value
    assert download.suggested_filename == "contract.pdf"
    assert Path(download.path()).read_bytes() == b"%PDF-1.4 signed"


def test_the_form_with_custom_fields_fits_a_phone_and_passes_axe(page: Page, site: Site) -> None:
    log_in(page, site.server)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{site.server.url}/crm/deal/add/")
    expect(page.get_by_label("Agreed price", exact=True)).to_be_visible()

    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 375
    assert serious_violations(page) == []
