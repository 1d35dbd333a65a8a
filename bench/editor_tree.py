"""The editor benchmarks' template: N blocks the way people build them (set-variable, report
and pause blocks, conditions whose branches hold blocks of their own, a parallel block and a
loop), published once, which proves it valid. Import once Django is set up."""

import itertools

from bizproc import services
from bizproc.models import Template
from bizproc.tree import root_node
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import field, node

# What the benchmarks insert, in turn.
INSERTED_TYPES = ("LogActivity", "DelayActivity", "SetVariableActivity")


def report(text: str) -> dict:
    return node("LogActivity", Title="Report", Text=text)


def set_note(text: str) -> dict:
    return node("SetVariableActivity", Title="Note", VariableValue={"Note": text})


def pause(minutes: int) -> dict:
    return node(
        "DelayActivity", Title="Pause", TimeoutDuration=str(minutes), TimeoutDurationType="m"
    )


def section(number: int) -> list[dict]:
    """Nine blocks: note, report, pause, then a condition whose two branches hold three more."""
    big = node(
        "IfElseBranchActivity",
        children=[report(f"Big deal {number}: {{=Document:TITLE}}"), set_note("big")],
        Title="Big",
        fieldcondition=[["OPPORTUNITY", ">", str(1000 * number)]],
    )
    otherwise = node(
        "IfElseBranchActivity", children=[pause(number)], Title="Otherwise", truecondition="1"
    )
    return [
        set_note(f"Step {number}"),
        report(f"Step {number} of {{=Document:TITLE}}"),
        pause(5),
        node("IfElseActivity", children=[big, otherwise], Title=f"Size {number}"),
    ]


def size(nodes: list[dict]) -> int:
    return sum(1 + size(item["Children"]) for item in nodes)


def blocks_tree(count: int) -> list[dict]:
    """The root's children: exactly ``count`` (≥ 17) nodes under the root, branches and the
    loop's body included; a parallel block and a loop after the first section."""
    parallel = node(
        "ParallelActivity",
        children=[
            node(
                "SequenceActivity",
                children=[report(f"Branch {n} of {{=Document:TITLE}}")],
                Title=f"Branch {n}",
            )
            for n in (1, 2)
        ],
        Title="Together",
    )
    loop = node(
        "WhileActivity",
        children=[
            node(
                "SequenceActivity",
                children=[node("SetVariableActivity", VariableValue={"Counter": "3"})],
                Title="Loop body",
            )
        ],
        Title="Until counted",
        propertyvariablecondition=[["Counter", "<", "3"]],
    )
    children = [*section(1), parallel, loop]
    number = 1
    while size(children) + 9 <= count:
        number += 1
        children += section(number)
    singles = itertools.cycle([report, set_note, lambda text: pause(1)])
    while size(children) < count:
        children.append(next(singles)(f"Last steps of {{=Document:TITLE}} ({size(children)})"))
    return children


def templates_create(count: int, user, blocks: int) -> list[Template]:
    made = []
    for number in range(1, count + 1):
        template = services.template_create(
            document_type=DOCUMENT_TYPES["DEAL"], name=f"Editor bench {number}", user=user
        )
        tree = root_node()
        tree["Children"] = blocks_tree(blocks)
        template.tree = tree
        template.variables = {"Note": field("string", "Note"), "Counter": field("int", "Counter")}
        template.save()
        services.template_publish(template=template, user=user)  # refuses an invalid tree
        made.append(template)
    return made


def openable(tree: dict) -> list[str]:
    """Blocks the editor draws with an Edit button: all but the loops' bodies."""
    found = []
    for child in tree["Children"]:
        if tree["Type"] != "WhileActivity":
            found.append(child["Name"])
        found += openable(child)
    return found
