"""People found and shown by name: the user picker's search and how a stored ``user_<id>``
reads on a page."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.people import (
    SEARCH_LIMIT,
    Person,
    people_search,
    person_name,
    user_picker,
)

pytestmark = pytest.mark.django_db


def make(username: str, full_name: str = "", **fields) -> User:
    return User.objects.create_user(
        username=username, full_name=full_name, email=f"{username}@example.com", **fields
    )


@pytest.fixture
def olga() -> User:
    return make("olga", "Olga Smirnova")


@pytest.fixture
def team(olga) -> list[User]:
    return [
        olga,
        make("boris", "Boris Ivanov"),
        make("ivan", "Ivan Olgin"),
        make("gone", "Olga Gone", is_active=False),
    ]


def names(found: list[Person]) -> list[str]:
    return [person.name for person in found]


def test_every_word_typed_narrows_the_people_found(team):
    assert names(people_search(query="olg")[0]) == ["Ivan Olgin", "Olga Smirnova"]
    assert names(people_search(query="olg smir")[0]) == ["Olga Smirnova"]
    assert names(people_search(query="BORIS@example")[0]) == ["Boris Ivanov"]  # the e-mail too
    assert people_search(query="nobody") == ([], False)


def test_inactive_people_are_never_offered(team):
    assert "Olga Gone" not in names(people_search(query="olga")[0])


def test_a_search_answers_at_most_the_limit_and_says_there_are_more(db):
    for number in range(SEARCH_LIMIT + 1):
        make(f"clerk{number:02}", f"Clerk {number:02}")
    found, more = people_search(query="clerk")
    assert len(found) == SEARCH_LIMIT and more
    assert names(people_search(query="clerk 20")[0]) == ["Clerk 20"]
    assert people_search(query="clerk 20")[1] is False


def test_a_person_reads_as_name_initials_and_e_mail(olga):
    person = people_search(query="olga")[0][0]
    assert person == Person(f"user_{olga.pk}", "Olga Smirnova", "olga@example.com")
    assert person.initials == "OS"
    assert Person("user_1", "cher").initials == "C"


def test_stored_values_read_as_names_expressions_as_they_are(team, olga):
    gone = User.objects.get(username="gone")
    assert person_name(f"user_{olga.pk}") == "Olga Smirnova"
    assert person_name([f"user_{olga.pk}", f"user_{gone.pk}", "{=Document:ASSIGNED_BY_ID}"]) == (
        "Olga Smirnova, Olga Gone, {=Document:ASSIGNED_BY_ID}"
    )
    assert person_name("user_999999") == "user_999999"  # names nobody: shown as it is
    assert person_name(None) == ""


def test_the_picker_shows_people_as_chips_and_keeps_the_rest_as_text(olga):
    responsible = Person("{=Document:ASSIGNED_BY_ID}", "Responsible for the item")
    picker = user_picker(
        id="field-Users",
        name="Users",
        label="Users",
        values=[f"user_{olga.pk}", "{=Document:ASSIGNED_BY_ID}", "{=Variable:Boss}", "user_999"],
        multiple=True,
        free_text=True,
        fixed=[responsible],
    )
    assert [person.name for person in picker.chosen] == [
        "Olga Smirnova",
        "Responsible for the item",
    ]
    assert picker.text == "{=Variable:Boss}, user_999"


def test_the_search_answers_signed_in_people_only(client, team, olga):
    url = reverse("accounts:people-search")
    anonymous = client.get(url, {"q": "olga"})
    assert anonymous.status_code == 302 and "Olga" not in anonymous.text
    client.force_login(olga)
    answer = client.get(url, {"q": "olg"}).text
    options = re.findall(
        r'<li role="option"[^>]*data-value="(user_\d+)"[^>]*data-name="([^"]+)"', answer
    )
    assert [name for _value, name in options] == ["Ivan Olgin", "Olga Smirnova"]
    assert (f"user_{olga.pk}", "Olga Smirnova") in options
    assert "olga@example.com" in answer
    assert "2 people found." in answer
    assert "No one found." in client.get(url, {"q": "nobody"}).text
    assert client.post(url, {"q": "olga"}).status_code == 405


def test_the_search_says_when_more_people_match_than_it_shows(client, olga):
    for number in range(SEARCH_LIMIT + 1):
        make(f"clerk{number:02}", f"Clerk {number:02}")
    client.force_login(olga)
    answer = client.get(reverse("accounts:people-search"), {"q": "clerk"}).text
    assert answer.count('role="option"') == SEARCH_LIMIT
    assert f"The first {SEARCH_LIMIT} people found: type more of the name to see others." in answer
