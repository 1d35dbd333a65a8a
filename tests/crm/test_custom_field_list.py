"""Custom fields in the record list: the columns a person chooses (kept per person and list),
filters on each filterable type, sorting with empty values last, rights, and the demo
company's fields."""

import pytest
from django.urls import reverse

from crm import services, views
from crm.demo import CUSTOM_FIELDS, demo_records_create, demo_users_create
from crm.models import Action, Company, Deal, Level, UserField
from tests.crm.factories import DealFactory, UserFactory, user_with
from tests.html import by_role, elements, html_parse, labelled, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(full_name="Irina Sokolova", is_crm_admin=True, is_staff=True)


def field(admin, code, field_type, caption, **values):
    labels = {"form": {"en": caption}, "column": {"en": f"{caption} (column)"}}
    labels["filter"] = {"en": f"{caption} (filter)"}
    return services.userfield_create(
        entity_type="DEAL",
        values={"code": code, "type": field_type, "labels": labels, **values},
        user=admin,
    )


def list_page(client, **params):
    return client.get(reverse("crm:record-list", args=["deal"]), params)


def names(response) -> list[str]:
    """The record names of the list's rows, in order."""
    root = html_parse(response.text)
    return [text(cell) for cell in elements(root) if cell.attrs.get("scope") == "row"]


def column(response, heading: str) -> list[str]:
    """The texts of the column under ``heading``, row by row."""
    root = html_parse(response.text)
    headings = [text(cell) for cell in by_role(root, "columnheader")]
    index = headings.index(heading)
    rows = [row for row in elements(root) if row.name == "tr"][1:]
    return [
        text([cell for cell in row.children if getattr(cell, "name", "") in ("td", "th")][index])
        for row in rows
    ]


def headings(response) -> list[str]:
    return [text(cell) for cell in by_role(html_parse(response.text), "columnheader")]


def choose_columns(client, *codes, reset=False):
    data = {"columns": list(codes), "query": "sort=name"}
    if reset:
        data["reset"] = "1"
    return client.post(reverse("crm:list-columns", args=["deal"]), data)


# --- columns -------------------------------------------------------------------------------------


def test_chosen_columns_are_kept_per_person_and_show_custom_values(client, admin):
    field(admin, "PRIORITY", "integer", "Priority")
    kind = field(admin, "KIND", "enumeration", "Kind", items=[{"value": "Retail"}])
    DealFactory(title="Big one", uf={"UF_CRM_PRIORITY": 70, "UF_CRM_KIND": kind.items.get().pk})
    other = UserFactory(is_crm_admin=True)
    client.force_login(admin)

    response = choose_columns(client, "UF_CRM_PRIORITY", "UF_CRM_KIND", "STAGE_ID")

    assert response.status_code == 302
    assert response.url == reverse("crm:record-list", args=["deal"]) + "?sort=name"
    page = list_page(client)
    assert headings(page)[1:] == ["Deal name", "Stage", "Priority (column)", "Kind (column)"]
    assert column(page, "Priority (column)") == ["70"]
    assert column(page, "Kind (column)") == ["Retail"]
    client.force_login(other)
    assert "Priority (column)" not in headings(list_page(client))
    assert "Amount" in headings(list_page(client))


def test_the_columns_control_offers_custom_fields_shown_in_lists_and_marks_the_chosen(
    client, admin
):
    field(admin, "PRIORITY", "integer", "Priority")
    field(admin, "HIDDEN", "string", "Hidden", show_in_list=False)
    client.force_login(admin)
    choose_columns(client, "UF_CRM_PRIORITY")

    root = html_parse(list_page(client).text)

    assert "checked" in labelled(root, "Priority (column)").attrs
    assert "checked" not in labelled(root, "Amount").attrs
    assert not [box for box in by_role(root, "checkbox") if "Hidden" in str(box.attrs)]


def test_reset_brings_back_the_default_columns(client, admin):
    field(admin, "PRIORITY", "integer", "Priority")
    client.force_login(admin)
    choose_columns(client, "UF_CRM_PRIORITY")

    choose_columns(client, reset=True)

    assert headings(list_page(client))[1:] == [
        "Deal name",
        "Stage",
        "Amount",
        "Company",
        "Responsible",
        "Created",
    ]


def test_a_deleted_field_in_the_saved_columns_is_left_out(client, admin):
    gone = field(admin, "GONE", "string", "Gone")
    DealFactory(title="Deal", uf={"UF_CRM_GONE": "x"})
    client.force_login(admin)
    choose_columns(client, "UF_CRM_GONE", "STAGE_ID", "NO_SUCH_CODE")

    services.userfield_delete(field=gone, user=admin)
    response = list_page(client)

    assert response.status_code == 200
    assert headings(response)[1:] == ["Deal name", "Stage"]


def test_a_person_who_may_not_read_the_type_cannot_save_its_columns(client):
    stranger = user_with({("LEAD", Action.READ): Level.ALL})
    client.force_login(stranger)

    assert choose_columns(client, "STAGE_ID").status_code == 403


def test_the_custom_values_are_read_only_when_a_custom_column_is_shown(admin):
    field(admin, "PRIORITY", "integer", "Priority")

    assert "uf" not in views.Columns.of("DEAL", views.LIST_COLUMNS["DEAL"]).loaded
    assert "uf" in views.Columns.of("DEAL", ["STAGE_ID", "UF_CRM_PRIORITY"]).loaded


# --- filters -------------------------------------------------------------------------------------


def test_filter_on_an_enumeration(client, admin):
    kind = field(admin, "KIND", "enumeration", "Kind", items=[{"value": "A"}, {"value": "B"}])
    a, b = kind.items.order_by("sort", "pk")
    DealFactory(title="First A", uf={"UF_CRM_KIND": a.pk})
    DealFactory(title="B", uf={"UF_CRM_KIND": b.pk})
    DealFactory(title="Second A", uf={"UF_CRM_KIND": a.pk})
    DealFactory(title="None")
    client.force_login(admin)

    response = list_page(client, UF_CRM_KIND=a.pk)

    assert names(response) == ["Second A", "First A"]
    root = html_parse(response.text)
    assert [text(option) for option in elements(labelled(root, "Kind (filter)"))][1:] == [
        "Any",
        "A",
        "B",
    ]


def test_the_custom_filters_are_grouped_and_the_group_opens_when_one_is_used(client, admin):
    kind = field(admin, "KIND", "enumeration", "Kind", items=[{"value": "A"}])
    field(admin, "RANK", "integer", "Rank")
    client.force_login(admin)

    def group(response):
        [details] = [
            node
            for node in elements(html_parse(response.text))
            if node.name == "details" and "filter-more" in (node.attrs.get("class") or "")
        ]
        summary = next(node for node in elements(details) if node.name == "summary")
        return "open" in details.attrs, text(summary), labelled(details, "Kind (filter)")

    closed, summary, kind_filter = group(list_page(client))
    assert (closed, summary) == (False, "More filters")
    assert kind_filter is not None
    used, summary, _kind = group(
        list_page(client, UF_CRM_KIND=kind.items.get().pk, UF_CRM_RANK_from="3")
    )
    assert (used, summary) == (True, "More filters (2)")


def test_filter_on_integer_and_number_ranges(client, admin):
    field(admin, "SCORE", "integer", "Score")
    field(admin, "RATE", "double", "Rate")
    DealFactory(title="Low", uf={"UF_CRM_SCORE": 5, "UF_CRM_RATE": 0.5})
    DealFactory(title="Middle", uf={"UF_CRM_SCORE": 50, "UF_CRM_RATE": 2.5})
    DealFactory(title="High", uf={"UF_CRM_SCORE": 500, "UF_CRM_RATE": 9.75})
    DealFactory(title="Empty")
    client.force_login(admin)

    assert names(list_page(client, UF_CRM_SCORE_from=10, UF_CRM_SCORE_to=500)) == [
        "High",
        "Middle",
    ]
    assert names(list_page(client, UF_CRM_RATE_to="2.5")) == ["Middle", "Low"]
    assert names(list_page(client, UF_CRM_RATE_from="2.6", UF_CRM_SCORE_to=600)) == ["High"]
    root = html_parse(list_page(client).text)
    assert labelled(root, "Score (filter) from").attrs["type"] == "number"


def test_filter_on_date_and_moment_ranges(client, admin):
    field(admin, "DUE", "date", "Due")
    field(admin, "MET", "datetime", "Met")
    DealFactory(
        title="March", uf={"UF_CRM_DUE": "2026-03-10", "UF_CRM_MET": "2026-03-10T23:30:00+00:00"}
    )
    DealFactory(
        title="April", uf={"UF_CRM_DUE": "2026-04-01", "UF_CRM_MET": "2026-04-01T08:00:00+00:00"}
    )
    DealFactory(title="Empty")
    client.force_login(admin)

    assert names(list_page(client, UF_CRM_DUE_from="2026-03-10", UF_CRM_DUE_to="2026-03-31")) == [
        "March"
    ]
    assert names(list_page(client, UF_CRM_DUE_from="2026-03-11")) == ["April"]
    # The viewer's days (UTC here): 10 March 23:30 UTC is on the 10th.
    assert names(list_page(client, UF_CRM_MET_to="2026-03-10")) == ["March"]
    assert names(list_page(client, UF_CRM_MET_from="2026-03-11")) == ["April"]


def test_filter_on_yes_no_counts_an_empty_value_as_no(client, admin):
    field(admin, "SIGNED", "boolean", "Signed")
    DealFactory(title="Signed", uf={"UF_CRM_SIGNED": True})
    DealFactory(title="Not signed", uf={"UF_CRM_SIGNED": False})
    DealFactory(title="Never asked")
    client.force_login(admin)

    assert names(list_page(client, UF_CRM_SIGNED="Y")) == ["Signed"]
    assert names(list_page(client, UF_CRM_SIGNED="N")) == ["Never asked", "Not signed"]


def test_filter_on_an_employee_uses_the_user_picker(client, admin):
    field(admin, "CURATOR", "employee", "Curator")
    anna = UserFactory(full_name="Anna Petrova")
    DealFactory(title="Anna's", uf={"UF_CRM_CURATOR": anna.pk})
    DealFactory(title="Admin's", uf={"UF_CRM_CURATOR": admin.pk})
    client.force_login(admin)

    response = list_page(client, UF_CRM_CURATOR=f"user_{anna.pk}")

    assert names(response) == ["Anna's"]
    assert "Anna Petrova" in text(html_parse(response.text))
    assert names(list_page(client, UF_CRM_CURATOR="user_nobody")) == ["Admin's", "Anna's"]


def test_filter_on_text_contains_and_on_links_equals(client, admin):
    field(admin, "NOTE", "string", "Note")
    field(admin, "SITE", "url", "Site")
    field(admin, "PARTNER", "crm", "Partner", settings={"COMPANY": "Y", "DEAL": "Y"})
    DealFactory(
        title="Atlas",
        uf={
            "UF_CRM_NOTE": "Call the Atlas office",
            "UF_CRM_SITE": "https://atlas.example.com",
            "UF_CRM_PARTNER": "CO_7",
        },
    )
    DealFactory(
        title="Other", uf={"UF_CRM_NOTE": "Nothing", "UF_CRM_SITE": "https://other.example.com"}
    )
    client.force_login(admin)

    assert names(list_page(client, UF_CRM_NOTE="atlas")) == ["Atlas"]
    assert names(list_page(client, UF_CRM_SITE="https://atlas.example.com")) == ["Atlas"]
    assert names(list_page(client, UF_CRM_SITE="atlas")) == []
    assert names(list_page(client, UF_CRM_PARTNER="co_7")) == ["Atlas"]


@pytest.mark.parametrize(
    "params",
    [
        {"UF_CRM_SCORE_from": "many"},
        {"UF_CRM_SCORE_to": "9" * 30},
        {"UF_CRM_KIND": "12345678"},
        {"UF_CRM_KIND": "x"},
        {"UF_CRM_DUE_from": "32.13.2026"},
        {"UF_CRM_DUE_to": "0001-01-01"},
        {"UF_CRM_SIGNED": "maybe"},
        {"sort": "UF_CRM_NOPE"},
    ],
)
def test_an_invalid_filter_value_is_ignored(client, admin, params):
    field(admin, "SCORE", "integer", "Score")
    field(admin, "KIND", "enumeration", "Kind", items=[{"value": "A"}])
    field(admin, "DUE", "date", "Due")
    field(admin, "SIGNED", "boolean", "Signed")
    DealFactory(title="One", uf={"UF_CRM_SCORE": 1})
    DealFactory(title="Two")
    client.force_login(admin)

    response = list_page(client, **params)

    assert response.status_code == 200
    assert names(response) == ["Two", "One"]


def test_an_own_manager_filtering_sees_only_their_records(client, admin):
    field(admin, "SCORE", "integer", "Score")
    manager = user_with({("DEAL", Action.READ): Level.OWN})
    DealFactory(title="Mine", assigned_by=manager, uf={"UF_CRM_SCORE": 10})
    DealFactory(title="Theirs", uf={"UF_CRM_SCORE": 10})
    client.force_login(manager)

    response = list_page(client, UF_CRM_SCORE_from=5, sort="-UF_CRM_SCORE")

    assert names(response) == ["Mine"]
    assert "Total: 1" in response.text


# --- sorting -------------------------------------------------------------------------------------


def test_sorting_on_an_integer_both_ways_keeps_empty_values_last(client, admin):
    field(admin, "SCORE", "integer", "Score")
    for title, score in [
        ("Ten", 10),
        ("Empty 1", None),
        ("Two", 2),
        ("Also ten", 10),
        ("Empty 2", None),
        ("Hundred", 100),
    ]:
        DealFactory(title=title, uf={} if score is None else {"UF_CRM_SCORE": score})
    client.force_login(admin)
    choose_columns(client, "UF_CRM_SCORE")

    ascending = list_page(client, sort="UF_CRM_SCORE")
    descending = list_page(client, sort="-UF_CRM_SCORE")

    assert names(ascending) == ["Two", "Ten", "Also ten", "Hundred", "Empty 1", "Empty 2"]
    assert names(descending) == ["Hundred", "Also ten", "Ten", "Two", "Empty 2", "Empty 1"]
    root = html_parse(ascending.text)
    header = next(cell for cell in by_role(root, "columnheader") if "Score" in text(cell))
    assert header.attrs["aria-sort"] == "ascending"


def test_sorting_on_an_enumeration_goes_by_its_options_order_of_creation(client, admin):
    kind = field(
        admin, "KIND", "enumeration", "Kind", items=[{"value": "Zeta"}, {"value": "Alpha"}]
    )
    zeta, alpha = kind.items.order_by("pk")
    DealFactory(title="Alpha deal", uf={"UF_CRM_KIND": alpha.pk})
    DealFactory(title="Empty")
    DealFactory(title="Zeta deal", uf={"UF_CRM_KIND": zeta.pk})
    client.force_login(admin)

    assert names(list_page(client, sort="UF_CRM_KIND")) == ["Zeta deal", "Alpha deal", "Empty"]
    assert names(list_page(client, sort="-UF_CRM_KIND")) == ["Alpha deal", "Zeta deal", "Empty"]


# --- the demo company ----------------------------------------------------------------------------


def test_the_demo_company_has_custom_fields_of_every_kind_with_values():
    users = demo_users_create()

    demo_records_create(users=users, deals=30)

    for entity_type, rows in CUSTOM_FIELDS.items():
        codes = set(
            UserField.objects.filter(entity_type=entity_type).values_list("code", flat=True)
        )
        assert codes == {f"UF_CRM_{row[0]}" for row in rows}
    kind = UserField.objects.get(code="UF_CRM_DEAL_KIND")
    assert list(kind.items.values_list("value", flat=True)) == ["Retail", "Wholesale", "Partner"]
    assert kind.labels["form"] == {"en": "Deal kind", "ru": "Вид сделки"}
    deals = list(Deal.objects.all())
    assert sum("UF_CRM_PRIORITY_SCORE" in deal.uf for deal in deals) > 15
    assert all(1 <= deal.uf.get("UF_CRM_PRIORITY_SCORE", 1) <= 100 for deal in deals)
    assert all("UF_CRM_EMPLOYEES" in company.uf for company in Company.objects.all())


def test_custom_columns_read_as_people_read_them(client, admin):
    field(admin, "SIGNED", "boolean", "Signed")
    field(admin, "CURATOR", "employee", "Curator")
    field(admin, "BUDGET", "money", "Budget")
    field(admin, "SITE", "url", "Site")
    field(admin, "DUE", "date", "Due")
    anna = UserFactory(full_name="Anna Petrova")
    DealFactory(
        uf={
            "UF_CRM_SIGNED": True,
            "UF_CRM_CURATOR": anna.pk,
            "UF_CRM_BUDGET": "125000.50|USD",
            "UF_CRM_SITE": "https://atlas.example.com",
            "UF_CRM_DUE": "2026-03-10",
        }
    )
    DealFactory(uf={"UF_CRM_SIGNED": False})
    client.force_login(admin)
    codes = ["UF_CRM_SIGNED", "UF_CRM_CURATOR", "UF_CRM_BUDGET", "UF_CRM_SITE", "UF_CRM_DUE"]
    choose_columns(client, *codes)

    page = list_page(client)

    assert column(page, "Signed (column)") == ["No", "Yes"]
    assert column(page, "Curator (column)") == ["not set", "Anna Petrova"]
    assert column(page, "Budget (column)")[1] == "125,000.50 USD"
    assert by_role(html_parse(page.text), "link", "https://atlas.example.com")
    assert column(page, "Due (column)")[1] == "2026-03-10"
