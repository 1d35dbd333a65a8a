"""The ``Context`` protocol is what blocks may use while they run: the runner offers all of it,
and no block reaches past it."""

import ast
import typing
from pathlib import Path

import pytest

from bizproc.activities.context import Context
from bizproc.models import Instance
from bizproc.runtime import Runner, workflow_start
from tests.bizproc import state_scenarios as scenarios
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BLOCK_MODULES = [
    *sorted((ROOT / "bizproc" / "activities").glob("*.py")),
    ROOT / "crm" / "activities.py",
    ROOT / "bizproc" / "scenarios" / "block.py",
]


def test_a_step_offers_blocks_everything_the_context_lists() -> None:
    user = UserFactory(is_crm_admin=True)
    deal = DealFactory(assigned_by=user)
    instance = workflow_start(
        template=scenarios.delay_template(user), document_id=deal.document_id, user=user
    )
    runner = Runner(Instance.objects.get(pk=instance.pk), instance.version)
    members = typing.get_protocol_members(Context)
    assert {name for name in members if not hasattr(runner, name)} == set()


def _run_time_functions(tree: ast.AST) -> list[ast.FunctionDef]:
    """Functions that take ``ctx: Context`` (a validation's ``ctx`` is another context)."""
    return [
        function
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        and any(
            arg.arg == "ctx"
            and isinstance(arg.annotation, ast.Name)
            and arg.annotation.id == "Context"
            for arg in [*function.args.args, *function.args.kwonlyargs]
        )
    ]


def test_blocks_use_nothing_of_the_engine_the_context_does_not_list() -> None:
    members = typing.get_protocol_members(Context)
    beyond, functions = set(), 0
    for path in BLOCK_MODULES:
        for function in _run_time_functions(ast.parse(path.read_text())):
            functions += 1
            for found in ast.walk(function):
                if (
                    isinstance(found, ast.Attribute)
                    and isinstance(found.value, ast.Name)
                    and found.value.id == "ctx"
                    and found.attr not in members
                ):
                    beyond.add(f"{path.name}:{function.name}: ctx.{found.attr}")
    assert functions > 30
    assert beyond == set()
