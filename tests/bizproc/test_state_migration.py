"""A process that waits with state written before ``ExecutionState`` (version 1, captured from
the engine as it was into ``fixtures/state_v1.json``) takes its next step and finishes exactly
as it would have; the process page reads that state too."""

import json
from pathlib import Path

import pytest
from django.utils import timezone

from bizproc.models import Instance, InstanceStatus, ProcessTask
from bizproc.process_tasks import task_answer
from bizproc.process_views import block_tree
from bizproc.runtime import workflow_start
from bizproc.state import Event, EventKind, ExecutionState, Wait
from tests.bizproc import state_scenarios as scenarios
from tests.bizproc.builders import notes, run_tasks
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REPORT = 6
CAPTURED = json.loads((Path(__file__).parent / "fixtures" / "state_v1.json").read_text())


@pytest.fixture
def user():
    return UserFactory(is_crm_admin=True, full_name="Ivan Petrov")


@pytest.fixture
def deal(user):
    return DealFactory(title="Big deal", stage="NEW", opportunity=1000, assigned_by=user)


def start(template, deal, user) -> Instance:
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    return instance


def put_captured(instance: Instance, key: str, *, child: str = "", task: int = 0) -> dict:
    """Puts the captured version-1 state in the instance's row, with today's ids of the child
    process and task it waits for, as a waiting process written by the old engine has it."""
    captured = CAPTURED[key]
    text = json.dumps(captured["state"])
    if child:
        text = text.replace(captured["child_id"], child)
    state = json.loads(text)
    if task:
        for entry in [*state.get("waits", {}).values(), *state.get("data", {}).values()]:
            if entry.get("task") == captured["task_id"]:
                entry["task"] = task
    assert "version" not in state
    Instance.objects.filter(pk=instance.pk).update(
        state=state, variables=captured["variables"], wake_at=timezone.now()
    )
    return state


def finished(instance: Instance) -> Instance:
    run_tasks()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.state["version"] == ExecutionState.VERSION
    return instance


def test_a_pause_written_by_the_old_engine_wakes_and_the_process_goes_on(user, deal) -> None:
    instance = start(scenarios.delay_template(user), deal, user)
    put_captured(instance, "delay")
    assert notes(finished(instance), REPORT) == ["before", "after"]


def test_a_parent_waiting_in_old_state_for_its_child_goes_on_when_the_child_ends(
    user, deal
) -> None:
    instance = start(scenarios.child_template(user), deal, user)
    child = Instance.objects.get(parent=instance)
    put_captured(instance, "child", child=child.pk)
    finished(instance)
    child.refresh_from_db()
    assert notes(child, REPORT) == ["child done"]
    assert notes(instance, REPORT) == ["before", "parent goes on"]


def test_an_answer_to_a_task_given_under_old_state_settles_the_approval(user, deal) -> None:
    instance = start(scenarios.approve_template(user), deal, user)
    task = ProcessTask.objects.get(instance=instance)
    put_captured(instance, "approve", task=task.pk)
    task_answer(task=task, user=user, approve=True)
    assert notes(finished(instance), REPORT) == ["approved: 1 of 1", f"after user_{user.pk}"]


def test_a_wake_up_queued_by_the_old_engine_is_handled(user, deal) -> None:
    instance = start(scenarios.approve_template(user), deal, user)
    task = ProcessTask.objects.get(instance=instance)
    task_answer(task=task, user=user, approve=True)
    put_captured(instance, "approve_answered", task=task.pk)
    assert notes(finished(instance), REPORT) == ["approved: 1 of 1", f"after user_{user.pk}"]


def test_a_loop_paused_in_old_state_counts_its_turns_on(user, deal) -> None:
    instance = start(scenarios.while_delay_template(user), deal, user)
    put_captured(instance, "while_delay")
    assert notes(finished(instance), REPORT) == ["turn 0", "turn 1", "loop done at 2"]


def test_the_process_page_shows_what_a_block_waits_for_in_old_state(user, deal) -> None:
    instance = start(scenarios.approve_template(user), deal, user)
    put_captured(instance, "approve", task=ProcessTask.objects.get(instance=instance).pk)
    instance.refresh_from_db()
    (root,) = block_tree(instance)
    (approval, _after) = root["children"]
    assert (approval["state"], approval["state_label"]) == (
        "waiting",
        "waiting for an answer to its task",
    )


def test_old_state_reads_as_typed_state_and_is_written_with_its_version() -> None:
    state = ExecutionState.from_json(CAPTURED["approve_answered"]["state"])
    task = CAPTURED["approve_answered"]["task_id"]
    assert state.queue == [Event(EventKind.RESUME, "A_ok")]
    assert state.waits == {"A_ok": Wait(task=task)}
    assert state.data == {"A_ok": {"task": task}}
    assert state.tasks and not state.children and state.run is None
    written = state.to_json()
    assert written["version"] == 2
    assert ExecutionState.from_json(written) == state
