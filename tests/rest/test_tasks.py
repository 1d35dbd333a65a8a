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

    status, listed = call(client, mine, "bizproc.task.list", {"SELECT": ["*"]})
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
    ]:
        status, body = call(client, stranger, "bizproc.task.complete", params)
        assert (status, body["error"]) == (400, error), params
    for answer in ("ok", "3", "maybe", ""):
        status, body = call(
            client, hook(clerk), "bizproc.task.complete", {"TASK_ID": task.pk, "STATUS": answer}
        )
        assert (status, body["error"]) == (400, "ERROR_TASK_STATUS"), answer

    task.refresh_from_db()
    assert task.status == TaskStatus.WAITING
    assert not task.assignees.exclude(answered_at=None).exists()
