"""The Start smart scenario block (Bitrix ``StartScriptActivity``), for designers and robots."""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bizproc.activities.base import (
    Activity,
    Category,
    MapKeys,
    Problem,
    Property,
    PropertyType,
    Reference,
    Status,
    ValidationContext,
    Widget,
    activities,
    has_expression,
    is_empty,
)
from bizproc.activities.context import Context
from bizproc.documents import caption_of
from bizproc.fieldtypes import Field

REQUIRED_MESSAGES = {
    "DocumentId": gettext_lazy('The field "Item ID" is required.'),
    "TemplateId": gettext_lazy('The field "Smart scenario" is required.'),
    "StartBy": gettext_lazy('The field "Run as user" is required.'),
}


@activities.register
class StartScriptActivity(Activity):
    type = "StartScriptActivity"
    title = gettext_lazy("Start smart scenario")
    category = Category.DOCUMENT
    robot = True
    summary_from_node = False  # it names the scenario
    properties = (
        Property("Title", pgettext_lazy("block", "Title"), PropertyType.STRING),
        Property(
            "DocumentId",
            gettext_lazy("Item ID"),
            PropertyType.STRING,
            required=True,
            default="{=Document:ID}",
            reference=Reference.DOCUMENT,
        ),
        Property(
            "StartBy",
            gettext_lazy("Run as user"),
            PropertyType.USER,
            required=True,
            default="{=Template:TargetUser}",
            reference=Reference.RUN_AS,
        ),
        Property(
            "TemplateId",
            gettext_lazy("Smart scenario"),
            PropertyType.INT,
            required=True,
            reference=Reference.SCENARIO,
            widget=Widget.SCENARIO,
        ),
        Property(
            "TemplateParameters",
            gettext_lazy("Smart scenario start parameters"),
            PropertyType.MAP,
            map_keys=MapKeys.PARAMETERS,
            widget=Widget.SCENARIO_PARAMETERS,
        ),
    )

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        values = self.properties_values
        problems = [
            self.problem(name, str(message), "required")
            for name, message in REQUIRED_MESSAGES.items()
            if is_empty(values.get(name))
        ]
        present = {prop.name for prop in self.properties if not is_empty(values.get(prop.name))}
        problems.extend(
            problem
            for problem in super().validate_properties(ctx)
            if problem.code != "required" and problem.parameter in present
        )
        template_id = values.get("TemplateId")
        if is_empty(template_id) or has_expression(template_id):
            return problems
        from bizproc.scenarios import scenario_for_template_id

        schema = ctx.target_parameters(template_id)
        if schema is None or scenario_for_template_id(template_id) is None:
            problems.append(
                self.problem("TemplateId", _("Smart scenario not found or inactive."), "scenario")
            )
            return problems
        return problems + self._contract_problems(schema, values.get("TemplateParameters") or {})

    def warnings(self, ctx: ValidationContext) -> list[Problem]:
        """A scenario for another type than the template's, on the template's own item: the
        id would be read as an item of the scenario's type with the same number."""
        from bizproc.scenarios import scenario_for_template_id

        values = self.properties_values
        own_item = str(values.get("DocumentId") or "").replace(" ", "").lower()
        if ctx.document_type is None or own_item != "{=document:id}":
            return []
        scenario = scenario_for_template_id(values.get("TemplateId"))
        if scenario is None or tuple(scenario.document_type_triple) == tuple(ctx.document_type):
            return []
        return [
            self.problem(
                "DocumentId",
                _(
                    "The smart scenario is for %(type)s, but Item ID is this process's own "
                    "item: it would run on whichever of the %(type)s has the same number. "
                    "Enter the ID of one of the %(type)s, e.g. from a field that links to one."
                )
                % {"type": caption_of(scenario.document_type_triple, plural=True)},
                "warning",
            )
        ]

    def _contract_problems(
        self, schema: Mapping[str, Field], given: Mapping[str, Any]
    ) -> list[Problem]:
        """The typed contract with the scenario's current start parameters."""
        problems = []
        for key in given:
            if key not in schema:
                problems.append(
                    self.problem(
                        "TemplateParameters",
                        _("The smart scenario no longer has the parameter %(name)s.")
                        % {"name": key},
                        "contract",
                    )
                )
        for code, field in schema.items():
            if field.required and is_empty(given.get(code)):
                problems.append(
                    self.problem(
                        "TemplateParameters",
                        _("The required parameter is empty: %(name)s.") % {"name": field.name},
                        "required",
                    )
                )
        return problems

    def execute(self, ctx: Context) -> Status:
        # Failures are reported in the calling process's journal; the block still completes.
        from bizproc.scenarios import ScenarioRefused, scenario_start_from_block

        try:
            run = scenario_start_from_block(
                ctx=ctx, block_name=self.node["Name"], properties=self.properties_values
            )
        except ScenarioRefused as refused:
            ctx.journal.error(self.node["Name"], self.display_title, refused.message)
        else:
            ctx.journal.custom(
                self.node["Name"],
                self.display_title,
                _("Smart scenario “%(name)s” queued for %(document)s (run %(run)d).")
                % {"name": run.scenario.name, "document": run.document_id, "run": run.pk},
            )
        return Status.CLOSED

    def summary(self) -> str:
        from bizproc.scenarios import scenario_for_template_id

        values = self.properties_values
        scenario = scenario_for_template_id(values.get("TemplateId"))
        name = f"“{scenario.name}”" if scenario else _("no scenario chosen")
        return _("%(scenario)s · on %(document)s") % {
            "scenario": name,
            "document": values.get("DocumentId") or "?",
        }
