"""``lists.*`` over REST in Bitrix24's shapes, with the lists' rights; and the ``bizproc.*``
methods on list elements (start, instances, templates, tasks)."""

import base64
import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from bizproc.bpt import BptContent, bpt_write
from bizproc.models import Instance, InstanceStatus, ProcessTask, Template
from lists import services
from lists.models import Element, ElementFile, List, ListField, ListKind
from lists.properties import element_values, schema_of, schemas_forget
from tests.bizproc.builders import node, notes, run_tasks, sequence
from tests.crm.factories import UserFactory
from tests.rest.test_methods import call, hook

pytestmark = pytest.mark.django_db

LISTS = "lists"
PROCESSES = "bitrix_processes"


@pytest.fixture(autouse=True)
def _fresh_schemas() -> None:
    """A rolled-back test leaves the process's schema cache behind: list ids are reused."""
    schemas_forget()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def lists_admin(**kwargs) -> User:
    user = UserFactory(**kwargs)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="lists", codename="change_list")
    )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def admin() -> User:
    return lists_admin(full_name="Lena Admin")


@pytest.fixture
def base(admin) -> str:
    return hook(admin)


def ok(client: Client, base: str, method: str, params: dict):
    status, body = call(client, base, method, params)
    assert status == 200, body
    return body


def refused(client: Client, base: str, method: str, params: dict) -> tuple[int, str, str]:
    status, body = call(client, base, method, params)
    assert "error" in body, body
    return status, body["error"], body["error_description"]


@pytest.fixture
def leave(admin) -> List:
    """A process list with a date, a list of options, an employee and a multiple text."""
    list_ = services.list_create(
        values={
            "kind": ListKind.PROCESSES,
            "name": "Leave requests",
            "code": "leave",
            "access": {"add": ["AU"]},
        },
        user=admin,
    )
    for values in (
        {"code": "START", "name": "Start", "type": "S:Date", "required": True},
        {
            "code": "KIND",
            "name": "Kind",
            "type": "L",
            "options": [
                {"value": "Paid", "xml_id": "paid"},
                {"value": "Unpaid", "xml_id": "unpaid"},
            ],
        },
        {"code": "DEPUTY", "name": "Deputy", "type": "S:employee"},
        {"code": "NOTES", "name": "Notes", "type": "S", "multiple": True},
        {"code": "DAYS", "name": "Days", "type": "N"},
    ):
        services.listfield_create(list_=list_, values=values, user=admin)
    return list_


def prop(list_: List, code: str) -> str:
    """The REST code (``PROPERTY_<id>``) of the list's property ``code``."""
    return ListField.objects.get(list=list_, code=code).rest_code


def option_id(list_: List, code: str, xml_id: str) -> str:
    return str(ListField.objects.get(list=list_, code=code).options.get(xml_id=xml_id).pk)


def where(list_: List) -> dict:
    return {"IBLOCK_TYPE_ID": list_.kind, "IBLOCK_ID": list_.pk}


# Lists ------------------------------------------------------------------------------------------


def test_a_list_goes_through_add_get_update_and_delete(client, base) -> None:
    list_id = ok(
        client,
        base,
        "lists.add",
        {
            "IBLOCK_TYPE_ID": LISTS,
            "IBLOCK_CODE": "suppliers",
            "FIELDS": {"NAME": "Suppliers", "DESCRIPTION": "Who we buy from", "SORT": 20},
        },
    )["result"]
    assert isinstance(list_id, int)

    got = ok(client, base, "lists.get", {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "suppliers"})
    (row,) = got["result"]
    assert (row["ID"], row["IBLOCK_TYPE_ID"], row["CODE"], row["NAME"]) == (
        str(list_id),
        LISTS,
        "suppliers",
        "Suppliers",
    )
    assert (row["DESCRIPTION"], row["SORT"], row["BIZPROC"]) == ("Who we buy from", "20", "N")
    assert ok(client, base, "lists.get", {"IBLOCK_TYPE_ID": LISTS})["total"] == 1
    assert ok(client, base, "lists.get", {"IBLOCK_TYPE_ID": PROCESSES})["result"] == []

    again = {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "suppliers", "FIELDS": {"NAME": "Twice"}}
    assert refused(client, base, "lists.add", again)[1] == "ERROR_IBLOCK_ALREADY_EXISTS"

    updated = ok(
        client,
        base,
        "lists.update",
        {
            "IBLOCK_TYPE_ID": LISTS,
            "IBLOCK_ID": list_id,
            "FIELDS": {"NAME": "Vendors", "BIZPROC": "Y"},
        },
    )
    assert updated["result"] is True
    row = List.objects.get(pk=list_id)
    assert (row.name, row.bizproc, row.description) == ("Vendors", True, "Who we buy from")

    # The list is found under its own type only.
    wrong_type = {"IBLOCK_TYPE_ID": PROCESSES, "IBLOCK_ID": list_id}
    assert refused(client, base, "lists.get", wrong_type)[:2] == (400, "ERROR_IBLOCK_NOT_FOUND")

    deleted = ok(
        client, base, "lists.delete", {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "suppliers"}
    )
    assert deleted["result"] is True
    assert not List.objects.exists()
    gone = {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_ID": list_id}
    assert refused(client, base, "lists.delete", gone)[1] == "ERROR_IBLOCK_NOT_FOUND"


def test_bizproc_y_turns_processes_on_and_a_process_list_always_has_them(client, base) -> None:
    for kind, code, flag in ((LISTS, "plain", "Y"), (PROCESSES, "trips", "N")):
        ok(
            client,
            base,
            "lists.add",
            {
                "IBLOCK_TYPE_ID": kind,
                "IBLOCK_CODE": code,
                "FIELDS": {"NAME": code, "BIZPROC": flag},
            },
        )
    assert List.objects.get(code="plain").bizproc is True
    assert List.objects.get(code="trips").bizproc is True


def test_only_lists_administrators_manage_lists_and_people_see_the_lists_open_to_them(
    client, base, admin
) -> None:
    ok(
        client,
        base,
        "lists.add",
        {
            "IBLOCK_TYPE_ID": LISTS,
            "IBLOCK_CODE": "open",
            "FIELDS": {"NAME": "Open"},
            "RIGHTS": {"*": "R"},
        },
    )
    ok(
        client,
        base,
        "lists.add",
        {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "closed", "FIELDS": {"NAME": "Closed"}},
    )
    assert List.objects.get(code="open").access == {"read": ["AU"]}
    employee = hook(UserFactory())

    listed = ok(client, employee, "lists.get", {"IBLOCK_TYPE_ID": LISTS})["result"]
    assert [row["CODE"] for row in listed] == ["open"]
    closed = {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "closed"}
    assert refused(client, employee, "lists.get", closed)[1] == "ERROR_IBLOCK_NOT_FOUND"

    for method, params in (
        ("lists.add", {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "mine", "FIELDS": {"NAME": "M"}}),
        ("lists.update", {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "open", "FIELDS": {"NAME": "X"}}),
        ("lists.delete", {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "open"}),
    ):
        assert refused(client, employee, method, params)[:2] == (403, "ACCESS_DENIED"), method
    assert sorted(List.objects.values_list("name", flat=True)) == ["Closed", "Open"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"IBLOCK_CODE": "x", "FIELDS": {"NAME": "X"}}, "ERROR_REQUIRED_PARAMETERS_MISSING"),
        (
            {"IBLOCK_TYPE_ID": "lists_socnet", "IBLOCK_CODE": "x", "FIELDS": {"NAME": "X"}},
            "INVALID_ARG_VALUE",
        ),
        (
            {"IBLOCK_TYPE_ID": ["lists"], "IBLOCK_CODE": "x", "FIELDS": {"NAME": "X"}},
            "INVALID_ARG_VALUE",
        ),
        ({"IBLOCK_TYPE_ID": LISTS, "FIELDS": {"NAME": "X"}}, "ERROR_REQUIRED_PARAMETERS_MISSING"),
        (
            {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "x", "FIELDS": {}},
            "ERROR_REQUIRED_PARAMETERS_MISSING",
        ),
        ({"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "x", "FIELDS": "NAME"}, ""),
        (
            {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "x", "FIELDS": {"NAME": "X", "SORT": "abc"}},
            "INVALID_ARG_VALUE",
        ),
        (
            {
                "IBLOCK_TYPE_ID": LISTS,
                "IBLOCK_CODE": "x",
                "FIELDS": {"NAME": "X", "BIZPROC": "maybe"},
            },
            "INVALID_ARG_VALUE",
        ),
        (
            {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "x", "FIELDS": {"NAME": "X", "COLOR": "red"}},
            "INVALID_ARG_VALUE",
        ),
        (
            {
                "IBLOCK_TYPE_ID": LISTS,
                "IBLOCK_CODE": "x",
                "FIELDS": {"NAME": "X"},
                "RIGHTS": {"D5": "R"},
            },
            "INVALID_ARG_VALUE",
        ),
        (
            {
                "IBLOCK_TYPE_ID": LISTS,
                "IBLOCK_CODE": "x",
                "FIELDS": {"NAME": "X"},
                "RIGHTS": {"U1": "Q"},
            },
            "INVALID_ARG_VALUE",
        ),
        (
            {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "a b", "FIELDS": {"NAME": "X"}},
            "ERROR_ADD_IBLOCK",
        ),
        (
            {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "x", "FIELDS": {"NAME": "X" * 256}},
            "ERROR_ADD_IBLOCK",
        ),
    ],
)
def test_a_bad_list_is_refused_with_a_clear_error_and_nothing_is_stored(
    client, base, params, error
) -> None:
    status, code, description = refused(client, base, "lists.add", params)
    assert (status, code) == (400, error)
    assert description
    assert not List.objects.exists()


# Fields -----------------------------------------------------------------------------------------


def test_fields_go_through_add_get_update_and_delete(client, base, admin) -> None:
    other = services.list_create(values={"name": "Projects", "code": "projects"}, user=admin)
    list_id = ok(
        client,
        base,
        "lists.add",
        {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_CODE": "tasks", "FIELDS": {"NAME": "Tasks"}},
    )["result"]
    at = {"IBLOCK_TYPE_ID": LISTS, "IBLOCK_ID": list_id}

    status_id = ok(
        client,
        base,
        "lists.field.add",
        at
        | {
            "FIELDS": {
                "NAME": "Status",
                "TYPE": "L",
                "CODE": "status",
                "SORT": 50,
                "IS_REQUIRED": "Y",
                "LIST": {
                    "n0": {"VALUE": "Planned", "SORT": 10},
                    "n1": {"VALUE": "Active", "SORT": 20},
                },
                "LIST_TEXT_VALUES": "Done\nActive",
                "LIST_DEF": ["n1"],
            }
        },
    )["result"]
    row = ListField.objects.get(list_id=list_id, code="STATUS")
    assert status_id == f"PROPERTY_{row.pk}"
    due_id = ok(
        client,
        base,
        "lists.field.add",
        at
        | {
            "FIELDS": {
                "NAME": "Due",
                "TYPE": "S:Date",
                "CODE": "DUE",
                "DEFAULT_VALUE": "2030-01-31",
            }
        },
    )["result"]
    project_id = ok(
        client,
        base,
        "lists.field.add",
        at
        | {
            "FIELDS": {
                "NAME": "Project",
                "TYPE": "E",
                "CODE": "PROJECT",
                "LINK_IBLOCK_ID": other.pk,
            }
        },
    )["result"]
    # A built-in field is always there: adding it answers its code.
    assert (
        ok(client, base, "lists.field.add", at | {"FIELDS": {"NAME": "Sort", "TYPE": "SORT"}})[
            "result"
        ]
        == "SORT"
    )

    fields = ok(client, base, "lists.field.get", at)["result"]
    assert list(fields)[:2] == ["NAME", "SORT"]
    assert fields["NAME"]["TYPE"] == "NAME"
    assert fields["NAME"]["IS_REQUIRED"] == "Y"
    status = fields[status_id]
    options = {option.value: str(option.pk) for option in row.options.all()}
    assert list(options) == ["Planned", "Active", "Done"]
    assert (status["FIELD_ID"], status["TYPE"], status["CODE"], status["NAME"]) == (
        status_id,
        "L",
        "STATUS",
        "Status",
    )
    assert (status["SORT"], status["IS_REQUIRED"], status["MULTIPLE"]) == (50, "Y", "N")
    assert status["DISPLAY_VALUES_FORM"] == {pk: value for value, pk in options.items()}
    assert status["DEFAULT_VALUE"] == options["Active"]
    assert (fields[due_id]["TYPE"], fields[due_id]["PROPERTY_TYPE"]) == ("S:Date", "S")
    assert fields[due_id]["PROPERTY_USER_TYPE"] == "Date"
    assert fields[due_id]["DEFAULT_VALUE"] == "31.01.2030"
    assert fields[project_id]["LINK_IBLOCK_ID"] == str(other.pk)
    one = ok(client, base, "lists.field.get", at | {"FIELD_ID": due_id})["result"]
    assert list(one) == [due_id]

    updated = ok(
        client,
        base,
        "lists.field.update",
        at
        | {
            "FIELD_ID": status_id,
            "FIELDS": {
                "NAME": "State",
                "TYPE": "L",
                "LIST": {options["Planned"]: {"VALUE": "Planned"}, "n0": {"VALUE": "Cancelled"}},
            },
        },
    )
    assert updated["result"] is True
    row.refresh_from_db()
    assert row.name == "State"
    assert [option.value for option in row.options.all()] == ["Planned", "Cancelled"]
    assert str(row.options.get(value="Planned").pk) == options["Planned"]  # kept by its id

    assert ok(client, base, "lists.field.delete", at | {"FIELD_ID": due_id})["result"] is True
    assert not ListField.objects.filter(code="DUE").exists()

    types = ok(client, base, "lists.field.type.get", at)["result"]
    assert types["S:Date"] == "Date" and types["L"] == "List" and types["S:employee"] == "Employee"
    assert "NAME" not in types


def test_bad_fields_are_refused_with_a_clear_error_and_nothing_is_stored(
    client, base, leave
) -> None:
    at = where(leave)
    kind = prop(leave, "KIND")
    before = list(ListField.objects.values_list("pk", "name", "code", "type"))
    cases = [
        (
            "lists.field.add",
            {"FIELDS": {"NAME": "X", "TYPE": "S:map_yandex", "CODE": "X"}},
            "ERROR_SAVE_FIELD",
        ),
        (
            "lists.field.add",
            {"FIELDS": {"NAME": "X", "TYPE": "S", "CODE": "start"}},
            "ERROR_SAVE_FIELD",
        ),
        ("lists.field.add", {"FIELDS": {"NAME": "X", "TYPE": "S"}}, "ERROR_SAVE_FIELD"),
        (
            "lists.field.add",
            {"FIELDS": {"NAME": "X", "TYPE": "S", "CODE": "1X"}},
            "ERROR_SAVE_FIELD",
        ),
        (
            "lists.field.add",
            {"FIELDS": {"TYPE": "S", "CODE": "X"}},
            "ERROR_REQUIRED_PARAMETERS_MISSING",
        ),
        (
            "lists.field.add",
            {"FIELDS": {"NAME": "X", "TYPE": "S", "CODE": "X", "MULTIPLE": "sometimes"}},
            "INVALID_ARG_VALUE",
        ),
        (
            "lists.field.add",
            {"FIELDS": {"NAME": "X", "TYPE": "S", "CODE": "X", "LIST": {"n0": {"VALUE": "a"}}}},
            "INVALID_ARG_VALUE",
        ),
        (
            "lists.field.add",
            {"FIELDS": {"NAME": "X", "TYPE": "S:Date", "CODE": "X", "DEFAULT_VALUE": "soon"}},
            "ERROR_SAVE_FIELD",
        ),
        (
            "lists.field.add",
            {"FIELDS": {"NAME": "X", "TYPE": "E", "CODE": "X", "LINK_IBLOCK_ID": 999999}},
            "ERROR_SAVE_FIELD",
        ),
        (
            "lists.field.add",
            {"FIELDS": {"NAME": "X", "TYPE": "S", "CODE": "X", "WIDTH": 5}},
            "INVALID_ARG_VALUE",
        ),
        ("lists.field.update", {"FIELD_ID": kind, "FIELDS": {"TYPE": "S"}}, "ERROR_UPDATE_FIELD"),
        (
            "lists.field.update",
            {"FIELD_ID": kind, "FIELDS": {"CODE": "OTHER"}},
            "ERROR_UPDATE_FIELD",
        ),
        (
            "lists.field.update",
            {"FIELD_ID": "NAME", "FIELDS": {"NAME": "Title"}},
            "ERROR_UPDATE_FIELD",
        ),
        (
            "lists.field.update",
            {"FIELD_ID": "PROPERTY_999999", "FIELDS": {"NAME": "X"}},
            "ERROR_FIELD_NOT_FOUND",
        ),
        ("lists.field.update", {"FIELDS": {"NAME": "X"}}, "ERROR_REQUIRED_PARAMETERS_MISSING"),
        ("lists.field.delete", {"FIELD_ID": "NAME"}, "ERROR_DELETE_FIELD"),
        ("lists.field.delete", {"FIELD_ID": "PROPERTY_abc"}, "ERROR_FIELD_NOT_FOUND"),
    ]
    for method, params, error in cases:
        status, code, description = refused(client, base, method, at | params)
        assert (status, code) == (400, error), (params, description)
        assert description
    assert list(ListField.objects.values_list("pk", "name", "code", "type")) == before


def test_only_lists_administrators_manage_fields_and_people_read_those_of_lists_they_see(
    client, leave
) -> None:
    employee = hook(UserFactory())
    at = where(leave)
    fields = ok(client, employee, "lists.field.get", at)["result"]  # the list lets them add
    assert prop(leave, "KIND") in fields
    for method, params in (
        ("lists.field.add", {"FIELDS": {"NAME": "X", "TYPE": "S", "CODE": "X"}}),
        ("lists.field.update", {"FIELD_ID": prop(leave, "KIND"), "FIELDS": {"NAME": "X"}}),
        ("lists.field.delete", {"FIELD_ID": prop(leave, "KIND")}),
    ):
        assert refused(client, employee, method, at | params)[:2] == (403, "ACCESS_DENIED")
    assert ListField.objects.filter(list=leave).count() == 5

    hidden = services.list_create(values={"name": "Salaries", "code": "pay"}, user=None)
    assert (
        refused(client, employee, "lists.field.get", where(hidden))[1] == "ERROR_IBLOCK_NOT_FOUND"
    )


# Elements ---------------------------------------------------------------------------------------


def test_an_element_goes_through_add_get_update_and_delete(client, base, leave) -> None:
    deputy = UserFactory()
    at = where(leave)
    start, kind, person, notes_, days = (
        prop(leave, code) for code in ("START", "KIND", "DEPUTY", "NOTES", "DAYS")
    )
    element_id = ok(
        client,
        base,
        "lists.element.add",
        at
        | {
            "ELEMENT_CODE": "leave-1",
            "FIELDS": {
                "NAME": "Summer holiday",
                start: "2030-07-01",
                kind: {"n0": option_id(leave, "KIND", "unpaid")},
                person: str(deputy.pk),
                notes_: ["Sea", "Mountains"],
                days: "14",
            },
        },
    )["result"]
    assert isinstance(element_id, int)
    element = Element.objects.get(pk=element_id)
    assert element.code == "leave-1"
    typed = element_values(element)
    # What processes read: the option's external code, the employee as user_<id>.
    assert typed["PROPERTY_KIND"] == "unpaid"
    assert typed["PROPERTY_DEPUTY"] == f"user_{deputy.pk}"
    assert typed["PROPERTY_START"] == datetime.date(2030, 7, 1)

    got = ok(client, base, "lists.element.get", at | {"ELEMENT_ID": element_id})
    (row,) = got["result"]
    assert (row["ID"], row["NAME"], row["CODE"], row["CREATED_BY"]) == (
        str(element_id),
        "Summer holiday",
        "leave-1",
        str(element.created_by_id),
    )
    assert row[start] == {"1": "01.07.2030"}
    assert row[kind] == {"1": option_id(leave, "KIND", "unpaid")}
    assert row[person] == {"1": str(deputy.pk)}
    assert row[notes_] == {"1": "Sea", "2": "Mountains"}
    assert row[days] == {"1": "14"}
    assert len(row["DATE_CREATE"]) == len("31.12.2030 23:59:59")
    by_code = ok(client, base, "lists.element.get", at | {"ELEMENT_CODE": "leave-1"})["result"]
    assert by_code == [row]

    twice = at | {"ELEMENT_CODE": "leave-1", "FIELDS": {"NAME": "Again", start: "2030-08-01"}}
    assert refused(client, base, "lists.element.add", twice)[1] == "ERROR_ELEMENT_ALREADY_EXISTS"
    assert Element.objects.count() == 1

    # Update overwrites: what it leaves out becomes empty; dates in Bitrix's own form too.
    updated = ok(
        client,
        base,
        "lists.element.update",
        at | {"ELEMENT_ID": element_id, "FIELDS": {"NAME": "Short break", start: "01.08.2030"}},
    )
    assert updated["result"] is True
    (row,) = ok(client, base, "lists.element.get", at | {"ELEMENT_ID": element_id})["result"]
    assert (row["NAME"], row["CODE"], row[start]) == ("Short break", "leave-1", {"1": "01.08.2030"})
    assert not {kind, person, notes_, days} & set(row)

    deleted = ok(client, base, "lists.element.delete", at | {"ELEMENT_CODE": "leave-1"})
    assert deleted["result"] is True
    assert not Element.objects.exists()
    gone = at | {"ELEMENT_ID": element_id, "FIELDS": {"NAME": "X"}}
    assert refused(client, base, "lists.element.update", gone)[1] == "ERROR_ELEMENT_NOT_FOUND"


def test_element_get_filters_sorts_selects_and_pages(client, base, admin, leave) -> None:
    kind, days = prop(leave, "KIND"), prop(leave, "DAYS")
    for number in range(1, 56):
        services.element_create(
            list_=leave,
            values={
                "NAME": f"Request {number:02}",
                "PROPERTY_START": datetime.date(2030, 1, 1) + datetime.timedelta(days=number),
                "PROPERTY_KIND": "paid" if number % 2 else "unpaid",
                "PROPERTY_DAYS": number,
            },
            user=admin,
        )
    at = where(leave)

    first = ok(client, base, "lists.element.get", at)
    assert (len(first["result"]), first["total"], first["next"]) == (50, 55, 50)
    second = ok(client, base, "lists.element.get", at | {"start": 50})
    assert (len(second["result"]), "next" in second) == (5, False)

    unpaid = option_id(leave, "KIND", "unpaid")
    found = ok(
        client,
        base,
        "lists.element.get",
        at
        | {
            "FILTER": {kind: unpaid, ">=" + days: 40, "%NAME": "Request"},
            "ELEMENT_ORDER": {days: "desc"},
            "SELECT": ["NAME", days],
        },
    )
    assert [row["NAME"] for row in found["result"]] == [
        f"Request {n}" for n in (54, 52, 50, 48, 46, 44, 42, 40)
    ]
    assert set(found["result"][0]) == {"ID", "NAME", days}
    assert found["result"][0][days] == {"1": "54"}

    by_date = ok(
        client,
        base,
        "lists.element.get",
        at | {"FILTER": {"<" + prop(leave, "START"): "2030-01-04"}, "ELEMENT_ORDER": {"ID": "asc"}},
    )["result"]
    assert [row["NAME"] for row in by_date] == ["Request 01", "Request 02"]

    for params in (
        {"FILTER": {"COLOR": "red"}},
        {"FILTER": {days: "many"}},
        {"FILTER": {prop(leave, "NOTES"): "Sea"}},  # a multiple property
        {"ELEMENT_ORDER": {"COLOR": "asc"}},
        {"ELEMENT_ORDER": {days: "sideways"}},
        {"ELEMENT_ID": "first"},
        {"start": "x"},
    ):
        assert refused(client, base, "lists.element.get", at | params)[0] == 400, params


def test_people_read_their_own_elements_unless_the_list_grants_reading(
    client, admin, leave
) -> None:
    anna, boris = UserFactory(), UserFactory()
    at = where(leave)
    for user, code in ((anna, "a"), (boris, "b")):
        ok(
            client,
            hook(user),
            "lists.element.add",
            at
            | {"ELEMENT_CODE": code, "FIELDS": {"NAME": code, prop(leave, "START"): "2030-01-01"}},
        )
    boris_element = Element.objects.get(code="b")

    listed = ok(client, hook(anna), "lists.element.get", at)["result"]
    assert [row["CODE"] for row in listed] == ["a"]
    assert ok(client, hook(anna), "lists.element.get", at | {"ELEMENT_CODE": "b"})["result"] == []
    update_b = at | {
        "ELEMENT_CODE": "b",
        "FIELDS": {"NAME": "mine now", prop(leave, "START"): "2030-01-01"},
    }
    assert (
        refused(client, hook(anna), "lists.element.update", update_b)[1]
        == "ERROR_ELEMENT_NOT_FOUND"
    )
    assert (
        refused(client, hook(anna), "lists.element.delete", at | {"ELEMENT_CODE": "b"})[1]
        == "ERROR_ELEMENT_NOT_FOUND"
    )

    # Reading all of the list lets her see Boris's element, not change it.
    services.list_update(
        list_=leave, values={"access": {"add": ["AU"], "read": ["AU"]}}, user=admin
    )
    anna = User.objects.get(pk=anna.pk)
    listed = ok(client, hook(anna), "lists.element.get", at)["result"]
    assert sorted(row["CODE"] for row in listed) == ["a", "b"]
    assert refused(client, hook(anna), "lists.element.update", update_b)[:2] == (
        403,
        "ACCESS_DENIED",
    )
    assert refused(client, hook(anna), "lists.element.delete", at | {"ELEMENT_CODE": "b"})[:2] == (
        403,
        "ACCESS_DENIED",
    )
    boris_element.refresh_from_db()
    assert boris_element.name == "b"

    # Her own she may change and delete; without the add right she adds nothing.
    mine = at | {"ELEMENT_CODE": "a", "FIELDS": {"NAME": "a2", prop(leave, "START"): "2030-02-01"}}
    assert ok(client, hook(anna), "lists.element.update", mine)["result"] is True
    services.list_update(list_=leave, values={"access": {"read": ["AU"]}}, user=admin)
    add = at | {"ELEMENT_CODE": "c", "FIELDS": {"NAME": "c", prop(leave, "START"): "2030-01-01"}}
    assert refused(client, hook(anna), "lists.element.add", add)[:2] == (403, "ACCESS_DENIED")
    assert (
        ok(client, hook(anna), "lists.element.delete", at | {"ELEMENT_CODE": "a"})["result"] is True
    )
    assert list(Element.objects.values_list("code", flat=True)) == ["b"]

    # A list one may neither read nor add to, holding none of one's elements, is not there.
    hidden = services.list_create(values={"name": "Salaries", "code": "pay"}, user=None)
    stranger = hook(UserFactory())
    assert (
        refused(client, stranger, "lists.element.get", where(hidden))[1] == "ERROR_IBLOCK_NOT_FOUND"
    )
    add = where(hidden) | {"ELEMENT_CODE": "x", "FIELDS": {"NAME": "x"}}
    assert refused(client, stranger, "lists.element.add", add)[1] == "ERROR_IBLOCK_NOT_FOUND"


def test_bad_element_values_are_refused_with_a_clear_error_and_nothing_is_stored(
    client, base, leave, media, settings
) -> None:
    settings.CRM_FILE_MAX_BYTES = 100
    services.listfield_create(
        list_=leave, values={"code": "SCAN", "name": "Scan", "type": "F"}, user=None
    )
    at = where(leave)
    start, kind, person, days, scan = (
        prop(leave, code) for code in ("START", "KIND", "DEPUTY", "DAYS", "SCAN")
    )
    good = {"NAME": "Holiday", start: "2030-07-01"}
    big = base64.b64encode(b"x" * 200).decode()
    cases = [
        ({"FIELDS": good}, "ERROR_REQUIRED_PARAMETERS_MISSING"),  # no ELEMENT_CODE
        ({"ELEMENT_CODE": "x" * 256, "FIELDS": good}, "INVALID_ARG_VALUE"),
        ({"ELEMENT_CODE": "x"}, "ERROR_REQUIRED_PARAMETERS_MISSING"),
        ({"ELEMENT_CODE": "x", "FIELDS": good | {"COLOR": "red"}}, "ERROR_ELEMENT_FIELD_VALUE"),
        (
            {"ELEMENT_CODE": "x", "FIELDS": good | {"PROPERTY_999999": "1"}},
            "ERROR_ELEMENT_FIELD_VALUE",
        ),
        ({"ELEMENT_CODE": "x", "FIELDS": good | {kind: "999999"}}, "ERROR_ELEMENT_FIELD_VALUE"),
        ({"ELEMENT_CODE": "x", "FIELDS": good | {kind: "paid"}}, "ERROR_ELEMENT_FIELD_VALUE"),
        (
            {"ELEMENT_CODE": "x", "FIELDS": good | {start: "next summer"}},
            "ERROR_ELEMENT_FIELD_VALUE",
        ),
        ({"ELEMENT_CODE": "x", "FIELDS": good | {person: "999999"}}, "ERROR_ELEMENT_FIELD_VALUE"),
        ({"ELEMENT_CODE": "x", "FIELDS": good | {days: ["1", "2"]}}, "ERROR_ELEMENT_FIELD_VALUE"),
        ({"ELEMENT_CODE": "x", "FIELDS": good | {days: "many"}}, "ERROR_ELEMENT_FIELD_VALUE"),
        ({"ELEMENT_CODE": "x", "FIELDS": good | {"NAME": ""}}, "ERROR_ELEMENT_FIELD_VALUE"),
        ({"ELEMENT_CODE": "x", "FIELDS": good | {"NAME": "n" * 256}}, "ERROR_ELEMENT_FIELD_VALUE"),
        (
            {"ELEMENT_CODE": "x", "FIELDS": good | {"DATE_CREATE": "2020-01-01"}},
            "ERROR_ELEMENT_FIELD_VALUE",
        ),
        ({"ELEMENT_CODE": "x", "FIELDS": {"NAME": "No start"}}, "ERROR_ELEMENT_FIELD_VALUE"),
        (
            {"ELEMENT_CODE": "x", "FIELDS": good | {scan: ["a.txt", "not base64!"]}},
            "ERROR_ELEMENT_FIELD_VALUE",
        ),
        (
            {"ELEMENT_CODE": "x", "FIELDS": good | {scan: ["a.txt", big]}},
            "ERROR_ELEMENT_FIELD_VALUE",
        ),
        (
            {
                "ELEMENT_CODE": "x",
                "FIELDS": good
                | {days: "5", scan: ["a.txt", base64.b64encode(b"ok").decode()], kind: "999999"},
            },
            "ERROR_ELEMENT_FIELD_VALUE",
        ),
        ({"ELEMENT_CODE": "x", "FIELDS": "NAME=x"}, ""),
    ]
    for params, error in cases:
        status, code, description = refused(client, base, "lists.element.add", at | params)
        assert (status, code) == (400, error), (params, description)
        assert description
    assert not Element.objects.exists()
    assert not ElementFile.objects.exists()
    assert not any(media.rglob("*.txt"))


def test_a_file_goes_in_as_base64_and_is_kept_by_its_id(client, base, leave, media) -> None:
    services.listfield_create(
        list_=leave, values={"code": "SCAN", "name": "Scan", "type": "F"}, user=None
    )
    at = where(leave)
    scan, start = prop(leave, "SCAN"), prop(leave, "START")
    content = base64.b64encode(b"signed form").decode()
    element_id = ok(
        client,
        base,
        "lists.element.add",
        at
        | {
            "ELEMENT_CODE": "f",
            "FIELDS": {"NAME": "With scan", start: "2030-01-01", scan: ["form.pdf", content]},
        },
    )["result"]
    stored = ElementFile.objects.get()
    assert (stored.name, stored.element_id, stored.file.read()) == (
        "form.pdf",
        element_id,
        b"signed form",
    )
    (row,) = ok(client, base, "lists.element.get", at | {"ELEMENT_ID": element_id})["result"]
    assert row[scan] == {"1": str(stored.pk)}

    keep = at | {
        "ELEMENT_ID": element_id,
        "FIELDS": {"NAME": "Renamed", start: "2030-01-01", scan: row[scan]},
    }
    assert ok(client, base, "lists.element.update", keep)["result"] is True
    stored.refresh_from_db()
    assert stored.element_id == element_id


# Processes on list elements ---------------------------------------------------------------------


def bpt(*blocks: dict) -> str:
    tree = {
        "Type": "SequentialWorkflowActivity",
        "Name": "Template",
        "Properties": {"Title": "Leave approval"},
        "Children": list(blocks),
    }
    content = BptContent(
        version=2, template=[tree], parameters={}, variables={}, constants={}, document_fields={}
    )
    return base64.b64encode(bpt_write(content)).decode()


WAIT = node("DelayActivity", "A_wait", Title="Wait", TimeoutDuration="1", TimeoutDurationType="h")


def test_a_process_runs_on_an_element_over_rest(client, base, admin, leave) -> None:
    document_type = ["lists", "BizprocDocument", f"iblock_{leave.pk}"]
    template_id = ok(
        client,
        base,
        "bizproc.workflow.template.add",
        {"DOCUMENT_TYPE": document_type, "NAME": "Leave approval", "TEMPLATE_DATA": bpt(WAIT)},
    )["result"]
    template = Template.objects.get(pk=template_id)
    assert tuple(template.document_type_triple) == tuple(document_type)
    listed = ok(
        client, base, "bizproc.workflow.template.list", {"SELECT": ["ID", "DOCUMENT_TYPE"]}
    )["result"]
    assert {"ID": str(template_id), "DOCUMENT_TYPE": document_type} in listed

    employee = UserFactory()
    mine = hook(employee)
    element_id = ok(
        client,
        mine,
        "lists.element.add",
        where(leave)
        | {"ELEMENT_CODE": "e", "FIELDS": {"NAME": "Mine", prop(leave, "START"): "2030-01-01"}},
    )["result"]

    # Either entity name goes for the element, as in Bitrix.
    for entity in ("BizprocDocument", "Bitrix\\Lists\\BizprocDocumentLists"):
        started = ok(
            client,
            mine,
            "bizproc.workflow.start",
            {"TEMPLATE_ID": template_id, "DOCUMENT_ID": ["lists", entity, str(element_id)]},
        )["result"]
        instance = Instance.objects.get(pk=started)
        assert (instance.document_id, instance.status) == (str(element_id), InstanceStatus.RUNNING)

    rows = ok(
        client,
        base,
        "bizproc.workflow.instances",
        {"SELECT": ["ID", "MODULE_ID", "ENTITY", "DOCUMENT_ID", "TEMPLATE_ID"]},
    )["result"]
    assert len(rows) == 2
    assert {(row["MODULE_ID"], row["ENTITY"], row["DOCUMENT_ID"]) for row in rows} == {
        ("lists", "BizprocDocument", str(element_id))
    }
    assert refused(client, mine, "bizproc.workflow.instances", {})[:2] == (403, "ACCESS_DENIED")

    # Someone else's element: not found for one who may not read it.
    other = hook(UserFactory())
    start = {
        "TEMPLATE_ID": template_id,
        "DOCUMENT_ID": ["lists", "BizprocDocument", str(element_id)],
    }
    status, body = call(client, other, "bizproc.workflow.start", start)
    assert (status, body["error_description"]) == (400, "Not found")
    # A template of another list does not start on it.
    wrong = start | {"DOCUMENT_ID": ["lists", "BizprocDocument", "999999"]}
    assert refused(client, mine, "bizproc.workflow.start", wrong)[0] in (400, 404)
    assert Instance.objects.count() == 2


def test_template_add_for_a_list_needs_the_right_to_design_its_processes(client, leave) -> None:
    document_type = ["lists", "BizprocDocument", f"iblock_{leave.pk}"]
    params = {"DOCUMENT_TYPE": document_type, "NAME": "Mine", "TEMPLATE_DATA": bpt(WAIT)}
    designer = UserFactory()
    assert refused(client, hook(designer), "bizproc.workflow.template.add", params)[:2] == (
        403,
        "ACCESS_DENIED",
    )
    services.list_update(
        list_=leave, values={"access": {"add": ["AU"], "design": [f"U{designer.pk}"]}}, user=None
    )
    assert ok(client, hook(designer), "bizproc.workflow.template.add", params)["result"]
    unknown = params | {"DOCUMENT_TYPE": ["lists", "BizprocDocument", "iblock_999999"]}
    assert refused(client, hook(designer), "bizproc.workflow.template.add", unknown)[1] == (
        "ERROR_TEMPLATE_VALIDATION_FAILURE"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_approver_lists_and_answers_the_task_of_a_list_element(client) -> None:
    schemas_forget()
    admin = lists_admin(full_name="Lena Admin")
    approver = UserFactory(full_name="Pavel Approver")
    leave = services.list_create(
        values={
            "kind": ListKind.PROCESSES,
            "name": "Leave",
            "code": "leave2",
            "access": {"add": ["AU"]},
        },
        user=admin,
    )
    approval = node(
        "ApproveActivity",
        "A_ok",
        children=[
            sequence(node("LogActivity", Text="approved")),
            sequence(node("LogActivity", Text="rejected")),
        ],
        Users=[f"user_{approver.pk}"],
        Name="Approve {=Document:NAME}",
    )
    template_id = ok(
        client,
        hook(admin),
        "bizproc.workflow.template.add",
        {
            "DOCUMENT_TYPE": ["lists", "BizprocDocument", f"iblock_{leave.pk}"],
            "NAME": "Approval",
            "TEMPLATE_DATA": bpt(approval),
        },
    )["result"]
    employee = hook(UserFactory())
    element_id = ok(
        client,
        employee,
        "lists.element.add",
        where(leave) | {"ELEMENT_CODE": "r", "FIELDS": {"NAME": "Trip"}},
    )["result"]
    workflow_id = ok(
        client,
        employee,
        "bizproc.workflow.start",
        {"TEMPLATE_ID": template_id, "DOCUMENT_ID": ["lists", "BizprocDocument", element_id]},
    )["result"]

    mine = hook(approver)
    (row,) = ok(client, mine, "bizproc.task.list", {"SELECT": ["*"]})["result"]
    task = ProcessTask.objects.get()
    assert (row["ID"], row["NAME"], row["WORKFLOW_ID"]) == (
        str(task.pk),
        "Approve Trip",
        workflow_id,
    )
    # Bitrix's shape: the element's id; the module and entity are fields of their own.
    assert (row["ENTITY"], row["DOCUMENT_ID"]) == ("BizprocDocument", str(element_id))
    assert (
        ok(client, mine, "bizproc.task.complete", {"TASK_ID": task.pk, "STATUS": "yes"})["result"]
        is True
    )
    run_tasks()
    instance = Instance.objects.get(pk=workflow_id)
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, 6) == ["approved"]
    assert schema_of(leave.pk).properties == ()


def test_a_bad_update_is_refused_and_the_element_stays_as_it_was(
    client, base, admin, leave
) -> None:
    at = where(leave)
    start = prop(leave, "START")
    for code in ("one", "two"):
        ok(
            client,
            base,
            "lists.element.add",
            at | {"ELEMENT_CODE": code, "FIELDS": {"NAME": code, start: "2030-01-01"}},
        )
    element = Element.objects.get(code="one")
    cases = [
        ({"FIELDS": {"NAME": "x", start: "2030-01-01"}}, "ERROR_REQUIRED_PARAMETERS_MISSING"),
        ({"ELEMENT_CODE": "one"}, "ERROR_REQUIRED_PARAMETERS_MISSING"),
        ({"ELEMENT_CODE": "one", "FIELDS": {start: "2030-01-01"}}, "ERROR_ELEMENT_FIELD_VALUE"),
        ({"ELEMENT_CODE": "one", "FIELDS": {"NAME": "x"}}, "ERROR_ELEMENT_FIELD_VALUE"),
        (
            {"ELEMENT_CODE": "one", "FIELDS": {"NAME": "x", start: "2030-01-01", "CODE": "two"}},
            "ERROR_ELEMENT_ALREADY_EXISTS",
        ),
        (
            {
                "ELEMENT_CODE": "one",
                "FIELDS": {"NAME": "x", start: "2030-01-01", "CODE": "c" * 256},
            },
            "ERROR_ELEMENT_FIELD_VALUE",
        ),
        (
            {"ELEMENT_CODE": "one", "FIELDS": {"NAME": "x", start: "2030-01-01", "ID": 5}},
            "ERROR_ELEMENT_FIELD_VALUE",
        ),
    ]
    for params, error in cases:
        status, code, description = refused(client, base, "lists.element.update", at | params)
        assert (status, code) == (400, error), (params, description)
    fresh = Element.objects.get(pk=element.pk)
    assert (fresh.name, fresh.code, fresh.version) == ("one", "one", element.version)
