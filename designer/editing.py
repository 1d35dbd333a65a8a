"""What the template editor (``views``) and the smart scenario editor (``scenario_views``)
share: the edit protocol (``tree_edit``, ``EditOutcome``), the palette, the draft revision a
form was drawn from, the block dialog (a scenario's robot is a block of its robots template,
edited with the same dialog), the Start smart scenario dialog's parameters section, and a
refused publication's problems by block.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Protocol

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from bizproc.activities import activities
from bizproc.activities.base import Category, Widget
from bizproc.models import Template
from bizproc.services import EditRefused, PublishRefused
from bizproc.tree import find
from bizproc.validation import block_warnings
from designer import forms, widgets
from designer.access import designable_types

# What answers a dialog's form once it is saved: the dialog gives way to its empty slot.
CLOSED_DIALOG = '<div id="editor-dialog" hidden></div>'


@dataclass(frozen=True)
class EditOutcome:
    """What an applied edit changed, for its editor to draw: where focus goes, what a screen
    reader hears, and — where the editor draws them — only the changed part (``changes``), a
    dialog that opens at once (``dialog``), or the dialog the edit was saved from closing."""

    focus: str = ""
    announce: str = ""
    changes: str | None = None
    dialog: Any = None
    closing_dialog: bool = False
    # The user's logged edit changed the draft just now (undo is possible, redo is not).
    edited: bool = False


class Refuse[T](Protocol):
    """How an editor answers a refused edit of ``edited``."""

    def __call__(
        self, request: HttpRequest, edited: T, refused: EditRefused, *, reapply: bool
    ) -> HttpResponse: ...


@dataclass(frozen=True)
class Editor[T]:
    """One editor's side of the protocol: how it finds what a URL edits (403/404 otherwise),
    draws an outcome, and answers a refusal — 409 with the current draft for a stale revision
    (``StaleRevision``), 422 with the message otherwise; ``reapply`` says whether the refused
    edit is kept to re-apply."""

    load: Callable[[Any, int], T]
    respond: Callable[[HttpRequest, T, EditOutcome], HttpResponse]
    refuse: Refuse[T]


type EditView = Callable[..., EditOutcome | HttpResponse]


def tree_edit[T](
    editor: Editor[T], *, reapply: bool = True
) -> Callable[[EditView], Callable[..., HttpResponse]]:
    """Turns ``view(request, edited, **kwargs)`` — which makes its edit through the services
    and returns the ``EditOutcome`` (or a response of its own: a dialog, a redirect) — into a
    view of ``pk``: the edited object is loaded, a refused edit answered the editor's way."""

    def decorate(view: EditView) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
            edited = editor.load(request.user, pk)
            try:
                outcome = view(request, edited, **kwargs)
            except EditRefused as refused:
                return editor.refuse(request, edited, refused, reapply=reapply)
            if isinstance(outcome, HttpResponse):
                return outcome
            return editor.respond(request, edited, outcome)

        return wrapper

    return decorate


def refusal_of(edit: Callable[[], Any]) -> EditRefused | None:
    """Makes an edit saved from a dialog or panel, or says why not: the dialog shows the
    refusal in place, by its fields, with what was posted (``tree_edit`` answers the rest)."""
    try:
        edit()
    except EditRefused as refused:
        return refused
    return None


def create_form[F: forms.TemplateCreateForm](
    request: HttpRequest, form_class: type[F], **initial: Any
) -> F:
    """A "new template" or "new scenario" form, bound to a POST: its entity types are those
    the user may design, the one named by ``?type=`` chosen."""
    types = designable_types(request.user)
    wanted = [t for t in types if t.type == request.GET.get("type")]
    if wanted:
        initial["document_type"] = forms.type_key(wanted[0])
    posted = request.POST if request.method == "POST" else None
    return form_class(posted, document_types=types, initial=initial)


def posted_revision(request: HttpRequest) -> int:
    """The draft revision the page was drawn from, as posted with an edit."""
    try:
        return int(request.POST.get("revision", ""))
    except ValueError:
        return 0  # never a revision: answered as stale


def posted_fresh(request: HttpRequest) -> bool:
    """Whether a block dialog posted is that of a block just inserted (``BlockForm.fresh``):
    refused, it is drawn again as one, so that cancelling it still takes the block back."""
    return request.method == "POST" and request.POST.get("fresh") == "1"


def palette(*, robots: bool = False) -> list[tuple[str, list[dict[str, str]]]]:
    """Activities offered in the designer, or as robots (``type``, ``title``, ``category``),
    by category, in the categories' order."""
    if robots:
        offered = activities.robots()
    else:
        offered = [cls for cls in activities if cls.designer and cls.supported]
    return [
        (
            str(category.label),
            sorted(
                (
                    {"type": cls.type, "title": str(cls.title), "category": str(category)}
                    for cls in found
                ),
                key=lambda item: item["title"],
            ),
        )
        for category in Category
        if (found := [cls for cls in offered if cls.category == category])
    ]


def problems_by_block(refused: PublishRefused) -> dict[str, list[str]]:
    """A refused publication's problems under the block (robot) each concerns, to mark it."""
    by_block: dict[str, list[str]] = {}
    for problem in refused.problems:
        if problem.node:
            by_block.setdefault(problem.node, []).append(problem.message)
    return by_block


def block_dialog_context(
    request: HttpRequest,
    template: Template,
    form: forms.BlockForm,
    revision: int,
    *,
    save_url: str,
    editor_url: str,
    parameters_url: str,
    discard_url: str,
) -> dict[str, Any]:
    """What ``designer/block_dialog.html`` draws. The URLs say where it saves, where its
    page form closes to, where the Start smart scenario picker fetches the parameters, and
    where cancelling the dialog of a block just inserted takes the block back (used only
    when the form is ``fresh``)."""
    node = form.activity.node
    return {
        "template": template,
        "form": form,
        "warnings": []
        if form.conceal_warnings
        else block_warnings(node=node, document_type=template.document_type_triple),
        "node": node,
        "activity": form.activity,
        "revision": revision,
        "save_url": save_url,
        "editor_url": editor_url,
        "parameters_url": parameters_url,
        "discard_url": discard_url if form.fresh else "",
        "sources": forms.value_sources(template, str(node.get("Name"))),
    }


def start_parameters_section(request: HttpRequest, template: Template) -> HttpResponse:
    """The smart scenario parameters section of block ``block``'s dialog for the scenario the
    dialog has chosen now (the dialog's fields come with the request): the block's saved
    values if it has this scenario already, else the parameters' defaults. With it, out of
    band, the block's warnings for what the dialog holds now (the scenario's type against the
    Item ID's, say)."""
    found = find(template.tree, request.GET.get("block", ""))
    activity = activities.for_node(found[0]) if found else None
    picker = activity and widgets.property_with(activity, Widget.SCENARIO)
    parameters = activity and widgets.property_with(activity, Widget.SCENARIO_PARAMETERS)
    if activity is None or picker is None or parameters is None:
        raise Http404
    chosen = request.GET.get(picker.name, "")
    saved = activity.properties_values
    values = None
    if chosen and chosen == widgets.display(saved.get(picker.name)):
        values = saved.get(parameters.name) or {}
    scenario = widgets.visible_scenario(request.user, chosen)
    section = widgets.scenario_parameters(request.user, scenario, values)
    item = widgets.Input(
        parameters.name, str(parameters.title), Widget.SCENARIO_PARAMETERS, section=section
    )
    dialog = forms.BlockForm.for_block(activity=activity, template=template, user=request.user)
    dialog_now = {**activity.node, "Properties": dialog.properties(request.GET)}
    context = {
        "item": item,
        "warnings": block_warnings(node=dialog_now, document_type=template.document_type_triple)
        if scenario is not None
        else [],
    }
    response = render(request, "designer/widgets/scenario_parameters.html", context)
    response.content += render_to_string(
        "designer/block_dialog.html#block-warnings", {**context, "oob": True}, request
    ).encode()
    return response
