"""The Start smart scenario dialog, as DOMAIN.md §2 describes it: Item ID and Run as user with
their defaults, the scenario picker grouped by entity type, and the parameters section fetched
for the chosen scenario."""

import re

import pytest
from django.urls import reverse

from tests.bizproc.builders import field
from tests.crm.factories import user_with
from tests.designer.conftest import HTMX, draft, make_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def block(client, designer_user, template) -> str:
    """A Start smart scenario block just dropped at the top of the template."""
    client.force_login(designer_user)
    client.post(
        reverse("designer:block-create", args=[template.pk]),
        {
            "revision": template.revision,
            "parent": "Template",
            "index": "0",
            "type": "StartScriptActivity",
        },
        headers=HTMX,
    )
    template.refresh_from_db()
    return template.tree["Children"][0]["Name"]


def dialog(client, template, block) -> str:
    return client.get(
        reverse("designer:block-update", args=[template.pk, block]), headers=HTMX
    ).text


def section(client, template, block, scenario) -> str:
    """The parameters section the picker swaps in (without the block's warnings after it)."""
    answer = client.get(
        reverse("designer:scenario-parameters", args=[template.pk]),
        {"TemplateId": scenario.template_id if scenario else "", "block": block},
        headers=HTMX,
    ).text
    return answer.partition('<div id="block-warnings"')[0].strip()


def test_item_id_and_run_as_user_come_with_their_defaults(client, template, block):
    text = dialog(client, template, block)
    assert re.search(r'id="field-DocumentId" name="DocumentId" value="\{=Document:ID\}"', text)
    assert re.search(r'id="field-StartBy" name="StartBy" value="\{=Template:TargetUser\}"', text)
    assert 'data-user-picker data-name="StartBy"' in text  # the user picker
    assert "Insert value into Item ID" in text


def test_the_picker_groups_active_scenarios_by_the_types_the_user_reads(
    client, admin, template, block, welcome, ping
):
    make_scenario(admin, name="Qualify lead", entity="LEAD")
    make_scenario(admin, name="Sleeping", active=False)
    make_scenario(admin, name="Company check", entity="COMPANY")  # not readable
    text = dialog(client, template, block)
    picker = text[
        text.index('<select id="field-TemplateId"') : text.index(
            "</select>", text.index('id="field-TemplateId"')
        )
    ]
    groups = re.findall(r'<optgroup label="([^"]+)">', picker)
    assert groups == ["Leads", "Deals"]
    assert "Qualify lead" in picker and "Welcome pack" in picker and "Ping" in picker
    assert "Sleeping" not in picker and "Company check" not in picker
    assert f'hx-get="{reverse("designer:scenario-parameters", args=[template.pk])}"' in picker
    assert 'hx-target="#scenario-parameters"' in picker


def test_no_section_for_a_scenario_without_parameters_or_no_choice(client, template, block, ping):
    assert section(client, template, block, ping) == '<div id="scenario-parameters" hidden></div>'
    assert section(client, template, block, None) == '<div id="scenario-parameters" hidden></div>'


def test_the_section_lists_each_parameter_with_its_default(client, template, block, welcome):
    text = section(client, template, block, welcome)
    assert text.startswith('<section id="scenario-parameters"')
    assert '<h3 id="scenario-parameters-heading">Smart scenario start parameters</h3>' in text
    assert re.search(r'Greeting <span class="required" aria-hidden="true">\*</span>', text)
    assert 'name="TemplateParameters-Greeting" value="Hello"' in text
    assert 'name="TemplateParameters-Discount" value="5"' in text
    assert "Insert value into Greeting" in text


def test_parameters_are_typed(client, admin, template, block):
    typed = make_scenario(
        admin,
        name="Typed",
        parameters={
            "When": field("date", "When"),
            "Who": field("user", "Who"),
            "Tier": field("select", "Tier", options={"gold": "Gold", "silver": "Silver"}),
            "Vip": field("bool", "VIP"),
            "Notes": field("text", "Notes"),
        },
    )
    text = section(client, template, block, typed)
    assert 'type="date"' in text
    assert 'data-user-picker data-name="TemplateParameters-Who"' in text
    assert '<option value="gold" >Gold</option>' in text
    assert '<option value="Y" >Yes</option>' in text
    assert '<textarea id="field-TemplateParameters-Notes"' in text


def test_saved_values_are_shown_for_the_blocks_scenario_defaults_for_another(
    client, template, block, welcome, ping
):
    response = client.post(
        reverse("designer:block-update", args=[template.pk, block]),
        {
            "revision": template.revision,
            "Title": "Start smart scenario",
            "DocumentId": "{=Document:ID}",
            "StartBy": "{=Template:TargetUser}",
            "TemplateId": str(welcome.template_id),
            "TemplateParameters-Greeting": "Dear {=Document:TITLE}",
            "TemplateParameters-Discount": "",
        },
        headers=HTMX,
    )
    assert response.status_code == 200, response.text
    properties = draft(template)[0]["Children"][0]["Properties"]
    assert properties["TemplateId"] == str(welcome.template_id)
    assert properties["TemplateParameters"] == {"Greeting": "Dear {=Document:TITLE}"}
    assert "Dear {=Document:TITLE}" in section(client, template, block, welcome)
    # The tree shows the block's one-line summary with the scenario's name.
    page = client.get(reverse("designer:template-edit", args=[template.pk])).text
    assert "“Welcome pack” · on {=Document:ID}" in page
    # Choosing another scenario and coming back: its own defaults, then the saved values.
    assert section(client, template, block, ping) == '<div id="scenario-parameters" hidden></div>'
    assert 'value="Dear {=Document:TITLE}"' in section(client, template, block, welcome)


def test_a_user_who_may_not_run_the_scenario_sees_one_line(client, template, block, welcome):
    designer = user_with({("DEAL", "read"): "all", ("DEAL", "design_automation"): "all"})
    client.force_login(designer)
    text = section(client, template, block, welcome)
    assert text == (
        '<p id="scenario-parameters" class="notice warning">'
        "Insufficient permission to edit parameters of the current smart scenario</p>"
    )


def test_the_dialog_follows_the_scenarios_current_parameters(
    client, admin, template, block, welcome
):
    """After the scenario changed its parameters, the dialog asks for the current ones
    (publication reports the mismatch; see test_publish)."""
    from bizproc import scenarios

    client.post(
        reverse("designer:block-update", args=[template.pk, block]),
        {
            "revision": template.revision,
            "Title": "Start",
            "DocumentId": "{=Document:ID}",
            "StartBy": "{=Template:TargetUser}",
            "TemplateId": str(welcome.template_id),
            "TemplateParameters-Greeting": "Hi",
        },
        headers=HTMX,
    )
    scenarios.scenario_save(
        user=admin,
        document_type=welcome.document_type_triple,
        name="Welcome pack",
        parameters={"Channel": field("string", "Channel", required=True)},
        robots=[{"Type": "CrmTimelineCommentAdd", "Properties": {"CommentText": "x"}}],
        scenario=welcome,
    )
    text = dialog(client, template, block)
    assert 'name="TemplateParameters-Channel" value=""' in text
    assert "TemplateParameters-Greeting" not in text
