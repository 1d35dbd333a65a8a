"""Publishing validates the whole draft: refused with the problems listed, each linking to its
block (also marked in the tree); once fixed, a version is created with its comment."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from bizproc import scenarios
from bizproc.models import Scenario
from bizproc.tree import find
from tests.bizproc.builders import field
from tests.designer.conftest import HTMX, draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def publish(client, template, comment: str = ""):
    template.refresh_from_db()
    return client.post(
        reverse("designer:template-publish", args=[template.pk]),
        {"revision": template.revision, "comment": comment},
        headers=HTMX,
    )


def set_properties(template, name: str, **properties) -> None:
    template.refresh_from_db()
    find(template.tree, name)[0]["Properties"].update(properties)
    template.save()


def test_refused_with_linked_problems_then_published_once_fixed(editor, admin, template, welcome):
    template.tree["Children"].append(
        {
            "Type": "StartScriptActivity",
            "Name": "A_start",
            "Properties": {
                "Title": "Welcome",
                "DocumentId": "{=Document:ID}",
                "StartBy": "{=Template:TargetUser}",
                "TemplateId": str(welcome.template_id),
                "TemplateParameters": {"Greeting": "Hi"},
            },
            "Children": [],
        }
    )
    template.save()
    set_properties(template, "A_log", Text="")  # an incomplete block
    # The scenario gains a required parameter the block does not fill.
    scenarios.scenario_save(
        user=admin,
        document_type=welcome.document_type_triple,
        name=welcome.name,
        parameters={
            "Greeting": field("string", "Greeting", required=True),
            "Channel": field("string", "Channel", required=True),
        },
        robots=[{"Type": "CrmTimelineCommentAdd", "Properties": {"CommentText": "x"}}],
        scenario=welcome,
    )
    before = draft(template)

    response = publish(editor, template)
    assert response.status_code == 422
    text = response.text.replace("&#x27;", "'")
    assert text.lstrip().startswith('<aside id="publish-panel"')
    assert "The template has problems and was not published." in text
    assert (
        '<a href="#block-A_log" data-focus-block="A_log">'
        "Action 'Report': The field 'Text' is required.</a>"
    ) in text
    assert (
        '<a href="#block-A_start" data-focus-block="A_start">'
        "Action 'Welcome': The required parameter is empty: Channel.</a>"
    ) in text
    # The tree comes along, its problem blocks marked.
    assert 'id="tree" class="tree"' in text and 'hx-swap-oob="true"' in text
    assert 'class="block has-problems"' in text
    assert draft(template) == before
    assert not template.versions.exists()

    set_properties(template, "A_log", Text="Deal {=Document:TITLE}")
    set_properties(template, "A_start", TemplateParameters={"Greeting": "Hi", "Channel": "mail"})
    response = publish(editor, template, comment="First release")
    assert response.status_code == 200, response.text
    assert "Published as version 1." in response.text
    version = template.versions.get()
    assert (version.number, version.comment) == (1, "First release")
    assert version.tree == draft(template)[0]


def test_scenario_import_command_creates_a_scenario(tmp_path, admin):
    export = {
        "format": "bizproc-designer/smart-scenario",
        "version": 1,
        "name": "Imported",
        "document_type": ["crm", "CCrmDocumentDeal", "DEAL"],
        "parameters": {"Greeting": field("string", "Greeting", default="Hi")},
        "constants": {},
        "robots": [
            {"Type": "CrmTimelineCommentAdd", "Name": "R1", "Properties": {"CommentText": "x"}}
        ],
    }
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(export))
    admin.username = "irina"
    admin.save()
    call_command("scenario_import", str(path), "--user", "irina")
    scenario = Scenario.objects.get(name="Imported")
    assert scenario.template.latest_version.parameters["Greeting"]["Default"] == "Hi"

    path.write_text("{}")
    with pytest.raises(CommandError, match="not a smart scenario export"):
        call_command("scenario_import", str(path), "--user", "irina")
