"""Global constants and variables: who may define them, every field type as a global, values
converted or refused with clear messages, generated IDs, who sees which, type and deletion kept
while processes use one, running processes reading them, and missing ones warned about (on
publication and on a .bpt import)."""

import datetime
import re
import zoneinfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone, translation

from bizproc import services
from bizproc.bpt import BptContent, bpt_write
from bizproc.globals import (
    MAX_VALUE,
    GlobalRefused,
    global_delete,
    global_save,
    global_usages,
    globals_manageable,
    globals_readable,
    globals_values,
    globals_visible,
    readable_visibilities,
    visibility_choices,
)
from bizproc.models import GlobalField, GlobalKind, Template
from bizproc.runtime import workflow_start
from bizproc.tree import root_node
from crm.documents import DOCUMENT_TYPES
from lists import services as lists_services
from lists.documents import document_type_of_list
from lists.models import ListKind
from tests.bizproc.builders import node, notes, published
from tests.crm.factories import DealFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db

DEAL, LEAD = DOCUMENT_TYPES["DEAL"], DOCUMENT_TYPES["LEAD"]
REPORT = 6
CONST, VAR = GlobalKind.CONSTANT, GlobalKind.VARIABLE
DEAL_DESIGNER = {
    ("DEAL", "read"): "all",
    ("DEAL", "start_processes"): "all",
    ("DEAL", "design_automation"): "all",
}
CYRILLIC = re.compile("[А-Яа-яЁё]")


@pytest.fixture
def admin():
    return UserFactory(is_superuser=True, full_name="Olga Admin")


@pytest.fixture
def deal(admin):
    return DealFactory(assigned_by=admin, title="Big deal")


def save(admin, name="Rate", type_="string", value="", kind=CONST, **extra) -> GlobalField:
    return global_save(user=admin, kind=kind, name=name, type=type_, value=value, **extra)


def refusal(admin, **values) -> GlobalRefused:
    before = list(GlobalField.objects.values_list("pk", "definition", "visibility"))
    with pytest.raises(GlobalRefused) as refused:
        save(admin, **values)
    assert list(GlobalField.objects.values_list("pk", "definition", "visibility")) == before
    return refused.value


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Say")


def reports(admin, deal, *texts) -> list[str]:
    template = published(*(log(text) for text in texts), user=admin)
    instance = workflow_start(template=template, document_id=deal.document_id, user=admin)
    return notes(instance, REPORT)


def draft_naming(admin, text: str, name: str = "Draft only") -> Template:
    template = services.template_create(document_type=DEAL, name=name, user=admin)
    tree = root_node()
    tree["Children"] = [log(text)]
    template.tree = tree
    template.save()
    return template


# --- rights ------------------------------------------------------------------------------------


def test_superusers_and_holders_of_the_permission_manage_globals(admin):
    holder = UserFactory()
    holder.user_permissions.add(Permission.objects.get(codename="change_globalfield"))
    holder = type(holder).objects.get(pk=holder.pk)
    assert globals_manageable(admin) and globals_manageable(holder)
    assert readable_visibilities(admin) is None and readable_visibilities(holder) is None
    made = save(holder, name="Made by a holder", value="x")
    assert made.created_by == holder


def test_a_designer_reads_the_globals_of_the_types_they_design_and_changes_none(admin):
    designer = user_with(DEAL_DESIGNER)
    rate = save(admin, value="5")
    assert not globals_manageable(designer)
    assert readable_visibilities(designer) == {"GLOBAL", "CRM", "CRM_DEAL"}
    assert globals_readable(designer)
    message = "Only administrators may change global constants and variables."
    with pytest.raises(GlobalRefused, match=message):
        save(designer, name="Mine")
    with pytest.raises(GlobalRefused, match=message):
        global_save(user=designer, kind=CONST, name="Rate", type="string", value="6", instance=rate)
    with pytest.raises(GlobalRefused, match=message):
        global_delete(user=designer, instance=rate)
    rate.refresh_from_db()
    assert rate.value == "5"


def test_a_plain_user_and_an_inactive_superuser_may_do_nothing(admin):
    plain = UserFactory()
    gone = UserFactory(is_superuser=True, is_active=False)
    assert not globals_readable(plain)
    assert readable_visibilities(plain) == frozenset()
    assert not globals_manageable(gone)
    with pytest.raises(GlobalRefused):
        save(gone, name="Ghost")
    assert not GlobalField.objects.exists()


# --- types and values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "value", "expected"),
    [
        ("string", "Hello", "Hello"),
        ("text", "Line one\nLine two", "Line one\nLine two"),
        ("int", "42", 42),
        ("double", "2,5", 2.5),
        ("bool", "Y", True),
        ("date", "07.12.2026", datetime.date(2026, 12, 7)),
        ("UF:boolean", "N", False),
        ("UF:date", "2026-12-07", datetime.date(2026, 12, 7)),
        ("UF:money", "100.50|USD", "100.50|USD"),
        ("UF:url", "https://example.com", "https://example.com"),
        ("UF:crm", "D_5", "D_5"),
    ],
)
def test_every_field_type_is_a_global_read_typed_by_processes(admin, type_, value, expected):
    save(admin, name="Value", type_=type_, value=value, code="Value")
    assert globals_values(kind=CONST, document_type=DEAL) == {"Value": expected}


def test_a_date_and_time_is_the_moment_its_author_meant_in_any_zone(admin):
    with timezone.override(zoneinfo.ZoneInfo("Europe/Moscow")):
        save(admin, name="Opens", type_="datetime", value="2026-12-07 10:00", code="Opens")
    with timezone.override(datetime.UTC):
        opens = globals_values(kind=CONST, document_type=DEAL)["Opens"]
    assert opens == datetime.datetime(2026, 12, 7, 7, 0, tzinfo=datetime.UTC)


def test_a_list_keeps_its_options_and_takes_an_option_by_key_or_label(admin):
    options = {"low": "Low", "high": "High"}
    save(admin, name="Priority", type_="select", options=options, value="High", code="Priority")
    save(admin, name="Default", type_="select", options=options, value="low", code="Default")
    assert globals_values(kind=CONST, document_type=DEAL) == {"Default": "low", "Priority": "high"}
    assert GlobalField.objects.get(code="Priority").definition["Options"] == options


def test_a_user_and_several_values(admin):
    save(admin, name="Boss", type_="user", value=f"user_{admin.pk}", code="Boss")
    save(admin, name="Limits", type_="int", value=["1", "2", ""], multiple=True, code="Limits")
    assert globals_values(kind=CONST, document_type=DEAL) == {
        "Boss": f"user_{admin.pk}",
        "Limits": [1, 2],
    }


REFUSALS = [
    (
        {"name": "Rate", "type_": "int", "value": "a lot"},
        "value",
        "The value of field 'Rate' is not an integer.",
        "Значение поля 'Rate' не является целым числом",
    ),
    (
        {"name": "Priority", "type_": "select", "options": {"low": "Low"}, "value": "Urgent"},
        "value",
        "The value of field 'Priority' is incorrect.",
        "Значение поля 'Priority' не верно",
    ),
    (
        {"name": "Notes", "type_": "text", "value": "x" * (1024 * 1024)},
        "value",
        f"The value of field 'Notes' is too long: at most {MAX_VALUE} characters.",
        f"Значение поля 'Notes' слишком длинное: не больше {MAX_VALUE} символов.",
    ),
]


@pytest.mark.parametrize(("values", "where", "english", "russian"), REFUSALS)
def test_a_value_that_does_not_fit_is_refused_in_the_persons_language(
    admin, values, where, english, russian
):
    assert refusal(admin, **values).errors == {where: english}
    with translation.override("ru"):
        assert refusal(admin, **values).errors == {where: russian}


def test_values_of_several_items_are_measured_together(admin):
    several = ["x" * (MAX_VALUE // 2 + 1)] * 2
    refused = refusal(admin, name="Notes", type_="string", multiple=True, value=several)
    assert "too long" in refused.errors["value"]
    save(admin, name="Notes", type_="string", multiple=True, value=several[:1])


BAD_ID = "Use Latin letters, digits and _ for the ID, starting with a letter."


@pytest.mark.parametrize(
    ("values", "where", "english"),
    [
        ({"code": "My code"}, "code", BAD_ID),
        ({"code": "Курс"}, "code", BAD_ID),
        ({"name": "   "}, "name", "Give the global a name."),
        ({"name": "x" * 256}, "name", "The name is longer than 255 characters."),
        ({"visibility": "CRM_NOTHING"}, "visibility", "Choose who sees the global."),
        ({"type_": "money"}, "type", "The field 'Rate' has an unknown type: money"),
        ({"type_": "select", "value": ""}, "type", "The list field 'Rate' needs options."),
        ({"type_": "int", "required": True}, "value", "The field 'Rate' is required."),
    ],
)
def test_a_bad_definition_is_refused_naming_what_is_wrong(admin, values, where, english):
    refused = refusal(admin, **values)
    assert refused.errors[where] == english
    with translation.override("ru"):
        russian = refusal(admin, **values).errors[where]
    assert russian != english and CYRILLIC.search(russian), russian


def test_a_taken_id_is_refused_in_any_letter_case(admin):
    save(admin, code="Rate", value="1")
    refused = refusal(admin, code="RATE", value="2")
    assert refused.errors == {"code": "The ID RATE is taken."}
    with translation.override("ru"):
        russian = refusal(admin, code="rate").errors["code"]
    assert "rate" in russian and CYRILLIC.search(russian)
    # A variable has IDs of its own.
    assert save(admin, kind=VAR, code="Rate").code == "Rate"


def test_ids_are_given_in_turn_for_constants_and_variables(admin):
    first, second = save(admin, name="A"), save(admin, name="B")
    named = save(admin, name="C", code="Tax")
    variable = save(admin, name="D", kind=VAR)
    assert [first.code, second.code, named.code, variable.code] == [
        "Constant1",
        "Constant2",
        "Tax",
        "Variable1",
    ]
    assert save(admin, name="E").code == "Constant3"


def test_a_refused_change_keeps_the_global_as_it_was(admin):
    rate = save(admin, name="Rate", type_="int", value="5")
    with pytest.raises(GlobalRefused):
        global_save(user=admin, kind=CONST, name="", type="int", value="x", instance=rate)
    rate.refresh_from_db()
    assert (rate.name, rate.value) == ("Rate", 5)


# --- who sees which ----------------------------------------------------------------------------


@pytest.fixture
def trips(admin):
    return lists_services.list_create(
        values={"kind": ListKind.PROCESSES, "name": "Trips", "code": "trips"}, user=admin
    )


def test_a_deal_process_sees_every_processs_the_crms_and_the_deals_globals(admin, deal, trips):
    trips_visibility = f"LISTS_IBLOCK_{trips.pk}"
    assert {"GLOBAL", "CRM", "CRM_DEAL", "CRM_LEAD", "LISTS", trips_visibility} <= dict(
        visibility_choices()
    ).keys()
    for code, visibility in [
        ("All", "GLOBAL"),
        ("Crm", "CRM"),
        ("Deals", "CRM_DEAL"),
        ("Leads", "CRM_LEAD"),
        ("Lists", "LISTS"),
        ("Trips", trips_visibility),
    ]:
        save(admin, name=code, code=code, value=code.lower(), visibility=visibility)

    assert list(globals_visible(kind=CONST, document_type=DEAL)) == ["All", "Crm", "Deals"]
    assert list(globals_visible(kind=CONST, document_type=LEAD)) == ["All", "Crm", "Leads"]
    trips_type = document_type_of_list(trips)
    assert list(globals_visible(kind=CONST, document_type=trips_type)) == ["All", "Lists", "Trips"]
    texts = [f"[{{=GlobalConst:{code}}}]" for code in ("All", "Crm", "Deals", "Leads", "Trips")]
    assert reports(admin, deal, *texts) == ["[all]", "[crm]", "[deals]", "[]", "[]"]


# --- where used --------------------------------------------------------------------------------


def test_a_type_does_not_change_while_processes_use_the_global_and_says_where(admin):
    rate = save(admin, name="Rate", type_="string", value="5", code="Rate")
    published(log("{=GlobalConst:Rate}"), user=admin, name="Pricing")
    draft_naming(admin, "{=globalconst:rate > printable}", name="Draft only")

    with pytest.raises(GlobalRefused) as refused:
        global_save(user=admin, kind=CONST, name="Rate", type="int", value="5", instance=rate)
    assert refused.value.errors == {"type": "Processes use this global, so its type cannot change."}
    assert [(u.template.name, u.published, u.blocks) for u in refused.value.usages] == [
        ("Draft only", False, ["Say"]),
        ("Pricing", True, ["Say"]),
    ]
    # Its name and value may change; a type of the same kind of value too.
    changed = global_save(
        user=admin, kind=CONST, name="Rate (%)", type="UF:url", value="7", instance=rate
    )
    assert (changed.name, changed.value) == ("Rate (%)", "7")
    with pytest.raises(GlobalRefused, match="who sees it cannot narrow"):
        global_save(
            user=admin,
            kind=CONST,
            name="Rate",
            type="string",
            value="7",
            visibility="CRM_DEAL",
            instance=rate,
        )


def test_an_unused_global_changes_type_and_is_deleted(admin):
    rate = save(admin, name="Rate", type_="string", value="5", code="Rate")
    published(log("{=GlobalConst:RateOld}"), user=admin)  # another ID, not this one
    changed = global_save(user=admin, kind=CONST, name="Rate", type="int", value="5", instance=rate)
    assert changed.value == 5
    global_delete(user=admin, instance=changed)
    assert not GlobalField.objects.exists()


def test_a_global_in_use_is_not_deleted(admin):
    counter = save(admin, name="Counter", type_="int", value="0", kind=VAR, code="Counter")
    published(
        node("SetGlobalVariableActivity", Title="Count", GlobalVariableValue={"Counter": "1"}),
        user=admin,
        name="Counting",
    )
    with pytest.raises(GlobalRefused) as refused:
        global_delete(user=admin, instance=counter)
    assert refused.value.message == "Processes use this global, so it cannot be deleted."
    assert [(u.template.name, u.blocks) for u in refused.value.usages] == [("Counting", ["Count"])]
    assert GlobalField.objects.filter(pk=counter.pk).exists()


def test_a_templates_own_variable_with_the_same_id_is_no_use_of_a_global_variable(admin):
    save(admin, name="Global", kind=VAR, code="Variable1")
    published(
        node("SetVariableActivity", VariableValue={"Variable1": "x"}),
        user=admin,
        variables={"Variable1": {"Name": "Mine", "Type": "string"}},
    )
    assert global_usages(kind=VAR, code="Variable1") == []
    published(
        node(
            "SetGlobalVariableActivity",
            GlobalVariableValue={"{=GlobalVar:Variable1}": "{=Document:TITLE}"},
        ),
        user=admin,
        name="Bitrix's newer keys",
    )
    assert [u.template.name for u in global_usages(kind=VAR, code="Variable1")] == [
        "Bitrix's newer keys"
    ]


# --- running processes -------------------------------------------------------------------------


def test_a_process_reads_globals_as_values_and_as_a_person_reads_them(admin, deal):
    save(admin, name="Boss", type_="user", value=f"user_{admin.pk}", code="Boss")
    save(
        admin,
        name="Level",
        type_="select",
        options={"low": "Low", "high": "High"},
        value="high",
        code="Level",
    )
    save(admin, name="Limit", type_="int", value="10", kind=VAR, code="Limit")
    assert reports(
        admin,
        deal,
        "{=GlobalConst:Boss}",
        "{=GlobalConst:Boss > printable}",
        "{=GlobalConst:Level} / {=GlobalConst:Level > printable}",
        "{{={=GlobalVar:Limit} * 2}}",
    ) == [f"user_{admin.pk}", "Olga Admin", "high / High", "20"]


def test_a_missing_global_warns_on_publication_and_reads_as_empty(admin, deal):
    template = published(log("[{=GlobalConst:Nowhere}][{=GlobalVar:Gone}]"), user=admin)
    assert template.versions.count() == 1
    warnings = [n["message"] for n in template.notices if n["level"] == "warning"]
    assert warnings == [
        "Action 'Say': There is no global {=GlobalConst:Nowhere} here: it reads as empty until "
        "an administrator defines it.",
        "Action 'Say': There is no global {=GlobalVar:Gone} here: it reads as empty until an "
        "administrator defines it.",
    ]
    instance = workflow_start(template=template, document_id=deal.document_id, user=admin)
    assert notes(instance, REPORT) == ["[][]"]


def test_a_global_another_type_sees_is_missing_for_this_one(admin):
    save(admin, name="Leads only", code="LeadsOnly", visibility="CRM_LEAD", value="x")
    template = published(log("{=GlobalConst:LeadsOnly}"), user=admin)
    assert [n["code"] for n in template.notices] == ["unknown_global"]


# --- .bpt import -------------------------------------------------------------------------------


def bpt(*blocks: dict) -> bytes:
    """A .bpt as Bitrix writes it: its globals are the portal's, none travel in the file."""
    return bpt_write(
        BptContent(
            version=2,
            template=[{**root_node(), "Children": list(blocks)}],
            parameters={},
            variables={},
            constants={},
            document_fields={},
        )
    )


def test_a_bpt_naming_globals_missing_here_imports_published_with_a_warning(admin):
    save(admin, name="Here", code="Here", value="x")
    file = bpt(log("{=GlobalConst:Here} {=GlobalConst:Constant1749129301199}"))
    outcome = services.template_import(data=file, document_type=DEAL, name="Bitrix", user=admin)

    assert outcome.version is not None
    notices = Template.objects.get(pk=outcome.template.pk).notices
    assert [(n["level"], n["message"]) for n in notices] == [
        (
            "warning",
            "Action 'Say': There is no global {=GlobalConst:Constant1749129301199} here: it "
            "reads as empty until an administrator defines it.",
        )
    ]


def test_the_import_warning_speaks_russian(admin):
    with translation.override("ru"):
        outcome = services.template_import(
            data=bpt(log("{=GlobalVar:Variable7}")), document_type=DEAL, name="Bpt", user=admin
        )
    [notice] = Template.objects.get(pk=outcome.template.pk).notices
    message = notice["message"]
    assert message.startswith("Действие 'Say': ") and "{=GlobalVar:Variable7}" in message
    assert "reads as empty" not in message and CYRILLIC.search(message.split(":", 1)[1])
    assert outcome.version is not None
