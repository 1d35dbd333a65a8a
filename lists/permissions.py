"""The one place that answers "may this user do X to this list / this element".

Everyone may read and edit the elements they created, read those they have a process task
on, and read or edit those a process granted them (Set permissions: ``ElementGrant``, to them
or to a group of theirs); a list's access (Bitrix's access codes:
``AU`` every user, ``U<id>`` a user, ``G<id>`` a group) grants more: reading every element,
adding, editing and deleting every element, designing its processes. Lists administrators
(superusers and holders of the ``lists.change_list`` permission) may do everything, and alone
manage lists and their fields.
"""

from typing import Any

from django.db.models import Q, QuerySet

from bizproc.models import ProcessTaskUser
from lists.models import Element, ElementGrant, GrantOperation, List, Right

# What a process's grant of each operation allows: editing includes reading.
GRANTS_READING = (GrantOperation.READ, GrantOperation.EDIT)
GRANTS_EDITING = (GrantOperation.EDIT,)


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


def _group_ids(user: Any) -> list[int]:
    return [int(code[1:]) for code in _codes(user) if code.startswith("G")]


def _grants(user: Any, operations: tuple[str, ...]) -> QuerySet[ElementGrant]:
    return ElementGrant.objects.filter(operation__in=operations).filter(
        Q(user=user) | Q(group_id__in=_group_ids(user))
    )


def personal(user: Any) -> Q:
    """The elements the user may read whatever the list's access: their own, and those a
    process granted them (``user`` is an active, authenticated user)."""
    return Q(created_by=user) | Q(pk__in=_grants(user, GRANTS_READING).values("element_id"))


def holds_elements(user: Any, list_: List) -> bool:
    """Whether the list holds elements the user may read whatever its access."""
    if not user.is_authenticated or not user.is_active:
        return False
    return Element.objects.filter(personal(user), list=list_).exists()


def is_granted(user: Any, element: Element, operations: tuple[str, ...]) -> bool:
    return _grants(user, operations).filter(element=element).exists()


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
    if is_granted(user, element, GRANTS_READING):
        return True
    return ProcessTaskUser.objects.filter(
        user=user, task__document_id=element.document_id, task__instance__module="lists"
    ).exists()


def can_edit(user: Any, element: Element) -> bool:
    """Edit and delete: one's own elements, every element with the right, and those a process
    granted editing."""
    if not user.is_authenticated or not user.is_active:
        return False
    if element.created_by_id == user.pk or has_right(user, element.list, Right.EDIT):
        return True
    return is_granted(user, element, GRANTS_EDITING)


def can_design(user: Any, list_: List) -> bool:
    return list_.bizproc and has_right(user, list_, Right.DESIGN)


def readable(user: Any, list_: List) -> QuerySet[Element]:
    """The list's elements the user may read."""
    elements = Element.objects.filter(list=list_)
    if has_right(user, list_, Right.READ):
        return elements
    if not user.is_authenticated or not user.is_active:
        return elements.none()
    return elements.filter(personal(user))


def visible_lists(user: Any) -> list[List]:
    """The lists the user may open: those their access shows, and those holding their own
    elements (or elements a process granted them)."""
    if not user.is_authenticated or not user.is_active:
        return []
    own = set(Element.objects.filter(created_by=user).values_list("list_id", flat=True).distinct())
    own |= set(_grants(user, GRANTS_READING).values_list("element__list_id", flat=True).distinct())
    return [list_ for list_ in List.objects.all() if list_.pk in own or can_see_list(user, list_)]
