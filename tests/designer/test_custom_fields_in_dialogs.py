"""CRM custom fields in the block dialogs: Modify document, conditions and Insert value offer
them by their labels, and a list field's or an employee field's value box offers its options or
the people; template parameters may have Bitrix's custom-field types."""

import pytest
from django.urls import reverse

from bizproc import services
from bizproc.tree import find
from crm import services as crm_services
from tests.bizproc.builders import field as schema_field
from tests.bizproc.builders import node
from tests.designer.conftest import HTMX
from tests.html import by_id, by_role, elements, html_parse, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


@pytest.fixture
def priority(admin):
    return crm_services.userfield_create(
        entity_type="DEAL",
        values={
            "code": "PRIORITY",
            "type": "enumeration",
            "labels": {"form": {"en": "Priority"}},
            "items": [{"value": "Low", "sort": 10}, {"value": "High", "sort": 20}],
        },
        user=admin,
    )


@pytest.fixture
def curator(admin):
    return crm_services.userfield_create(
        entity_type="DEAL",
        values={"code": "CURATOR", "type": "employee", "labels": {"form": {"en": "Curator"}}},
        user=admin,
    )


def dialog(client, template, name):
    response = client.get(reverse("designer:block-update", args=[template.pk, name]), headers=HTMX)
    assert response.status_code == 200
    return html_parse(response.text)


def with_block(template, block):
    template.tree["Children"].append(block)
    template.save()
    return block["Name"]


def options_of(select):
    return {
        option.attrs.get("value"): text(option)
        for option in elements(select)
        if option.name == "option"
    }


def datalist_of(root, box):
    found = by_id(root, box.attrs["list"])
    return {
        option.attrs["value"]: option.attrs["label"]
        for option in elements(found)
        if option.name == "option"
    }


def test_modify_document_offers_custom_fields_and_their_values(
    editor, template, admin, priority, curator
):
    high = str(priority.items.get(value="High").pk)
    name = with_block(
        template,
        node(
            "SetFieldActivity",
            "A_set",
            FieldValue={"UF_CRM_PRIORITY": high, "UF_CRM_CURATOR": f"user_{admin.pk}"},
        ),
    )
    root = dialog(editor, template, name)
    fields = by_role(root, "combobox", "Field")
    assert options_of(fields[0])["UF_CRM_PRIORITY"] == "Priority"
    assert options_of(fields[0])["UF_CRM_CURATOR"] == "Curator"
    boxes = by_role(root, "combobox", "Value")  # a text box with a list is a combobox
    assert datalist_of(root, boxes[0]) == {
        str(priority.items.get(value="Low").pk): "Low",
        high: "High",
    }
    assert datalist_of(root, boxes[1])[f"user_{admin.pk}"] == "Irina Admin"


def test_a_condition_offers_custom_fields_and_an_enumerations_options(
    editor, template, admin, priority
):
    find(template.tree, "A_yes")[0]["Properties"] = {
        "Title": "Urgent",
        "fieldcondition": [["UF_CRM_PRIORITY", "=", "High"]],
    }
    template.save()
    root = dialog(editor, template, "A_yes")
    (picker,) = by_role(root, "combobox", "Field")[:1]
    assert options_of(picker)["Document:UF_CRM_PRIORITY"] == "Priority"
    (box,) = by_role(root, "combobox", "Value")
    assert set(datalist_of(root, box).values()) == {"Low", "High"}


def test_insert_value_lists_custom_fields_by_label(editor, template, priority):
    response = editor.get(
        reverse("designer:block-update", args=[template.pk, "A_log"]), headers=HTMX
    )
    assert "{=Document:UF_CRM_PRIORITY}" in response.text
    root = html_parse(response.text)
    items = [text(item) for item in by_role(root, "menuitem")]
    assert "Priority {=Document:UF_CRM_PRIORITY}" in items


def test_a_template_parameter_may_have_a_custom_field_type(editor, template, admin):
    response = editor.get(reverse("designer:template-settings", args=[template.pk]), headers=HTMX)
    assert "UF:money" in response.text and "Money" in response.text
    template.parameters = {
        "Budget": schema_field("UF:money", "Budget"),
        "Vip": schema_field("UF:boolean", "VIP", default="Y"),
    }
    template.save()
    version = services.template_publish(template=template, user=admin)
    assert version.parameters["Budget"]["Type"] == "UF:money"
