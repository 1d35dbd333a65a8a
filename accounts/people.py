"""People as pages show them: by name, found by name.

Values stay as Bitrix stores them (``user_<id>``): in templates, processes and records. Pages
turn them into people (``people_named``) and the user picker finds people by name
(``people_search``); nothing else on a page should ever show a ``user_<id>``.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import and_
from typing import Any

from django.db.models import Q

from accounts.models import User

# How many people one search shows: enough to pick from, few enough to read; a longer name
# narrows it down.
SEARCH_LIMIT = 20
_SEARCH_WORDS = 5
_USER_VALUE = re.compile(r"(?:user_)?(\d{1,18})")


@dataclass(frozen=True)
class Person:
    """One choice of the picker: who, and the value a field stores for them."""

    value: str  # ``user_<id>``, or a fixed choice of the field ("author")
    name: str
    # What tells two people of the same name apart: their departments and their e-mail (or
    # their username when they have none).
    detail: str = ""
    symbol: str = ""  # stands for a fixed choice's initials

    @property
    def user_id(self) -> int | None:
        """The user the choice stands for (None: a fixed choice such as "author")."""
        return user_pk_of(self.value)

    @property
    def initials(self) -> str:
        if self.symbol:
            return self.symbol
        letters = [word[0] for word in self.name.split() if word[:1].isalnum()]
        return "".join(letters[:2]).upper() or "?"


def person_of(user: User) -> Person:
    """The user as a choice; their departments are read from ``user.departments`` (prefetch
    them with ``WITH_DEPARTMENTS`` when there are many users)."""
    departments = ", ".join(department.name for department in user.departments.all())
    contact = user.email or user.username
    return Person(
        user.document_user_id,
        user.get_full_name(),
        f"{departments} · {contact}" if departments else contact,
    )


# What ``person_of`` reads, to prefetch for many users.
WITH_DEPARTMENTS = "departments"


def user_pk_of(value: Any) -> int | None:
    """The user id a field value names (``user_6``, or the id alone as forms post it)."""
    match = _USER_VALUE.fullmatch(str(value).strip())
    return int(match[1]) if match else None


def people_search(*, query: str, limit: int = SEARCH_LIMIT) -> tuple[list[Person], bool]:
    """Active users whose name, username or e-mail contains every word typed, by name; and
    whether more match than ``limit``."""
    found = User.objects.filter(is_active=True).prefetch_related(WITH_DEPARTMENTS)
    words = query.split()[:_SEARCH_WORDS]
    if words:
        found = found.filter(reduce(and_, (_matching(word) for word in words)))
    users = list(found.order_by("full_name", "last_name", "first_name", "username")[: limit + 1])
    return [person_of(user) for user in users[:limit]], len(users) > limit


def _matching(word: str) -> Q:
    return (
        Q(full_name__icontains=word)
        | Q(first_name__icontains=word)
        | Q(last_name__icontains=word)
        | Q(username__icontains=word)
        | Q(email__icontains=word)
    )


def people_named(*, values: Iterable[Any]) -> dict[int, Person]:
    """The people the values name (``user_6`` or ``6``), by user id; inactive users too: a
    value they hold still names them."""
    pks = {pk for value in values if (pk := user_pk_of(value)) is not None}
    if not pks:
        return {}
    users = User.objects.filter(pk__in=pks).prefetch_related(WITH_DEPARTMENTS)
    return {user.pk: person_of(user) for user in users}


def person_name(value: Any) -> str:
    """A stored user value as a page shows it: the person's name; an expression, or a value
    naming nobody, as it is."""
    values = value if isinstance(value, list) else [value]
    named = people_named(values=values)
    shown = []
    for item in values:
        if item in (None, ""):
            continue
        pk = user_pk_of(item)
        shown.append(named[pk].name if pk in named else str(item))
    return ", ".join(shown)


@dataclass
class UserPicker:
    """One user field drawn as the user picker (``accounts/user_picker.html``).

    People are shown by name (``chosen``); the form posts their values. ``text`` is what the
    field holds that names nobody: an expression such as ``{=Document:ASSIGNED_BY_ID}`` where
    the field takes them (``free_text``), which the text box keeps and posts as typed."""

    id: str  # the text box's, which the field's label names
    name: str
    label: str
    chosen: list[Person] = field(default_factory=list)
    text: str = ""
    multiple: bool = False
    free_text: bool = False
    required: bool = False
    fixed: Sequence[Person] = ()  # offered before the people found ("Responsible for the item")
    search: bool = True  # False: only the fixed choices (a person who may pick only themselves)


def user_picker(
    *,
    id: str,
    name: str,
    label: str,
    values: Iterable[Any],
    multiple: bool = False,
    free_text: bool = False,
    required: bool = False,
    fixed: Sequence[Person] = (),
    search: bool = True,
) -> UserPicker:
    """The picker for a field holding ``values``: the people and fixed choices they name
    become chips, the rest (expressions, unknown ids) the text."""
    values = [str(value).strip() for value in values if str(value).strip()]
    named = people_named(values=values)
    fixed_by_value = {choice.value: choice for choice in fixed}
    chosen, rest = [], []
    for value in values:
        pk = user_pk_of(value)
        if value in fixed_by_value:
            chosen.append(fixed_by_value[value])
        elif pk is not None and pk in named:
            chosen.append(named[pk])
        else:
            rest.append(value)
    return UserPicker(
        id=id,
        name=name,
        label=label,
        chosen=chosen,
        text=", ".join(rest),
        multiple=multiple,
        free_text=free_text,
        required=required,
        fixed=fixed,
        search=search,
    )
