"""Smart scenarios: named lists of robots for one document type, started on records by people,
REST or a process's Start smart scenario block.

One module per concern, so that changing one does not mean reading the others:

- ``editing``: the scenario itself — saved whole and checked first, or edited in the designer
  one revisioned edit at a time and published;
- ``io``: export to JSON and import from it (with Bitrix24's robots template shape);
- ``runs``: queuing a run per record and executing it in the task worker, under a lease the
  sweeper watches;
- ``block``: the checks a process's Start smart scenario block makes before queuing a run.

The names below are the package's interface; callers import them from here.
"""

from bizproc.scenarios.block import scenario_for_template_id, scenario_start_from_block
from bizproc.scenarios.editing import (
    ScenarioRefused,
    default_name,
    robot_class,
    scenario_create,
    scenario_delete,
    scenario_has_unpublished_changes,
    scenario_parameter_delete,
    scenario_parameter_move,
    scenario_parameter_save,
    scenario_problems,
    scenario_publish,
    scenario_robot,
    scenario_robot_add,
    scenario_robot_delete,
    scenario_robot_move,
    scenario_robot_update,
    scenario_robots,
    scenario_save,
    scenario_set_active,
    scenario_settings_update,
)
from bizproc.scenarios.io import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    robots_of_template,
    robots_template,
    scenario_export,
    scenario_import,
)
from bizproc.scenarios.runs import (
    StartOutcome,
    runs_sweep,
    scenario_may_run,
    scenario_run_execute,
    scenarios_start,
)

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "ScenarioRefused",
    "StartOutcome",
    "default_name",
    "robot_class",
    "robots_of_template",
    "robots_template",
    "runs_sweep",
    "scenario_create",
    "scenario_delete",
    "scenario_export",
    "scenario_for_template_id",
    "scenario_has_unpublished_changes",
    "scenario_import",
    "scenario_may_run",
    "scenario_parameter_delete",
    "scenario_parameter_move",
    "scenario_parameter_save",
    "scenario_problems",
    "scenario_publish",
    "scenario_robot",
    "scenario_robot_add",
    "scenario_robot_delete",
    "scenario_robot_move",
    "scenario_robot_update",
    "scenario_robots",
    "scenario_run_execute",
    "scenario_save",
    "scenario_set_active",
    "scenario_settings_update",
    "scenario_start_from_block",
    "scenarios_start",
]
