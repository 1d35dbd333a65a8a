"""A template of 200 blocks in the editor: the page draws every block, an edit of one block
answers with its changes only, and undo with the tree drawn again; the cards' icons refer to
the one icon sprite the page defines."""

import pytest
from django.urls import reverse

from bizproc import services
from bizproc.tree import root_node, walk
from tests.bizproc.builders import node
from tests.designer.conftest import DEAL, HTMX
from tests.html import by_id, elements, html_parse, value

pytestmark = pytest.mark.django_db

ICONS = ("edit", "up", "down", "move", "duplicate", "delete")


@pytest.fixture
def big_template(admin):
    """200 blocks: reports, and conditions whose two branches hold a report each."""
    template = services.template_create(document_type=DEAL, name="Big flow", user=admin)
    tree = root_node()
    for number in range(40):
        tree["Children"].append(node("LogActivity", f"A_log{number}", Title=f"Report {number}"))
        tree["Children"].append(
            node(
                "IfElseActivity",
                f"A_if{number}",
                Title=f"Check {number}",
                children=[
                    node(
                        "IfElseBranchActivity",
                        f"A_yes{number}",
                        Title="Yes",
                        children=[node("LogActivity", f"A_in{number}", Title="Inner")],
                    ),
                    node("IfElseBranchActivity", f"A_no{number}", Title="No"),
                ],
            )
        )
    template.tree = tree
    template.save()
    return template


def block_names(template) -> list[str]:
    return [child["Name"] for child in walk(template.tree)][1:]


def assert_draws_every_block_with_sprite_icons(markup: str, names: list[str]) -> None:
    drawn = {element.attrs.get("id"): element for element in elements(html_parse(markup))}
    for name in names:
        card = drawn[f"block-{name}"]
        branch = card.attrs["aria-roledescription"] == "branch"
        icons = ("edit", "left", "right", "duplicate", "delete") if branch else ICONS
        used = [use.attrs["href"] for use in elements(card) if use.name == "use"]
        assert used == [f"#icon-{icon}" for icon in icons], name
        assert "path" not in {element.name for element in elements(card)}  # not drawn again


def test_the_editor_page_draws_200_blocks_and_defines_their_icons_once(client, admin, big_template):
    client.force_login(admin)
    page = client.get(reverse("designer:template-edit", args=[big_template.pk])).text
    names = block_names(big_template)
    assert len(names) == 200
    assert_draws_every_block_with_sprite_icons(page, names)
    symbols = [
        symbol.attrs["id"] for symbol in elements(html_parse(page)) if symbol.name == "symbol"
    ]
    for icon in (*ICONS, "left", "right"):
        assert symbols.count(f"icon-{icon}") == 1


def test_an_edit_of_one_block_answers_with_its_changes_not_the_tree(client, admin, big_template):
    client.force_login(admin)
    page = client.get(reverse("designer:template-edit", args=[big_template.pk])).text
    response = client.post(
        reverse("designer:block-move", args=[big_template.pk, "A_log3"]),
        {"revision": big_template.revision, "direction": "down"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#tree-state"
    assert 'id="tree"' not in response.text and "<symbol" not in response.text
    assert len(response.text) < len(page) / 50
    # Out of its place (its list item and the insertion point after it), in after A_if3.
    assert '<div hx-swap-oob="delete:#node-A_log3 + .slot"></div>' in response.text
    assert '<div hx-swap-oob="delete:#node-A_log3"></div>' in response.text
    moved = response.text.index('<ol hx-swap-oob="afterend:#node-A_if3">')
    assert response.text.index('<li class="slot"', moved) < response.text.index(
        'id="node-A_log3"', moved
    )
    assert_draws_every_block_with_sprite_icons(response.text, ["A_log3"])
    assert 'id="block-A_log4"' not in response.text  # nothing else is drawn again
    assert 'data-focus="block:A_log3"' in response.text


def test_undo_answers_with_every_block(client, admin, big_template):
    client.force_login(admin)
    moved = client.post(
        reverse("designer:block-move", args=[big_template.pk, "A_log3"]),
        {"revision": big_template.revision, "direction": "down"},
        headers=HTMX,
    )
    revision = value(by_id(html_parse(moved.text), "draft-revision"))
    response = client.post(
        reverse("designer:template-undo", args=[big_template.pk]),
        {"revision": revision},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="tree"')
    assert "<symbol" not in response.text  # the page's sprite, outside #tree, stays
    assert_draws_every_block_with_sprite_icons(response.text, block_names(big_template))
    back = response.text.index('id="block-A_log3"')
    assert response.text.index('id="block-A_in2"') < back < response.text.index('id="block-A_if3"')


def test_cards_show_titles_and_imported_names_as_text(client, admin):
    """Cards are drawn once per kind and filled in: what a user typed, or a file named, stays
    text, and an odd block name still leads to the block."""
    template = services.template_create(document_type=DEAL, name="Odd names", user=admin)
    tree = root_node()
    title = '<b>Bold</b> & "quoted" \ufdd0name\ufdd1'
    tree["Children"] = [
        node("LogActivity", "A_plain", Title=title),
        node("LogActivity", "Odd name&<x>", Title="Imported"),
        node("NoSuchActivity", "A_unknown", Title="From elsewhere"),
    ]
    template.tree = tree
    template.save()
    client.force_login(admin)
    page = client.get(reverse("designer:template-edit", args=[template.pk])).text
    assert (
        '<span class="block-title" id="title-A_plain">&lt;b&gt;Bold&lt;/b&gt; &amp; '
        "&quot;quoted&quot; \ufdd0name\ufdd1</span>"
    ) in page
    assert "<b>Bold</b>" not in page
    assert 'id="block-Odd name&amp;&lt;x&gt;"' in page
    edit_url = reverse("designer:block-update", args=[template.pk, "Odd name&<x>"])
    assert f'hx-get="{edit_url.replace("&", "&amp;")}"' in page
    dialog = client.get(edit_url, headers=HTMX)
    assert dialog.status_code == 200 and '<dialog id="editor-dialog"' in dialog.text
    assert 'value="Imported"' in dialog.text
    assert "Unsupported block (NoSuchActivity): kept as imported, read-only" in page
    assert '<use href="#icon-info"></use>' in page  # details, not edit, for an unknown block
