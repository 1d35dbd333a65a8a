"""Fixtures for the designer's tests: users with and without "design automation", a deal
template with a few blocks, and smart scenarios with and without start parameters."""

import pytest

from bizproc import scenarios, services
from bizproc.models import Template
from bizproc.tree import root_node
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import field, node
from tests.crm.factories import UserFactory, user_with

DEAL = DOCUMENT_TYPES["DEAL"]
HTMX = {"HX-Request": "true"}


def draft(template: Template) -> tuple[dict, int]:
    """The stored draft and its revision, to compare before and after a request."""
    template.refresh_from_db()
    return template.tree, template.revision


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Irina Admin")


@pytest.fixture
def designer_user():
    """Designs deal automation, reads deals and leads, starts processes on deals only."""
    return user_with(
        {
            ("DEAL", "read"): "all",
            ("DEAL", "design_automation"): "all",
            ("DEAL", "start_processes"): "all",
            ("LEAD", "read"): "all",
        },
        full_name="Mark Designer",
    )


@pytest.fixture
def seller():
    """Works with their own deals; may not design automation."""
    return user_with(
        {("DEAL", action): "own" for action in ("read", "add", "update", "start_processes")},
        full_name="Anna Seller",
    )


@pytest.fixture
def template(admin) -> Template:
    """A deal template: a report block, then a condition with two branches."""
    created = services.template_create(document_type=DEAL, name="Deal flow", user=admin)
    tree = root_node()
    tree["Children"] = [
        node("LogActivity", "A_log", Title="Report", Text="Deal {=Document:TITLE}"),
        node(
            "IfElseActivity",
            "A_if",
            [
                node(
                    "IfElseBranchActivity",
                    "A_yes",
                    Title="Big",
                    fieldcondition=[["OPPORTUNITY", ">", "1000"]],
                ),
                node("IfElseBranchActivity", "A_no", Title="Otherwise", truecondition="1"),
            ],
            Title="Size",
        ),
    ]
    created.tree = tree
    created.variables = {"Note": field("string", "Note")}
    created.save()
    return created


def make_scenario(
    user, *, name: str, entity: str = "DEAL", parameters: dict | None = None, active: bool = True
):
    return scenarios.scenario_save(
        user=user,
        document_type=DOCUMENT_TYPES[entity],
        name=name,
        active=active,
        parameters=parameters or {},
        robots=[node("CrmTimelineCommentAdd", CommentText="Hello")],
    )


@pytest.fixture
def welcome(admin):
    """A deal scenario with start parameters (one required, with a default)."""
    return make_scenario(
        admin,
        name="Welcome pack",
        parameters={
            "Greeting": field("string", "Greeting", required=True, default="Hello"),
            "Discount": field("int", "Discount", default="5"),
        },
    )


@pytest.fixture
def ping(admin):
    """A deal scenario without parameters."""
    return make_scenario(admin, name="Ping")
