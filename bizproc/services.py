"""Services over templates: create, edit the draft's tree, publish, import and export ``.bpt``.

Every tree edit names the draft revision it was based on; an edit on a stale revision, or one
that would break the tree, is refused with a message and changes nothing. Each applied edit
bumps the revision. The designer and the importers use the same services.
"""

import copy
import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from bizproc import bpt
from bizproc.activities import activities
from bizproc.activities.base import Activity, Problem, PropertyType
from bizproc.activities.conditions import KINDS
from bizproc.documents import DocumentError, DocumentType, FieldsImport, document_providers
from bizproc.models import AutoExecute, Template, TemplateVersion
from bizproc.scope import ReferenceScope, reference_problems, scope_of
from bizproc.tree import (
    ROOT_NAME,
    ROOT_TYPE,
    Node,
    find,
    is_ancestor,
    names,
    new_name,
    renamed_copy,
    root_node,
    walk,
)
from bizproc.validation import (
    STATE_MACHINE_TYPE,
    block_problems,
    problems_split,
    template_problems,
)

NAME_MAX = 255


class EditRefused(Exception):
    """A refused edit; ``message`` is in the active language. Nothing was changed."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class StaleRevision(EditRefused):
    def __init__(self, template: Template) -> None:
        super().__init__(
            _("The template was changed meanwhile (revision %(revision)d). Reload and try again.")
            % {"revision": template.revision}
        )
        self.template = template


class PublishRefused(EditRefused):
    """A draft with problems; ``warnings`` are what publishing would only have warned about."""

    def __init__(
        self,
        message: str,
        problems: list[Problem] | None = None,
        warnings: list[Problem] | None = None,
    ) -> None:
        super().__init__(message, problems)
        self.warnings = warnings or []


class AccessRefused(PublishRefused):
    """The template would refer to what the user may not design, or run as someone only an
    administrator may choose (``bizproc.scope``); REST answers it with ``ACCESS_DENIED``."""


def references_check(*, tree: Node, document_type: DocumentType, user: Any) -> ReferenceScope:
    """The user's scope, once every block's references are within it; AccessRefused otherwise."""
    scope = scope_of(user, document_type)
    problems = reference_problems(tree=tree, scope=scope, document_type=document_type)
    if problems:
        raise AccessRefused(" ".join(problem.message for problem in problems), problems)
    return scope


def document_type_resolve(document_type: DocumentType) -> DocumentType:
    """The provider's own form of a document type named from outside (a ``.bpt`` import, a
    designer URL, REST): Bitrix's lists go by either entity name. EditRefused when no provider
    knows it."""
    try:
        provider = document_providers.get(document_type.module)
    except DocumentError as error:
        raise EditRefused(error.message) from None
    found = provider.resolve_type(document_type.entity, document_type.type)
    if found is None or tuple(found) not in {tuple(t) for t in provider.document_types()}:
        raise EditRefused(_("Incorrect document type!"))
    return found


def name_clean(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise EditRefused(_("Enter a name."))
    if len(name) > NAME_MAX:
        raise EditRefused(
            _("The name is too long: at most %(max)d characters.") % {"max": NAME_MAX}
        )
    return name


@transaction.atomic
def template_create(
    *,
    document_type: DocumentType,
    name: str,
    user: Any,
    description: str = "",
    auto_execute: int = AutoExecute.NONE,
) -> Template:
    document_type = document_type_resolve(document_type)
    if auto_execute not in AutoExecute.values:
        raise EditRefused(_("Choose when the process starts."))
    return Template.objects.create(
        module=document_type.module,
        entity=document_type.entity,
        document_type=document_type.type,
        name=name_clean(name),
        description=description or "",
        auto_execute=auto_execute,
        tree=root_node(),
        created_by=user,
        modified_by=user,
    )


def _tree_edit[**P, R](edit: Callable[P, R]) -> Callable[P, R]:
    """A tree edit runs in the caller's transaction when there is one, else in one of its own.

    Unlike a nested ``transaction.atomic``, it sets no savepoint (two round trips an edit): an
    edit refuses before it writes, and writing the draft is its last step, so a refused edit
    leaves the caller's transaction as it found it.
    """

    @functools.wraps(edit)
    def in_transaction(*args: P.args, **kwargs: P.kwargs) -> R:
        if transaction.get_connection().in_atomic_block:
            return edit(*args, **kwargs)
        with transaction.atomic():
            return edit(*args, **kwargs)

    return in_transaction


def draft_lock(template: Template, revision: int) -> Template:
    """The template's row, locked for an edit of the draft at ``revision`` (else StaleRevision)."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    if locked.revision != revision:
        raise StaleRevision(locked)
    return locked


def draft_save(
    locked: Template, original: Template, user: Any, *, changed: tuple[str, ...] | None = None
) -> None:
    """Saves an edited draft as the next revision; ``original`` is brought up to it (from the
    saved row itself: reading a big tree back from the database costs as much as the edit).
    ``changed``: the only fields the edit changed (an edit of blocks changes the tree alone),
    so that the others are not written again."""
    locked.revision += 1
    locked.modified_by = user
    if changed is None:
        locked.save()
    else:
        locked.save(update_fields=[*changed, "revision", "modified_by", "modified_at"])
    for field in locked._meta.concrete_fields:
        setattr(original, field.attname, getattr(locked, field.attname))


def _node_or_refuse(tree: Node, name: str) -> tuple[Node, Node | None]:
    found = find(tree, str(name))
    if found is None:
        raise EditRefused(_("There is no block %(name)s in this template.") % {"name": name})
    return found


def _check_placement(tree: Node, parent_name: str, index: Any, child_type: str) -> tuple[Node, int]:
    """The parent node and the index where a block of ``child_type`` may go."""
    parent, _grandparent = _node_or_refuse(tree, parent_name)
    parent_class = activities.get(str(parent.get("Type", "")))
    child_class = activities.get(child_type)
    title = str(child_class.title)
    if not parent_class.composite or not parent_class.supported:
        raise EditRefused(_("Blocks cannot be put inside this block."))
    if parent_class.child_types is not None and child_type not in parent_class.child_types:
        raise EditRefused(_("A block '%(title)s' cannot stand here.") % {"title": title})
    if child_class.parent_types is not None and parent.get("Type") not in child_class.parent_types:
        raise EditRefused(_("A block '%(title)s' cannot stand here.") % {"title": title})
    children = parent.setdefault("Children", [])
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise EditRefused(_("The position is not valid.")) from None
    if not 0 <= position <= len(children):
        raise EditRefused(_("The position is not valid."))
    return parent, position


def _check_properties(template: Template, node: Node, user: Any, *, complete: bool) -> None:
    """Refuses a block whose properties may not be saved (``validation.block_problems``).
    Its own references only: its children are checked when they are edited, and the whole
    tree when it is published."""
    references_check(
        tree={**node, "Children": []}, document_type=template.document_type_triple, user=user
    )
    problems = block_problems(
        node=node,
        document_type=template.document_type_triple,
        parameters=template.parameters,
        variables=template.variables,
        constants=template.constants,
        complete=complete,
    )
    if problems:
        raise EditRefused(" ".join(problem.message for problem in problems), problems)


@_tree_edit
def tree_insert(
    *,
    template: Template,
    revision: int,
    parent: str,
    index: int,
    type: str,
    user: Any,
    properties: Mapping[str, Any] | None = None,
) -> str:
    """Inserts a new block of ``type``; returns its name."""
    locked = draft_lock(template, revision)
    activity_class = activities.get(type)
    if not activities.is_known(type) or type == ROOT_TYPE:
        raise EditRefused(_("Unknown block type: %(type)s") % {"type": str(type)[:100]})
    tree = locked.tree
    parent_node, position = _check_placement(tree, parent, index, type)
    if not activity_class.designer and type not in (
        activities.get(parent_node["Type"]).child_types or ()
    ):
        raise EditRefused(
            _("A block '%(title)s' cannot stand here.") % {"title": activity_class.title}
        )
    taken = names(tree)
    node: Node = {
        "Type": type,
        "Name": new_name(taken),
        "Properties": activity_class.new_properties() | dict(properties or {}),
        "Children": activity_class.new_children(lambda: new_name(taken)),
    }
    # A new block's dialog opens at once to ask for what it requires.
    _check_properties(locked, node, user, complete=False)
    parent_node["Children"].insert(position, node)
    draft_save(locked, template, user, changed=("tree",))
    return node["Name"]


@_tree_edit
def tree_move(
    *, template: Template, revision: int, name: str, parent: str, index: int, user: Any
) -> None:
    locked = draft_lock(template, revision)
    tree = locked.tree
    node, old_parent = _node_or_refuse(tree, name)
    if old_parent is None:
        raise EditRefused(_("The template's root block cannot be moved."))
    new_parent, _grandparent = _node_or_refuse(tree, parent)
    if is_ancestor(node, new_parent):
        raise EditRefused(_("A block cannot be moved inside itself."))
    old_index = next(i for i, child in enumerate(old_parent["Children"]) if child is node)
    old_parent["Children"].pop(old_index)
    # ``index`` counts among the new parent's children once the block has left its old place.
    parent_node, position = _check_placement(tree, parent, index, str(node.get("Type")))
    parent_node["Children"].insert(position, node)
    draft_save(locked, template, user, changed=("tree",))


@_tree_edit
def tree_update(
    *, template: Template, revision: int, name: str, properties: Mapping[str, Any], user: Any
) -> None:
    """Replaces a block's properties (all of them: the dialog sends the whole set), once they
    are complete: a required value left empty is refused as a wrong one is."""
    locked = draft_lock(template, revision)
    node, _parent = _node_or_refuse(locked.tree, name)
    activity = activities.for_node(node)
    if not activity.supported:
        raise EditRefused(_("Unsupported blocks are read-only."))
    if not isinstance(properties, Mapping):
        raise EditRefused(_("The block's settings are damaged."))
    known = {prop.name for prop in activity.properties} | {"Title"}
    unknown = [key for key in properties if key not in known and not _is_kept_key(key, activity)]
    if unknown:
        raise EditRefused(_("Unknown setting: %(name)s") % {"name": str(unknown[0])[:100]})
    updated = copy.deepcopy(node)
    updated["Properties"] = dict(properties)
    declared = activities.for_node(updated).variables_declared()
    if declared:  # before the check: the block may name them
        locked.variables = {**(locked.variables or {}), **declared}
    _check_properties(locked, updated, user, complete=True)
    node["Properties"] = updated["Properties"]
    draft_save(locked, template, user, changed=("tree", "variables") if declared else ("tree",))


def _is_kept_key(key: str, activity: Activity) -> bool:
    """Condition kinds are stored under their own keys; ``_Des…`` keys are designer state."""
    return key.startswith("_") or (
        any(prop.type == PropertyType.CONDITIONS for prop in activity.properties) and key in KINDS
    )


@_tree_edit
def tree_delete(*, template: Template, revision: int, name: str, user: Any) -> None:
    locked = draft_lock(template, revision)
    node, parent = _node_or_refuse(locked.tree, name)
    if parent is None:
        raise EditRefused(_("The template's root block cannot be deleted."))
    parent["Children"] = [child for child in parent["Children"] if child is not node]
    draft_save(locked, template, user, changed=("tree",))


@_tree_edit
def tree_duplicate(*, template: Template, revision: int, name: str, user: Any) -> str:
    """Puts a copy (with new block names) right after the block; returns the copy's name."""
    locked = draft_lock(template, revision)
    tree = locked.tree
    node, parent = _node_or_refuse(tree, name)
    if parent is None:
        raise EditRefused(_("The template's root block cannot be duplicated."))
    duplicate = renamed_copy(node, names(tree))
    index = next(i for i, child in enumerate(parent["Children"]) if child is node)
    parent["Children"].insert(index + 1, duplicate)
    draft_save(locked, template, user, changed=("tree",))
    return duplicate["Name"]


@transaction.atomic
def template_publish(*, template: Template, user: Any, comment: str = "") -> TemplateVersion:
    """Validates the whole draft and saves it as the next immutable version, with the scope of
    references its publisher's rights allowed (checked first: AccessRefused)."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    scope = references_check(tree=locked.tree, document_type=locked.document_type_triple, user=user)
    problems, warnings = draft_problems(locked)
    if problems:
        raise PublishRefused(
            _("The template has problems and was not published."), problems, warnings
        )
    last = locked.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = TemplateVersion.objects.create(
        template=locked,
        number=last + 1,
        tree=locked.tree,
        parameters=locked.parameters,
        variables=locked.variables,
        constants=locked.constants,
        draft_revision=locked.revision,
        comment=(comment or "")[:500],
        published_by=user,
        reference_scope=scope.to_json(),
    )
    # What the import did to the fields stays; the warnings are this publication's.
    locked.notices = [*import_report(locked), *notices_of(NOTICE_WARNING, warnings)]
    # The version new processes start, from now on (``Template.latest_version``).
    locked.published_version, locked.published_token = version, version.token
    locked.save(update_fields=["notices", "published_version", "published_token"])
    template.notices = locked.notices
    template.published_version_id, template.published_token = version.pk, version.token
    return version


@transaction.atomic
def draft_restore(
    *, template: Template, version: TemplateVersion, revision: int, user: Any
) -> None:
    """Makes the draft equal to a published version (its blocks, parameters, variables and
    constants), as the next revision; the newer versions stay as they are."""
    locked = draft_lock(template, revision)
    if version.template_id != locked.pk:
        raise EditRefused(_("The version belongs to another template."))
    references_check(tree=version.tree, document_type=locked.document_type_triple, user=user)
    locked.tree = copy.deepcopy(version.tree)
    locked.parameters = copy.deepcopy(version.parameters)
    locked.variables = copy.deepcopy(version.variables)
    locked.constants = copy.deepcopy(version.constants)
    draft_save(locked, template, user)


NOTICE_ERROR = "error"
NOTICE_WARNING = "warning"
NOTICE_INFO = "info"


# The codes of the notices that report what an import did to the document type's fields.
FIELDS_CODES = frozenset({"fields_created", "fields_updated", "fields_not_created", "fields"})


def import_report(template: Template) -> list[dict[str, Any]]:
    """The template's notices of what its import did to the fields (a publication keeps them)."""
    return [notice for notice in template.notices or [] if notice.get("code") in FIELDS_CODES]


def notices_of(level: str, problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """``Template.notices`` entries of ``level`` for ``problems``."""
    return [{"level": level, **problem.to_json()} for problem in problems]


def draft_problems(template: Template) -> tuple[list[Problem], list[Problem]]:
    """(What stops the draft's publication, what it would only warn about)."""
    return problems_split(
        template_problems(
            tree=template.tree,
            parameters=template.parameters,
            variables=template.variables,
            constants=template.constants,
            document_type=template.document_type_triple,
        )
    )


def imported_tree_check(tree: Any) -> Node:
    """The root of a template read from a file: Bitrix's sequential process, or its
    status-driven one, kept as a draft that cannot be published yet."""
    if not isinstance(tree, dict) or tree.get("Type") not in (ROOT_TYPE, STATE_MACHINE_TYPE):
        raise EditRefused(_("The file is not a business process template (.bpt)."))
    for node in walk(tree):
        if (
            not isinstance(node, dict)
            or not isinstance(node.get("Type"), str)
            or not node.get("Name")
        ):
            raise EditRefused(_("The file is damaged or incomplete."))
        if not isinstance(node.get("Properties", {}), dict):
            raise EditRefused(_("The file is damaged or incomplete."))
    tree["Name"] = ROOT_NAME
    return tree


@dataclass(frozen=True)
class ImportedDraft:
    """What a ``.bpt`` file gives a draft: its tree, parameters, variables and constants; and
    the fields of the document type it was made for (``DOCUMENT_FIELDS``)."""

    tree: Node
    parameters: dict[str, Any]
    variables: dict[str, Any]
    constants: dict[str, Any]
    document_fields: dict[str, Any] = dataclasses.field(default_factory=dict)


def bpt_draft_read(*, data: bytes, document_type: DocumentType, user: Any) -> ImportedDraft:
    """The draft a ``.bpt`` file holds, once it is a template whose references are within what
    ``user`` may design (EditRefused / AccessRefused otherwise)."""
    try:
        content = bpt.bpt_read(data)
    except bpt.BptError as error:
        raise EditRefused(error.message) from None
    if not content.template:
        raise EditRefused(_("The file is not a business process template (.bpt)."))
    tree = imported_tree_check(content.template[0])
    document_type = document_type_resolve(document_type)
    references_check(tree=tree, document_type=document_type, user=user)
    return ImportedDraft(
        tree=tree,
        parameters=content.parameters or {},
        variables=content.variables or {},
        constants=content.constants or {},
        document_fields=content.document_fields or {},
    )


def document_fields_import(
    *, document_type: DocumentType, described: Mapping[str, Any], user: Any
) -> FieldsImport:
    """The fields a file describes, created or updated on the document type by its provider
    (``DocumentProvider.fields_import``) in the caller's transaction."""
    if not described:
        return FieldsImport()
    try:
        provider = document_providers.get(document_type.module)
    except DocumentError:
        return FieldsImport()
    return provider.fields_import(document_type, described, user=user)


def fields_notices(imported: FieldsImport) -> list[dict[str, Any]]:
    """What an import did to the document type's fields, as ``Template.notices`` entries."""
    notices = []
    if imported.created:
        message = _("Fields created: %(fields)s.") % {"fields": ", ".join(imported.created)}
        notices.append({"level": NOTICE_INFO, "code": "fields_created", "message": message})
    if imported.updated:
        message = _("Fields updated: %(fields)s.") % {"fields": ", ".join(imported.updated)}
        notices.append({"level": NOTICE_INFO, "code": "fields_updated", "message": message})
    if imported.not_created:
        message = _(
            "The file describes fields this document type lacks, and only an administrator "
            "may create them: %(fields)s."
        ) % {"fields": ", ".join(imported.not_created)}
        notices.append({"level": NOTICE_WARNING, "code": "fields_not_created", "message": message})
    notices.extend(
        {"level": NOTICE_WARNING, "code": "fields", "message": message}
        for message in imported.messages
    )
    return notices


def import_notices(template: Template, imported: FieldsImport) -> list[dict[str, Any]]:
    """What an import reports on the template: what it did to the fields, what stops the
    draft's publication and what publishing would warn about."""
    problems, warnings = draft_problems(template)
    return [
        *fields_notices(imported),
        *notices_of(NOTICE_ERROR, problems),
        *notices_of(NOTICE_WARNING, warnings),
    ]


@transaction.atomic
def template_import_bpt(
    *, data: bytes, document_type: DocumentType, name: str, user: Any
) -> Template:
    """A new template whose draft is the file's tree, every block and property kept verbatim;
    the fields the file describes are created on (or updated in) the document type as the
    user's rights allow, and what was done and found is kept in the template's notices."""
    draft = bpt_draft_read(data=data, document_type=document_type, user=user)
    template = template_create(document_type=document_type, name=name, user=user)
    imported = document_fields_import(
        document_type=template.document_type_triple, described=draft.document_fields, user=user
    )
    template.tree = draft.tree
    template.parameters = draft.parameters
    template.variables = draft.variables
    template.constants = draft.constants
    template.notices = import_notices(template, imported)
    template.save()
    return template


@dataclass(frozen=True)
class ImportOutcome:
    """An imported template and its version: None when its draft has problems (listed in its
    notices) and stays unpublished."""

    template: Template
    version: TemplateVersion | None


def draft_publish_if_sound(*, template: Template, user: Any) -> TemplateVersion | None:
    """Publishes a draft (an imported one) when it has no problems; otherwise it stays a draft
    whose notices list them (rights refusals are raised: AccessRefused)."""
    try:
        return template_publish(template=template, user=user)
    except AccessRefused:
        raise
    except PublishRefused as refused:
        template.notices = [
            *import_report(template),
            *notices_of(NOTICE_ERROR, refused.problems),
            *notices_of(NOTICE_WARNING, refused.warnings),
        ]
        Template.objects.filter(pk=template.pk).update(notices=template.notices)
        return None


@transaction.atomic
def template_import(
    *,
    data: bytes,
    document_type: DocumentType,
    name: str,
    user: Any,
    description: str = "",
    auto_execute: int = AutoExecute.NONE,
) -> ImportOutcome:
    """Imports a ``.bpt`` file as Bitrix does: a new, active template, published at once
    unless one of its blocks' own properties are wrong or the engine does not run one of its
    blocks — then it is kept as a draft with its problems in its notices. EditRefused for a file
    that is no readable template, AccessRefused for one that reaches beyond the user's rights:
    then nothing is created."""
    if auto_execute not in AutoExecute.values:
        raise EditRefused(_("Choose when the process starts."))
    template = template_import_bpt(data=data, document_type=document_type, name=name, user=user)
    template.description = description or ""
    template.auto_execute = auto_execute
    template.save(update_fields=["description", "auto_execute"])
    return ImportOutcome(template, draft_publish_if_sound(template=template, user=user))


def unsupported_blocks(tree: Node) -> list[Node]:
    return [node for node in walk(tree) if not activities.is_known(str(node.get("Type", "")))]


def template_export_bpt(*, source: Template | TemplateVersion) -> bytes:
    """A ``.bpt`` file (VERSION 2, zlib) of a draft or a published version. Its
    ``DOCUMENT_FIELDS`` describes every field of the document type, as Bitrix's exporter does,
    so that the importing side can tell which fields the template needs."""
    template = source if isinstance(source, Template) else source.template
    document_type = template.document_type_triple
    try:
        fields = document_providers.get(document_type.module).bpt_fields(document_type)
    except DocumentError:
        fields = {}
    return bpt.bpt_write(
        bpt.BptContent(
            version=2,
            template=[source.tree],
            parameters=source.parameters,
            variables=source.variables,
            constants=source.constants,
            document_fields=fields,
        )
    )
