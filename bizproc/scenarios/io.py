"""Smart scenarios as files: export to JSON and import from it, refused as a whole if
anything is off. Kept apart from editing because the file format, and Bitrix24's robots
template shape it carries beside our flat list of robots, are a contract with other systems.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from bizproc.documents import DocumentType
from bizproc.models import (
    Scenario,
)
from bizproc.scenarios.editing import ScenarioRefused, scenario_robots, scenario_save
from bizproc.tree import Node, root_node

EXPORT_FORMAT = "bizproc-designer/smart-scenario"
EXPORT_VERSION = 1


def robots_template(robots: Sequence[Node]) -> Node:
    """The robots in the shape Bitrix24 keeps a robots template in: the root, a parallel block,
    and one sequence holding the robots in order (the shape exports carry for Bitrix24)."""
    taken = {str(robot.get("Name")) for robot in robots}

    def name(base: str) -> str:  # the same on every export of the same robots
        number = 1
        while f"{base}{number}" in taken:
            number += 1
        return f"{base}{number}"

    sequence = {
        "Type": "SequenceActivity",
        "Name": name("Robots"),
        "Properties": {"Title": ""},
        "Children": [dict(robot) for robot in robots],
    }
    parallel = {
        "Type": "ParallelActivity",
        "Name": name("Stages"),
        "Properties": {"Title": ""},
        "Children": [sequence],
    }
    tree = root_node()
    tree["Children"] = [parallel]
    return tree


def robots_of_template(tree: Any) -> list[Node]:
    """The robots of a robots template in Bitrix24's shape (or in our flat one), in order: the
    parallel block's branches one after the other. A pause before a robot stays a robot of its
    own; a robot under a condition cannot be kept as a plain robot, and is refused."""
    if not isinstance(tree, Mapping) or not isinstance(tree.get("Children") or [], list):
        raise ScenarioRefused(_("The file is damaged or incomplete."))
    robots: list[Node] = []
    for child in tree.get("Children") or []:
        branches = [child]
        if isinstance(child, Mapping) and child.get("Type") == "ParallelActivity":
            branches = []
            for branch in child.get("Children") or []:
                if not isinstance(branch, Mapping) or branch.get("Type") != "SequenceActivity":
                    raise ScenarioRefused(_("The file is damaged or incomplete."))
                branches.extend(branch.get("Children") or [])
        for robot in branches:
            if isinstance(robot, Mapping) and robot.get("Type") == "IfElseActivity":
                raise ScenarioRefused(_("Robots that run under a condition cannot be imported."))
            robots.append(robot)
    return robots


def scenario_export(*, scenario: Scenario) -> dict:
    """The scenario as JSON: its settings, typed start parameters, constants and robots.

    The parameters and robots are those of the latest published version, which runs use and
    which importing the file publishes again; a draft's unpublished changes are not part of
    it (the draft only for a scenario never published). ``template`` holds the same robots in
    Bitrix24's robots-template shape (``robots_template``)."""
    source = scenario.template.latest_version or scenario.template
    robots = [
        {"Type": robot["Type"], "Name": robot["Name"], "Properties": robot.get("Properties", {})}
        for robot in scenario_robots(source)
    ]
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "name": scenario.name,
        "description": scenario.description,
        "document_type": list(scenario.document_type_triple),
        "active": scenario.active,
        "sort": scenario.sort,
        "parameters": source.parameters,
        "constants": source.constants,
        "robots": robots,
        "template": robots_template(robots),
    }


def scenario_import(*, data: bytes | str | Mapping[str, Any], user: Any) -> Scenario:
    """A new scenario from an export; refused as a whole, with every reason, if anything is off.
    Without ``robots``, the robots come from ``template``, a robots template in Bitrix24's
    shape."""
    if isinstance(data, bytes | str):
        if len(data) > 5 * 1024 * 1024:
            raise ScenarioRefused(_("The file is larger than %(max)s MB.") % {"max": 5})
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ScenarioRefused(_("The file is not a smart scenario export (JSON).")) from None
    if not isinstance(data, Mapping) or data.get("format") != EXPORT_FORMAT:
        raise ScenarioRefused(_("The file is not a smart scenario export (JSON)."))
    document_type = data.get("document_type")
    if not isinstance(document_type, list) or len(document_type) != 3:
        raise ScenarioRefused(_("Incorrect document type!"))
    for key, kind in (("parameters", dict), ("constants", dict), ("robots", list)):
        if not isinstance(data.get(key, kind()), kind):
            raise ScenarioRefused(_("The file is damaged or incomplete."))
    return scenario_save(
        user=user,
        document_type=DocumentType(*map(str, document_type)),
        name=str(data.get("name") or ""),
        description=str(data.get("description") or ""),
        active=bool(data.get("active", True)),
        sort=int(data["sort"]) if str(data.get("sort", "")).isdigit() else 500,
        parameters=data.get("parameters") or {},
        constants=data.get("constants") or {},
        robots=data["robots"] if "robots" in data else robots_of_template(data.get("template", {})),
    )
