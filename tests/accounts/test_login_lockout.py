"""Login brute force: django-axes locks a username from one address after repeated failures."""

import datetime
import logging
import subprocess

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse

from tests.crm.factories import PASSWORD, UserFactory
from tests.rest.test_methods import call, hook
from tests.test_project import manage

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOCKED = "Too many failed attempts to log in with this username from your address."


@pytest.fixture(autouse=True)
def _fast_hashes(settings) -> None:
    """Every failed login hashes a password; the slow default would make these tests crawl."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def person(username: str, **fields):
    return UserFactory(username=username, password=make_password(PASSWORD), **fields)


@pytest.fixture
def vera():
    return person("vera")


def log_in(client: Client, username: str, password: str, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def fail(client: Client, username: str, times: int, **extra) -> list[int]:
    return [log_in(client, username, "wrong", **extra).status_code for _ in range(times)]


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_username_even_with_the_right_password(client, vera) -> None:
    assert fail(client, "vera", 4) == [200] * 4  # the form, saying the login failed
    assert fail(client, "vera", 1) == [429]
    response = log_in(client, "vera", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert "Try again in 15 minutes, or ask an administrator to unlock it." in page
    assert 'class="skip-link"' in page  # the site's layout, not a bare text
    assert not logged_in(client)


def test_the_lockout_is_for_the_username_from_that_address_only(client, vera) -> None:
    person("oleg")
    fail(client, "vera", 5)
    assert log_in(client, "oleg", PASSWORD).status_code == 302
    other_address = Client(REMOTE_ADDR="10.1.2.3")
    assert log_in(other_address, "vera", PASSWORD).status_code == 302
    assert logged_in(other_address)


def test_the_lockout_page_speaks_the_visitors_language(client, vera) -> None:
    fail(client, "vera", 5)
    response = log_in(client, "vera", PASSWORD, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 429
    assert '<html lang="ru">' in response.content.decode()
    assert "<h1>Вход</h1>" in response.content.decode()


def test_the_lockout_ends_after_15_minutes(client, vera) -> None:
    fail(client, "vera", 5)
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    assert log_in(client, "vera", PASSWORD).status_code == 302
    assert logged_in(client)


def test_the_limits_are_settings(client, vera, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    assert fail(client, "vera", 2) == [200, 429]


def test_a_lockout_is_logged_with_the_username(client, vera, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        fail(client, "vera", 5)
    assert any(
        "Locking out" in record.getMessage() and "vera" in record.getMessage()
        for record in caplog.records
    )


def test_an_administrator_unlocks_the_username_in_the_admin(client, vera) -> None:
    fail(client, "vera", 5)
    boss = person("boss", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(boss)
    changelist = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200
    assert "vera" in changelist.content.decode()
    attempt = AccessAttempt.objects.get(username="vera")
    delete_url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert admin.post(delete_url, {"post": "yes"}).status_code == 302
    assert log_in(client, "vera", PASSWORD).status_code == 302
    assert logged_in(client)


def test_the_admin_login_is_locked_too(client, vera) -> None:
    vera.is_staff = True
    vera.save()
    admin_login = reverse("admin:login")
    for _ in range(5):
        client.post(admin_login, {"username": "vera", "password": "wrong"})
    assert client.post(admin_login, {"username": "vera", "password": PASSWORD}).status_code == 429


def test_a_locked_out_users_webhook_keeps_working(client, vera) -> None:
    base = hook(vera)
    fail(client, "vera", 5)
    status, body = call(client, base, "crm.deal.fields")
    assert status == 200
    assert "TITLE" in body["result"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "vera"},
        {"username": "x" * 300, "password": "wrong"},
        {"username": "ve\x00ra", "password": "wrong"},
        {"username": ["oleg", "x" * 300], "password": ["a", "b"]},
    ],
)
def test_odd_login_posts_are_answered_without_error(client, vera, data) -> None:
    """Odd posts get the form back (or, repeated, the lockout page); none is an error, and
    none locks anyone else out."""
    statuses = {client.post(LOGIN, data).status_code for _ in range(6)}
    assert statuses <= {200, 429}
    assert log_in(client, "vera", PASSWORD).status_code == 302


def _settings_with(tmp_path, **env: str) -> subprocess.CompletedProcess:
    code = "from django.conf import settings as s\n"
    code += "print(s.AXES_ENABLED, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    return manage("shell", "--no-imports", "-c", code, env={**env, "VAR_DIR": str(tmp_path)})


def test_the_limit_and_the_lockout_time_come_from_the_environment(tmp_path) -> None:
    done = _settings_with(tmp_path, LOGIN_FAILURE_LIMIT="3", LOGIN_LOCKOUT_MINUTES="30")
    assert done.stdout.split() == ["True", "3", "0:30:00"]
    assert _settings_with(tmp_path, LOGIN_FAILURE_LIMIT="0").stdout.split()[0] == "False"
    for name, value in [("LOGIN_FAILURE_LIMIT", "five"), ("LOGIN_LOCKOUT_MINUTES", "0")]:
        refused = _settings_with(tmp_path, **{name: value})
        assert refused.returncode != 0
        assert name in refused.stderr
