"""Processes that wait, each in a different way — the shapes of state a waiting process keeps.

Shared by the migration test and by the script that captured ``fixtures/state_v1.json`` from
the engine as it was before ``ExecutionState`` (the block names are fixed so that a captured
state fits a template built again today)."""

from tests.bizproc.builders import field, node, published, sequence


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Report")


def delay_template(user):
    return published(
        log("before"),
        node("DelayActivity", "A_delay", TimeoutDuration="1", TimeoutDurationType="s"),
        log("after"),
        user=user,
        name="Delay",
    )


def child_template(user):
    child = published(
        node("DelayActivity", "A_child_delay", TimeoutDuration="1", TimeoutDurationType="s"),
        log("child done"),
        user=user,
        name="Child",
    )
    return published(
        log("before"),
        node(
            "StartWorkflowActivity",
            "A_start",
            DocumentId="{=Document:ID}",
            TemplateId=str(child.pk),
            UseSubscription="Y",
        ),
        log("parent goes on"),
        user=user,
        name="Parent",
    )


def approve_template(user):
    return published(
        node(
            "ApproveActivity",
            "A_ok",
            children=[
                sequence(
                    log("approved: {=A_ok:ApprovedCount} of {=A_ok:TotalCount}"), name="A_yes"
                ),
                sequence(log("rejected: {=A_ok:Rejecters}"), name="A_no"),
            ],
            Title="Approval",
            Users=[f"user_{user.pk}"],
            ApproveType="any",
            Name="Approve {=Document:TITLE}",
            TaskButton1Message="Approve",
            TaskButton2Message="Reject",
            StatusMessage="Waiting for approval",
            SetStatusMessage="Y",
        ),
        log("after {=A_ok:LastApprover}"),
        user=user,
        name="Approve",
    )


def while_delay_template(user):
    return published(
        node(
            "WhileActivity",
            "A_while",
            children=[
                sequence(
                    log("turn {=Variable:N}"),
                    node("DelayActivity", "A_pause", TimeoutDuration="1", TimeoutDurationType="s"),
                    node("SetVariableActivity", "A_inc", VariableValue={"N": "={=Variable:N}+1"}),
                    name="A_body",
                )
            ],
            propertyvariablecondition=[["N", "<", "2"]],
        ),
        log("loop done at {=Variable:N}"),
        user=user,
        variables={"N": field("int", default="0")},
        name="While",
    )
