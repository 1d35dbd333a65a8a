"""Global constants and variables in the Django admin: saved through ``bizproc.globals`` (its
refusals shown on the form, nothing half-saved), listed readably, kept while processes use
them."""

import pytest
from django.urls import reverse

from bizproc.globals import global_save
from bizproc.models import GlobalField, GlobalKind
from tests.bizproc.builders import node, published
from tests.crm.factories import UserFactory
from tests.html import elements, html_parse, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(client):
    user = UserFactory(is_superuser=True, is_staff=True, full_name="Olga Admin")
    client.force_login(user)
    return user


def form(**values) -> dict:
    return {
        "kind": "GlobalConst",
        "code": "",
        "name": "Rate",
        "description": "",
        "type": "int",
        "options": "{}",
        "visibility": "GLOBAL",
        "value": "5",
        **values,
    }


def errors(response) -> str:
    root = html_parse(response.content.decode())
    return " ".join(
        text(found) for found in elements(root) if "errorlist" in (found.attrs.get("class") or "")
    )


def test_an_administrator_adds_a_constant_given_the_next_id_and_a_typed_value(client, superuser):
    response = client.post(reverse("admin:bizproc_globalfield_add"), form())
    assert response.status_code == 302, errors(response)
    saved = GlobalField.objects.get()
    assert (saved.kind, saved.code, saved.name, saved.value) == (
        "GlobalConst",
        "Constant1",
        "Rate",
        5,
    )
    assert saved.created_by == superuser


def test_several_values_are_one_a_line_and_options_are_kept(client, superuser):
    response = client.post(
        reverse("admin:bizproc_globalfield_add"),
        form(
            kind="GlobalVar",
            code="Levels",
            type="select",
            multiple="on",
            options='{"low": "Low", "high": "High"}',
            value="High\nlow",
        ),
    )
    assert response.status_code == 302, errors(response)
    saved = GlobalField.objects.get(code="Levels")
    assert saved.value == ["high", "low"]
    page = client.get(reverse("admin:bizproc_globalfield_change", args=[saved.pk])).content.decode()
    assert "High\nlow" in page or "high\nlow" in page


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"value": "a lot"}, "The value of field 'Rate' is not an integer."),
        (
            {"code": "My rate"},
            "Use Latin letters, digits and _ for the ID, starting with a letter.",
        ),
        ({"visibility": "CRM_NOTHING"}, "Select a valid choice."),
        ({"options": "[1, 2]"}, 'Write the options as {"key": "label", …}.'),
    ],
)
def test_what_the_services_refuse_is_shown_and_nothing_is_saved(client, superuser, values, message):
    response = client.post(reverse("admin:bizproc_globalfield_add"), form(**values))
    assert response.status_code == 200
    assert message in errors(response)
    assert not GlobalField.objects.exists()


def test_a_type_processes_rely_on_is_kept_and_the_form_says_where(client, superuser):
    rate = global_save(user=superuser, kind=GlobalKind.CONSTANT, name="Rate", type="int", value="5")
    published(node("LogActivity", Text="{=GlobalConst:Constant1}"), user=superuser, name="Pricing")
    response = client.post(
        reverse("admin:bizproc_globalfield_change", args=[rate.pk]),
        form(kind="GlobalVar", code="Other", type="string", value="five"),
    )
    assert response.status_code == 200
    shown = errors(response)
    assert "Processes use this global, so its type cannot change." in shown
    assert "Used in: Pricing (published)." in shown
    rate.refresh_from_db()
    assert (rate.type, rate.value, rate.kind, rate.code) == ("int", 5, "GlobalConst", "Constant1")

    # Its value changes; its kind and ID stay whatever the form sends.
    response = client.post(
        reverse("admin:bizproc_globalfield_change", args=[rate.pk]),
        form(kind="GlobalVar", code="Other", value="7"),
    )
    assert response.status_code == 302, errors(response)
    rate.refresh_from_db()
    assert (rate.value, rate.kind, rate.code) == (7, "GlobalConst", "Constant1")


def test_the_list_reads_as_a_person_would(client, superuser):
    global_save(
        user=superuser,
        kind=GlobalKind.CONSTANT,
        name="Boss",
        code="Boss",
        type="user",
        value=f"user_{superuser.pk}",
        visibility="CRM_DEAL",
    )
    global_save(
        user=superuser,
        kind=GlobalKind.VARIABLE,
        name="Level",
        code="Level",
        type="select",
        options={"low": "Low", "high": "High"},
        value="high",
    )
    page = html_parse(client.get(reverse("admin:bizproc_globalfield_changelist")).content.decode())
    rows = [
        [text(cell) for cell in elements(row) if cell.name in ("td", "th")]
        for row in elements(page)
        if row.name == "tr" and ("Boss" in text(row) or "Level" in text(row))
    ]
    assert ["Global constant", "Boss", "Boss", "User", "Deals", "Olga Admin"] in [
        r[1:] for r in rows
    ]
    assert ["Global variable", "Level", "Level", "List", "All processes", "High"] in [
        r[1:] for r in rows
    ]


def test_a_global_in_use_is_not_deleted_and_the_page_says_where(client, superuser):
    used = global_save(
        user=superuser, kind=GlobalKind.VARIABLE, name="Used", type="string", value=""
    )
    unused = global_save(
        user=superuser, kind=GlobalKind.VARIABLE, name="Free", type="string", value=""
    )
    published(
        node("SetGlobalVariableActivity", GlobalVariableValue={used.code: "x"}),
        user=superuser,
        name="Writer",
    )
    url = reverse("admin:bizproc_globalfield_delete", args=[used.pk])
    page = client.get(url).content.decode()
    assert "Variable1 is used in: Writer (published)" in page
    client.post(url, {"post": "yes"})
    assert GlobalField.objects.filter(pk=used.pk).exists()

    response = client.post(
        reverse("admin:bizproc_globalfield_delete", args=[unused.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not GlobalField.objects.filter(pk=unused.pk).exists()
