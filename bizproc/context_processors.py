import functools
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from bizproc.process_tasks import tasks_open

ANONYMOUS = AnonymousUser()


def tasks(request: HttpRequest) -> dict[str, Any]:
    """How many tasks wait for the user's answer, for the navigation: counted when a page
    draws it, not for each fragment."""
    # A request refused before authentication (a bad Host header) has no user.
    user = getattr(request, "user", ANONYMOUS)

    @functools.cache  # a callable, as ``accounts.context_processors`` explains
    def tasks_waiting() -> int:
        return tasks_open(user=user).count() if user.is_authenticated else 0

    return {"tasks_waiting": tasks_waiting}
