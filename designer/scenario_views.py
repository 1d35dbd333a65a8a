"""The smart scenario editor: the list of scenarios by entity type, a new scenario, and the
editor — settings, the start parameters, the robots, publishing.

A scenario is edited as a template is (``editing.tree_edit``): every edit goes to the draft of
its robots template with the revision the page was drawn from, and the response draws the draft
again (``#tree``: the parameters and the robots) with where focus goes next. The robots are
edited with the template editor's markup and script (palette, "Add robot here", drag and drop,
Enter / Delete / Alt+arrows on a card) and its block dialogs; the parameters one dialog per
parameter, whose default value input follows the chosen type. A refused edit answers 422 with
the message, a stale revision 409; either way nothing changed. Only users with the "design
automation" right on a scenario's document type get past ``_editable_scenario`` (403
otherwise).
"""

from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.people import person_name
from bizproc import scenarios
from bizproc.activities import activities
from bizproc.fieldtypes import FieldType
from bizproc.models import Scenario
from bizproc.schemas import flag, options_of
from bizproc.services import EditRefused, PublishRefused, StaleRevision
from bizproc.tree import ROOT_NAME, Node
from designer import forms, widgets
from designer.access import designable_types, may_design, provider_of
from designer.drawing import draw, focus_after_delete
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

# The parameter dialog's inputs are one row of the settings panel's schema table, so that the
# posted row is read (and shown again) exactly as the template settings read theirs.
ROW = "parameters-0-"
# Types a start parameter can be given in the editor (files and linked lists have no input
# here; imported parameters of those types keep their type).
PARAMETER_TYPES = [t for t in FieldType if t not in (FieldType.FILE, FieldType.INTERNALSELECT)]


def _editable_scenario(user: Any, pk: int) -> Scenario:
    """The scenario, for a user who may design its document type (404 / 403 otherwise)."""
    designable_types(user)
    scenario = Scenario.objects.select_related("template").filter(pk=pk).first()
    if scenario is None:
        raise Http404
    if not may_design(user, scenario.document_type_triple):
        raise PermissionDenied
    return scenario


def _status(refused: EditRefused) -> int:
    return 409 if isinstance(refused, StaleRevision) else 422


def _message(refused: EditRefused) -> str:
    """The refusal in the scenario's words (the services speak of its robots template)."""
    if isinstance(refused, StaleRevision):
        return _(
            "The scenario was changed meanwhile (revision %(revision)d). Reload and try again."
        ) % {"revision": refused.template.revision}
    return refused.message


# ---- the list and a new scenario ---------------------------------------------------------


@login_required
def scenario_list(request: HttpRequest) -> HttpResponse:
    """Scenarios of the types the user may design, one group per type, with "New scenario"."""
    groups = []
    for document_type in designable_types(request.user):
        found = (
            Scenario.objects.for_document_type(document_type)
            .select_related("template")
            .annotate(published=Max("template__versions__number"))
        )
        groups.append(
            {
                "code": document_type.type,
                "caption": provider_of(document_type).caption(document_type, plural=True),
                "scenarios": list(found),
            }
        )
    return render(request, "designer/scenario_list.html", {"groups": groups})


class ScenarioCreateForm(forms.TemplateCreateForm):
    """The new template form's name, description and entity type, and "active" instead of
    auto-start (a scenario starts when a person, a list or a block starts it)."""

    auto_execute = None
    active = django_forms.BooleanField(
        label=pgettext_lazy("template or scenario", "Active"), required=False, initial=True
    )


@login_required
@require_http_methods(["GET", "POST"])
def scenario_create(request: HttpRequest) -> HttpResponse:
    form = create_form(request, ScenarioCreateForm, name=scenarios.default_name())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                scenario = scenarios.scenario_create(
                    document_type=form.cleaned_document_type(),
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    active=form.cleaned_data["active"],
                    user=request.user,
                )
            except EditRefused as refused:
                form.add_error(None, refused.message)
            else:
                return redirect("designer:scenario-edit", pk=scenario.pk)
        status = 422
    return render(request, "designer/scenario_form.html", {"form": form}, status=status)


# ---- the editor --------------------------------------------------------------------------


@dataclass
class ParameterCard:
    code: str
    name: str
    summary: str
    first: bool
    last: bool


def _parameter_cards(parameters: dict[str, Any]) -> list[ParameterCard]:
    labels = dict(FieldType.choices)
    rows = forms.schema_rows(parameters)
    cards = []
    for row in rows:
        facts = [row.id, str(labels.get(row.type, row.type))]
        if row.required:
            facts.append(_("required"))
        if row.multiple:
            facts.append(_("multiple"))
        if row.default:
            facts.append(_("default: %(value)s") % {"value": _default_text(row, parameters)})
        cards.append(
            ParameterCard(
                code=row.id,
                name=row.name or row.id,
                summary=" · ".join(facts),
                first=row.index == 0,
                last=row.index == len(rows) - 1,
            )
        )
    return cards


def _default_text(row: forms.SchemaRow, parameters: dict[str, Any]) -> str:
    """A default as the start form shows it: Yes or No, a list option's label, people by
    name."""
    if row.type == FieldType.USER:
        return person_name(widgets.split_list(row.default))
    if row.type == FieldType.BOOL:
        return str(_("Yes") if flag(row.default) else _("No"))
    if row.type == FieldType.SELECT:
        labels = options_of(parameters[row.id])
        return ", ".join(labels.get(key, key) for key in widgets.split_list(row.default))
    return row.default


def _editor_context(scenario: Scenario, **extra: Any) -> dict[str, Any]:
    template = scenario.template
    document_type = scenario.document_type_triple
    version = template.latest_version
    return {
        "scenario": scenario,
        "template": template,
        "caption": provider_of(document_type).caption(document_type),
        "version": version,
        "unpublished": scenarios.scenario_has_unpublished_changes(scenario, version),
        "parameters": _parameter_cards(template.parameters or {}),
        "container": draw(template.tree, extra.pop("problems", None)),
        **extra,
    }


@login_required
def scenario_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The editor: the robot palette, the parameters and robots, the settings and publishing."""
    scenario = _editable_scenario(request.user, pk)
    context = _editor_context(scenario, palette=palette(robots=True))
    name = "designer/scenario_editor.html"
    if request.htmx and request.htmx.target == "tree":
        name += "#tree"
    return render(request, name, context)


def _tree_response(
    request: HttpRequest,
    scenario: Scenario,
    *,
    focus: str = "",
    announce: str = "",
    error: str = "",
    status: int = 200,
    dialog: str = "",
    closing_dialog: bool = False,
    problems: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The draft drawn again (and the publish panel out of band, which tells whether the draft
    has unpublished changes). ``dialog`` comes along out of band (a new robot's dialog opens at
    once); ``closing_dialog`` answers a dialog's form: the dialog gives way to its empty slot
    and the draft comes out of band."""
    scenario.template.refresh_from_db()
    context = _editor_context(
        scenario,
        focus=focus,
        announce=announce,
        error=error,
        problems=problems,
        tree_oob=closing_dialog,
        panel_oob=True,
    )
    html = render_to_string("designer/scenario_editor.html#tree", context, request)
    html += render_to_string("designer/scenario_editor.html#publish-panel", context, request)
    html += dialog
    if closing_dialog:
        html = CLOSED_DIALOG + html
    return HttpResponse(html, status=status)


def _respond(request: HttpRequest, scenario: Scenario, outcome: EditOutcome) -> HttpResponse:
    return _tree_response(
        request,
        scenario,
        focus=outcome.focus,
        announce=outcome.announce,
        dialog=outcome.dialog or "",
        closing_dialog=outcome.closing_dialog,
    )


def _refused(
    request: HttpRequest, scenario: Scenario, refused: EditRefused, *, reapply: bool
) -> HttpResponse:
    """The draft as it is, with why the edit was refused (a scenario keeps no edit to
    re-apply: ``reapply`` is the template editor's)."""
    return _tree_response(request, scenario, error=_message(refused), status=_status(refused))


SCENARIOS = Editor(load=_editable_scenario, respond=_respond, refuse=_refused)


@login_required
@require_POST
def scenario_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Name, description and active; the entity type is fixed once the scenario exists."""
    scenario = _editable_scenario(request.user, pk)
    values = {
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "active": request.POST.get("active") == "1",
    }
    refused = refusal_of(
        lambda: scenarios.scenario_settings_update(
            scenario=scenario, revision=posted_revision(request), user=request.user, **values
        )
    )
    if refused is not None:
        context = _editor_context(scenario, settings_error=_message(refused), values=values)
        return render(
            request,
            "designer/scenario_editor.html#settings-panel",
            context,
            status=_status(refused),
        )
    if not request.htmx:
        messages.success(request, _("Settings saved."))
        return redirect("designer:scenario-edit", pk=pk)
    context = _editor_context(scenario, settings_saved=True, tree_oob=True, head_oob=True)
    html = "".join(
        render_to_string(f"designer/scenario_editor.html#{part}", context, request)
        for part in ("settings-panel", "editor-head", "tree")
    )
    return HttpResponse(html)


@login_required
@require_POST
def scenario_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publishes the draft the page shows as the version new runs use, or lists what stops
    it, each robot's problem linking to the robot (which is marked in the list, too)."""
    scenario = _editable_scenario(request.user, pk)
    try:
        version = scenarios.scenario_publish(
            scenario=scenario,
            revision=posted_revision(request),
            user=request.user,
            comment=request.POST.get("comment", "").strip(),
        )
    except PublishRefused as refused:
        context = _editor_context(
            scenario, problems=problems_by_block(refused), refused=refused, tree_oob=True
        )
        html = render_to_string("designer/scenario_editor.html#publish-panel", context, request)
        html += render_to_string("designer/scenario_editor.html#tree", context, request)
        return HttpResponse(html, status=422)
    except EditRefused as refused:
        context = _editor_context(scenario, publish_error=_message(refused))
        return render(
            request,
            "designer/scenario_editor.html#publish-panel",
            context,
            status=_status(refused),
        )
    scenario.template.refresh_from_db()
    context = _editor_context(scenario, published=version)
    return render(request, "designer/scenario_editor.html#publish-panel", context)


# ---- start parameters --------------------------------------------------------------------


def _posted_row(data: QueryDict) -> tuple[forms.SchemaRow | None, dict[str, Any]]:
    """The dialog's row and the parameter it describes (``{}`` without ID and name), read as
    the settings panel reads a row; only the dialog's own row counts."""
    own = QueryDict(mutable=True)
    for key in data:
        if key.startswith(ROW):
            own.setlist(key, data.getlist(key))
    schema, rows, _twice = forms.posted_schema(own, "parameters")
    if not rows:
        return None, {}
    entry = dict(schema.get(rows[0].id) or {})
    if entry and flag(entry["Multiple"]) and entry["Default"]:
        entry["Default"] = widgets.split_list(entry["Default"])
    return rows[0], entry


def _blank_row() -> forms.SchemaRow:
    return forms.SchemaRow(0, "", "", FieldType.STRING, False, False, "", "", "")


def _default_input(row: forms.SchemaRow, options: dict[str, str]) -> widgets.Input:
    """The default value's input, by the parameter's type (a yes/no may stay unset)."""
    return widgets.typed_input(
        ROW + "default",
        _("Default value"),
        row.type,
        row.default,
        options=options,
        multiple=row.multiple,
        checkbox=False,
        expressions=False,
    )


def _typed_context(
    scenario: Scenario, code: str, row: forms.SchemaRow, entry: dict[str, Any]
) -> dict[str, Any]:
    """What the dialog's type-dependent part needs; ``save_url`` also fetches that part."""
    types = list(PARAMETER_TYPES)
    if row.type not in types and row.type in FieldType.values:
        types.append(FieldType(row.type))
    if code:
        save_url = reverse("designer:scenario-parameter-update", args=[scenario.pk, code])
    else:
        save_url = reverse("designer:scenario-parameter-create", args=[scenario.pk])
    return {
        "save_url": save_url,
        "row": row,
        "is_list": row.type == FieldType.SELECT,
        "default": _default_input(row, options_of(entry)),
        "types": [(t.value, t.label) for t in types],
    }


def _parameter_dialog(
    request: HttpRequest,
    scenario: Scenario,
    *,
    code: str,
    row: forms.SchemaRow,
    entry: dict[str, Any],
    revision: int,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "scenario": scenario,
        "code": code,
        "revision": revision,
        "errors": errors or [],
        **_typed_context(scenario, code, row, entry),
    }
    page = "designer/scenario_parameter_dialog.html"
    if request.htmx:
        page += "#parameter-dialog"
    return render(request, page, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@tree_edit(SCENARIOS)
def scenario_parameter(
    request: HttpRequest, scenario: Scenario, code: str = ""
) -> EditOutcome | HttpResponse:
    """A start parameter's dialog (a new one without ``code``). Changing the type, the options
    or "multiple" fetches the default value's input again for them (``#parameter-typed``)."""
    parameters = scenario.template.parameters or {}
    if code and code not in parameters:
        raise Http404
    if request.method == "GET" and request.htmx and request.htmx.target == "parameter-typed":
        data = request.GET.copy()
        if not (data.get(ROW + "id", "").strip() or data.get(ROW + "name", "").strip()):
            data[ROW + "id"] = "_"  # a row without ID and name is not read, but has a type
        row, entry = _posted_row(data)
        context = _typed_context(scenario, code, row or _blank_row(), entry)
        return render(request, "designer/scenario_parameter_dialog.html#parameter-typed", context)

    if code:
        entry = dict(parameters[code])
        row = forms.schema_rows({code: entry})[0]
    else:
        row, entry = _blank_row(), {}
    if request.method == "GET":
        return _parameter_dialog(
            request,
            scenario,
            code=code,
            row=row,
            entry=entry,
            revision=scenario.template.revision,
        )

    revision = posted_revision(request)
    posted, entry = _posted_row(request.POST)
    if posted is None:
        return _parameter_dialog(
            request,
            scenario,
            code=code,
            row=_blank_row(),
            entry={},
            revision=revision,
            errors=[_("Enter the parameter's ID and name.")],
            status=422,
        )
    refused = refusal_of(
        lambda: scenarios.scenario_parameter_save(
            scenario=scenario,
            revision=revision,
            user=request.user,
            code=posted.id,
            entry=entry,
            replaces=code,
        )
    )
    if refused is not None:
        return _parameter_dialog(
            request,
            scenario,
            code=code,
            row=posted,
            entry=entry,
            revision=revision,
            errors=[problem.message for problem in refused.problems] or [_message(refused)],
            status=_status(refused),
        )
    if not request.htmx:
        url = reverse("designer:scenario-edit", args=[scenario.pk])
        return redirect(f"{url}#block-parameter-{posted.id}")
    return EditOutcome(
        focus=f"block:parameter-{posted.id}",
        announce=_("“%(title)s” saved.") % {"title": posted.name or posted.id},
        closing_dialog=True,
    )


@login_required
@require_POST
@tree_edit(SCENARIOS)
def scenario_parameter_move(request: HttpRequest, scenario: Scenario, code: str) -> EditOutcome:
    """Moves a parameter one place up or down (``direction``)."""
    order = list(scenario.template.parameters or {})
    direction = request.POST.get("direction")
    if code not in order or direction not in ("up", "down"):
        raise EditRefused(_("The position is not valid."))
    scenarios.scenario_parameter_move(
        scenario=scenario,
        revision=posted_revision(request),
        user=request.user,
        code=code,
        index=order.index(code) + (-1 if direction == "up" else 1),
    )
    return EditOutcome(
        focus=f"block:parameter-{code}",
        announce=_("“%(title)s” moved.") % {"title": _parameter_title(scenario, code)},
    )


def _parameter_title(scenario: Scenario, code: str) -> str:
    entry = (scenario.template.parameters or {}).get(code)
    return str((entry or {}).get("Name") or code)


@login_required
@require_POST
@tree_edit(SCENARIOS)
def scenario_parameter_delete(request: HttpRequest, scenario: Scenario, code: str) -> EditOutcome:
    """Deletes a parameter; focus goes to the next one, else the previous, else "Add"."""
    order = list(scenario.template.parameters or {})
    title = _parameter_title(scenario, code)
    focus = "slot:parameters:new"
    if code in order and len(order) > 1:
        position = order.index(code)
        neighbour = order[position + 1] if position + 1 < len(order) else order[position - 1]
        focus = f"block:parameter-{neighbour}"
    scenarios.scenario_parameter_delete(
        scenario=scenario, revision=posted_revision(request), user=request.user, code=code
    )
    return EditOutcome(focus=focus, announce=_("“%(title)s” deleted.") % {"title": title})


# ---- robots ------------------------------------------------------------------------------


def _robot(scenario: Scenario, name: str) -> Node:
    try:
        return scenarios.scenario_robot(scenario, name)
    except EditRefused:
        raise Http404 from None


def _position(request: HttpRequest) -> int:
    """The insertion point a robot was dropped on or chosen at: robots stand in one list."""
    if request.POST.get("parent", ROOT_NAME) != ROOT_NAME:
        raise EditRefused(_("The position is not valid."))
    try:
        return int(request.POST.get("index", ""))
    except ValueError:
        raise EditRefused(_("The position is not valid.")) from None


def _robot_dialog_context(
    request: HttpRequest, scenario: Scenario, form: forms.BlockForm, revision: int
) -> dict[str, Any]:
    """The template editor's block dialog, saving to the scenario and closing to its editor."""
    name = form.activity.node["Name"]
    context = block_dialog_context(
        request,
        scenario.template,
        form,
        revision,
        save_url=reverse("designer:scenario-robot-update", args=[scenario.pk, name]),
        editor_url=reverse("designer:scenario-edit", args=[scenario.pk]),
        parameters_url=reverse("designer:scenario-robot-start-parameters", args=[scenario.pk]),
        # A scenario keeps no undo history: a new robot's cancelled dialog deletes it.
        discard_url=reverse("designer:scenario-robot-delete", args=[scenario.pk, name]),
    )
    return context | {"scenario": scenario}


@login_required
@require_POST
@tree_edit(SCENARIOS)
def scenario_robot_create(request: HttpRequest, scenario: Scenario) -> EditOutcome:
    """Adds a robot where it was dropped, chosen from "Add robot here" or pressed in the
    palette; its dialog opens at once."""
    name = scenarios.scenario_robot_add(
        scenario=scenario,
        revision=posted_revision(request),
        user=request.user,
        robot_type=request.POST.get("type", ""),
        index=_position(request),
    )
    scenario.template.refresh_from_db()
    activity = activities.for_node(_robot(scenario, name))
    form = forms.BlockForm.for_block(
        activity=activity, template=scenario.template, user=request.user, fresh=True
    )
    context = _robot_dialog_context(request, scenario, form, scenario.template.revision)
    dialog = render_to_string(
        "designer/block_dialog.html#block-dialog", context | {"oob": True}, request
    )
    return EditOutcome(
        focus=f"block:{name}",
        announce=_("“%(title)s” added.") % {"title": activity.display_title},
        dialog=dialog,
    )


@login_required
@require_http_methods(["GET", "POST"])
@tree_edit(SCENARIOS)
def scenario_robot_update(
    request: HttpRequest, scenario: Scenario, name: str
) -> EditOutcome | HttpResponse:
    """A robot's dialog: the template editor's block dialog for its activity; saving replaces
    the robot's settings, whose problems show next to their fields."""
    activity = activities.for_node(_robot(scenario, name))
    form = forms.BlockForm.for_block(
        activity=activity,
        template=scenario.template,
        user=request.user,
        fresh=posted_fresh(request),
    )
    revision, status = scenario.template.revision, 200
    if request.method == "POST":
        revision = posted_revision(request)
        refusals = form.refusals(request.POST)
        if refusals:
            form.show_posted(request.POST, [(k, m) for k, ms in refusals.items() for m in ms])
            status = 422
        else:
            refused = refusal_of(
                lambda: scenarios.scenario_robot_update(
                    scenario=scenario,
                    revision=revision,
                    user=request.user,
                    name=name,
                    properties=form.properties(request.POST),
                )
            )
            if refused is not None:
                problems = [(p.parameter, p.message) for p in refused.problems]
                form.show_posted(request.POST, problems or [("", _message(refused))])
                status = _status(refused)
            elif not request.htmx:
                url = reverse("designer:scenario-edit", args=[scenario.pk])
                return redirect(f"{url}#block-{name}")
            else:
                title = request.POST.get("Title") or activity.display_title
                return EditOutcome(
                    focus=f"block:{name}",
                    announce=_("“%(title)s” saved.") % {"title": title},
                    closing_dialog=True,
                )
    context = _robot_dialog_context(request, scenario, form, revision)
    page = "designer/block_dialog.html" + ("#block-dialog" if request.htmx else "")
    return render(request, page, context, status=status)


@login_required
@require_POST
@tree_edit(SCENARIOS)
def scenario_robot_move(request: HttpRequest, scenario: Scenario, name: str) -> EditOutcome:
    """Moves a robot one place up or down (``direction``), or to an insertion point
    (``index`` as drawn, counting the robot where it is)."""
    robot = _robot(scenario, name)
    order = [child.get("Name") for child in scenario.template.tree.get("Children") or []]
    position = order.index(name)
    direction = request.POST.get("direction")
    if direction in ("up", "down"):
        index = position + (-1 if direction == "up" else 1)
    else:
        index = _position(request)
        if index > position:
            index -= 1  # the service counts places once the robot has left its own
    scenarios.scenario_robot_move(
        scenario=scenario,
        revision=posted_revision(request),
        user=request.user,
        name=name,
        index=index,
    )
    return EditOutcome(
        focus=f"block:{name}",
        announce=_("“%(title)s” moved.") % {"title": activities.for_node(robot).display_title},
    )


@login_required
@require_POST
@tree_edit(SCENARIOS)
def scenario_robot_delete(request: HttpRequest, scenario: Scenario, name: str) -> EditOutcome:
    """Deletes a robot; focus goes to the robot that took its place."""
    title = activities.for_node(_robot(scenario, name)).display_title
    focus = focus_after_delete(scenario.template.tree, name)
    scenarios.scenario_robot_delete(
        scenario=scenario, revision=posted_revision(request), user=request.user, name=name
    )
    return EditOutcome(focus=focus, announce=_("“%(title)s” deleted.") % {"title": title})


@login_required
def scenario_robot_start_parameters(request: HttpRequest, pk: int) -> HttpResponse:
    """A Start smart scenario robot's parameters section for the scenario chosen in its
    dialog: its saved values if it has this scenario already, else the defaults."""
    return start_parameters_section(request, _editable_scenario(request.user, pk).template)
