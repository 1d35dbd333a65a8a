"""The smart scenario editor: the list by entity type, a new scenario, its settings, typed start
parameters and robots, publishing the version runs use; crafted requests and users without the
design right get a clear answer and change nothing."""

import re

import pytest
from django.urls import reverse

from bizproc import scenarios
from bizproc.models import RunStatus, Scenario, ScenarioRun
from bizproc.services import EditRefused, PublishRefused, StaleRevision
from crm.models import TimelineEntry
from tests.bizproc.builders import field, node, run_tasks
from tests.crm.factories import DealFactory, user_with
from tests.designer.conftest import DEAL, HTMX, make_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


@pytest.fixture
def scenario(admin):
    """A deal scenario with two start parameters and two robots, published as version 1."""
    return scenarios.scenario_save(
        user=admin,
        document_type=DEAL,
        name="Welcome pack",
        parameters={
            "Greeting": field("string", "Greeting", required=True, default="Hello"),
            "Discount": field("int", "Discount", default="5"),
        },
        robots=[
            node(
                "CrmTimelineCommentAdd",
                "R_hello",
                Title="Hello",
                CommentText="{=Template:Greeting}",
            ),
            node("CrmChangeStatusActivity", "R_stage", Title="To work", TargetStatus="PREPARATION"),
        ],
    )


def stored(scenario: Scenario) -> tuple:
    """Everything an edit may change, to compare before and after a refused one."""
    scenario = Scenario.objects.select_related("template").get(pk=scenario.pk)
    template = scenario.template
    return (
        scenario.name,
        scenario.description,
        scenario.active,
        template.tree,
        template.parameters,
        template.revision,
        template.versions.count(),
    )


def url(name: str, scenario: Scenario, *args) -> str:
    return reverse(f"designer:scenario-{name}", args=[scenario.pk, *args])


def post(client, name: str, scenario: Scenario, data: dict, *args, revision=None):
    scenario.template.refresh_from_db()
    current = scenario.template.revision if revision is None else revision
    return client.post(url(name, scenario, *args), {"revision": current, **data}, headers=HTMX)


def parameter_row(**columns) -> dict:
    return {f"parameters-0-{key}": value for key, value in columns.items()}


def robot_names(scenario: Scenario) -> list[str]:
    scenario.template.refresh_from_db()
    return [robot["Name"] for robot in scenario.template.tree["Children"]]


# ---- services ----------------------------------------------------------------------------


def test_a_new_scenario_is_published_empty_so_it_can_be_picked_at_once(admin):
    created = scenarios.scenario_create(
        user=admin, document_type=DEAL, name=" Welcome ", description="Greets", active=True
    )
    assert (created.name, created.description, created.active) == ("Welcome", "Greets", True)
    version = created.template.latest_version
    assert version.number == 1
    assert version.tree["Children"] == [] and version.parameters == {}


def test_a_new_scenario_needs_a_name(admin):
    with pytest.raises(EditRefused, match=r"Enter a name\."):
        scenarios.scenario_create(user=admin, document_type=DEAL, name="  ")
    assert not Scenario.objects.exists()


def test_parameters_are_added_renamed_in_place_moved_and_deleted(admin, scenario):
    def revision():
        scenario.template.refresh_from_db()
        return scenario.template.revision

    level = field("select", "Level", default="gold") | {"Options": {"gold": "Gold"}}
    scenarios.scenario_parameter_save(
        scenario=scenario, revision=revision(), user=admin, code="Level", entry=level
    )
    scenarios.scenario_parameter_save(
        scenario=scenario,
        revision=revision(),
        user=admin,
        code="Percent",
        entry=field("double", "Discount, %", default="2.5"),
        replaces="Discount",
    )
    assert list(scenario.template.parameters) == ["Greeting", "Percent", "Level"]
    scenarios.scenario_parameter_move(
        scenario=scenario, revision=revision(), user=admin, code="Level", index=0
    )
    assert list(scenario.template.parameters) == ["Level", "Greeting", "Percent"]
    scenarios.scenario_parameter_delete(
        scenario=scenario, revision=revision(), user=admin, code="Greeting"
    )
    assert list(scenario.template.parameters) == ["Level", "Percent"]
    assert scenario.template.parameters["Percent"]["Name"] == "Discount, %"
    # Nothing is published until the designer publishes.
    assert list(scenario.template.latest_version.parameters) == ["Greeting", "Discount"]


def test_an_edit_on_a_stale_revision_is_refused(admin, scenario):
    before = stored(scenario)
    stale = scenario.template.revision - 1
    edits = [
        lambda: scenarios.scenario_parameter_delete(
            scenario=scenario, revision=stale, user=admin, code="Discount"
        ),
        lambda: scenarios.scenario_robot_add(
            scenario=scenario, revision=stale, user=admin, robot_type="DelayActivity", index=0
        ),
        lambda: scenarios.scenario_robot_delete(
            scenario=scenario, revision=stale, user=admin, name="R_hello"
        ),
        lambda: scenarios.scenario_settings_update(
            scenario=scenario, revision=stale, user=admin, name="X", description="", active=False
        ),
        lambda: scenarios.scenario_publish(scenario=scenario, revision=stale, user=admin),
    ]
    for edit in edits:
        with pytest.raises(StaleRevision):
            edit()
    assert stored(scenario) == before


def test_publishing_makes_the_version_new_runs_use(admin, scenario):
    revision = scenario.template.revision
    name = scenarios.scenario_robot_add(
        scenario=scenario,
        revision=revision,
        user=admin,
        robot_type="CrmTimelineCommentAdd",
        index=0,
        properties={"CommentText": "First, {=Template:Greeting}"},
    )
    scenario.template.refresh_from_db()
    version = scenarios.scenario_publish(
        scenario=scenario, revision=scenario.template.revision, user=admin, comment="First"
    )
    assert version.number == 2 and version.comment == "First"
    assert [robot["Name"] for robot in version.tree["Children"]] == [name, "R_hello", "R_stage"]
    deal = DealFactory(title="Big deal", assigned_by=admin)
    [outcome] = scenarios.scenarios_start(
        scenario=scenario, document_ids=[f"DEAL_{deal.pk}"], user=admin
    )
    assert outcome.run.version == version


def test_a_publication_with_problems_is_refused_and_names_the_robots(admin, scenario):
    name = scenarios.scenario_robot_add(
        scenario=scenario,
        revision=scenario.template.revision,
        user=admin,
        robot_type="CrmTimelineCommentAdd",
        index=2,
    )
    scenario.template.refresh_from_db()
    with pytest.raises(PublishRefused) as refused:
        scenarios.scenario_publish(
            scenario=scenario, revision=scenario.template.revision, user=admin
        )
    assert refused.value.message == "The scenario has problems and was not published."
    assert [(p.node, p.message) for p in refused.value.problems] == [
        (name, "Action 'Add a comment': The field 'Comment' is required.")
    ]
    assert scenario.template.versions.count() == 1


# ---- pages -------------------------------------------------------------------------------


def test_the_list_groups_the_scenarios_of_the_types_the_user_designs(editor, admin, scenario):
    make_scenario(admin, name="Lead check", entity="LEAD")
    response = editor.get(reverse("designer:scenario-list"))
    text = response.text
    assert response.status_code == 200
    assert "Welcome pack" in text and "version 1" in text
    assert "Lead check" not in text  # leads: read, not design
    assert reverse("designer:scenario-create") + "?type=DEAL" in text
    assert url("edit", scenario) in text


def test_a_new_scenario_from_the_form_opens_in_the_editor(editor):
    page = editor.get(reverse("designer:scenario-create") + "?type=DEAL")
    assert 'value="New scenario"' in page.text
    assert "crm.CCrmDocumentLead.LEAD" not in page.text  # only types the user designs
    response = editor.post(
        reverse("designer:scenario-create"),
        {
            "name": "Follow-up",
            "description": "",
            "document_type": "crm.CCrmDocumentDeal.DEAL",
            "active": "on",
        },
    )
    created = Scenario.objects.get(name="Follow-up")
    assert response.status_code == 302
    assert response["Location"] == url("edit", created)
    assert created.document_type_triple == DEAL and created.active


def test_the_editor_shows_parameters_robots_and_links_to_the_scenario_page(editor, scenario):
    text = editor.get(url("edit", scenario)).text
    assert 'id="block-parameter-Greeting"' in text and "Greeting · String · required" in text
    assert 'id="block-R_hello"' in text and 'id="block-R_stage"' in text
    assert reverse("bizproc:scenario-detail", args=[scenario.pk]) in text
    # The palette offers robots only.
    assert 'data-type="CrmTimelineCommentAdd"' in text
    assert 'data-type="LogActivity"' not in text


def test_a_user_parameter_names_its_default_person_and_picks_them_by_name(editor, admin):
    target = field("user", "Target", default=f"user_{admin.pk}")
    scenario = make_scenario(admin, name="Handover", parameters={"Target": target})

    text = editor.get(url("edit", scenario)).text
    dialog = editor.get(url("parameter-update", scenario, "Target"), headers=HTMX).text

    assert "Target · User · default: Irina Admin" in text
    assert f"user_{admin.pk}" not in text
    assert 'data-user-picker data-name="parameters-0-default"' in dialog
    assert re.findall(r'class="chip-name">([^<]+)<', dialog) == ["Irina Admin"]
    assert "Responsible for the item" not in dialog  # a default is no expression


def test_the_scenario_page_links_to_the_editor_for_designers_only(client, editor, scenario, seller):
    page = reverse("bizproc:scenario-detail", args=[scenario.pk])
    assert url("edit", scenario) in editor.get(page).text
    client.force_login(seller)
    assert url("edit", scenario) not in client.get(page).text


@pytest.mark.parametrize(
    ("type_", "default", "expected"),
    [
        ("int", "5", 'inputmode="decimal"'),
        ("bool", "Y", '<option value="Y" selected>Yes</option>'),
        ("date", "2026-12-31", 'type="date"'),
        ("select", "gold", '<option value="gold" selected>Gold</option>'),
    ],
)
def test_the_default_value_input_follows_the_type(editor, scenario, type_, default, expected):
    response = editor.get(
        url("parameter-create", scenario),
        parameter_row(id="", name="", type=type_, default=default, options="gold = Gold\nsilver"),
        headers=HTMX | {"HX-Target": "parameter-typed"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="parameter-typed"')
    assert expected in response.text.replace("  ", " ")
    assert ('id="parameter-options"' in response.text) == (type_ == "select")


def test_a_parameter_saved_from_its_dialog_closes_it_and_is_focused(editor, scenario):
    response = post(
        editor,
        "parameter-create",
        scenario,
        parameter_row(id="Urgent", name="Urgent", type="bool", required="1", default="Y"),
    )
    assert response.status_code == 200, response.text
    assert response.text.startswith('<div id="editor-dialog" hidden></div>')
    assert 'data-focus="block:parameter-Urgent"' in response.text
    scenario.template.refresh_from_db()
    assert scenario.template.parameters["Urgent"] == {
        "Name": "Urgent",
        "Description": "",
        "Type": "bool",
        "Required": "1",
        "Multiple": "0",
        "Default": "Y",
    }


def test_a_parameter_is_edited_moved_and_deleted_from_the_editor(editor, scenario):
    response = post(
        editor,
        "parameter-update",
        scenario,
        parameter_row(id="Discount", name="Discount, %", type="int", default="10"),
        "Discount",
    )
    assert response.status_code == 200, response.text
    response = post(editor, "parameter-move", scenario, {"direction": "up"}, "Discount")
    assert 'data-focus="block:parameter-Discount"' in response.text
    scenario.template.refresh_from_db()
    assert list(scenario.template.parameters) == ["Discount", "Greeting"]
    assert scenario.template.parameters["Discount"]["Default"] == "10"
    response = post(editor, "parameter-delete", scenario, {}, "Discount")
    assert 'data-focus="block:parameter-Greeting"' in response.text
    scenario.template.refresh_from_db()
    assert list(scenario.template.parameters) == ["Greeting"]


def test_a_robot_is_added_configured_moved_and_deleted_from_the_editor(editor, scenario):
    response = post(
        editor,
        "robot-create",
        scenario,
        {"parent": "Template", "index": "2", "type": "DelayActivity"},
    )
    assert response.status_code == 200, response.text
    name = robot_names(scenario)[2]
    assert f'data-focus="block:{name}"' in response.text
    assert 'id="editor-dialog"' in response.text and 'hx-swap-oob="true"' in response.text

    response = post(
        editor,
        "robot-update",
        scenario,
        {"Title": "Wait", "TimeoutDuration": "0", "TimeoutDurationType": "s", "TimeoutTime": ""},
        name,
    )
    assert response.status_code == 200, response.text
    assert response.text.startswith('<div id="editor-dialog" hidden></div>')
    # Dropped on the first insertion point; then one place down with the keyboard.
    post(editor, "robot-move", scenario, {"parent": "Template", "index": "0"}, name)
    assert robot_names(scenario) == [name, "R_hello", "R_stage"]
    post(editor, "robot-move", scenario, {"direction": "down"}, name)
    assert robot_names(scenario) == ["R_hello", name, "R_stage"]
    response = post(editor, "robot-delete", scenario, {}, name)
    assert 'data-focus="block:R_stage"' in response.text
    assert robot_names(scenario) == ["R_hello", "R_stage"]


def test_publishing_from_the_editor(editor, scenario):
    post(editor, "parameter-delete", scenario, {}, "Discount")
    response = post(editor, "publish", scenario, {"comment": "No discount"})
    assert response.status_code == 200, response.text
    assert "Published as version 2." in response.text
    scenario.template.refresh_from_db()
    assert scenario.template.latest_version.parameters.keys() == {"Greeting"}


def test_a_refused_publication_links_each_problem_to_its_robot(editor, scenario):
    post(
        editor,
        "robot-create",
        scenario,
        {"parent": "Template", "index": "0", "type": "IMNotifyActivity"},
    )
    name = robot_names(scenario)[0]
    before = stored(scenario)
    response = post(editor, "publish", scenario, {})
    assert response.status_code == 422
    assert f'data-focus-block="{name}"' in response.text
    assert "The scenario has problems and was not published." in response.text
    assert stored(scenario) == before


def test_settings_are_saved_and_the_head_follows(editor, scenario):
    response = post(
        editor,
        "settings",
        scenario,
        {"name": "Welcome kit", "description": "For new deals"},  # "active" unticked
    )
    assert response.status_code == 200, response.text
    assert "Settings saved." in response.text
    assert "<h1>Welcome kit</h1>" in response.text
    scenario.refresh_from_db()
    assert (scenario.name, scenario.description, scenario.active) == (
        "Welcome kit",
        "For new deals",
        False,
    )


def test_a_start_smart_scenario_robot_offers_the_chosen_scenarios_parameters(
    editor, scenario, welcome
):
    post(
        editor,
        "robot-create",
        scenario,
        {"parent": "Template", "index": "0", "type": "StartScriptActivity"},
    )
    name = robot_names(scenario)[0]
    dialog = editor.get(url("robot-update", scenario, name), headers=HTMX).text
    assert url("robot-start-parameters", scenario) in dialog
    assert f'<option value="{welcome.template_id}"' in dialog
    response = editor.get(
        url("robot-start-parameters", scenario),
        {"TemplateId": welcome.template_id, "block": name},
        headers=HTMX,
    )
    assert "Smart scenario start parameters" in response.text
    assert 'name="TemplateParameters-Greeting" value="Hello"' in response.text


@pytest.mark.parametrize(
    "robot_type",
    [
        "CrmTimelineCommentAdd",
        "CrmChangeStatusActivity",
        "IMNotifyActivity",
        "DelayActivity",
        "SetFieldActivity",
        "StartScriptActivity",
    ],
)
def test_every_robot_opens_its_dialog_as_a_fragment_and_as_a_page(editor, scenario, robot_type):
    response = post(
        editor, "robot-create", scenario, {"parent": "Template", "index": "0", "type": robot_type}
    )
    assert response.status_code == 200, response.text
    name = robot_names(scenario)[0]
    fragment = editor.get(url("robot-update", scenario, name), headers=HTMX)
    page = editor.get(url("robot-update", scenario, name))
    assert fragment.status_code == page.status_code == 200
    assert fragment.text.lstrip().startswith('<dialog id="editor-dialog"')
    assert "<!doctype html>" in page.text and url("edit", scenario) in page.text


def test_the_scenario_list_links_designers_to_the_designer(client, editor, seller):
    page = reverse("bizproc:scenario-list")
    assert reverse("designer:scenario-list") in editor.get(page).text
    client.force_login(seller)
    assert reverse("designer:scenario-list") not in client.get(page).text


# ---- crafted requests: a clear message, nothing saved ------------------------------------


def test_settings_without_a_name(editor, scenario):
    refused(editor, scenario, 422, "Enter a name.", "settings", {"name": "  ", "active": "1"})


def refused(client, scenario, status: int, message: str, name: str, data: dict, *args, **kw):
    before = stored(scenario)
    response = post(client, name, scenario, data, *args, **kw)
    assert response.status_code == status, response.text
    assert message in response.text
    assert stored(scenario) == before


def test_a_parameter_id_used_twice(editor, scenario):
    refused(
        editor,
        scenario,
        422,
        "The ID &#x27;greeting&#x27; is used twice.",
        "parameter-create",
        parameter_row(id="greeting", name="Another greeting", type="string"),
    )
    refused(
        editor,
        scenario,
        422,
        "The ID &#x27;Greeting&#x27; is used twice.",
        "parameter-update",
        parameter_row(id="Greeting", name="Discount", type="int"),
        "Discount",
    )


def test_a_list_parameter_without_options(editor, scenario):
    refused(
        editor,
        scenario,
        422,
        "The list field &#x27;Level&#x27; needs options.",
        "parameter-create",
        parameter_row(id="Level", name="Level", type="select", options="  \n"),
    )


def test_a_default_value_of_the_wrong_type(editor, scenario):
    refused(
        editor,
        scenario,
        422,
        "Default value: The value of field &#x27;Discount&#x27; is not an integer.",
        "parameter-update",
        parameter_row(id="Discount", name="Discount", type="int", default="five"),
        "Discount",
    )
    refused(
        editor,
        scenario,
        422,
        "Default value: The value of field &#x27;Level&#x27; is incorrect.",
        "parameter-create",
        parameter_row(id="Level", name="Level", type="select", options="gold", default="silver"),
    )


def test_bad_parameter_ids(editor, scenario):
    refused(
        editor,
        scenario,
        422,
        "&#x27;1st&#x27; is not a valid ID: use Latin letters, digits and _.",
        "parameter-create",
        parameter_row(id="1st", name="First", type="string"),
    )
    refused(
        editor,
        scenario,
        422,
        "The ID &#x27;TargetUser&#x27; is reserved: the engine fills it in.",
        "parameter-create",
        parameter_row(id="TargetUser", name="Who", type="user"),
    )
    refused(
        editor,
        scenario,
        422,
        "Enter the parameter&#x27;s ID and name.",
        "parameter-create",
        parameter_row(id="", name="", type="string"),
    )
    refused(
        editor,
        scenario,
        422,
        "unknown type: eval",
        "parameter-create",
        parameter_row(id="Code", name="Code", type="eval"),
    )


def test_a_type_that_is_not_a_robot(editor, scenario):
    refused(
        editor,
        scenario,
        422,
        "“Write to report” is not a robot: a smart scenario runs robots only.",
        "robot-create",
        {"parent": "Template", "index": "0", "type": "LogActivity"},
    )
    refused(
        editor,
        scenario,
        422,
        "Unknown robot: EvalActivity",
        "robot-create",
        {"parent": "Template", "index": "0", "type": "EvalActivity"},
    )


def test_a_robot_somewhere_robots_cannot_stand(editor, scenario):
    refused(
        editor,
        scenario,
        422,
        "The position is not valid.",
        "robot-create",
        {"parent": "R_hello", "index": "0", "type": "DelayActivity"},
    )
    refused(
        editor,
        scenario,
        422,
        "The position is not valid.",
        "robot-move",
        {"parent": "Template", "index": "9"},
        "R_hello",
    )


def test_robot_settings_that_do_not_fit(editor, scenario):
    refused(
        editor,
        scenario,
        422,
        "Syntax error &quot;Template:Greeting&quot;",
        "robot-update",
        {"Title": "Hello", "CommentText": "Hi {{=Template:Greeting"},
        "R_hello",
    )
    refused(
        editor,
        scenario,
        422,
        "The value of field &#x27;Stage&#x27; is incorrect.",
        "robot-update",
        {"Title": "To work", "TargetStatus": "NO_SUCH_STAGE"},
        "R_stage",
    )


def test_a_robot_or_parameter_that_does_not_exist(editor, scenario):
    before = stored(scenario)
    assert post(editor, "robot-update", scenario, {"Title": "x"}, "Template").status_code == 404
    assert post(editor, "robot-delete", scenario, {}, "A_nowhere").status_code == 404
    assert (
        post(editor, "parameter-update", scenario, parameter_row(id="X"), "Nope").status_code == 404
    )
    refused(
        editor,
        scenario,
        422,
        "There is no parameter Nope in this scenario.",
        "parameter-delete",
        {},
        "Nope",
    )
    assert stored(scenario) == before


@pytest.mark.parametrize(
    ("name", "data", "args"),
    [
        ("parameter-create", parameter_row(id="New", name="New", type="string"), ()),
        ("parameter-delete", {}, ("Discount",)),
        ("parameter-move", {"direction": "down"}, ("Greeting",)),
        ("robot-create", {"parent": "Template", "index": "0", "type": "DelayActivity"}, ()),
        ("robot-update", {"Title": "Hi", "CommentText": "Hi"}, ("R_hello",)),
        ("robot-move", {"direction": "down"}, ("R_hello",)),
        ("robot-delete", {}, ("R_hello",)),
        ("settings", {"name": "Renamed", "active": "1"}, ()),
        ("publish", {}, ()),
    ],
)
def test_a_stale_revision_is_refused_with_409(editor, scenario, name, data, args):
    before = stored(scenario)
    response = post(editor, name, scenario, data, *args, revision=scenario.template.revision - 1)
    assert response.status_code == 409, response.text
    assert "The scenario was changed meanwhile" in response.text
    assert stored(scenario) == before


def designer_urls(scenario: Scenario) -> list[tuple[str, str, dict]]:
    revision = {"revision": scenario.template.revision}
    return [
        ("get", reverse("designer:scenario-list"), {}),
        ("get", reverse("designer:scenario-create"), {}),
        (
            "post",
            reverse("designer:scenario-create"),
            {"name": "X", "document_type": "crm.CCrmDocumentDeal.DEAL"},
        ),
        ("get", url("edit", scenario), {}),
        ("post", url("settings", scenario), {**revision, "name": "X"}),
        ("post", url("publish", scenario), revision),
        ("get", url("parameter-create", scenario), {}),
        (
            "post",
            url("parameter-create", scenario),
            {**revision, **parameter_row(id="X", name="X")},
        ),
        ("get", url("parameter-update", scenario, "Greeting"), {}),
        ("post", url("parameter-move", scenario, "Greeting"), {**revision, "direction": "down"}),
        ("post", url("parameter-delete", scenario, "Greeting"), revision),
        (
            "post",
            url("robot-create", scenario),
            {**revision, "parent": "Template", "index": "0", "type": "DelayActivity"},
        ),
        ("get", url("robot-update", scenario, "R_hello"), {}),
        ("post", url("robot-update", scenario, "R_hello"), {**revision, "CommentText": "x"}),
        ("post", url("robot-move", scenario, "R_hello"), {**revision, "direction": "down"}),
        ("post", url("robot-delete", scenario, "R_hello"), revision),
        ("get", url("robot-start-parameters", scenario), {"TemplateId": "1"}),
    ]


@pytest.mark.parametrize(
    "levels",
    [
        {("DEAL", action): "own" for action in ("read", "add", "update", "start_processes")},
        {("LEAD", "read"): "all", ("LEAD", "design_automation"): "all", ("DEAL", "read"): "all"},
    ],
    ids=["seller", "lead-designer"],
)
def test_a_user_without_the_design_right_gets_403_and_changes_nothing(client, scenario, levels):
    client.force_login(user_with(levels))
    before = stored(scenario)
    for method, address, data in designer_urls(scenario):
        if levels.get(("LEAD", "design_automation")) and address in (
            reverse("designer:scenario-list"),
            reverse("designer:scenario-create"),
        ):
            continue  # they design leads: these pages are theirs (without deals)
        response = getattr(client, method)(address, data, headers=HTMX)
        assert response.status_code == 403, (method, address, response.status_code)
    assert stored(scenario) == before
    assert Scenario.objects.count() == 1


def test_a_lead_designer_cannot_create_a_deal_scenario(client, scenario):
    client.force_login(user_with({("LEAD", "read"): "all", ("LEAD", "design_automation"): "all"}))
    response = client.post(
        reverse("designer:scenario-create"),
        {"name": "Sneaky", "document_type": "crm.CCrmDocumentDeal.DEAL"},
    )
    assert response.status_code == 422
    assert "Select a valid choice." in response.text
    assert not Scenario.objects.filter(name="Sneaky").exists()


# ---- a run uses what was published -------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_after_publishing_runs_the_new_robots_with_the_new_parameters(client, admin):
    client.force_login(admin)
    scenario = scenarios.scenario_create(user=admin, document_type=DEAL, name="Welcome")
    post(
        client,
        "parameter-create",
        scenario,
        parameter_row(id="Greeting", name="Greeting", type="string", default="Welcome aboard"),
    )
    post(
        client,
        "robot-create",
        scenario,
        {"parent": "Template", "index": "0", "type": "CrmTimelineCommentAdd"},
    )
    post(
        client,
        "robot-update",
        scenario,
        {"Title": "Comment", "CommentText": "{=Template:Greeting}, {=Document:TITLE}!"},
        robot_names(scenario)[0],
    )
    assert post(client, "publish", scenario, {}).status_code == 200
    deal = DealFactory(title="Big deal", assigned_by=admin)
    [outcome] = scenarios.scenarios_start(scenario=scenario, document_ids=[deal.pk], user=admin)
    run_tasks()
    run = ScenarioRun.objects.get(pk=outcome.run.pk)
    assert run.status == RunStatus.COMPLETED
    assert run.version.number == 2
    assert TimelineEntry.objects.filter(text="Welcome aboard, Big deal!").exists()
