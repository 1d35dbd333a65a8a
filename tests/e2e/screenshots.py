"""Screenshots on demand, for a designer's eye (issue 19): the deal card, the editor with the
Start smart scenario dialog open, the record's journal and the tasks page, in English and
Russian, on a laptop (1280×800) and a phone (390×844), full page, into var/screenshots/.

    .venv/bin/python -m tests.e2e.screenshots

Starts the real server on a fresh demo company (as the browser tests do), starts a Discount
approval on a deal so that the card, the journal and the tasks page have something to show.
Not a test, and its pictures are not committed.
"""

import re
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.conftest import ROOT, chromium_executable, log_in, manage, start_server, stop_server

OUT = ROOT / "var" / "screenshots"
VIEWPORTS = {"laptop": (1280, 800), "phone": (390, 844)}


def _settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")


def prepare(page: Page, base: str) -> tuple[str, str]:
    """Starts a Discount approval on the first deal; returns the card's and the editor's paths."""
    page.goto(f"{base}/crm/deal/")
    page.locator("table.records tbody tr").first.get_by_role("link").first.click()
    card = page.url.removeprefix(base)
    _settle(page)
    starts = page.get_by_role("region", name="Start new business process")
    starts.get_by_role("link", name="Discount approval").click()
    page.get_by_label("Discount, %").fill("7")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/bizproc/processes/"))
    page.goto(f"{base}/designer/")
    page.get_by_role("link", name="Deal follow-up").first.click()
    return card, page.url.removeprefix(base)


def shoot(page: Page, base: str, card: str, editor: str, prefix: str) -> list[Path]:
    shots = []

    def save(name: str) -> None:
        path = OUT / f"{prefix}-{name}.png"
        page.screenshot(path=path, full_page=True)
        shots.append(path)

    page.goto(f"{base}{card}")
    _settle(page)
    save("card")
    page.goto(f"{base}{editor}")
    _settle(page)
    page.locator('.palette-item[data-type="StartScriptActivity"]').click()
    expect(page.get_by_role("dialog")).to_be_visible()
    _settle(page)
    page.screenshot(path=OUT / f"{prefix}-editor-start-scenario-dialog.png")  # the window
    shots.append(OUT / f"{prefix}-editor-start-scenario-dialog.png")
    page.keyboard.press("Escape")
    document_id = "DEAL_" + card.strip("/").split("/")[-1]
    page.goto(f"{base}/bizproc/documents/{document_id}/journal/")
    _settle(page)
    save("journal")
    page.goto(f"{base}/bizproc/tasks/")
    _settle(page)
    save("tasks")
    return shots


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as var_dir:
        server = start_server(Path(var_dir))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_executable(), args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                log_in(page, server)
                page.wait_for_url(lambda url: "/accounts/login/" not in url)
                card, editor = prepare(page, server.url)
                for language in ("en", "ru"):
                    manage(
                        Path(var_dir),
                        "shell",
                        "-c",
                        "from accounts.models import User; "
                        f"User.objects.filter(username='admin').update(language='{language}')",
                    )
                    for name, (width, height) in VIEWPORTS.items():
                        page.set_viewport_size({"width": width, "height": height})
                        for path in shoot(page, server.url, card, editor, f"{language}-{name}"):
                            print(path.relative_to(ROOT))
                browser.close()
        finally:
            stop_server(server)


if __name__ == "__main__":
    main()
