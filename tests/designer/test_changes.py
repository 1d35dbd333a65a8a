"""An edit of one block in a list answers with its changes only (``drawing.draw_changes``): the
block out of its old place, in at its new one with an insertion point, and the cards of the
neighbours whose first or last place changed — out of band, around the tree's new state. Edits
of branches, and requests without htmx, answer with the whole tree."""

import pytest
from django.urls import reverse

from bizproc.tree import find, root_node
from tests.bizproc.builders import node
from tests.designer.conftest import DEAL, HTMX, draft
from tests.html import Element, by_id, by_role, html_parse, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def post(client, name: str, template, data: dict, *args, headers=HTMX):
    return client.post(
        reverse(f"designer:{name}", args=[template.pk, *args]),
        {"revision": draft(template)[1], **data},
        headers=headers,
    )


def insert(client, template, parent: str, index: int, type_: str = "DelayActivity"):
    data = {"parent": parent, "index": str(index), "type": type_}
    return post(client, "block-create", template, data)


def resent_cards(markup: str) -> dict[str, Element]:
    """The cards sent to replace drawn ones, by block name."""
    return {
        card.attrs["data-block"]: card
        for card in html_parse(markup).children
        if "data-block" in card.attrs and card.attrs.get("hx-swap-oob") == "true"
    }


def disabled(card: Element, button: str) -> bool:
    [found] = by_role(card, "button", button)
    return "disabled" in found.attrs


def inserted_name(markup: str) -> str:
    return by_id(html_parse(markup), "tree-state").attrs["data-focus"].removeprefix("block:")


def test_a_block_put_first_comes_at_the_list_start_and_frees_the_old_first(editor, template):
    response = insert(editor, template, "Template", 0)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#tree-state"
    assert response.headers["HX-Reswap"] == "outerHTML"
    name = inserted_name(response.text)
    [swap] = [
        element
        for element in html_parse(response.text).children
        if element.attrs.get("hx-swap-oob") == "afterbegin:#list-Template"
    ]
    slot, item = swap.children  # an insertion point before the block
    assert by_role(slot, "button", "Add block here")
    assert item.attrs["id"] == f"node-{name}"
    cards = resent_cards(response.text)
    assert set(cards) == {"A_log"}  # it is no longer first: it may move up now
    assert not disabled(cards["A_log"], "Move up") and not disabled(cards["A_log"], "Move down")
    assert 'id="tree"' not in response.text
    assert [child["Name"] for child in draft(template)[0]["Children"]] == [name, "A_log", "A_if"]


def test_a_block_put_between_two_sends_no_neighbour(editor, template):
    response = insert(editor, template, "Template", 1)
    assert '<ol hx-swap-oob="afterend:#node-A_log">' in response.text
    assert resent_cards(response.text) == {}


def test_a_block_put_last_frees_the_old_last(editor, template):
    response = insert(editor, template, "Template", 2)
    assert '<ol hx-swap-oob="afterend:#node-A_if">' in response.text
    cards = resent_cards(response.text)
    assert set(cards) == {"A_if"} and not disabled(cards["A_if"], "Move down")


def test_a_block_put_in_a_branch_changes_that_list(editor, template):
    response = insert(editor, template, "A_yes", 0)
    assert '<ol hx-swap-oob="afterbegin:#list-A_yes">' in response.text
    assert find(draft(template)[0], "A_yes")[0]["Children"][0]["Type"] == "DelayActivity"


def test_deleting_the_last_block_makes_the_one_before_last(editor, template):
    response = post(editor, "block-delete", template, {}, "A_if")
    assert response.status_code == 200
    assert '<div hx-swap-oob="delete:#node-A_if + .slot"></div>' in response.text
    assert '<div hx-swap-oob="delete:#node-A_if"></div>' in response.text
    cards = resent_cards(response.text)
    assert set(cards) == {"A_log"} and disabled(cards["A_log"], "Move down")
    assert 'data-focus="block:A_log"' in response.text


def test_moving_down_swaps_the_first_and_last_places(editor, template):
    response = post(editor, "block-move", template, {"direction": "down"}, "A_log")
    assert '<ol hx-swap-oob="afterend:#node-A_if">' in response.text
    cards = resent_cards(response.text)
    assert set(cards) == {"A_if"}  # now first, and last no more
    assert disabled(cards["A_if"], "Move up") and not disabled(cards["A_if"], "Move down")
    moved = by_id(html_parse(response.text), "block-A_log")
    assert disabled(moved, "Move down") and not disabled(moved, "Move up")


def test_moving_into_another_list_changes_both(editor, template):
    response = post(editor, "block-move", template, {"parent": "A_no", "index": "0"}, "A_log")
    assert '<div hx-swap-oob="delete:#node-A_log"></div>' in response.text
    assert '<ol hx-swap-oob="afterbegin:#list-A_no">' in response.text
    assert set(resent_cards(response.text)) == {"A_if"}  # first in the process now
    assert [child["Name"] for child in find(draft(template)[0], "A_no")[0]["Children"]] == ["A_log"]


def test_a_duplicate_comes_after_its_original(editor, template):
    response = post(editor, "block-duplicate", template, {}, "A_log")
    copy = inserted_name(response.text)
    assert copy != "A_log"
    assert '<ol hx-swap-oob="afterend:#node-A_log">' in response.text
    assert resent_cards(response.text) == {}  # the original stays first, the condition last
    assert [child["Name"] for child in draft(template)[0]["Children"]] == ["A_log", copy, "A_if"]


def test_a_block_that_holds_others_comes_with_its_branches(editor, template):
    response = insert(editor, template, "Template", 1, "IfElseActivity")
    name = inserted_name(response.text)
    item = response.text[response.text.index(f'<li class="node composite" id="node-{name}">') :]
    branches = find(draft(template)[0], name)[0]["Children"]
    for branch in branches:
        assert f'id="list-{branch["Name"]}"' in item
    assert "Add branch" in item


@pytest.mark.parametrize(
    ("action", "data", "name"),
    [
        ("block-create", {"parent": "A_if", "index": "2", "type": "IfElseBranchActivity"}, ()),
        ("block-delete", {}, ("A_no",)),
        ("block-move", {"direction": "up"}, ("A_no",)),
    ],
)
def test_edits_of_branches_answer_with_the_whole_tree(editor, template, action, data, name):
    response = post(editor, action, template, data, *name)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="tree"')
    assert "HX-Retarget" not in response.headers


def test_without_htmx_an_edit_answers_with_the_whole_tree(editor, template):
    response = post(editor, "block-delete", template, {}, "A_log", headers={})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="tree"')


def test_odd_block_names_make_escaped_selectors(editor, admin):
    from bizproc import services

    template = services.template_create(document_type=DEAL, name="Odd", user=admin)
    tree = root_node()
    tree["Children"] = [
        node("LogActivity", 'Odd name&<x>"1', Title="Odd"),
        node("LogActivity", "A_last", Title="Last"),
    ]
    template.tree = tree
    template.save()
    response = post(editor, "block-delete", template, {}, 'Odd name&<x>"1')
    assert response.status_code == 200
    # CSS.escape('Odd name&<x>"1'), in an attribute.
    assert 'hx-swap-oob="delete:#node-Odd\\ name\\&amp;\\&lt;x\\&gt;\\&quot;1"' in response.text
    cards = resent_cards(response.text)
    assert set(cards) == {"A_last"} and disabled(cards["A_last"], "Move up")


def test_a_saved_dialog_of_a_block_holding_others_draws_the_tree(editor, template):
    response = post(editor, "block-update", template, {"Title": "Sizes"}, "A_if")
    assert response.status_code == 200
    assert response.text.startswith('<div id="editor-dialog" hidden></div>')
    assert 'id="tree" class="tree"' in response.text  # its title names its lists, too


def named(type_: str, name: str, *children: dict) -> dict:
    block = node(type_, children=list(children))
    block["Name"] = name
    return block


def test_a_block_has_a_place_where_the_editor_draws_a_list_around_it():
    """Changes are drawn for blocks in the lists the editor draws with insertion points: the
    process, a branch, a loop body, a block holding others — not for a branch itself (drawn
    side by side) nor a block inside one the editor does not know (drawn read-only)."""
    from designer.drawing import place_of

    tree = root_node()
    tree["Children"] = [
        named(
            "IfElseActivity",
            "choice",
            named("IfElseBranchActivity", "yes", named("LogActivity", "in_yes")),
            named("IfElseBranchActivity", "no"),
        ),
        named(
            "WhileActivity",
            "loop",
            named("SequenceActivity", "body", named("LogActivity", "in_body")),
        ),
        named("SomeVendorActivity", "unknown", named("LogActivity", "in_unknown")),
        named(
            "ParallelActivity",
            "together",
            # Imported as it came: a parallel block as a branch is still drawn as a list.
            named(
                "ParallelActivity",
                "odd",
                named("SequenceActivity", "seq", named("LogActivity", "deep")),
            ),
        ),
    ]
    places = {
        name: place_of(tree, name)
        for name in (
            "choice",
            "yes",
            "in_yes",
            "loop",
            "body",
            "in_body",
            "unknown",
            "in_unknown",
            "seq",
            "deep",
        )
    }
    assert places["choice"].parent == "Template"
    assert places["choice"].siblings == ("choice", "loop", "unknown", "together")
    assert places["in_yes"].parent == "yes" and places["in_body"].parent == "body"
    assert places["seq"].parent == "odd" and places["deep"].parent == "seq"
    assert places["yes"] is None and places["body"] is None
    assert places["in_unknown"] is None
    assert place_of(tree, "no such block") is None


def editor_page(client, template) -> str:
    return client.get(reverse("designer:template-edit", args=[template.pk])).text


def test_a_block_changed_since_the_last_drawing_is_drawn_as_it_is_now(editor, template):
    """Cards drawn before are kept for blocks that did not change; one changed by anyone
    (here straight in the database) is drawn anew, in its place as it is now."""
    assert "Deal {=Document:TITLE}" in editor_page(editor, template)
    template.refresh_from_db()
    template.tree["Children"][0]["Properties"]["Text"] = "Changed behind the editor's back"
    template.tree["Children"].append(node("LogActivity", "A_last", Title="Last", Text="x"))
    branch = template.tree["Children"][1]["Children"][0]
    branch["Properties"]["Title"] = "Huge"
    template.save()
    page = editor_page(editor, template)
    assert "Changed behind the editor&#x27;s back" in page
    assert "Deal {=Document:TITLE}" not in page
    assert text(by_id(html_parse(page), "title-A_yes")) == "Huge"  # a branch's header too
    # The report is no longer last: its "Move down" button is enabled now.
    assert not disabled(by_id(html_parse(page), "block-A_log"), "Move down")


def test_a_start_smart_scenario_block_names_the_scenario_as_it_is_called_now(
    editor, template, admin
):
    from tests.designer.conftest import make_scenario

    scenario = make_scenario(admin, name="Welcome call")
    template.tree["Children"].insert(
        0,
        node("StartScriptActivity", "A_start", Title="Start", TemplateId=str(scenario.template_id)),
    )
    template.save()
    assert "“Welcome call”" in editor_page(editor, template)
    scenario.name = "Greeting call"
    scenario.save()
    page = editor_page(editor, template)
    assert "“Greeting call”" in page and "“Welcome call”" not in page
