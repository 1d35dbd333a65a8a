"""The company structure's rules, the directory the engine asks (heads, absences) and the demo
company's structure."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from accounts import absences, structure
from accounts.demo import demo_structure_create
from accounts.models import Absence, AbsenceKind, Department, User
from accounts.people import people_search
from accounts.structure import DepartmentValues
from bizproc.directory import company
from crm import demo

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def person(username: str, **fields) -> User:
    return User.objects.create_user(
        username=username, full_name=username.title(), email=f"{username}@example.com", **fields
    )


def department(name: str, *, parent=None, head=None, members=()) -> Department:
    made = Department.objects.create(name=name, parent=parent, head=head)
    made.members.add(*members)
    return made


@pytest.fixture
def org():
    """Company (ceo) > Sales (sales_head) > Key accounts (no head) with ann; bob heads Sales
    East, where he works himself."""
    people = {name: person(name) for name in ("ceo", "sales_head", "ann", "bob")}
    top = department("Company", head=people["ceo"], members=[people["ceo"]])
    sales = department("Sales", parent=top, head=people["sales_head"])
    keys = department("Key accounts", parent=sales, members=[people["ann"]])
    east = department("Sales East", parent=sales, head=people["bob"], members=[people["bob"]])
    return people | {"top": top, "sales": sales, "keys": keys, "east": east}


# --- the tree's rules ----------------------------------------------------------------------------


def test_a_department_cannot_move_inside_its_own_sub_department(org):
    values = DepartmentValues(name="Sales", parent_id=org["keys"].pk)
    with pytest.raises(ValidationError) as refusal:
        structure.department_update(department=org["sales"], values=values)
    assert "parent" in refusal.value.message_dict
    org["sales"].refresh_from_db()
    assert org["sales"].parent_id == org["top"].pk


def test_a_department_cannot_be_its_own_parent(org):
    values = DepartmentValues(name="Sales", parent_id=org["sales"].pk)
    with pytest.raises(ValidationError):
        structure.department_update(department=org["sales"], values=values)


def test_a_department_moves_under_another_branch(org):
    values = DepartmentValues(name="Key accounts", parent_id=org["top"].pk, sort=10)
    structure.department_update(department=org["keys"], values=values)
    org["keys"].refresh_from_db()
    assert (org["keys"].parent_id, org["keys"].sort) == (org["top"].pk, 10)


def test_the_head_must_be_an_active_user_and_nothing_is_half_saved(org):
    gone = person("gone", is_active=False)
    values = DepartmentValues(name="Renamed", parent_id=org["top"].pk, head_id=gone.pk)
    with pytest.raises(ValidationError) as refusal:
        structure.department_update(
            department=org["sales"], values=values, member_ids=[org["ann"].pk]
        )
    assert refusal.value.message_dict["head"] == ["The head must be an active user."]
    org["sales"].refresh_from_db()
    assert org["sales"].name == "Sales"
    assert not org["sales"].members.exists()
    with pytest.raises(ValidationError):
        structure.department_create(values=DepartmentValues(name="X", head_id=999_999))
    assert not Department.objects.filter(name="X").exists()


def test_a_department_needs_a_name(org):
    with pytest.raises(ValidationError) as refusal:
        structure.department_create(values=DepartmentValues(name=" ", parent_id=org["top"].pk))
    assert refusal.value.message_dict["name"] == ["Enter the department's name."]


def test_a_department_with_sub_departments_is_not_deleted_and_people_keep_others(org):
    with pytest.raises(ValidationError, match="sub-departments"):
        structure.department_delete(department=org["sales"])
    assert Department.objects.filter(pk=org["sales"].pk).exists()
    org["ann"].departments.add(org["top"])
    structure.department_delete(department=org["keys"])
    assert list(org["ann"].departments.all()) == [org["top"]]


def test_a_user_works_in_several_departments(org):
    structure.user_departments_set(user=org["ann"], department_ids=[org["keys"].pk, org["top"].pk])
    assert set(org["ann"].departments.values_list("name", flat=True)) == {
        "Key accounts",
        "Company",
    }
    with pytest.raises(ValidationError):
        structure.user_departments_set(user=org["ann"], department_ids=[999_999])
    assert org["ann"].departments.count() == 2


def test_the_user_picker_shows_a_persons_departments(org):
    found, _more = people_search(query="ann")
    assert found[0].detail == "Key accounts · ann@example.com"


# --- the directory -------------------------------------------------------------------------------


def test_heads_go_up_the_tree_nearest_first_skipping_departments_without_a_head(org):
    directory = company.directory
    assert directory.heads_of(org["ann"].pk, levels=1) == [org["sales_head"].pk]
    assert directory.heads_of(org["ann"].pk, levels=5) == [org["sales_head"].pk, org["ceo"].pk]


def test_a_head_of_their_own_department_gets_the_parents_head(org):
    assert company.directory.heads_of(org["bob"].pk, levels=1) == [org["sales_head"].pk]
    assert company.directory.heads_of(org["ceo"].pk, levels=3) == []


def test_heads_are_not_repeated(org):
    org["top"].head = org["sales_head"]
    org["top"].save()
    assert company.directory.heads_of(org["ann"].pk, levels=3) == [org["sales_head"].pk]


def test_an_inactive_head_is_skipped_for_the_next_one_up(org):
    org["sales_head"].is_active = False
    org["sales_head"].save()
    assert company.directory.heads_of(org["ann"].pk, levels=1) == [org["ceo"].pk]


def test_someone_in_no_department_has_no_head(org):
    assert company.directory.heads_of(person("loner").pk, levels=3) == []


def test_absent_tells_who_is_away_at_a_moment_both_ends_included(org):
    start = datetime.datetime(2025, 3, 3, 9, tzinfo=UTC)
    end = datetime.datetime(2025, 3, 5, 18, tzinfo=UTC)
    company.directory.absence_add(
        user_id=org["ann"].pk, start=start, end=end, kind="VACATION", reason="", author_id=None
    )
    ids = [org["ann"].pk, org["bob"].pk]
    assert company.directory.absent(ids, at=start) == {org["ann"].pk}
    assert company.directory.absent(ids, at=end) == {org["ann"].pk}
    assert company.directory.absent(ids, at=end + datetime.timedelta(seconds=1)) == set()


def test_absence_add_refuses_bad_values_with_a_message(org):
    start = datetime.datetime(2025, 3, 3, tzinfo=UTC)
    add = company.directory.absence_add
    ann = org["ann"].pk
    with pytest.raises(ValueError, match="Unknown kind of absence: “HOLIDAY”"):
        add(user_id=ann, start=start, end=start, kind="HOLIDAY", reason="", author_id=None)
    with pytest.raises(ValueError, match="ends before it starts"):
        add(
            user_id=org["ann"].pk,
            start=start,
            end=start - datetime.timedelta(days=1),
            kind="VACATION",
            reason="",
            author_id=None,
        )
    with pytest.raises(ValueError, match="employee"):
        add(user_id=999_999, start=start, end=start, kind="VACATION", reason="", author_id=None)
    assert not Absence.objects.exists()


def test_absence_kinds_are_bitrixs_codes_with_names():
    kinds = company.directory.absence_kinds()
    assert list(kinds) == [
        "VACATION",
        "ASSIGNMENT",
        "LEAVESICK",
        "LEAVEMATERINITY",
        "LEAVEUNPAYED",
        "PERSONAL",
        "OTHER",
    ]
    assert kinds["ASSIGNMENT"] == "Business trip"


# --- the chart -----------------------------------------------------------------------------------


def test_the_chart_groups_people_by_department_and_draws_bars_over_their_days(org):
    moscow = zoneinfo.ZoneInfo("Europe/Moscow")
    absences.absence_create(
        user_id=org["ann"].pk,
        start=datetime.datetime(2025, 2, 27, tzinfo=moscow),  # starts before March
        end=datetime.datetime(2025, 3, 4, 23, 59, tzinfo=moscow),
        kind=AbsenceKind.VACATION,
    )
    absences.absence_create(
        user_id=org["ann"].pk,
        start=datetime.datetime(2025, 3, 3, tzinfo=moscow),  # overlaps: a second line
        end=datetime.datetime(2025, 3, 3, 12, tzinfo=moscow),
        kind=AbsenceKind.ASSIGNMENT,
    )
    chart = absences.absence_chart(
        month=datetime.date(2025, 3, 1), department_id=org["sales"].pk, zone=moscow
    )
    assert len(chart.days) == 31
    assert [group.name for group in chart.groups] == ["Key accounts", "Sales East"]
    ann = chart.groups[0].rows[0]
    assert ann.person.name == "Ann"
    first, second = ann.lanes
    assert [(cell.span, cell.absence is not None) for cell in first[:2]] == [(4, True), (1, False)]
    assert sum(cell.span for cell in first) == 31
    assert [cell.span for cell in second if cell.absence] == [1]
    assert second[2].absence.kind == AbsenceKind.ASSIGNMENT
    assert (chart.previous, chart.next) == (datetime.date(2025, 2, 1), datetime.date(2025, 4, 1))


def test_the_whole_chart_ends_with_people_in_no_department(org):
    person("loner")
    chart = absences.absence_chart(month=datetime.date(2025, 3, 1), department_id=None)
    assert [group.name for group in chart.groups] == [
        "Company",
        "Key accounts",
        "Sales East",
        "No department",
    ]
    assert [row.person.name for row in chart.groups[-1].rows] == ["Loner", "Sales_Head"]


# --- the demo company ----------------------------------------------------------------------------


def test_the_demo_structure_is_built_from_the_demo_people_once():
    users = demo.demo_users_create()
    ids = {username: user.pk for username, user in users.items()}
    assert demo_structure_create(users=users) is True
    assert demo_structure_create(users=demo.demo_users_create()) is False
    assert Department.objects.count() == 4
    assert {u.username: u.pk for u in User.objects.all()} == ids
    heads = set(Department.objects.values_list("head__username", flat=True))
    assert heads <= set(ids)
    top = Department.objects.get(parent=None)
    assert top.head.username == "admin"
    sales = Department.objects.get(head__username="helen")
    assert set(sales.members.values_list("username", flat=True)) == {"helen", "anna", "boris"}
    assert company.directory.heads_of(ids["anna"], levels=2) == [ids["helen"], ids["admin"]]
    assert company.directory.heads_of(ids["helen"], levels=1) == [ids["admin"]]
    assert Absence.objects.filter(user__username="boris", kind="VACATION").exists()
