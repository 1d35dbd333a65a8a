import functools
from typing import Any

from django.http import HttpRequest

from bizproc.process_tasks import tasks_open


def tasks(request: HttpRequest) -> dict[str, Any]:
    """How many tasks wait for the user's answer, for the navigation: counted when a page
    draws it, not for each fragment."""
    user = request.user

    @functools.cache  # a callable, as ``accounts.context_processors`` explains
    def tasks_waiting() -> int:
        return tasks_open(user=user).count() if user.is_authenticated else 0

    return {"tasks_waiting": tasks_waiting}
