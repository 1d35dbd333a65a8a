"""Fixtures of the lists page tests: a lists administrator, employees, and lists built
through ``lists.services``."""

import pytest
from django.contrib.auth.models import Permission

from lists import services
from lists.models import ListKind
from lists.properties import schemas_forget
from tests.crm.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_list_schemas() -> None:
    """Each test reads the properties its own database holds (the process keeps them)."""
    schemas_forget()


@pytest.fixture
def lists_admin(db):
    """May manage lists (``lists.change_list``) without being a superuser."""
    user = UserFactory(full_name="Irina Sokolova")
    user.user_permissions.add(Permission.objects.get(codename="change_list"))
    return user


@pytest.fixture
def employee(db):
    return UserFactory(full_name="Anna Petrova")


@pytest.fixture
def colleague(db):
    return UserFactory(full_name="Boris Orlov")


def make_list(admin, code="trips", *, kind=ListKind.LISTS, access=None, **values):
    return services.list_create(
        values={
            "name": values.pop("name", code.title()),
            "code": code,
            "kind": kind,
            "access": access if access is not None else {},
            **values,
        },
        user=admin,
    )


def make_field(admin, list_, code, type_, **values):
    return services.listfield_create(
        list_=list_,
        values={"code": code, "name": values.pop("name", code.title()), "type": type_, **values},
        user=admin,
    )


def make_element(list_, user, name="Element", **values):
    """An element of ``user``'s, written with system rights (as a process would)."""
    return services.element_create(
        list_=list_, values={"NAME": name, **values}, user=user, by_process=True
    )
