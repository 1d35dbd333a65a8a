"""The Request information block's dialog: its fields are rows like the template's variables
(ID, name, type, required, multiple, default, options); saved, they are stored as Bitrix stores
``RequestedInformation`` and the template gains a variable for each; an ID given twice is
refused by the rows."""

import pytest
from django.urls import reverse

from bizproc.tree import find
from tests.designer.conftest import HTMX
from tests.html import by_role, html_parse, submitted

pytestmark = pytest.mark.django_db


def insert(client, template, type_: str) -> str:
    client.post(
        reverse("designer:block-create", args=[template.pk]),
        {"revision": template.revision, "parent": "Template", "index": "0", "type": type_},
        headers=HTMX,
    )
    template.refresh_from_db()
    return template.tree["Children"][0]["Name"]


def rows(*items: tuple[str, ...]) -> dict[str, list[str]]:
    posted: dict[str, list[str]] = {}
    for n, (code, name, type_, required, options) in enumerate(items):
        prefix = f"RequestedInformation-{n}-"
        posted |= {
            prefix + "id": [code],
            prefix + "name": [name],
            prefix + "type": [type_],
            prefix + "default": [""],
            prefix + "options": [options],
            prefix + "description": [""],
        }
        if required:
            posted[prefix + "required"] = ["1"]
    return posted


def test_the_fields_are_saved_in_bitrix_shape_and_become_variables(client, admin, template):
    client.force_login(admin)
    name = insert(client, template, "RequestInformationOptionalActivity")
    url = reverse("designer:block-update", args=[template.pk, name])
    dialog = client.get(url, headers=HTMX).text
    page = html_parse(dialog)
    assert by_role(page, "group", "Fields to fill in")
    assert by_role(page, "button", "Add field")

    data = submitted(dialog, "block-form") | {
        "Users": ["{=Document:ASSIGNED_BY_ID}"],
        "Name": ["Trip details"],
    }
    data |= rows(
        ("Cost", "Trip cost", "int", True, ""),
        ("Transport", "Transport", "select", False, "air = By air\nrail = By rail"),
    )
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 200, response.text

    template.refresh_from_db()
    properties = find(template.tree, name)[0]["Properties"]
    assert properties["RequestedInformation"] == [
        {
            "Title": "Trip cost",
            "Name": "Cost",
            "Type": "int",
            "Required": True,
            "Multiple": False,
        },
        {
            "Title": "Transport",
            "Name": "Transport",
            "Type": "select",
            "Required": False,
            "Multiple": False,
            "Options": {"air": "By air", "rail": "By rail"},
        },
    ]
    assert properties["TaskButtonCancelMessage"] == "Decline"
    assert template.variables["Cost"]["Name"] == "Trip cost"
    assert template.variables["Transport"]["Options"] == {"air": "By air", "rail": "By rail"}

    again = html_parse(client.get(url, headers=HTMX).text)
    ids = [control.attrs.get("value") for control in by_role(again, "textbox", "ID")]
    assert [value for value in ids if value] == ["Cost", "Transport"]  # and a blank row to copy


def test_an_id_given_twice_or_no_field_is_refused_and_nothing_is_saved(client, admin, template):
    client.force_login(admin)
    name = insert(client, template, "RequestInformationActivity")
    url = reverse("designer:block-update", args=[template.pk, name])
    before, variables = find(template.tree, name)[0], template.variables
    data = submitted(client.get(url, headers=HTMX).text, "block-form") | {
        "Users": ["{=Document:ASSIGNED_BY_ID}"],
        "Name": ["Trip details"],
    }
    twice = client.post(
        url,
        data | rows(("Cost", "A", "int", False, ""), ("Cost", "B", "int", False, "")),
        headers=HTMX,
    )
    assert twice.status_code == 422
    assert "The ID &#x27;Cost&#x27; is used twice." in twice.text
    none = client.post(url, data, headers=HTMX)
    assert none.status_code == 422
    assert "The field &#x27;Fields to fill in&#x27; is required." in none.text
    template.refresh_from_db()
    assert find(template.tree, name)[0] == before
    assert template.variables == variables
