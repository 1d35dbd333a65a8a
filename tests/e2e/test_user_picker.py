"""The user picker in a real browser: people found by name and chosen with the keyboard and
with the mouse, shown by name while the field saves Bitrix's ``user_<id>`` — in a block's
dialog and on a CRM record's form. What was saved is read from the server's database."""

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Site, log_in, own_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory, "picker") as started:
        yield started


def user_value(site: Site, username: str) -> str:
    code = f"from accounts.models import User; print(User.objects.get(username={username!r}).pk)"
    return f"user_{site.shell(code)}"


def expect_chosen(chosen: Locator, names: list[str]) -> None:
    """The chips, in order: each names its person and has the button that removes them."""
    chips = chosen.get_by_role("listitem")
    expect(chips).to_have_count(len(names))
    for index, name in enumerate(names):
        expect(chips.nth(index)).to_contain_text(name)
        expect(chips.nth(index).get_by_role("button", name=f"Remove {name}")).to_be_visible()


def person(name: str) -> re.Pattern:
    """An option or chip's accessible name: the person's name, then their e-mail."""
    return re.compile(rf"^{name}\b")


def test_picking_task_performers_by_keyboard_and_by_mouse(page: Page, site: Site) -> None:
    log_in(page, site.server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Automation").click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill("Approval by people")
    page.get_by_label("Entity type").select_option(label="Deals")
    page.get_by_role("button", name="Create and open the editor").click()
    page.get_by_role("button", name="Approve document").first.click()
    dialog = page.get_by_role("dialog", name="Approve document")
    users = dialog.get_by_role("combobox", name="Users")
    chosen = dialog.get_by_role("list", name="Chosen: Users")
    options = page.get_by_role("listbox", name="Users")

    # The keyboard: type part of a name, arrow down to the person, Enter.
    users.focus()
    users.press_sequentially("smirn")
    expect(options.get_by_role("option", name=person("Olga Smirnova"))).to_be_visible()
    expect(users).to_have_attribute("aria-expanded", "true")
    users.press("ArrowDown")
    expect(users).to_have_attribute("aria-activedescendant", re.compile(r".+"))
    users.press("Enter")
    expect_chosen(chosen, ["Olga Smirnova"])
    expect(users).to_have_value("")
    expect(users).to_be_focused()
    expect(options).to_be_hidden()

    # Escape closes the list, not the dialog.
    users.press_sequentially("an")
    expect(options).to_be_visible()
    users.press("Escape")
    expect(options).to_be_hidden()
    expect(dialog).to_be_visible()
    users.fill("")

    # The mouse: click into the box, then on the person.
    users.click()
    options.get_by_role("option", name=person("Boris Ivanov")).click()
    expect_chosen(chosen, ["Olga Smirnova", "Boris Ivanov"])
    expect(dialog).not_to_contain_text("user_")

    # A chip goes with its button; focus moves to the chip beside it.
    users.press_sequentially("carter")
    options.get_by_role("option", name=person("Helen Carter")).click()
    dialog.get_by_role("button", name="Remove Helen Carter").click()
    expect_chosen(chosen, ["Olga Smirnova", "Boris Ivanov"])
    expect(dialog.get_by_role("button", name="Remove Boris Ivanov")).to_be_focused()

    dialog.get_by_label("Task name").fill("Approve the discount")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)

    saved = site.shell(
        "import json; from bizproc.models import Template; from bizproc.tree import walk; "
        "t = Template.objects.get(name='Approval by people'); "
        "print(json.dumps([n['Properties']['Users'] for n in walk(t.tree) "
        "if n['Type'] == 'ApproveActivity']))"
    )
    assert json.loads(saved) == [[user_value(site, "olga"), user_value(site, "boris")]]

    # Opened again, the dialog names the people it saved.
    page.get_by_role("group", name="Approve document", exact=True).dblclick()
    dialog = page.get_by_role("dialog", name="Approve document")
    expect_chosen(
        dialog.get_by_role("list", name="Chosen: Users"), ["Olga Smirnova", "Boris Ivanov"]
    )


def test_choosing_the_responsible_of_a_deal(page: Page, site: Site) -> None:
    log_in(page, site.server)
    page.goto(f"{site.server.url}/crm/deal/add/")
    page.get_by_label("Deal name").fill("Picked by name")
    responsible = page.get_by_role("combobox", name="Responsible")
    chosen = page.get_by_role("list", name="Chosen: Responsible")
    expect_chosen(chosen, ["Irina Sokolova"])  # whoever adds it, at first

    # The keyboard: the person chosen replaces the one before.
    responsible.focus()
    responsible.press_sequentially("mark")
    expect(page.get_by_role("option", name=person("Mark Lee"))).to_be_visible()
    responsible.press("ArrowDown")
    responsible.press("Enter")
    expect_chosen(chosen, ["Mark Lee"])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Picked by name", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Mark Lee")
    expect(page.locator("main")).not_to_contain_text("user_")
    stored = (
        "from crm.models import Deal; "
        "print(Deal.objects.get(title='Picked by name').assigned_by_id)"
    )
    assert f"user_{site.shell(stored)}" == user_value(site, "mark")

    # The mouse, on the edit form.
    page.get_by_role("link", name="Edit").click()
    responsible = page.get_by_role("combobox", name="Responsible")
    responsible.click()
    page.get_by_role("option", name=person("Helen Carter")).click()
    expect_chosen(page.get_by_role("list", name="Chosen: Responsible"), ["Helen Carter"])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Picked by name", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Helen Carter")
    assert f"user_{site.shell(stored)}" == user_value(site, "helen")

    # The list of deals, filtered by the responsible picked by name.
    page.goto(f"{site.server.url}/crm/deal/")
    filter_by = page.get_by_role("combobox", name="Responsible")
    filter_by.press_sequentially("helen")
    filter_by.press("ArrowDown")
    filter_by.press("Enter")
    expect(page).to_have_url(re.compile(rf"assigned={user_value(site, 'helen')}\b"))
    expect(page.get_by_role("link", name="Picked by name")).to_be_visible()
