"""The editor's history and its sharing, in a real browser: undo and redo of mixed edits that
survive a reload; two people editing one template — the second is shown the first's change and
re-applies their own (from the tree, and from a block's dialog); each sees the other's presence
come and go."""

import re

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import Server, log_in, new_context
from tests.e2e.test_designer import block, create_deal_template


def top_titles(page: Page) -> Locator:
    """The titles of the process's top-level blocks, in order."""
    return page.locator('[data-container="Template"] > .node > .block .block-title')


def log_in_as(page: Page, server: Server, username: str) -> None:
    log_in(page, server, username, server.password)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def open_page(browser: Browser) -> Page:
    context = new_context(browser)
    return context.new_page()


def test_undo_and_redo_five_mixed_edits_then_reload_and_undo_two_more(
    page: Page, server: Server
) -> None:
    log_in_as(page, server, "mark")
    create_deal_template(page, "History flow")
    undo = page.get_by_role("button", name="Undo")
    redo = page.get_by_role("button", name="Redo")
    expect(undo).to_be_disabled()
    expect(redo).to_be_disabled()

    states: list[list[str]] = [[]]
    # 1, 2: a report inserted from the palette, then named and filled in its dialog.
    page.get_by_role("button", name="Write to report").click()
    dialog = page.get_by_role("dialog", name="Write to report")
    expect(dialog).to_be_visible()
    states.append(["Write to report"])
    dialog.get_by_label("Title").fill("Greeting")
    dialog.get_by_label("Text").fill("Hello {=Document:TITLE}")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    states.append(["Greeting"])
    # 3: a condition at the end.
    page.get_by_role("button", name="Condition", exact=True).click()
    states.append(["Greeting", "Condition"])
    expect(top_titles(page)).to_have_text(states[-1])
    # 4: the condition moved up.
    block(page, "Condition").first.get_by_role("button", name="Move up").click()
    states.append(["Condition", "Greeting"])
    expect(top_titles(page)).to_have_text(states[-1])
    # 5: the report deleted.
    block(page, "Greeting").get_by_role("button", name="Delete").click()
    states.append(["Condition"])
    expect(top_titles(page)).to_have_text(states[-1])

    # Undo all five, with the button and with Ctrl+Z by turns.
    for step, expected in enumerate(reversed(states[:-1])):
        if step % 2:
            expect(undo).to_be_focused()  # where the last undo left focus
            page.keyboard.press("Control+z")
        else:
            undo.click()
        expect(top_titles(page)).to_have_text(expected)
    expect(undo).to_be_disabled()
    expect(redo).to_be_focused()  # focus stays in the history toolbar

    # Redo all five, with the button and with Ctrl+Shift+Z by turns.
    for step, expected in enumerate(states[1:]):
        if step % 2:
            expect(redo).to_be_focused()
            page.keyboard.press("Control+Shift+Z")
        else:
            redo.click()
        expect(top_titles(page)).to_have_text(expected)
    expect(redo).to_be_disabled()
    expect(block(page, "Condition").first).to_be_visible()

    # The history is kept on the server: after a reload, two more undos.
    page.reload()
    expect(top_titles(page)).to_have_text(states[5])
    expect(redo).to_be_disabled()
    undo.click()
    expect(top_titles(page)).to_have_text(states[4])
    expect(undo).to_be_focused()
    page.keyboard.press("Control+z")
    expect(top_titles(page)).to_have_text(states[3])
    expect(block(page, "Greeting")).to_contain_text("Hello {=Document:TITLE}")
    expect(page.get_by_role("status").filter(has_text="Undone.")).to_be_attached()


def test_two_people_on_one_template(page: Page, browser: Browser, server: Server) -> None:
    log_in_as(page, server, "mark")
    create_deal_template(page, "Shared flow")
    page.get_by_role("button", name="Condition", exact=True).click()
    expect(top_titles(page)).to_have_text(["Condition"])
    editor_url = page.url
    presence = page.get_by_role("status").filter(has_text="Also editing")
    expect(presence).to_have_count(0)

    irina = open_page(browser)
    try:
        log_in_as(irina, server, "admin")
        irina.goto(editor_url)
        expect(irina.get_by_role("heading", name="Shared flow", level=1)).to_be_visible()
        # Each sees the other.
        expect(presence).to_have_text("Also editing: Irina Sokolova")
        expect(irina.get_by_role("status").filter(has_text="Also editing")).to_have_text(
            "Also editing: Mark Lee"
        )

        # Irina adds a report.
        irina.get_by_role("button", name="Write to report").click()
        report = irina.get_by_role("dialog", name="Write to report")
        report.get_by_label("Text").fill("Irina's words")
        report.get_by_role("button", name="Save").click()
        expect(report).to_have_count(0)
        expect(top_titles(irina)).to_have_text(["Condition", "Write to report"])

        # Mark, on the page as it was, duplicates the condition: refused, and shown why.
        block(page, "Condition").first.get_by_role("button", name="Duplicate").click()
        conflict = page.get_by_role("alert").filter(has_text="changed meanwhile")
        expect(conflict).to_contain_text(
            re.compile(
                r"The template was changed meanwhile by Irina Sokolova \(.+\): "
                r"your change was not applied\."
            )
        )
        expect(conflict).to_be_focused()
        expect(top_titles(page)).to_have_text(["Condition", "Write to report"])  # her change

        # He re-applies his change on the template as it is now: nothing is lost.
        conflict.get_by_role("button", name="Re-apply my change").click()
        expect(top_titles(page)).to_have_text(["Condition", "Condition", "Write to report"])
        expect(page.get_by_role("alert")).to_have_count(0)
        irina.reload()
        expect(top_titles(irina)).to_have_text(["Condition", "Condition", "Write to report"])

        # A dialog refused the same way keeps what he typed; saving again applies it.
        block(page, "Write to report").get_by_role("button", name="Edit").click()
        dialog = page.get_by_role("dialog", name="Write to report")
        dialog.get_by_label("Text").fill("Mark's words")
        block(irina, "Condition").first.get_by_role("button", name="Delete").click()
        expect(top_titles(irina)).to_have_text(["Condition", "Write to report"])
        dialog.get_by_role("button", name="Save").click()
        expect(dialog.get_by_role("alert")).to_contain_text("changed meanwhile by Irina Sokolova")
        expect(dialog.get_by_label("Text")).to_have_value("Mark's words")
        expect(top_titles(page)).to_have_text(["Condition", "Write to report"])  # behind it
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_have_count(0)
        expect(block(page, "Write to report")).to_contain_text("Mark's words")
        expect(top_titles(page)).to_have_text(["Condition", "Write to report"])

        # She leaves: he no longer sees her.
        irina.context.close()
        expect(presence).to_have_count(0)
    finally:
        if irina.context.pages:
            irina.context.close()
