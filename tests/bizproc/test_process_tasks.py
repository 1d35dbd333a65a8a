"""Tasks for people: the Approve and Review blocks give tasks, people answer them on their
Tasks page, and the answer that settles a task wakes the process — with rights and bad input."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse

from bizproc.models import Instance, InstanceStatus, ProcessTask, TaskStatus
from bizproc.process_tasks import TaskRefused, task_answer, task_decision
from bizproc.runtime import instance_terminate, workflow_start
from tests.bizproc.builders import node, notes, published, rows, run_tasks, sequence
from tests.crm.factories import DealFactory, UserFactory
from tests.html import by_role, html_parse

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CUSTOM, REPORT = 5, 6


@pytest.fixture
def boss():
    return UserFactory(is_crm_admin=True, full_name="Olga Boss")


@pytest.fixture
def deputy():
    return UserFactory(full_name="Pavel Deputy")


@pytest.fixture
def deal(boss):
    return DealFactory(title="Trip to Kazan", assigned_by=boss)


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Report")


def approval(*users, approve_type="any", **properties) -> dict:
    return node(
        "ApproveActivity",
        "A_ok",
        children=[
            sequence(log("approved: {=A_ok:ApprovedCount} of {=A_ok:TotalCount}")),
            sequence(log("rejected: {=A_ok:Rejecters}")),
        ],
        Title="Approval",
        Users=[f"user_{user.pk}" for user in users],
        ApproveType=approve_type,
        Name="Approve {=Document:TITLE}",
        Description="Please look at the trip.",
        TaskButton1Message="Approve the trip",
        TaskButton2Message="Turn it down",
        ShowComment="Y",
        CommentLabelMessage="Why",
        StatusMessage="Waiting for approval",
        SetStatusMessage="Y",
        **properties,
    )


def start(template, deal, user) -> Instance:
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    return instance


def answer(client, user, task, value, comment=""):
    client.force_login(user)
    return client.post(
        reverse("bizproc:task-detail", args=[task.pk]), {"answer": value, "comment": comment}
    )


def test_the_first_answer_decides_and_the_process_takes_the_approved_branch(
    client, boss, deputy, deal
) -> None:
    template = published(approval(boss, deputy), log("after"), user=boss)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()

    assert instance.status == InstanceStatus.RUNNING
    assert instance.state_title == "Waiting for approval"
    client.force_login(deputy)
    profile = client.get(reverse("accounts:profile")).text
    assert "A new task for you: “Approve Trip to Kazan”." in profile
    assert f'href="{reverse("bizproc:task-detail", args=[task.pk])}"' in profile
    tasks_page = client.get(reverse("bizproc:task-list")).text
    assert "Approve Trip to Kazan" in tasks_page
    # The item by its name, linked to its card, never as DEAL_<id>.
    item = by_role(html_parse(tasks_page), "link", str(deal))
    assert item[0].attrs["href"] == deal.get_absolute_url()
    assert deal.document_id not in tasks_page
    navigation_count = '<span class="count" aria-hidden="true">1</span>'
    assert navigation_count in client.get(reverse("bizproc:task-list")).text
    detail = client.get(reverse("bizproc:task-detail", args=[task.pk])).text
    assert "Please look at the trip." in detail
    assert 'value="yes" class="primary">Approve the trip</button>' in detail
    assert '<label for="task-comment">Why</label>' in detail

    client.force_login(boss)  # who may read the deal
    process_page = client.get(reverse("bizproc:instance-detail", args=[instance.pk])).text
    assert "<dt>Waiting for</dt>" in process_page
    assert "waiting for an answer to its task" in process_page
    assert (
        f'<a href="{reverse("bizproc:task-detail", args=[task.pk])}">Approve Trip to Kazan</a>:'
        " Olga Boss, Pavel Deputy"
    ) in process_page

    sent = answer(client, deputy, task, "yes", "Fine by me")
    assert sent.status_code == 302
    run_tasks()

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, REPORT) == ["approved: 1 of 2", "after"]
    assert notes(instance, CUSTOM) == ["Pavel Deputy: Approve the trip. Fine by me"]
    client.force_login(boss)
    process_page = client.get(reverse("bizproc:instance-detail", args=[instance.pk])).text
    assert "<dt>Waiting for</dt>" not in process_page
    late = answer(client, boss, task, "no")
    assert late.status_code == 409
    assert "This task has been completed already." in late.text
    client.force_login(boss)
    assert (
        "Approve Trip to Kazan"
        not in client.get(reverse("bizproc:task-list")).text.split("Done lately")[0]
    )


def test_all_must_approve_and_one_rejection_takes_the_rejected_branch(
    client, boss, deputy, deal
) -> None:
    template = published(approval(boss, deputy, approve_type="all"), user=boss)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()

    answer(client, boss, task, "yes")
    run_tasks()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    answer(client, deputy, task, "no", "Too expensive")
    run_tasks()

    instance.refresh_from_db()
    task.refresh_from_db()
    assert task.status == TaskStatus.NO
    assert notes(instance, REPORT) == ["rejected: Pavel Deputy"]
    assert instance.status == InstanceStatus.COMPLETED


@pytest.mark.parametrize(
    ("approve_type", "percent", "wait_for_all", "answers", "expected"),
    [
        ("any", 50, False, [0, 0, 0], None),
        ("any", 50, False, [2, 0, 0], TaskStatus.NO),
        ("all", 50, False, [1, 1, 0], None),
        ("all", 50, False, [1, 1, 1], TaskStatus.YES),
        ("all", 50, False, [1, 2, 0], TaskStatus.NO),
        ("vote", 50, False, [1, 0, 0], None),  # a third: not yet half
        ("vote", 50, False, [1, 1, 0], TaskStatus.YES),  # two thirds
        ("vote", 50, False, [2, 2, 0], TaskStatus.NO),  # half can no longer be reached
        ("vote", 50, True, [1, 1, 0], None),  # waits for every vote
        ("vote", 50, True, [1, 1, 2], TaskStatus.YES),
        ("vote", 100, False, [1, 1, 2], TaskStatus.NO),
    ],
)
def test_how_answers_settle_an_approval(approve_type, percent, wait_for_all, answers, expected):
    task = ProcessTask(
        kind="approve", approve_type=approve_type, min_percent=percent, wait_for_all=wait_for_all
    )
    assert task_decision(task, answers) == expected


@pytest.mark.parametrize(
    ("approve_type", "answers", "expected"),
    [
        ("any", [0, 0], None),
        ("any", [3, 0], TaskStatus.OK),
        ("all", [3, 0], None),
        ("all", [3, 3], TaskStatus.OK),
    ],
)
def test_how_answers_settle_a_review(approve_type, answers, expected):
    task = ProcessTask(kind="review", approve_type=approve_type)
    assert task_decision(task, answers) == expected


def test_a_review_goes_on_once_reviewed(client, boss, deputy, deal) -> None:
    review = node(
        "ReviewActivity",
        "A_seen",
        Title="Review",
        Users=[f"user_{deputy.pk}"],
        Name="Read about {=Document:TITLE}",
        TaskButtonMessage="I have read it",
    )
    template = published(review, log("read by {=A_seen:ReviewedCount}"), user=boss)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()

    client.force_login(deputy)
    detail = client.get(reverse("bizproc:task-detail", args=[task.pk])).text
    assert ">I have read it</button>" in detail
    assert 'value="no"' not in detail
    answer(client, deputy, task, "yes")
    run_tasks()

    instance.refresh_from_db()
    assert notes(instance, REPORT) == ["read by 1"]
    assert ProcessTask.objects.get().status == TaskStatus.OK
    assert "Done" in client.get(reverse("bizproc:task-list")).text


def test_an_unanswered_task_past_its_time_limit_counts_as_rejected(client, boss, deal) -> None:
    template = published(approval(boss, TimeoutDuration="1", TimeoutDurationType="s"), user=boss)
    instance = start(template, deal, boss)
    client.force_login(boss)
    process_page = client.get(reverse("bizproc:instance-detail", args=[instance.pk])).text
    assert "waiting for an answer to its task, until " in process_page
    run_tasks()

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, REPORT) == ["rejected: "]
    assert ProcessTask.objects.get().status == TaskStatus.TIMEOUT


def test_only_the_tasks_people_see_and_answer_it(client, boss, deputy, deal) -> None:
    template = published(approval(deputy), user=boss)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()
    stranger = UserFactory(is_crm_admin=True)

    client.force_login(stranger)
    assert client.get(reverse("bizproc:task-detail", args=[task.pk])).status_code == 404
    assert answer(client, stranger, task, "yes").status_code == 404
    assert "Approve Trip to Kazan" not in client.get(reverse("bizproc:task-list")).text
    client.logout()
    assert client.get(reverse("bizproc:task-detail", args=[task.pk])).status_code == 302

    task.refresh_from_db()
    instance.refresh_from_db()
    assert (task.status, instance.status) == (TaskStatus.WAITING, InstanceStatus.RUNNING)


def test_bad_answers_are_refused_and_change_nothing(client, boss, deal) -> None:
    template = published(approval(boss), user=boss)
    start(template, deal, boss)
    task = ProcessTask.objects.get()

    for data in (
        {"answer": "maybe"},
        {},
        {"answer": "yes", "comment": "x" * 5001},
        {"answer": "yes", "comment": "a\x00b"},  # PostgreSQL cannot keep it
    ):
        client.force_login(boss)
        refused = client.post(reverse("bizproc:task-detail", args=[task.pk]), data)
        assert refused.status_code == 422, data
        assert 'role="alert"' in refused.text
    task.refresh_from_db()
    assert task.status == TaskStatus.WAITING
    assert not task.assignees.exclude(answered_at=None).exists()


def test_a_stopped_process_takes_its_open_tasks_back(client, boss, deal) -> None:
    template = published(approval(boss), user=boss)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()

    instance_terminate(instance=instance, user=boss)

    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELED
    refused = answer(client, boss, task, "yes")
    assert refused.status_code == 409
    assert (
        "Approve Trip to Kazan"
        not in client.get(reverse("bizproc:task-list")).text.split("Done lately")[0]
    )


def test_a_task_for_no_one_faults_the_process(boss, deal) -> None:
    gone = UserFactory()
    template = published(approval(gone), user=boss)
    gone.is_active = False  # left the company after the template was published
    gone.save(update_fields=["is_active"])
    instance = start(template, deal, boss)

    assert instance.status == InstanceStatus.TERMINATED
    assert "The task has no one to do it." in [note for _t, _title, note in rows(instance)]
    assert not ProcessTask.objects.exists()


def test_a_russian_user_answers_in_russian(client, boss, deal) -> None:
    boss.language = "ru"
    boss.save(update_fields=["language"])
    template = published(approval(boss), user=boss)
    start(template, deal, boss)

    client.force_login(boss)
    page = client.get(reverse("bizproc:task-list")).text
    assert "<h1>Задания</h1>" in page
    assert "Ждут вашего ответа" in page
    profile = client.get(reverse("accounts:profile")).text
    assert "Новое задание для вас: «Approve Trip to Kazan»." in profile


def test_a_vote_percent_outside_1_to_100_is_not_published(boss) -> None:
    from bizproc.services import PublishRefused

    for percent in ("0", "-5", "150"):
        with pytest.raises(PublishRefused) as refused:
            published(approval(boss, approve_type="vote", ApproveMinPercent=percent), user=boss)
        messages = [problem.message for problem in refused.value.problems]
        assert "Action 'Approval': The percent must be from 1 to 100." in messages, percent


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
def test_an_answer_and_a_stop_at_the_same_moment_do_not_deadlock(boss, deal) -> None:
    """The stop holds the process's row when the answer comes: the answer waits for it without
    holding the task (the other order deadlocked), then finds the task taken back."""
    template = published(approval(boss), user=boss)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()
    stop_holds_the_process, answer_waits = threading.Event(), threading.Event()
    failures: dict[str, Exception] = {}

    def stop() -> None:
        try:
            with transaction.atomic():
                locked = Instance.objects.select_for_update().get(pk=instance.pk)
                stop_holds_the_process.set()
                assert answer_waits.wait(10)
                instance_terminate(instance=locked, user=boss)
        except Exception as error:
            failures["stop"] = error
        finally:
            connections.close_all()

    def answer_now() -> None:
        assert stop_holds_the_process.wait(10)
        try:
            task_answer(task=task, user=boss, approve=True)
        except Exception as error:
            failures["answer"] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=stop), threading.Thread(target=answer_now)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while not waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.01)
    answer_waits.set()
    for thread in threads:
        thread.join(20)

    assert "stop" not in failures, failures
    assert isinstance(failures.get("answer"), TaskRefused), failures
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELED
