"""The demo admin's inbound webhook, made once by ``manage.py demo_data``.

Its URL path is kept in ``settings.DEMO_WEBHOOK_FILE`` (the token is not stored anywhere else),
so that ``manage.py serve`` can print the full URL beside the demo login.
"""

from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts.models import User
from rest.models import Webhook
from rest.services import token_hash, webhook_create, webhook_path

DEMO_WEBHOOK_NAME = "Demo integration"


def demo_webhook_path() -> str | None:
    """The kept URL path, if its webhook still exists."""
    path = Path(settings.DEMO_WEBHOOK_FILE)
    if not path.exists():
        return None
    kept = path.read_text().strip()
    token = kept.rstrip("/").rsplit("/", 1)[-1]
    return kept if Webhook.objects.filter(token_hash=token_hash(token)).exists() else None


@transaction.atomic
def demo_webhook_create(*, user: User) -> str:
    """The demo webhook's URL path, creating the webhook unless it exists (idempotent)."""
    existing = demo_webhook_path()
    if existing:
        return existing
    webhook, token = webhook_create(user=user, name=DEMO_WEBHOOK_NAME)
    kept = webhook_path(webhook=webhook, token=token)
    path = Path(settings.DEMO_WEBHOOK_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(kept)
    path.chmod(0o600)
    return kept
