"""Request information: a task asks its people for typed fields on the Tasks page; the answers
go into the template's variables and the process goes on. The optional one may be declined (its
second branch runs), both have a time limit, and bad values are refused in the user's language
with nothing kept."""

import html

import pytest
from django.urls import reverse
from django.utils import translation

from bizproc import services
from bizproc.models import InstanceStatus, ProcessTask, TaskStatus
from bizproc.process_tasks import task_answer
from bizproc.runtime import workflow_start
from bizproc.services import PublishRefused
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import field, node, notes, published, run_tasks, sequence
from tests.crm.factories import DealFactory, UserFactory
from tests.html import by_role, elements, html_parse, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CUSTOM, REPORT, ERROR = 5, 6, 7
VARIABLES = {
    "Amount": field("int", "Amount"),
    "Reason": field("string", "Reason"),
    "Kind": field("select", "Kind", options={"air": "By air", "rail": "By rail"}),
}
FIELDS = [
    {"Title": "Amount", "Name": "Amount", "Type": "int", "Required": True, "Multiple": False},
    {
        "Title": "Reason",
        "Name": "Reason",
        "Type": "string",
        "Required": False,
        "Multiple": False,
        "Default": "{=Document:TITLE}",
        "Description": "Why the trip",
    },
    {
        "Title": "Kind",
        "Name": "Kind",
        "Type": "select",
        "Required": True,
        "Multiple": False,
        "Options": {"air": "By air", "rail": "By rail"},
    },
]


@pytest.fixture
def boss():
    return UserFactory(is_crm_admin=True, full_name="Olga Boss")


@pytest.fixture
def clerk():
    return UserFactory(full_name="Pavel Clerk")


@pytest.fixture
def deal(boss):
    return DealFactory(title="Trip to Kazan", assigned_by=boss)


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Report")


def request(*users, optional=False, **properties) -> dict:
    values = {
        "Title": "Trip details",
        "Users": [f"user_{user.pk}" for user in users],
        "Name": "Details of {=Document:TITLE}",
        "Description": "Fill in the trip.",
        "RequestedInformation": FIELDS,
        "TaskButtonMessage": "Send",
        "ShowComment": "Y",
        "CommentLabelMessage": "Notes",
        "StatusMessage": "Waiting for the details",
    }
    if optional:
        values["TaskButtonCancelMessage"] = "No trip"
        return node(
            "RequestInformationOptionalActivity",
            "R_info",
            children=[
                sequence(log("given by {=R_info:InfoUser > printable}")),
                sequence(log("declined: {=R_info:Comments} / timeout {=R_info:IsTimeout}")),
            ],
            **(values | properties),
        )
    return node("RequestInformationActivity", "R_info", **(values | properties))


def start(template, deal, user):
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    return instance


def post(client, user, task, answer="yes", comment="", **fields):
    client.force_login(user)
    data = {"answer": answer, "comment": comment}
    data |= {f"fields-{code}": value for code, value in fields.items()}
    return client.post(reverse("bizproc:task-detail", args=[task.pk]), data)


def after(*blocks) -> list:
    return [*blocks, log("amount {=Variable:Amount}, reason {=Variable:Reason}, {=Variable:Kind}")]


def test_the_task_asks_for_typed_fields_and_the_answers_go_into_variables(
    client, boss, clerk, deal
) -> None:
    template = published(*after(request(clerk)), user=boss, variables=VARIABLES)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()
    assert instance.state_title == "Waiting for the details"
    assert notes(instance, CUSTOM) == ["Additional information is to be provided by Pavel Clerk"]
    assert task.name == "Details of Trip to Kazan"

    client.force_login(clerk)
    page = html_parse(client.get(reverse("bizproc:task-detail", args=[task.pk])).text)
    amount = by_role(page, "textbox", "Amount *")[0]
    assert amount.attrs["name"] == "fields-Amount"
    reason = by_role(page, "textbox", "Reason")[0]
    assert reason.attrs["value"] == "Trip to Kazan"  # the default, evaluated
    kind = by_role(page, "combobox", "Kind *")[0]
    options = [text(option) for option in elements(kind) if option.name == "option"]
    assert options == ["—", "By air", "By rail"]
    assert by_role(page, "textbox", "Notes")
    assert by_role(page, "button", "Send")
    assert not by_role(page, "button", "No trip")

    sent = post(client, clerk, task, comment="All set", Amount="1200", Reason="Fair", Kind="rail")
    assert sent.status_code == 302
    run_tasks()

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, REPORT) == ["amount 1200, reason Fair, rail"]
    assert notes(instance, CUSTOM)[1:] == [
        "User Pavel Clerk has provided additional information: All set"
    ]
    task.refresh_from_db()
    assert task.status == TaskStatus.OK


def test_the_results_tell_who_answered_what_changed_and_no_time_limit(boss, clerk, deal) -> None:
    template = published(
        request(clerk),
        log("{=R_info:InfoUser > printable}|{=R_info:Comments}|{=R_info:IsTimeout}"),
        log("{=R_info:Changes}|{=R_info:TaskId}"),
        user=boss,
        variables=VARIABLES,
    )
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()
    task_answer(
        task=task, user=clerk, approve=True, comment="ok", fields={"Amount": 5, "Kind": "air"}
    )
    run_tasks()
    instance.refresh_from_db()
    assert notes(instance, REPORT) == [
        "Pavel Clerk|ok|0",
        f"Amount, Reason, Kind|{task.pk}",  # Reason emptied: its default was the deal's name
    ]


def test_bad_values_are_refused_by_their_fields_and_nothing_is_kept(
    client, boss, clerk, deal
) -> None:
    template = published(
        *after(request(clerk, CommentRequired="Y")), user=boss, variables=VARIABLES
    )
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()

    for language, messages in (
        (
            "en",
            ["The value of field 'Amount' is not an integer.", "The 'Notes' field is required."],
        ),
        ("ru", ["Значение поля 'Amount' не является целым числом", "Не заполнено поле: Notes"]),
    ):
        clerk.language = language
        clerk.save()
        with translation.override(language):
            response = post(client, clerk, task, Amount="a lot", Kind="air")
        assert response.status_code == 422
        page = html.unescape(response.text)
        for message in messages:
            assert message in page, (language, message)

    clerk.language = "en"
    clerk.save()
    with translation.override("en"):
        response = post(client, clerk, task, comment="x", Amount="", Kind="")
    assert response.status_code == 422
    assert html.unescape(response.text).count("This field is required.") == 2
    assert not task.assignees.exclude(answered_at=None).exists()
    run_tasks()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert "Fair" not in str(instance.variables)


def test_the_optional_request_declined_runs_its_second_branch(client, boss, clerk, deal) -> None:
    template = published(*after(request(clerk, optional=True)), user=boss, variables=VARIABLES)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()

    client.force_login(clerk)
    page = html_parse(client.get(reverse("bizproc:task-detail", args=[task.pk])).text)
    assert by_role(page, "button", "Send") and by_role(page, "button", "No trip")
    # Declining needs none of the fields.
    assert post(client, clerk, task, answer="no", comment="Cancelled").status_code == 302
    run_tasks()

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, REPORT) == [
        "declined: Cancelled / timeout 0",
        "amount , reason , ",
    ]
    assert notes(instance, CUSTOM)[1:] == [
        "User Pavel Clerk has canceled additional information: Cancelled"
    ]
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELED
    client.force_login(clerk)
    done = client.get(reverse("bizproc:task-detail", args=[task.pk])).text
    assert "Your answer: No trip" in done


def test_the_optional_request_answered_runs_its_first_branch(client, boss, clerk, deal) -> None:
    template = published(*after(request(clerk, optional=True)), user=boss, variables=VARIABLES)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()
    assert post(client, clerk, task, Amount="7", Kind="air").status_code == 302
    run_tasks()
    instance.refresh_from_db()
    # Reason left out, as if its default was cleared: the variable is emptied.
    assert notes(instance, REPORT) == ["given by Pavel Clerk", "amount 7, reason , air"]


@pytest.mark.parametrize("optional", [False, True], ids=["plain", "optional"])
def test_past_its_time_limit_the_request_goes_on_unanswered(boss, clerk, deal, optional) -> None:
    block = request(clerk, optional=optional, TimeoutDuration="1", TimeoutDurationType="s")
    template = published(block, log("timeout {=R_info:IsTimeout}"), user=boss, variables=VARIABLES)
    instance = start(template, deal, boss)
    task = ProcessTask.objects.get()
    assert task.overdue_at is not None
    run_tasks()

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    expected = ["declined:  / timeout 1"] if optional else []
    assert notes(instance, REPORT) == [*expected, "timeout 1"]
    assert ProcessTask.objects.get().status == TaskStatus.TIMEOUT


def test_a_plain_request_cannot_be_declined(client, boss, clerk, deal) -> None:
    template = published(request(clerk), user=boss, variables=VARIABLES)
    start(template, deal, boss)
    task = ProcessTask.objects.get()
    response = post(client, clerk, task, answer="no")
    assert response.status_code == 422
    assert "Choose one of the answers." in response.text


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"RequestedInformation": []}, "The field 'Fields to fill in' is required."),
        (
            {"RequestedInformation": [{"Title": "X", "Name": "1x", "Type": "string"}]},
            "'1x' is not a valid ID: use Latin letters, digits and _.",
        ),
        (
            {"RequestedInformation": [{"Title": "X", "Name": "X", "Type": "select"}]},
            "The list field 'X' needs options.",
        ),
        ({"Users": []}, "The field 'Users' is required."),
    ],
    ids=["no-fields", "bad-id", "select-without-options", "no-users"],
)
def test_a_badly_set_block_is_refused_on_publishing(boss, clerk, properties, message) -> None:
    template = services.template_create(document_type=DOCUMENT_TYPES["DEAL"], name="Bad", user=boss)
    template.tree["Children"] = [request(clerk, **properties)]
    template.save()
    with pytest.raises(PublishRefused) as refused:
        services.template_publish(template=template, user=boss)
    assert any(message in problem.message for problem in refused.value.problems), [
        p.message for p in refused.value.problems
    ]


def test_saving_the_block_brings_its_fields_variables_into_the_template(boss, clerk) -> None:
    template = services.template_create(document_type=DOCUMENT_TYPES["DEAL"], name="New", user=boss)
    name = services.tree_insert(
        template=template,
        revision=template.revision,
        parent="Template",
        index=0,
        type="RequestInformationActivity",
        user=boss,
    )
    properties = request(clerk)["Properties"]
    services.tree_update(
        template=template, revision=template.revision, name=name, properties=properties, user=boss
    )
    template.refresh_from_db()
    assert list(template.variables) == ["Amount", "Reason", "Kind"]
    assert template.variables["Kind"]["Name"] == "Kind"
    assert template.variables["Kind"]["Options"] == {"air": "By air", "rail": "By rail"}
    services.template_publish(template=template, user=boss)
