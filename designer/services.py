"""The designer's own services: each user's edit log on a template, which undo and redo walk.

Every edit made in the editor goes through ``draft_edit``, which records the draft before and
after it in the same transaction. Undo and redo write the recorded state back as a new revision
of the draft (through ``draft_lock`` and ``draft_save``, like every edit), and only when the
draft is still exactly what the entry left: if anyone changed it since, they are refused and
nothing changes.
"""

import copy
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from bizproc.models import Template
from bizproc.services import EditRefused, draft_lock, draft_save, tree_delete
from bizproc.tree import find
from designer.models import EditLogEntry

# What an edit in the designer can change: the draft's tree and its settings.
DRAFT_FIELDS = (
    "name",
    "description",
    "auto_execute",
    "tree",
    "parameters",
    "variables",
    "constants",
)


def draft_snapshot(template: Template) -> dict[str, Any]:
    """The draft's fields as they are (not copied: whoever writes them back copies them)."""
    return {field: getattr(template, field) for field in DRAFT_FIELDS}


def _log(template: Template, user: Any) -> QuerySet[EditLogEntry]:
    return EditLogEntry.objects.filter(template_id=template.pk, user_id=user.pk)


@transaction.atomic
def draft_edit[T](*, template: Template, revision: int, user: Any, edit: Callable[[], T]) -> T:
    """Runs ``edit`` — a tree or settings service called for ``template`` at ``revision`` —
    and logs it as the user's newest undoable edit, clearing what they could redo. A refused
    edit (``EditRefused``, ``StaleRevision``) logs nothing, nor one that changed nothing (a
    dialog saved as it was): undoing it would seem to do nothing."""
    # ``template`` at the revision posted is the draft the edit locks (every change of the
    # draft makes a new revision; a newer one is refused by the edit's own lock), so it need
    # not be read again; at another revision, the locked row tells. The edit brings
    # ``template`` up to the saved draft (``draft_save``) with fields of its own.
    if template.revision == revision:
        before = draft_snapshot(template)
    else:
        before = draft_snapshot(draft_lock(template, revision))
    result = edit()
    after = draft_snapshot(template)
    if after == before:
        return result
    log = _log(template, user)
    limit = max(settings.DESIGNER_UNDO_LIMIT, 0)
    if not limit:
        log.delete()
        return result
    # In one statement: what the user could redo, and what falls off the end of the log.
    kept = log.filter(undone=False).order_by("-pk").values("pk")[: limit - 1]
    log.filter(Q(undone=True) | ~Q(pk__in=kept)).delete()
    EditLogEntry.objects.create(template=template, user=user, before=before, after=after)
    return result


@transaction.atomic
def draft_insert_cancel(*, template: Template, revision: int, user: Any, name: str) -> None:
    """Takes back block ``name``, which the user inserted and whose dialog they cancelled
    before ever saving it. While the insertion is their newest edit and the draft is as it
    left it, the draft goes back to what it was and the insertion leaves the log: it never
    happened, so there is nothing to undo or redo. Otherwise (the draft changed since, and
    the cancel was re-applied onto it) the block is deleted as an edit of its own, which Undo
    takes back."""
    locked = draft_lock(template, revision)
    entry = _log(template, user).filter(undone=False).order_by("-pk").first()
    inserted = (
        entry is not None
        and find(entry.before["tree"], name) is None
        and find(entry.after["tree"], name) is not None
    )
    if entry is None or not inserted or draft_snapshot(locked) != entry.after:
        draft_edit(
            template=template,
            revision=revision,
            user=user,
            edit=lambda: tree_delete(template=template, revision=revision, name=name, user=user),
        )
        return
    for field in DRAFT_FIELDS:
        setattr(locked, field, copy.deepcopy(entry.before[field]))
    draft_save(locked, template, user)
    entry.delete()


def draft_history_after_edit() -> tuple[bool, bool]:
    """``draft_history`` right after ``draft_edit`` changed the draft, without asking the log:
    the edit can be undone (when the log keeps any), and nothing can be redone."""
    return settings.DESIGNER_UNDO_LIMIT > 0, False


def draft_history(*, template: Template, user: Any) -> tuple[bool, bool]:
    """Whether the user has an edit to undo, and one to redo, on the template."""
    undone = set(_log(template, user).values_list("undone", flat=True).distinct())
    return False in undone, True in undone


def _restore(
    *, template: Template, revision: int, user: Any, entry: EditLogEntry, undo: bool
) -> None:
    locked = draft_lock(template, revision)
    expected, state = (entry.after, entry.before) if undo else (entry.before, entry.after)
    if draft_snapshot(locked) != expected:
        who = locked.modified_by.get_full_name() if locked.modified_by else _("someone")
        if undo:
            message = _("Your change cannot be undone: %(who)s changed the template since.")
        else:
            message = _("Your change cannot be redone: %(who)s changed the template since.")
        raise EditRefused(message % {"who": who})
    for field in DRAFT_FIELDS:
        setattr(locked, field, copy.deepcopy(state[field]))
    draft_save(locked, template, user)
    entry.undone = undo
    entry.save(update_fields=["undone"])


@transaction.atomic
def draft_undo(*, template: Template, revision: int, user: Any) -> None:
    """Puts the draft back as it was before the user's newest edit not yet undone."""
    entry = _log(template, user).filter(undone=False).order_by("-pk").first()
    if entry is None:
        draft_lock(template, revision)  # a stale page hears so first
        raise EditRefused(_("There is nothing to undo."))
    _restore(template=template, revision=revision, user=user, entry=entry, undo=True)


@transaction.atomic
def draft_redo(*, template: Template, revision: int, user: Any) -> None:
    """Applies again the user's oldest undone edit (the one undone last)."""
    entry = _log(template, user).filter(undone=True).order_by("pk").first()
    if entry is None:
        draft_lock(template, revision)
        raise EditRefused(_("There is nothing to redo."))
    _restore(template=template, revision=revision, user=user, entry=entry, undo=False)
