"""The demo's process lists (``demo_lists``, run by ``bin/run`` after ``demo_data``): a leave
request and an expense report whose published processes take a request from submitting to
done — approved by the approver it names, by the director too when it is long or large, marked
approved or rejected, and its author told."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Notification
from bizproc.models import Instance, InstanceStatus, ProcessTask, Template
from bizproc.process_tasks import task_answer
from crm.demo import demo_users_create
from lists import services
from lists.demo import EXPENSE_CODE, LEAVE_CODE
from lists.models import Element, List
from lists.permissions import can_add, can_design, can_read
from tests.bizproc.builders import run_tasks
from tests.crm.factories import UserFactory

# The worker runs the processes: it commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def people(settings, tmp_path):
    settings.DEMO_CREDENTIALS_FILE = tmp_path / "credentials.json"
    return demo_users_create()


def demo_lists() -> str:
    out = StringIO()
    call_command("demo_lists", stdout=out)
    return out.getvalue()


def answer(task, user, approve, commit) -> None:
    with commit(execute=True):
        task_answer(task=task, user=user, approve=approve)
    run_tasks()


def status_of(element: Element) -> str:
    from bizproc.documents import document_providers

    return document_providers.get("lists").read(element.document_id)["PROPERTY_STATUS"]


def test_the_demo_lists_load_once(people):
    assert "Leave request, Expense report" in demo_lists()
    counts = (List.objects.count(), Template.objects.count(), Element.objects.count())
    assert "loaded already" in demo_lists()
    assert (List.objects.count(), Template.objects.count(), Element.objects.count()) == counts
    leave = List.objects.get(code=LEAVE_CODE)
    assert "Заявление на отпуск" in leave.description
    assert "Авансовый отчёт" in List.objects.get(code=EXPENSE_CODE).description
    for list_ in List.objects.all():
        template = Template.objects.get(document_type=f"iblock_{list_.pk}")
        assert template.latest_version is not None and template.auto_execute == 1


def test_the_demo_lists_need_the_demo_people(db):
    with pytest.raises(SystemExit):
        call_command("demo_lists", stdout=StringIO(), stderr=StringIO())
    assert not List.objects.exists()


def test_the_demo_rights_everyone_submits_the_manager_reads_mark_designs(people):
    demo_lists()
    newcomer = UserFactory(full_name="Nina Newcomer")
    leave = List.objects.get(code=LEAVE_CODE)
    sample = Element.objects.get(list=leave)  # Anna's
    assert can_add(newcomer, leave) and not can_read(newcomer, sample)
    assert can_read(people["helen"], sample) and can_read(people["anna"], sample)
    assert can_design(people["mark"], leave) and not can_design(people["helen"], leave)


def test_the_samples_wait_for_the_manager_and_are_approved(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        demo_lists()
    run_tasks()
    anna_leave = Element.objects.get(list__code=LEAVE_CODE)
    waiting = ProcessTask.objects.get(document_id=anna_leave.document_id)
    assert list(waiting.assignees.values_list("user__username", flat=True)) == ["helen"]
    boris_report = Element.objects.get(list__code=EXPENSE_CODE)
    assert status_of(boris_report) == "approved"
    assert Instance.objects.get(document_id=boris_report.document_id).state_title == "Approved"


@pytest.mark.parametrize(
    ("days", "director_says", "expected"),
    [(5, None, "approved"), (12, True, "approved"), (12, False, "rejected")],
)
def test_a_newcomer_submits_a_leave_request_and_sees_it_done(
    people, days, director_says, expected, django_capture_on_commit_callbacks
):
    demo_lists()
    newcomer = UserFactory(full_name="Nina Newcomer")
    today = datetime.date(2027, 3, 1)
    request = services.element_create(
        list_=List.objects.get(code=LEAVE_CODE),
        values={
            "NAME": "Spring break",
            "PROPERTY_DATE_FROM": today,
            "PROPERTY_DATE_TO": today + datetime.timedelta(days=days),
            "PROPERTY_DAYS": days,
        },
        user=newcomer,
    )
    instance = Instance.objects.get(document_id=request.document_id)
    assert instance.state_title == "Waiting: approver's approval"
    task = ProcessTask.objects.get(document_id=request.document_id)
    assert str(task) == "Leave request: Spring break"
    assert "Nina Newcomer asks for" in task.description
    answer(task, people["helen"], True, django_capture_on_commit_callbacks)
    if director_says is not None:
        second = ProcessTask.objects.exclude(pk=task.pk).get(document_id=request.document_id)
        assert list(second.assignees.values_list("user__username", flat=True)) == ["admin"]
        answer(second, people["admin"], director_says, django_capture_on_commit_callbacks)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert status_of(request) == expected
    assert instance.state_title == expected.capitalize()
    (notice,) = Notification.objects.filter(user=newcomer)
    assert notice.text == f"Your leave request “Spring break” is {expected.capitalize()}."


def test_a_large_expense_report_goes_to_the_director(people, django_capture_on_commit_callbacks):
    demo_lists()
    newcomer = UserFactory(full_name="Nina Newcomer")
    report = services.element_create(
        list_=List.objects.get(code=EXPENSE_CODE),
        values={
            "NAME": "Conference",
            "PROPERTY_AMOUNT": "60000|RUB",
            "PROPERTY_PURPOSE": "Tickets and fees",
        },
        user=newcomer,
    )
    task = ProcessTask.objects.get(document_id=report.document_id)
    assert "60000.00 RUB" in task.description and "Travel" in task.description
    answer(task, people["helen"], True, django_capture_on_commit_callbacks)
    second = ProcessTask.objects.exclude(pk=task.pk).get(document_id=report.document_id)
    answer(second, people["admin"], True, django_capture_on_commit_callbacks)
    assert status_of(report) == "approved"
    assert Notification.objects.get(user=newcomer).text == (
        "Your expense report “Conference” is Approved."
    )
