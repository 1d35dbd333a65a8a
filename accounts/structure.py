"""The company structure: departments in a tree, their heads, the users' departments.

Structure administrators (superusers and holders of ``accounts.change_department``) change it;
everyone may read it. The rules are here alone, so that the pages, the admin's forms and REST
refuse the same things with the same messages:

* a department's parent is another department, never itself nor one of its own sub-departments
  (no cycles);
* its head is an active user;
* a department with sub-departments is not deleted (move or delete them first); its people
  simply lose it (their other departments stay).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Department, User
from accounts.people import WITH_DEPARTMENTS, Person, person_of

NAME_MAX_LENGTH = 255
SORT_MAX = 1_000_000_000


def is_structure_admin(user: Any) -> bool:
    """Whether the user may change the company structure."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("accounts.change_department"))
    )


@dataclass
class DepartmentValues:
    """A department as a form or a REST call gives it (ids of the parent and the head)."""

    name: str
    parent_id: int | None = None
    head_id: int | None = None
    sort: int = 500


def department_problems(values: DepartmentValues, department: Department | None) -> dict[str, str]:
    """The values' problems by field (empty: none); the tree is read under the caller's lock."""
    errors: dict[str, str] = {}
    name = values.name.strip()
    if not name:
        errors["name"] = _("Enter the department's name.")
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("The name is longer than %(max)d characters.") % {"max": NAME_MAX_LENGTH}
    elif "\x00" in name:
        errors["name"] = _("The name holds a character that is not allowed.")
    if not 0 <= values.sort <= SORT_MAX:
        errors["sort"] = _("The sort order is a whole number from 0 to %(max)d.") % {
            "max": SORT_MAX
        }
    head_id = values.head_id
    if head_id is not None and not User.objects.filter(pk=head_id, is_active=True).exists():
        errors["head"] = _("The head must be an active user.")
    if values.parent_id is not None:
        parents = dict(Department.objects.values_list("pk", "parent_id"))
        if values.parent_id not in parents:
            errors["parent"] = _("The parent department does not exist.")
        elif department is not None:
            seen: set[int] = set()
            current: int | None = values.parent_id
            while current is not None and current not in seen:
                if current == department.pk:
                    errors["parent"] = _(
                        "A department cannot be placed inside itself or one of its sub-departments."
                    )
                    break
                seen.add(current)
                current = parents.get(current)
    return errors


def _lock_tree() -> None:
    """Serialises changes of the tree, so that two moves cannot make a cycle together."""
    list(Department.objects.select_for_update().values_list("pk", flat=True))


@transaction.atomic
def department_create(
    *, values: DepartmentValues, member_ids: Sequence[int] | None = None
) -> Department:
    """Adds a department; raises ValidationError (by field) for values it refuses."""
    _lock_tree()
    errors = department_problems(values, None)
    if member_ids is not None:
        errors |= _members_checked(member_ids)
    if errors:
        raise ValidationError(errors)
    department = Department.objects.create(
        name=values.name.strip(),
        parent_id=values.parent_id,
        head_id=values.head_id,
        sort=values.sort,
    )
    if member_ids is not None:
        department.members.set(member_ids)
    return department


@transaction.atomic
def department_update(
    *,
    department: Department,
    values: DepartmentValues,
    member_ids: Sequence[int] | None = None,
) -> Department:
    """Changes (and moves) a department; its people change too when ``member_ids`` is given.
    Raises ValidationError (by field) for values it refuses, Department.DoesNotExist when it was
    deleted meanwhile."""
    _lock_tree()
    department = Department.objects.get(pk=department.pk)
    errors = department_problems(values, department)
    if member_ids is not None:
        errors |= _members_checked(member_ids)
    if errors:
        raise ValidationError(errors)
    department.name = values.name.strip()
    department.parent_id = values.parent_id
    department.head_id = values.head_id
    department.sort = values.sort
    department.save()
    if member_ids is not None:
        department.members.set(member_ids)
    return department


def _members_checked(member_ids: Sequence[int]) -> dict[str, str]:
    wanted = set(member_ids)
    if User.objects.filter(pk__in=wanted).count() != len(wanted):
        return {"members": _("Some of the people chosen no longer exist.")}
    return {}


@transaction.atomic
def department_delete(*, department: Department) -> None:
    """Deletes a department without sub-departments (ValidationError otherwise); its people
    lose it."""
    _lock_tree()
    if Department.objects.filter(parent_id=department.pk).exists():
        raise ValidationError(
            _("The department “%(name)s” has sub-departments: move or delete them first.")
            % {"name": department.name}
        )
    Department.objects.filter(pk=department.pk).delete()


@transaction.atomic
def user_departments_set(*, user: User, department_ids: Iterable[int]) -> None:
    """Sets the departments the user works in (ValidationError for one that does not exist)."""
    wanted = set(department_ids)
    if Department.objects.filter(pk__in=wanted).count() != len(wanted):
        raise ValidationError({"departments": _("A department chosen no longer exists.")})
    user.departments.set(wanted)


# --- reading the tree ----------------------------------------------------------------------------


@dataclass
class Node:
    """A department as the structure page draws it."""

    department: Department
    depth: int
    head: Person | None
    members: list[Person] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)

    @property
    def heading_level(self) -> int:
        """Its heading's level on the structure page (under the page's h1)."""
        return min(self.depth + 2, 6)


def department_tree() -> list[Node]:
    """The departments as trees (roots first, each level by sort and name), with their heads
    and people by name; a department whose parent chain loops is not shown."""
    departments = list(
        Department.objects.select_related("head").prefetch_related("head__departments")
    )
    memberships = User.departments.through.objects.filter(user__is_active=True).values_list(
        "department_id", "user_id"
    )
    active = User.objects.filter(is_active=True).prefetch_related(WITH_DEPARTMENTS)
    people = {user.pk: person_of(user) for user in active}
    members: dict[int, list[Person]] = {}
    for department_id, user_id in memberships:
        if user_id in people:
            members.setdefault(department_id, []).append(people[user_id])
    children: dict[int | None, list[Department]] = {}
    for department in departments:
        children.setdefault(department.parent_id, []).append(department)

    def build(department: Department, depth: int) -> Node:
        head = None
        if department.head is not None:
            head = people.get(department.head.pk) or person_of(department.head)
        node = Node(department, depth, head, sorted(members.get(department.pk, []), key=_by_name))
        node.children = [build(child, depth + 1) for child in children.get(department.pk, [])]
        return node

    return [build(root, 0) for root in children.get(None, [])]


def _by_name(person: Person) -> str:
    return person.name.casefold()


def department_choices() -> list[tuple[int, str, int]]:
    """(id, name, depth) of every department in tree order, for selects."""
    result: list[tuple[int, str, int]] = []

    def walk(nodes: list[Node]) -> None:
        for node in nodes:
            result.append((node.department.pk, node.department.name, node.depth))
            walk(node.children)

    walk(department_tree())
    return result


def department_subtree_ids(department_id: int) -> set[int]:
    """The department and all its sub-departments."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Department.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = set(), [department_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def heads_of(user_id: int, *, levels: int) -> list[int]:
    """The heads above the user, nearest first, at most ``levels`` departments up.

    For each of the user's departments (by sort), a level's head is that department's head; when
    it has none, or it is the user or a head found already, the parent department's head, and so
    on up. The next level starts above the department whose head was taken."""
    parents: dict[int, int | None] = {}
    heads: dict[int, int | None] = {}
    for pk, parent_id, head_id in Department.objects.values_list("pk", "parent_id", "head_id"):
        parents[pk] = parent_id
        heads[pk] = head_id
    # A head who has left (inactive) heads nobody: the next one up does.
    active = set(
        User.objects.filter(is_active=True, pk__in={h for h in heads.values() if h}).values_list(
            "pk", flat=True
        )
    )
    heads = {pk: head if head in active else None for pk, head in heads.items()}
    current = list(
        Department.objects.filter(members__pk=user_id)
        .order_by("sort", "name", "pk")
        .values_list("pk", flat=True)
    )
    found: list[int] = []
    for _level in range(max(levels, 0)):
        above: list[int] = []
        for start in current:
            department: int | None = start
            chosen: int | None = None
            seen: set[int] = set()
            while department is not None and department not in seen:
                head = heads.get(department)
                if head is not None and head != user_id and head not in found:
                    chosen = head
                    break
                seen.add(department)
                department = parents.get(department)
            if chosen is None or department is None:
                continue
            found.append(chosen)
            parent = parents.get(department)
            if parent is not None and parent not in above:
                above.append(parent)
        if not above:
            break
        current = above
    return found
