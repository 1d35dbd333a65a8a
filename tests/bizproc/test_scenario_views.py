"""Scenario pages: list, detail (where used, run history), starting from a card or a list, the
card's menu, and the admin (form, import, export) — with rights and bad input."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bizproc import scenarios
from bizproc.models import RunStatus, Scenario, ScenarioRun, Template
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import field, node, published, run_tasks
from tests.crm.factories import DealFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, is_staff=True, is_superuser=True, full_name="Admin")


@pytest.fixture
def scenario(admin):
    return scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Welcome pack",
        parameters={"Points": field("int", "Points", required=True, default="3")},
        robots=[node("CrmTimelineCommentAdd", CommentText="Points: {=Template:Points}")],
    )


def start_url(scenario, *documents):
    return (
        reverse("bizproc:scenario-start", args=[scenario.pk])
        + "?"
        + "&".join(f"documents={d}" for d in documents)
    )


def test_starting_from_a_card_asks_for_parameters_and_reports_completion(
    client, admin, scenario
) -> None:
    deal = DealFactory(assigned_by=admin)
    client.force_login(admin)
    form = client.get(start_url(scenario, deal.document_id))
    assert '<h1 id="scenario-title">Welcome pack</h1>' in form.text
    assert ">Send</button>" in form.text
    assert 'value="3"' in form.text

    started = client.post(
        reverse("bizproc:scenario-start", args=[scenario.pk]),
        {"documents": [deal.document_id], "Points": "5"},
    )
    assert "Scenario started" in started.text
    assert "Scenario completed" not in started.text
    run = ScenarioRun.objects.get()
    assert (run.status, run.document_id) == (RunStatus.QUEUED, deal.document_id)

    run_tasks()
    history = client.get(reverse("bizproc:scenario-detail", args=[scenario.pk]))
    completed = '<td><span class="badge run-4">Completed'
    assert f"{deal.document_id}</a></td>\n          {completed}" in history.text


def test_running_for_selected_records_says_how_many(client, admin, scenario) -> None:
    deals = [DealFactory(assigned_by=admin) for _ in range(3)]
    client.force_login(admin)
    page = client.get(start_url(scenario, *(d.document_id for d in deals)))
    assert "The scenario will run for all selected items. Selected: 3" in page.text
    client.post(
        reverse("bizproc:scenario-start", args=[scenario.pk]),
        {"documents": [d.document_id for d in deals], "Points": "1"},
    )
    assert ScenarioRun.objects.count() == 3


def test_bad_parameters_are_refused_and_nothing_is_queued(client, admin, scenario) -> None:
    deal = DealFactory(assigned_by=admin)
    client.force_login(admin)
    response = client.post(
        reverse("bizproc:scenario-start", args=[scenario.pk]),
        {"documents": [deal.document_id], "Points": "lots"},
    )
    assert response.status_code == 422
    assert "The value of field &#x27;Points&#x27; is not an integer." in response.text
    assert not ScenarioRun.objects.exists()


def test_a_scenario_never_published_cannot_be_started_and_queues_nothing(
    client, admin, scenario
) -> None:
    scenario.template.versions.all().delete()
    deal = DealFactory(assigned_by=admin)
    client.force_login(admin)
    page = client.get(start_url(scenario, deal.document_id))
    assert page.status_code == 404
    assert "The smart scenario you requested was not found." in page.text
    crafted = client.post(
        reverse("bizproc:scenario-start", args=[scenario.pk]),
        {"documents": [deal.document_id], "Points": "1"},
    )
    assert crafted.status_code == 404
    assert not ScenarioRun.objects.exists()


def test_a_deactivated_or_missing_scenario_says_why_it_cannot_run(client, admin, scenario) -> None:
    deal = DealFactory(assigned_by=admin)
    scenario.active = False
    scenario.save(update_fields=["active"])
    client.force_login(admin)

    deactivated = client.get(start_url(scenario, deal.document_id))
    crafted = client.post(
        reverse("bizproc:scenario-start", args=[scenario.pk]),
        {"documents": [deal.document_id], "Points": "1"},
    )
    missing = client.get(reverse("bizproc:scenario-start", args=[scenario.pk + 1000]))

    assert deactivated.status_code == crafted.status_code == 409
    assert "Cannot run the smart scenario because it is deactivated." in deactivated.text
    assert '<h1 id="scenario-title">Welcome pack</h1>' in deactivated.text
    assert ">Send</button>" not in deactivated.text
    assert missing.status_code == 404
    assert "The smart scenario you requested was not found." in missing.text
    assert not ScenarioRun.objects.exists()


def test_a_russian_user_is_told_in_russian(client, admin, scenario) -> None:
    admin.language = "ru"
    admin.save(update_fields=["language"])
    scenario.active = False
    scenario.save(update_fields=["active"])
    client.force_login(admin)

    deactivated = client.get(reverse("bizproc:scenario-start", args=[scenario.pk]))
    missing = client.get(reverse("bizproc:scenario-start", args=[scenario.pk + 1000]))

    assert "Умный сценарий деактивирован. Запуск невозможен" in deactivated.text
    assert "Запрашиваемый Умный сценарий не найден" in missing.text


def test_a_user_without_the_right_does_not_see_it_and_gets_403(client, admin, scenario) -> None:
    deal = DealFactory(assigned_by=admin)
    reader = user_with({("DEAL", "read"): "all"})
    client.force_login(reader)
    menu = client.get(reverse("bizproc:document-scenarios", args=[deal.document_id]))
    assert "Welcome pack" not in menu.text
    crafted = client.post(
        reverse("bizproc:scenario-start", args=[scenario.pk]),
        {"documents": [deal.document_id], "Points": "1"},
    )
    assert crafted.status_code == 403
    assert not ScenarioRun.objects.exists()

    client.force_login(admin)
    assert (
        "Welcome pack"
        in client.get(reverse("bizproc:document-scenarios", args=[deal.document_id])).text
    )


def test_the_scenario_page_lists_where_it_is_used_and_its_runs(client, admin, scenario) -> None:
    published(
        node(
            "StartScriptActivity",
            Title="Send the pack",
            DocumentId="{=Document:ID}",
            StartBy="{=Template:TargetUser}",
            TemplateId=str(scenario.template_id),
            TemplateParameters={"Points": "2"},
        ),
        user=admin,
        name="Onboarding",
    )
    mine = DealFactory(assigned_by=admin)
    scenarios.scenarios_start(
        scenario=scenario, document_ids=[mine.pk], user=admin, parameters={"Points": 1}
    )
    client.force_login(admin)
    page = client.get(reverse("bizproc:scenario-detail", args=[scenario.pk]))
    assert "Onboarding: Send the pack" in page.text
    assert mine.document_id in page.text

    own = user_with({("DEAL", "read"): "own"})
    client.force_login(own)
    assert (
        mine.document_id
        not in client.get(reverse("bizproc:scenario-detail", args=[scenario.pk])).text
    )
    nobody = UserFactory()
    client.force_login(nobody)
    assert client.get(reverse("bizproc:scenario-detail", args=[scenario.pk])).status_code == 403


def edit_the_draft(scenario, user) -> None:
    """A designer's unpublished changes: a new parameter and a new robot in the draft."""
    scenarios.scenario_parameter_save(
        scenario=scenario,
        revision=scenario.template.revision,
        user=user,
        code="Gift",
        entry=field("string", "Gift wrapping"),
    )
    scenario.template.refresh_from_db()
    scenarios.scenario_robot_add(
        scenario=scenario,
        revision=scenario.template.revision,
        user=user,
        robot_type="CrmTimelineCommentAdd",
        index=1,
        properties={"Title": "Thank the client", "CommentText": "Thanks"},
    )
    scenario.template.refresh_from_db()


def test_the_scenario_page_shows_the_published_version_runs_use_not_the_draft(
    client, admin, scenario
) -> None:
    edit_the_draft(scenario, admin)
    client.force_login(admin)
    page = client.get(reverse("bizproc:scenario-detail", args=[scenario.pk])).text
    assert "Runs use version 1, published by Admin on" in page
    assert "Points" in page
    assert "CrmTimelineCommentAdd" in page
    assert "Gift wrapping" not in page
    assert "Thank the client" not in page
    assert "The draft has changes that are not published yet: runs do not use them." in page
    editor = reverse("designer:scenario-edit", args=[scenario.pk])
    assert f'<a href="{editor}">Review and publish them in the scenario designer</a>' in page

    scenarios.scenario_publish(
        scenario=scenario, revision=scenario.template.revision, user=admin, comment="Gifts"
    )
    page = client.get(reverse("bizproc:scenario-detail", args=[scenario.pk])).text
    assert "Runs use version 2, published by Admin on" in page
    assert "Gifts" in page
    assert "Gift wrapping" in page
    assert "Thank the client" in page
    assert "not published yet" not in page


def test_only_designers_get_the_link_to_the_unpublished_draft(client, admin, scenario) -> None:
    edit_the_draft(scenario, admin)
    reader = user_with({("DEAL", "read"): "all"})
    client.force_login(reader)
    page = client.get(reverse("bizproc:scenario-detail", args=[scenario.pk])).text
    assert "The draft has changes that are not published yet: runs do not use them." in page
    assert "Gift wrapping" not in page
    assert reverse("designer:scenario-edit", args=[scenario.pk]) not in page


def test_export_gives_the_published_version_runs_use_not_the_draft(client, admin, scenario) -> None:
    edit_the_draft(scenario, admin)
    client.force_login(admin)
    exported = client.post(
        reverse("admin:bizproc_scenario_changelist"),
        {"action": "export_json", "_selected_action": [scenario.pk]},
    )
    data = json.loads(exported.content)
    assert list(data["parameters"]) == ["Points"]
    assert [robot["Properties"]["CommentText"] for robot in data["robots"]] == [
        "Points: {=Template:Points}"
    ]


def test_the_list_groups_scenarios_by_entity_type(client, admin, scenario) -> None:
    scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["LEAD"],
        name="Qualify",
        robots=[node("CrmTimelineCommentAdd", CommentText="x")],
    )
    client.force_login(admin)
    page = client.get(reverse("bizproc:scenario-list")).text
    text = page[page.index('<main id="main"') :]
    assert (
        text.index("Leads")
        < text.index("Qualify")
        < text.index("Deals")
        < text.index("Welcome pack")
    )


def test_the_admin_refuses_a_bad_scenario_and_saves_nothing(client, admin) -> None:
    client.force_login(admin)
    before = (Scenario.objects.count(), Template.objects.count())
    response = client.post(
        reverse("admin:bizproc_scenario_add"),
        {
            "name": "Broken",
            "description": "",
            "document_type_key": "crm|CCrmDocumentDeal|DEAL",
            "active": "on",
            "sort": "500",
            "parameters": json.dumps({"Level": field("select", "Level")}),
            "constants": "{}",
            "robots": json.dumps([node("LogActivity", Text="x")]),
        },
    )
    assert response.status_code == 200
    assert "The list field &#x27;Level&#x27; needs options." in response.text
    assert "Unknown robot: LogActivity" in response.text
    assert (Scenario.objects.count(), Template.objects.count()) == before


def test_the_admin_imports_and_exports_json(client, admin, scenario) -> None:
    client.force_login(admin)
    exported = client.post(
        reverse("admin:bizproc_scenario_changelist"),
        {"action": "export_json", "_selected_action": [scenario.pk]},
    )
    data = json.loads(exported.content)
    assert data["name"] == "Welcome pack"

    upload = SimpleUploadedFile(
        "pack.json", json.dumps(data).encode(), content_type="application/json"
    )
    response = client.post(reverse("admin:bizproc_scenario_import"), {"file": upload})
    assert response.status_code == 302
    assert Scenario.objects.filter(name="Welcome pack").count() == 2

    bad = SimpleUploadedFile("bad.json", b"{not json", content_type="application/json")
    refused = client.post(reverse("admin:bizproc_scenario_import"), {"file": bad})
    assert "The file is not a smart scenario export (JSON)." in refused.text
    assert Scenario.objects.count() == 2


def test_the_start_page_names_one_record_and_leads_back_to_it(client, admin, scenario) -> None:
    deal = DealFactory(assigned_by=admin, title="Harbour crane")
    client.force_login(admin)
    page = client.get(start_url(scenario, deal.document_id)).text
    card = deal.get_absolute_url()
    assert f'Deal: <a href="{card}">Harbour crane</a>' in page
    assert f'<a href="{card}">Back to the item</a>' in page


def test_records_chosen_on_a_list_lead_back_to_it(client, admin, scenario) -> None:
    deals = [DealFactory(assigned_by=admin) for _ in range(2)]
    client.force_login(admin)
    chosen = client.get(
        reverse("bizproc:scenario-run-selected"),
        {"scenario": scenario.pk, "ids": [deal.document_id for deal in deals]},
        headers={"Referer": "http://testserver/crm/deal/?q=crane"},
    )
    page = client.get(chosen.headers["Location"]).text
    assert '<a href="/crm/deal/?q=crane">Back to the list</a>' in page
    assert '<input type="hidden" name="back" value="/crm/deal/?q=crane">' in page
    # Only a path of this site is a way back.
    elsewhere = client.get(
        start_url(scenario, *[d.document_id for d in deals]) + "&back=//evil.example/"
    )
    assert "Back to the list" not in elsewhere.text
