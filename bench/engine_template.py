"""The template the engine benches run: SetVariable → IfElse (two branches) → SetField → Log →
Log, on a deal — every start runs the whole process in the caller's transaction (no wait)."""

from typing import Any

from bizproc.models import Template
from tests.bizproc.builders import branch, field, node, published


def engine_template_create(admin: Any) -> Template:
    return published(
        node(
            "SetVariableActivity",
            VariableValue={"Score": "={=Document:OPPORTUNITY}/100"},
            Title="Score",
        ),
        node(
            "IfElseActivity",
            Title="Big?",
            children=[
                branch({"propertyvariablecondition": [["Score", ">", "100"]]}, title="Big"),
                branch({"truecondition": "1"}, title="Small"),
            ],
        ),
        node(
            "SetFieldActivity",
            FieldValue={"COMMENTS": "Score {=Variable:Score}"},
            Title="Note score",
        ),
        node("LogActivity", Text="Scored {=Variable:Score}", Title="Report"),
        node("LogActivity", Text="Done with {=Document:TITLE}", Title="Done"),
        user=admin,
        variables={"Score": field("double", "Score")},
        name="Bench",
    )
