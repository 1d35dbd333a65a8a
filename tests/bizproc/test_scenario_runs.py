"""Smart scenario runs outlive the workers that execute them: a run whose worker died is sent
again by the sweeper and ends, and no run starts its process twice.

A worker killed in the middle of a run leaves what these tests build: django-tasks-db's task
taken (Running, never to finish), the run still Queued because its transaction rolled back,
and the run's lease as the dead worker committed it (or none, if it died before taking it).
Real worker processes killed again and again are in ``test_workers.py`` (PostgreSQL).
"""

import datetime

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bizproc import runtime, scenarios
from bizproc.models import Instance, InstanceStatus, RunStatus, ScenarioRun
from crm.documents import DOCUMENT_TYPES
from crm.models import Deal, TimelineEntry
from tests.bizproc.builders import node, run_tasks
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The defaults of BIZPROC_SWEEP_GRACE_SECONDS and BIZPROC_LEASE_SECONDS.
GRACE, LEASE = datetime.timedelta(seconds=30), datetime.timedelta(seconds=60)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True)


@pytest.fixture
def deal(admin):
    return DealFactory(title="Main deal", assigned_by=admin)


@pytest.fixture
def run(admin, deal) -> ScenarioRun:
    """A queued run of a scenario that renames the deal and comments on it."""
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Mark once",
        robots=[
            node("SetFieldActivity", FieldValue={"TITLE": "{=Document:TITLE} marked"}),
            node("CrmTimelineCommentAdd", CommentText="Marked by the scenario"),
        ],
    )
    [outcome] = scenarios.scenarios_start(
        scenario=scenario, document_ids=[deal.document_id], user=admin
    )
    return outcome.run


def taken_by_a_worker_that_died(run: ScenarioRun, *, lease_until=None) -> None:
    task = DBTaskResult.objects.get(status="READY")
    task.claim("killed-worker")
    if lease_until is not None:
        ScenarioRun.objects.filter(pk=run.pk).update(owned_until=lease_until, owner="killed")


def assert_ran_once(run: ScenarioRun, deal) -> None:
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert Instance.objects.get().status == InstanceStatus.COMPLETED
    assert run.instance == Instance.objects.get()
    assert Deal.objects.get(pk=deal.pk).title == "Main deal marked"
    comments = TimelineEntry.objects.filter(document_id=deal.document_id, kind="comment")
    assert list(comments.values_list("text", flat=True)) == ["Marked by the scenario"]


def test_a_run_whose_worker_died_is_sent_again_once_overdue_and_ends_having_run_once(
    run, deal
) -> None:
    taken_by_a_worker_that_died(run)
    queued_at = run.sent_at
    # The worker that took the task may yet take the run: it has the lease time to do so.
    assert scenarios.runs_sweep(now=queued_at + LEASE - SECOND) == 0
    # Looked at then; sent again once another grace period has passed.
    assert scenarios.runs_sweep(now=queued_at + LEASE + GRACE - 2 * SECOND) == 0
    assert scenarios.runs_sweep(now=queued_at + LEASE + GRACE) == 1
    assert scenarios.runs_sweep(now=queued_at + LEASE + 3 * GRACE) == 0  # the new task waits

    run_tasks()
    assert_ran_once(run, deal)
    # A late copy of the task, and later sweeps, leave the finished run alone.
    scenarios.scenario_run_execute(run.pk)
    assert scenarios.runs_sweep(now=timezone.now() + 2 * GRACE) == 0
    run_tasks()
    assert_ran_once(run, deal)
    # The record is free for the next run.
    [again] = scenarios.scenarios_start(
        scenario=run.scenario, document_ids=[deal.document_id], user=run.started_by
    )
    assert again.run is not None


def test_a_run_under_a_live_lease_is_not_taken_twice_and_is_taken_over_when_it_expires(
    run, deal
) -> None:
    live = timezone.now() + datetime.timedelta(seconds=60)
    taken_by_a_worker_that_died(run, lease_until=live)

    assert scenarios.runs_sweep(now=run.sent_at + GRACE) == 0
    scenarios.scenario_run_execute(run.pk)  # a second copy of the task meanwhile
    run.refresh_from_db()
    assert (run.status, run.owner, run.owned_until) == (RunStatus.QUEUED, "killed", live)
    assert not Instance.objects.exists()
    assert Deal.objects.get(pk=deal.pk).title == "Main deal"

    expired = timezone.now() - datetime.timedelta(seconds=1)
    ScenarioRun.objects.filter(pk=run.pk).update(owned_until=expired)
    assert scenarios.runs_sweep(now=run.sent_at + GRACE) == 1
    # Sent again: the new task waits its turn, and the run is not sent a third time.
    assert scenarios.runs_sweep(now=run.sent_at + 3 * GRACE) == 0
    run_tasks()
    assert_ran_once(run, deal)
    assert (run.owner, run.owned_until) == ("", None)


def test_a_run_waiting_its_turn_in_a_busy_queue_is_not_sent_again(run, deal) -> None:
    for waited in (1, 2, 10):
        assert scenarios.runs_sweep(now=run.sent_at + waited * GRACE) == 0
        run.refresh_from_db()
    assert DBTaskResult.objects.count() == 1
    run_tasks()
    assert_ran_once(run, deal)


def test_killing_a_runs_process_ends_the_run_so_the_scenario_can_run_again(run, deal, admin):
    scenario = run.scenario
    scenario.template.tree["Children"].insert(
        0, node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h")
    )
    scenario.template.save()
    scenarios.scenario_publish(scenario=scenario, revision=scenario.template.revision, user=admin)
    ScenarioRun.objects.filter(pk=run.pk).delete()
    [outcome] = scenarios.scenarios_start(
        scenario=scenario, document_ids=[deal.document_id], user=admin
    )
    scenarios.scenario_run_execute(outcome.run.pk)  # what the worker's task does
    waiting = ScenarioRun.objects.get(pk=outcome.run.pk)
    assert waiting.status == RunStatus.EXECUTING

    runtime.instance_kill(instance=waiting.instance)
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.TERMINATED and waiting.finished_at is not None
    [again] = scenarios.scenarios_start(
        scenario=scenario, document_ids=[deal.document_id], user=admin
    )
    assert again.run is not None, again.message


def test_a_run_whose_start_crashes_every_worker_ends_as_a_fault(run, deal, monkeypatch) -> None:
    def crash(**kwargs):
        raise RuntimeError("the worker's process died here")

    monkeypatch.setattr(runtime, "workflow_start", crash)
    for _attempt in range(5):
        with pytest.raises(RuntimeError):
            scenarios.scenario_run_execute(run.pk)
        run.refresh_from_db()
        assert run.status == RunStatus.QUEUED  # its lease expires; the sweeper sends it again
        ScenarioRun.objects.filter(pk=run.pk).update(owned_until=timezone.now() - SECOND)

    scenarios.scenario_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAULT
    assert run.error == "The scenario could not be started: its start failed 5 times."
    assert not Instance.objects.exists()
    assert Deal.objects.get(pk=deal.pk).title == "Main deal"
    # Ended, it is never sent again, and the record is free for the next run.
    assert scenarios.runs_sweep(now=timezone.now() + 10 * GRACE) == 0
    monkeypatch.undo()
    [again] = scenarios.scenarios_start(
        scenario=run.scenario, document_ids=[deal.document_id], user=run.started_by
    )
    assert again.run is not None
