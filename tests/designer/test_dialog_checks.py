"""Checks where you type: a block dialog (a template's block, a scenario's robot) refuses to
save with a required field left empty or a broken expression, saying so next to the field and
changing nothing, while publishing still checks everything; cancelling the dialog of a block
just inserted takes the block back, and cancelling any other dialog changes nothing."""

import html
import re

import pytest
from django.urls import reverse

from bizproc import services
from bizproc.services import EditRefused
from bizproc.tree import find
from designer.models import EditLogEntry
from tests.designer.conftest import HTMX, draft, make_scenario
from tests.html import submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def send(client, name: str, template, data: dict | None = None, *args, revision=None):
    template.refresh_from_db()
    return client.post(
        reverse(f"designer:{name}", args=[template.pk, *args]),
        {"revision": template.revision if revision is None else revision, **(data or {})},
        headers=HTMX,
    )


def field_error(text: str, input_id: str) -> str:
    """The error drawn next to input ``input_id``, which says it describes it."""
    control = re.search(rf'<(?:input|textarea|select) id="{input_id}"[^>]*>', text)
    assert control, f"no input {input_id}"
    assert 'aria-invalid="true"' in control.group()
    assert f'aria-describedby="{input_id}-errors"' in control.group()
    errors = re.search(rf'id="{input_id}-errors">(.*?)</div>', text, re.S)
    assert errors
    return html.unescape(re.sub(r"<[^>]+>", "", errors.group(1))).strip()


def children(template, parent: str = "Template") -> list[str]:
    template.refresh_from_db()
    return [child["Name"] for child in find(template.tree, parent)[0]["Children"]]


def insert(client, template, type_: str, parent: str = "Template", index: str = "0") -> str:
    before = children(template, parent)
    data = {"parent": parent, "index": index, "type": type_}
    assert send(client, "block-create", template, data).status_code == 200
    (name,) = set(children(template, parent)) - set(before)
    return name


# ---- refusals ----------------------------------------------------------------------------


def test_a_required_field_left_empty_is_refused_next_to_it(editor, template):
    before = draft(template)
    response = send(editor, "block-update", template, {"Title": "Report", "Text": ""}, "A_log")
    assert response.status_code == 422
    assert 'id="editor-dialog"' in response.text  # the dialog stays, with what was typed
    message = field_error(response.text, "field-Text")
    assert message == "Action 'Report': The field 'Text' is required."
    assert draft(template) == before
    assert not EditLogEntry.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Deal {=Document:TITLE", 'Incorrect variable name "{=Document:TITLE" at position 21'),
        ("{{=strlen(}}", "Unexpected end of expression at position 10"),
    ],
)
def test_a_broken_expression_is_refused_next_to_its_field(editor, template, typed, message):
    before = draft(template)
    response = send(editor, "block-update", template, {"Title": "Report", "Text": typed}, "A_log")
    assert response.status_code == 422
    assert field_error(response.text, "field-Text") == f"Action 'Report': {message}"
    assert f">{typed}</textarea>" in response.text
    assert draft(template) == before


def test_a_condition_left_unset_is_refused(editor, template):
    name = insert(editor, template, "IfElseBranchActivity", parent="A_if", index="2")
    dialog = editor.get(reverse("designer:block-update", args=[template.pk, name]), headers=HTMX)
    before = draft(template)
    posted = submitted(dialog.text, "block-form")
    response = editor.post(
        reverse("designer:block-update", args=[template.pk, name]), posted, headers=HTMX
    )
    assert response.status_code == 422
    assert "The condition is not set." in response.text
    assert draft(template) == before


def test_a_complete_dialog_saves(editor, template):
    name = insert(editor, template, "LogActivity")
    response = send(editor, "block-update", template, {"Title": "Hi", "Text": "Hello"}, name)
    assert response.status_code == 200
    assert find(draft(template)[0], name)[0]["Properties"]["Text"] == "Hello"


def test_the_engine_lets_a_new_block_lack_values_but_not_a_saved_one(template, admin):
    name = services.tree_insert(
        template=template,
        revision=template.revision,
        parent="Template",
        index=0,
        type="LogActivity",
        user=admin,
    )
    with pytest.raises(EditRefused) as refused:
        services.tree_update(
            template=template,
            revision=template.revision,
            name=name,
            properties={"Title": "Report"},
            user=admin,
        )
    assert [(p.parameter, p.code) for p in refused.value.problems] == [("Text", "required")]


def test_publishing_still_refuses_a_block_never_completed(editor, template):
    insert(editor, template, "LogActivity")
    response = send(editor, "template-publish", template, {})
    assert response.status_code == 422
    assert "Action &#x27;Write to report&#x27;: The field &#x27;Text&#x27; is required." in (
        response.text
    )
    assert not template.versions.exists()


def test_a_scenario_robot_left_incomplete_is_refused_next_to_the_field(editor, admin):
    scenario = make_scenario(admin, name="Ping")
    (robot,) = scenario.template.tree["Children"]
    url = reverse("designer:scenario-robot-update", args=[scenario.pk, robot["Name"]])
    before = draft(scenario.template)
    response = editor.post(
        url,
        {"revision": scenario.template.revision, "Title": "Comment", "CommentText": ""},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert field_error(response.text, "field-CommentText") == (
        "Action 'Comment': The field 'Comment' is required."
    )
    assert draft(scenario.template) == before


# ---- cancelling a new block's dialog -----------------------------------------------------


def test_only_a_new_blocks_dialog_says_where_cancel_takes_it_back(editor, template):
    new_block = {"parent": "Template", "index": "0", "type": "LogActivity"}
    created = send(editor, "block-create", template, new_block)
    template.refresh_from_db()
    name = template.tree["Children"][0]["Name"]
    discard = reverse("designer:block-discard", args=[template.pk, name])
    assert f'data-discard-url="{discard}"' in created.text
    # Refused, it is still the new block's dialog.
    refused = send(editor, "block-update", template, {"Title": "", "Text": "", "fresh": "1"}, name)
    assert refused.status_code == 422
    assert f'data-discard-url="{discard}"' in refused.text
    # Opened on a block that exists (or saved once), it is not.
    opened = editor.get(reverse("designer:block-update", args=[template.pk, "A_log"]), headers=HTMX)
    assert "data-discard-url" not in opened.text


def test_cancelling_a_new_blocks_dialog_takes_the_block_back_and_out_of_the_history(
    editor, template
):
    send(editor, "block-delete", template, {}, "A_if")  # an edit before, to undo after
    after_delete = draft(template)
    name = insert(editor, template, "LogActivity", index="1")

    response = send(editor, "block-discard", template, {}, name)

    assert response.status_code == 200
    tree, revision = draft(template)
    assert tree == after_delete[0]
    assert revision == after_delete[1] + 2  # the insertion, then its taking back
    assert "was not added." in response.text
    assert 'data-focus="block:A_log"' in response.text
    assert EditLogEntry.objects.count() == 1  # only the delete: nothing to redo
    undone = send(editor, "template-undo", template)
    assert undone.status_code == 200
    assert children(template) == ["A_log", "A_if"]
    assert "There is nothing to redo." not in send(editor, "template-redo", template).text


def test_a_cancel_sent_on_a_stale_page_is_refused_and_kept_to_reapply(editor, template, admin):
    name = insert(editor, template, "LogActivity")
    opened_on = template.revision
    services.tree_delete(template=template, revision=template.revision, name="A_if", user=admin)

    stale = send(editor, "block-discard", template, {}, name, revision=opened_on)
    assert stale.status_code == 409
    assert find(draft(template)[0], name) is not None
    # Re-applied on the draft as it is now, the block is deleted as an edit of its own.
    reapplied = send(editor, "block-discard", template, {"reapply": "1"}, name)
    assert reapplied.status_code == 200
    assert children(template) == ["A_log"]
    send(editor, "template-undo", template)
    assert children(template) == [name, "A_log"]


def test_a_scenarios_new_robots_dialog_cancels_to_deleting_it(editor, admin):
    scenario = make_scenario(admin, name="Ping")
    created = editor.post(
        reverse("designer:scenario-robot-create", args=[scenario.pk]),
        {
            "revision": scenario.template.revision,
            "parent": "Template",
            "index": "1",
            "type": "CrmTimelineCommentAdd",
        },
        headers=HTMX,
    )
    scenario.template.refresh_from_db()
    name = scenario.template.tree["Children"][1]["Name"]
    discard = reverse("designer:scenario-robot-delete", args=[scenario.pk, name])
    assert f'data-discard-url="{discard}"' in created.text
    opened = editor.get(
        reverse("designer:scenario-robot-update", args=[scenario.pk, name]), headers=HTMX
    )
    assert "data-discard-url" not in opened.text
