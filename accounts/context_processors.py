import functools
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from accounts.models import User

ANONYMOUS = AnonymousUser()


def notifications(request: HttpRequest) -> dict[str, Any]:
    """How many of the user's notifications are unread, for the navigation: counted when a page
    draws it, not for each fragment."""
    # A request refused before authentication (a bad Host header) has no user.
    user = getattr(request, "user", ANONYMOUS)

    # A callable rather than a lazy object: a template calls it and gets a real int, which the
    # plural forms of a translation can compute with (a lazy object has no ``%``).
    @functools.cache
    def unread_notifications() -> int:
        if not isinstance(user, User):
            return 0
        return user.notifications.filter(read_at__isnull=True).count()

    return {"unread_notifications": unread_notifications}
