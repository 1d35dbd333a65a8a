"""Every page, as the admin and as a restricted user, in English and in Russian, on a laptop and
on a phone: nothing pushes the page wider than the window, and axe-core finds no serious or
critical accessibility problem (issue 19).

CI crawls each user in each language once, at one of the two viewports (the four pairs cover
both viewports in both languages); ``E2E_CRAWL=full`` crawls all eight combinations.
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server, log_in, new_context

LAPTOP = (1280, 800)
PHONE = (390, 844)
# The restricted user: a sales manager, who sees and changes only their own records and may not
# design automation.
RESTRICTED = "boris"
SERIOUS = {"serious", "critical"}
FULL_MATRIX = [
    (user, language, viewport)
    for user in ("admin", RESTRICTED)
    for language in ("en", "ru")
    for viewport in (LAPTOP, PHONE)
]
CI_MATRIX = [
    ("admin", "en", LAPTOP),
    ("admin", "ru", PHONE),
    (RESTRICTED, "en", PHONE),
    (RESTRICTED, "ru", LAPTOP),
]
MATRIX = FULL_MATRIX if os.environ.get("E2E_CRAWL") == "full" else CI_MATRIX

axe = Axe()


@dataclass
class Problems:
    overflow: list[str]
    accessibility: list[str]


def _hrefs(page: Page, pattern: str) -> list[str]:
    """The page's link targets (paths) matching ``pattern``, in page order, without repeats."""
    found = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return list(dict.fromkeys(h for h in found if re.fullmatch(pattern, h.split("?")[0])))


def _first(page: Page, pattern: str) -> str | None:
    hrefs = _hrefs(page, pattern)
    return hrefs[0] if hrefs else None


def _open(page: Page, url: str) -> int:
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    return response.status if response else 0


def set_language(page: Page, server: Server, language: str) -> None:
    """Chooses the language on the profile page, as the user would."""
    page.goto(f"{server.url}/accounts/profile/")
    page.get_by_label(re.compile(r"^(Language|Язык)$")).select_option(language)
    page.get_by_role("button", name=re.compile(r"^(Save|Сохранить)$")).first.click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def discover(page: Page, server: Server, *, admin: bool) -> dict[str, str]:
    """The pages to visit, found by following the links a user would follow."""
    base = server.url
    pages: dict[str, str] = {}
    for entity in ("lead", "contact", "company", "deal"):
        pages[f"{entity} list"] = f"/crm/{entity}/"
        _open(page, f"{base}/crm/{entity}/")
        card = _first(page, rf"/crm/{entity}/\d+/")
        if card:
            pages[f"{entity} card"] = card
    pages["record form (new deal)"] = "/crm/deal/add/"
    deal = pages.get("deal card")
    if deal:
        pages["record form (edit deal)"] = f"{deal}edit/"
        _open(page, f"{base}{deal}")
        start = _first(page, r"/bizproc/documents/[A-Z]+_\d+/processes/start/\d+/")
        if start:
            pages["start a process"] = start
        journal = _first(page, r"/bizproc/documents/[A-Z]+_\d+/journal/")
        if journal:
            pages["record journal"] = journal
        scenario_start = _first(page, r"/bizproc/scenarios/\d+/start/")
        if scenario_start:
            pages["start a smart scenario"] = _hrefs(page, r"/bizproc/scenarios/\d+/start/")[0]
    pages["processes"] = "/bizproc/processes/"
    _open(page, f"{base}/bizproc/processes/")
    process = _first(page, r"/bizproc/processes/[0-9a-f.]+/")
    if process:
        pages["a process"] = process
    pages["smart scenarios"] = "/bizproc/scenarios/"
    _open(page, f"{base}/bizproc/scenarios/")
    scenario = _first(page, r"/bizproc/scenarios/\d+/")
    if scenario:
        pages["a smart scenario"] = scenario
    pages["tasks"] = "/bizproc/tasks/"
    _open(page, f"{base}/bizproc/tasks/")
    task = _first(page, r"/bizproc/tasks/\d+/")
    if task:
        pages["a task"] = task
    discover_lists(page, server, pages, admin=admin)
    discover_company(page, server, pages, admin=admin)
    pages["profile"] = "/accounts/profile/"
    pages["not found (404)"] = "/crm/deal/999999999/"
    if admin:
        pages["templates"] = "/designer/"
        _open(page, f"{base}/designer/")
        editor = _first(page, r"/designer/\d+/")
        if editor:
            pages["template editor"] = editor
            pages["template versions"] = f"{editor}versions/"
        pages["template import"] = "/designer/import/"
        pages["scenario designer"] = "/designer/scenarios/"
        _open(page, f"{base}/designer/scenarios/")
        scenario_editor = _first(page, r"/designer/scenarios/\d+/")
        if scenario_editor:
            pages["scenario editor"] = scenario_editor
        discover_globals(page, server, pages)
        pages["deal fields"] = "/crm/deal/fields/"
        pages["new deal field"] = "/crm/deal/fields/add/"
        _open(page, f"{base}/crm/deal/fields/")
        field = _first(page, r"/crm/deal/fields/\d+/")
        if field:
            pages["edit deal field"] = field
            pages["delete deal field"] = f"{field}delete/"
        pages["admin"] = "/admin/"
        pages["admin deals"] = "/admin/crm/deal/"
        pages["admin custom fields"] = "/admin/crm/userfield/"
    else:
        pages["designer, refused (403)"] = "/designer/"
        pages["deal fields, refused (403)"] = "/crm/deal/fields/"
        pages["global constants, refused (403)"] = "/designer/globals/constants/"
    return pages


def discover_globals(page: Page, server: Server, pages: dict[str, str]) -> None:
    """Global constants and variables: both lists, the new form, and a constant's form and
    delete confirmation (``defined_global`` makes one)."""
    pages["global constants"] = "/designer/globals/constants/"
    pages["global variables"] = "/designer/globals/variables/"
    pages["new global constant"] = "/designer/globals/constants/new/"
    _open(page, f"{server.url}/designer/globals/constants/")
    found = _first(page, r"/designer/globals/constants/\d+/")
    if found:
        pages["edit global constant"] = found
        pages["delete global constant"] = f"{found}delete/"


def discover_lists(page: Page, server: Server, pages: dict[str, str], *, admin: bool) -> None:
    """The lists pages: the index, a list's table, an element's card and form, the Requests
    pages; the settings and fields pages for an administrator (403 for anyone else)."""
    base = server.url
    pages["lists"] = "/lists/"
    _open(page, f"{base}/lists/")
    table = _first(page, r"/lists/\d+/")
    if table:
        pages["a list's elements"] = table
        _open(page, f"{base}{table}")
        card = _first(page, r"/lists/\d+/\d+/")
        if card:
            pages["an element"] = card
            _open(page, f"{base}{card}")
            if _first(page, r"/lists/\d+/\d+/edit/"):
                pages["element form (edit)"] = f"{card}edit/"
        if _first(page, r"/lists/\d+/add/"):
            pages["element form (new)"] = f"{table}add/"
    pages["requests"] = "/lists/requests/"
    _open(page, f"{base}/lists/requests/")
    request_form = _first(page, r"/lists/requests/\d+/new/")
    if request_form:
        pages["request form"] = request_form
    pages["my requests"] = "/lists/requests/mine/"
    if admin:
        pages["new list"] = "/lists/new/"
        if table:
            pages["list settings"] = f"{table}settings/"
            pages["list fields"] = f"{table}fields/"
            pages["new list field"] = f"{table}fields/add/"
            _open(page, f"{base}{table}fields/")
            list_field = _first(page, r"/lists/\d+/fields/\d+/")
            if list_field:
                pages["edit list field"] = list_field
        pages["admin lists"] = "/admin/lists/list/"
        pages["admin list elements"] = "/admin/lists/element/"
    else:
        pages["new list, refused (403)"] = "/lists/new/"


def discover_company(page: Page, server: Server, pages: dict[str, str], *, admin: bool) -> None:
    """The company structure and the absence chart; the structure's forms for an administrator
    (403 for anyone else)."""
    base = server.url
    pages["company structure"] = "/accounts/company/"
    pages["absence chart"] = "/accounts/absences/"
    pages["working calendar"] = "/accounts/company/calendar/"
    if admin:
        pages["new department"] = "/accounts/company/departments/add/"
        _open(page, f"{base}/accounts/company/")
        department = _first(page, r"/accounts/company/departments/\d+/")
        if department:
            pages["edit department"] = department
            pages["delete department"] = f"{department}delete/"
        person = _first(page, r"/accounts/company/people/\d+/")
        if person:
            pages["a person's departments"] = person
        pages["admin departments"] = "/admin/accounts/department/"
        pages["admin absences"] = "/admin/accounts/absence/"
        pages["admin working calendar"] = "/admin/bizproc/workcalendar/"
    else:
        pages["new department, refused (403)"] = "/accounts/company/departments/add/"


def check(page: Page, name: str, problems: Problems) -> None:
    """Records what is wrong with the page as it is now."""
    width = page.evaluate("document.scrollingElement.scrollWidth")
    window = page.evaluate("innerWidth")
    if width > window:
        problems.overflow.append(f"{name} ({page.url}): {width} px wide in a {window} px window")
    results = axe.run(page)
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            problems.accessibility.append(
                f"{name} ({page.url}): {violation['id']} ({violation['impact']}) at {targets}"
            )


@pytest.fixture(scope="module")
def started_process(browser: Browser, server: Server) -> None:
    """A running approval on a deal, so that there is a process, a journal and a task to see."""
    context = new_context(browser)
    page = context.new_page()
    log_in(page, server)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    _open(page, f"{server.url}/crm/deal/")
    _open(page, f"{server.url}{_first(page, r'/crm/deal/\d+/')}")
    starts = page.get_by_role("region", name="Start new business process")
    starts.get_by_role("link", name="Discount approval").click()
    page.get_by_label("Discount, %").fill("7")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/bizproc/processes/[0-9a-f.]+/"))
    context.close()


@pytest.fixture(scope="module")
def defined_global(browser: Browser, server: Server) -> None:
    """A global constant holding people, so that its list, form and delete page have one."""
    context = new_context(browser)
    page = context.new_page()
    log_in(page, server)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{server.url}/designer/globals/constants/new/")
    page.get_by_label("Name").fill("Crawl approvers with a long name that has to wrap somewhere")
    page.get_by_label("Type").select_option("user")
    picker = page.get_by_role("combobox", name="Value")
    expect(picker).to_have_attribute("placeholder", "Find by name")
    page.get_by_label("Multiple").check()
    expect(picker).to_have_attribute("placeholder", "Add a person: type a name")
    for person in ("Irina", "Boris"):
        picker.fill(person)
        page.get_by_role("option", name=re.compile(person)).first.click()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/designer/globals/constants/$"))
    context.close()


@pytest.fixture
def visitor(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    user, language, (width, height) = request.param
    context = new_context(browser)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, server, username=user)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    set_language(page, server, language)
    yield page
    set_language(page, server, "en")
    context.close()


@pytest.mark.usefixtures("started_process", "defined_global")
@pytest.mark.parametrize(
    "visitor",
    MATRIX,
    ids=[f"{user}-{language}-{width}x{height}" for user, language, (width, height) in MATRIX],
    indirect=True,
)
def test_every_page_fits_the_window_and_passes_axe(visitor: Page, server: Server) -> None:
    page = visitor
    admin = page.get_by_role("link", name=re.compile(r"^(Admin|Администрирование)$")).count() > 0
    problems = Problems(overflow=[], accessibility=[])
    pages = discover(page, server, admin=admin)
    for name, path in pages.items():
        status = _open(page, f"{server.url}{path}")
        expected = 404 if "404" in name else 403 if "403" in name else 200
        assert status == expected, f"{name} ({path}) answered {status}"
        check(page, name, problems)
        if name == "template editor":
            page.locator('.block [data-action="edit"]').first.click()
            expect(page.get_by_role("dialog")).to_be_visible()
            check(page, "template editor, a block's dialog open", problems)
    report = []
    if problems.overflow:
        report += ["Wider than the window:", *problems.overflow]
    if problems.accessibility:
        report += ["Serious or critical accessibility problems:", *problems.accessibility]
    assert not report, "\n".join(report)
    expected_pages = {"deal card", "start a process", "record journal", "tasks", "lists"}
    expected_pages |= {"absence chart", "working calendar"}
    expected_pages |= {"edit department"} if admin else set()
    expected_pages |= {"a process", "a task", "template editor"} if admin else set()
    expected_pages |= {"edit global constant"} if admin else set()
    assert expected_pages <= pages.keys(), f"not reached: {expected_pages - pages.keys()}"
