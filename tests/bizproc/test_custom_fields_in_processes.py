"""CRM custom fields (``UF_CRM_…``) in processes: expressions read their typed values and a
person's reading of them, conditions branch on them, Modify document writes them, the .bpt
export describes them as Bitrix does, and where-used finds the templates naming them."""

import datetime

import pytest
from django.utils import formats, timezone

from bizproc import bpt
from bizproc.models import Instance, InstanceStatus
from bizproc.runtime import workflow_start
from bizproc.services import (
    PublishRefused,
    template_create,
    template_export_bpt,
    template_import_bpt,
)
from bizproc.usages import field_usages
from crm import services as crm_services
from crm.documents import DOCUMENT_TYPES
from crm.models import StoredFile, UserField
from tests.bizproc.builders import branch, field, node, notes, published
from tests.crm.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db

REPORT, FAULT = 6, 4


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Ivan Petrov")


def make_field(admin, code, field_type, **values):
    return crm_services.userfield_create(
        entity_type="DEAL", values={"code": code, "type": field_type, **values}, user=admin
    )


@pytest.fixture
def priority(admin):
    return make_field(
        admin,
        "PRIORITY",
        "enumeration",
        labels={"form": {"en": "Priority"}},
        items=[{"value": "Low", "sort": 10}, {"value": "High", "sort": 20}],
    )


def option_id(field, name):
    return str(field.items.get(value=name).pk)


def deal_with(admin, **values):
    return crm_services.record_create(
        entity_type="DEAL", values={"TITLE": "Big deal", **values}, user=admin
    )


def log(text):
    return node("LogActivity", Text=text, Title="Log")


def run(template, deal, user) -> Instance:
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    return instance


def reports(admin, deal, *texts):
    template = published(*(log(text) for text in texts), user=admin)
    return notes(run(template, deal, admin), REPORT)


# --- reading values ---------------------------------------------------------------------------


def test_an_enumeration_reads_as_its_option_id_and_prints_as_its_name(admin, priority):
    deal = deal_with(admin, UF_CRM_PRIORITY="High")
    high = option_id(priority, "High")
    assert reports(
        admin,
        deal,
        "{=Document:UF_CRM_PRIORITY}",
        "{=Document:UF_CRM_PRIORITY > printable}",
        "{=Document:UF_CRM_PRIORITY_PRINTABLE}",
    ) == [high, "High", "High"]


def test_an_employee_prints_as_the_persons_name(admin):
    make_field(admin, "CURATOR", "employee")
    deal = deal_with(admin, UF_CRM_CURATOR=f"user_{admin.pk}")
    assert reports(
        admin, deal, "{=Document:UF_CRM_CURATOR}", "{=Document:UF_CRM_CURATOR > printable}"
    ) == [f"user_{admin.pk}", "Ivan Petrov"]


def test_yes_no_prints_as_words(admin):
    make_field(admin, "VIP", "boolean")
    deal = deal_with(admin, UF_CRM_VIP="Y")
    assert reports(admin, deal, "{=Document:UF_CRM_VIP > printable}") == ["Yes"]


def test_money_prints_with_its_currency(admin):
    make_field(admin, "BUDGET", "money")
    deal = deal_with(admin, UF_CRM_BUDGET="1500.5|USD")
    assert reports(
        admin, deal, "{=Document:UF_CRM_BUDGET}", "{=Document:UF_CRM_BUDGET > printable}"
    ) == ["1500.50|USD", "1,500.50 USD"]


def test_a_crm_link_prints_as_the_records_title(admin):
    make_field(admin, "PARTNER", "crm", settings={"COMPANY": "Y"})
    company = CompanyFactory(title="Horns and Hooves")
    deal = deal_with(admin, UF_CRM_PARTNER=str(company.pk))
    assert reports(
        admin, deal, "{=Document:UF_CRM_PARTNER}", "{=Document:UF_CRM_PARTNER > printable}"
    ) == [str(company.pk), "Horns and Hooves"]


def test_a_link_to_one_of_several_types_prints_as_the_records_title(admin):
    make_field(admin, "ORIGIN", "crm", settings={"COMPANY": "Y", "DEAL": "Y"}, multiple=True)
    company = CompanyFactory(title="Horns and Hooves")
    other = deal_with(admin, TITLE="First deal")
    deal = deal_with(admin, UF_CRM_ORIGIN=[f"CO_{company.pk}", f"D_{other.pk}"])
    assert reports(admin, deal, "{=Document:UF_CRM_ORIGIN > printable}") == [
        "Horns and Hooves, First deal"
    ]


def test_a_file_prints_as_its_name(admin):
    make_field(admin, "CONTRACT", "file")
    stored = StoredFile.objects.create(file="crm/x.pdf", name="contract.pdf", created_by=admin)
    deal = deal_with(admin, UF_CRM_CONTRACT=stored.pk)
    assert reports(
        admin, deal, "{=Document:UF_CRM_CONTRACT}", "{=Document:UF_CRM_CONTRACT > printable}"
    ) == [str(stored.pk), "contract.pdf"]


def test_dates_print_in_the_short_format(admin):
    make_field(admin, "SIGNED", "date")
    make_field(admin, "CALL_AT", "datetime")
    moment = timezone.make_aware(datetime.datetime(2026, 3, 5, 14, 30))
    deal = deal_with(admin, UF_CRM_SIGNED="2026-03-05", UF_CRM_CALL_AT=moment)
    assert reports(
        admin,
        deal,
        "{=Document:UF_CRM_SIGNED}",
        "{=Document:UF_CRM_SIGNED > printable}",
        "{=Document:UF_CRM_CALL_AT > printable}",
    ) == [
        "2026-03-05",
        formats.date_format(datetime.date(2026, 3, 5), "SHORT_DATE_FORMAT"),
        formats.date_format(moment, "SHORT_DATETIME_FORMAT"),
    ]


def test_numbers_strings_and_urls_read_as_they_are(admin):
    make_field(admin, "SEATS", "integer")
    make_field(admin, "SITE", "url")
    make_field(admin, "NOTE", "string")
    deal = deal_with(
        admin, UF_CRM_SEATS="12", UF_CRM_SITE="https://example.com/a", UF_CRM_NOTE="hi"
    )
    assert reports(
        admin,
        deal,
        "{{={=Document:UF_CRM_SEATS} * 2}}",
        "{=Document:UF_CRM_SITE > printable}",
        "{=Document:UF_CRM_NOTE}",
    ) == ["24", "https://example.com/a", "hi"]


def test_a_multiple_enumeration_prints_every_chosen_name(admin):
    field = make_field(
        admin,
        "TAGS",
        "enumeration",
        multiple=True,
        items=[{"value": "Red", "sort": 1}, {"value": "Blue", "sort": 2}],
    )
    deal = deal_with(admin, UF_CRM_TAGS=["Red", "Blue"])
    assert option_id(field, "Red") in reports(admin, deal, "{=Document:UF_CRM_TAGS}")[0]
    assert reports(admin, deal, "{=Document:UF_CRM_TAGS > printable}") == ["Red, Blue"]


# --- conditions -------------------------------------------------------------------------------


def branching_on(value, operator="="):
    return node(
        "IfElseActivity",
        children=[
            branch({"fieldcondition": [["UF_CRM_PRIORITY", operator, value]]}, log("urgent")),
            branch({"truecondition": "1"}, log("routine")),
        ],
    )


@pytest.mark.parametrize("by", ["id", "name"])
def test_a_process_started_from_the_card_branches_on_an_enumeration(admin, priority, by):
    high = option_id(priority, "High") if by == "id" else "High"
    template = published(branching_on(high), user=admin)
    urgent = deal_with(admin, UF_CRM_PRIORITY="High")
    routine = deal_with(admin, UF_CRM_PRIORITY="Low")
    assert notes(run(template, urgent, admin), REPORT) == ["urgent"]
    assert notes(run(template, routine, admin), REPORT) == ["routine"]


def test_an_enumeration_condition_with_a_list_of_names(admin, priority):
    template = published(branching_on(["Low", "High"], "in"), user=admin)
    assert notes(run(template, deal_with(admin, UF_CRM_PRIORITY="Low"), admin), REPORT) == [
        "urgent"
    ]
    assert notes(run(template, deal_with(admin), admin), REPORT) == ["routine"]


def test_a_condition_on_a_number_field_compares_numbers(admin):
    make_field(admin, "SEATS", "integer")
    template = published(
        node(
            "IfElseActivity",
            children=[
                branch({"fieldcondition": [["UF_CRM_SEATS", ">", "9"]]}, log("big")),
                branch({"truecondition": "1"}, log("small")),
            ],
        ),
        user=admin,
    )
    assert notes(run(template, deal_with(admin, UF_CRM_SEATS=12), admin), REPORT) == ["big"]
    assert notes(run(template, deal_with(admin, UF_CRM_SEATS=3), admin), REPORT) == ["small"]


# --- Modify document --------------------------------------------------------------------------


def test_modify_document_writes_custom_fields_typed(admin, priority):
    make_field(admin, "SEATS", "integer")
    make_field(admin, "BUDGET", "money", settings={"CURRENCY": "EUR"})
    make_field(admin, "CURATOR", "employee")
    template = published(
        node(
            "SetFieldActivity",
            FieldValue={
                "UF_CRM_PRIORITY": "High",
                "UF_CRM_SEATS": "{{=2 + 3}}",
                "UF_CRM_BUDGET": "250",
                "UF_CRM_CURATOR": "{=Document:ASSIGNED_BY_ID}",
            },
        ),
        user=admin,
    )
    deal = deal_with(admin, ASSIGNED_BY_ID=f"user_{admin.pk}")
    assert run(template, deal, admin).status == InstanceStatus.COMPLETED
    deal.refresh_from_db()
    assert deal.uf == {
        "UF_CRM_PRIORITY": int(option_id(priority, "High")),
        "UF_CRM_SEATS": 5,
        "UF_CRM_BUDGET": "250.00|EUR",
        "UF_CRM_CURATOR": admin.pk,
    }


@pytest.mark.parametrize(
    ("code", "field_type", "message"),
    [
        ("SEATS", "integer", "The value of field 'Seats' is not an integer."),
        ("SITE", "url", "The value of field 'Site' is not a web address."),
        ("PRIORITY", "enumeration", "The value of field 'Priority' is incorrect."),
    ],
)
def test_a_bad_value_at_run_time_stops_the_process_with_the_fields_message(
    admin, priority, code, field_type, message
):
    if code != "PRIORITY":
        make_field(admin, code, field_type, labels={"form": {"en": code.title()}})
    template = published(
        node("SetFieldActivity", FieldValue={f"UF_CRM_{code}": "{=Document:TITLE}"}),
        log("never"),
        user=admin,
    )
    deal = deal_with(admin)
    instance = run(template, deal, admin)
    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, FAULT) == [message]
    deal.refresh_from_db()
    assert deal.uf == {}


def test_a_bad_value_written_in_the_block_is_refused_at_publishing(admin, priority):
    make_field(admin, "SEATS", "integer", labels={"form": {"en": "Seats"}})
    with pytest.raises(PublishRefused) as refused:
        published(
            node("SetFieldActivity", FieldValue={"UF_CRM_SEATS": "many", "UF_CRM_PRIORITY": "?"}),
            user=admin,
        )
    messages = [problem.message for problem in refused.value.problems]
    assert any("The value of field 'Seats' is not an integer." in m for m in messages)
    assert any("The value of field 'Priority' is incorrect." in m for m in messages)


# --- parameters of Bitrix's custom-field types -------------------------------------------------


def test_parameters_of_custom_field_types_hold_their_base_types_values(admin):
    template = published(
        log("{=Template:Vip > printable} {=Template:Signed > printable} {=Template:Budget}"),
        user=admin,
        parameters={
            "Vip": field("UF:boolean", "VIP"),
            "Signed": field("UF:date", "Signed"),
            "Budget": field("UF:money", "Budget"),
        },
    )
    instance = workflow_start(
        template=template,
        document_id=deal_with(admin).document_id,
        user=admin,
        parameters={"Vip": "Y", "Signed": "2026-03-05", "Budget": "10|USD"},
    )
    signed = formats.date_format(datetime.date(2026, 3, 5), "SHORT_DATE_FORMAT")
    assert notes(instance, REPORT) == [f"Yes {signed} 10|USD"]


def test_a_parameter_of_an_unknown_custom_field_type_is_refused(admin):
    with pytest.raises(PublishRefused) as refused:
        published(log("x"), user=admin, parameters={"Clip": field("UF:video", "Clip")})
    assert "The field 'Clip' has an unknown type: UF:video" in str(
        [problem.message for problem in refused.value.problems]
    )


# --- .bpt export --------------------------------------------------------------------------------


def exported_fields(template):
    return bpt.bpt_read(template_export_bpt(source=template)).document_fields


def test_the_export_describes_custom_fields_in_bitrix_types(admin, priority):
    make_field(admin, "SEATS", "integer", mandatory=True)
    make_field(admin, "VIP", "boolean")
    make_field(admin, "SIGNED", "date")
    make_field(admin, "CURATOR", "employee", multiple=True)
    make_field(admin, "BUDGET", "money", settings={"CURRENCY": "EUR"})
    make_field(admin, "SITE", "url")
    make_field(admin, "PARTNER", "crm", settings={"COMPANY": "Y", "DEAL": "Y"})
    make_field(admin, "CONTRACT", "file")
    template = published(log("{=Document:UF_CRM_PRIORITY}"), user=admin)
    fields = exported_fields(template)
    types = {code: entry["Type"] for code, entry in fields.items() if code.startswith("UF_")}
    assert types == {
        "UF_CRM_PRIORITY": "select",
        "UF_CRM_SEATS": "int",
        "UF_CRM_VIP": "UF:boolean",
        "UF_CRM_SIGNED": "UF:date",
        "UF_CRM_CURATOR": "user",
        "UF_CRM_BUDGET": "UF:money",
        "UF_CRM_SITE": "UF:url",
        "UF_CRM_PARTNER": "UF:crm",
        "UF_CRM_CONTRACT": "file",
    }
    assert fields["UF_CRM_PRIORITY"]["Name"] == "Priority"
    assert {str(key): name for key, name in fields["UF_CRM_PRIORITY"]["Options"].items()} == {
        option_id(priority, "Low"): "Low",
        option_id(priority, "High"): "High",
    }
    assert fields["UF_CRM_SEATS"]["Required"] is True
    assert fields["UF_CRM_CURATOR"]["Multiple"] is True
    assert fields["UF_CRM_PARTNER"]["Options"] == {"COMPANY": "Y", "DEAL": "Y"}
    assert fields["UF_CRM_BUDGET"]["Settings"] == {"CURRENCY": "EUR"}
    assert fields["UF_CRM_BUDGET"]["BaseType"] == "string"
    assert fields["TITLE"]["Type"] == "string"


def test_a_file_naming_custom_fields_that_do_not_exist_creates_them_as_bitrix_does(admin):
    draft = template_create(document_type=DOCUMENT_TYPES["DEAL"], name="Source", user=admin)
    draft.tree["Children"] = [log("{=Document:UF_CRM_GONE}")]
    draft.save()
    content = bpt.bpt_read(template_export_bpt(source=draft))
    content.document_fields["UF_CRM_GONE"] = {"Name": "Gone", "Type": "UF:money"}
    imported = template_import_bpt(
        data=bpt.bpt_write(content),
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Imported",
        user=admin,
    )
    assert "{=Document:UF_CRM_GONE}" in str(imported.tree)
    assert UserField.objects.get(code="UF_CRM_GONE").type == "money"
    created = {"level": "info", "code": "fields_created", "message": "Fields created: UF_CRM_GONE."}
    assert created in imported.notices


# --- where used -------------------------------------------------------------------------------


def test_where_used_finds_conditions_modify_keys_and_expressions(admin, priority):
    make_field(admin, "A", "string")
    make_field(admin, "AB", "string")
    published(branching_on("High"), user=admin, name="Condition")
    published(
        node("SetFieldActivity", FieldValue={"UF_CRM_A": "x"}, Title="Write A"),
        user=admin,
        name="Modify",
    )
    published(
        node("LogActivity", Text="A is {=Document:UF_CRM_A > printable}", Title="Say A"),
        user=admin,
        name="Text",
    )
    published(log("{=Document:UF_CRM_AB}"), user=admin, name="Only AB")
    deal_type = DOCUMENT_TYPES["DEAL"]

    def names(code):
        return [usage.template.name for usage in field_usages(document_type=deal_type, code=code)]

    assert names("UF_CRM_PRIORITY") == ["Condition"]
    assert names("UF_CRM_A") == ["Modify", "Text"]
    assert names("UF_CRM_AB") == ["Only AB"]
    usages = field_usages(document_type=deal_type, code="UF_CRM_A")
    assert [usage.blocks for usage in usages] == [["Write A"], ["Say A"]]
    assert all(usage.published for usage in usages)


def test_where_used_finds_the_printable_suffix_and_any_letter_case(admin):
    make_field(admin, "A", "string")
    published(log("{=Document:UF_CRM_A_PRINTABLE}"), user=admin, name="Suffix")
    published(log("{=document:uf_crm_a}"), user=admin, name="Lower case")
    usages = field_usages(document_type=DOCUMENT_TYPES["DEAL"], code="UF_CRM_A")
    assert [usage.template.name for usage in usages] == ["Lower case", "Suffix"]
