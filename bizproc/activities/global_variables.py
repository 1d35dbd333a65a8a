"""Set global variable (Bitrix's ``SetGlobalVariableActivity``): a block and a robot that writes
company-wide variables (``{=GlobalVar:Id}``) which every later process of the types that see
them reads."""

from typing import Any

from django.utils.translation import gettext_lazy

from bizproc.activities.base import (
    Activity,
    Category,
    MapKeys,
    Property,
    PropertyType,
    Status,
    activities,
    global_variable_id,
)
from bizproc.activities.context import Context
from bizproc.activities.standard import TITLE


@activities.register
class SetGlobalVariableActivity(Activity):
    type = "SetGlobalVariableActivity"
    title = gettext_lazy("Set global variables")
    category = Category.OTHER
    robot = True
    properties = (
        TITLE,
        # Keys are variable IDs, or (Bitrix's newer dialogs) ``{=GlobalVar:Id}``; the map's
        # check takes those visible to the template's type and types each value by its variable.
        Property(
            "GlobalVariableValue",
            gettext_lazy("Global variables"),
            PropertyType.MAP,
            required=True,
            map_keys=MapKeys.GLOBAL_VARIABLES,
        ),
    )

    def execute(self, ctx: Context) -> Status:
        values = self._values()
        if values:
            ctx.global_variables_set(
                {global_variable_id(str(key)): ctx.evaluate(value) for key, value in values.items()}
            )
        return Status.CLOSED

    def summary(self) -> str:
        return ", ".join(global_variable_id(str(key)) for key in self._values())

    def _values(self) -> dict[str, Any]:
        values = self.properties_values.get("GlobalVariableValue")
        return values if isinstance(values, dict) else {}
