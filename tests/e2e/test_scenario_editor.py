"""The smart scenario editor in a real browser, by keyboard only: a deal scenario with four typed
start parameters and three robots, reordered and published; then a template's Start smart
scenario dialog offers it with its parameters, and it runs on a deal to completion."""

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server, log_in

NAME = "Keyboard welcome"
WIDGETS = {"text": ("type", "text"), "number": ("inputmode", "decimal")}


def tab_to(page: Page, target: Locator, limit: int = 120) -> None:
    """Presses Tab until ``target`` has focus, as a keyboard user would."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def settled(page: Page) -> None:
    """Waits until htmx has finished the last swap: its new buttons work only from then on."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def card(page: Page, title: str) -> Locator:
    return page.get_by_role("group", name=title, exact=True)


def add_parameter(
    page: Page,
    code: str,
    name: str,
    type_: str,
    *,
    type_value: str,
    widget: str,
    default: str,
    required: bool = False,
    options: tuple[str, ...] = (),
) -> None:
    """Opens "Add parameter", fills the dialog by keyboard (typing ``type_`` into the type
    list picks it) and saves it; the default value's input is checked to be a ``widget``."""
    keyboard = page.keyboard
    settled(page)
    tab_to(page, page.get_by_role("button", name="Add parameter"))
    keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New start parameter")
    expect(dialog.get_by_label("ID")).to_be_focused()
    keyboard.type(code)
    keyboard.press("Tab")
    keyboard.type(name)
    keyboard.press("Tab")
    expect(dialog.get_by_label("Type")).to_be_focused()
    keyboard.type(type_)
    expect(dialog.get_by_label("Type")).to_have_value(type_value)
    if required:
        tab_to(page, dialog.get_by_label("Required"))
        keyboard.press("Space")
    field = dialog.get_by_label("Default value")
    if options:
        tab_to(page, dialog.get_by_label("Options"))
        keyboard.type(options[0])
        for line in options[1:]:
            keyboard.press("Enter")
            keyboard.type(line)
        keyboard.press("Tab")  # the options reach the default value's list
        last = options[-1].split("=")[-1].strip()
        expect(field.get_by_role("option", name=last)).to_have_count(1)
    if widget == "select":
        expect(field).to_have_js_property("tagName", "SELECT")
    else:
        expect(field).to_have_attribute(*WIDGETS[widget])
    tab_to(page, field)
    keyboard.type(default)
    tab_to(page, dialog.get_by_role("button", name="Save"))
    keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(card(page, name)).to_be_focused()


def add_robot_from_palette(page: Page, title: str) -> Locator:
    settled(page)
    tab_to(
        page,
        page.get_by_role("complementary", name="Robots to add").get_by_role("button", name=title),
    )
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=title)
    expect(dialog).to_be_visible()
    return dialog


def save_dialog(page: Page, dialog: Locator) -> None:
    tab_to(page, dialog.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)


def test_a_scenario_made_by_keyboard_is_offered_to_templates_and_runs(
    page: Page, server: Server
) -> None:
    log_in(page, server, "mark", server.password)
    keyboard = page.keyboard
    navigation = page.get_by_role("navigation", name="Main")
    tab_to(page, navigation.get_by_role("link", name="Scenario designer"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Smart scenario designer", level=1)).to_be_visible()

    # A new deal scenario.
    tab_to(page, page.get_by_role("link", name="New scenario", exact=True))
    keyboard.press("Enter")
    tab_to(page, page.get_by_label("Name"))
    keyboard.press("Control+A")
    keyboard.type(NAME)
    tab_to(page, page.get_by_label("Entity type"))
    keyboard.type("Deals")
    expect(page.get_by_label("Entity type")).to_have_value("crm.CCrmDocumentDeal.DEAL")
    tab_to(page, page.get_by_role("button", name="Create and open the editor"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name=NAME, level=1)).to_be_visible()

    # Four typed start parameters; the default value's input follows the type.
    add_parameter(
        page,
        "Greeting",
        "Greeting",
        "String",
        type_value="string",
        widget="text",
        default="Hello",
        required=True,
    )
    add_parameter(
        page,
        "Discount",
        "Discount, %",
        "Integer",
        type_value="int",
        widget="number",
        default="5",
    )
    add_parameter(
        page,
        "Level",
        "Level",
        "List",
        type_value="select",
        widget="select",
        default="Silver",
        options=("gold = Gold", "silver = Silver"),
    )
    add_parameter(
        page,
        "Urgent",
        "Urgent",
        "Yes",
        type_value="bool",
        widget="select",
        default="Yes",
    )
    expect(card(page, "Level")).to_contain_text("Level · List · default: Silver")
    expect(card(page, "Urgent")).to_contain_text("Urgent · Yes/No · default: Yes")

    # The last one goes first, with Alt+Up three times; focus stays on it.
    parameters = page.get_by_role("list", name="Start parameters").get_by_role("group")
    for position in (2, 1, 0):
        settled(page)
        keyboard.press("Alt+ArrowUp")
        expect(parameters.nth(position)).to_have_accessible_name("Urgent")
        expect(card(page, "Urgent")).to_be_focused()

    # Three robots: two from the palette, one from an "Add robot here" menu.
    dialog = add_robot_from_palette(page, "Add a comment")
    tab_to(page, dialog.get_by_label("Comment"))
    keyboard.type("{=Template:Greeting}, {=Document:TITLE}! Level {=Template:Level}.")
    save_dialog(page, dialog)
    expect(card(page, "Add a comment")).to_be_focused()

    dialog = add_robot_from_palette(page, "Pause execution")
    tab_to(page, dialog.get_by_label("Wait for"))
    keyboard.type("1")
    save_dialog(page, dialog)

    robots = page.get_by_role("list", name="Robots")
    tab_to(page, robots.get_by_role("button", name="Add robot here").last)
    keyboard.press("Enter")
    menu = page.get_by_role("menu", name="Add robot")
    expect(menu).to_be_visible()
    keyboard.type("Change")
    expect(menu.get_by_role("menuitem", name="Change stage")).to_be_focused()
    keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Change stage")
    tab_to(page, dialog.get_by_label("Stage"))
    keyboard.type("EXECUTING")
    save_dialog(page, dialog)
    stage = card(page, "Change stage")
    expect(stage).to_be_focused()

    # The stage change goes before the pause: Alt+Up, focus stays on it.
    settled(page)
    keyboard.press("Alt+ArrowUp")
    expect(robots.get_by_role("group").nth(1)).to_have_accessible_name("Change stage")
    expect(stage).to_be_focused()
    titles = [name.strip() for name in robots.locator(".block-title").all_inner_texts()]
    assert titles == ["Add a comment", "Change stage", "Pause execution"]

    # Published: runs use this version.
    tab_to(page, page.get_by_role("button", name="Publish", exact=True))
    keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Published as version 2.")).to_be_visible()

    # A template's Start smart scenario dialog offers it, with its parameters.
    navigation.get_by_role("link", name="Automation").click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill("Uses the keyboard scenario")
    page.get_by_label("Entity type").select_option(label="Deals")
    page.get_by_role("button", name="Create and open the editor").click()
    page.get_by_role("button", name="Start smart scenario").click()
    dialog = page.get_by_role("dialog", name="Start smart scenario")
    dialog.get_by_role("combobox", name="Smart scenario").select_option(label=NAME)
    expect(dialog.get_by_role("heading", name="Smart scenario start parameters")).to_be_visible()
    expect(dialog.get_by_label("Greeting")).to_have_value("Hello")
    expect(dialog.get_by_label("Discount, %")).to_have_value("5")
    expect(dialog.get_by_label("Level")).to_have_value("silver")
    expect(dialog.get_by_label("Urgent")).to_have_value("Y")
    dialog.get_by_role("button", name="Cancel").click()

    # It runs on a deal from the deal's card and completes.
    page.goto(f"{server.url}/crm/deal/")
    page.locator("table.records tbody tr").first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/crm/deal/\d+/$"))
    deal_card = page.url
    title = page.get_by_role("heading", level=1).inner_text().splitlines()[-1].strip()
    page.get_by_role("button", name="Smart scenarios").click()
    page.get_by_role("menuitem", name=NAME).click()
    expect(page.get_by_label("Greeting")).to_have_value("Hello")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Scenario started")).to_be_visible()
    expect(page.get_by_text("Scenario completed")).to_be_visible(timeout=20_000)
    page.goto(deal_card)
    expect(page.get_by_text(f"Hello, {title}! Level silver.")).to_be_visible()


def test_with_the_mouse_a_refused_publication_links_to_the_robot_to_fix(
    page: Page, server: Server
) -> None:
    log_in(page, server, "mark", server.password)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Scenario designer"
    ).click()
    page.get_by_role("link", name="New scenario: Deals").click()
    page.get_by_label("Name").fill("Mouse welcome")
    page.get_by_role("button", name="Create and open the editor").click()
    expect(page.get_by_role("heading", name="Mouse welcome", level=1)).to_be_visible()

    page.get_by_role("button", name="Add parameter").click()
    dialog = page.get_by_role("dialog", name="New start parameter")
    dialog.get_by_label("ID").fill("Note")
    dialog.get_by_label("Name").fill("Note")
    dialog.get_by_label("Type").select_option(label="Text")
    expect(dialog.get_by_label("Default value")).to_have_js_property("tagName", "TEXTAREA")
    dialog.get_by_label("Default value").fill("Call back")
    dialog.get_by_role("button", name="Save").click()
    expect(card(page, "Note")).to_contain_text("Note · Text · default: Call back")

    # A comment left without text (its dialog open when the page went), and a stage change
    # dragged below it then above it.
    palette = page.get_by_role("complementary", name="Robots to add")
    palette.get_by_role("button", name="Add a comment").drag_to(
        page.get_by_role("button", name="Add robot here")
    )
    expect(page.get_by_role("dialog", name="Add a comment")).to_be_visible()
    page.reload()
    expect(card(page, "Add a comment")).to_be_visible()
    palette.get_by_role("button", name="Change stage").drag_to(
        page.get_by_role("button", name="Add robot here").last
    )
    dialog = page.get_by_role("dialog", name="Change stage")
    dialog.get_by_label("Stage").fill("EXECUTING")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    settled(page)
    robots = page.get_by_role("list", name="Robots").get_by_role("group")
    card(page, "Change stage").drag_to(page.get_by_role("button", name="Add robot here").first)
    expect(robots.first).to_have_accessible_name("Change stage")

    page.get_by_role("button", name="Publish", exact=True).click()
    problems = page.locator("#publish-panel").get_by_role("alert")
    expect(problems).to_contain_text("The scenario has problems and was not published.")
    problems.get_by_role(
        "link", name="Action 'Add a comment': The field 'Comment' is required."
    ).click()
    comment = card(page, "Add a comment")
    expect(comment).to_be_focused()
    comment.dblclick()
    dialog = page.get_by_role("dialog", name="Add a comment")
    dialog.get_by_label("Comment").fill("{=Template:Note}")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Published as version 2.")).to_be_visible()
