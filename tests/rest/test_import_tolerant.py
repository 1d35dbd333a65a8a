"""``bizproc.workflow.template.add`` / ``update`` import as Bitrix does: the ID of every readable
template within the caller's rights, the fields its ``DOCUMENT_FIELDS`` describes created, a
draft kept with its problems (``NOTICES`` in ``template.list``) when it cannot be published,
and ``ACCESS_DENIED`` for a file reaching beyond the caller's rights, creating nothing."""

import base64
from pathlib import Path

import pytest

from bizproc.bpt import BptContent, bpt_write
from bizproc.models import Template
from bizproc.tree import root_node
from crm.models import UserField
from lists import services
from lists.models import List, ListField, ListKind
from tests.bizproc.builders import node
from tests.crm.factories import UserFactory, user_with
from tests.rest.test_lists import lists_admin, ok, refused
from tests.rest.test_methods import hook

pytestmark = pytest.mark.django_db

BP_179 = Path(__file__).resolve().parents[1] / "fixtures" / "bitrix" / "bp-179.bpt"
ADD, UPDATE, LIST = (
    "bizproc.workflow.template.add",
    "bizproc.workflow.template.update",
    "bizproc.workflow.template.list",
)


def encoded(*blocks: dict, document_fields: dict | None = None) -> str:
    content = BptContent(
        version=2,
        template=[{**root_node(), "Children": list(blocks)}],
        parameters={},
        variables={},
        constants={},
        document_fields=document_fields or {},
    )
    return base64.b64encode(bpt_write(content)).decode()


def of_list(list_: List) -> list[str]:
    return ["lists", "BizprocDocument", f"iblock_{list_.pk}"]


def notices_of(client, base: str, template_id: int) -> list[dict]:
    rows = ok(client, base, LIST, {"SELECT": ["ID", "NOTICES"], "FILTER": {"ID": template_id}})
    return rows["result"][0]["NOTICES"]


@pytest.fixture
def admin():
    return lists_admin(full_name="Lena Admin")


@pytest.fixture
def trips(admin) -> List:
    return services.list_create(
        values={"kind": ListKind.PROCESSES, "name": "Business trips", "code": "trips"},
        user=admin,
    )


def test_bitrixs_business_trip_imports_onto_a_new_list_and_creates_its_fields(client, admin, trips):
    base = hook(admin)
    data = base64.b64encode(BP_179.read_bytes()).decode()
    template_id = ok(
        client,
        base,
        ADD,
        {"DOCUMENT_TYPE": of_list(trips), "NAME": "Business trip", "TEMPLATE_DATA": data},
    )["result"]

    template = Template.objects.get(pk=template_id)
    assert template.active and template.name == "Business trip"
    made = {row.code: row for row in ListField.objects.filter(list=trips)}
    assert (made["FROM"].type, made["FROM"].required) == ("S:Date", True)
    assert made["FAMILIYA_IMYA_OTCHESTVO_KOMANDIRUEMOGO"].type == "S"
    assert made["FAMILIYA_IMYA_OTCHESTVO_KOMANDIRUEMOGO"].multiple
    assert made["MESTO_KOMANDIROVANIYA"].type == "S:HTML"
    assert made["SUTOCHNYE"].type == "S:Money"
    approved = made["APPROVED"]
    assert approved.type == "L"
    assert [(o.xml_id, o.value) for o in approved.options.all()] == [
        ("EMPTY", "Не согласовано"),
        ("APPROVED", "Согласовано"),
        ("REJECTED", "Отказано"),
    ]
    assert not {"ID", "NAME", "CREATED_BY", "PREVIEW_TEXT"} & set(made)  # built-in fields

    notices = notices_of(client, base, template_id)
    created = next(n for n in notices if n["CODE"] == "fields_created")
    assert created["LEVEL"] == "info" and "PROPERTY_APPROVED" in created["MESSAGE"]
    # A field its blocks name that the file does not describe is a warning, not a refusal.
    assert any(
        n["LEVEL"] == "warning" and "PROPERTY_WHERE" in n["MESSAGE"] and n["ACTIVITY_NAME"]
        for n in notices
    )


def test_template_add_keeps_a_template_it_cannot_publish_as_a_draft_with_its_problems(
    client, admin, trips
):
    base = hook(admin)
    broken = encoded(node("LogActivity", "A_say", Title="Say nothing"))
    template_id = ok(
        client,
        base,
        ADD,
        {"DOCUMENT_TYPE": of_list(trips), "NAME": "Broken", "TEMPLATE_DATA": broken},
    )["result"]
    template = Template.objects.get(pk=template_id)
    assert not template.versions.exists()
    assert notices_of(client, base, template_id) == [
        {
            "LEVEL": "error",
            "CODE": "required",
            "MESSAGE": "Action 'Say nothing': The field 'Text' is required.",
            "ACTIVITY_NAME": "A_say",
        }
    ]
    # Not a template at all: refused, nothing made.
    assert (
        refused(
            client,
            base,
            ADD,
            {"DOCUMENT_TYPE": of_list(trips), "NAME": "Junk", "TEMPLATE_DATA": "bm90IGEgYnB0"},
        )[1]
        == "ERROR_TEMPLATE_VALIDATION_FAILURE"
    )
    assert Template.objects.count() == 1


def test_template_update_keeps_the_published_version_and_the_new_draft_with_its_problems(
    client, admin, trips
):
    base = hook(admin)
    good = encoded(node("LogActivity", Text="hello", Title="Say"))
    template_id = ok(
        client, base, ADD, {"DOCUMENT_TYPE": of_list(trips), "NAME": "Hi", "TEMPLATE_DATA": good}
    )["result"]
    template = Template.objects.get(pk=template_id)
    assert template.versions.count() == 1

    broken = encoded(
        node("LogActivity", "A_say", Title="Say nothing"),
        document_fields={"PROPERTY_CITY": {"Name": "City", "Type": "string"}},
    )
    assert (
        ok(client, base, UPDATE, {"ID": template_id, "FIELDS": {"TEMPLATE_DATA": broken}})["result"]
        == template_id
    )
    template.refresh_from_db()
    assert template.versions.count() == 1  # processes go on starting from it
    assert template.tree["Children"][0]["Name"] == "A_say"
    assert ListField.objects.get(list=trips, code="CITY").type == "S"
    levels = {n["LEVEL"] for n in notices_of(client, base, template_id)}
    assert levels == {"info", "error"}


def test_someone_who_may_not_manage_fields_gets_the_template_and_warnings(client, admin, trips):
    designer = UserFactory(full_name="Petr Designer")
    services.list_update(
        list_=trips, values={"access": {"design": [f"U{designer.pk}"]}}, user=admin
    )
    base = hook(designer)
    data = encoded(
        node("LogActivity", Text="{=Document:PROPERTY_CITY}", Title="Say"),
        document_fields={"PROPERTY_CITY": {"Name": "City", "Type": "string"}},
    )
    template_id = ok(
        client, base, ADD, {"DOCUMENT_TYPE": of_list(trips), "NAME": "Mine", "TEMPLATE_DATA": data}
    )["result"]
    assert not ListField.objects.filter(list=trips).exists()
    assert Template.objects.get(pk=template_id).versions.count() == 1
    assert {n["LEVEL"] for n in notices_of(client, base, template_id)} == {"warning"}


def test_a_file_reaching_beyond_the_callers_rights_is_access_denied_and_creates_nothing(
    client, admin, trips
):
    # A deal template the lists administrator may not design automation for.
    crm_admin = UserFactory(is_crm_admin=True)
    deal_flow = ok(
        client,
        hook(crm_admin),
        ADD,
        {
            "DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal", "DEAL"],
            "NAME": "Deal flow",
            "TEMPLATE_DATA": encoded(node("LogActivity", Text="x", Title="Say")),
        },
    )["result"]
    reaching = encoded(
        node(
            "StartWorkflowActivity",
            "A_child",
            Title="Start the deal's",
            DocumentId="DEAL_1",
            TemplateId=str(deal_flow),
            TemplateParameters={},
            UseSubscription="N",
        ),
        document_fields={"PROPERTY_CITY": {"Name": "City", "Type": "string"}},
    )
    params = {"DOCUMENT_TYPE": of_list(trips), "NAME": "Reach", "TEMPLATE_DATA": reaching}
    assert refused(client, hook(admin), ADD, params)[:2] == (403, "ACCESS_DENIED")
    assert list(Template.objects.values_list("pk", flat=True)) == [deal_flow]
    assert not ListField.objects.filter(list=trips).exists()


def test_a_run_as_user_only_an_administrator_may_choose_is_access_denied(client, admin):
    designer = user_with(
        {
            ("DEAL", "read"): "all",
            ("DEAL", "start_processes"): "all",
            ("DEAL", "design_automation"): "all",
        }
    )
    run_as = encoded(
        node(
            "StartScriptActivity",
            "A_script",
            Title="As the boss",
            DocumentId="{=Document:ID}",
            StartBy=f"user_{admin.pk}",
            TemplateId="1",
            TemplateParameters={},
        ),
        document_fields={"UF_CRM_CITY": {"Name": "City", "Type": "string"}},
    )
    deals = ["crm", "CCrmDocumentDeal", "DEAL"]
    params = {"DOCUMENT_TYPE": deals, "NAME": "As boss", "TEMPLATE_DATA": run_as}
    assert refused(client, hook(designer), ADD, params)[:2] == (403, "ACCESS_DENIED")
    assert not Template.objects.exists() and not UserField.objects.exists()

    mine = ok(
        client,
        hook(designer),
        ADD,
        {
            "DOCUMENT_TYPE": deals,
            "NAME": "Mine",
            "TEMPLATE_DATA": encoded(node("LogActivity", Text="x", Title="Say")),
        },
    )["result"]
    update = {"ID": mine, "FIELDS": {"TEMPLATE_DATA": run_as}}
    assert refused(client, hook(designer), UPDATE, update)[:2] == (403, "ACCESS_DENIED")
    assert Template.objects.get(pk=mine).tree["Children"][0]["Type"] == "LogActivity"
