"""The custom field pages (``/crm/<entity>/fields/…``) and the custom field admin: who may
open them, creating each kind of field as the form is drawn, editing, type changes refused
with the reason next to the type, deleting after a confirmation that names what goes, bad
input refused with nothing stored — and the admin going through the same services."""

import random

import pytest
from django.urls import reverse

from bizproc import scenarios
from bizproc.models import Template
from crm import services
from crm.documents import DOCUMENT_TYPES
from crm.models import Action, Deal, Level, UserField, UserFieldItem
from tests.bizproc.builders import node, published
from tests.crm.factories import DealFactory, UserFactory, user_with
from tests.html import by_id, by_role, elements, html_parse, labelled, submitted, text, value

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
RECORD_RIGHTS = {
    (entity_type, action): Level.ALL
    for entity_type in ("DEAL", "LEAD", "CONTACT", "COMPANY")
    for action in (Action.READ, Action.ADD, Action.UPDATE, Action.DELETE)
}


@pytest.fixture
def admin():
    return UserFactory(full_name="Irina Sokolova", is_crm_admin=True)


@pytest.fixture
def manager():
    """May do everything to every record, but is no CRM administrator."""
    return user_with(RECORD_RIGHTS, full_name="Anna Petrova")


def make_field(admin, code, field_type, entity_type="DEAL", **values):
    return services.userfield_create(
        entity_type=entity_type, values={"code": code, "type": field_type, **values}, user=admin
    )


def create_url(entity="deal"):
    return reverse("crm:field-create", args=[entity])


def edit_url(field):
    return reverse("crm:field-update", args=[field.entity_type.lower(), field.pk])


def delete_url(field):
    return reverse("crm:field-delete", args=[field.entity_type.lower(), field.pk])


def list_url(entity="deal"):
    return reverse("crm:field-list", args=[entity])


def drawn_form(client, url):
    """What the form at ``url`` posts as drawn, and the page."""
    response = client.get(url)
    assert response.status_code == 200
    return submitted(response.text, "field-form"), html_parse(response.text)


def error_of(page, control):
    """The message shown next to a control (the element its aria-describedby names)."""
    assert control.attrs.get("aria-invalid") == "true"
    ids = control.attrs["aria-describedby"].split()
    return " ".join(text(by_id(page, id_)) for id_ in ids if id_.endswith("_error"))


def stored():
    return list(UserField.objects.values()), list(UserFieldItem.objects.values())


# --- rights --------------------------------------------------------------------------------------


def test_only_crm_administrators_open_any_field_page_or_partial(client, admin, manager):
    field = make_field(admin, "COLOUR", "enumeration", items=[{"value": "Red"}])
    client.force_login(manager)
    requests = [
        ("get", list_url(), {}),
        ("get", create_url(), {}),
        ("post", create_url(), {"code": "X", "type": "string", "sort": "1"}),
        ("post", create_url(), {"add_option": "1"}),
        ("get", edit_url(field), {}),
        ("post", edit_url(field), {"type": "string", "sort": "1"}),
        ("post", edit_url(field), {"add_option": "1"}),
        ("get", delete_url(field), {}),
        ("post", delete_url(field), {}),
    ]
    before = stored()
    for method, url, data in requests:
        for headers in ({}, HTMX):
            response = getattr(client, method)(url, data, headers=headers)
            assert response.status_code == 403, (method, url)
    assert stored() == before


def test_the_fields_button_shows_on_record_lists_for_crm_administrators_only(
    client, admin, manager
):
    client.force_login(manager)
    page = html_parse(client.get(reverse("crm:record-list", args=["deal"])).text)
    assert by_role(page, "link", "Fields") == []
    client.force_login(admin)
    page = html_parse(client.get(reverse("crm:record-list", args=["deal"])).text)
    [link] = by_role(page, "link", "Fields")
    assert link.attrs["href"] == list_url()


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_each_field_and_switches_between_entity_types(client, admin):
    make_field(
        admin,
        "COLOUR",
        "enumeration",
        labels={"form": {"en": "Colour"}},
        mandatory=True,
        sort=5,
        items=[{"value": "Red"}, {"value": "Blue"}],
    )
    make_field(admin, "NO", "string", labels={"form": {"en": "Contract"}}, show_filter=False)
    make_field(admin, "SIZE", "integer", entity_type="LEAD", labels={"form": {"en": "Size"}})
    client.force_login(admin)
    page = html_parse(client.get(list_url()).text)
    rows = [
        [text(cell) for cell in row.children if not isinstance(cell, str)]
        for row in elements(page)
        if row.name == "tr"
    ]
    assert rows[1:] == [
        ["Colour", "UF_CRM_COLOUR", "List", "no", "yes", "yes", "yes", "5", "2", "Edit Delete"],
        [
            "Contract",
            "UF_CRM_NO",
            "String",
            "no",
            "no",
            "yes",
            "no",
            "100",
            "not set",
            "Edit Delete",
        ],
    ]
    assert by_role(page, "link", "New field")[0].attrs["href"] == create_url()
    [switch] = [nav for nav in elements(page) if nav.attrs.get("aria-label") == "Record types"]
    current = [link for link in by_role(switch, "link") if link.attrs.get("aria-current")]
    assert [text(link) for link in current] == ["Deals"]
    leads = next(link for link in by_role(switch, "link") if text(link) == "Leads")
    assert "Size" in client.get(leads.attrs["href"]).text


# --- creating ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field_type", "extra", "settings"),
    [
        ("string", {"default_value": "n/a"}, {"DEFAULT_VALUE": "n/a"}),
        ("integer", {"default_value": "7"}, {"DEFAULT_VALUE": "7"}),
        ("double", {}, {}),
        ("boolean", {"default_boolean": "1"}, {"DEFAULT_VALUE": "1"}),
        ("date", {"default_value": "2026-12-31"}, {"DEFAULT_VALUE": "2026-12-31"}),
        ("datetime", {}, {}),
        ("employee", {}, {}),
        ("money", {"currency": "USD"}, {"CURRENCY": "USD"}),
        ("url", {}, {}),
        ("crm", {"crm_types": ["COMPANY", "CONTACT"]}, {"COMPANY": "Y", "CONTACT": "Y"}),
        ("file", {}, {}),
    ],
)
def test_an_administrator_creates_a_field_of_each_type(client, admin, field_type, extra, settings):
    client.force_login(admin)
    data, page = drawn_form(client, create_url())
    assert "UF_CRM_" in text(by_id(page, labelled(page, "Code").attrs["aria-describedby"]))
    data |= {
        "code": "my_field",
        "type": field_type,
        "label_form_en": "My field",
        "label_form_ru": "Моё поле",
        "label_column_en": "Mine",
        "multiple": "on",
        **extra,
    }
    response = client.post(create_url(), data)
    assert response.status_code == 302
    assert response.url == list_url()
    field = UserField.objects.get()
    assert (field.code, field.type, field.multiple) == ("UF_CRM_MY_FIELD", field_type, True)
    assert field.labels == {"form": {"en": "My field", "ru": "Моё поле"}, "column": {"en": "Mine"}}
    assert field.settings == settings
    assert "Field UF_CRM_MY_FIELD saved." in client.get(response.url).text


def test_an_enumeration_is_created_with_its_options_and_default(client, admin):
    client.force_login(admin)
    data, page = drawn_form(client, create_url())
    assert labelled(page, "Option 1") and labelled(page, "Option 2")  # empty rows to fill
    data |= {
        "code": "COLOUR",
        "type": "enumeration",
        "label_form_en": "Colour",
        "option-0-value": "Red",
        "option-0-sort": "20",
        "option-1-value": "Blue",
        "option-1-sort": "10",
        "option-1-default": "1",
    }
    response = client.post(create_url(), data, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == list_url()
    field = UserField.objects.get()
    assert [(item.value, item.sort, item.is_default) for item in field.items.all()] == [
        ("Blue", 10, True),
        ("Red", 20, False),
    ]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["without js", "with htmx"])
def test_add_option_draws_one_more_empty_row_and_saves_nothing(client, admin, headers):
    client.force_login(admin)
    data, page = drawn_form(client, create_url())
    data |= {"code": "", "type": "enumeration", "option-0-value": "Red", "add_option": "1"}
    response = client.post(create_url(), data, headers=headers)
    assert response.status_code == 200
    page = html_parse(response.text)
    assert value(labelled(page, "Option 1")) == "Red"
    new_row = labelled(page, "Option 3")
    assert value(new_row) == "" and "autofocus" in new_row.attrs
    assert by_role(page, "alert") == []  # nothing was checked
    if headers:
        assert response.text.lstrip().startswith('<fieldset id="field-options"')
    assert not UserField.objects.exists()


# --- editing -------------------------------------------------------------------------------------


def test_editing_changes_labels_and_options_and_keeps_the_code(client, admin):
    field = make_field(
        admin,
        "COLOUR",
        "enumeration",
        labels={"form": {"en": "Colour"}},
        items=[{"value": "Red"}, {"value": "Blue"}],
    )
    client.force_login(admin)
    data, page = drawn_form(client, edit_url(field))
    assert value(labelled(page, "Code")) == "UF_CRM_COLOUR"
    assert "readonly" in labelled(page, "Code").attrs
    assert value(labelled(page, "Form label (English)")) == "Colour"
    assert value(labelled(page, "Option 2")) == "Blue"
    data |= {
        "label_form_en": "Color",
        "label_filter_ru": "Цвет",
        "option-1-delete": "1",
        "option-2-value": "Green",
        "code": "OTHER",  # not a field of the edit form: ignored
    }
    response = client.post(edit_url(field), data)
    assert response.status_code == 302
    field.refresh_from_db()
    assert field.code == "UF_CRM_COLOUR"
    assert field.labels == {"form": {"en": "Color"}, "filter": {"ru": "Цвет"}}
    assert [item.value for item in field.items.all()] == ["Red", "Green"]


def test_a_type_change_that_does_not_convert_is_refused_next_to_the_type(client, admin, manager):
    field = make_field(admin, "NOTE", "string")
    services.record_create(
        entity_type="DEAL", values={"TITLE": "D", "UF_CRM_NOTE": "not a number"}, user=manager
    )
    client.force_login(admin)
    data, _page = drawn_form(client, edit_url(field))
    data["type"] = "integer"
    response = client.post(edit_url(field), data, headers=HTMX)
    assert response.status_code == 422
    page = html_parse(response.text)
    assert "1 records hold values that do not convert" in error_of(page, labelled(page, "Type"))
    assert text(by_role(page, "alert")[0]).startswith("Nothing was saved")
    assert UserField.objects.get().type == "string"


def test_the_edit_page_lists_the_processes_that_use_the_field(client, admin):
    field = make_field(admin, "NOTE", "string")
    template = published(
        node("LogActivity", Text="Note: {=Document:UF_CRM_NOTE}", Title="Tell the note"),
        user=admin,
        name="Note reporter",
    )
    client.force_login(admin)
    page = html_parse(client.get(edit_url(field)).text)
    usages = by_role(page, "region", "Used in processes")[0]
    assert text(usages).startswith("Used in processes Note reporter : Tell the note published")
    [link] = by_role(usages, "link", "Note reporter")
    assert link.attrs["href"] == reverse("designer:template-edit", args=[template.pk])

    data = submitted(client.get(edit_url(field)).text, "field-form") | {"type": "integer"}
    response = client.post(edit_url(field), data)
    assert response.status_code == 422
    page = html_parse(response.text)
    assert "«Note reporter»" in error_of(page, labelled(page, "Type"))


def test_a_smart_scenario_using_the_field_links_to_the_scenario_editor(client, admin):
    field = make_field(admin, "NOTE", "string")
    scenario = scenarios.scenario_create(
        user=admin, document_type=DOCUMENT_TYPES["DEAL"], name="Welcome"
    )
    robots = scenario.template
    robots.tree = {**robots.tree, "Children": [node("LogActivity", Text="{=Document:UF_CRM_NOTE}")]}
    robots.save()
    client.force_login(admin)
    page = html_parse(client.get(edit_url(field)).text)
    usages = by_role(page, "region", "Used in processes")[0]
    [link] = by_role(usages, "link")
    assert link.attrs["href"] == reverse("designer:scenario-edit", args=[scenario.pk])
    assert "draft only" in text(usages)


# --- deleting ------------------------------------------------------------------------------------


def test_delete_asks_first_naming_the_values_and_processes_then_deletes(client, admin, manager):
    field = make_field(admin, "NOTE", "string", labels={"form": {"en": "Note"}})
    for title in ("A", "B"):
        services.record_create(
            entity_type="DEAL", values={"TITLE": title, "UF_CRM_NOTE": "x"}, user=manager
        )
    DealFactory()  # holds no value
    published(node("LogActivity", Text="{=Document:UF_CRM_NOTE}"), user=admin, name="Reporter")
    client.force_login(admin)
    page = html_parse(client.get(delete_url(field)).text)
    assert text(by_role(page, "heading")[0]) == "Delete the field “Note” (UF_CRM_NOTE)?"
    assert text(by_id(page, "values-count")).startswith("2 records hold a value of this field")
    assert by_role(page, "link", "Reporter")
    assert UserField.objects.exists()  # asking deletes nothing

    response = client.post(delete_url(field))
    assert response.status_code == 302
    assert not UserField.objects.exists()
    assert not Deal.objects.filter(uf__has_key="UF_CRM_NOTE").exists()
    assert Template.objects.filter(name="Reporter").exists()


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "label", "message"),
    [
        ({"code": "has space"}, "Code", "Latin letters, digits and underscores"),
        ({"label_form_en": "x" * 1_000_000}, "Form label (English)", "at most 255 characters"),
        ({"type": "matrix"}, "Type", "Select a valid choice"),
        ({"sort": "abc"}, "Sort", "Enter a whole number"),
        ({"type": "integer", "default_value": "many"}, "Default value", "default value"),
        ({"code": "\x00"}, "Code", "Null characters are not allowed"),
    ],
)
def test_bad_input_is_refused_next_to_its_input_and_nothing_is_stored(
    client, admin, changes, label, message
):
    client.force_login(admin)
    data, _page = drawn_form(client, create_url())
    data |= {"code": "GOOD", "type": "string"} | changes
    response = client.post(create_url(), data, headers=HTMX)
    assert response.status_code == 422
    page = html_parse(response.text)
    assert message in error_of(page, labelled(page, label))
    assert stored() == ([], [])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"option-0-value": "A", "option-0-sort": "x"}, "must be a whole number"),
        (
            {
                "option-0-value": "A",
                "option-0-default": "1",
                "option-1-value": "B",
                "option-1-default": "1",
            },
            "Only one option may be the default.",
        ),
        ({"option-0-value": "A" * 300}, "at most 255 characters"),
    ],
)
def test_bad_options_are_refused_under_the_options(client, admin, options, message):
    client.force_login(admin)
    data, _page = drawn_form(client, create_url())
    data |= {"code": "LIST", "type": "enumeration"} | options
    response = client.post(create_url(), data)
    assert response.status_code == 422
    page = html_parse(response.text)
    options_group = by_id(page, "field-options")
    assert message in text(by_id(page, options_group.attrs["aria-describedby"]))
    assert stored() == ([], [])


def test_no_junk_post_breaks_the_pages(client, admin):
    field = make_field(admin, "COLOUR", "enumeration", items=[{"value": "Red"}])
    client.force_login(admin)
    junk = ["", "x", "-1", "9" * 40, "\x00", "Y", "UF_CRM_", "<script>", "１２", "[]", "{}"]
    names = [
        "code",
        "type",
        "sort",
        "multiple",
        "label_form_en",
        "default_value",
        "default_boolean",
        "currency",
        "crm_types",
        "option-0-id",
        "option-0-value",
        "option-0-sort",
        "option-9999-id",
        "option-x-value",
    ]
    chooser = random.Random(20)  # noqa: S311  (a repeatable choice of junk, not a secret)
    for _round in range(60):
        data = {name: chooser.choice(junk) for name in chooser.sample(names, 6)}
        for url in (create_url(), edit_url(field)):
            response = client.post(url, data)
            assert response.status_code in (302, 422), (url, data, response.status_code)
    assert client.get(list_url()).status_code == 200


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def superuser():
    return UserFactory(is_superuser=True, is_staff=True, is_crm_admin=True)


ADMIN_ADD = {
    "entity_type": "DEAL",
    "code": "contract",
    "type": "string",
    "labels": '{"form": {"en": "Contract"}}',
    "sort": "100",
    "settings": "{}",
    "xml_id": "",
    "show_in_list": "on",
    "show_filter": "on",
    "items-TOTAL_FORMS": "0",
    "items-INITIAL_FORMS": "0",
}


def test_the_admin_adds_a_field_through_the_services(client, superuser):
    client.force_login(superuser)
    data = ADMIN_ADD | {
        "type": "enumeration",
        "items-TOTAL_FORMS": "2",
        "items-0-value": "Red",
        "items-0-sort": "10",
        "items-1-value": "Blue",
        "items-1-sort": "20",
        "items-1-is_default": "on",
    }
    response = client.post(reverse("admin:crm_userfield_add"), data)
    assert response.status_code == 302, response.text
    field = UserField.objects.get()
    assert field.code == "UF_CRM_CONTRACT"  # the service added the prefix
    assert [(item.value, item.is_default) for item in field.items.all()] == [
        ("Red", False),
        ("Blue", True),
    ]
    changelist = client.get(reverse("admin:crm_userfield_changelist")).text
    assert "UF_CRM_CONTRACT" in changelist


def test_the_admin_refuses_a_bad_code_with_the_services_message(client, superuser):
    client.force_login(superuser)
    response = client.post(reverse("admin:crm_userfield_add"), ADMIN_ADD | {"code": "a b"})
    assert response.status_code == 200
    assert "Latin letters, digits and underscores" in response.text
    assert stored() == ([], [])


def test_the_admin_refuses_two_defaults_of_a_single_list(client, superuser):
    client.force_login(superuser)
    data = ADMIN_ADD | {
        "type": "enumeration",
        "items-TOTAL_FORMS": "2",
        "items-0-value": "Red",
        "items-0-sort": "10",
        "items-0-is_default": "on",
        "items-1-value": "Blue",
        "items-1-sort": "20",
        "items-1-is_default": "on",
    }
    response = client.post(reverse("admin:crm_userfield_add"), data)
    assert response.status_code == 200
    assert "Only one option may be the default." in response.text
    assert stored() == ([], [])


def test_the_admin_changes_and_deletes_through_the_services(client, superuser, manager):
    field = make_field(superuser, "NOTE", "string")
    services.record_create(
        entity_type="DEAL", values={"TITLE": "D", "UF_CRM_NOTE": "abc"}, user=manager
    )
    client.force_login(superuser)
    change = reverse("admin:crm_userfield_change", args=[field.pk])
    data = {key: value for key, value in ADMIN_ADD.items() if key not in ("entity_type", "code")}
    response = client.post(change, data | {"type": "integer"})
    assert response.status_code == 200
    assert "do not convert" in response.text
    assert UserField.objects.get().type == "string"

    response = client.post(change, data | {"sort": "7"})
    assert response.status_code == 302
    assert UserField.objects.get().sort == 7

    delete = reverse("admin:crm_userfield_delete", args=[field.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not UserField.objects.exists()
    assert not Deal.objects.filter(uf__has_key="UF_CRM_NOTE").exists()


def test_stored_files_are_read_only_in_the_admin(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("admin:crm_storedfile_changelist")).status_code == 200
    assert client.get(reverse("admin:crm_storedfile_add")).status_code == 403
