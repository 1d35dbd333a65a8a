"""A step's time budget and a process's stored size: real processes, their journal read back."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from bizproc.jsonfield import json_dumps
from bizproc.models import Instance, InstanceStatus
from bizproc.runtime import ProcessRefused, workflow_start
from crm import services as crm_services
from tests.bizproc.builders import field, node, notes, published, rows, run_tasks, sequence
from tests.crm.factories import PASSWORD, DealFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REPORT, ERROR, FAULT = 6, 9, 4
# A turn that takes a few milliseconds: upper-casing a long comment, four times.
HEAVY = "{{=strlen(" + " & ".join(["strtoupper({=Document:COMMENTS})"] * 2) + ")}}"


@pytest.fixture
def user():
    return UserFactory(is_crm_admin=True, full_name="Ivan Petrov")


@pytest.fixture
def deal(user):
    return DealFactory(title="Big deal", stage="NEW", assigned_by=user, comments="a" * 250_000)


@pytest.fixture
def one_second(settings):
    settings.BIZPROC_STEP_TIME_LIMIT_SECONDS = 1
    # Thousands of heavy turns: seconds of work past the budget, yet bounded without it.
    settings.BIZPROC_LOOP_LIMIT = 10_000


def heavy_loop() -> dict:
    body = [node("SetVariableActivity", VariableValue={"N": HEAVY}) for _ in range(2)]
    return node(
        "WhileActivity",
        children=[sequence(*body)],
        fieldcondition=[["STAGE_ID", "=", "NEW"]],
        Title="Forever",
    )


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Log")


def test_a_step_over_its_time_budget_stops_the_process_and_earlier_steps_stay(
    user, deal, one_second
) -> None:
    template = published(
        node("SetFieldActivity", FieldValue={"TITLE": "Checked"}, Title="Mark"),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s"),
        heavy_loop(),
        log("never"),
        user=user,
        variables={"N": field("int", default="0")},
    )
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    assert instance.status == InstanceStatus.RUNNING

    run_tasks()  # the worker's step: the loop

    instance.refresh_from_db()
    assert notes(instance, ERROR) == ["The step took longer than 1 second and was stopped."]
    assert notes(instance, REPORT) == []
    assert instance.status == InstanceStatus.TERMINATED
    assert instance.state_title == "Terminated"
    deal.refresh_from_db()
    assert deal.title == "Checked"  # the first step's write was committed and stays


def test_a_start_from_a_request_returns_within_the_budget_and_the_database_is_writable(
    user, deal, one_second, client
) -> None:
    template = published(heavy_loop(), user=user, variables={"N": field("int", default="0")})
    client.force_login(user)
    url = reverse(
        "bizproc:process-start",
        kwargs={"document_id": deal.document_id, "template_pk": template.pk},
    )

    started = time.monotonic()
    response = client.post(url)
    elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert elapsed < 2, elapsed
    instance = Instance.objects.get(template=template)
    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, ERROR) == ["The step took longer than 1 second and was stopped."]

    # Another connection writes at once: a person logs in (session row, last login).
    outcome: list[int] = []

    def log_in() -> None:
        try:
            response = Client().post(
                reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
            )
            outcome.append(response.status_code)
        finally:
            connection.close()

    other = threading.Thread(target=log_in)
    other.start()
    other.join(timeout=10)
    assert outcome == [302]


def test_processes_a_new_record_starts_share_one_budget(user, one_second) -> None:
    """They run in the transaction of the write that created the record."""
    for name in ("First", "Second", "Third"):
        published(
            heavy_loop(),
            user=user,
            variables={"N": field("int", default="0")},
            auto_execute=1,
            name=name,
        )

    started = time.monotonic()
    deal = crm_services.record_create(
        entity_type="DEAL", values={"TITLE": "Fresh", "COMMENTS": "a" * 250_000}, user=user
    )
    elapsed = time.monotonic() - started

    assert elapsed < 3, elapsed
    first, *others = Instance.objects.filter(document_id=deal.document_id).order_by("started_at")
    assert len(others) == 2
    for instance in (first, *others):
        assert instance.status == InstanceStatus.TERMINATED
        assert notes(instance, ERROR) == ["The step took longer than 1 second and was stopped."]
    assert first.variables["N"] > 0
    for instance in others:  # stopped before their first block
        assert instance.variables == {"N": 0}
        assert [row_type for row_type, _title, _note in rows(instance)] == [ERROR]


def test_a_child_process_started_in_a_step_stops_within_the_same_budget(
    user, deal, one_second
) -> None:
    child = published(
        heavy_loop(), user=user, variables={"N": field("int", default="0")}, name="Child"
    )
    parent = published(
        node(
            "StartWorkflowActivity",
            DocumentId="{=Document:ID}",
            TemplateId=str(child.pk),
            UseSubscription="Y",
        ),
        log("after the child"),
        user=user,
        name="Parent",
    )

    started = time.monotonic()
    instance = workflow_start(template=parent, document_id=deal.document_id, user=user)
    elapsed = time.monotonic() - started

    assert elapsed < 3, elapsed
    instance.refresh_from_db()
    spawned = Instance.objects.get(parent=instance)
    for stopped in (spawned, instance):
        assert stopped.status == InstanceStatus.TERMINATED
        assert notes(stopped, ERROR) == ["The step took longer than 1 second and was stopped."]
    assert notes(instance, REPORT) == []


def test_a_step_whose_state_would_pass_the_limit_stops_and_stores_nothing_oversized(
    user, settings
) -> None:
    settings.BIZPROC_STATE_LIMIT_BYTES = 50_000
    deal = DealFactory(title="Big deal", assigned_by=user, comments="c" * 60_000)
    template = published(
        node("SetVariableActivity", VariableValue={"Note": "short"}, Title="Small"),
        node("SetFieldActivity", FieldValue={"TITLE": "Checked"}, Title="Mark"),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s"),
        node("SetVariableActivity", VariableValue={"Note": "{=Document:COMMENTS}"}, Title="Copy"),
        user=user,
        variables={"Note": field("text")},
    )
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    assert instance.status == InstanceStatus.RUNNING

    run_tasks()

    instance.refresh_from_db()
    assert notes(instance, ERROR) == [
        "The process's variables and state would take more than 48.8\xa0KB, so the process "
        "was stopped; its variables keep the values they had before this step."
    ]
    assert instance.status == InstanceStatus.TERMINATED
    assert instance.variables == {"Note": "short"}
    stored = json_dumps(instance.parameters) + json_dumps(instance.variables)
    assert len(stored + json_dumps(instance.state)) < 50_000
    deal.refresh_from_db()
    assert deal.title == "Checked"


def test_start_parameters_past_the_state_limit_are_refused_and_nothing_starts(
    user, deal, settings
) -> None:
    settings.BIZPROC_STATE_LIMIT_BYTES = 50_000
    template = published(
        log("{=Template:Note}"), user=user, parameters={"Note": field("text", "Note")}
    )
    with pytest.raises(ProcessRefused) as refused:
        workflow_start(
            template=template,
            document_id=deal.document_id,
            user=user,
            parameters={"Note": "n" * 60_000},
        )
    assert refused.value.message == "The start parameters would take more than 48.8\xa0KB."
    assert not Instance.objects.filter(template=template).exists()


def test_a_list_too_long_to_show_stops_its_block_with_a_clear_message(user, settings) -> None:
    settings.BIZPROC_STATE_LIMIT_BYTES = 0  # the list itself may be kept
    deal = DealFactory(title="Big deal", assigned_by=user, comments="c" * 400_000)
    template = published(
        node("SetVariableActivity", VariableValue={"Copies": ["{=Document:COMMENTS}"] * 3}),
        log("{=Variable:Copies}"),
        log("never"),
        user=user,
        variables={"Copies": field("text", multiple=True)},
    )
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    assert notes(instance, FAULT) == ["The text is too long: at most 1000000 characters"]
    assert notes(instance, REPORT) == []
    assert instance.status == InstanceStatus.TERMINATED


def test_zero_turns_both_limits_off(user, settings) -> None:
    settings.BIZPROC_STEP_TIME_LIMIT_SECONDS = 0
    settings.BIZPROC_STATE_LIMIT_BYTES = 0
    settings.BIZPROC_LOOP_LIMIT = 3
    deal = DealFactory(title="Big deal", stage="NEW", assigned_by=user, comments="c" * 60_000)
    template = published(
        node("SetVariableActivity", VariableValue={"Note": "{=Document:COMMENTS}"}),
        heavy_loop(),
        user=user,
        variables={"Note": field("text"), "N": field("int", default="0")},
    )
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    assert notes(instance, ERROR) == ["The loop stopped after 3 turns: its iteration budget."]
    assert instance.variables["Note"] == "c" * 60_000


def test_a_file_value_is_a_reference_to_a_stored_file_never_its_content(user, deal) -> None:
    template = published(
        log("{=Template:Contract}"), user=user, parameters={"Contract": field("file", "Contract")}
    )
    # A file's content in base64, as Bitrix's REST clients send it.
    with pytest.raises(ProcessRefused) as refused:
        workflow_start(
            template=template,
            document_id=deal.document_id,
            user=user,
            parameters={"Contract": "JVBERi0xLjQK" * 1000},
        )
    assert refused.value.message == "The value of field 'Contract' must be the ID of a stored file."
    assert not Instance.objects.filter(template=template).exists()

    instance = workflow_start(
        template=template, document_id=deal.document_id, user=user, parameters={"Contract": "42"}
    )
    assert instance.parameters == {"Contract": 42}
    assert notes(instance, REPORT) == ["42"]
