"""``department.*`` and ``user.get`` / ``user.current`` / ``user.search`` over REST in Bitrix24's
shapes, with the structure administrators' rights and bad input refused."""

import pytest
from django.test import Client

from accounts.models import Department, User
from tests.crm.factories import UserFactory
from tests.rest.test_methods import call, hook

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> User:
    return UserFactory(username="irina", full_name="Irina Sokolova", is_superuser=True)


@pytest.fixture
def anna() -> User:
    return UserFactory(username="anna", full_name="Anna Petrova")


@pytest.fixture
def org(admin, anna):
    top = Department.objects.create(name="Demo company", head=admin, sort=100)
    sales = Department.objects.create(name="Sales", parent=top, sort=200)
    anna.departments.add(sales, top)
    return {"top": top, "sales": sales}


def ok(client: Client, user: User, method: str, params: dict | None = None):
    status, body = call(client, hook(user), method, params)
    assert status == 200, body
    return body


def test_department_get_answers_bitrix_shapes_with_strings(client, admin, anna, org):
    body = ok(client, anna, "department.get")
    assert body["result"] == [
        {"ID": str(org["top"].pk), "NAME": "Demo company", "SORT": "100", "UF_HEAD": str(admin.pk)},
        {
            "ID": str(org["sales"].pk),
            "NAME": "Sales",
            "SORT": "200",
            "PARENT": str(org["top"].pk),
            "UF_HEAD": "0",
        },
    ]
    assert body["total"] == 2


def test_department_get_filters_by_top_level_keys_and_sorts(client, anna, org, admin):
    Department.objects.create(name="Marketing", parent=org["top"], sort=50)
    body = ok(
        client, anna, "department.get", {"PARENT": org["top"].pk, "sort": "NAME", "order": "DESC"}
    )
    assert [d["NAME"] for d in body["result"]] == ["Sales", "Marketing"]
    body = ok(client, anna, "department.get", {"UF_HEAD": admin.pk})
    assert [d["NAME"] for d in body["result"]] == ["Demo company"]
    body = ok(client, anna, "department.get", {"filter": {"ID": [org["sales"].pk]}})
    assert [d["NAME"] for d in body["result"]] == ["Sales"]
    body = ok(client, anna, "department.get", {"SORT": 50})
    assert [d["NAME"] for d in body["result"]] == ["Marketing"]


def test_department_get_pages_by_fifty(client, anna, org):
    Department.objects.bulk_create(
        Department(name=f"Team {n}", parent=org["top"]) for n in range(60)
    )
    first = ok(client, anna, "department.get")
    assert (len(first["result"]), first["next"], first["total"]) == (50, 50, 62)
    second = ok(client, anna, "department.get", {"start": 50})
    assert len(second["result"]) == 12 and "next" not in second


@pytest.mark.parametrize(
    "params", [{"sort": "COLOUR"}, {"order": "UP"}, {"PARENT": "abc"}, {"start": "x"}]
)
def test_department_get_refuses_bad_parameters(client, anna, org, params):
    status, body = call(client, hook(anna), "department.get", params)
    assert status == 400 and body["error_description"]


def test_an_administrator_adds_updates_and_deletes_a_department(client, admin, anna, org):
    new_id = ok(
        client,
        admin,
        "department.add",
        {"NAME": "Key accounts", "PARENT": org["sales"].pk, "UF_HEAD": anna.pk, "SORT": 300},
    )["result"]
    made = Department.objects.get(pk=new_id)
    assert (made.name, made.parent, made.head, made.sort) == (
        "Key accounts",
        org["sales"],
        anna,
        300,
    )
    assert (
        ok(client, admin, "department.update", {"ID": new_id, "PARENT": org["top"].pk})["result"]
        is True
    )
    made.refresh_from_db()
    assert (made.name, made.parent, made.head) == ("Key accounts", org["top"], anna)
    assert ok(client, admin, "department.delete", {"ID": new_id})["result"] is True
    assert not Department.objects.filter(pk=new_id).exists()


@pytest.mark.parametrize("method", ["department.add", "department.update", "department.delete"])
def test_only_structure_administrators_change_departments(client, anna, org, method):
    params = {"ID": org["sales"].pk, "NAME": "Mine", "PARENT": org["top"].pk}
    status, body = call(client, hook(anna), method, params)
    assert (status, body["error"]) == (403, "ACCESS_DENIED")
    assert Department.objects.get(pk=org["sales"].pk).name == "Sales"
    assert Department.objects.count() == 2


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("department.add", {"PARENT": 1}, "NAME"),
        ("department.add", {"NAME": "Orphan"}, "PARENT"),
        ("department.add", {"NAME": "X", "PARENT": 999}, "PARENT"),
        ("department.add", {"NAME": "X", "PARENT": "top", "UF_HEAD": 1}, "PARENT"),
        ("department.add", {"NAME": "X", "PARENT": "TOP", "UF_HEAD": 999}, "UF_HEAD"),
        ("department.update", {"ID": 999, "NAME": "X"}, "not found"),
        ("department.update", {"ID": "TOP", "PARENT": "SALES"}, "PARENT"),
        ("department.delete", {"ID": "TOP"}, "sub-departments"),
        ("department.delete", {}, "ID"),
    ],
)
def test_bad_department_writes_are_refused_and_nothing_changes(
    client, admin, org, method, params, message
):
    ids = {"TOP": org["top"].pk, "SALES": org["sales"].pk}
    params = {key: ids.get(value, value) for key, value in params.items()}
    before = list(Department.objects.values_list("pk", "name", "parent_id", "head_id"))
    status, body = call(client, hook(admin), method, params)
    assert status == 400, body
    assert message in body["error_description"]
    assert list(Department.objects.values_list("pk", "name", "parent_id", "head_id")) == before


def test_user_current_answers_the_caller_with_their_departments(client, anna, org):
    user = ok(client, anna, "user.current")["result"]
    assert user["ID"] == str(anna.pk)
    assert (user["NAME"], user["LAST_NAME"], user["EMAIL"]) == (
        "Anna",
        "Petrova",
        "anna@example.com",
    )
    assert user["ACTIVE"] is True
    assert user["UF_DEPARTMENT"] == sorted([org["top"].pk, org["sales"].pk])


def test_user_get_filters_by_department_and_name(client, admin, anna, org):
    UserFactory(username="boris", full_name="Boris Ivanov", is_active=False)
    body = ok(client, admin, "user.get", {"FILTER": {"UF_DEPARTMENT": org["sales"].pk}})
    assert [u["ID"] for u in body["result"]] == [str(anna.pk)]
    body = ok(client, admin, "user.get", {"NAME": "anna"})
    assert [u["LAST_NAME"] for u in body["result"]] == ["Petrova"]
    body = ok(client, admin, "user.get", {"filter": {"ACTIVE": "N"}})
    assert [u["NAME"] for u in body["result"]] == ["Boris"]
    body = ok(client, admin, "user.get", {"ID": anna.pk, "UNKNOWN_FIELD": "ignored"})
    assert body["total"] == 1


def test_user_search_finds_by_any_word(client, admin, anna, org):
    body = ok(client, admin, "user.search", {"FIND": "sales"})
    assert [u["ID"] for u in body["result"]] == [str(anna.pk)]
    body = ok(client, admin, "user.search", {"FIND": "irina soko"})
    assert [u["ID"] for u in body["result"]] == [str(admin.pk)]


@pytest.mark.parametrize("params", [{"ACTIVE": "maybe"}, {"ID": "abc"}, {"sort": "PASSWORD"}])
def test_user_get_refuses_bad_filters(client, anna, params):
    status, body = call(client, hook(anna), "user.get", params)
    assert status == 400, body
