import datetime

import pytest
from django.urls import reverse

from accounts.models import User
from crm.models import Deal


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user(
        username="vera", password="pw-123456!", full_name="Vera Ivanova", is_crm_admin=True
    )


def test_profile_sets_language_and_time_zone_and_pages_follow_them(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"),
        {"full_name": "Vera I.", "email": "", "language": "ru", "time_zone": "Europe/Moscow"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.language, user.time_zone) == ("Vera I.", "ru", "Europe/Moscow")

    page = client.get(reverse("accounts:profile"))
    assert page.headers["Content-Language"] == "ru"
    assert "Профиль" in page.text
    assert '<html lang="ru">' in page.text


def test_times_are_shown_in_the_users_time_zone(client, user) -> None:
    deal = Deal.objects.create(
        title="Moscow time", assigned_by=user, created_by=user, modified_by=user
    )
    Deal.objects.filter(pk=deal.pk).update(
        created_at=datetime.datetime(2026, 1, 5, 12, 0, tzinfo=datetime.UTC)
    )
    client.force_login(user)

    assert "12:00" in client.get(reverse("crm:record-list", args=["deal"])).text
    User.objects.filter(pk=user.pk).update(time_zone="Europe/Moscow")
    assert "15:00" in client.get(reverse("crm:record-list", args=["deal"])).text


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_zone", "Mars/Olympus"), ("language", "xx"), ("email", "not-an-email")],
)
def test_bad_profile_input_is_refused_and_nothing_is_saved(client, user, field, value) -> None:
    client.force_login(user)
    data = {"full_name": "Changed", "email": "", "language": "en", "time_zone": "UTC"}
    data[field] = value
    response = client.post(reverse("accounts:profile"), data)
    assert response.status_code == 200
    assert 'role="alert"' in response.text
    user.refresh_from_db()
    assert user.full_name == "Vera Ivanova"


def test_an_anonymous_visitor_gets_the_login_page_in_the_browsers_language(client, db) -> None:
    response = client.get(reverse("accounts:login"), headers={"accept-language": "ru"})
    assert "Вход" in response.text


def test_pages_need_a_login(client, db) -> None:
    response = client.get(reverse("crm:record-list", args=["deal"]))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("accounts:login"))


def test_a_new_language_is_confirmed_in_that_language(client, user) -> None:
    client.force_login(user)
    data = {"full_name": "Vera", "email": "", "language": "ru", "time_zone": "UTC"}

    page = client.post(reverse("accounts:profile"), data, follow=True)

    assert "Профиль сохранён." in page.text
    assert "Your profile was saved." not in page.text
    assert ">Часовой пояс</label>" in page.text
