"""The Django admin of lists writes through ``lists.services``: its refusals show on the
admin's form with nothing stored, an element's edit is versioned like any other, files are
read-only."""

import pytest
from django.urls import reverse

from lists.models import Element, List, ListField
from tests.crm.factories import UserFactory
from tests.lists.conftest import make_element, make_field, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True, full_name="Root")


def test_a_list_added_in_the_admin_goes_through_the_services(client, superuser):
    client.force_login(superuser)
    data = {
        "name": "Trips",
        "code": "bad code!",
        "kind": "lists",
        "icon": "list",
        "sort": "500",
        "access": "{}",
        "element_name": "",
        "description": "",
        "bizproc": "on",
        "properties-TOTAL_FORMS": "0",
        "properties-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:lists_list_add"), data)
    assert response.status_code == 200
    assert "Latin letters" in response.text
    assert not List.objects.exists()
    response = client.post(reverse("admin:lists_list_add"), data | {"code": "trips"})
    assert response.status_code == 302
    assert List.objects.get().created_by == superuser


def test_a_property_changed_in_the_admin_keeps_its_code_and_type(client, superuser):
    list_ = make_list(superuser)
    field = make_field(superuser, list_, "DAYS", "N", name="Days")
    client.force_login(superuser)
    data = {
        "name": "Days off",
        "sort": "10",
        "default": '"many"',
        "settings": "{}",
        "options-TOTAL_FORMS": "0",
        "options-INITIAL_FORMS": "0",
    }
    url = reverse("admin:lists_listfield_change", args=[field.pk])
    response = client.post(url, data)
    assert response.status_code == 200 and "not a number" in response.text
    field.refresh_from_db()
    assert field.name == "Days"
    response = client.post(url, data | {"default": "3"})
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.name, field.code, field.type, field.default) == ("Days off", "DAYS", "N", 3.0)
    assert ListField.objects.count() == 1


def test_an_element_edited_in_the_admin_is_versioned(client, superuser):
    list_ = make_list(superuser)
    element = make_element(list_, superuser, "Trip")
    client.force_login(superuser)
    url = reverse("admin:lists_element_change", args=[element.pk])
    data = {"name": "", "sort": "500", "preview_text": "", "detail_text": ""}
    response = client.post(url, data)
    assert response.status_code == 200 and "required" in response.text
    response = client.post(url, data | {"name": "Trip to Kazan"})
    assert response.status_code == 302
    element = Element.objects.get()
    assert (element.name, element.version, element.modified_by) == ("Trip to Kazan", 2, superuser)


def test_the_admin_pages_of_lists_open(client, superuser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    list_ = make_list(superuser)
    make_field(superuser, list_, "KIND", "L", options=[{"value": "A"}])
    make_element(list_, superuser, "Trip")
    client.force_login(superuser)
    for name in ("list", "listfield", "element", "elementfile"):
        assert client.get(reverse(f"admin:lists_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:lists_list_change", args=[list_.pk])).status_code == 200
    assert client.get(reverse("admin:lists_elementfile_add")).status_code == 403
