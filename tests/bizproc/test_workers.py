"""Real worker processes on PostgreSQL: many pausing instances, workers killed mid-step, and
workers killed again and again while they execute smart scenario runs.

Each test starts ``manage.py bizproc_worker`` processes (django-tasks-db's ``db_worker`` plus the
sweeper) against the test database, and checks every instance's exact journal afterwards.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

import tests.bizproc.barrier  # noqa: F401  (registers the barrier activity here too)
from bizproc import scenarios
from bizproc.models import UNFINISHED_RUN, Instance, InstanceStatus, RunStatus, ScenarioRun
from bizproc.runtime import workflow_start
from crm.documents import DOCUMENT_TYPES
from crm.models import Deal, TimelineEntry
from tests.bizproc.builders import field, node, published, rows
from tests.crm.factories import DealFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
EXECUTE, CLOSE, REPORT = 1, 2, 6


def worker_env(tmp_path: Path) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "VAR_DIR": str(tmp_path / "var"),
        "BIZPROC_ACTIVITY_MODULES": "tests.bizproc.barrier",
        "BARRIER_DIR": str(tmp_path),
        "BIZPROC_LEASE_SECONDS": "3",
        "BIZPROC_SWEEP_INTERVAL_SECONDS": "1",
        "BIZPROC_SWEEP_GRACE_SECONDS": "2",
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "bizproc_worker",
            "--queue-name",
            "*",
            "--interval",
            "0.1",
            "--no-startup-delay",
            "--no-reload",
            "-v",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}")
        time.sleep(0.1)


def all_finished() -> bool:
    connection.close()  # a fresh snapshot each time
    return not Instance.objects.unfinished().exists()


def stop(*workers: subprocess.Popen) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


def expected_rows(*middle: tuple) -> list[tuple]:
    root = "Sequential business process"
    return [(EXECUTE, root, ""), *middle, (CLOSE, root, "")]


def test_two_workers_complete_200_pausing_instances_with_each_row_once(tmp_path) -> None:
    user = UserFactory(is_crm_admin=True)
    template = published(
        node("LogActivity", Text="start {=Template:Pause}", Title="Start"),
        node(
            "DelayActivity",
            TimeoutDuration="{=Template:Pause}",
            TimeoutDurationType="s",
            Title="Pause",
        ),
        node("LogActivity", Text="end", Title="End"),
        user=user,
        parameters={"Pause": field("int", "Pause", required=True)},
    )
    instances = []
    for number in range(200):
        deal = DealFactory(assigned_by=user)
        instances.append(
            workflow_start(
                template=template,
                document_id=deal.document_id,
                user=user,
                parameters={"Pause": 1 + number % 3},
            )
        )
    assert Instance.objects.filter(status=InstanceStatus.RUNNING).count() == 200

    env = worker_env(tmp_path)
    workers = [start_worker(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        wait_for(all_finished, 120, "200 instances to complete")
    finally:
        stop(*workers)

    for number, instance in enumerate(instances):
        instance.refresh_from_db()
        assert instance.status == InstanceStatus.COMPLETED
        assert rows(instance) == expected_rows(
            (EXECUTE, "Start", ""),
            (REPORT, "Start", f"start {1 + number % 3}"),
            (CLOSE, "Start", ""),
            (EXECUTE, "Pause", ""),
            (CLOSE, "Pause", ""),
            (EXECUTE, "End", ""),
            (REPORT, "End", "end"),
            (CLOSE, "End", ""),
        )


def barrier_template(user):
    return published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s", Title="Pause"),
        node("BarrierTestActivity", Title="Barrier"),
        node("LogActivity", Text="after", Title="After"),
        user=user,
    )


BARRIER_ROWS = expected_rows(
    (EXECUTE, "Pause", ""),
    (CLOSE, "Pause", ""),
    (EXECUTE, "Barrier", ""),
    (CLOSE, "Barrier", ""),
    (EXECUTE, "After", ""),
    (REPORT, "After", "after"),
    (CLOSE, "After", ""),
)


def test_a_worker_killed_in_the_middle_of_a_step_loses_nothing_and_repeats_nothing(
    tmp_path,
) -> None:
    user = UserFactory(is_crm_admin=True)
    template = barrier_template(user)
    instances = [
        workflow_start(
            template=template, document_id=DealFactory(assigned_by=user).document_id, user=user
        )
        for _ in range(5)
    ]
    gate = tmp_path / "gate"
    gate.touch()
    env = worker_env(tmp_path)
    first = start_worker(env, tmp_path / "first.log")
    try:
        wait_for(lambda: any(tmp_path.glob("*.entered")), 30, "a step to reach the barrier")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    killed_in = next(tmp_path.glob("*.entered")).name.removesuffix(".entered")
    gate.unlink()

    second = start_worker(env, tmp_path / "second.log")
    try:
        wait_for(all_finished, 60, "every instance to complete after the restart")
    finally:
        stop(second)

    for instance in instances:
        instance.refresh_from_db()
        assert instance.status == InstanceStatus.COMPLETED
        assert instance.owned_until is None
        assert rows(instance) == BARRIER_ROWS
    # The killed step really ran twice: once in the killed worker, once after the restart.
    entries = (tmp_path / f"{killed_in}.entered").read_text().split()
    assert len(entries) == 2 and entries[0] != entries[1]


def test_a_worker_killed_while_instances_sleep_loses_nothing(tmp_path) -> None:
    user = UserFactory(is_crm_admin=True)
    sleeper = published(
        node("DelayActivity", TimeoutDuration="4", TimeoutDurationType="s", Title="Pause"),
        node("LogActivity", Text="after", Title="After"),
        user=user,
    )
    probe_template = published(
        node("DelayActivity", TimeoutDuration="0.2", TimeoutDurationType="s"), user=user
    )
    instances = [
        workflow_start(
            template=sleeper, document_id=DealFactory(assigned_by=user).document_id, user=user
        )
        for _ in range(10)
    ]
    probe = workflow_start(
        template=probe_template, document_id=DealFactory(assigned_by=user).document_id, user=user
    )
    env = worker_env(tmp_path)
    first = start_worker(env, tmp_path / "first.log")
    try:
        # The worker is up and working once it has finished the probe; the others still sleep.
        wait_for(lambda: Instance.objects.get(pk=probe.pk).is_finished, 30, "the probe to finish")
        assert Instance.objects.unfinished().count() == 10
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    assert Instance.objects.unfinished().count() == 10

    second = start_worker(env, tmp_path / "second.log")
    try:
        wait_for(all_finished, 60, "every instance to complete after the restart")
    finally:
        stop(second)
    for instance in instances:
        instance.refresh_from_db()
        assert instance.status == InstanceStatus.COMPLETED
        assert rows(instance) == expected_rows(
            (EXECUTE, "Pause", ""),
            (CLOSE, "Pause", ""),
            (EXECUTE, "After", ""),
            (REPORT, "After", "after"),
            (CLOSE, "After", ""),
        )


RUNS = 300
FINISHED_RUNS_BETWEEN_KILLS = 20
# No run finishing for this long means runs were lost (a killed worker's run is sent again
# within lease + grace + sweep interval, 6 s in these workers).
STALLED_SECONDS = 60


def test_workers_killed_again_and_again_lose_no_scenario_run_and_run_none_twice(
    tmp_path,
) -> None:
    admin = UserFactory(is_crm_admin=True)
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Mark once",
        robots=[
            node("SetFieldActivity", FieldValue={"TITLE": "{=Document:TITLE} marked"}),
            node("CrmTimelineCommentAdd", CommentText="Marked by the scenario"),
        ],
    )
    deals = [DealFactory(assigned_by=admin, title=f"Deal {n}") for n in range(RUNS)]
    outcomes = scenarios.scenarios_start(
        scenario=scenario, document_ids=[deal.document_id for deal in deals], user=admin
    )
    assert all(outcome.run for outcome in outcomes)

    def finished() -> int:
        connection.close()  # a fresh snapshot each time
        return ScenarioRun.objects.exclude(status__in=UNFINISHED_RUN).count()

    env = worker_env(tmp_path)
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    workers = [start_worker(env, log) for log in logs]
    kills, next_kill, began = 0, FINISHED_RUNS_BETWEEN_KILLS, time.monotonic()
    progressed, last_done = began, 0
    try:
        while (done := finished()) < RUNS:
            if done > last_done:
                progressed, last_done = time.monotonic(), done
            elif time.monotonic() - progressed > STALLED_SECONDS:
                raise AssertionError(f"{RUNS - done} of {RUNS} scenario runs never finished")
            if done >= next_kill and done < RUNS - FINISHED_RUNS_BETWEEN_KILLS:
                victim = kills % 2
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait(timeout=10)
                workers[victim] = start_worker(env, logs[victim])
                kills, next_kill = kills + 1, done + FINISHED_RUNS_BETWEEN_KILLS
            time.sleep(0.1)
    finally:
        stop(*workers)
    duration = time.monotonic() - began

    tasks = DBTaskResult.objects.filter(task_path__endswith="scenario_run_execute")
    # Tasks a killed worker had taken and never finished: the kills hit runs in flight.
    interrupted = tasks.filter(status="RUNNING").count()
    print(
        f"{RUNS} runs, {kills} kills, {interrupted} tasks killed in flight,"
        f" {tasks.count()} tasks, {duration:.1f} s"
    )
    assert kills >= 10 and interrupted >= 1
    assert set(ScenarioRun.objects.values_list("status", flat=True)) == {RunStatus.COMPLETED}
    assert Instance.objects.count() == RUNS
    assert set(Instance.objects.values_list("status", flat=True)) == {InstanceStatus.COMPLETED}
    assert ScenarioRun.objects.filter(instance__isnull=True).count() == 0
    titles = dict(Deal.objects.values_list("pk", "title"))
    assert titles == {deal.pk: f"{deal.title} marked" for deal in deals}
    comments = TimelineEntry.objects.filter(kind="comment", text="Marked by the scenario")
    assert sorted(comments.values_list("document_id", flat=True)) == sorted(
        deal.document_id for deal in deals
    )
