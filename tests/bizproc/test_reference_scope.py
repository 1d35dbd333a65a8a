"""No one can make the engine do through a template what they could not do themselves.

A user who designs automation for leads only tries to make a template reach deals (which they
may not design) or run as someone else, through every way a template is written: the designer's
dialogs, publishing, a ``.bpt`` upload, REST ``template.add`` / ``update``, a scenario import,
restoring a version. Each is refused and saves nothing; the same done by a CRM administrator is
the positive control. References only an expression decides are checked when they run, against
the scope recorded on the published version.
"""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from bizproc import scenarios, services
from bizproc.bpt import BptContent, bpt_write
from bizproc.models import (
    Instance,
    InstanceStatus,
    Scenario,
    ScenarioRun,
    Template,
    TemplateVersion,
)
from bizproc.runtime import workflow_start
from bizproc.tree import root_node
from crm.documents import DOCUMENT_TYPES
from crm.models import TimelineEntry
from rest.services import webhook_create, webhook_path
from tests.bizproc.builders import field, node, notes, published, run_tasks
from tests.crm.factories import DealFactory, LeadFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ERROR, REPORT = 9, 6
LEAD = DOCUMENT_TYPES["LEAD"]
HTMX = {"HX-Request": "true"}
LEAD_ONLY = {
    ("LEAD", "read"): "all",
    ("LEAD", "add"): "all",
    ("LEAD", "start_processes"): "all",
    ("LEAD", "design_automation"): "all",
}


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Irina Admin")


@pytest.fixture
def lead_designer():
    return user_with(LEAD_ONLY, full_name="Lena Leads")


@pytest.fixture
def deal(admin):
    return DealFactory(title="Big deal", assigned_by=admin)


@pytest.fixture
def lead(lead_designer):
    return LeadFactory(title="New lead", assigned_by=lead_designer)


@pytest.fixture
def deal_template(admin):
    return published(node("LogActivity", Text="deal process ran"), user=admin, name="Deal flow")


@pytest.fixture
def deal_scenario(admin):
    return scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Comment deal",
        robots=[node("CrmTimelineCommentAdd", CommentText="scenario was here")],
    )


def start_workflow(template_id, document_id="{=Document:ID}") -> dict:
    return node(
        "StartWorkflowActivity",
        "A_child",
        Title="Start child",
        DocumentId=document_id,
        TemplateId=str(template_id),
        TemplateParameters={},
        UseSubscription="N",
    )


def start_script(template_id, *, start_by="{=Template:TargetUser}", document_id="{=Document:ID}"):
    return node(
        "StartScriptActivity",
        "A_script",
        Title="Start scenario",
        DocumentId=document_id,
        StartBy=start_by,
        TemplateId=str(template_id),
        TemplateParameters={},
    )


def lead_draft(user, *blocks) -> Template:
    template = services.template_create(document_type=LEAD, name="Lead intake", user=user)
    template.tree = {**root_node(), "Children": list(blocks)}
    template.save()
    return template


def bpt_base64(*blocks) -> str:
    content = BptContent(
        version=2,
        template=[{**root_node(), "Children": list(blocks)}],
        parameters={},
        variables={},
        constants={},
        document_fields={},
    )
    return base64.b64encode(bpt_write(content)).decode()


def rest(user, method: str, params: dict) -> tuple[int, dict]:
    webhook, token = webhook_create(user=user, name="Test")
    response = Client().post(
        f"{webhook_path(webhook=webhook, token=token)}{method}",
        params,
        content_type="application/json",
    )
    return response.status_code, response.json()


# ---- the designer's dialogs ---------------------------------------------------------------


def post_block(client, template, name: str, data: dict):
    template.refresh_from_db()
    return client.post(
        reverse("designer:block-update", args=[template.pk, name]),
        {"revision": template.revision, **data},
        headers=HTMX,
    )


def test_a_lead_designer_cannot_point_a_block_at_a_deal_template(
    client, lead_designer, admin, deal_template
):
    lead_template = published(node("LogActivity", Text="lead"), user=admin, entity="LEAD")
    template = lead_draft(lead_designer, start_workflow(lead_template.pk))
    client.force_login(lead_designer)
    before = template.tree
    response = post_block(
        client,
        template,
        "A_child",
        {"Title": "Start child", "DocumentId": "DEAL_2", "TemplateId": str(deal_template.pk)},
    )
    assert response.status_code == 422
    assert "You may not design automation for Deals" in response.text
    template.refresh_from_db()
    assert template.tree == before
    # Positive control: another lead template, on this lead, is fine.
    other = published(node("LogActivity", Text="x"), user=admin, entity="LEAD", name="Other")
    response = post_block(
        client,
        template,
        "A_child",
        {"Title": "Start other", "DocumentId": "{=Document:ID}", "TemplateId": str(other.pk)},
    )
    assert response.status_code == 200, response.text
    template.refresh_from_db()
    assert template.tree["Children"][0]["Properties"]["TemplateId"] == str(other.pk)


@pytest.mark.parametrize(
    ("start_by", "allowed"),
    [
        ("{=Template:TargetUser}", True),
        ("{=Document:ASSIGNED_BY_ID}", True),
        ("user_{admin}", False),
        ("{=Variable:Who}", False),
    ],
)
def test_only_a_crm_administrator_may_choose_another_run_as_user(
    lead_designer, admin, start_by, allowed
):
    lead_scenario = scenarios.scenario_save(
        user=admin,
        document_type=LEAD,
        name="Lead comment",
        robots=[node("CrmTimelineCommentAdd", CommentText="hi")],
    )
    template = lead_draft(lead_designer, start_script(lead_scenario.template_id))
    template.variables = {"Who": field("user", "Who")}
    template.save()
    start_by = start_by.replace("{admin}", str(admin.pk))
    properties = {**template.tree["Children"][0]["Properties"], "StartBy": start_by}

    def update(user):
        services.tree_update(
            template=template,
            revision=template.revision,
            name="A_script",
            properties=properties,
            user=user,
        )

    if allowed:
        update(lead_designer)
    else:
        with pytest.raises(services.AccessRefused, match="Only a CRM administrator"):
            update(lead_designer)
        update(admin)  # the positive control
    template.refresh_from_db()
    assert template.tree["Children"][0]["Properties"]["StartBy"] == start_by


# ---- publishing, imports, restoring ------------------------------------------------------


def test_publishing_a_draft_that_reaches_deals_is_refused_for_a_lead_designer(
    lead_designer, admin, deal_scenario
):
    # An administrator put the block there; the lead designer may not publish it.
    template = lead_draft(
        admin, start_script(deal_scenario.template_id, start_by=f"user_{admin.pk}")
    )
    with pytest.raises(services.AccessRefused) as refused:
        services.template_publish(template=template, user=lead_designer)
    messages = " ".join(problem.message for problem in refused.value.problems)
    assert "You may not design automation for Deals" in messages
    assert "Only a CRM administrator" in messages
    assert not TemplateVersion.objects.filter(template=template).exists()

    version = services.template_publish(template=template, user=admin)
    assert version.published_by == admin
    # A CRM administrator: every CRM type (lists have administrators of their own), any user.
    assert version.reference_scope == {
        "document_types": [
            ["crm", "CCrmDocumentCompany", "COMPANY"],
            ["crm", "CCrmDocumentContact", "CONTACT"],
            ["crm", "CCrmDocumentDeal", "DEAL"],
            ["crm", "CCrmDocumentLead", "LEAD"],
        ],
        "any_run_as": True,
    }


def test_a_published_version_records_the_publishers_scope(lead_designer):
    template = lead_draft(lead_designer, node("LogActivity", Text="x"))
    version = services.template_publish(template=template, user=lead_designer)
    assert version.reference_scope == {
        "document_types": [["crm", "CCrmDocumentLead", "LEAD"]],
        "any_run_as": False,
    }


def test_a_bpt_upload_reaching_deals_is_refused_and_saves_nothing(
    client, lead_designer, admin, deal_template
):
    client.force_login(lead_designer)
    data = base64.b64decode(bpt_base64(start_workflow(deal_template.pk, "DEAL_2")))
    before = Template.objects.count()
    response = client.post(
        reverse("designer:template-import"),
        {
            "file": SimpleUploadedFile("escalate.bpt", data),
            "document_type": "crm.CCrmDocumentLead.LEAD",
            "name": "Escalate",
        },
    )
    assert response.status_code == 422
    assert "You may not design automation for Deals" in response.text
    assert Template.objects.count() == before
    # Positive control: the same file, uploaded by an administrator.
    client.force_login(admin)
    response = client.post(
        reverse("designer:template-import"),
        {
            "file": SimpleUploadedFile("escalate.bpt", data),
            "document_type": "crm.CCrmDocumentLead.LEAD",
            "name": "Escalate",
        },
    )
    assert response.status_code == 302
    assert Template.objects.count() == before + 1


def test_rest_template_add_reaching_a_deal_scenario_as_admin_is_access_denied(
    lead_designer, admin, deal_scenario
):
    data = bpt_base64(
        start_script(deal_scenario.template_id, start_by=f"user_{admin.pk}", document_id="DEAL_2")
    )
    params = {
        "DOCUMENT_TYPE": ["crm", "CCrmDocumentLead", "LEAD"],
        "NAME": "Escalate",
        "AUTO_EXECUTE": 1,
        "TEMPLATE_DATA": data,
    }
    before = Template.objects.count()
    status, body = rest(lead_designer, "bizproc.workflow.template.add", params)
    assert (status, body) == (
        403,
        {"error": "ACCESS_DENIED", "error_description": "Access denied!"},
    )
    assert Template.objects.count() == before
    status, body = rest(admin, "bizproc.workflow.template.add", params)
    assert status == 200 and Template.objects.filter(pk=body["result"]).exists()


def test_rest_template_update_reaching_deals_is_access_denied_and_changes_nothing(
    lead_designer, deal_template
):
    template = lead_draft(lead_designer, node("LogActivity", Text="mine"))
    services.template_publish(template=template, user=lead_designer)
    template.refresh_from_db()
    before = (template.tree, template.revision, template.versions.count())
    status, body = rest(
        lead_designer,
        "bizproc.workflow.template.update",
        {
            "ID": template.pk,
            "FIELDS": {"TEMPLATE_DATA": bpt_base64(start_workflow(deal_template.pk))},
        },
    )
    assert (status, body["error"]) == (403, "ACCESS_DENIED")
    template.refresh_from_db()
    assert (template.tree, template.revision, template.versions.count()) == before
    # Positive control: a change within the designer's scope goes through and is published.
    status, body = rest(
        lead_designer,
        "bizproc.workflow.template.update",
        {"ID": template.pk, "FIELDS": {"NAME": "Lead intake 2"}},
    )
    assert status == 200
    template.refresh_from_db()
    assert template.name == "Lead intake 2" and template.versions.count() == 2


def test_a_scenario_import_reaching_deals_is_refused(lead_designer, admin, deal_scenario):
    export = {
        "format": scenarios.EXPORT_FORMAT,
        "version": scenarios.EXPORT_VERSION,
        "document_type": list(LEAD),
        "name": "Escalate",
        "robots": [start_script(deal_scenario.template_id, document_id="DEAL_2")],
    }
    before = Scenario.objects.count()
    with pytest.raises(scenarios.ScenarioRefused, match="You may not design automation for Deals"):
        scenarios.scenario_import(data=export, user=lead_designer)
    assert Scenario.objects.count() == before
    assert scenarios.scenario_import(data=export, user=admin).name == "Escalate"


def test_restoring_an_administrators_version_is_refused_for_a_lead_designer(
    lead_designer, admin, deal_scenario
):
    lead_scenario = scenarios.scenario_save(
        user=admin,
        document_type=LEAD,
        name="Lead comment",
        robots=[node("CrmTimelineCommentAdd", CommentText="hi")],
    )
    template = lead_draft(
        admin, start_script(lead_scenario.template_id, start_by=f"user_{admin.pk}")
    )
    version = services.template_publish(template=template, user=admin)
    template.tree = root_node()
    template.save()
    template.refresh_from_db()
    with pytest.raises(services.AccessRefused, match="Only a CRM administrator"):
        services.draft_restore(
            template=template, version=version, revision=template.revision, user=lead_designer
        )
    template.refresh_from_db()
    assert template.tree == root_node()
    services.draft_restore(
        template=template, version=version, revision=template.revision, user=admin
    )
    template.refresh_from_db()
    assert template.tree == version.tree


# ---- run time: what only an expression decides -------------------------------------------


def expression_chosen(user, block) -> Template:
    """A lead template whose block's target comes from a variable (decided at run time)."""
    return published(
        block,
        node("LogActivity", Text="next block ran", Title="Next"),
        user=user,
        entity="LEAD",
        variables={"Target": field("int", "Target")},
    )


def test_a_template_chosen_by_an_expression_outside_the_scope_starts_nothing(
    lead_designer, admin, lead, deal_template
):
    block = start_workflow("{=Variable:Target}", "DEAL_{=Variable:Target}")
    template = expression_chosen(lead_designer, block)
    template.variables["Target"]["Default"] = str(deal_template.pk)
    version = template.latest_version
    version.variables = template.variables
    version.save()
    instance = workflow_start(
        template=template, document_id=lead.document_id, user=lead_designer, version=version
    )
    assert notes(instance, ERROR) == [
        "Not started: whoever published this template may not design automation for Deals."
    ]
    assert notes(instance, REPORT) == ["next block ran"]
    assert instance.status == InstanceStatus.COMPLETED
    assert not Instance.objects.filter(template=deal_template).exists()


def test_a_scenario_chosen_by_an_expression_outside_the_scope_starts_nothing(
    lead_designer, lead, deal, deal_scenario
):
    block = start_script("{=Variable:Target}", document_id=deal.document_id.replace("DEAL_", ""))
    template = expression_chosen(lead_designer, block)
    version = template.latest_version
    version.variables = {"Target": field("int", "Target", default=str(deal_scenario.template_id))}
    version.save()
    instance = workflow_start(
        template=template, document_id=lead.document_id, user=lead_designer, version=version
    )
    assert notes(instance, ERROR) == [
        "Not started: whoever published this template may not design automation for Deals."
    ]
    assert notes(instance, REPORT) == ["next block ran"]
    assert not ScenarioRun.objects.exists()
    run_tasks()
    assert not TimelineEntry.objects.filter(text__contains="scenario was here").exists()


def test_within_the_scope_a_deactivated_publishers_templates_go_on(lead_designer, admin, lead):
    child = published(
        node("LogActivity", Text="child ran"), user=admin, entity="LEAD", name="Child"
    )
    template = expression_chosen(lead_designer, start_workflow("{=Variable:Target}"))
    version = template.latest_version
    version.variables = {"Target": field("int", "Target", default=str(child.pk))}
    version.save()
    lead_designer.is_active = False
    lead_designer.save()
    instance = workflow_start(
        template=template, document_id=lead.document_id, user=admin, version=version
    )
    assert notes(instance, ERROR) == []
    child_instance = Instance.objects.get(parent=instance)
    assert notes(child_instance, REPORT) == ["child ran"]


def test_an_administrators_version_reaches_deals_by_expression(admin, lead, deal_template):
    template = expression_chosen(admin, start_workflow("{=Variable:Target}", "DEAL_1"))
    DealFactory(pk=1, assigned_by=admin)
    version = template.latest_version
    version.variables = {"Target": field("int", "Target", default=str(deal_template.pk))}
    version.save()
    instance = workflow_start(
        template=template, document_id=lead.document_id, user=admin, version=version
    )
    assert notes(instance, ERROR) == []
    assert Instance.objects.filter(template=deal_template, document_id="DEAL_1").exists()


# ---- REST deletes as the designer does ----------------------------------------------------


def test_a_rest_delete_of_a_template_with_processes_keeps_it_for_them(lead_designer, lead):
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="d"),
        user=lead_designer,
        entity="LEAD",
    )
    instance = workflow_start(template=template, document_id=lead.document_id, user=lead_designer)
    status, body = rest(lead_designer, "bizproc.workflow.template.delete", {"ID": template.pk})
    assert (status, body["result"]) == (200, True)
    template.refresh_from_db()
    assert not template.active and template.deleted_at is not None
    assert not Template.objects.listed().filter(pk=template.pk).exists()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    # It is gone for REST too: a second delete does not find it.
    status, body = rest(lead_designer, "bizproc.workflow.template.delete", {"ID": template.pk})
    assert (status, body["error"]) == (400, "ERROR_TEMPLATE_NOT_FOUND")


def test_a_comment_written_as_someone_else_is_an_administrators_choice(lead_designer, admin):
    robot = node("CrmTimelineCommentAdd", CommentText="Approved", CommentUser=f"user_{admin.pk}")

    def save(user):
        return scenarios.scenario_save(
            user=user, document_type=LEAD, name="Sign as boss", robots=[robot]
        )

    with pytest.raises(scenarios.ScenarioRefused, match="Only a CRM administrator"):
        save(lead_designer)
    assert not Scenario.objects.filter(name="Sign as boss").exists()
    assert save(admin).name == "Sign as boss"
    robot["Properties"]["CommentUser"] = "{=Document:ASSIGNED_BY_ID}"  # anyone may choose
    assert save(lead_designer).name == "Sign as boss"


def test_rest_template_update_applies_the_designers_checks(lead_designer):
    """REST writes through the same services as the designer: a name too long or a parameter
    the engine reserves is refused, and nothing changes."""
    template = lead_draft(lead_designer, node("LogActivity", Text="mine"))
    services.template_publish(template=template, user=lead_designer)
    template.refresh_from_db()
    before = (template.name, template.parameters, template.revision, template.versions.count())
    reserved = BptContent(
        version=2,
        template=[{**root_node(), "Children": [node("LogActivity", Text="x")]}],
        parameters={"TargetUser": field("user", "Who")},
        variables={},
        constants={},
        document_fields={},
    )
    for fields in (
        {"NAME": "x" * 300},
        {"TEMPLATE_DATA": base64.b64encode(bpt_write(reserved)).decode()},
    ):
        status, body = rest(
            lead_designer, "bizproc.workflow.template.update", {"ID": template.pk, "FIELDS": fields}
        )
        assert (status, body["error"]) == (400, "ERROR_TEMPLATE_VALIDATION_FAILURE"), body
        template.refresh_from_db()
        assert (
            template.name,
            template.parameters,
            template.revision,
            template.versions.count(),
        ) == before
