"""Set global variables (Bitrix's ``SetGlobalVariableActivity``): a process writes company-wide
variables that later processes of other records read; keys and values are checked when the
template is published, a value that does not fit faults the block naming the variable, and a
process may write only the variables its document type sees. A robot too."""

import pytest
from django.utils import translation

from bizproc import scenarios
from bizproc.globals import GlobalRefused, global_save, global_variables_write
from bizproc.models import GlobalField, GlobalKind, InstanceStatus, RunStatus, ScenarioRun
from bizproc.runtime import workflow_start
from bizproc.services import PublishRefused
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import node, notes, published, run_tasks
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

DEAL = DOCUMENT_TYPES["DEAL"]
FAULT, REPORT = 4, 6


@pytest.fixture
def admin():
    return UserFactory(is_superuser=True, full_name="Olga Admin")


@pytest.fixture
def deal(admin):
    return DealFactory(assigned_by=admin, title="Big deal")


@pytest.fixture
def other_deal(admin):
    return DealFactory(assigned_by=admin, title="Other deal")


def variable(admin, code, type_="int", value="0", **extra) -> GlobalField:
    return global_save(
        user=admin, kind=GlobalKind.VARIABLE, name=code, code=code, type=type_, value=value, **extra
    )


def setter(**values) -> dict:
    return node("SetGlobalVariableActivity", Title="Set", GlobalVariableValue=values)


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Say")


def run(template, deal, admin):
    instance = workflow_start(template=template, document_id=deal.document_id, user=admin)
    instance.refresh_from_db()
    return instance


def value_of(code: str):
    return GlobalField.objects.get(code=code).value


def test_a_process_sets_a_global_variable_that_a_process_of_another_record_reads(
    admin, deal, other_deal
):
    variable(admin, "Counter")
    variable(admin, "Owner", type_="user", value="")
    counting = published(
        setter(Counter="{{={=GlobalVar:Counter} + 1}}", Owner="{=Document:ASSIGNED_BY_ID}"),
        log("{=GlobalVar:Counter}"),
        user=admin,
        name="Counting",
    )
    first = run(counting, deal, admin)
    assert first.status == InstanceStatus.COMPLETED
    assert notes(first, REPORT) == ["1"]  # the block after it reads the new value

    reading = published(
        log("{=GlobalVar:Counter} by {=GlobalVar:Owner > printable}"), user=admin, name="Reading"
    )
    assert notes(run(reading, other_deal, admin), REPORT) == ["1 by Olga Admin"]
    assert notes(run(counting, other_deal, admin), REPORT) == ["2"]
    assert value_of("Counter") == 2


def test_bitrix_newer_keys_name_the_variable_as_an_expression(admin, deal):
    variable(admin, "Variable1749129301199", type_="string", value="")
    template = published(
        setter(**{"{=GlobalVar:Variable1749129301199}": "{=Document:TITLE}"}), user=admin
    )
    assert run(template, deal, admin).status == InstanceStatus.COMPLETED
    assert value_of("Variable1749129301199") == "Big deal"


def test_a_value_that_does_not_fit_faults_the_block_naming_the_variable(admin, deal):
    variable(admin, "Limit", value="5")
    variable(admin, "Note", type_="string", value="old")
    template = published(setter(Note="new", Limit="{=Document:TITLE}"), log("after"), user=admin)
    instance = run(template, deal, admin)

    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, FAULT) == [
        "Global variable Limit: The value of field 'Limit' is not an integer."
    ]
    assert notes(instance, REPORT) == []
    # All or nothing: the variable set before the bad one is not written either.
    assert (value_of("Limit"), value_of("Note")) == (5, "old")


def test_a_literal_value_that_does_not_fit_is_refused_at_publication(admin):
    variable(admin, "Limit")
    with pytest.raises(PublishRefused) as refused:
        published(setter(Limit="many"), user=admin)
    assert [p.message for p in refused.value.problems] == [
        "Action 'Set': The value of field 'Limit' is not an integer."
    ]


def test_a_process_cannot_set_a_variable_its_type_does_not_see(admin, deal):
    variable(admin, "LeadsOnly", visibility="CRM_LEAD")
    with pytest.raises(PublishRefused) as refused:
        published(setter(LeadsOnly="1", Unknown="2"), user=admin)
    assert [(p.code, p.message) for p in refused.value.problems] == [
        (
            "unknown",
            "Action 'Set': There is no global variable LeadsOnly for processes of this type.",
        ),
        (
            "unknown",
            "Action 'Set': There is no global variable Unknown for processes of this type.",
        ),
    ]
    with translation.override("ru"), pytest.raises(PublishRefused) as refused:
        published(setter(LeadsOnly="1"), user=admin)
    [problem] = refused.value.problems
    assert "LeadsOnly" in problem.message and "There is no" not in problem.message
    # Nor behind the publication's back: the engine refuses it at run time.
    with pytest.raises(GlobalRefused) as refused_now:
        global_variables_write(document_type=DEAL, values={"LeadsOnly": "1"})
    assert refused_now.value.message == "There is no global variable LeadsOnly."
    assert value_of("LeadsOnly") == 0


def test_set_global_variables_needs_at_least_one_variable(admin):
    with pytest.raises(PublishRefused) as refused:
        published(setter(), user=admin)
    assert [p.message for p in refused.value.problems] == [
        "Action 'Set': The field 'Global variables' is required."
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_smart_scenario_robot_sets_a_global_variable(admin, deal):
    variable(admin, "LastDeal", type_="string", value="")
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DEAL,
        name="Remember the deal",
        parameters={},
        robots=[setter(LastDeal="{=Document:TITLE}")],
    )
    scenarios.scenarios_start(scenario=scenario, document_ids=[deal.pk], user=admin, parameters={})
    run_tasks()
    assert ScenarioRun.objects.get().status == RunStatus.COMPLETED
    assert value_of("LastDeal") == "Big deal"
