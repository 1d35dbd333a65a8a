"""The pages of global constants and variables: administrators list, create, edit and delete
them; designers read the ones visible to the types they design, without buttons; everyone else
gets 403 on every page and partial. Values read as people read them; refusals stand next to
their inputs, and nothing is half-saved. The block dialogs' Insert value offers the globals a
template's document type sees."""

import pytest
from django.urls import reverse

from bizproc.globals import global_save
from bizproc.models import GlobalField, GlobalKind
from tests.bizproc.builders import node
from tests.crm.factories import UserFactory
from tests.designer.conftest import HTMX
from tests.html import by_id, by_role, html_parse, labelled, submitted, text, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    """Administers the site: manages globals."""
    return UserFactory(is_superuser=True, is_staff=True, full_name="Olga Boss")


@pytest.fixture
def rate(boss):
    return global_save(user=boss, kind=GlobalKind.CONSTANT, name="VAT rate", type="int", value="20")


def constant(boss, **kwargs):
    defaults = {"user": boss, "kind": GlobalKind.CONSTANT, "type": "string", "value": ""}
    return global_save(**(defaults | kwargs))


def urls(found):
    return {
        "constants": reverse("designer:global-list", args=["constants"]),
        "variables": reverse("designer:global-list", args=["variables"]),
        "create": reverse("designer:global-create", args=["constants"]),
        "update": reverse("designer:global-update", args=["constants", found.pk]),
        "delete": reverse("designer:global-delete", args=["constants", found.pk]),
    }


def form_data(**values):
    data = {
        "code": "",
        "name": "",
        "type": "string",
        "visibility": "GLOBAL",
        "value": "",
        "options": "",
        "description": "",
        "modified": "",
    }
    return data | values


# ---- rights ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["constants", "variables", "create", "update", "delete"])
def test_a_user_who_designs_nothing_gets_403_on_every_page(client, seller, rate, page):
    client.force_login(seller)
    url = urls(rate)[page]
    assert client.get(url).status_code == 403
    assert (
        client.get(url, {"type": "user"}, headers=HTMX | {"HX-Target": "global-typed"}).status_code
        == 403
    )
    assert client.post(url, form_data(name="Hacked", value="1")).status_code in (403, 405)
    rate.refresh_from_db()
    assert rate.name == "VAT rate"
    assert GlobalField.objects.count() == 1


def test_someone_not_logged_in_is_sent_to_log_in(client, rate):
    response = client.get(urls(rate)["constants"])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("page", ["create", "update", "delete"])
def test_a_designer_reads_but_may_not_change(client, designer_user, rate, page):
    client.force_login(designer_user)
    url = urls(rate)[page]
    assert client.get(url).status_code == 403
    assert (
        client.get(url, {"type": "user"}, headers=HTMX | {"HX-Target": "global-typed"}).status_code
        == 403
    )
    assert client.post(url, form_data(name="Changed", value="1")).status_code == 403
    rate.refresh_from_db()
    assert rate.name == "VAT rate" and GlobalField.objects.filter(pk=rate.pk).exists()


def test_a_designer_sees_the_globals_of_the_types_they_design_without_buttons(
    client, designer_user, boss
):
    constant(boss, name="For every process", value="a")
    constant(boss, name="For CRM", value="b", visibility="CRM")
    constant(boss, name="For deals", value="c", visibility="CRM_DEAL")
    constant(boss, name="For leads", value="d", visibility="CRM_LEAD")
    client.force_login(designer_user)
    response = client.get(reverse("designer:global-list", args=["constants"]))
    assert response.status_code == 200
    root = html_parse(response.text)
    names = [text(cell) for cell in by_role(root, "rowheader")]
    assert names == ["For every process", "For CRM", "For deals"]
    assert not by_role(root, "link", "New constant")
    assert not [link for link in by_role(root, "link") if text(link).startswith(("Edit", "Delete"))]


def test_the_templates_page_links_to_the_globals(client, designer_user):
    client.force_login(designer_user)
    root = html_parse(client.get(reverse("designer:template-list")).text)
    (link,) = by_role(root, "link", "Global constants and variables")
    assert link.attrs["href"] == reverse("designer:global-list", args=["constants"])
    assert client.get(link.attrs["href"]).status_code == 200


# ---- the list ----------------------------------------------------------------------------------


def test_the_list_reads_values_as_people_do(client, boss):
    manager = UserFactory(full_name="Pavel Manager")
    constant(boss, name="Approver", type="user", value=f"user_{manager.pk}")
    constant(
        boss,
        name="Region",
        type="select",
        options={"n": "North", "s": "South"},
        value="s",
    )
    constant(boss, name="Deadline", type="date", value="2026-12-31")
    constant(boss, name="Strict", type="bool", value="Y")
    client.force_login(boss)
    response = client.get(reverse("designer:global-list", args=["constants"]))
    root = html_parse(response.text)
    table = text(by_role(root, "group", "Global constants")[0])
    assert "Pavel Manager" in table and f"user_{manager.pk}" not in table
    assert "South" in table
    assert "2026-12-31" in table  # the English format here
    assert "Yes" in table
    assert "Olga Boss" in table  # modified by
    assert "{=GlobalConst:Constant1}" in table
    assert "All processes" in table
    boss.language = "ru"
    boss.save()
    russian = client.get(reverse("designer:global-list", args=["constants"])).text
    assert "31.12.2026" in russian and "2026-12-31" not in russian
    assert "Да" in text(html_parse(russian))


def test_the_variables_tab_lists_variables_only(client, boss, rate):
    global_save(user=boss, kind=GlobalKind.VARIABLE, name="Counter", type="int", value="0")
    client.force_login(boss)
    root = html_parse(client.get(reverse("designer:global-list", args=["variables"])).text)
    assert [text(cell) for cell in by_role(root, "rowheader")] == ["Counter"]
    current = [link for link in by_role(root, "link") if link.attrs.get("aria-current") == "page"]
    assert "Global variables" in [text(link) for link in current]
    assert "Global constants" not in [text(link) for link in current]
    assert by_role(root, "link", "New variable")


def test_an_unknown_kind_is_not_found(client, boss):
    client.force_login(boss)
    assert client.get("/designer/globals/things/").status_code == 404


# ---- creating and editing ------------------------------------------------------------------------


def test_an_administrator_creates_a_constant_from_the_form_as_drawn(client, boss):
    client.force_login(boss)
    url = reverse("designer:global-create", args=["constants"])
    page = client.get(url)
    data = submitted(page.text, "global-form")
    data |= {"name": ["Company name"], "value": ["Acme"], "visibility": ["CRM_DEAL"]}
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("designer:global-list", args=["constants"])
    saved = GlobalField.objects.get()
    assert (saved.code, saved.name, saved.value, saved.visibility) == (
        "Constant1",
        "Company name",
        "Acme",
        "CRM_DEAL",
    )
    listed = client.get(response["Location"])
    assert "“Company name” saved." in listed.text


def test_a_multiple_user_value_is_picked_by_name_and_kept_as_a_list(client, boss):
    first, second = UserFactory(full_name="Ann First"), UserFactory(full_name="Bob Second")
    client.force_login(boss)
    url = reverse("designer:global-create", args=["variables"])
    response = client.post(
        url,
        form_data(
            name="Approvers",
            type="user",
            multiple="1",
            value=[f"user_{first.pk}", f"user_{second.pk}"],
        ),
    )
    assert response.status_code == 302
    saved = GlobalField.objects.get()
    assert saved.code == "Variable1"
    assert saved.value == [f"user_{first.pk}", f"user_{second.pk}"]
    root = html_parse(
        client.get(reverse("designer:global-update", args=["variables", saved.pk])).text
    )
    chips = [
        text(chip)
        for chip in by_role(root, "list", "Chosen: Value")[0].children
        if not isinstance(chip, str)
    ]
    assert chips == ["Ann First", "Bob Second"]


def test_a_list_with_several_values_is_ticked_from_its_options(client, boss):
    client.force_login(boss)
    url = reverse("designer:global-create", args=["constants"])
    typed = client.get(
        url,
        {"type": "select", "multiple": "1", "options": "n = North\ns = South"},
        headers=HTMX | {"HX-Target": "global-typed"},
    )
    root = html_parse(typed.text)
    assert by_id(root, "global-typed")
    assert by_role(root, "group", "Value")
    assert by_role(root, "checkbox", "North") and by_role(root, "checkbox", "South")
    response = client.post(
        url,
        form_data(
            name="Regions",
            type="select",
            multiple="1",
            options="n = North\ns = South",
            value=["n", "s"],
        ),
    )
    assert response.status_code == 302
    saved = GlobalField.objects.get()
    assert saved.value == ["n", "s"]
    assert saved.definition["Options"] == {"n": "North", "s": "South"}


def test_changing_the_type_draws_its_value_input(client, boss):
    client.force_login(boss)
    url = reverse("designer:global-create", args=["constants"])
    headers = HTMX | {"HX-Target": "global-typed"}
    user_input = html_parse(client.get(url, {"type": "user"}, headers=headers).text)
    assert by_role(user_input, "combobox", "Value")[0].attrs.get("aria-autocomplete") == "list"
    date_input = html_parse(client.get(url, {"type": "date"}, headers=headers).text)
    assert labelled(date_input, "Value").attrs["type"] == "date"
    list_input = html_parse(
        client.get(url, {"type": "select", "options": "a = Alpha"}, headers=headers).text
    )
    assert labelled(list_input, "Options").name == "textarea"
    assert "Alpha" in text(labelled(list_input, "Value"))


@pytest.mark.parametrize(
    ("language", "messages"),
    [
        ("en", ["Give the global a name.", "The value of field 'Rate' is not an integer."]),
        ("ru", [None, "Значение поля 'Rate' не является целым числом"]),
    ],
)
def test_bad_input_is_told_next_to_its_inputs_and_nothing_is_saved(client, language, messages):
    boss = UserFactory(is_superuser=True, language=language, full_name="Olga Boss")
    client.force_login(boss)
    url = reverse("designer:global-create", args=["constants"])
    response = client.post(url, form_data(name="", type="int", value="many"))
    assert response.status_code == 422
    root = html_parse(response.text)
    name_message, value_message = messages
    name_box = by_id(root, "global-name")
    assert name_box.attrs["aria-invalid"] == "true"
    if name_message:
        assert text(by_id(root, name_box.attrs["aria-describedby"])) == name_message
    # The value's message: named once the name is given.
    response = client.post(url, form_data(name="Rate", type="int", value="many"))
    root = html_parse(response.text)
    value_box = by_id(root, "field-value")
    assert text(by_id(root, value_box.attrs["aria-describedby"])) == value_message
    assert value(value_box) == "many"
    assert not GlobalField.objects.exists()


def test_a_list_without_options_is_told_at_its_options(client, boss):
    client.force_login(boss)
    response = client.post(
        reverse("designer:global-create", args=["constants"]),
        form_data(name="Region", type="select", options=""),
    )
    assert response.status_code == 422
    root = html_parse(response.text)
    options = labelled(root, "Options")
    assert "needs options" in text(by_id(root, options.attrs["aria-describedby"].split()[-1]))


def test_a_taken_id_is_refused(client, boss, rate):
    client.force_login(boss)
    response = client.post(
        reverse("designer:global-create", args=["constants"]),
        form_data(code="constant1", name="Other", value="x"),
    )
    assert response.status_code == 422
    assert "The ID constant1 is taken." in text(html_parse(response.text))
    assert GlobalField.objects.count() == 1


def test_an_administrator_edits_a_value(client, boss, rate):
    client.force_login(boss)
    url = reverse("designer:global-update", args=["constants", rate.pk])
    page = client.get(url)
    root = html_parse(page.text)
    assert value(labelled(root, "Value")) == "20"
    assert "readonly" in labelled(root, "ID").attrs
    data = submitted(page.text, "global-form") | {"value": ["21"]}
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("designer:global-list", args=["constants"])
    rate.refresh_from_db()
    assert rate.value == 21 and rate.code == "Constant1"


def test_a_stale_edit_is_refused_and_the_other_change_kept(client, boss, rate):
    client.force_login(boss)
    url = reverse("designer:global-update", args=["constants", rate.pk])
    drawn = submitted(client.get(url).text, "global-form")
    other = UserFactory(is_superuser=True, full_name="Second Admin")
    global_save(
        user=other, kind=GlobalKind.CONSTANT, name="VAT rate", type="int", value="18", instance=rate
    )
    response = client.post(url, drawn | {"value": ["25"]}, headers=HTMX)
    assert response.status_code == 409
    assert "Another administrator changed this global" in text(html_parse(response.text))
    rate.refresh_from_db()
    assert rate.value == 18


def test_a_type_change_a_process_would_not_survive_is_refused_naming_the_process(
    client, boss, rate, template
):
    template.tree["Children"].append(
        node("LogActivity", "A_vat", Title="Tell the rate", Text="{=GlobalConst:Constant1}")
    )
    template.save()
    client.force_login(boss)
    url = reverse("designer:global-update", args=["constants", rate.pk])
    drawn = submitted(client.get(url).text, "global-form")
    response = client.post(url, drawn | {"type": ["date"], "value": ["2026-01-01"]})
    assert response.status_code == 422
    root = html_parse(response.text)
    type_box = labelled(root, "Type")
    assert "its type cannot change" in text(by_id(root, type_box.attrs["aria-describedby"]))
    (usage,) = by_role(root, "link", "Deal flow")
    assert usage.attrs["href"] == reverse("designer:template-edit", args=[template.pk])
    assert "Tell the rate" in text(root)
    rate.refresh_from_db()
    assert rate.type == "int" and rate.value == 20


# ---- deleting ----------------------------------------------------------------------------------


def test_an_unused_global_is_deleted_after_asking(client, boss, rate):
    client.force_login(boss)
    url = reverse("designer:global-delete", args=["constants", rate.pk])
    root = html_parse(client.get(url).text)
    assert by_role(root, "heading", "Delete “VAT rate” (Constant1)?")
    assert by_role(root, "button", "Delete")
    response = client.post(url)
    assert response.status_code == 302
    assert not GlobalField.objects.exists()


def test_a_global_in_use_is_not_deleted_and_the_processes_are_named(client, boss, rate, template):
    template.tree["Children"].append(
        node("LogActivity", "A_vat", Title="Tell the rate", Text="{=GlobalConst:constant1}")
    )
    template.save()
    client.force_login(boss)
    url = reverse("designer:global-delete", args=["constants", rate.pk])
    root = html_parse(client.get(url).text)
    assert not by_role(root, "button", "Delete")
    assert by_role(root, "link", "Deal flow")
    assert "Tell the rate" in text(root)
    response = client.post(url)
    assert response.status_code == 409
    refused = html_parse(response.text)
    assert "Processes use this global, so it cannot be deleted." in text(refused)
    assert by_role(refused, "link", "Deal flow")
    assert GlobalField.objects.filter(pk=rate.pk).exists()


# ---- Insert value --------------------------------------------------------------------------------


def test_insert_value_offers_the_globals_the_templates_type_sees(
    client, designer_user, boss, template, rate
):
    constant(boss, name="Lead only", value="x", visibility="CRM_LEAD")
    global_save(
        user=boss,
        kind=GlobalKind.VARIABLE,
        name="Deals counter",
        type="int",
        value="0",
        visibility="CRM_DEAL",
    )
    client.force_login(designer_user)
    response = client.get(
        reverse("designer:block-update", args=[template.pk, "A_log"]), headers=HTMX
    )
    root = html_parse(response.text)
    items = [text(item) for item in by_role(root, "menuitem")]
    assert "VAT rate {=GlobalConst:Constant1}" in items
    assert "Deals counter {=GlobalVar:Variable1}" in items
    assert not [item for item in items if item.startswith("Lead only")]
    groups = [text(group) for group in by_role(root, "group") if "GlobalConst" in text(group)]
    assert groups and groups[0].startswith("Global constants")


def test_a_missing_name_and_a_bad_value_are_each_told_once_by_their_inputs(client, boss):
    client.force_login(boss)
    response = client.post(
        reverse("designer:global-create", args=["constants"]),
        form_data(name="", type="int", value="abc"),
    )
    assert response.status_code == 422
    root = html_parse(response.text)
    assert text(by_id(root, "global-name-error")) == "Give the global a name."
    assert text(by_id(root, "field-value-errors")).startswith("The value of field")
    assert "needs a name" not in text(root)
    assert labelled(root, "Type").attrs.get("aria-invalid") is None
