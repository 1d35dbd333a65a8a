"""The demo company's automation: a published process template and smart scenarios."""

from typing import Any

from bizproc import scenarios, services
from bizproc.models import Scenario, Template
from bizproc.tree import root_node
from crm.documents import DOCUMENT_TYPES


def _field(
    name: str, type_: str, *, required: bool = False, default: Any = "", **extra: Any
) -> dict:
    return {
        "Name": name,
        "Description": "",
        "Type": type_,
        "Required": "1" if required else "0",
        "Multiple": "0",
        "Default": default,
        **extra,
    }


def _block(type_: str, name: str, title: str, **properties: Any) -> dict:
    return {
        "Type": type_,
        "Name": name,
        "Properties": {"Title": title, **properties},
        "Children": [],
    }


def demo_automation_create(*, admin: Any) -> None:
    """Creates the demo template and scenarios once (by name)."""
    if not Template.objects.filter(name="Deal follow-up").exists():
        template = services.template_create(
            document_type=DOCUMENT_TYPES["DEAL"],
            name="Deal follow-up",
            description="Reminds the team about a deal, waits a moment, and notes the result.",
            user=admin,
        )
        tree = root_node()
        tree["Children"] = [
            _block(
                "LogActivity",
                "A10001_1_1_1",
                "Follow-up started",
                Text="Follow-up by {=Template:TargetUser > printable}: {=Template:Note}",
            ),
            _block(
                "DelayActivity",
                "A10002_1_1_1",
                "Short pause",
                TimeoutDuration="2",
                TimeoutDurationType="s",
            ),
            _block(
                "SetStateTitleActivity",
                "A10003_1_1_1",
                "Mark as followed up",
                TargetStateTitle="Followed up",
            ),
            _block(
                "LogActivity", "A10004_1_1_1", "Follow-up finished", Text="Done: {=Document:TITLE}"
            ),
        ]
        template.tree = tree
        template.parameters = {
            "Note": _field("Note", "string", required=True, default="Call the client")
        }
        template.save()
        services.template_publish(template=template, user=admin, comment="Demo")

    if not Template.objects.filter(name="Discount approval").exists():
        template = services.template_create(
            document_type=DOCUMENT_TYPES["DEAL"],
            name="Discount approval",
            description="Asks the head of sales to approve a discount on the deal.",
            user=admin,
        )
        approval = _block(
            "ApproveActivity",
            "A10011_1_1_1",
            "Head of sales approves",
            Users=[f"user_{admin.pk}"],
            ApproveType="any",
            Name="Discount of {=Template:Discount}% on {=Document:TITLE}",
            Description="{=Template:TargetUser > printable} asks for a discount of "
            "{=Template:Discount}% on “{=Document:TITLE}”.",
            TaskButton1Message="Approve the discount",
            TaskButton2Message="Turn it down",
            ShowComment="Y",
            CommentLabelMessage="Comment",
            SetStatusMessage="Y",
            StatusMessage="Waiting for the head of sales",
        )
        approval["Children"] = [
            {
                "Type": "SequenceActivity",
                "Name": "A10012_1_1_1",
                "Properties": {"Title": "Approved"},
                "Children": [
                    _block(
                        "LogActivity",
                        "A10013_1_1_1",
                        "Report",
                        Text="Discount approved by {=A10011_1_1_1:Approvers}. "
                        "{=A10011_1_1_1:Comments}",
                    ),
                    _block(
                        "SetStateTitleActivity",
                        "A10014_1_1_1",
                        "State",
                        TargetStateTitle="Discount approved",
                    ),
                ],
            },
            {
                "Type": "SequenceActivity",
                "Name": "A10015_1_1_1",
                "Properties": {"Title": "Rejected"},
                "Children": [
                    _block(
                        "SetStateTitleActivity",
                        "A10016_1_1_1",
                        "State",
                        TargetStateTitle="Discount turned down",
                    ),
                ],
            },
        ]
        tree = root_node()
        tree["Children"] = [approval]
        template.tree = tree
        template.parameters = {"Discount": _field("Discount, %", "int", required=True, default=10)}
        template.save()
        services.template_publish(template=template, user=admin, comment="Demo")

    if not Scenario.objects.filter(name="Client welcome").exists():
        scenarios.scenario_save(
            user=admin,
            document_type=DOCUMENT_TYPES["DEAL"],
            name="Client welcome",
            description="Greets a new client: a comment on the deal and a note to a colleague.",
            parameters={
                "Greeting": _field("Greeting", "string", required=True, default="Welcome aboard"),
                "Discount": _field("Discount, %", "int", default="5"),
                "Level": _field(
                    "Level",
                    "select",
                    default="silver",
                    Options={"gold": "Gold", "silver": "Silver"},
                ),
            },
            robots=[
                _block(
                    "CrmTimelineCommentAdd",
                    "A20001_1_1_1",
                    "Comment",
                    CommentText="{=Template:Greeting}! Discount {=Template:Discount}%, "
                    "{=Template:Level > printable} level.",
                ),
                _block(
                    "IMNotifyActivity",
                    "A20002_1_1_1",
                    "Tell the responsible",
                    MessageUserTo=["{=Document:ASSIGNED_BY_ID}"],
                    MessageSite="Client welcome sent for {=Document:TITLE}",
                ),
            ],
        )
    if not Scenario.objects.filter(name="Qualify lead").exists():
        scenarios.scenario_save(
            user=admin,
            document_type=DOCUMENT_TYPES["LEAD"],
            name="Qualify lead",
            description="Moves the lead to In progress and notes it on its timeline.",
            robots=[
                _block(
                    "CrmChangeStatusActivity",
                    "A30001_1_1_1",
                    "In progress",
                    TargetStatus="IN_PROCESS",
                ),
                _block(
                    "CrmTimelineCommentAdd",
                    "A30002_1_1_1",
                    "Comment",
                    CommentText="Qualification started by {=Template:TargetUser > printable}.",
                ),
            ],
        )
