"""The company structure's pages and the absence chart: what everyone sees, what administrators
change, and bad input refused with nothing half-saved."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import Absence, AbsenceKind, Department, User
from tests.html import accessible_name, by_role, html_parse, labelled, text

pytestmark = pytest.mark.django_db

COMPANY = reverse("accounts:company")
CHART = reverse("accounts:absence-chart")
ADD_ABSENCE = reverse("accounts:absence-create")


def person(username: str, full_name: str, **fields) -> User:
    return User.objects.create_user(
        username=username, full_name=full_name, email=f"{username}@example.com", **fields
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people():
    return {
        "irina": person("irina", "Irina Sokolova", is_superuser=True),
        "helen": person("helen", "Helen Carter"),
        "anna": person("anna", "Anna Petrova"),
    }


@pytest.fixture
def org(people):
    top = Department.objects.create(name="Demo company", head=people["irina"], sort=1)
    sales = Department.objects.create(name="Sales", parent=top, head=people["helen"])
    sales.members.add(people["helen"], people["anna"])
    return {"top": top, "sales": sales}


@pytest.fixture
def admin(people) -> Client:
    return signed_in(people["irina"])


@pytest.fixture
def employee(people) -> Client:
    return signed_in(people["anna"])


# --- the structure -------------------------------------------------------------------------------


def test_everyone_sees_the_tree_with_heads_and_people_by_name(employee, org):
    page = html_parse(employee.get(COMPANY).content.decode())
    sales = by_role(page, "region", "Sales")[0]
    assert "Helen Carter" in text(sales)
    assert "Anna Petrova" in text(sales)
    assert by_role(page, "heading", "Sales")[0].name == "h3"  # under the company's h2
    assert not by_role(page, "link", "Edit Sales")
    assert not by_role(page, "link", "Add department")


def test_administrators_get_the_links_to_change_it(admin, org):
    page = html_parse(admin.get(COMPANY).content.decode())
    assert by_role(page, "link", "Edit Sales")
    assert by_role(page, "link", "Add department")
    assert by_role(page, "link", "Departments of Anna Petrova")


@pytest.mark.parametrize(
    "url",
    [
        reverse("accounts:department-create"),
        "department-update",
        "department-delete",
        "person-departments",
    ],
)
def test_only_administrators_may_open_the_forms(employee, org, people, url):
    if not url.startswith("/"):
        pk = people["anna"].pk if url == "person-departments" else org["sales"].pk
        url = reverse(f"accounts:{url}", args=[pk])
    assert employee.get(url).status_code == 403
    assert employee.post(url, {"name": "Taken over"}).status_code == 403
    assert Department.objects.get(pk=org["sales"].pk).name == "Sales"


def test_a_holder_of_the_permission_manages_the_structure(people, org):
    helen = people["helen"]
    helen.user_permissions.add(Permission.objects.get(codename="change_department"))
    client = signed_in(User.objects.get(pk=helen.pk))
    assert (
        client.get(reverse("accounts:department-update", args=[org["sales"].pk])).status_code == 200
    )


def test_an_administrator_adds_a_department_with_its_head_and_people(admin, org, people):
    answer = admin.post(
        reverse("accounts:department-create"),
        {
            "name": "Key accounts",
            "parent": org["sales"].pk,
            "sort": 100,
            "head": f"user_{people['helen'].pk}",
            "members": [f"user_{people['anna'].pk}"],
        },
    )
    assert answer.status_code == 302
    made = Department.objects.get(name="Key accounts")
    assert (made.parent, made.head) == (org["sales"], people["helen"])
    assert set(people["anna"].departments.all()) == {org["sales"], made}


def test_the_form_offers_a_parent_given_in_the_link(admin, org):
    url = reverse("accounts:department-create") + f"?parent={org['sales'].pk}"
    page = html_parse(admin.get(url).content.decode())
    parent = labelled(page, "Parent department")
    chosen = [o for o in parent.children if not isinstance(o, str) and "selected" in o.attrs]
    assert text(chosen[0]).strip() == "Sales"


def test_moving_a_department_inside_itself_is_refused_and_nothing_is_saved(admin, org):
    url = reverse("accounts:department-update", args=[org["top"].pk])
    answer = admin.post(url, {"name": "Renamed", "parent": org["sales"].pk, "sort": 1})
    assert answer.status_code == 422
    org["top"].refresh_from_db()
    assert (org["top"].name, org["top"].parent_id) == ("Demo company", None)


def test_its_own_sub_departments_are_not_offered_as_its_parent(admin, org):
    page = html_parse(
        admin.get(reverse("accounts:department-update", args=[org["top"].pk])).content.decode()
    )
    options = [
        text(o).strip()
        for o in labelled(page, "Parent department").children
        if not isinstance(o, str)
    ]
    assert "Sales" not in options


def test_a_head_typed_but_not_chosen_is_refused_next_to_the_picker(admin, org):
    url = reverse("accounts:department-update", args=[org["sales"].pk])
    answer = admin.post(url, {"name": "Sales team", "sort": 500, "head": "Somebody"})
    assert answer.status_code == 422
    page = html_parse(answer.content.decode())
    assert "Choose the head from the list of people." in text(page)
    org["sales"].refresh_from_db()
    assert org["sales"].name == "Sales"


def test_an_inactive_head_is_refused(admin, org, people):
    gone = person("gone", "Gone Away", is_active=False)
    url = reverse("accounts:department-update", args=[org["sales"].pk])
    answer = admin.post(url, {"name": "Sales", "sort": 500, "head": f"user_{gone.pk}"})
    assert answer.status_code == 422
    assert "The head must be an active user." in answer.content.decode()
    assert Department.objects.get(pk=org["sales"].pk).head == people["helen"]


def test_deleting_a_department_with_sub_departments_is_refused(admin, org):
    url = reverse("accounts:department-delete", args=[org["top"].pk])
    page = html_parse(admin.get(url).content.decode())
    assert "must be moved or deleted first" in text(page)
    assert admin.post(url).status_code == 409
    assert Department.objects.filter(pk=org["top"].pk).exists()


def test_deleting_a_department_keeps_its_people(admin, org, people):
    answer = admin.post(reverse("accounts:department-delete", args=[org["sales"].pk]))
    assert answer.status_code == 302
    assert not Department.objects.filter(name="Sales").exists()
    assert User.objects.filter(pk=people["anna"].pk).exists()


def test_missing_departments_are_not_found(admin):
    assert admin.get(reverse("accounts:department-update", args=[999])).status_code == 404
    huge = "/accounts/company/departments/99999999999999999999999/"
    assert admin.get(huge).status_code == 404
    assert admin.post("/accounts/absences/99999999999999999999999/delete/").status_code == 404
    assert admin.get(reverse("accounts:person-departments", args=[999])).status_code == 404


def test_an_administrator_sets_a_persons_departments(admin, org, people):
    url = reverse("accounts:person-departments", args=[people["anna"].pk])
    answer = admin.post(url, {"departments": [org["top"].pk, org["sales"].pk]})
    assert answer.status_code == 302
    assert set(people["anna"].departments.all()) == {org["top"], org["sales"]}
    assert admin.post(url, {"departments": ["999"]}).status_code == 422
    assert people["anna"].departments.count() == 2


# --- the absence chart ---------------------------------------------------------------------------


def absence(user: User, first: datetime.date, last: datetime.date, kind=AbsenceKind.VACATION):
    return Absence.objects.create(
        user=user,
        start=datetime.datetime.combine(first, datetime.time(), datetime.UTC),
        end=datetime.datetime.combine(last, datetime.time(23, 59), datetime.UTC),
        kind=kind,
        reason="Sea",
    )


def test_everyone_sees_the_month_with_bars_and_the_absences_listed(employee, org, people):
    absence(people["anna"], datetime.date(2025, 3, 3), datetime.date(2025, 3, 7))
    page = html_parse(employee.get(CHART + "?month=2025-03").content.decode())
    assert by_role(page, "heading", "March 2025")
    chart = by_role(page, "group", "March 2025")[0]
    assert "Sales" in text(chart) and "Anna Petrova" in text(chart)
    assert "Annual leave" in text(chart) and "3 March – 7 March" in text(chart)
    listed = by_role(page, "region", "Absences in March 2025")[0]
    assert "Sea" in text(listed)
    buttons = [text(button) for button in by_role(page, "button")]
    assert "Add absence" not in buttons and "Delete" not in buttons


def test_months_go_back_and_forth_keeping_the_department(employee, org):
    page = html_parse(
        employee.get(CHART + f"?month=2025-01&department={org['sales'].pk}").content.decode()
    )
    previous = by_role(page, "link", "← Previous month")[0]
    following = by_role(page, "link", "Next month →")[0]
    assert previous.attrs["href"] == f"?month=2024-12&department={org['sales'].pk}"
    assert following.attrs["href"] == f"?month=2025-02&department={org['sales'].pk}"


def test_the_department_filter_shows_only_its_people(employee, org, people):
    person("loner", "Lone Wolf")
    whole = employee.get(CHART).content.decode()
    assert "Lone Wolf" in whole and "No department" in whole
    only = employee.get(CHART + f"?department={org['sales'].pk}").content.decode()
    assert "Lone Wolf" not in only and "Anna Petrova" in only


@pytest.mark.parametrize("query", ["month=2025-13", "month=abc", "department=x", "department=99"])
def test_bad_chart_parameters_show_the_current_month_of_everyone(employee, org, query):
    assert employee.get(f"{CHART}?{query}").status_code == 200


def test_an_administrator_adds_an_absence_of_whole_days(admin, people):
    answer = admin.post(
        ADD_ABSENCE,
        {
            "user": f"user_{people['anna'].pk}",
            "kind": "ASSIGNMENT",
            "start": "2025-03-10",
            "end": "2025-03-12",
            "reason": "Trade fair",
        },
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"{CHART}?month=2025-03"
    made = Absence.objects.get()
    assert (made.kind, made.reason, made.author) == ("ASSIGNMENT", "Trade fair", people["irina"])
    assert made.start == datetime.datetime(2025, 3, 10, tzinfo=datetime.UTC)
    assert made.end == datetime.datetime(2025, 3, 12, 23, 59, 59, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end": "2025-03-01"}, "The absence ends before it starts."),
        ({"user": "Anna"}, "Choose the employee who is away from the list."),
        ({"kind": "HOLIDAY"}, "Select a valid choice."),
        ({"start": "tomorrow"}, "Enter a valid date."),
    ],
)
def test_bad_absences_are_refused_with_a_message_and_nothing_saved(admin, people, changes, message):
    values = {
        "user": f"user_{people['anna'].pk}",
        "kind": "VACATION",
        "start": "2025-03-10",
        "end": "2025-03-12",
    }
    answer = admin.post(ADD_ABSENCE, values | changes, headers={"HX-Request": "true"})
    assert answer.status_code == 422
    assert message in answer.content.decode()
    assert not Absence.objects.exists()


def test_employees_may_not_add_or_delete_absences(employee, people):
    made = absence(people["anna"], datetime.date(2025, 3, 3), datetime.date(2025, 3, 4))
    values = {"user": f"user_{people['anna'].pk}", "kind": "VACATION", "start": "2025-03-10"}
    assert employee.post(ADD_ABSENCE, values | {"end": "2025-03-11"}).status_code == 403
    delete = reverse("accounts:absence-delete", args=[made.pk])
    assert employee.post(delete).status_code == 403
    assert Absence.objects.count() == 1


def test_an_administrator_deletes_an_absence_and_returns_to_the_month_shown(admin, org, people):
    made = absence(people["anna"], datetime.date(2025, 3, 3), datetime.date(2025, 3, 4))
    page = html_parse(admin.get(CHART + "?month=2025-03").content.decode())
    names = [accessible_name(page, button) for button in by_role(page, "button")]
    assert any(name.startswith("Delete the absence of Anna Petrova, 2025-03-03") for name in names)
    delete = reverse("accounts:absence-delete", args=[made.pk])
    answer = admin.post(delete, {"month": "2025-03", "department": org["sales"].pk})
    assert answer["Location"] == f"{CHART}?month=2025-03&department={org['sales'].pk}"
    assert not Absence.objects.exists()
    assert admin.post(delete).status_code == 404
