"""A list's fields pages: the built-in fields and the properties, creating a List property
with its options through the form (with and without the "Add option" round trip), a link
property naming its list, bad input refused with nothing stored, deleting after a
confirmation that says how many elements hold a value and which processes name the field."""

import pytest
from django.urls import reverse

from bizproc import services as bizproc_services
from bizproc.tree import root_node
from lists.documents import document_type_of_list
from lists.models import ListField, ListFieldOption, PropertyType
from tests.html import by_id, by_role, html_parse, labelled, submitted, text
from tests.lists.conftest import make_element, make_field, make_list

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def trips(lists_admin):
    return make_list(lists_admin, "trips", name="Trips", access={"add": ["AU"]})


def test_the_fields_page_shows_the_built_in_fields_and_the_properties(client, lists_admin, trips):
    make_field(lists_admin, trips, "DAYS", PropertyType.NUMBER, name="Days")
    client.force_login(lists_admin)
    page = html_parse(client.get(reverse("lists:field-list", args=[trips.pk])).text)
    properties = text(by_role(page, "group", "Fields of the list")[0])
    assert "Days" in properties and "PROPERTY_DAYS" in properties and "Number" in properties
    builtins = text(by_role(page, "group", "Built-in fields")[0])
    for code in ("NAME", "ACTIVE_FROM", "CREATED_BY", "TIMESTAMP_X"):
        assert code in builtins


def test_a_list_property_is_created_with_its_options_without_scripts(client, lists_admin, trips):
    client.force_login(lists_admin)
    url = reverse("lists:field-create", args=[trips.pk])
    response = client.get(url)
    data = submitted(response.text, "field-form")
    # Two empty option rows are drawn; "Add option" draws one more (the page, no htmx).
    data |= {"code": ["transport"], "name": ["Transport"], "type": [PropertyType.LIST]}
    data |= {"option-0-value": ["Train"], "option-1-value": ["Plane"]}
    more = client.post(url, data | {"add_option": ["1"]})
    assert more.status_code == 200
    assert not ListField.objects.exists()
    data = submitted(more.text, "field-form")
    data.pop("add_option", None)
    data |= {"option-2-value": ["Car"], "option-1-default": ["1"], "option-2-xml_id": ["CAR"]}
    response = client.post(url, data)
    assert response.status_code == 302, response.text
    field = ListField.objects.get()
    assert (field.code, field.type) == ("TRANSPORT", PropertyType.LIST)
    options = list(field.options.values_list("value", "default"))
    assert options == [("Train", False), ("Plane", True), ("Car", False)]
    assert field.options.get(value="Car").xml_id == "CAR"


def test_add_option_with_htmx_answers_the_options_editor_only(client, lists_admin, trips):
    client.force_login(lists_admin)
    url = reverse("lists:field-create", args=[trips.pk])
    data = {"type": PropertyType.LIST, "option-0-value": "Train", "add_option": "1"}
    response = client.post(url, data, headers=HTMX)
    page = html_parse(response.text)
    assert by_id(page, "field-options")
    assert value_of(labelled(page, "Option 1")) == "Train"
    assert len(by_role(page, "textbox", "Option 2")) == 1


def value_of(control):
    return control.attrs.get("value", "")


def test_editing_options_keeps_their_external_codes_and_deletes_the_ticked_ones(
    client, lists_admin, trips, employee
):
    field = make_field(
        lists_admin,
        trips,
        "TRANSPORT",
        PropertyType.LIST,
        options=[{"value": "Train", "xml_id": "TRAIN"}, {"value": "Plane", "xml_id": "PLANE"}],
    )
    element = make_element(trips, employee, "Trip", PROPERTY_TRANSPORT="PLANE")
    client.force_login(lists_admin)
    url = reverse("lists:field-update", args=[trips.pk, field.pk])
    data = submitted(client.get(url).text, "field-form")
    data["option-0-value"] = ["Train (2nd class)"]
    data["option-1-delete"] = ["1"]
    response = client.post(url, data)
    assert response.status_code == 302, response.text
    assert list(ListFieldOption.objects.values_list("value", "xml_id")) == [
        ("Train (2nd class)", "TRAIN")
    ]
    element.refresh_from_db()
    assert str(field.pk) not in element.values


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": ["1BAD"]}, "code", "starts with a Latin letter"),
        ({"code": ["NAME"]}, "code", "built-in field"),
        ({"name": [""]}, "name", "This field is required."),
        ({"default": ["many"], "type": [PropertyType.NUMBER]}, "default", "not a number"),
    ],
)
def test_bad_property_input_is_refused_and_nothing_is_stored(
    client, lists_admin, trips, changes, field, message
):
    client.force_login(lists_admin)
    data = {"code": ["DAYS"], "name": ["Days"], "type": [PropertyType.STRING], "sort": ["500"]}
    response = client.post(reverse("lists:field-create", args=[trips.pk]), data | changes)
    assert response.status_code == 422
    page = html_parse(response.text)
    assert "Nothing was saved" in text(by_id(page, "form-errors"))
    assert message in text(by_id(page, f"id_{field}_error"))
    assert not ListField.objects.exists()


def test_a_link_property_names_its_list(client, lists_admin, trips):
    cities = make_list(lists_admin, "cities", name="Cities")
    client.force_login(lists_admin)
    data = {"code": "CITY", "name": "City", "type": PropertyType.ELEMENT, "sort": "500"}
    data["link_list"] = str(cities.pk)
    response = client.post(reverse("lists:field-create", args=[trips.pk]), data)
    assert response.status_code == 302
    assert ListField.objects.get().settings["LINK_IBLOCK_ID"] == cities.pk


def test_deleting_a_field_says_how_many_elements_hold_a_value_and_which_processes_use_it(
    client, lists_admin, trips, employee
):
    field = make_field(lists_admin, trips, "DAYS", PropertyType.NUMBER, name="Days")
    make_element(trips, employee, "Short", PROPERTY_DAYS=2)
    make_element(trips, employee, "Long", PROPERTY_DAYS=9)
    make_element(trips, employee, "Unknown")
    template = bizproc_services.template_create(
        document_type=document_type_of_list(trips), name="Trip approval", user=lists_admin
    )
    tree = root_node()
    tree["Children"] = [
        {
            "Type": "LogActivity",
            "Name": "A1_1",
            "Properties": {"Title": "Note the days", "Text": "{=Document:PROPERTY_DAYS}"},
            "Children": [],
        }
    ]
    template.tree = tree
    template.save()
    client.force_login(lists_admin)
    url = reverse("lists:field-delete", args=[trips.pk, field.pk])
    page = html_parse(client.get(url).text)
    assert "2 elements hold a value" in text(by_id(page, "values-count"))
    assert "Trip approval" in text(page) and "Note the days" in text(page)
    response = client.post(url)
    assert response["Location"] == reverse("lists:field-list", args=[trips.pk])
    assert not ListField.objects.exists()
