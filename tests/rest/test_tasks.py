"""``bizproc.task.list`` and ``bizproc.task.complete``: people list and answer their own tasks
over REST as on their Tasks page; a CRM administrator lists everyone's."""

import pytest

from bizproc.models import InstanceStatus, ProcessTask, TaskStatus
from bizproc.runtime import workflow_start
from tests.bizproc.builders import node, notes, published, run_tasks, sequence
from tests.crm.factories import DealFactory, UserFactory
from tests.rest.test_methods import call, hook

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Olga Boss")


@pytest.fixture
def clerk():
    return UserFactory(full_name="Pavel Clerk")


@pytest.fixture
def started(admin, clerk):
    """A deal process waiting for the clerk's approval."""
    approval = node(
        "ApproveActivity",
        "A_ok",
        children=[
            sequence(node("LogActivity", Text="approved: {=A_ok:Comments}")),
            sequence(node("LogActivity", Text="rejected")),
        ],
        Users=[f"user_{clerk.pk}"],
        Name="Approve {=Document:TITLE}",
    )
    template = published(approval, user=admin, name="Approval")
    deal = DealFactory(title="Big order", assigned_by=admin)
    return workflow_start(template=template, document_id=deal.document_id, user=admin)


def test_a_person_lists_and_completes_their_task(client, admin, clerk, started) -> None:
    task = ProcessTask.objects.get()
    mine = hook(clerk)

    everything = ["ID", "NAME", "WORKFLOW_ID", "STATUS", "USER_STATUS", "WORKFLOW_TEMPLATE_NAME"]
    status, listed = call(client, mine, "bizproc.task.list", {"SELECT": everything})
    assert status == 200, listed
    (row,) = listed["result"]
    assert (row["ID"], row["NAME"], row["WORKFLOW_ID"]) == (
        str(task.pk),
        "Approve Big order",
        started.pk,
    )
    assert (row["STATUS"], row["USER_STATUS"], row["WORKFLOW_TEMPLATE_NAME"]) == (
        "0",
        "0",
        "Approval",
    )

    status, done = call(
        client,
        mine,
        "bizproc.task.complete",
        {"TASK_ID": task.pk, "STATUS": "yes", "COMMENT": "OK"},
    )
    assert (status, done["result"]) == (200, True)
    run_tasks()
    started.refresh_from_db()
    assert started.status == InstanceStatus.COMPLETED
    assert notes(started, 6) == ["approved: Pavel Clerk: OK"]

    status, again = call(client, mine, "bizproc.task.complete", {"TASK_ID": task.pk, "STATUS": 2})
    assert (status, again["error"]) == (400, "ERROR_TASK_COMPLETED")
    status, listed = call(client, mine, "bizproc.task.list", {"FILTER": {"STATUS": 0}})
    assert listed["result"] == []


def test_only_ones_own_tasks_and_answers_that_fit(client, admin, clerk, started) -> None:
    task = ProcessTask.objects.get()
    stranger = hook(UserFactory())

    status, listed = call(client, stranger, "bizproc.task.list")
    assert (status, listed["result"]) == (200, [])
    status, refused = call(client, stranger, "bizproc.task.list", {"FILTER": {"USER_ID": clerk.pk}})
    assert (status, refused["error"]) == (403, "ACCESS_DENIED")
    status, everyone = call(client, hook(admin), "bizproc.task.list", {"SELECT": ["USER_ID"]})
    assert [row["USER_ID"] for row in everyone["result"]] == [str(clerk.pk)]

    for params, error in [
        ({"TASK_ID": task.pk, "STATUS": "yes"}, "ERROR_TASK_NOT_FOUND"),  # not the stranger's
        ({"TASK_ID": "abc", "STATUS": "yes"}, "ERROR_TASK_NOT_FOUND"),
        ({"STATUS": "yes"}, "ERROR_TASK_VALIDATION"),
    ]:
        status, body = call(client, stranger, "bizproc.task.complete", params)
        assert (status, body["error"]) == (400, error), params
    # Bitrix's codes: a STATUS it does not know is a validation error; one it knows that the
    # task does not take is the task's own refusal.
    for answer, error in [
        ("maybe", "ERROR_TASK_VALIDATION"),
        ("", "ERROR_TASK_VALIDATION"),
        ("ok", "ERROR_TASK_EXECUTION"),
        ("3", "ERROR_TASK_EXECUTION"),
        ("cancel", "ERROR_TASK_EXECUTION"),
    ]:
        status, body = call(
            client, hook(clerk), "bizproc.task.complete", {"TASK_ID": task.pk, "STATUS": answer}
        )
        assert (status, body["error"]) == (400, error), answer

    task.refresh_from_db()
    assert task.status == TaskStatus.WAITING
    assert not task.assignees.exclude(answered_at=None).exists()


FIELDS = [
    {"Title": "Amount", "Name": "Amount", "Type": "int", "Required": True, "Multiple": False},
    {
        "Title": "Kind",
        "Name": "Kind",
        "Type": "select",
        "Required": False,
        "Multiple": False,
        "Options": {"air": "By air", "rail": "By rail"},
        "Default": "rail",
        "Description": "How to go",
    },
]


@pytest.fixture
def requested(admin, clerk):
    """A deal process waiting for the clerk to fill in an amount and a kind (declinable)."""
    block = node(
        "RequestInformationOptionalActivity",
        "R_info",
        children=[
            sequence(node("LogActivity", Text="given {=Variable:Amount} {=Variable:Kind}")),
            sequence(node("LogActivity", Text="declined: {=R_info:Comments}")),
        ],
        Users=[f"user_{clerk.pk}"],
        Name="Details of {=Document:TITLE}",
        Description="Fill it in",
        RequestedInformation=FIELDS,
        TaskButtonMessage="Send",
        TaskButtonCancelMessage="No trip",
        CommentLabelMessage="Notes",
        ShowComment="Y",
        OverdueDate="2030-01-31 10:00:00",
    )
    variables = {
        "Amount": {"Name": "Amount", "Type": "int", "Required": "0", "Multiple": "0"},
        "Kind": {
            "Name": "Kind",
            "Type": "select",
            "Required": "0",
            "Multiple": "0",
            "Options": {"air": "By air", "rail": "By rail"},
        },
    }
    template = published(block, user=admin, name="Trip details", variables=variables)
    deal = DealFactory(title="Trip to Kazan", assigned_by=admin)
    instance = workflow_start(template=template, document_id=deal.document_id, user=admin)
    return instance, deal


def test_a_request_for_information_is_listed_in_bitrix_shape(client, clerk, requested) -> None:
    instance, deal = requested
    task = ProcessTask.objects.get()
    mine = hook(clerk)

    status, default = call(client, mine, "bizproc.task.list")
    assert status == 200
    assert default["result"] == [
        {
            "ENTITY": "CCrmDocumentDeal",
            "DOCUMENT_ID": deal.document_id,  # DEAL_<id>
            "ID": str(task.pk),
            "WORKFLOW_ID": instance.pk,
            "DOCUMENT_NAME": "Trip to Kazan",
            "NAME": "Details of Trip to Kazan",
            "DOCUMENT_URL": deal.get_absolute_url(),
        }
    ]

    select = ["ACTIVITY", "ACTIVITY_NAME", "OVERDUE_DATE", "USER_STATUS", "PARAMETERS", "NOPE"]
    status, listed = call(
        client,
        mine,
        "bizproc.task.list",
        {
            "select": select,
            "filter": {"ACTIVITY": "RequestInformationOptionalActivity", "UNKNOWN": 1},
            "order": {"NOPE": "DESC", "ID": "whatever"},
        },
    )
    assert status == 200, listed
    (row,) = listed["result"]
    assert set(row) == {
        "ENTITY",
        "DOCUMENT_ID",
        "ACTIVITY",
        "ACTIVITY_NAME",
        "OVERDUE_DATE",
        "USER_STATUS",
        "PARAMETERS",
        "DOCUMENT_URL",
    }
    assert (row["ACTIVITY"], row["ACTIVITY_NAME"], row["USER_STATUS"]) == (
        "RequestInformationOptionalActivity",
        "R_info",
        "0",
    )
    assert row["OVERDUE_DATE"].startswith("2030-01-31T")
    assert row["PARAMETERS"] == {
        "CommentLabel": "Notes",
        "CommentRequired": "N",
        "ShowComment": "Y",
        "StatusOkLabel": "Send",
        "StatusCancelLabel": "No trip",
        "Fields": [
            {
                "Id": "Amount",
                "Type": "int",
                "Name": "Amount",
                "Description": "",
                "Multiple": False,
                "Required": True,
                "Options": None,
                "Settings": None,
                "Default": "",
            },
            {
                "Id": "Kind",
                "Type": "select",
                "Name": "Kind",
                "Description": "How to go",
                "Multiple": False,
                "Required": False,
                "Options": {"air": "By air", "rail": "By rail"},
                "Settings": None,
                "Default": "rail",
            },
        ],
    }
    status, none = call(client, mine, "bizproc.task.list", {"filter": {"ACTIVITY": "Approve"}})
    assert none["result"] == []


def test_a_request_for_information_is_completed_with_its_fields(client, clerk, requested) -> None:
    instance, _deal = requested
    task = ProcessTask.objects.get()
    mine = hook(clerk)

    for params, error, text in [
        ({"STATUS": 3, "FIELDS": {"Amount": "lots"}}, "ERROR_TASK_EXECUTION", "not an integer"),
        ({"STATUS": 3, "FIELDS": {"Kind": "air"}}, "ERROR_TASK_EXECUTION", "('Amount')"),
        ({"STATUS": 1, "FIELDS": {"Amount": 5}}, "ERROR_TASK_EXECUTION", "No action"),
        ({"STATUS": 3, "FIELDS": "Amount"}, "", "must be array"),
    ]:
        status, body = call(client, mine, "bizproc.task.complete", {"TASK_ID": task.pk} | params)
        assert status == 400 and body["error"] == error, (params, body)
        assert text in body["error_description"], (params, body)
    assert not task.assignees.exclude(answered_at=None).exists()

    status, done = call(
        client,
        mine,
        "bizproc.task.complete",
        {"TASK_ID": task.pk, "STATUS": "ok", "COMMENT": "Here", "FIELDS": {"Amount": "1200"}},
    )
    assert (status, done["result"]) == (200, True)
    run_tasks()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, 6) == ["given 1200 "]  # Kind not given: emptied, as Bitrix does

    status, again = call(client, mine, "bizproc.task.complete", {"TASK_ID": task.pk, "STATUS": 3})
    assert (status, again["error"]) == (400, "ERROR_TASK_COMPLETED")
    status, listed = call(client, mine, "bizproc.task.list", {"select": ["STATUS", "USER_STATUS"]})
    assert [(r["STATUS"], r["USER_STATUS"]) for r in listed["result"]] == [("3", "3")]


def test_a_request_for_information_is_declined_with_cancel(client, clerk, requested) -> None:
    instance, _deal = requested
    task = ProcessTask.objects.get()
    mine = hook(clerk)
    status, done = call(
        client,
        mine,
        "bizproc.task.complete",
        {"TASK_ID": task.pk, "STATUS": "cancel", "COMMENT": "No trip after all"},
    )
    assert (status, done["result"]) == (200, True)
    run_tasks()
    instance.refresh_from_db()
    assert notes(instance, 6) == ["declined: No trip after all"]
    status, listed = call(client, mine, "bizproc.task.list", {"select": ["STATUS", "USER_STATUS"]})
    assert [(r["STATUS"], r["USER_STATUS"]) for r in listed["result"]] == [("5", "4")]
