"""The editor: the tree drawn top to bottom with insertion points, and every edit saved at once
through the tree services, answered with the tree's new state (its revision, where focus goes
next) and the tree drawn again or only its changes (test_changes.py) — by a user with "design
automation" on deals."""

import pytest
from django.urls import reverse

from bizproc.tree import find
from tests.designer.conftest import HTMX, draft
from tests.html import by_id, by_role, elements, html_parse, labelled, submitted, value
from tests.html import text as text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def post(client, name: str, template, data: dict, *args):
    return client.post(
        reverse(f"designer:{name}", args=[template.pk, *args]),
        {"revision": template.revision, **data},
        headers=HTMX,
    )


def children(template, name: str = "Template") -> list[str]:
    template.refresh_from_db()
    return [child["Name"] for child in find(template.tree, name)[0]["Children"]]


def test_the_editor_draws_the_palette_and_the_tree_with_insertion_points(editor, template):
    page = editor.get(reverse("designer:template-edit", args=[template.pk]))
    assert page.status_code == 200
    text = page.text
    for category in ("Document processing", "Constructions", "Notifications", "Other"):
        assert category in text
    assert 'data-type="StartScriptActivity"' in text
    assert 'data-type="CrmTimelineCommentAdd"' in text  # the CRM's blocks, from the registry
    assert 'data-type="IfElseBranchActivity"' not in text.split('id="tree"')[0]  # not offered
    assert "Deal {=Document:TITLE}" in text  # the report block's one-line summary
    # Root: 2 blocks → 3 points; each branch of the condition is empty → 1 point each.
    tree = by_id(html_parse(text), "tree")
    assert len(by_role(tree, "button", "Add block here")) == 5
    assert by_id(tree, "block-A_yes").attrs["aria-roledescription"] == "branch"


def test_the_tree_partial_alone_answers_htmx(editor, template):
    response = editor.get(
        reverse("designer:template-edit", args=[template.pk]),
        headers={**HTMX, "HX-Target": "tree"},
    )
    assert response.text.lstrip().startswith('<div id="tree"')
    assert "<html" not in response.text


def test_inserting_saves_at_once_and_opens_the_blocks_dialog(editor, template):
    revision = template.revision
    response = post(
        editor, "block-create", template, {"parent": "A_yes", "index": "0", "type": "DelayActivity"}
    )
    assert response.status_code == 200
    template.refresh_from_db()
    assert template.revision == revision + 1
    (name,) = children(template, "A_yes")
    assert f'data-focus="block:{name}"' in response.text
    assert f'id="draft-revision" name="revision" value="{revision + 1}"' in response.text
    assert 'id="editor-dialog"' in response.text and 'hx-swap-oob="true"' in response.text
    assert "Wait for" in response.text  # the dialog's fields come from the property schema


def test_a_block_without_settings_opens_no_dialog(editor, template):
    response = post(
        editor,
        "block-create",
        template,
        {"parent": "Template", "index": "2", "type": "IfElseActivity"},
    )
    assert response.status_code == 200
    assert 'id="editor-dialog"' not in response.text
    new = children(template)[2]
    template.refresh_from_db()
    assert len(find(template.tree, new)[0]["Children"]) == 2  # a condition comes with two branches


def test_adding_a_branch_gives_it_an_empty_condition(editor, template):
    response = post(
        editor,
        "block-create",
        template,
        {"parent": "A_if", "index": "2", "type": "IfElseBranchActivity"},
    )
    assert response.status_code == 200
    name = children(template, "A_if")[2]
    branch = find(template.tree, name)[0]
    assert branch["Properties"] == {"Title": "Condition", "fieldcondition": []}


def test_adding_a_parallel_branch_numbers_it_after_the_others(editor, template):
    post(
        editor,
        "block-create",
        template,
        {"parent": "Template", "index": "0", "type": "ParallelActivity"},
    )
    parallel = children(template)[0]
    response = post(
        editor,
        "block-create",
        template,
        {"parent": parallel, "index": "2", "type": "SequenceActivity"},
    )
    assert response.status_code == 200
    template.refresh_from_db()
    titles = [
        child["Properties"]["Title"] for child in find(template.tree, parallel)[0]["Children"]
    ]
    assert titles == ["Branch 1", "Branch 2", "Branch 3"]


def test_move_up_and_down_keep_focus_on_the_moved_block(editor, template):
    response = post(editor, "block-move", template, {"direction": "down"}, "A_log")
    assert response.status_code == 200
    assert children(template) == ["A_if", "A_log"]
    assert 'data-focus="block:A_log"' in response.text
    post(editor, "block-move", template, {"direction": "up"}, "A_log")
    assert children(template) == ["A_log", "A_if"]


def test_dropping_a_block_on_an_insertion_point_moves_it_there(editor, template):
    # The point after the condition is index 2 as drawn (the block itself still counted).
    post(editor, "block-move", template, {"parent": "Template", "index": "2"}, "A_log")
    assert children(template) == ["A_if", "A_log"]
    post(editor, "block-move", template, {"parent": "A_no", "index": "0"}, "A_log")
    assert children(template) == ["A_if"]
    assert children(template, "A_no") == ["A_log"]


def test_duplicate_focuses_the_copy(editor, template):
    response = post(editor, "block-duplicate", template, {}, "A_log")
    original, copy = children(template)[:2]
    assert original == "A_log"
    assert f'data-focus="block:{copy}"' in response.text


def test_delete_focuses_the_next_block_or_else_the_empty_place(editor, template):
    response = post(editor, "block-delete", template, {}, "A_log")
    assert children(template) == ["A_if"]
    assert 'data-focus="block:A_if"' in response.text
    response = post(editor, "block-delete", template, {}, "A_if")
    assert children(template) == []
    assert 'data-focus="slot:Template:0"' in response.text
    assert "“Size” deleted." in response.text


def test_a_reload_shows_exactly_the_saved_draft(editor, template):
    post(
        editor,
        "block-update",
        template,
        {"Title": "Report the deal", "Text": "Deal {=Document:TITLE} is won"},
        "A_log",
    )
    page = editor.get(reverse("designer:template-edit", args=[template.pk]))
    assert "Report the deal" in page.text
    assert "Deal {=Document:TITLE} is won" in page.text
    tree, revision = draft(template)
    assert f'value="{revision}"' in page.text
    assert find(tree, "A_log")[0]["Properties"]["Text"] == "Deal {=Document:TITLE} is won"


def test_saving_a_dialog_closes_it_and_draws_the_card_out_of_band(editor, template):
    response = post(editor, "block-update", template, {"Title": "Hello", "Text": "Hi"}, "A_log")
    assert response.status_code == 200
    answer = html_parse(response.text)
    closed = answer.children[0]
    assert closed.attrs["id"] == "editor-dialog" and "hidden" in closed.attrs
    assert "tree" not in {element.attrs.get("id") for element in elements(answer)}
    # The card, not the whole tree: out of band, named by its new title.
    [card] = by_role(answer, "group", "Hello")
    assert card.attrs["id"] == "block-A_log" and card.attrs["hx-swap-oob"] == "true"
    state = by_id(answer, "tree-state")
    assert state.attrs["hx-swap-oob"] == "true" and state.attrs["data-focus"] == "block:A_log"
    assert value(by_id(state, "draft-revision")) == str(draft(template)[1])  # the new revision


def test_a_dialog_keeps_what_it_does_not_edit(editor, template):
    template.tree["Children"][0]["Properties"]["_DesignerState"] = "kept"
    template.save()
    post(editor, "block-update", template, {"Title": "Report", "Text": "Hi"}, "A_log")
    tree, _revision = draft(template)
    assert find(tree, "A_log")[0]["Properties"] == {
        "Title": "Report",
        "Text": "Hi",
        "SetVariable": "N",
        "_DesignerState": "kept",
    }


def test_the_dialog_is_generated_from_the_property_schema(editor, template):
    response = editor.get(
        reverse("designer:block-update", args=[template.pk, "A_log"]), headers=HTMX
    )
    text = response.text
    assert text.lstrip().startswith('<dialog id="editor-dialog"')
    assert 'aria-labelledby="editor-dialog-title"' in text
    assert '<textarea id="field-Text" name="Text"' in text
    assert 'type="checkbox" id="field-SetVariable"' in text
    assert "Insert value into Text" in text
    assert 'data-token="{=Document:TITLE}"' in text
    assert 'data-token="{=Variable:Note}"' in text
    assert 'data-token="{=System:Now}"' in text


def test_a_user_field_shows_people_by_name_and_saves_their_values(editor, template, admin):
    """The recipients are chips named as people read them; the dialog posted as drawn keeps
    the stored values (people, the responsible, an expression) exactly."""
    post(
        editor,
        "block-create",
        template,
        {"parent": "Template", "index": "0", "type": "IMNotifyActivity"},
    )
    notify = children(template)[0]
    recipients = [f"user_{admin.pk}", "{=Document:ASSIGNED_BY_ID}", "{=Variable:Note}"]
    response = post(
        editor,
        "block-update",
        template,
        {"MessageUserTo": ", ".join(recipients), "MessageSite": "Hi"},
        notify,
    )
    assert response.status_code == 200, response.text
    url = reverse("designer:block-update", args=[template.pk, notify])
    text = editor.get(url, headers=HTMX).text
    page = html_parse(text)
    chosen = by_role(page, "list", "Chosen: To")[0]
    assert [item.attrs["data-value"] for item in by_role(chosen, "listitem")] == recipients[:2]
    assert by_role(page, "button", "Remove Irina Admin")
    assert by_role(page, "button", "Remove Responsible for the item")
    box = labelled(page, "To")
    assert box.attrs["role"] == "combobox"
    assert value(box) == "{=Variable:Note}"  # the expression stays as typed
    assert f"user_{admin.pk}" not in text_of(page)  # the id is posted, never shown

    response = editor.post(url, {**submitted(text, "block-form"), "revision": draft(template)[1]})
    assert response.status_code in (200, 204, 302), response.text
    properties = find(draft(template)[0], notify)[0]["Properties"]
    assert properties["MessageUserTo"] == recipients


def test_a_person_chosen_replaces_the_one_before_in_a_field_of_one_user(editor, template, admin):
    post(
        editor,
        "block-create",
        template,
        {"parent": "Template", "index": "0", "type": "IMNotifyActivity"},
    )
    notify = children(template)[0]
    person = f"user_{admin.pk}"

    def saved_sender(posted: list[str]) -> str:
        data = {"MessageUserTo": person, "MessageSite": "Hi", "MessageUserFrom": posted}
        post(editor, "block-update", template, data, notify)
        return find(draft(template)[0], notify)[0]["Properties"]["MessageUserFrom"]

    # A chip and a text typed after it: the text replaced the person.
    assert saved_sender([person, "{=Variable:Note}"]) == "{=Variable:Note}"
    assert saved_sender([person, ""]) == person


def test_condition_rows_are_stored_as_bitrix_stores_them(editor, template):
    def save(rows, kind="rows"):
        data = {"Title": "Big", "Condition-kind": kind}
        for key in ("field", "operator", "value", "joiner"):
            data[f"Condition-{key}"] = [row[key] for row in rows]
        response = post(editor, "block-update", template, data, "A_yes")
        assert response.status_code == 200, response.text
        properties = find(draft(template)[0], "A_yes")[0]["Properties"]
        return {key: value for key, value in properties.items() if key != "Title"}

    row = {"field": "Document:TITLE", "operator": "contain", "value": "VIP", "joiner": "and"}
    assert save([row]) == {"fieldcondition": [["TITLE", "contain", "VIP", "0"]]}
    variable = {"field": "Variable:Note", "operator": "!empty", "value": "x", "joiner": "or"}
    assert save([variable]) == {"propertyvariablecondition": [["Note", "!empty", "", "0"]]}
    assert save([row, variable]) == {
        "mixedcondition": [
            {
                "object": "Document",
                "field": "TITLE",
                "operator": "contain",
                "value": "VIP",
                "joiner": "0",
            },
            {
                "object": "Variable",
                "field": "Note",
                "operator": "!empty",
                "value": "",
                "joiner": "1",
            },
        ]
    }
    assert save([], kind="otherwise") == {"truecondition": "1"}


def test_the_condition_dialog_shows_the_stored_rows(editor, template):
    response = editor.get(
        reverse("designer:block-update", args=[template.pk, "A_yes"]), headers=HTMX
    )
    assert '<option value="Document:OPPORTUNITY" selected>' in response.text
    assert '<option value="&gt;" selected>' in response.text
    assert 'value="1000"' in response.text


def test_set_field_rows_offer_the_documents_writable_fields(editor, template):
    post(
        editor,
        "block-create",
        template,
        {"parent": "Template", "index": "0", "type": "SetFieldActivity"},
    )
    name = children(template)[0]
    response = editor.get(reverse("designer:block-update", args=[template.pk, name]), headers=HTMX)
    assert '<option value="TITLE"' in response.text
    assert '<option value="DATE_CREATE"' not in response.text  # read-only
    response = post(
        editor,
        "block-update",
        template,
        {
            "Title": "Set",
            "FieldValue-key": ["TITLE", "", "COMMENTS"],
            "FieldValue-value": ["Won {=Document:TITLE}", "x", "ok"],
        },
        name,
    )
    assert response.status_code == 200, response.text
    properties = find(draft(template)[0], name)[0]["Properties"]
    assert properties["FieldValue"] == {"TITLE": "Won {=Document:TITLE}", "COMMENTS": "ok"}


def test_unsupported_blocks_are_drawn_distinctly_and_read_only(editor, template):
    template.tree["Children"].append(
        {
            "Type": "CodeActivity",
            "Name": "A_odd",
            "Properties": {"Title": "Old"},
            "Children": [],
        }
    )
    template.save()
    page = editor.get(reverse("designer:template-edit", args=[template.pk])).text
    card = page[page.index('id="block-A_odd"') - 200 :].split("</div>\n</div>")[0]
    assert "unsupported" in card
    assert "Unsupported block (CodeActivity)" in card
    assert 'data-action="duplicate"' not in card
    assert "Details" in card
    before = draft(template)
    response = post(editor, "block-update", template, {"Title": "New"}, "A_odd")
    assert response.status_code == 422
    assert "Unsupported blocks are read-only." in response.text
    assert draft(template) == before


def test_composite_blocks_nest_with_insertion_points_in_every_branch(editor, template):
    for type_ in ("ParallelActivity", "WhileActivity"):
        post(editor, "block-create", template, {"parent": "Template", "index": "0", "type": type_})
        template.refresh_from_db()
    loop, parallel = template.tree["Children"][:2]
    page = editor.get(reverse("designer:template-edit", args=[template.pk])).text
    # Two parallel branches (headers with their own lists), one loop body (a list, no header).
    for branch in parallel["Children"]:
        assert f'data-container="{branch["Name"]}"' in page
        assert f'id="block-{branch["Name"]}"' in page
    (body,) = loop["Children"]
    assert (
        f'<ol class="blocks" id="list-{body["Name"]}" aria-label="Loop body" '
        f'data-container="{body["Name"]}">'
    ) in page
    assert f'id="block-{body["Name"]}"' not in page
    assert page.count("Add branch") == 2  # the parallel block and the condition
    # 4 root blocks → 5 points; 2 + 2 branches and 1 loop body → 5 more.
    assert page.count('aria-label="Add block here"') == 10
