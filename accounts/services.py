"""A user's notifications: the pages their profile lists, marking them read, and keeping
those the engine sends."""

from collections.abc import Sequence
from urllib.parse import urlsplit

from django.utils import timezone

from accounts.models import Notification, User
from bizproc.notifications import Notice

NOTIFICATIONS_PAGE = 50


def notification_list(
    *, user: User, before_id: int | None = None, limit: int = NOTIFICATIONS_PAGE
) -> tuple[list[Notification], int | None]:
    """The user's notifications, newest first, keyset-paged by id (no COUNT): those older than
    ``before_id``, and the cursor of the next page (None on the last one).

    Each row carries ``shown_link``: its link when it is safe to follow, else "".
    """
    rows = user.notifications.select_related("sender")
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)
    page = list(rows.order_by("-pk")[: limit + 1])
    for row in page:
        row.shown_link = notification_link(link=row.link)
    return page[:limit], page[limit - 1].pk if len(page) > limit else None


def notification_link(*, link: str) -> str:
    """The link when following it can only open a page: a path on this site or an http(s) URL.

    Processes are designed by users and their expressions may write any text, so anything else
    (``javascript:``, ``data:``, ``//other.host``, ``/\\other.host``, which browsers read as
    ``//``) is dropped rather than escaped. Browsers skip whitespace and control characters
    inside a URL, so a link holding any is dropped too.
    """
    if any(char <= " " or char in "\\\x7f" for char in link):
        return ""
    if link.startswith("/"):
        return "" if link.startswith("//") else link
    try:
        parts = urlsplit(link)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""
    return link if parts.scheme.lower() in {"http", "https"} and parts.netloc else ""


def notification_mark_all_read(*, user: User) -> int:
    """Marks the user's unread notifications read; one already read keeps the moment it was."""
    return user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())


def notification_send(*, notices: Sequence[Notice]) -> None:
    """Keeps the engine's notices as the users' notifications (the notifier ``AccountsConfig``
    registers)."""
    Notification.objects.bulk_create(
        Notification(user_id=n.user_id, sender_id=n.sender_id, text=n.text, link=n.link)
        for n in notices
    )
