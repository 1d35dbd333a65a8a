"""The one place that answers "may this user do X to this list / this element".

Everyone may read and edit the elements they created, and read those they have a process task
on; a list's access (Bitrix's access codes:
``AU`` every user, ``U<id>`` a user, ``G<id>`` a group) grants more: reading every element,
adding, editing and deleting every element, designing its processes. Lists administrators
(superusers and holders of the ``lists.change_list`` permission) may do everything, and alone
manage lists and their fields.
"""

from typing import Any

from django.db.models import QuerySet

from bizproc.models import ProcessTaskUser
from lists.models import Element, List, Right


def is_lists_admin(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("lists.change_list"))
    )


def _codes(user: Any) -> set[str]:
    """The user's access codes, read once per user object."""
    cached = getattr(user, "_lists_access_codes", None)
    if cached is None:
        cached = {"AU", f"U{user.pk}"} | {
            f"G{pk}" for pk in user.groups.values_list("pk", flat=True)
        }
        user._lists_access_codes = cached
    return cached


def has_right(user: Any, list_: List, right: str) -> bool:
    """Whether the list's access grants ``right`` to the user (administrators: always)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_lists_admin(user):
        return True
    granted = (list_.access or {}).get(right) or []
    return bool(_codes(user) & {str(code) for code in granted})


def can_see_list(user: Any, list_: List) -> bool:
    """A list shows to whoever may read all of it or add to it (everyone else has at most
    their own elements there, and sees the list when they have some)."""
    return has_right(user, list_, Right.READ) or has_right(user, list_, Right.ADD)


def can_add(user: Any, list_: List) -> bool:
    return has_right(user, list_, Right.ADD)


def can_read(user: Any, element: Element) -> bool:
    """One's own elements, every element with the right, and an element one has (or had) a
    process task on: an approver sees what they approve, as in Bitrix."""
    if not user.is_authenticated or not user.is_active:
        return False
    if element.created_by_id == user.pk or has_right(user, element.list, Right.READ):
        return True
    return ProcessTaskUser.objects.filter(
        user=user, task__document_id=element.document_id, task__instance__module="lists"
    ).exists()


def can_edit(user: Any, element: Element) -> bool:
    """Edit and delete: one's own elements, or every element with the right."""
    if not user.is_authenticated or not user.is_active:
        return False
    return element.created_by_id == user.pk or has_right(user, element.list, Right.EDIT)


def can_design(user: Any, list_: List) -> bool:
    return list_.bizproc and has_right(user, list_, Right.DESIGN)


def readable(user: Any, list_: List) -> QuerySet[Element]:
    """The list's elements the user may read."""
    elements = Element.objects.filter(list=list_)
    if has_right(user, list_, Right.READ):
        return elements
    if not user.is_authenticated or not user.is_active:
        return elements.none()
    return elements.filter(created_by=user)


def visible_lists(user: Any) -> list[List]:
    """The lists the user may open: those their access shows, and those holding their own
    elements."""
    if not user.is_authenticated or not user.is_active:
        return []
    own = set(Element.objects.filter(created_by=user).values_list("list_id", flat=True).distinct())
    return [list_ for list_ in List.objects.all() if list_.pk in own or can_see_list(user, list_)]
