"""Processes on list elements: a list's template starts when an employee adds an element, reads
its properties (``{=Document:PROPERTY_…}``), asks for approval, writes the element back with
Modify document and notifies its author; the element's processes, journal and live pages
follow the element's rights; designing needs the list's "design" right; either Bitrix entity
name names the list; a list template goes through a ``.bpt`` file and back."""

import datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Notification
from bizproc import bpt
from bizproc.documents import DocumentType, Operation, document_providers
from bizproc.models import AutoExecute, Instance, InstanceStatus, ProcessTask, Template
from bizproc.process_tasks import task_answer
from bizproc.runtime import ProcessRefused, workflow_start
from bizproc.services import (
    EditRefused,
    template_create,
    template_export_bpt,
    template_import_bpt,
)
from lists import permissions
from lists import services as lists
from lists.documents import document_type_of_list
from lists.models import Element, ListKind
from tests.bizproc.builders import branch, node, notes, published, rows, run_tasks, sequence
from tests.crm.factories import UserFactory

pytestmark = pytest.mark.django_db

REPORT, CUSTOM = 6, 5
OTHER_ENTITY = {
    "BizprocDocument": "Bitrix\\Lists\\BizprocDocumentLists",
    "Bitrix\\Lists\\BizprocDocumentLists": "BizprocDocument",
}


@pytest.fixture
def admin():
    return UserFactory(is_superuser=True, full_name="Irina Admin")


@pytest.fixture
def boss():
    return UserFactory(full_name="Helen Boss")


@pytest.fixture
def employee():
    return UserFactory(full_name="Anna Employee")


@pytest.fixture
def designer():
    return UserFactory(full_name="Mark Designer")


@pytest.fixture
def leave(admin, boss, designer):
    """A process list: everyone adds, the boss reads and edits every request, Mark designs."""
    list_ = lists.list_create(
        values={
            "kind": ListKind.PROCESSES,
            "name": "Leave request",
            "code": "leave_test",
            "access": {
                "add": ["AU"],
                "read": [f"U{boss.pk}"],
                "edit": [f"U{boss.pk}"],
                "design": [f"U{designer.pk}"],
            },
        },
        user=admin,
    )
    for values in (
        {"code": "DAYS", "name": "Days", "type": "N"},
        {"code": "FROM", "name": "From", "type": "S:Date"},
        {"code": "APPROVER", "name": "Approver", "type": "S:employee"},
        {
            "code": "KIND",
            "name": "Kind",
            "type": "L",
            "options": [
                {"value": "Vacation", "xml_id": "vacation"},
                {"value": "Sick leave", "xml_id": "sick"},
            ],
        },
        {
            "code": "STATUS",
            "name": "Status",
            "type": "L",
            "options": [
                {"value": "Approved", "xml_id": "approved"},
                {"value": "Rejected", "xml_id": "rejected"},
            ],
        },
    ):
        lists.listfield_create(list_=list_, values=values, user=admin)
    return list_


def submit(list_, user, **values) -> Element:
    return lists.element_create(
        list_=list_,
        values={"NAME": "My leave", "PROPERTY_DAYS": 5, "PROPERTY_KIND": "vacation", **values},
        user=user,
    )


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Report")


def on_add(list_, *blocks, user, name="Leave approval") -> Template:
    return published(
        *blocks,
        user=user,
        document_type=document_type_of_list(list_),
        auto_execute=AutoExecute.CREATE,
        name=name,
    )


def answer(task, user, *, approve: bool, commit) -> None:
    """Answers as the Tasks page does; the process wakes once the answer is committed."""
    with commit(execute=True):
        task_answer(task=task, user=user, approve=approve)
    run_tasks()


def instance_of(element: Element) -> Instance:
    return Instance.objects.get(document_id=element.document_id)


# --- running ----------------------------------------------------------------------------------


def test_a_template_starts_on_add_and_reads_the_elements_properties(leave, admin, employee):
    on_add(
        leave,
        log(
            "{=Document:NAME}: {=Document:PROPERTY_DAYS} days of "
            "{=Document:PROPERTY_KIND_printable} ({=Document:PROPERTY_KIND}) "
            "from {=Document:PROPERTY_FROM} by {=Document:CREATED_BY > printable}"
        ),
        user=admin,
    )
    element = submit(leave, employee, PROPERTY_FROM=datetime.date(2027, 7, 1))
    instance = instance_of(element)
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.document_type == f"iblock_{leave.pk}"
    (note,) = notes(instance, REPORT)
    assert note.startswith("My leave: 5 days of Vacation (vacation) from ")
    assert note.endswith("by Anna Employee")


def test_a_manual_template_does_not_start_on_add_and_a_change_template_starts_on_change(
    leave, admin, employee
):
    published(log("manual"), user=admin, document_type=document_type_of_list(leave))
    published(
        log("changed: {=Document:PROPERTY_DAYS}"),
        user=admin,
        document_type=document_type_of_list(leave),
        auto_execute=AutoExecute.EDIT,
    )
    element = submit(leave, employee)
    assert not Instance.objects.filter(document_id=element.document_id).exists()
    lists.element_update(element=element, values={"PROPERTY_DAYS": 7}, user=employee)
    assert notes(instance_of(element), REPORT) == ["changed: 7"]


def test_modify_document_writes_the_element_without_starting_change_processes(
    leave, admin, employee
):
    on_add(
        leave,
        node(
            "SetFieldActivity",
            FieldValue={
                "PROPERTY_STATUS": "approved",
                "PROPERTY_DAYS": "{=Document:PROPERTY_DAYS}1",
            },
            Title="Approve",
        ),
        log("{=Document:PROPERTY_STATUS_printable}, {=Document:PROPERTY_DAYS} days"),
        user=admin,
    )
    published(
        log("should not run"),
        user=admin,
        document_type=document_type_of_list(leave),
        auto_execute=AutoExecute.EDIT,
        name="On change",
    )
    element = submit(leave, employee, PROPERTY_DAYS=3)
    element.refresh_from_db()
    values = document_providers.get("lists").read(element.document_id)
    assert values["PROPERTY_STATUS"] == "approved"
    assert values["PROPERTY_DAYS"] == 31
    assert element.modified_by_id == employee.pk  # the process's starter
    assert notes(instance_of(element), REPORT) == ["Approved, 31 days"]
    assert Instance.objects.filter(document_id=element.document_id).count() == 1


def test_a_bad_value_written_by_modify_document_faults_the_process_and_changes_nothing(
    leave, admin, employee
):
    on_add(
        leave,
        node("SetFieldActivity", FieldValue={"PROPERTY_STATUS": "{=Document:NAME}"}, Title="Set"),
        user=admin,
    )
    element = submit(leave, employee)
    instance = instance_of(element)
    assert instance.status == InstanceStatus.TERMINATED
    assert "Status" in instance.error
    assert document_providers.get("lists").read(element.document_id)["PROPERTY_STATUS"] is None


def status(value: str, title: str) -> dict:
    return node("SetFieldActivity", FieldValue={"PROPERTY_STATUS": value}, Title=title)


def approval_template(list_, user) -> Template:
    """The approver named in the request approves; a leave of more than 10 days goes to a
    second approver; the request is marked approved or rejected and its author is told."""
    second = node(
        "ApproveActivity",
        "A_second",
        children=[
            sequence(status("approved", "Approved by the second")),
            sequence(status("rejected", "Rejected by the second")),
        ],
        Title="Second approval",
        Users=[f"user_{user.pk}"],
        ApproveType="any",
        Name="Long leave: {=Document:NAME}",
        TaskButton1Message="Approve",
        TaskButton2Message="Reject",
    )
    return on_add(
        list_,
        node(
            "ApproveActivity",
            "A_ok",
            children=[
                sequence(
                    node(
                        "IfElseActivity",
                        children=[
                            branch(
                                {"fieldcondition": [["PROPERTY_DAYS", ">", "10"]]},
                                second,
                                title="Long",
                            ),
                            branch({"truecondition": "1"}, status("approved", "Ok"), title="Short"),
                        ],
                        Title="Long leave?",
                    ),
                ),
                sequence(status("rejected", "No")),
            ],
            Title="Approval",
            Users=["{=Document:PROPERTY_APPROVER}"],
            ApproveType="any",
            Name="Leave: {=Document:NAME}",
            Description="{=Document:CREATED_BY > printable} asks for "
            "{=Document:PROPERTY_DAYS} days.",
            TaskButton1Message="Approve",
            TaskButton2Message="Reject",
            StatusMessage="Waiting for approval",
            SetStatusMessage="Y",
        ),
        node(
            "IMNotifyActivity",
            MessageUserTo=["{=Document:CREATED_BY}"],
            MessageSite="Your request “{=Document:NAME}” is {=Document:PROPERTY_STATUS_printable}.",
            Title="Tell the author",
        ),
        user=user,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_approval_through_the_task_service_completes_the_request(
    leave, admin, boss, employee, django_capture_on_commit_callbacks
):
    approval_template(leave, admin)
    element = submit(leave, employee, PROPERTY_APPROVER=f"user_{boss.pk}")
    instance = instance_of(element)
    assert instance.state_title == "Waiting for approval"
    task = ProcessTask.objects.get(instance=instance)
    assert list(task.assignees.values_list("user_id", flat=True)) == [boss.pk]
    assert str(task) == "Leave: My leave"

    answer(task, boss, approve=True, commit=django_capture_on_commit_callbacks)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert document_providers.get("lists").read(element.document_id)["PROPERTY_STATUS"] == (
        "approved"
    )
    notice = Notification.objects.get(user=employee)
    assert notice.text == "Your request “My leave” is Approved."
    titles = [title for _type, title, _note in rows(instance)]
    assert "Approval" in titles and "Tell the author" in titles
    assert "Second approval" not in titles


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_long_leave_needs_a_second_approval_and_a_rejection_marks_it_rejected(
    leave, admin, boss, employee, django_capture_on_commit_callbacks
):
    approval_template(leave, admin)
    element = submit(leave, employee, PROPERTY_APPROVER=f"user_{boss.pk}", PROPERTY_DAYS=14)
    answer(ProcessTask.objects.get(), boss, approve=True, commit=django_capture_on_commit_callbacks)
    second = ProcessTask.objects.exclude(assignees__user=boss).get()
    assert str(second) == "Long leave: My leave"
    answer(second, admin, approve=False, commit=django_capture_on_commit_callbacks)
    instance = instance_of(element)
    assert instance.status == InstanceStatus.COMPLETED
    assert document_providers.get("lists").read(element.document_id)["PROPERTY_STATUS"] == (
        "rejected"
    )
    assert Notification.objects.get(user=employee).text == "Your request “My leave” is Rejected."


# --- either entity name -----------------------------------------------------------------------


def test_either_entity_name_names_the_lists_canonical_type(leave, admin, employee):
    canonical = document_type_of_list(leave)
    assert canonical.entity == "BizprocDocument"  # a process list
    other = DocumentType("lists", OTHER_ENTITY[canonical.entity], canonical.type)
    template = template_create(document_type=other, name="By the other name", user=admin)
    assert template.document_type_triple == canonical
    provider = document_providers.get("lists")
    assert provider.resolve_type(other.entity, other.type) == canonical
    assert provider.resolve_type("CCrmDocumentDeal", canonical.type) is None
    with pytest.raises(EditRefused):
        template_create(
            document_type=DocumentType("lists", "BizprocDocument", "iblock_999999"),
            name="Nowhere",
            user=admin,
        )


def test_a_list_template_refuses_a_crm_record_and_another_lists_element(leave, admin, employee):
    from tests.crm.factories import DealFactory

    template = published(log("hi"), user=admin, document_type=document_type_of_list(leave))
    other = lists.list_create(
        values={"kind": ListKind.LISTS, "name": "Other", "code": "other_list"}, user=admin
    )
    stranger = lists.element_create(list_=other, values={"NAME": "x"}, user=admin)
    for document_id in (DealFactory().document_id, stranger.document_id):
        with pytest.raises(ProcessRefused):
            workflow_start(template=template, document_id=document_id, user=admin)
    mine = submit(leave, employee)
    instance = workflow_start(template=template, document_id=int(mine.pk), user=employee)
    assert notes(instance, REPORT) == ["hi"]


# --- rights ----------------------------------------------------------------------------------


def test_the_list_design_right_is_what_lets_one_design_its_processes(
    leave, admin, designer, boss, employee
):
    provider = document_providers.get("lists")
    document_type = document_type_of_list(leave)
    assert provider.can(designer, Operation.DESIGN, document_type=document_type)
    assert provider.can(admin, Operation.DESIGN, document_type=document_type)
    for user in (boss, employee):
        assert not provider.can(user, Operation.DESIGN, document_type=document_type)

    client = Client()
    client.force_login(designer)
    page = client.get(reverse("designer:template-list") + f"?type={document_type.type}")
    assert page.status_code == 200 and "Leave request" in page.text
    key = ".".join(document_type)
    created = client.post(
        reverse("designer:template-create"),
        {"name": "Leave flow", "description": "", "document_type": key, "auto_execute": 1},
    )
    assert created.status_code == 302
    template = Template.objects.get(name="Leave flow")
    assert template.document_type_triple == document_type
    assert template.auto_execute == AutoExecute.CREATE
    assert client.get(reverse("designer:template-edit", args=[template.pk])).status_code == 200

    for user in (boss, employee):
        client.force_login(user)
        assert client.get(reverse("designer:template-list")).status_code == 403
        assert client.get(reverse("designer:template-edit", args=[template.pk])).status_code == 403
        refused = client.post(
            reverse("designer:template-create"),
            {"name": "Mine", "document_type": key, "auto_execute": 0},
        )
        assert refused.status_code == 403
    assert not Template.objects.filter(name="Mine").exists()


def test_the_designers_pickers_offer_the_lists_fields(leave, designer):
    template = template_create(
        document_type=document_type_of_list(leave), name="Pickers", user=designer
    )
    template.tree["Children"] = [
        node("SetFieldActivity", "A_set", FieldValue={"PROPERTY_STATUS": "approved"}),
        node("LogActivity", "A_log", Text="x"),
        node(
            "IMNotifyActivity", "A_tell", MessageUserTo=["{=Document:CREATED_BY}"], MessageSite="x"
        ),
    ]
    template.save()
    client = Client()
    client.force_login(designer)

    def dialog(name: str) -> str:
        response = client.get(
            reverse("designer:block-update", args=[template.pk, name]),
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        return response.text

    modify = dialog("A_set")
    for code, caption in (
        ("PROPERTY_STATUS", "Status"),
        ("PROPERTY_DAYS", "Days"),
        ("NAME", "Name"),
    ):
        assert f'value="{code}"' in modify and caption in modify
    assert 'value="approved"' in modify and "Approved" in modify  # the option's key and name
    assert 'value="CREATED_BY"' not in modify  # read-only fields are not written
    insert = dialog("A_log")
    for token in ("{=Document:PROPERTY_DAYS}", "{=Document:CREATED_BY}", "{=Document:NAME}"):
        assert token in insert
    tell = dialog("A_tell")
    assert "Author of the item" in tell and "Responsible for the item" not in tell


def started(leave, admin, employee) -> Element:
    on_add(
        leave,
        log("started"),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h"),
        user=admin,
    )
    return submit(leave, employee)


def test_only_readers_of_an_element_see_its_processes_and_journal(leave, admin, boss, employee):
    element = started(leave, admin, employee)
    instance = instance_of(element)
    outsider = UserFactory(full_name="Olga Outsider")
    urls = (
        reverse("bizproc:document-processes", args=[element.document_id]),
        reverse("bizproc:document-journal", args=[element.document_id]),
        reverse("bizproc:instance-detail", args=[instance.pk]),
    )
    client = Client()
    for user in (employee, boss, admin):  # the author, a reader of every request, the admin
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (user, url)
            assert "Leave approval" in response.text
    client.force_login(outsider)
    for url in urls:
        assert client.get(url).status_code == 404, url

    listed = reverse("bizproc:process-list")
    client.force_login(outsider)
    assert "My leave" not in client.get(listed).text
    client.force_login(boss)
    assert "My leave" in client.get(listed).text


def test_the_process_list_does_not_show_another_process_lists_elements(
    leave, admin, boss, employee
):
    """Every process list is a ``BizprocDocument``: reading one list must not open another."""
    other = lists.list_create(
        values={
            "kind": ListKind.PROCESSES,
            "name": "Expense report",
            "code": "expense_test",
            "access": {"add": ["AU"]},
        },
        user=admin,
    )
    started(leave, admin, employee)
    on_add(other, log("expense"), user=admin, name="Expense flow")
    lists.element_create(list_=other, values={"NAME": "Taxi"}, user=employee)
    client = Client()
    client.force_login(boss)  # reads every leave request, no expense report
    page = client.get(reverse("bizproc:process-list")).text
    assert "My leave" in page and "Taxi" not in page
    client.force_login(employee)  # their own of both
    page = client.get(reverse("bizproc:process-list")).text
    assert "My leave" in page and "Taxi" in page


def test_a_task_for_an_element_shows_to_its_assignee_only(leave, admin, boss, employee):
    approval_template(leave, admin)
    submit(leave, employee, PROPERTY_APPROVER=f"user_{boss.pk}")
    task = ProcessTask.objects.get()
    client = Client()
    client.force_login(boss)
    assert "Leave: My leave" in client.get(reverse("bizproc:task-list")).text
    assert client.get(reverse("bizproc:task-detail", args=[task.pk])).status_code == 200
    client.force_login(employee)
    assert client.get(reverse("bizproc:task-detail", args=[task.pk])).status_code == 404


# --- .bpt ------------------------------------------------------------------------------------

BP_179 = Path(__file__).resolve().parents[1] / "fixtures" / "bitrix" / "bp-179.bpt"


def test_a_list_templates_bpt_describes_its_fields_as_bitrix_does_and_imports_back(leave, admin):
    template = approval_template(leave, admin)
    data = template_export_bpt(source=template.latest_version)
    fields = bpt.bpt_read(data).document_fields
    days, kind = fields["PROPERTY_DAYS"], fields["PROPERTY_KIND"]
    assert (days["Type"], days["TypeReal"], days["BaseType"]) == ("int", "N", "int")
    assert days["Alias"] == f"PROPERTY_{leave.properties.get(code='DAYS').pk}"
    assert (kind["Type"], kind["TypeReal"], kind["Complex"]) == ("select", "L", True)
    assert kind["Options"] == {"vacation": "Vacation", "sick": "Sick leave"}
    assert fields["PROPERTY_APPROVER"]["Type"] == "user"
    assert fields["PROPERTY_FROM"]["Type"] == "date"
    assert fields["CREATED_BY"]["Type"] == "user" and not fields["CREATED_BY"]["Editable"]

    bitrix = bpt.bpt_read(BP_179.read_bytes()).document_fields
    shape = set(bitrix["PROPERTY_APPROVED"]) - {"row_count", "col_count"}
    assert shape <= set(kind)
    assert set(bitrix["PROPERTY_FROM"]) - {"row_count", "col_count"} <= set(fields["PROPERTY_FROM"])
    assert set(bitrix["CREATED_BY"]) <= set(fields["CREATED_BY"])

    canonical = document_type_of_list(leave)
    imported = template_import_bpt(
        data=data,
        document_type=DocumentType("lists", OTHER_ENTITY[canonical.entity], canonical.type),
        name="Imported",
        user=admin,
    )
    assert imported.document_type_triple == canonical
    assert imported.tree == template.latest_version.tree


def test_bitrixs_business_trip_template_imports_onto_a_list_as_a_draft(leave, admin):
    template = template_import_bpt(
        data=BP_179.read_bytes(),
        document_type=document_type_of_list(leave),
        name="Business trip",
        user=admin,
    )
    assert template.document_type_triple == document_type_of_list(leave)
    assert template.tree["Type"] == "SequentialWorkflowActivity"
    assert len(template.tree["Children"]) > 0
    assert not template.versions.exists()
    client = Client()
    client.force_login(admin)
    assert client.get(reverse("designer:template-edit", args=[template.pk])).status_code == 200


# --- live pages ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_only_readers_of_an_element_get_its_live_pages(leave, admin, boss, employee):
    from asgiref.sync import async_to_sync
    from channels.db import database_sync_to_async
    from django.db import transaction

    from tests.bizproc.test_live import closed_with, session_of, socket

    on_add(
        leave,
        log("Submitted {=Document:NAME}"),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h", Title="Wait"),
        user=admin,
    )
    first = submit(leave, employee)
    outsider = session_of(UserFactory(full_name="Olga Outsider"))
    reader = session_of(boss)
    tab = f"/ws/bizproc/documents/{first.document_id}/"
    journal = f"/ws/bizproc/documents/{first.document_id}/journal/?after=0"
    process = f"/ws/bizproc/processes/{instance_of(first).pk}/"

    def resubmit() -> None:
        with transaction.atomic():
            lists.element_update(element=first, values={"NAME": "Longer leave"}, user=employee)
            published(
                log("Changed to {=Document:NAME}"),
                user=admin,
                document_type=document_type_of_list(leave),
                name="Second look",
            )
            workflow_start(
                template=Template.objects.get(name="Second look"),
                document_id=first.document_id,
                user=employee,
            )

    async def scenario() -> None:
        for path in (tab, journal, process):
            assert await closed_with(socket(path, outsider)) == 4403, path
        page = socket(tab, reader)
        assert (await page.connect())[0]
        assert "Leave approval" in await page.receive_from(timeout=5)
        await database_sync_to_async(resubmit)()
        html = await page.receive_from(timeout=5)
        assert "Second look" in html and "Changed to Longer leave" in html
        await page.disconnect()

    async_to_sync(scenario)()


def test_the_author_starts_a_manual_process_on_their_request_and_a_reader_may_not(
    leave, admin, boss, employee
):
    template = published(
        log("by hand: {=Document:NAME}"),
        user=admin,
        document_type=document_type_of_list(leave),
        name="Remind the approver",
    )
    element = submit(leave, employee)
    start = reverse("bizproc:process-start", args=[element.document_id, template.pk])
    client = Client()
    client.force_login(employee)
    tab = client.get(reverse("bizproc:document-processes", args=[element.document_id]))
    assert start in tab.text
    response = client.post(start)
    assert response.status_code == 302
    assert notes(instance_of(element), REPORT) == ["by hand: My leave"]
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.post(start).status_code == 404
    other = lists.list_create(
        values={
            "kind": ListKind.PROCESSES,
            "name": "Read only",
            "code": "ro",
            "access": {"read": [f"U{boss.pk}"]},
        },
        user=admin,
    )
    reader_only = lists.element_create(list_=other, values={"NAME": "x"}, user=admin)
    client.force_login(boss)  # reads it, may not edit it: no processes started
    refused = reverse("bizproc:process-start", args=[reader_only.document_id, template.pk])
    assert client.post(refused).status_code == 403


def test_an_approver_without_the_read_right_opens_the_element_they_approve(leave, admin, employee):
    approval_template(leave, admin)
    approver, stranger = UserFactory(), UserFactory()  # neither may read the list's requests
    element = submit(leave, employee, PROPERTY_APPROVER=f"user_{approver.pk}")
    element = Element.objects.select_related("list").get(pk=element.pk)
    assert permissions.can_read(approver, element) and not permissions.can_edit(approver, element)
    assert not permissions.can_read(stranger, element)
