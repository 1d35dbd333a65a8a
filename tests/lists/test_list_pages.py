"""The lists index and a list's settings pages: who sees which list and how many of its
elements, creating a list with its access through the form, bad input refused with nothing
stored, the type fixed after creation, deleting after a confirmation, 403 for non-admins."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from lists.models import Element, List, ListKind
from tests.html import by_id, by_role, html_parse, labelled, submitted, text
from tests.lists.conftest import make_element, make_list

pytestmark = pytest.mark.django_db


def test_index_shows_the_lists_one_may_open_with_the_elements_one_may_read(
    client, lists_admin, employee, colleague
):
    shared = make_list(lists_admin, "shared", name="Shared", access={"read": ["AU"]})
    addable = make_list(lists_admin, "leave", name="Leave", access={"add": ["AU"]})
    make_list(lists_admin, "secret", name="Secret")
    make_element(shared, colleague, "Colleague's")
    make_element(shared, employee, "Mine")
    make_element(addable, colleague, "Colleague's leave")
    make_element(addable, employee, "My leave")
    client.force_login(employee)
    page = html_parse(client.get(reverse("lists:list-index")).text)
    cards = {text(h) for h in by_role(page, "heading") if h.name == "h2"}
    assert cards == {"Shared", "Leave"}
    body = text(page)
    assert "2 elements" in body  # the whole shared list
    assert "1 element" in body  # only their own leave
    assert not by_role(page, "link", "New list")


def test_a_list_with_ones_own_elements_shows_though_its_access_grants_nothing(
    client, lists_admin, employee
):
    closed = make_list(lists_admin, "closed", name="Closed")
    make_element(closed, employee, "Mine")
    client.force_login(employee)
    page = html_parse(client.get(reverse("lists:list-index")).text)
    assert by_role(page, "link", "Closed")


def test_an_admin_creates_a_list_with_its_access_through_the_form(client, lists_admin, employee):
    group = Group.objects.create(name="Accounting")
    client.force_login(lists_admin)
    response = client.get(reverse("lists:list-create"))
    page = html_parse(response.text)
    assert labelled(page, "Name").name == "input"
    data = submitted(response.text, "list-form")
    data |= {
        "name": ["Business trips"],
        "code": ["trips"],
        "kind": [ListKind.PROCESSES],
        "icon": ["plane"],
        "sort": ["100"],
        "description": ["Trips abroad"],
        "element_name": ["Trip"],
        "access_add_all": ["1"],
        "access_read_users": [f"user_{employee.pk}"],
        "access_edit_groups": [str(group.pk)],
    }
    response = client.post(reverse("lists:list-create"), data)
    created = List.objects.get(code="trips")
    assert response.status_code == 302
    assert response["Location"] == reverse("lists:field-list", args=[created.pk])
    assert created.name == "Business trips"
    assert created.kind == ListKind.PROCESSES
    assert created.element_name == "Trip"
    assert created.access["add"] == ["AU"]
    assert created.access["read"] == [f"U{employee.pk}"]
    assert created.access["edit"] == [f"G{group.pk}"]


def test_the_settings_show_who_holds_each_right_by_name(client, lists_admin, employee):
    list_ = make_list(lists_admin, access={"read": [f"U{employee.pk}"], "add": ["AU"]})
    client.force_login(lists_admin)
    page = html_parse(client.get(reverse("lists:list-update", args=[list_.pk])).text)
    assert "Anna Petrova" in text(page)
    assert f"U{employee.pk}" not in text(page)
    everyone = by_role(page, "checkbox", "Every employee")
    assert ["checked" in box.attrs for box in everyone] == [False, True, False, False]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": [""]}, "name", "This field is required."),
        ({"code": ["кириллица"]}, "code", "Latin letters, digits"),
        ({"sort": ["-4"]}, "sort", "greater than or equal to 0"),
    ],
)
def test_bad_list_settings_are_refused_next_to_their_input_and_nothing_is_stored(
    client, lists_admin, changes, field, message
):
    client.force_login(lists_admin)
    data = {"name": ["Trips"], "code": ["trips"], "kind": ["lists"], "icon": ["list"]}
    data |= {"sort": ["500"]} | changes
    response = client.post(reverse("lists:list-create"), data)
    assert response.status_code == 422
    page = html_parse(response.text)
    assert "Nothing was saved" in text(by_id(page, "form-errors"))
    assert message in text(by_id(page, f"id_{field}_error"))
    assert not List.objects.exists()


def test_a_code_in_use_is_refused(client, lists_admin):
    make_list(lists_admin, "trips")
    client.force_login(lists_admin)
    data = {"name": "Other", "code": "trips", "kind": "lists", "icon": "list", "sort": "500"}
    response = client.post(reverse("lists:list-create"), data)
    assert response.status_code == 422
    assert List.objects.count() == 1


def test_the_type_of_a_list_stays_as_it_was_created(client, lists_admin):
    list_ = make_list(lists_admin, "trips", kind=ListKind.LISTS)
    client.force_login(lists_admin)
    url = reverse("lists:list-update", args=[list_.pk])
    page = html_parse(client.get(url).text)
    assert "disabled" in labelled(page, "Type").attrs
    data = {"name": "Renamed", "code": "trips", "kind": "bitrix_processes", "icon": "list"}
    response = client.post(url, data | {"sort": "500"})
    assert response.status_code == 302
    list_.refresh_from_db()
    assert (list_.name, list_.kind) == ("Renamed", ListKind.LISTS)


def test_non_admins_get_403_on_every_settings_page(client, lists_admin, employee):
    list_ = make_list(lists_admin, access={"read": ["AU"], "add": ["AU"], "edit": ["AU"]})
    client.force_login(employee)
    for url in [
        reverse("lists:list-create"),
        reverse("lists:list-update", args=[list_.pk]),
        reverse("lists:list-delete", args=[list_.pk]),
        reverse("lists:field-list", args=[list_.pk]),
        reverse("lists:field-create", args=[list_.pk]),
    ]:
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("lists:list-delete", args=[list_.pk]))
    assert response.status_code == 403
    assert List.objects.filter(pk=list_.pk).exists()


def test_deleting_a_list_asks_first_saying_how_many_elements_go(client, lists_admin, employee):
    list_ = make_list(lists_admin)
    make_element(list_, employee, "One")
    make_element(list_, employee, "Two")
    client.force_login(lists_admin)
    url = reverse("lists:list-delete", args=[list_.pk])
    page = html_parse(client.get(url).text)
    assert "Its 2 elements will be deleted" in text(by_id(page, "element-count"))
    assert List.objects.filter(pk=list_.pk).exists()
    response = client.post(url)
    assert response["Location"] == reverse("lists:list-index")
    assert not List.objects.filter(pk=list_.pk).exists()
    assert not Element.objects.exists()


def test_the_top_bar_links_to_lists_and_requests(client, employee):
    client.force_login(employee)
    page = html_parse(client.get(reverse("lists:list-index")).text)
    lists_link = by_role(page, "link", "Lists")[0]
    assert lists_link.attrs.get("aria-current") == "page"
    requests_link = by_role(page, "link", "Requests")[0]
    assert requests_link.attrs["href"] == reverse("lists:request-index")
