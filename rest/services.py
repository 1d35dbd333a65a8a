"""Inbound webhooks: create, revoke, authenticate, and the per-webhook rate limit.

Tokens are 32 random characters from ``[a-z0-9]`` (about 165 bits), shown once and stored as
their SHA-256. A password hasher (``make_password``) is made slow on purpose, to resist guessing
of low-entropy secrets; a random token of this size cannot be guessed, so one fast hash is as
safe, costs microseconds instead of a large part of every request's time budget, and lets the
row be found by an indexed equality lookup. The lookup compares digests of the presented token,
not the token itself, so its timing tells an attacker nothing they could use.
"""

import hashlib
import hmac
import string
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest, Now
from django.db.models.lookups import LessThanOrEqual
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from accounts.models import User
from rest.models import Webhook

TOKEN_LENGTH = 32
TOKEN_ALPHABET = string.ascii_lowercase + string.digits
NAME_MAX = Webhook._meta.get_field("name").max_length


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def webhook_path(*, webhook: Webhook, token: str) -> str:
    """The webhook's URL path, to which a client appends the method name."""
    return f"/rest/{webhook.user_id}/{token}/"


@transaction.atomic
def webhook_create(*, user: User, name: str) -> tuple[Webhook, str]:
    """A new webhook of ``user`` and its token, which is not kept and cannot be shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Enter a name.")]})
    if len(name) > NAME_MAX:
        raise ValidationError(
            {"name": [_("The name is too long: at most %(max)d characters.") % {"max": NAME_MAX}]}
        )
    token = get_random_string(TOKEN_LENGTH, TOKEN_ALPHABET)
    webhook = Webhook.objects.create(user=user, name=name, token_hash=token_hash(token))
    return webhook, token


@transaction.atomic
def webhook_revoke(*, webhook: Webhook, user: User) -> None:
    """Deletes the webhook: its URL stops working at once. Only its owner may revoke it."""
    if webhook.user_id != user.pk:
        raise PermissionDenied(_("You may not revoke this webhook."))
    webhook.delete()


def webhook_authenticate(*, user_id: int, token: str) -> Webhook | None:
    """The active user's webhook the URL names, or None."""
    digest = token_hash(token)
    webhook = (
        Webhook.objects.select_related("user")
        .filter(token_hash=digest, user_id=user_id, user__is_active=True)
        .first()
    )
    if webhook is None or not hmac.compare_digest(webhook.token_hash, digest):
        return None
    return webhook


def webhook_throttle(*, webhook: Webhook) -> bool:
    """Counts a request in the webhook's leaky bucket; False when the bucket is full.

    One conditional UPDATE does it, so concurrent requests in any number of server processes
    queue on the row's lock and each sees the level its predecessor left. It also records when
    the webhook was last used.
    """
    rate = settings.REST_RATE_LIMIT_PER_SECOND
    now = time.time()
    updated = Webhook.objects.filter(pk=webhook.pk)
    if rate <= 0:
        updated.update(last_used_at=Now())
        return True
    # A request that read the clock before another process's update of the row sees a bucket
    # from its future: it leaks nothing (rather than a negative amount) and keeps the later time.
    elapsed = Greatest(Value(0.0), Value(now) - F("bucket_at"))
    leaked = Greatest(Value(0.0), F("bucket_level") - elapsed * Value(float(rate)))
    return bool(
        updated.filter(
            LessThanOrEqual(leaked + Value(1.0), Value(float(settings.REST_RATE_LIMIT_BURST)))
        ).update(
            bucket_level=leaked + Value(1.0),
            bucket_at=Greatest(F("bucket_at"), Value(now)),
            last_used_at=Now(),
        )
    )
