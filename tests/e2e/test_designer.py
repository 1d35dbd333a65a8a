"""The visual designer in a real browser: with the mouse, with the keyboard only, and a refused
publication fixed through its linked problems. The server is started as `make run` starts it;
the smart scenarios the tests need are imported with `manage.py scenario_import`."""

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Site, log_in, manage, own_site


def scenario_export(name: str, parameters: dict, comment: str) -> dict:
    return {
        "format": "bizproc-designer/smart-scenario",
        "version": 1,
        "name": name,
        "document_type": ["crm", "CCrmDocumentDeal", "DEAL"],
        "parameters": parameters,
        "constants": {},
        "robots": [
            {"Type": "CrmTimelineCommentAdd", "Name": "R1", "Properties": {"CommentText": comment}}
        ],
    }


def parameter(name: str, type_: str, *, required: bool = False, default: str = "") -> dict:
    return {
        "Name": name,
        "Description": "",
        "Type": type_,
        "Required": "1" if required else "0",
        "Multiple": "0",
        "Default": default,
    }


SCENARIOS = [
    scenario_export(
        "Welcome pack",
        {
            "Greeting": parameter("Greeting", "string", required=True, default="Hello"),
            "Discount": parameter("Discount, %", "int", default="5"),
        },
        "{=Template:Greeting}: discount {=Template:Discount}%",
    ),
    scenario_export("Ping", {}, "Ping"),
    scenario_export(
        "Onboarding",
        {"Greeting": parameter("Greeting", "string", required=True, default="Welcome")},
        "{=Template:Greeting}",
    ),
]

# Gives the Onboarding scenario a new required parameter, as its designer might.
ADD_REQUIRED_PARAMETER = """
from bizproc.models import Scenario
from bizproc.scenarios import scenario_export, scenario_save
scenario = Scenario.objects.get(name="Onboarding")
data = scenario_export(scenario=scenario)
data["parameters"]["Channel"] = {"Name": "Channel", "Type": "string", "Required": "1"}
scenario_save(user=scenario.created_by, document_type=scenario.document_type_triple,
              name=scenario.name, parameters=data["parameters"], robots=data["robots"],
              scenario=scenario)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory, "designer") as started:
        for export in SCENARIOS:
            path = started.var_dir / f"{export['name']}.json"
            path.write_text(json.dumps(export))
            manage(started.var_dir, "scenario_import", str(path), "--user", "admin")
        yield started


def log_in_as_marketer(page: Page, site: Site) -> None:
    """Mark, the marketer: reads every record, starts processes, designs automation."""
    log_in(page, site.server, "mark", site.server.password)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def create_deal_template(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Automation").click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Entity type").select_option(label="Deals")
    page.get_by_role("button", name="Create and open the editor").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def block(page: Page, title: str) -> Locator:
    return page.get_by_role("group", name=title, exact=True)


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Presses Tab until ``target`` has focus, as a keyboard user would."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def test_with_the_mouse(page: Page, site: Site) -> None:
    log_in_as_marketer(page, site)
    create_deal_template(page, "Welcome flow")

    page.get_by_role("button", name="Start smart scenario").drag_to(
        page.get_by_role("button", name="Add block here")
    )
    dialog = page.get_by_role("dialog", name="Start smart scenario")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Item ID")).to_have_value("{=Document:ID}")
    expect(dialog.get_by_role("combobox", name="Run as user")).to_have_value(
        "{=Template:TargetUser}"
    )
    picker = dialog.get_by_role("combobox", name="Smart scenario")
    parameters = dialog.get_by_role("heading", name="Smart scenario start parameters")

    picker.select_option(label="Welcome pack")
    expect(parameters).to_be_visible()
    expect(dialog.get_by_label("Greeting")).to_have_value("Hello")
    expect(dialog.get_by_label("Discount, %")).to_have_value("5")
    picker.select_option(label="Ping")
    expect(parameters).to_have_count(0)
    picker.select_option(label="Welcome pack")
    expect(parameters).to_be_visible()

    greeting = dialog.get_by_label("Greeting")
    greeting.fill("")
    dialog.get_by_role("button", name="Insert value into Greeting").click()
    dialog.get_by_role("menuitem", name=re.compile(r"^Deal name")).click()
    expect(greeting).to_have_value("{=Document:TITLE}")
    expect(greeting).to_be_focused()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    started = block(page, "Start smart scenario")
    expect(started).to_be_focused()
    expect(started).to_contain_text("“Welcome pack” · on {=Document:ID}")

    page.get_by_label("Comment (optional)").fill("First version")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="Published as version 1.")).to_be_visible()

    page.reload()
    started = block(page, "Start smart scenario")
    expect(started).to_contain_text("“Welcome pack” · on {=Document:ID}")
    started.dblclick()
    dialog = page.get_by_role("dialog", name="Start smart scenario")
    expect(dialog.get_by_role("combobox", name="Smart scenario")).to_have_value(re.compile(r"\d+"))
    expect(dialog.get_by_role("combobox", name="Smart scenario")).to_contain_text("Welcome pack")
    expect(dialog.get_by_label("Greeting")).to_have_value("{=Document:TITLE}")
    expect(dialog.get_by_label("Discount, %")).to_have_value("5")
    dialog.get_by_role("button", name="Cancel").click()
    expect(started).to_be_focused()

    # Start it on a deal from the deal's processes tab.
    deal_id, title = (
        manage(
            site.var_dir,
            "shell",
            "--no-imports",
            "-c",
            "from crm.models import Deal; d = Deal.objects.order_by('pk').first(); "
            "print(d.pk, d.title, sep='|')",
        )
        .strip()
        .split("|")
    )
    page.goto(f"{site.server.url}/bizproc/documents/DEAL_{deal_id}/processes/")
    page.get_by_role("link", name="Welcome flow").click()
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_role("heading", name="Workflow log")).to_be_visible()
    journal = page.locator("#journal")
    expect(journal).to_contain_text(f"Smart scenario “Welcome pack” queued for DEAL_{deal_id}")
    page.get_by_role("link", name="All records").click()
    expect(journal.get_by_role("row").filter(has_text="Start action")).not_to_have_count(0)
    expect(journal.get_by_role("row").filter(has_text="Start smart scenario").first).to_be_visible()

    # The scenario's run on the deal: its process, and the comment its robot wrote.
    processes = f"{site.server.url}/bizproc/documents/DEAL_{deal_id}/processes/"
    for _ in range(30):
        page.goto(processes)
        if page.get_by_role("link", name="Welcome pack").count():
            break
        page.wait_for_timeout(500)
    page.get_by_role("link", name="Welcome pack").first.click()
    page.get_by_role("link", name="All records").click()
    expect(page.locator("#journal")).to_contain_text("Add a comment")
    page.goto(f"{site.server.url}/crm/deal/{deal_id}/")
    expect(page.get_by_text(f"{title}: discount 5%")).to_be_visible()


def test_with_the_keyboard_only(page: Page, site: Site) -> None:
    log_in_as_marketer(page, site)
    create_deal_template(page, "Keyboard flow")
    keyboard = page.keyboard
    menu = page.get_by_role("menu", name="Add block")

    # A condition, from the "Add block here" menu.
    tab_to(page, page.get_by_role("button", name="Add block here"))
    keyboard.press("Enter")
    expect(menu).to_be_visible()
    keyboard.type("Condition")
    expect(menu.get_by_role("menuitem", name="Condition")).to_be_focused()
    keyboard.press("Enter")
    expect(block(page, "Condition").first).to_be_focused()  # the block; its branch follows
    expect(page.get_by_role("list", name="Otherwise")).to_be_visible()

    # Its first branch gets a condition: Deal name contains "VIP".
    first_branch = page.locator('[aria-roledescription="branch"]').first
    tab_to(page, first_branch)
    keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    tab_to(page, dialog.get_by_role("button", name="Add condition"))
    keyboard.press("Enter")
    expect(dialog.get_by_role("combobox", name="Field")).to_be_focused()
    keyboard.type("Deal name")
    keyboard.press("Tab")
    keyboard.type("contains")
    keyboard.press("Tab")
    keyboard.type("VIP")
    tab_to(page, dialog.get_by_role("button", name="Save"))
    keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(first_branch).to_be_focused()
    expect(first_branch).to_contain_text("TITLE contains VIP")

    # A Start smart scenario block inside that branch.
    branch_list = page.get_by_role("list", name="Condition", exact=True)
    tab_to(page, branch_list.get_by_role("button", name="Add block here"))
    keyboard.press("Enter")
    keyboard.type("Start smart")
    expect(menu.get_by_role("menuitem", name="Start smart scenario")).to_be_focused()
    keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Start smart scenario")
    expect(dialog).to_be_visible()
    tab_to(page, dialog.get_by_role("combobox", name="Smart scenario"))
    keyboard.type("Ping")
    expect(dialog.get_by_role("combobox", name="Smart scenario")).to_contain_text("Ping")
    tab_to(page, dialog.get_by_role("button", name="Save"))
    keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(block(page, "Start smart scenario")).to_be_focused()
    expect(block(page, "Start smart scenario")).to_contain_text("“Ping”")

    # A pause after the condition.
    root_end = page.locator('[data-container="Template"] > .slot').last.get_by_role("button")
    tab_to(page, root_end)
    keyboard.press("Enter")
    keyboard.type("Pause")
    keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Pause execution")
    tab_to(page, dialog.get_by_label("Wait for"))
    keyboard.type("10")
    keyboard.press("Enter")  # submits the dialog's form
    expect(dialog).to_have_count(0)
    pause = block(page, "Pause execution")
    expect(pause).to_be_focused()

    # Move the pause up, above the condition: focus stays on it.
    keyboard.press("Alt+ArrowUp")
    expect(pause).to_be_focused()
    expect(page.locator('[data-container="Template"] > .node > .block').first).to_contain_text(
        "Pause execution"
    )

    # A report added to the Otherwise branch, its dialog left with Escape: it is not added.
    otherwise = page.get_by_role("list", name="Otherwise")
    tab_to(page, otherwise.get_by_role("button", name="Add block here"))
    keyboard.press("Enter")
    keyboard.type("Write")
    keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Write to report")
    expect(dialog).to_be_visible()
    keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(block(page, "Write to report")).to_have_count(0)
    expect(otherwise.get_by_role("button", name="Add block here")).to_be_focused()

    tab_to(page, page.get_by_role("button", name="Publish"))
    keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Published as version 1.")).to_be_visible()


def test_a_dialog_checks_what_is_typed_and_a_new_blocks_cancel_takes_it_back(
    page: Page, site: Site
) -> None:
    log_in_as_marketer(page, site)
    create_deal_template(page, "Checked flow")
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_disabled()

    # A broken expression: the dialog stays open, the error is next to the field.
    page.get_by_role("button", name="Write to report").click()
    dialog = page.get_by_role("dialog", name="Write to report")
    text = dialog.get_by_label("Text")
    text.fill("Deal {=Document:TITLE")
    dialog.get_by_role("button", name="Save").click()
    expect(text).to_have_accessible_description(re.compile(r"Incorrect variable name"))
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_be_focused()
    expect(text).to_have_value("Deal {=Document:TITLE")
    # Left empty: it is required.
    text.fill("")
    dialog.get_by_role("button", name="Save").click()
    expect(text).to_have_accessible_description(re.compile(r"The field 'Text' is required\."))
    expect(dialog).to_be_visible()

    # Never saved, the new block goes with its dialog, and leaves nothing to undo.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(block(page, "Write to report")).to_have_count(0)
    expect(page.get_by_role("button", name="Add block here")).to_be_focused()
    expect(undo).to_be_disabled()

    # Typed right, it saves; cancelling its dialog later changes nothing.
    page.get_by_role("button", name="Write to report").click()
    dialog.get_by_label("Text").fill("Deal {=Document:TITLE}")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    report = block(page, "Write to report")
    expect(report).to_contain_text("Deal {=Document:TITLE}")
    report.get_by_role("button", name="Edit").click()
    dialog.get_by_label("Text").fill("")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(report).to_be_focused()
    page.reload()
    expect(block(page, "Write to report")).to_contain_text("Deal {=Document:TITLE}")


# Every list of the tree as drawn: its name and label, then its items in order — an insertion
# point, or a block with its title and whether it may move up and down.
DRAWN_LISTS = """() => [...document.querySelectorAll("#tree ol.blocks")].map((list) => [
  list.id, list.getAttribute("aria-label"),
  [...list.children].map((item) => {
    if (item.matches(".slot")) return "+";
    const card = item.querySelector(":scope > .block");
    const movable = (action) => !card.querySelector(`[data-action=${action}]`).disabled;
    const title = card.querySelector(".block-title").textContent;
    return [item.id, title, movable("up"), movable("down")];
  }),
])"""


def test_edits_answered_with_their_changes_draw_what_a_reload_draws(page: Page, site: Site):
    """Inserting, moving, duplicating and deleting blocks answer with the changes only; the
    page then shows the very tree a reload draws, and goes on editing it without conflicts."""
    log_in_as_marketer(page, site)
    create_deal_template(page, "Changes flow")
    answered_with_changes = []
    page.on(
        "response",
        lambda response: (
            answered_with_changes.append(response.url)
            if response.headers.get("hx-retarget") == "#tree-state"
            else None
        ),
    )
    tree = page.locator("#tree")
    palette = page.get_by_role("complementary", name="Blocks")
    menu = page.get_by_role("menu", name="Add block")

    def add_from_palette(title: str, *, required: tuple[str, str] | None = None) -> None:
        """Adds a block from the palette and, if it has a dialog, fills what it requires."""
        palette.get_by_role("button", name=title, exact=True).click()
        if required:
            opened = page.get_by_role("dialog", name=title)
            opened.get_by_label(required[0]).fill(required[1])
            opened.get_by_role("button", name="Save").click()
            expect(opened).to_have_count(0)
        expect(block(page, title).first).to_be_focused()  # (a condition's branch comes after)

    def same_as_reloaded() -> None:
        drawn = page.evaluate(DRAWN_LISTS)
        page.reload()
        expect(tree.get_by_role("alert")).to_have_count(0)
        assert page.evaluate(DRAWN_LISTS) == drawn

    add_from_palette("Pause execution", required=("Wait for", "10"))
    add_from_palette("Write to report", required=("Text", "Done"))
    titles = page.locator('[data-container="Template"] > .node > .block .block-title')
    # Before the pause, from the first "Add block here": one whose dialog is cancelled is
    # not added, and one saved as its dialog opens is.
    tree.get_by_role("button", name="Add block here").first.click()
    menu.get_by_role("menuitem", name="Set variables").click()
    page.get_by_role("dialog", name="Set variables").get_by_role("button", name="Cancel").click()
    expect(block(page, "Set variables")).to_have_count(0)
    expect(block(page, "Pause execution")).to_be_focused()
    expect(titles).to_have_text(["Pause execution", "Write to report"])
    tree.get_by_role("button", name="Add block here").first.click()
    menu.get_by_role("menuitem", name="Terminate process").click()
    page.get_by_role("dialog", name="Terminate process").get_by_role("button", name="Save").click()
    terminate = block(page, "Terminate process")
    expect(terminate).to_be_focused()
    expect(titles).to_have_text(["Terminate process", "Pause execution", "Write to report"])
    page.keyboard.press("Alt+ArrowDown")  # below the pause
    expect(titles).to_have_text(["Pause execution", "Terminate process", "Write to report"])
    expect(terminate).to_be_focused()
    block(page, "Write to report").get_by_role("button", name="Duplicate").click()
    expect(block(page, "Write to report").nth(1)).to_be_focused()  # the copy, after it
    pause = block(page, "Pause execution")
    pause.focus()
    page.keyboard.press("Delete")
    expect(pause).to_have_count(0)
    expect(terminate).to_be_focused()  # first now: it cannot move up
    expect(terminate.get_by_role("button", name="Move up")).to_be_disabled()
    same_as_reloaded()

    # A condition; a report moved into its "Otherwise" branch with "Move to…", and back.
    add_from_palette("Condition")
    otherwise = page.get_by_role("list", name="Otherwise")
    report = block(page, "Write to report").first
    report.get_by_role("button", name="Move to…").click()
    otherwise.get_by_role("button", name="Move here").click()
    expect(otherwise.get_by_role("group", name="Write to report")).to_have_count(1)
    expect(tree.get_by_role("button", name="Move here")).to_have_count(0)
    moved = otherwise.get_by_role("group", name="Write to report")
    expect(moved).to_be_focused()
    page.keyboard.press("Delete")
    expect(moved).to_have_count(0)
    expect(otherwise.get_by_role("button", name="Add block here")).to_be_focused()
    expect(tree.get_by_role("alert")).to_have_count(0)
    same_as_reloaded()
    assert len(answered_with_changes) == 11  # every edit above (a dialog saved: its card)


def test_publish_is_refused_with_linked_problems_until_they_are_fixed(
    page: Page, site: Site
) -> None:
    log_in_as_marketer(page, site)
    create_deal_template(page, "Onboarding flow")

    # An incomplete block: a report without text, its dialog left open when the page went.
    page.get_by_role("button", name="Write to report").click()
    expect(page.get_by_role("dialog", name="Write to report")).to_be_visible()
    page.reload()
    expect(block(page, "Write to report")).to_be_visible()

    # A Start smart scenario block, complete for the scenario as it is now.
    page.get_by_role("button", name="Start smart scenario").click()
    dialog = page.get_by_role("dialog", name="Start smart scenario")
    dialog.get_by_role("combobox", name="Smart scenario").select_option(label="Onboarding")
    expect(dialog.get_by_label("Greeting")).to_have_value("Welcome")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)

    # Meanwhile the scenario gets a required parameter the block does not fill.
    manage(site.var_dir, "shell", "-c", ADD_REQUIRED_PARAMETER)

    page.get_by_role("button", name="Publish").click()
    problems = page.locator("#publish-panel").get_by_role("alert")
    expect(problems).to_contain_text("The template has problems and was not published.")
    missing_text = problems.get_by_role("link", name="The field 'Text' is required.")
    missing_channel = problems.get_by_role("link", name="The required parameter is empty: Channel.")
    expect(missing_text).to_be_visible()
    expect(missing_channel).to_be_visible()

    missing_text.click()
    report = block(page, "Write to report")
    expect(report).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Write to report")
    dialog.get_by_label("Text").fill("Onboarding {=Document:TITLE}")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)

    missing_channel.click()
    expect(block(page, "Start smart scenario")).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Start smart scenario")
    expect(dialog.get_by_label("Channel")).to_have_value("")
    dialog.get_by_label("Channel").fill("email")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="Published as version 1.")).to_be_visible()
