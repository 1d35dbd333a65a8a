"""The settings panel: name, description, auto-start and the typed parameters, variables and
constants, checked with the engine's schema rules; a save bumps the revision, a refusal changes
nothing."""

import pytest
from django.urls import reverse

from bizproc.models import AutoExecute
from tests.designer.conftest import HTMX, draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def save(client, template, **data):
    base = {
        "revision": template.revision,
        "name": "Deal flow",
        "description": "",
        "auto_execute": "0",
    }
    return client.post(
        reverse("designer:template-settings", args=[template.pk]), base | data, headers=HTMX
    )


def row(kind: str, n: int, **columns) -> dict:
    return {f"{kind}-{n}-{key}": value for key, value in columns.items()}


def test_the_panel_shows_the_settings_and_schemas(editor, template):
    response = editor.get(reverse("designer:template-settings", args=[template.pk]), headers=HTMX)
    text = response.text
    assert text.lstrip().startswith('<dialog id="editor-dialog"')
    assert 'value="Deal flow"' in text
    assert 'name="variables-0-id" value="Note"' in text
    assert "Add parameter" in text and "Add variable" in text and "Add constant" in text


def test_saving_replaces_the_settings_and_bumps_the_revision(editor, template):
    revision = template.revision
    response = save(
        editor,
        template,
        name="Deal welcome",
        description="Greets new deals",
        auto_execute=str(AutoExecute.CREATE),
        **row(
            "parameters", 0, id="Discount", name="Discount", type="int", required="1", default="5"
        ),
        **row("variables", 3, id="Tier", name="Tier", type="select", options="gold = Gold\nsilver"),
        **row("constants", 0, id="", name=""),  # an empty row is dropped
    )
    assert response.status_code == 200, response.text
    assert response.text.startswith('<div id="editor-dialog" hidden></div>')
    assert 'id="editor-head" class="editor-head" hx-swap-oob="true"' in response.text
    template.refresh_from_db()
    assert template.revision == revision + 1
    assert (template.name, template.description, template.auto_execute) == (
        "Deal welcome",
        "Greets new deals",
        AutoExecute.CREATE,
    )
    assert template.parameters == {
        "Discount": {
            "Name": "Discount",
            "Description": "",
            "Type": "int",
            "Required": "1",
            "Multiple": "0",
            "Default": "5",
        }
    }
    assert template.variables["Tier"]["Options"] == {"gold": "Gold", "silver": "silver"}
    assert template.constants == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "  "}, "Enter a name."),
        ({"auto_execute": "9"}, "Choose when the process starts."),
        (row("parameters", 0, id="1st", name="First", type="string"), "is not a valid ID"),
        (row("variables", 0, id="Tier", name="Tier", type="select"), "needs options"),
        (
            row("constants", 0, id="Rate", name="Rate", type="int", default="lots"),
            "is not an integer",
        ),
        (row("parameters", 0, id="TargetUser", name="Me", type="user"), "is reserved"),
        (
            row("variables", 0, id="Note", name="A", type="string")
            | row("variables", 1, id="Note", name="B", type="string"),
            "is used twice",
        ),
        (row("variables", 0, id="Odd", name="Odd", type="money"), "has an unknown type"),
    ],
)
def test_a_refused_save_shows_the_problem_and_changes_nothing(editor, template, data, message):
    before = draft(template)
    response = save(editor, template, **data)
    assert response.status_code == 422
    assert message in response.text.replace("&#x27;", "'")
    assert 'aria-invalid="true"' in response.text or "field-errors" in response.text
    assert draft(template) == before
    template.refresh_from_db()
    assert template.name == "Deal flow"
