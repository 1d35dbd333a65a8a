"""Importing Bitrix templates as Bitrix does: only a block's own wrong properties (or a block the
engine does not run) keep a template from being published; fields and users that do not exist
here are warnings kept on the template; the fields a file's ``DOCUMENT_FIELDS`` describes are
created on the list or the CRM type (for those who may manage fields) and updated where they
exist; a status-driven template is kept as a draft; a branch without a condition is "else"."""

import pytest
from django.contrib.auth.models import Permission

from bizproc import services
from bizproc.bpt import BptContent, bpt_write
from bizproc.models import AutoExecute, Template
from bizproc.runtime import workflow_start
from bizproc.tree import root_node
from crm import services as crm_services
from crm.documents import DOCUMENT_TYPES
from crm.models import UserField
from lists import services as lists_services
from lists.documents import document_type_of_list
from lists.models import List, ListField, ListKind
from tests.bizproc.builders import field, node, notes
from tests.crm.factories import DealFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db

DEAL = DOCUMENT_TYPES["DEAL"]
REPORT = 6
DEAL_DESIGNER = {
    ("DEAL", "read"): "all",
    ("DEAL", "start_processes"): "all",
    ("DEAL", "design_automation"): "all",
}


def bpt(
    *blocks: dict,
    document_fields: dict | None = None,
    constants: dict | None = None,
    root_type: str = "SequentialWorkflowActivity",
) -> bytes:
    return bpt_write(
        BptContent(
            version=2,
            template=[{**root_node(), "Type": root_type, "Children": list(blocks)}],
            parameters={},
            variables={},
            constants=constants or {},
            document_fields=document_fields or {},
        )
    )


def described(type_: str, name: str = "", **extra) -> dict:
    return {"Name": name or type_, "Type": type_, "Required": False, "Multiple": False, **extra}


def log(text: str, title: str = "Say") -> dict:
    return node("LogActivity", Text=text, Title=title)


def notices(template: Template, level: str) -> list[str]:
    return [
        n["message"] for n in Template.objects.get(pk=template.pk).notices if n["level"] == level
    ]


@pytest.fixture
def crm_admin():
    return UserFactory(is_crm_admin=True, full_name="Irina Admin")


@pytest.fixture
def lists_admin():
    user = UserFactory(full_name="Lena Lists")
    user.user_permissions.add(Permission.objects.get(codename="change_list"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def trips(lists_admin) -> List:
    return lists_services.list_create(
        values={"kind": ListKind.PROCESSES, "name": "Trips", "code": "trips"}, user=lists_admin
    )


def import_onto(list_: List, data: bytes, user) -> services.ImportOutcome:
    return services.template_import(
        data=data, document_type=document_type_of_list(list_), name="Imported", user=user
    )


def properties(list_: List) -> dict[str, ListField]:
    return {row.code: row for row in ListField.objects.filter(list=list_)}


# --- fields on a list --------------------------------------------------------------------------


def test_a_list_gets_every_field_the_file_describes_typed_as_bitrix_types_them(trips, lists_admin):
    fields = {
        "PROPERTY_KIND": described(
            "select", "Kind", Options={"air": "By air", "rail": "By rail"}, DefaultValue="By rail"
        ),
        "PROPERTY_TRAVELLER": described("user", "Traveller", Required=True),
        "PROPERTY_FROM": described("date", "From", TypeReal="S:Date", sort=20),
        "PROPERTY_LEAVES": described("datetime", "Leaves"),
        "PROPERTY_SCAN": described("file", "Scan", Multiple=True),
        "PROPERTY_DAYS": described("int", "Days", DefaultValue="3"),
        "PROPERTY_RATE": described("double", "Rate"),
        "PROPERTY_CITY": described("string", "City"),
        "PROPERTY_PURPOSE": described("text", "Purpose"),
        "PROPERTY_URGENT": described("bool", "Urgent"),
        "PROPERTY_NOTE": described(
            "S:HTML", "Note", DefaultValue={"TYPE": "HTML", "TEXT": "Ask HR"}
        ),
        "PROPERTY_PARENT": described("E:EList", "Parent", Options="42"),
        "PROPERTY_COST": described("string", "Cost", TypeReal="S:Money"),
        "PROPERTY_CITY_PRINTABLE": described("string", "City (text)"),
        "PROPERTY_PARENT.NAME": described("string", "Parent's name"),
        "PROPERTY_DISK": described("S:DiskFile", "Disk file"),
        "NAME": described("string", "Trip name"),
        "CREATED_BY": described("user", "Created by"),
    }
    outcome = import_onto(
        trips, bpt(log("{=Document:PROPERTY_CITY}"), document_fields=fields), lists_admin
    )

    made = properties(trips)
    types = {code: row.type for code, row in made.items()}
    assert types == {
        "KIND": "L",
        "TRAVELLER": "S:employee",
        "FROM": "S:Date",
        "LEAVES": "S:DateTime",
        "SCAN": "F",
        "DAYS": "N",
        "RATE": "N",
        "CITY": "S",
        "PURPOSE": "S",
        "URGENT": "L",
        "NOTE": "S:HTML",
        "PARENT": "E",
        "COST": "S:Money",
    }
    kind = made["KIND"]
    assert [(o.xml_id, o.value, o.default) for o in kind.options.all()] == [
        ("air", "By air", False),
        ("rail", "By rail", True),
    ]
    assert [(o.xml_id, o.value) for o in made["URGENT"].options.all()] == [
        ("Y", "Yes"),
        ("N", "No"),
    ]
    assert made["TRAVELLER"].required and made["SCAN"].multiple
    assert made["NOTE"].default == "Ask HR"
    assert made["PARENT"].settings.get("LINK_IBLOCK_ID") is None  # the other site's list
    assert made["FROM"].name == "From"

    info = notices(outcome.template, "info")
    assert info[0].startswith("Fields created: PROPERTY_KIND, ")
    assert info[0].endswith(", PROPERTY_FROM.")  # in the file's sort order
    assert "PROPERTY_CITY_PRINTABLE" not in info[0] and "PROPERTY_DISK" not in info[0]
    warnings = notices(outcome.template, "warning")
    assert (
        "Field PROPERTY_DISK was not created: its type S:DiskFile is not one a list has."
        in warnings
    )
    # The field it reads exists now: published, the process runs.
    assert outcome.version is not None and outcome.template.active


def test_the_fields_a_list_has_are_updated_and_keep_what_they_hold(trips, lists_admin):
    kind = lists_services.listfield_create(
        list_=trips,
        values={
            "code": "KIND",
            "name": "Type",
            "type": "L",
            "options": [{"value": "Air", "xml_id": "air"}, {"value": "Local", "xml_id": "local"}],
        },
        user=lists_admin,
    )
    lists_services.listfield_create(
        list_=trips, values={"code": "DAYS", "name": "Days", "type": "S"}, user=lists_admin
    )
    file = bpt(
        log("x"),
        document_fields={
            "PROPERTY_KIND": described(
                "select", "Kind", Required=True, Options={"air": "By air", "rail": "By rail"}
            ),
            "PROPERTY_DAYS": described("int", "Days"),
        },
    )
    outcome = import_onto(trips, file, lists_admin)

    kind.refresh_from_db()
    assert (kind.name, kind.required) == ("Kind", True)
    assert [(o.xml_id, o.value) for o in kind.options.all()] == [
        ("air", "By air"),
        ("local", "Local"),
        ("rail", "By rail"),
    ]
    assert properties(trips)["DAYS"].type == "S"
    assert notices(outcome.template, "info") == ["Fields updated: PROPERTY_KIND."]
    assert (
        "Field PROPERTY_DAYS is of another type here than in the file; it was left as it is."
        in notices(outcome.template, "warning")
    )


def test_someone_who_may_not_manage_fields_gets_warnings_not_fields(trips, lists_admin):
    designer = UserFactory(full_name="Petr Designer")
    lists_services.list_update(
        list_=trips, values={"access": {"design": [f"U{designer.pk}"]}}, user=lists_admin
    )
    file = bpt(
        log("Going to {=Document:PROPERTY_CITY}"),
        document_fields={"PROPERTY_CITY": described("string", "City")},
    )
    outcome = import_onto(trips, file, designer)

    assert not properties(trips)
    warnings = notices(outcome.template, "warning")
    assert warnings[0] == (
        "The file describes fields this document type lacks, and only an administrator may "
        "create them: PROPERTY_CITY."
    )
    assert any('Unknown reference "{=Document:PROPERTY_CITY}"' in w for w in warnings)
    assert outcome.version is not None  # a warning does not stop it


# --- fields on CRM deals -----------------------------------------------------------------------


def test_deals_get_the_custom_fields_the_file_describes(crm_admin):
    fields = {
        "UF_CRM_CITY": described("string", "City"),
        "UF_CRM_NIGHTS": described("int", "Nights"),
        "UF_CRM_RATE": described("double", "Rate"),
        "UF_CRM_PAID": described("bool", "Paid"),
        "UF_CRM_VIP": described("UF:boolean", "VIP"),
        "UF_CRM_DAY": described("date", "Day"),
        "UF_CRM_DUE": described("UF:date", "Due"),
        "UF_CRM_AT": described("datetime", "At"),
        "UF_CRM_KIND": described("select", "Kind", Options={"12": "New", "14": "Repeat"}),
        "UF_CRM_OWNER": described("user", "Owner", Multiple=True),
        "UF_CRM_BUDGET": described("UF:money", "Budget"),
        "UF_CRM_SITE": described("UF:url", "Site"),
        "UF_CRM_LINK": described("UF:crm", "Link", Options={"CONTACT": "Y", "LEAD": "N"}),
        "UF_CRM_SCAN": described("file", "Scan"),
        "UF_CRM_SHOP": described("UF:iblock_element", "Shop item"),
        "TITLE": described("string", "Title"),
        "UF_CRM_CITY_PRINTABLE": described("string", "City"),
    }
    outcome = services.template_import(
        data=bpt(log("{=Document:UF_CRM_CITY}"), document_fields=fields),
        document_type=DEAL,
        name="Deal intake",
        user=crm_admin,
    )

    made = {row.code: row for row in UserField.objects.filter(entity_type="DEAL")}
    assert {code: row.type for code, row in made.items()} == {
        "UF_CRM_CITY": "string",
        "UF_CRM_NIGHTS": "integer",
        "UF_CRM_RATE": "double",
        "UF_CRM_PAID": "boolean",
        "UF_CRM_VIP": "boolean",
        "UF_CRM_DAY": "date",
        "UF_CRM_DUE": "date",
        "UF_CRM_AT": "datetime",
        "UF_CRM_KIND": "enumeration",
        "UF_CRM_OWNER": "employee",
        "UF_CRM_BUDGET": "money",
        "UF_CRM_SITE": "url",
        "UF_CRM_LINK": "crm",
        "UF_CRM_SCAN": "file",
    }
    assert [(i.xml_id, i.value) for i in made["UF_CRM_KIND"].items.all()] == [
        ("12", "New"),
        ("14", "Repeat"),
    ]
    assert made["UF_CRM_OWNER"].multiple
    assert made["UF_CRM_LINK"].settings == {"CONTACT": "Y"}
    assert "City" in str(made["UF_CRM_CITY"].labels)
    assert (
        "Field UF_CRM_SHOP was not created: its type UF:iblock_element is not one the CRM has."
        in notices(outcome.template, "warning")
    )
    assert outcome.version is not None


def test_a_deal_field_that_exists_gets_the_files_label_and_new_options(crm_admin):
    existing = crm_services.userfield_create(
        entity_type="DEAL",
        values={
            "code": "UF_CRM_KIND",
            "type": "enumeration",
            "labels": {"form": {"en": "Type"}},
            "items": [{"value": "New", "xml_id": "12"}],
        },
        user=crm_admin,
    )
    outcome = services.template_import(
        data=bpt(
            log("x"),
            document_fields={
                "UF_CRM_KIND": described("select", "Kind", Options={"12": "New", "14": "Repeat"})
            },
        ),
        document_type=DEAL,
        name="Deal intake",
        user=crm_admin,
    )
    existing.refresh_from_db()
    assert existing.labels["form"]["en"] == "Kind"
    assert [(i.xml_id, i.value) for i in existing.items.order_by("sort")] == [
        ("12", "New"),
        ("14", "Repeat"),
    ]
    assert notices(outcome.template, "info") == ["Fields updated: UF_CRM_KIND."]


def test_a_deal_designer_who_is_no_crm_admin_gets_warnings_not_fields():
    designer = user_with(DEAL_DESIGNER, full_name="Dina Deals")
    outcome = services.template_import(
        data=bpt(
            log("{=Document:UF_CRM_CITY}"),
            document_fields={"UF_CRM_CITY": described("string", "City")},
        ),
        document_type=DEAL,
        name="Deal intake",
        user=designer,
    )
    assert not UserField.objects.exists()
    assert "UF_CRM_CITY." in notices(outcome.template, "warning")[0]
    assert outcome.version is not None


# --- warnings and problems ---------------------------------------------------------------------


def test_missing_users_fields_and_constant_defaults_are_warnings_on_the_template(crm_admin):
    data = bpt(
        node(
            "IMNotifyActivity",
            "A_notify",
            Title="Tell the boss",
            MessageUserTo=["user_999999"],
            MessageSite="Deal {=Document:UF_CRM_GONE}",
        ),
        node("SetFieldActivity", "A_set", Title="Mark", FieldValue={"UF_CRM_GONE": "x"}),
        log("Boss: {=Constant:Boss}"),
        constants={"Boss": field("user", "Boss", multiple=True, default=["user_888888"])},
    )
    outcome = services.template_import(
        data=data, document_type=DEAL, name="Tolerant", user=crm_admin
    )

    assert outcome.version is not None
    assert outcome.template.active
    assert notices(outcome.template, "error") == []
    warnings = notices(outcome.template, "warning")
    assert (
        "Action 'Tell the boss': User user_999999 does not exist here or is inactive." in warnings
    )
    assert "Action 'Mark': Unknown field: UF_CRM_GONE" in warnings
    assert any(w.startswith("Action 'Tell the boss': Unknown reference") for w in warnings)
    assert (
        "Constants: The default value of 'Boss' names user user_888888, who does not exist "
        "here or is inactive." in warnings
    )
    nodes = {n["node"] for n in Template.objects.get(pk=outcome.template.pk).notices}
    assert {"A_notify", "A_set"} <= nodes


def test_a_block_whose_own_properties_are_wrong_keeps_the_import_a_draft(crm_admin):
    outcome = services.template_import(
        data=bpt(node("LogActivity", Title="Say nothing"), node("VendorMagicActivity", "A_vendor")),
        document_type=DEAL,
        name="Broken",
        user=crm_admin,
        auto_execute=AutoExecute.CREATE,
    )
    template = Template.objects.get(pk=outcome.template.pk)
    assert outcome.version is None and not template.versions.exists()
    assert (template.active, template.auto_execute) == (True, AutoExecute.CREATE)
    errors = notices(template, "error")
    assert "Action 'Say nothing': The field 'Text' is required." in errors
    assert (
        "Action 'VendorMagic': blocks of type VendorMagicActivity are not supported and "
        "cannot be published." in errors
    )
    # Kept verbatim; publishing names the same problems.
    assert template.tree["Children"][1]["Type"] == "VendorMagicActivity"
    with pytest.raises(services.PublishRefused) as refused:
        services.template_publish(template=template, user=crm_admin)
    assert {p.message for p in refused.value.problems} == set(errors)


def test_publishing_replaces_the_warnings_and_keeps_what_the_import_did(trips, lists_admin):
    file = bpt(
        log("{=Document:PROPERTY_CITY} {=Document:PROPERTY_GONE}"),
        document_fields={"PROPERTY_CITY": described("string", "City")},
    )
    outcome = import_onto(trips, file, lists_admin)
    assert len(notices(outcome.template, "warning")) == 1
    lists_services.listfield_create(
        list_=trips, values={"code": "GONE", "name": "Back", "type": "S"}, user=lists_admin
    )
    services.template_publish(template=outcome.template, user=lists_admin)
    assert notices(outcome.template, "warning") == []
    assert notices(outcome.template, "info") == ["Fields created: PROPERTY_CITY."]


def test_a_status_driven_template_imports_as_a_draft_that_says_why(crm_admin):
    state = node("StateActivity", "A_state", [log("in state")], Title="New")
    outcome = services.template_import(
        data=bpt(state, root_type="StateMachineWorkflowActivity"),
        document_type=DEAL,
        name="Statuses",
        user=crm_admin,
    )
    template = Template.objects.get(pk=outcome.template.pk)
    assert outcome.version is None
    assert template.tree["Type"] == "StateMachineWorkflowActivity"
    assert template.tree["Children"][0]["Children"][0]["Properties"]["Text"] == "in state"
    assert notices(template, "error") == ["Status-driven processes are not supported yet."]


def test_rights_refusals_still_refuse_the_whole_import_and_create_no_field(trips, lists_admin):
    deal_flow = services.template_create(document_type=DEAL, name="Deal flow", user=crm_admin_of())
    file = bpt(
        node(
            "StartWorkflowActivity",
            "A_child",
            DocumentId="{=Document:ID}",
            TemplateId=str(deal_flow.pk),
            TemplateParameters={},
            UseSubscription="N",
        ),
        document_fields={"PROPERTY_CITY": described("string", "City")},
    )
    with pytest.raises(services.AccessRefused):
        import_onto(trips, file, lists_admin)
    assert not Template.objects.exclude(pk=deal_flow.pk).exists()
    assert not properties(trips)


def crm_admin_of():
    return UserFactory(is_crm_admin=True)


# --- the "else" branch ------------------------------------------------------------------------


def test_a_branch_without_a_condition_is_the_else_branch(crm_admin):
    condition = node(
        "IfElseActivity",
        "A_if",
        [
            node(
                "IfElseBranchActivity",
                "A_yes",
                [log("big", "Big")],
                Title="Big",
                fieldcondition=[["OPPORTUNITY", ">", "1000"]],
            ),
            node("IfElseBranchActivity", "A_else", [log("small", "Small")], Title="Else"),
        ],
        Title="Size",
    )
    outcome = services.template_import(
        data=bpt(condition), document_type=DEAL, name="Size", user=crm_admin
    )
    assert outcome.version is not None
    deal = DealFactory(title="Tiny", opportunity=10, assigned_by=crm_admin)
    instance = workflow_start(
        template=outcome.template, document_id=f"DEAL_{deal.pk}", user=crm_admin
    )
    assert notes(instance, REPORT) == ["small"]


def test_a_document_field_the_type_lacks_reads_empty_when_the_process_runs(crm_admin):
    """Published with a warning, it runs as in Bitrix: the missing field is empty, no error."""
    outcome = services.template_import(
        data=bpt(log("Going to {=Document:UF_CRM_WHERE}.", "Say")),
        document_type=DEAL,
        name="Trip",
        user=crm_admin,
    )
    assert outcome.version is not None
    deal = DealFactory(title="Trip", assigned_by=crm_admin)
    instance = workflow_start(
        template=outcome.template, document_id=f"DEAL_{deal.pk}", user=crm_admin
    )
    assert notes(instance, REPORT) == ["Going to ."]
