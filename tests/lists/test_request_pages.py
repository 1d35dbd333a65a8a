"""The employees' pages of process lists: "Requests" offers the process lists one may add to;
sending a request's form adds the element, which starts the list's process, and leads to
"My requests", which shows each request's process status and whom it waits for, and asks for
itself again while a process runs."""

import pytest
from django.urls import reverse

from bizproc import runtime
from bizproc import services as bizproc_services
from bizproc.models import AutoExecute, Instance, ProcessTask
from bizproc.process_tasks import task_answer
from bizproc.tree import root_node
from lists.documents import document_type_of_list
from lists.models import Element, ListKind, PropertyType
from tests.html import by_id, by_role, html_parse, labelled, submitted, text
from tests.lists.conftest import make_element, make_field, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def leave(lists_admin):
    list_ = make_list(
        lists_admin,
        "leave",
        name="Leave request",
        kind=ListKind.PROCESSES,
        access={"add": ["AU"]},
        description="Days off",
    )
    make_field(lists_admin, list_, "DAYS", PropertyType.NUMBER, name="Days", required=True)
    return list_


@pytest.fixture
def approval(leave, lists_admin, colleague):
    """The leave list's process: on add, the colleague approves."""
    template = bizproc_services.template_create(
        document_type=document_type_of_list(leave),
        name="Leave approval",
        user=lists_admin,
        auto_execute=AutoExecute.CREATE,
    )
    tree = root_node()
    tree["Children"] = [
        {
            "Type": "ApproveActivity",
            "Name": "A_ok",
            "Properties": {
                "Title": "Approval",
                "Users": [f"user_{colleague.pk}"],
                "ApproveType": "any",
                "Name": "Approve {=Document:NAME}",
                "Description": "",
                "TaskButton1Message": "Approve",
                "TaskButton2Message": "Reject",
            },
            "Children": [
                {"Type": "SequenceActivity", "Name": "A_yes", "Properties": {}, "Children": []},
                {"Type": "SequenceActivity", "Name": "A_no", "Properties": {}, "Children": []},
            ],
        }
    ]
    template.tree = tree
    template.save()
    bizproc_services.template_publish(template=template, user=lists_admin)
    return template


def test_requests_offers_the_process_lists_one_may_add_to(client, lists_admin, leave, employee):
    make_list(lists_admin, "expenses", name="Expenses", kind=ListKind.PROCESSES)
    make_list(lists_admin, "plain", name="Plain", access={"add": ["AU"]})
    client.force_login(employee)
    page = html_parse(client.get(reverse("lists:request-index")).text)
    assert [
        text(link)
        for link in by_role(page, "link")
        if "/requests/" in link.attrs["href"] and "new" in link.attrs["href"]
    ] == ["Leave request"]


def test_a_request_sent_starts_its_process_and_my_requests_shows_whom_it_waits_for(
    client, leave, approval, employee, colleague
):
    client.force_login(employee)
    url = reverse("lists:request-add", args=[leave.pk])
    response = client.get(url)
    page = html_parse(response.text)
    assert labelled(page, "Name").name == "input"
    assert not [e for e in by_role(page, "textbox") if e.attrs.get("name") == "DETAIL_TEXT"]
    data = submitted(response.text, "element-form") | {"NAME": ["Summer"], "PROPERTY_DAYS": ["5"]}
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("lists:my-requests")
    element = Element.objects.get()
    assert element.created_by == employee
    instance = Instance.objects.get(document_id=str(element.pk))
    assert instance.module == "lists"

    page = html_parse(client.get(reverse("lists:my-requests")).text)
    row = text(by_id(page, "requests"))
    assert "Summer" in row and "Leave request" in row
    assert "Running" in row and "Boris Orlov" in row
    assert by_id(page, "requests").attrs["hx-trigger"] == "every 5s"

    task = ProcessTask.objects.get(document_id=str(element.pk))
    task_answer(task=task, user=colleague, approve=True)
    runtime.instance_step(instance.pk)  # what the worker does with the wake-up
    partial = client.get(reverse("lists:my-requests"), headers={"HX-Request": "true"})
    section = by_id(html_parse(partial.text), "requests")
    assert "Completed" in text(section) and "Boris Orlov" not in text(section)
    assert "hx-trigger" not in section.attrs  # nothing runs: no more asking


def test_my_requests_lists_only_ones_own_requests(client, leave, employee, colleague):
    make_element(leave, employee, "Mine", PROPERTY_DAYS=1)
    make_element(leave, colleague, "Theirs", PROPERTY_DAYS=2)
    client.force_login(employee)
    section = text(by_id(html_parse(client.get(reverse("lists:my-requests")).text), "requests"))
    assert "Mine" in section and "Theirs" not in section


def test_a_request_with_bad_input_is_refused_and_nothing_is_sent(client, leave, employee):
    client.force_login(employee)
    response = client.post(reverse("lists:request-add", args=[leave.pk]), {"NAME": "Summer"})
    assert response.status_code == 422
    assert "required" in text(by_id(html_parse(response.text), "PROPERTY_DAYS-error"))
    assert not Element.objects.exists()


def test_a_request_to_a_list_one_may_not_add_to_is_refused(client, lists_admin, employee, leave):
    closed = make_list(lists_admin, "closed", kind=ListKind.PROCESSES)
    readable = make_list(lists_admin, "readable", kind=ListKind.PROCESSES, access={"read": ["AU"]})
    client.force_login(employee)
    assert client.get(reverse("lists:request-add", args=[closed.pk])).status_code == 404
    assert (
        client.post(reverse("lists:request-add", args=[readable.pk]), {"NAME": "x"}).status_code
        == 403
    )
    plain = make_list(lists_admin, "plain", access={"add": ["AU"]})
    assert client.get(reverse("lists:request-add", args=[plain.pk])).status_code == 404
    assert not Element.objects.exists()


def test_a_field_the_process_fills_is_left_out_of_the_form_and_cannot_be_posted(
    client, leave, lists_admin, employee
):
    make_field(
        lists_admin,
        leave,
        "STATUS",
        PropertyType.LIST,
        name="Decision",
        options=[{"value": "Approved", "xml_id": "approved"}],
        settings={"SHOW_ADD_FORM": "N", "SHOW_EDIT_FORM": "N"},
    )
    client.force_login(employee)
    url = reverse("lists:request-add", args=[leave.pk])
    assert "Decision" not in client.get(url).text
    client.post(url, {"NAME": "Summer", "PROPERTY_DAYS": "3", "PROPERTY_STATUS": "approved"})
    element = Element.objects.get()
    assert element.values.keys() == {str(leave.properties.get(code="DAYS").pk)}
    edit = reverse("lists:element-edit", args=[leave.pk, element.pk])
    assert "Decision" not in client.get(edit).text
