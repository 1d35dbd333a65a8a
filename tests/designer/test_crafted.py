"""Crafted requests get a clear message and leave the draft and its revision as they were."""

import pytest
from django.urls import reverse

from tests.crm.factories import user_with
from tests.designer.conftest import HTMX, draft, make_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def send(client, name: str, template, data: dict, *args, revision=None):
    return client.post(
        reverse(f"designer:{name}", args=[template.pk, *args]),
        {"revision": template.revision if revision is None else revision, **data},
        headers=HTMX,
    )


def refused(client, template, status: int, message: str, *request, **options) -> None:
    before = draft(template)
    response = send(client, *request, **options)
    assert response.status_code == status, response.text
    assert message in response.text
    assert draft(template) == before


def test_a_block_into_a_branch_that_does_not_exist(editor, template):
    refused(
        editor,
        template,
        422,
        "There is no block A_nowhere in this template.",
        "block-create",
        template,
        {"parent": "A_nowhere", "index": "0", "type": "LogActivity"},
    )


def test_a_block_where_it_cannot_stand(editor, template):
    refused(
        editor,
        template,
        422,
        "A block &#x27;Write to report&#x27; cannot stand here.",
        "block-create",
        template,
        {"parent": "A_if", "index": "0", "type": "LogActivity"},
    )


def test_an_unknown_activity_type(editor, template):
    refused(
        editor,
        template,
        422,
        "Unknown block type: EvalActivity",
        "block-create",
        template,
        {"parent": "Template", "index": "0", "type": "EvalActivity"},
    )


def test_a_position_that_is_not_a_number(editor, template):
    refused(
        editor,
        template,
        422,
        "The position is not valid.",
        "block-create",
        template,
        {"parent": "Template", "index": "first", "type": "LogActivity"},
    )


def test_a_property_of_the_wrong_type(editor, template):
    editor.post(
        reverse("designer:block-create", args=[template.pk]),
        {
            "revision": template.revision,
            "parent": "Template",
            "index": "0",
            "type": "DelayActivity",
        },
        headers=HTMX,
    )
    template.refresh_from_db()
    pause = template.tree["Children"][0]["Name"]
    before = draft(template)
    response = send(
        editor,
        "block-update",
        template,
        {"Title": "Wait", "TimeoutDuration": "soon", "TimeoutDurationType": "d"},
        pause,
    )
    assert response.status_code == 422
    # The message sits next to its field, which keeps what was typed.
    assert 'id="field-TimeoutDuration-errors"' in response.text
    assert "The value of field &#x27;Wait for&#x27; is not a number." in response.text
    assert 'value="soon"' in response.text
    assert draft(template) == before


def test_an_expression_with_a_syntax_error(editor, template):
    refused(
        editor,
        template,
        422,
        "Incorrect variable name",
        "block-update",
        template,
        {"Title": "Report", "Text": "Deal {=Document:"},
        "A_log",
    )


def test_a_scenario_of_a_type_the_user_may_not_see(editor, admin, template):
    hidden = make_scenario(admin, name="Company check", entity="COMPANY")
    send(
        editor,
        "block-create",
        template,
        {"parent": "Template", "index": "0", "type": "StartScriptActivity"},
    )
    template.refresh_from_db()
    block = template.tree["Children"][0]["Name"]
    refused(
        editor,
        template,
        422,
        "Smart scenario not found or inactive.",
        "block-update",
        template,
        {
            "Title": "Start",
            "DocumentId": "{=Document:COMPANY_ID}",
            "StartBy": "{=Template:TargetUser}",
            "TemplateId": str(hidden.template_id),
        },
        block,
    )
    # Nor does the dialog's parameters section reveal it.
    response = editor.get(
        reverse("designer:scenario-parameters", args=[template.pk]),
        {"TemplateId": hidden.template_id, "block": block},
        headers=HTMX,
    )
    assert response.text.strip().startswith('<div id="scenario-parameters" hidden></div>')
    assert "Compan" not in response.text


def test_an_inactive_scenario_is_refused_too(editor, admin, template):
    asleep = make_scenario(admin, name="Asleep", active=False)
    send(
        editor,
        "block-create",
        template,
        {"parent": "Template", "index": "0", "type": "StartScriptActivity"},
    )
    template.refresh_from_db()
    refused(
        editor,
        template,
        422,
        "Smart scenario not found or inactive.",
        "block-update",
        template,
        {"Title": "Start", "TemplateId": str(asleep.template_id)},
        template.tree["Children"][0]["Name"],
    )


@pytest.mark.parametrize(
    ("view", "data", "args"),
    [
        ("block-create", {"parent": "Template", "index": "0", "type": "LogActivity"}, []),
        ("block-move", {"direction": "down"}, ["A_log"]),
        ("block-duplicate", {}, ["A_log"]),
        ("block-delete", {}, ["A_log"]),
        ("block-update", {"Title": "Report", "Text": "changed"}, ["A_log"]),
        ("template-settings", {"name": "Renamed", "auto_execute": "0"}, []),
        ("template-publish", {}, []),
    ],
)
@pytest.mark.parametrize("revision", ["stale", "not-a-number"])
def test_a_stale_revision(editor, template, view, data, args, revision):
    given = template.revision - 1 if revision == "stale" else "x"
    refused(
        editor,
        template,
        409,
        "The template was changed meanwhile",
        view,
        template,
        data,
        *args,
        revision=given,
    )


def test_a_block_moved_inside_itself(editor, template):
    refused(
        editor,
        template,
        422,
        "A block cannot be moved inside itself.",
        "block-move",
        template,
        {"parent": "A_yes", "index": "0"},
        "A_if",
    )


def test_a_block_moved_past_the_end(editor, template):
    refused(
        editor,
        template,
        422,
        "The position is not valid.",
        "block-move",
        template,
        {"direction": "down"},
        "A_if",
    )


def test_a_block_that_does_not_exist_is_a_404_and_saving_it_says_so(editor, template):
    before = draft(template)
    url = reverse("designer:block-update", args=[template.pk, "A_missing"])
    assert editor.get(url, headers=HTMX).status_code == 404
    response = send(editor, "block-update", template, {"Title": "x"}, "A_missing")
    assert response.status_code == 422
    assert "Your change no longer applies: There is no block A_missing" in response.text
    assert draft(template) == before


def test_a_user_without_start_rights_keeps_the_saved_parameters(client, admin, template, welcome):
    """The section is one line for such a user; saving the block keeps the values it had."""
    template.tree["Children"].insert(
        0,
        {
            "Type": "StartScriptActivity",
            "Name": "A_start",
            "Properties": {
                "Title": "Start",
                "DocumentId": "{=Document:ID}",
                "StartBy": "{=Template:TargetUser}",
                "TemplateId": str(welcome.template_id),
                "TemplateParameters": {"Greeting": "Hi {=Document:TITLE}"},
            },
            "Children": [],
        },
    )
    template.save()
    viewer = user_with({("DEAL", "read"): "all", ("DEAL", "design_automation"): "all"})
    client.force_login(viewer)
    dialog = client.get(
        reverse("designer:block-update", args=[template.pk, "A_start"]), headers=HTMX
    )
    assert "Insufficient permission to edit parameters of the current smart scenario" in dialog.text
    response = send(
        client,
        "block-update",
        template,
        {
            "Title": "Start it",
            "DocumentId": "{=Document:ID}",
            "StartBy": "{=Template:TargetUser}",
            "TemplateId": str(welcome.template_id),
            "TemplateParameters-Greeting": "forged",
        },
        "A_start",
    )
    assert response.status_code == 200
    properties = draft(template)[0]["Children"][0]["Properties"]
    assert properties["Title"] == "Start it"
    assert properties["TemplateParameters"] == {"Greeting": "Hi {=Document:TITLE}"}


def test_a_block_reaching_a_type_the_user_may_not_design_cannot_be_saved(client, admin, template):
    """Another designer chose a lead scenario; this one (no lead rights) may see that one is
    chosen but not save the block with it: a template may only reach the types its designer
    may design. The dialog says why and the draft stays as it was."""
    lead = make_scenario(
        admin,
        name="Qualify",
        entity="LEAD",
        parameters={"Why": {"Name": "Why", "Type": "string", "Required": "1"}},
    )
    template.tree["Children"].insert(
        0,
        {
            "Type": "StartScriptActivity",
            "Name": "A_lead",
            "Properties": {
                "Title": "Qualify the lead",
                "DocumentId": "{=Document:LEAD_ID}",
                "StartBy": "{=Template:TargetUser}",
                "TemplateId": str(lead.template_id),
                "TemplateParameters": {"Why": "big deal"},
            },
            "Children": [],
        },
    )
    template.save()
    client.force_login(user_with({("DEAL", "read"): "all", ("DEAL", "design_automation"): "all"}))
    dialog = client.get(
        reverse("designer:block-update", args=[template.pk, "A_lead"]), headers=HTMX
    )
    assert f"Smart scenario {lead.template_id} (not available)" in dialog.text
    assert "Qualify" not in dialog.text.replace("Qualify the lead", "")
    refused(
        client,
        template,
        422,
        "You may not design automation for Leads",
        "block-update",
        template,
        {"Title": "Qualify it", "TemplateId": str(lead.template_id), "DocumentId": "1"},
        "A_lead",
    )
