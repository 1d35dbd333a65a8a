"""Acceptance of "Real Bitrix templates run": Bitrix24's own "business trip" template
(``bp-179.bpt``) imported over REST onto a new process list, published with only warnings and run
to completion on an element, every task answered with ``bizproc.task.complete`` by its own
performer — the approvals up the company structure, the rejection, the bookkeeper's review and
the documents loop."""

import base64
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Notification, User
from accounts.structure import DepartmentValues, department_create
from bizproc import design
from bizproc.models import Instance, InstanceStatus, Template
from lists import services
from lists.models import Element, List, ListKind
from tests.bizproc.builders import run_tasks
from tests.crm.factories import UserFactory
from tests.rest.test_lists import lists_admin, ok, prop, refused, where
from tests.rest.test_methods import hook

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BP_179 = Path(__file__).resolve().parents[1] / "fixtures" / "bitrix" / "bp-179.bpt"
BP_179_USERS = (11, 13)  # the users its constants name (user_11, user_13)


@pytest.fixture
def people() -> dict:
    """Irina heads the company (and administers the lists), Helen heads Sales with Anna in it;
    Maria keeps the books.

    The file names Bitrix's users 11 and 13, who must not exist here for its import to warn of
    them: the people get ids of their own, and users other tests left with those ids go."""
    User.objects.filter(pk__in=BP_179_USERS).delete()
    irina = lists_admin(pk=2001, full_name="Irina Sokolova")
    helen = UserFactory(pk=2002, full_name="Helen Sales")
    anna = UserFactory(pk=2003, full_name="Anna Seller")
    maria = UserFactory(pk=2004, full_name="Maria Books")
    top = department_create(
        values=DepartmentValues(name="Company", head_id=irina.pk), member_ids=[irina.pk, maria.pk]
    )
    department_create(
        values=DepartmentValues(name="Sales", parent_id=top.pk, head_id=helen.pk),
        member_ids=[helen.pk, anna.pk],
    )
    return {"irina": irina, "helen": helen, "anna": anna, "maria": maria}


@pytest.fixture
def trips(people) -> List:
    return services.list_create(
        values={
            "kind": ListKind.PROCESSES,
            "name": "Business trips",
            "code": "trips",
            "access": {"add": ["AU"]},
        },
        user=people["irina"],
    )


def notices(client: Client, base: str, template_id: int) -> list[dict]:
    rows = ok(
        client,
        base,
        "bizproc.workflow.template.list",
        {"SELECT": ["ID", "NOTICES"], "FILTER": {"ID": template_id}},
    )
    return rows["result"][0]["NOTICES"]


@pytest.fixture
def business_trip(client, people, trips) -> Template:
    """bp-179 imported over REST, then set up as its warnings ask: the constants name local
    people, the fields its blocks use and its file does not describe are added to the list."""
    irina = people["irina"]
    base = hook(irina)
    template_id = ok(
        client,
        base,
        "bizproc.workflow.template.add",
        {
            "DOCUMENT_TYPE": ["lists", "BizprocDocument", f"iblock_{trips.pk}"],
            "NAME": "Business trip",
            "TEMPLATE_DATA": base64.b64encode(BP_179.read_bytes()).decode(),
        },
    )["result"]
    template = Template.objects.get(pk=template_id)
    assert template.active and template.versions.count() == 1  # published at once

    imported = notices(client, base, template_id)
    assert {n["LEVEL"] for n in imported} == {"info", "warning"}
    warnings = {(n["CODE"], n["MESSAGE"]) for n in imported if n["LEVEL"] == "warning"}
    assert {code for code, _message in warnings} == {"unknown_user", "unknown_field"}
    users = sorted(message for code, message in warnings if code == "unknown_user")
    assert ["user_11" in users[0] or "user_13" in users[0], len(users)] == [True, 2]
    unknown = " ".join(message for code, message in warnings if code == "unknown_field")
    for code in ("PROPERTY_WHERE", "PROPERTY_DOCUMENTS_RECEIVED", "PROPERTY_DOCUMENTS"):
        assert code in unknown

    # What a customer does next: the missing fields, and the constants set to local people.
    at = where(trips)
    for name, type_, code, multiple in (
        ("Where", "S", "WHERE", "N"),
        ("Documents received", "S", "DOCUMENTS_RECEIVED", "N"),
        ("Documents", "F", "DOCUMENTS", "Y"),
    ):
        ok(
            client,
            base,
            "lists.field.add",
            at | {"FIELDS": {"NAME": name, "TYPE": type_, "CODE": code, "MULTIPLE": multiple}},
        )
    template.refresh_from_db()
    constants = template.constants
    constants["Manager"]["Default"] = [f"user_{irina.pk}"]
    constants["Bookkeeper"]["Default"] = [f"user_{people['maria'].pk}"]
    design.template_settings_update(
        template=template,
        revision=template.revision,
        user=irina,
        name=template.name,
        description=template.description,
        auto_execute=template.auto_execute,
        parameters=template.parameters,
        variables=template.variables,
        constants=constants,
    )
    template.refresh_from_db()
    design.template_publish_draft(template=template, revision=template.revision, user=irina)
    return template


def request_trip(client: Client, trips: List, anna, business_trip: Template) -> Instance:
    """Anna asks for a trip to Kazan and starts the business trip process on it."""
    mine = hook(anna)
    element_id = ok(
        client,
        mine,
        "lists.element.add",
        where(trips)
        | {
            "ELEMENT_CODE": f"trip-{Element.objects.count() + 1}",
            "FIELDS": {
                "NAME": "Trip",
                "PREVIEW_TEXT": "Meet the client",
                prop(trips, "FROM"): "2030-03-02",
                prop(trips, "TO"): "2030-03-05",
                prop(trips, "WHERE"): "Kazan",
                prop(trips, "FAMILIYA_IMYA_OTCHESTVO_KOMANDIRUEMOGO"): ["Anna Seller"],
                prop(trips, "MESTO_KOMANDIROVANIYA"): "Kazan, the client's office",
                prop(trips, "KONTAKTNYY_NOMER_TELEFONA_RABOTNIKA"): ["+7 900 000 00 00"],
                prop(trips, "SUTOCHNYE"): "700|RUB",
                prop(trips, "STOIMOST_PROZHIVANIYA"): "9000|RUB",
                prop(trips, "STOIMOST_PROEZDA"): "12000|RUB",
            },
        },
    )["result"]
    instance_id = ok(
        client,
        mine,
        "bizproc.workflow.start",
        {
            "TEMPLATE_ID": business_trip.pk,
            "DOCUMENT_ID": ["lists", "BizprocDocument", str(element_id)],
        },
    )["result"]
    run_tasks()
    return Instance.objects.get(pk=instance_id)


def answer(client: Client, user, status: str, fields: dict | None = None) -> dict:
    """The user's one waiting task, answered over REST; returns its row in ``task.list``."""
    mine = hook(user)
    listed = ok(
        client,
        mine,
        "bizproc.task.list",
        {
            "SELECT": ["ID", "NAME", "ACTIVITY", "PARAMETERS", "DOCUMENT_ID"],
            "FILTER": {"STATUS": 0},
        },
    )["result"]
    assert len(listed) == 1, listed
    (task,) = listed
    params = {"TASK_ID": task["ID"], "STATUS": status}
    if fields is not None:
        params["FIELDS"] = fields
    assert ok(client, mine, "bizproc.task.complete", params)["result"] is True
    run_tasks()
    return task


def waiting(client: Client, user) -> list:
    return ok(client, hook(user), "bizproc.task.list", {"FILTER": {"STATUS": 0}})["result"]


def approved_field(trips: List, instance: Instance) -> str:
    element = Element.objects.get(pk=instance.document_id)
    field = trips.properties.get(code="APPROVED")
    return dict(field.options.values_list("pk", "xml_id")).get(
        int(element.values.get(str(field.pk)) or 0), ""
    )


def told(user, fragment: str) -> int:
    """How many of the user's notifications say ``fragment``."""
    texts = Notification.objects.filter(user=user).values_list("text", flat=True)
    return sum(fragment in text for text in texts)


def listed(client: Client, user, instance: Instance) -> bool:
    rows = ok(client, hook(user), "bizproc.workflow.instances", {"SELECT": ["ID"]})["result"]
    return instance.pk in {row["ID"] for row in rows}


def test_the_head_rejects_the_trip_and_the_process_ends(client, people, trips, business_trip):
    anna, helen = people["anna"], people["helen"]
    instance = request_trip(client, trips, anna, business_trip)
    assert listed(client, people["irina"], instance)
    assert approved_field(trips, instance) == "EMPTY"
    # Select employee found Anna's head; she was told and asked.
    assert told(helen, "Сотрудник: Anna Seller") == 1
    task = answer(client, helen, "no")
    assert task["ACTIVITY"] == "ApproveActivity"

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.state_title == "Отказано (Helen Sales)"
    assert approved_field(trips, instance) == "REJECTED"
    assert told(anna, "не может быть согласована") == 1
    assert not listed(client, people["irina"], instance)
    assert all(not waiting(client, person) for person in people.values())


def test_approved_up_the_structure_reviewed_and_documents_taken_on_the_second_try(
    client, people, trips, business_trip
):
    anna, helen, irina, maria = (people[name] for name in ("anna", "helen", "irina", "maria"))
    instance = request_trip(client, trips, anna, business_trip)
    answer(client, helen, "yes")  # Helen is not the manager: her own head approves next
    assert not waiting(client, helen)
    answer(client, irina, "1")  # the manager (the constant): approved
    assert approved_field(trips, instance) == "APPROVED"
    assert told(anna, "Командировка согласована") == 1

    review = answer(client, maria, "ok")
    assert review["ACTIVITY"] == "ReviewActivity"

    request = answer(client, anna, "ok", {"Documents": []})
    assert request["ACTIVITY"] == "RequestInformationActivity"
    assert [f["Id"] for f in request["PARAMETERS"]["Fields"]] == ["Documents"]
    answer(client, maria, "no")  # no documents: refused, Anna is asked again
    assert told(anna, "не можем принять") == 1
    # Someone else's upload is not Anna's to give: the process would attach it with its rights.
    others = services.element_file_create(
        upload=SimpleUploadedFile("salaries.pdf", b"%PDF-1.4", "application/pdf"), user=maria
    )
    (task,) = waiting(client, anna)
    _status, _code, message = refused(
        client,
        hook(anna),
        "bizproc.task.complete",
        {"TASK_ID": task["ID"], "STATUS": "ok", "FIELDS": {"Documents": [others.pk]}},
    )
    assert f"The file {others.pk} is not yours to give." in message
    # Anna's upload (its ID, as Bitrix's answers name files) goes onto the element.
    tickets = services.element_file_create(
        upload=SimpleUploadedFile("tickets.pdf", b"%PDF-1.4", "application/pdf"), user=anna
    )
    answer(client, anna, "ok", {"Documents": [tickets.pk]})
    (row,) = ok(
        client,
        hook(maria),  # the bookkeeper was given the right to read it
        "lists.element.get",
        where(trips) | {"ELEMENT_ID": instance.document_id},
    )["result"]
    assert list(row[prop(trips, "DOCUMENTS")].values()) == [str(tickets.pk)]
    answer(client, maria, "yes")

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.state_title == "Процесс завершен"
    assert told(anna, "Документы приняты") == 1
    assert not listed(client, irina, instance)
    assert all(not waiting(client, person) for person in people.values())
