"""The webhooks section of the profile page: create (the token shown once), list, revoke."""

import re

import pytest
from django.urls import reverse

from rest.models import Webhook
from rest.services import token_hash
from tests.crm.factories import UserFactory

pytestmark = pytest.mark.django_db


def url_token(page: str) -> tuple[int, str]:
    found = re.search(r'value="http://testserver/rest/(\d+)/([a-z0-9]+)/"', page)
    assert found, page
    return int(found[1]), found[2]


def test_creating_a_webhook_shows_its_url_once_and_keeps_only_a_hash(client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("accounts:webhook-create"), {"name": "Accounting sync"})
    assert response.status_code == 200
    user_id, token = url_token(response.text)
    assert user_id == user.pk
    assert "it will not be shown again" in response.text
    webhook = Webhook.objects.get(user=user)
    assert webhook.name == "Accounting sync"
    assert webhook.token_hash == token_hash(token) != token

    page = client.get(reverse("accounts:profile")).text
    assert "Accounting sync" in page
    assert token not in page
    assert "Never" in page  # not used yet

    assert client.post(f"/rest/{user.pk}/{token}/crm.deal.fields").status_code == 200
    assert "Never" not in client.get(reverse("accounts:profile")).text


def test_the_htmx_form_gets_the_section_alone(client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:webhook-create"), {"name": "Shop"}, headers={"HX-Request": "true"}
    )
    assert response.text.lstrip().startswith('<section id="webhooks"')
    url_token(response.text)


def test_a_webhook_needs_a_name(client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("accounts:webhook-create"), {"name": "   "})
    assert response.status_code == 422
    assert 'role="alert"' in response.text and "Enter a name." in response.text
    assert not Webhook.objects.exists()


def test_the_owner_revokes_a_webhook_and_its_url_stops_working(client) -> None:
    user = UserFactory()
    client.force_login(user)
    _user_id, token = url_token(
        client.post(reverse("accounts:webhook-create"), {"name": "Old"}).text
    )
    webhook = Webhook.objects.get()
    response = client.post(reverse("accounts:webhook-revoke", args=[webhook.pk]), follow=True)
    assert response.status_code == 200
    assert "The webhook “Old” was revoked." in response.text
    assert not Webhook.objects.exists()
    assert client.post(f"/rest/{user.pk}/{token}/crm.deal.fields").status_code == 401


def test_another_user_cannot_revoke_your_webhook(client) -> None:
    owner, intruder = UserFactory(), UserFactory()
    client.force_login(owner)
    client.post(reverse("accounts:webhook-create"), {"name": "Mine"})
    webhook = Webhook.objects.get()
    client.force_login(intruder)
    response = client.post(reverse("accounts:webhook-revoke", args=[webhook.pk]))
    assert response.status_code == 403
    assert Webhook.objects.filter(pk=webhook.pk).exists()
    assert "Mine" not in client.get(reverse("accounts:profile")).text


def test_revoking_needs_a_post_and_a_login(client) -> None:
    owner = UserFactory()
    client.force_login(owner)
    client.post(reverse("accounts:webhook-create"), {"name": "Mine"})
    webhook = Webhook.objects.get()
    assert client.get(reverse("accounts:webhook-revoke", args=[webhook.pk])).status_code == 405
    client.logout()
    response = client.post(reverse("accounts:webhook-revoke", args=[webhook.pk]))
    assert response.status_code == 302
    assert Webhook.objects.filter(pk=webhook.pk).exists()


def test_the_profile_form_still_saves(client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"),
        {"full_name": "New Name", "email": "", "language": "en", "time_zone": "UTC"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "New Name"
