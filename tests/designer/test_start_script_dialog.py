"""The Start smart scenario dialog, as DOMAIN.md §2 describes it: Item ID and Run as user with
their defaults, the scenario picker grouped by entity type, and the parameters section fetched
for the chosen scenario."""

import pytest
from django.urls import reverse

from tests.bizproc.builders import field
from tests.crm.factories import user_with
from tests.designer.conftest import HTMX, draft, make_scenario
from tests.html import Element, accessible_name, by_id, by_role, html_parse, labelled, text, value

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


def dialog(client, template, block) -> Element:
    return html_parse(
        client.get(reverse("designer:block-update", args=[template.pk, block]), headers=HTMX).text
    )


def section(client, template, block, scenario) -> Element:
    """The parameters section the picker swaps in (the block's warnings come after it)."""
    answer = client.get(
        reverse("designer:scenario-parameters", args=[template.pk]),
        {"TemplateId": scenario.template_id if scenario else "", "block": block},
        headers=HTMX,
    ).text
    return by_id(html_parse(answer), "scenario-parameters")


def hidden(shown: Element) -> bool:
    return "hidden" in shown.attrs and not shown.children


def options(select: Element) -> list[tuple[str, str]]:
    return [(option.attrs["value"], text(option)) for option in by_role(select, "option")]


def test_item_id_and_run_as_user_come_with_their_defaults(client, template, block):
    page = dialog(client, template, block)
    assert value(labelled(page, "Item ID")) == "{=Document:ID}"
    run_as = labelled(page, "Run as user")
    assert value(run_as) == "{=Template:TargetUser}"
    assert run_as.attrs["role"] == "combobox"  # the user picker
    assert by_role(page, "button", "Insert value into Item ID")


def test_the_picker_groups_active_scenarios_by_the_types_the_user_reads(
    client, admin, template, block, welcome, ping
):
    make_scenario(admin, name="Qualify lead", entity="LEAD")
    make_scenario(admin, name="Sleeping", active=False)
    make_scenario(admin, name="Company check", entity="COMPANY")  # not readable
    picker = labelled(dialog(client, template, block), "Smart scenario")
    groups = {
        accessible_name(picker, group): sorted(map(text, by_role(group, "option")))
        for group in by_role(picker, "group")
    }
    assert list(groups.items()) == [
        ("Leads", ["Qualify lead"]),
        ("Deals", ["Ping", "Welcome pack"]),
    ]
    assert picker.attrs["hx-get"] == reverse("designer:scenario-parameters", args=[template.pk])
    assert picker.attrs["hx-target"] == "#scenario-parameters"


def test_no_section_for_a_scenario_without_parameters_or_no_choice(client, template, block, ping):
    assert hidden(section(client, template, block, ping))
    assert hidden(section(client, template, block, None))


def test_the_section_lists_each_parameter_with_its_default(client, template, block, welcome):
    shown = section(client, template, block, welcome)
    assert by_role(shown, "region", "Smart scenario start parameters") == [shown]
    greeting = labelled(shown, "Greeting")
    assert (value(greeting), greeting.attrs.get("aria-required")) == ("Hello", "true")
    assert greeting.attrs["name"] == "TemplateParameters-Greeting"
    assert value(labelled(shown, "Discount")) == "5"
    assert by_role(shown, "button", "Insert value into Greeting")


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
    shown = section(client, template, block, typed)
    assert labelled(shown, "When").attrs["type"] == "date"
    assert labelled(shown, "Who").attrs["role"] == "combobox"  # the user picker
    assert ("gold", "Gold") in options(labelled(shown, "Tier"))
    assert ("Y", "Yes") in options(labelled(shown, "VIP"))
    assert labelled(shown, "Notes").name == "textarea"


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
    greeting = labelled(section(client, template, block, welcome), "Greeting")
    assert value(greeting) == "Dear {=Document:TITLE}"
    # The tree shows the block's one-line summary with the scenario's name.
    page = client.get(reverse("designer:template-edit", args=[template.pk])).text
    assert "“Welcome pack” · on {=Document:ID}" in page
    # Choosing another scenario and coming back: its own defaults, then the saved values.
    assert hidden(section(client, template, block, ping))
    greeting = labelled(section(client, template, block, welcome), "Greeting")
    assert value(greeting) == "Dear {=Document:TITLE}"


def test_a_user_who_may_not_run_the_scenario_sees_one_line(client, template, block, welcome):
    designer = user_with({("DEAL", "read"): "all", ("DEAL", "design_automation"): "all"})
    client.force_login(designer)
    shown = section(client, template, block, welcome)
    assert shown.name == "p"
    assert text(shown) == "Insufficient permission to edit parameters of the current smart scenario"


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
    page = dialog(client, template, block)
    assert value(labelled(page, "Channel")) == ""
    assert not by_role(page, "textbox", "Greeting")
