"""The designer's pages: the template list, the editor and its partials, block dialogs, the
settings panel and publishing.

Every edit goes through the engine's services with the draft revision the page was drawn from,
in a view under ``editing.tree_edit`` that returns what changed (``EditOutcome``); the response
draws the tree again (with the new revision, and where focus goes next) — or, for
an edit of one block in a list, only what changed (``drawing.draw_changes``). Each
applied edit is logged for its user (``designer.services.draft_edit``), so that Undo and Redo
survive reloads. A refused edit answers 422 with the message; a stale revision answers 409 with
the current draft, who changed it last and when, and the refused edit kept to re-apply on it;
either way nothing was changed. Only users with the "design automation" right on a template's
document type get past ``access.editable_template`` (403 otherwise).
"""

from collections.abc import Callable
from functools import reduce
from operator import or_
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Max, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from bizproc import services
from bizproc.activities import activities
from bizproc.activities.base import Problem
from bizproc.design import (
    template_delete,
    template_duplicate,
    template_publish_draft,
    template_set_active,
    template_settings_update,
)
from bizproc.fieldtypes import type_choices
from bizproc.models import AutoExecute, Template
from bizproc.services import EditRefused, PublishRefused, StaleRevision
from bizproc.tree import Node, find
from bizproc.validation import template_warnings
from designer import forms
from designer.access import (
    designable_types,
    designed_templates,
    editable_template,
    provider_of,
)
from designer.drawing import draw, draw_card, draw_changes, focus_after_delete, place_of
from designer.editing import (
    CLOSED_DIALOG,
    Editor,
    EditOutcome,
    block_dialog_context,
    create_form,
    palette,
    posted_fresh,
    posted_revision,
    problems_by_block,
    refusal_of,
    start_parameters_section,
    tree_edit,
)
from designer.services import (
    draft_edit,
    draft_history,
    draft_history_after_edit,
    draft_insert_cancel,
    draft_redo,
    draft_undo,
)

PAGE = 50


def _auto_execute_label(value: int) -> str:
    return str(AutoExecute(value).label) if value in AutoExecute.values else str(value)


# ---- the template list -------------------------------------------------------------------


def _notices_count(template: Template, level: str) -> int:
    return sum(1 for notice in template.notices or [] if notice.get("level") == level)


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    """Templates of the types the user may design, filtered by type and searched by name."""
    types = designable_types(request.user)
    by_code = {document_type.type: document_type for document_type in types}
    chosen = by_code.get(request.GET.get("type", ""))
    query = request.GET.get("q", "").strip()
    found = designed_templates().filter(
        reduce(or_, (Q(module=t.module, entity=t.entity, document_type=t.type) for t in types))
    )
    if chosen is not None:
        found = found.for_document_type(chosen)
    if query:
        found = found.filter(Q(name__icontains=query) | Q(description__icontains=query))
    found = found.annotate(published=Max("versions__number")).order_by("name", "pk")
    page = Paginator(found, PAGE).get_page(request.GET.get("page"))
    captions = {t.type: provider_of(t).caption(t, plural=True) for t in types}
    context = {
        "types": [(t.type, captions[t.type]) for t in types],
        "chosen": chosen.type if chosen else "",
        "query": query,
        "page": page,
        "rows": [
            {
                "template": template,
                "caption": captions.get(template.document_type, template.document_type),
                "auto_execute": _auto_execute_label(template.auto_execute),
                "problems": _notices_count(template, "error"),
                "warnings": _notices_count(template, "warning"),
            }
            for template in page.object_list
        ],
    }
    name = "designer/template_list.html"
    if request.htmx and request.htmx.target == "template-table":
        name += "#template-table"
    return render(request, name, context)


@login_required
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    form = create_form(request, forms.TemplateCreateForm)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                template = services.template_create(
                    document_type=form.cleaned_document_type(),
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    auto_execute=form.cleaned_data["auto_execute"],
                    user=request.user,
                )
            except EditRefused as refused:
                form.add_error(None, refused.message)
            else:
                return redirect("designer:template-edit", pk=template.pk)
        status = 422
    return render(request, "designer/template_form.html", {"form": form}, status=status)


@login_required
@require_POST
def template_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    template = editable_template(request.user, pk)
    copy = template_duplicate(template=template, user=request.user)
    messages.success(request, _("“%(name)s” was created as a copy.") % {"name": copy.name})
    return redirect("designer:template-edit", pk=copy.pk)


@login_required
@require_POST
def template_activate(request: HttpRequest, pk: int) -> HttpResponse:
    template = editable_template(request.user, pk)
    active = request.POST.get("active") == "1"
    template_set_active(template=template, active=active, user=request.user)
    if active:
        messages.success(request, _("“%(name)s” is active.") % {"name": template.name})
    else:
        messages.success(
            request,
            _("“%(name)s” is inactive: it starts no new processes.") % {"name": template.name},
        )
    back = request.POST.get("next", "")
    # Back to the page the switch is on: a path of this site, never a view name (which
    # ``redirect("abc")`` would look up) nor another site.
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        back = reverse("designer:template-list")
    return HttpResponseRedirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def template_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    template = editable_template(request.user, pk)
    if request.method == "POST":
        kept = template_delete(template=template, user=request.user)
        if kept:
            message = _(
                "“%(name)s” was deleted. Processes started from it go on with their version "
                "and keep their journals."
            )
        else:
            message = _("“%(name)s” was deleted.")
        messages.success(request, message % {"name": template.name})
        return redirect("designer:template-list")
    in_use = template.instances.unfinished().count()
    page = "designer/template_confirm_delete.html" + ("#confirm" if request.htmx else "")
    return render(request, page, {"template": template, "in_use": in_use})


# ---- the editor --------------------------------------------------------------------------


def _state_context(
    template: Template,
    user: Any = None,
    *,
    history: tuple[bool, bool] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What the tree's state partial draws: the revision and, with ``user``, whether they can
    undo and redo (``history``, when known already)."""
    if history is None:
        history = draft_history(template=template, user=user) if user else (False, False)
    can_undo, can_redo = history
    return {"template": template, "can_undo": can_undo, "can_redo": can_redo, **extra}


def _tree_context(template: Template, user: Any = None, **extra: Any) -> dict[str, Any]:
    """What the tree partial draws: its state and every block."""
    problems = extra.pop("problems", None)
    container = draw(template.tree, problems, template_pk=template.pk)
    return _state_context(template, user, container=container, **extra)


def _editor_context(template: Template, user: Any = None, **extra: Any) -> dict[str, Any]:
    """What the editor's partials draw: the tree's, the head's and the publish panel's."""
    document_type = template.document_type_triple
    return {
        "caption": provider_of(document_type).caption(document_type),
        "caption_plural": provider_of(document_type).caption(document_type, plural=True),
        # Only what the publish panel says: a version's blocks are as big as the draft's.
        "version": template.versions.order_by("-number").only("number", "published_at").first(),
        "auto_execute": _auto_execute_label(template.auto_execute),
    } | _tree_context(template, user, **extra)


@login_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The editor: the palette, the tree, the settings and publish panels."""
    template = editable_template(request.user, pk)
    context = _editor_context(template, request.user, palette=palette())
    name = "designer/template_editor.html"
    if request.htmx and request.htmx.target == "tree":
        name += "#tree"
    return _render_around_tree(request, name, context)


# Where the drawn tree goes in the page drawn around it.
TREE_MARK = "\ufdd0tree\ufdd1"


def _render_around_tree(request: HttpRequest, name: str, context: dict[str, Any]) -> HttpResponse:
    """The page with its tree put in once, at the end: each level of the templates the tree
    stands in would copy it again (half a megabyte for 200 blocks, a fifth of the page's time)."""
    container = context["container"]
    tree, container.html = container.html, mark_safe(TREE_MARK)  # noqa: S308 - a constant
    try:
        head, tail = render_to_string(name, context, request).split(TREE_MARK)
    finally:
        container.html = tree
    return HttpResponse([head, tree, tail])


def _tree_response(
    request: HttpRequest,
    template: Template,
    *,
    focus: str = "",
    announce: str = "",
    error: str = "",
    status: int = 200,
    dialog: forms.BlockForm | None = None,
    closing_dialog: bool = False,
    conflict: dict[str, Any] | None = None,
    oob: bool = False,
    changes: str | None = None,
    edited: bool = False,
) -> HttpResponse:
    """The tree partial drawn from the saved draft. With ``dialog``, that block's dialog comes
    along out of band (a newly inserted block opens at once); ``closing_dialog`` answers a
    dialog's form: the dialog gives way to its empty slot and the tree comes out of band.
    ``conflict`` explains a stale revision (``_conflict``); ``oob`` sends the tree out of band
    after a dialog answered in place. ``template`` is the saved draft: an edit brings it up to
    date, and a refusal (``_refused``) reads it again. ``changes`` (``drawing.draw_changes``)
    stand for the tree in the editor's requests: only the tree's state is drawn again.
    ``edited``: the user's edit (``draft_edit``) changed the draft just now."""
    state = {"focus": focus, "announce": announce, "error": error, "conflict": conflict}
    if edited:
        state["history"] = draft_history_after_edit()
    partial = changes is not None and request.htmx
    if partial:
        context = _state_context(template, request.user, state_oob=closing_dialog, **state)
        # Drawn without the request: the state needs none of what the context processors add.
        html = changes + render_to_string("designer/template_editor.html#tree-state", context)
    else:
        context = _tree_context(template, request.user, oob=closing_dialog or oob, **state)
        html = render_to_string("designer/template_editor.html#tree", context, request)
    if dialog is not None:
        html += _dialog_html(request, template, dialog, oob=True)
    if closing_dialog:
        return HttpResponse(CLOSED_DIALOG + html, status=status)
    response = HttpResponse(html, status=status)
    if partial:
        # The changes come out of band; the state takes the place of its own.
        return reswap(retarget(response, "#tree-state"), "outerHTML")
    return response


# Form fields of a refused edit that are not the edit itself.
NOT_THE_EDIT = frozenset({"revision", "csrfmiddlewaretoken", "reapply"})


def _conflict(request: HttpRequest, template: Template, *, keep: bool) -> dict[str, Any]:
    """Who changed the draft last and when; with ``keep``, the refused edit (its URL and form
    fields) for a "Re-apply my change" form."""
    template.refresh_from_db()
    fields = [
        (key, value)
        for key, values in request.POST.lists()
        if key not in NOT_THE_EDIT
        for value in values
    ]
    return {
        "who": template.modified_by.get_full_name() if template.modified_by else _("someone"),
        "when": template.modified_at,
        "url": request.path if keep else "",
        "fields": fields if keep else [],
    }


def _conflict_message(conflict: dict[str, Any]) -> str:
    return _(
        "The template was changed meanwhile by %(who)s (%(when)s): your change was not applied."
    ) % {
        "who": conflict["who"],
        "when": date_format(localtime(conflict["when"]), "SHORT_DATETIME_FORMAT"),
    }


def _refused(
    request: HttpRequest, template: Template, refused: EditRefused, *, reapply: bool
) -> HttpResponse:
    """A stale revision shows the current tree with the refused edit kept to re-apply (with
    ``reapply``); any other refusal says why (a re-applied edit that no longer fits says so)."""
    if isinstance(refused, StaleRevision):
        return _tree_response(
            request, template, conflict=_conflict(request, template, keep=reapply), status=409
        )
    template.refresh_from_db()
    message = refused.message
    if request.POST.get("reapply"):
        message = _("Your change no longer applies: %(reason)s") % {"reason": message}
    return _tree_response(request, template, error=message, status=422)


def _node(template: Template, name: str) -> Node:
    found = find(template.tree, name)
    if found is None:
        raise Http404
    return found[0]


def _new_properties(tree: Node, parent: str, type_: str) -> dict[str, Any]:
    """What a branch added to ``parent`` ("Add branch") starts with, as its parent's class
    says (a condition branch an empty condition, a parallel branch a numbered title)."""
    found = find(tree, parent)
    if found is None:
        return {}
    parent_class = activities.get(str(found[0].get("Type")))
    if not type_ or type_ != parent_class.branch_type:
        return {}
    return parent_class.new_branch_properties(found[0])


def _logged[T](request: HttpRequest, template: Template, service: Callable[..., T], **kw: Any) -> T:
    """``service``'s edit of the draft at the posted revision, logged for the user's undo."""
    revision = posted_revision(request)
    return draft_edit(
        template=template,
        revision=revision,
        user=request.user,
        edit=lambda: service(template=template, revision=revision, user=request.user, **kw),
    )


def _respond(request: HttpRequest, template: Template, outcome: EditOutcome) -> HttpResponse:
    return _tree_response(
        request,
        template,
        focus=outcome.focus,
        announce=outcome.announce,
        dialog=outcome.dialog,
        closing_dialog=outcome.closing_dialog,
        changes=outcome.changes,
        edited=outcome.edited,
    )


TEMPLATES = Editor(load=editable_template, respond=_respond, refuse=_refused)


@login_required
@require_POST
@tree_edit(TEMPLATES)
def block_create(request: HttpRequest, template: Template) -> EditOutcome:
    """Inserts a block where it was dropped (or chosen from an "Add block here" menu)."""
    parent, type_ = request.POST.get("parent", ""), request.POST.get("type", "")
    name = _logged(
        request,
        template,
        services.tree_insert,
        parent=parent,
        index=request.POST.get("index"),
        type=type_,
        properties=_new_properties(template.tree, parent, type_),
    )
    activity = activities.for_node(_node(template, name))
    # Its dialog opens at once, unless it has nothing to set but its title.
    configurable = any(prop.name != "Title" for prop in activity.properties)
    return EditOutcome(
        focus=f"block:{name}",
        announce=_("“%(title)s” added.") % {"title": activity.display_title},
        dialog=forms.BlockForm.for_block(
            activity=activity, template=template, user=request.user, fresh=True
        )
        if configurable
        else None,
        changes=draw_changes(template.tree, template_pk=template.pk, name=name, before=None),
        edited=True,
    )


@login_required
@require_POST
@tree_edit(TEMPLATES)
def block_move(request: HttpRequest, template: Template, name: str) -> EditOutcome:
    """Moves a block one place up or down among its siblings (``direction``), or to an
    insertion point (``parent`` and ``index`` as drawn, counting the block where it is)."""
    found = find(template.tree, name)
    if found is None or found[1] is None:
        # Gone since the page was drawn: that is a conflict to show, not a crafted request.
        if found is None and posted_revision(request) != template.revision:
            raise StaleRevision(template)
        raise EditRefused(_("There is no block %(name)s in this template.") % {"name": name})
    node, parent = found
    siblings = [child.get("Name") for child in parent.get("Children") or []]
    position = siblings.index(name)
    direction = request.POST.get("direction")
    if direction in ("up", "down"):
        target, index = parent["Name"], position + (-1 if direction == "up" else 1)
    else:
        target = request.POST.get("parent", "")
        try:
            index = int(request.POST.get("index", ""))
        except ValueError:
            raise EditRefused(_("The position is not valid.")) from None
        if target == parent["Name"] and index > position:
            index -= 1  # the service counts places once the block has left its own
    before = place_of(template.tree, name)
    _logged(request, template, services.tree_move, name=name, parent=target, index=index)
    changes = None
    if before is not None:
        changes = draw_changes(template.tree, template_pk=template.pk, name=name, before=before)
    return EditOutcome(
        focus=f"block:{name}",
        announce=_("“%(title)s” moved.") % {"title": activities.for_node(node).display_title},
        changes=changes,
        edited=True,
    )


@login_required
@require_POST
@tree_edit(TEMPLATES)
def block_duplicate(request: HttpRequest, template: Template, name: str) -> EditOutcome:
    copy = _logged(request, template, services.tree_duplicate, name=name)
    title = activities.for_node(_node(template, copy)).display_title
    return EditOutcome(
        focus=f"block:{copy}",
        announce=_("“%(title)s” duplicated.") % {"title": title},
        changes=draw_changes(template.tree, template_pk=template.pk, name=copy, before=None),
        edited=True,
    )


@login_required
@require_POST
@tree_edit(TEMPLATES)
def block_delete(request: HttpRequest, template: Template, name: str) -> EditOutcome:
    """Deletes a block (with what it holds); focus goes to the block that took its place."""
    found = find(template.tree, name)
    title = activities.for_node(found[0]).display_title if found else name
    focus = focus_after_delete(template.tree, name)
    before = place_of(template.tree, name)
    _logged(request, template, services.tree_delete, name=name)
    changes = None
    if before is not None:
        changes = draw_changes(
            template.tree, template_pk=template.pk, name=name, before=before, removed=True
        )
    return EditOutcome(
        focus=focus,
        announce=_("“%(title)s” deleted.") % {"title": title},
        changes=changes,
        edited=True,
    )


@login_required
@require_POST
@tree_edit(TEMPLATES, reapply=False)
def template_undo(request: HttpRequest, template: Template) -> EditOutcome:
    """Undoes the user's newest edit of this template not yet undone (Ctrl+Z). Undo is of the
    page's state, so a stale one is not kept: on a newer state, press it again if it applies."""
    draft_undo(template=template, revision=posted_revision(request), user=request.user)
    return EditOutcome(focus="history:undo", announce=_("Undone."))


@login_required
@require_POST
@tree_edit(TEMPLATES, reapply=False)
def template_redo(request: HttpRequest, template: Template) -> EditOutcome:
    """Redoes the edit the user undid last (Ctrl+Shift+Z)."""
    draft_redo(template=template, revision=posted_revision(request), user=request.user)
    return EditOutcome(focus="history:redo", announce=_("Redone."))


def _tree_oob(request: HttpRequest, template: Template) -> str:
    """The current tree, out of band: behind a dialog refused for a stale revision."""
    context = _tree_context(template, request.user, oob=True)
    return render_to_string("designer/template_editor.html#tree", context, request)


def _stale_dialog_message(request: HttpRequest, template: Template) -> str:
    return "{} {}".format(
        _conflict_message(_conflict(request, template, keep=False)),
        _("Your values are kept here: save them to apply them to the template as it is now."),
    )


# ---- block dialogs -----------------------------------------------------------------------


def _dialog_context(
    request: HttpRequest, template: Template, form: forms.BlockForm, revision: int
) -> dict[str, Any]:
    return block_dialog_context(
        request,
        template,
        form,
        revision,
        save_url=reverse("designer:block-update", args=[template.pk, form.activity.node["Name"]]),
        editor_url=reverse("designer:template-edit", args=[template.pk]),
        parameters_url=reverse("designer:scenario-parameters", args=[template.pk]),
        discard_url=reverse(
            "designer:block-discard", args=[template.pk, form.activity.node["Name"]]
        ),
    )


def _dialog_html(
    request: HttpRequest, template: Template, form: forms.BlockForm, *, oob: bool = False
) -> str:
    context = _dialog_context(request, template, form, template.revision) | {"oob": oob}
    return render_to_string("designer/block_dialog.html#block-dialog", context, request)


@login_required
@require_http_methods(["GET", "POST"])
@tree_edit(TEMPLATES)
def block_update(request: HttpRequest, template: Template, name: str) -> EditOutcome | HttpResponse:
    """A block's dialog, generated from its activity's property schema; saving replaces the
    block's properties through ``tree_update``, whose problems show next to their fields."""
    if request.method == "POST" and find(template.tree, name) is None:
        # Deleted meanwhile (by someone else): the dialog gives way to the tree as it is.
        gone = _("There is no block %(name)s in this template.") % {"name": name}
        return _tree_response(
            request,
            template,
            error=_("Your change no longer applies: %(reason)s") % {"reason": gone},
            status=422,
            closing_dialog=True,
        )
    activity = activities.for_node(_node(template, name))
    form = forms.BlockForm.for_block(
        activity=activity, template=template, user=request.user, fresh=posted_fresh(request)
    )
    # A refused dialog keeps the revision it was opened on, except a stale one: it then shows
    # the posted values on the current revision, so that saving again re-applies them.
    revision, status, stale = template.revision, 200, False
    if request.method == "POST":
        revision = posted_revision(request)
        refusals = form.refusals(request.POST)
        if refusals:
            form.show_posted(request.POST, [(k, m) for k, ms in refusals.items() for m in ms])
            status = 422
        else:
            refused = refusal_of(
                lambda: _logged(
                    request,
                    template,
                    services.tree_update,
                    name=name,
                    properties=form.properties(request.POST),
                )
            )
            if isinstance(refused, StaleRevision):
                form.show_posted(request.POST, [("", _stale_dialog_message(request, template))])
                revision, status, stale = refused.template.revision, 409, True
            elif refused is not None:
                problems = [(p.parameter, p.message) for p in refused.problems]
                form.show_posted(request.POST, problems or [("", refused.message)])
                status = 422
            elif not request.htmx:
                return redirect(
                    reverse("designer:template-edit", args=[template.pk]) + f"#block-{name}"
                )
            else:
                title = request.POST.get("Title") or activity.display_title
                return EditOutcome(
                    focus=f"block:{name}",
                    announce=_("“%(title)s” saved.") % {"title": title},
                    closing_dialog=True,
                    changes=draw_card(template.tree, template_pk=template.pk, name=name),
                )
    context = _dialog_context(request, template, form, revision)
    page = "designer/block_dialog.html" + ("#block-dialog" if request.htmx else "")
    response = render(request, page, context, status=status)
    if stale and request.htmx:
        response.content += _tree_oob(request, template).encode()
    return response


@login_required
@require_POST
@tree_edit(TEMPLATES)
def block_discard(request: HttpRequest, template: Template, name: str) -> EditOutcome:
    """Cancelling the dialog of a block just inserted takes the block back: the template is
    as it was before, and Undo goes on from the edit before the insertion
    (``draft_insert_cancel``). Focus goes where it would after deleting the block."""
    found = find(template.tree, name)
    title = activities.for_node(found[0]).display_title if found else name
    focus = focus_after_delete(template.tree, name)
    before = place_of(template.tree, name)
    draft_insert_cancel(
        template=template, revision=posted_revision(request), user=request.user, name=name
    )
    changes = None
    if before is not None:
        changes = draw_changes(
            template.tree, template_pk=template.pk, name=name, before=before, removed=True
        )
    return EditOutcome(
        focus=focus,
        announce=_("“%(title)s” was not added.") % {"title": title},
        changes=changes,
    )


@login_required
def scenario_parameters(request: HttpRequest, pk: int) -> HttpResponse:
    """The Start smart scenario dialog's parameters section for the chosen scenario."""
    return start_parameters_section(request, editable_template(request.user, pk))


# ---- settings and publishing -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@tree_edit(TEMPLATES)
def template_settings(request: HttpRequest, template: Template) -> EditOutcome | HttpResponse:
    """Name, description, auto-start and the typed parameters, variables and constants."""
    form = forms.TemplateSettingsForm(
        request.POST if request.method == "POST" else None, template=template
    )
    revision, status, stale = template.revision, 200, False
    if form.is_bound:
        revision, status = posted_revision(request), 422
        if form.is_valid():
            cleaned = form.cleaned_data
            refused = refusal_of(
                lambda: _logged(request, template, template_settings_update, **cleaned)
            )
            if isinstance(refused, StaleRevision):
                form.refuse([("", _stale_dialog_message(request, template))])
                revision, status, stale = refused.template.revision, 409, True
            elif refused is not None:
                problems = refused.problems or [Problem("", "", refused.message)]
                form.refuse((problem.parameter, problem.message) for problem in problems)
            elif not request.htmx:
                return redirect("designer:template-edit", pk=template.pk)
            else:
                outcome = EditOutcome(
                    focus="settings", announce=_("Settings saved."), closing_dialog=True
                )
                response = _respond(request, template, outcome)
                head = render_to_string(
                    "designer/template_editor.html#editor-head",
                    _editor_context(template, oob=True),
                    request,
                )
                response.content += head.encode()
                return response
    errors = form.errors_by_field()
    context = {
        "template": template,
        "revision": revision,
        "values": form.values(),
        "errors": errors,
        "sections": [
            {"kind": kind, "title": title, "rows": form.rows(kind), "errors": errors.get(kind, [])}
            for kind, title in (
                ("parameters", _("Parameters")),
                ("variables", _("Variables")),
                ("constants", _("Constants")),
            )
        ],
        "types": type_choices(),
        "auto_execute_choices": AutoExecute.choices,
    }
    page = "designer/settings_dialog.html" + ("#settings-dialog" if request.htmx else "")
    response = render(request, page, context, status=status)
    if stale and request.htmx:
        response.content += _tree_oob(request, template).encode()
    return response


@login_required
@require_POST
def template_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publishes the draft the page shows as a new version, or lists what stops it, each
    problem linking to its block (the blocks are marked in the tree, too)."""
    template = editable_template(request.user, pk)
    try:
        version = template_publish_draft(
            template=template,
            revision=posted_revision(request),
            user=request.user,
            comment=request.POST.get("comment", "").strip(),
        )
    except PublishRefused as refused:
        context = _editor_context(
            template, request.user, problems=problems_by_block(refused), refused=refused, oob=True
        )
        html = render_to_string("designer/template_editor.html#publish-panel", context, request)
        html += render_to_string("designer/template_editor.html#tree", context, request)
        return HttpResponse(html, status=422)
    except EditRefused as refused:
        context = _editor_context(template, publish_error=refused.message)
        return render(
            request,
            "designer/template_editor.html#publish-panel",
            context,
            status=409 if isinstance(refused, StaleRevision) else 422,
        )
    warnings = template_warnings(tree=version.tree, document_type=template.document_type_triple)
    context = _editor_context(template, published=version, publish_warnings=warnings)
    return render(request, "designer/template_editor.html#publish-panel", context)
