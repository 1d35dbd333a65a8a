"""Inbound webhooks: create, revoke, authenticate, and the per-user rate limit.

Tokens are 32 random characters from ``[a-z0-9]`` (about 165 bits), shown once and stored as
their SHA-256. A password hasher (``make_password``) is made slow on purpose, to resist guessing
of low-entropy secrets; a random token of this size cannot be guessed, so one fast hash is as
safe, costs microseconds instead of a large part of every request's time budget, and lets the
row be found by an indexed equality lookup. The lookup compares digests of the presented token,
not the token itself, so its timing tells an attacker nothing they could use.
"""

import datetime
import hashlib
import math
import string
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from redis.exceptions import NoScriptError

from accounts.models import User
from bizproc.compiled import CompiledQuery
from bizproc.redis_commands import redis_commands_run
from rest.models import Webhook

TOKEN_LENGTH = 32
TOKEN_ALPHABET = string.ascii_lowercase + string.digits
NAME_MAX = Webhook._meta.get_field("name").max_length

LAST_USED_PRECISION = datetime.timedelta(minutes=1)

# KEYS[1]: the bucket; ARGV: the rate per second, the burst, the requests to count.
_BUCKET_SCRIPT = """
local rate, burst, requests = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level, at = tonumber(state[1]) or 0, tonumber(state[2]) or now
level = math.max(0, level - math.max(0, now - at) * rate) + requests
if level > burst then
  return 0
end
redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level),
  'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(level / rate * 1000) + 1000)
return 1
"""
_BUCKET_SCRIPT_SHA1 = hashlib.sha1(_BUCKET_SCRIPT.encode()).hexdigest()  # noqa: S324 - its name
_bucket_lock = threading.Lock()


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
    """The active user's webhook the URL names, with its user loaded, or None.

    Every REST call starts here: the query is compiled once (``bizproc.compiled``), as
    compiling the ORM's join of the webhook and its user took more CPU than running it.
    """
    return _WEBHOOK_OF_TOKEN.first(token_hash=token_hash(token), user_id=user_id)


_WEBHOOK_OF_TOKEN = CompiledQuery(
    lambda token_hash, user_id: Webhook.objects.select_related("user").filter(
        token_hash=token_hash, user_id=user_id, user__is_active=True
    ),
    token_hash="\x00token hash",  # noqa: S106 - a placeholder, not a secret
    user_id=-(2**62) + 7919,
)


def webhook_throttle(*, webhook: Webhook) -> bool:
    """Counts a request of the webhook in its user's bucket; False when the bucket is full.

    It records when the webhook was last used too, at most once a minute (the profile page
    shows the time to the minute), so that a stream of requests costs no database write each.
    """
    now = timezone.now()
    if webhook.last_used_at is None or now - webhook.last_used_at >= LAST_USED_PRECISION:
        Webhook.objects.filter(pk=webhook.pk).update(last_used_at=now)
    return rest_quota_take(user_id=webhook.user_id)


def rest_quota_take(*, user_id: int, requests: int = 1) -> bool:
    """Counts ``requests`` calls in the user's leaky bucket (shared by all their webhooks);
    False, counting nothing, when they would overflow it. A rate of 0 turns the limit off.

    The bucket is kept in the cache. With Redis, one Lua script reads, leaks and fills it
    atomically on Redis's own clock, so any number of server processes on any number of hosts
    share it exactly; otherwise the cache is this process's memory and a lock suffices.
    """
    rate = float(settings.REST_RATE_LIMIT_PER_SECOND)
    if rate <= 0 or requests <= 0:
        return True
    burst = float(settings.REST_RATE_LIMIT_BURST)
    name = bucket_name(user_id=user_id)
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        key = cache.make_and_validate_key(name)
        arguments = (key, rate, burst, requests)
        try:
            reply = redis_commands_run(
                cache=cache, commands=[("EVALSHA", _BUCKET_SCRIPT_SHA1, 1, *arguments)]
            )
        except NoScriptError:  # a Redis that has not seen it yet, or restarted: it learns it
            reply = redis_commands_run(
                cache=cache, commands=[("EVAL", _BUCKET_SCRIPT, 1, *arguments)]
            )
        return bool(reply[0])
    with _bucket_lock:
        level, at = cache.get(name, (0.0, 0.0))
        now = time.time()
        level = max(0.0, level - max(0.0, now - at) * rate) + requests
        if level > burst:
            return False
        cache.set(name, (level, now), timeout=math.ceil(level / rate) + 1)
        return True


def bucket_name(*, user_id: int) -> str:
    """The cache key (before the cache's prefix) of the user's rate-limit bucket."""
    return f"rest:bucket:{user_id}"
