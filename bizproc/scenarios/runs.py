"""Running smart scenarios on records: queued first, executed by the task worker.

A run is queued first (``ScenarioRun``, status Queued) and executed by the task worker, which
starts the scenario's robots template — the version the run was queued with — on the record,
as the user who started the run (``TargetUser``). A partial unique constraint allows one
unfinished run per scenario and record. A worker holds a lease on the run while it starts it,
and the sweeper sends again a run whose task was lost or whose worker died, as it does for
processes.
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskException
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from bizproc import journal, runtime
from bizproc import parameters as start_parameters
from bizproc import values as encoded
from bizproc.activities.base import is_empty
from bizproc.documents import DocumentError, Operation, document_providers
from bizproc.models import (
    UNFINISHED_RUN,
    Instance,
    RunStatus,
    Scenario,
    ScenarioRun,
)
from bizproc.scenarios.editing import ScenarioRefused
from bizproc.schemas import schema_fields


def typed_parameters(schema: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """A run's parameters, in Bitrix's wording for a scenario's; others are ignored."""
    return start_parameters.convert(
        schema, raw, required_message=_("The required parameter is empty: %(name)s.")
    )


def scenario_may_run(*, user: Any, scenario: Scenario, document_id: str) -> bool:
    """Running a scenario on a record needs the "start processes" right on that record."""
    provider = document_providers.get(scenario.module)
    return provider.can(user, Operation.START_PROCESS, document_id=document_id)


@dataclass
class StartOutcome:
    document_id: str
    run: ScenarioRun | None
    message: str = ""


def scenarios_start(
    *,
    scenario: Scenario,
    document_ids: Iterable[Any],
    user: Any,
    parameters: Mapping[str, Any] | None = None,
) -> list[StartOutcome]:
    """Queues a run per record (from a card, a list or REST). Refuses the whole request for a
    deactivated scenario, no records, a record the user may not run it on, no parameters at all
    where some are required and have no default, or bad parameters;
    a record that has an unfinished run of this scenario is reported and skipped."""
    if not scenario.active:
        raise ScenarioRefused(_("Cannot run the smart scenario because it is deactivated."))
    provider = document_providers.get(scenario.module)
    normalized = []
    for raw in document_ids:
        try:
            document_id = provider.normalize_id(raw, document_type=scenario.document_type_triple)
        except DocumentError as error:
            raise ScenarioRefused(error.message) from None
        if document_id not in normalized:
            normalized.append(document_id)
    if not normalized:
        raise ScenarioRefused(_("No items were selected."))
    for document_id in normalized:
        if not scenario_may_run(user=user, scenario=scenario, document_id=document_id):
            raise ScenarioRefused(
                _("Insufficient permission to run smart scenario."), forbidden=True
            )
    version = scenario.template.versions.latest("number")  # saving a scenario publishes it
    if not parameters and any(
        field.required and is_empty(version.parameters[code].get("Default"))
        for code, field in schema_fields(version.parameters).items()
    ):
        raise ScenarioRefused(_("Smart scenario parameters are missing."))
    try:
        typed = typed_parameters(version.parameters, parameters or {})
    except start_parameters.ParametersRefused as refused:
        raise ScenarioRefused(refused.message, refused.errors) from None
    outcomes = []
    with transaction.atomic():
        for document_id in normalized:
            run = run_queue(
                scenario=scenario,
                version=version,
                document_id=document_id,
                user=user,
                parameters=typed,
            )
            outcomes.append(
                StartOutcome(
                    document_id,
                    run,
                    ""
                    if run
                    else _("This smart scenario is still running. You cannot start it again."),
                )
            )
    return outcomes


def run_queue(
    *,
    scenario: Scenario,
    version: Any,
    document_id: str,
    user: Any,
    parameters: Mapping[str, Any],
    caller: Instance | None = None,
    caller_activity: str = "",
) -> ScenarioRun | None:
    """A queued run, or None when the record has an unfinished run of this scenario.

    The partial unique constraint decides under concurrency: the insert is in a savepoint.
    """
    if ScenarioRun.objects.filter(
        scenario=scenario, document_id=document_id, status__in=UNFINISHED_RUN
    ).exists():
        return None
    try:
        with transaction.atomic():
            run = ScenarioRun.objects.create(
                scenario=scenario,
                version=version,
                document_id=document_id,
                started_by=user,
                parameters=encoded.encode(dict(parameters)),
                caller=caller,
                caller_activity=caller_activity,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue(run.pk), robust=True)
    return run


def _enqueue(run_id: int) -> None:
    """Sends the run to the task queue and notes its task, by which the sweeper tells a run
    waiting its turn in a busy queue from one whose task was lost."""
    from bizproc.tasks import scenario_run_execute

    task_id = scenario_run_execute.enqueue(run_id).id
    with transaction.atomic():
        # A run a worker is starting right now is locked: no need to wait for it.
        waiting = ScenarioRun.objects.select_for_update(skip_locked=True).filter(
            pk=run_id, status=RunStatus.QUEUED
        )
        ScenarioRun.objects.filter(pk__in=list(waiting.values_list("pk", flat=True))).update(
            task_id=task_id
        )


def _task_pending(task_id: str, *, taken_since: datetime.datetime) -> bool:
    """Whether the run's task still waits in the queue, or a worker took it so recently that
    it may yet take the run (False when the task is unknown or finished, or the backend cannot
    tell)."""
    from bizproc.tasks import scenario_run_execute

    if not task_id:
        return False
    try:
        result = scenario_run_execute.get_result(task_id)
    except (TaskException, NotImplementedError):
        return False
    if result.status == TaskResultStatus.RUNNING:
        return result.started_at is not None and result.started_at > taken_since
    return result.status == TaskResultStatus.READY


def scenario_run_execute(run_id: int, *, worker_id: str = "") -> None:
    """The task: starts the run's process (its version, as its starter) on the record.

    Safe to run again (the sweeper may send a run twice). The lease is taken in its own
    committed transaction first, as ``runtime.instance_step`` does: a run another worker holds
    under a live lease, or one already started, is left alone; if this worker dies, the run's
    own transaction rolls back, the run stays Queued and its expired lease lets the sweeper
    send it again. The run leaves Queued in the transaction that creates its process, so the
    process starts once.
    """
    now = timezone.now()
    lease = datetime.timedelta(seconds=runtime.setting("LEASE_SECONDS", 60))
    worker_id = (worker_id or get_random_string(12))[:64]
    claimed = (
        ScenarioRun.objects.filter(pk=run_id, status=RunStatus.QUEUED)
        .filter(Q(owned_until__isnull=True) | Q(owned_until__lt=now))
        .update(owned_until=now + lease, owner=worker_id, attempts=F("attempts") + 1)
    )
    if not claimed:
        return
    with transaction.atomic():
        run = (
            ScenarioRun.objects.select_for_update(of=("self",))
            .select_related("scenario__template", "version", "started_by")
            .filter(pk=run_id, status=RunStatus.QUEUED, owner=worker_id)
            .first()
        )
        if run is None:
            return
        max_attempts = runtime.setting("RUN_MAX_ATTEMPTS", 5)
        if run.attempts > max_attempts:
            # Every earlier worker died or crashed starting it: trying again would too.
            run.status = RunStatus.FAULT
            run.error = _(
                "The scenario could not be started: its start failed %(count)d times."
            ) % {"count": run.attempts - 1}
            run.finished_at = timezone.now()
            run.owned_until, run.owner = None, ""
            run.save()
            journal.announce(document_id=run.document_id, run_id=run.pk)
            return
        run.status = RunStatus.EXECUTING
        run.owned_until, run.owner = None, ""
        run.save(update_fields=["status", "owned_until", "owner"])
        try:
            runtime.workflow_start(
                template=run.scenario.template,
                version=run.version,
                document_id=run.document_id,
                user=run.started_by,
                parameters=encoded.decode(run.parameters),
                check_rights=False,
                scenario_run=run,
            )
        except runtime.ProcessRefused as refused:
            run.status = RunStatus.FAULT
            run.error = refused.message
            run.finished_at = timezone.now()
            run.save()
            journal.announce(document_id=run.document_id, run_id=run.pk)


def runs_sweep(*, now: datetime.datetime | None = None) -> int:
    """Sends queued runs to the task queue again when their worker died (the lease expired)
    or their task was lost (neither waiting in the queue nor just taken, yet no worker took the
    run within the grace period). Each run is looked at once per grace period at most; a run a
    worker is starting right now is locked and left alone. Returns how many were sent again."""
    now = now or timezone.now()
    grace = datetime.timedelta(seconds=runtime.setting("SWEEP_GRACE_SECONDS", 30))
    lease = datetime.timedelta(seconds=runtime.setting("LEASE_SECONDS", 60))
    overdue = ScenarioRun.objects.filter(status=RunStatus.QUEUED, sent_at__lte=now - grace).filter(
        Q(owned_until__isnull=True) | Q(owned_until__lt=now)
    )
    # Asking the task queue takes time: done before any row is locked.
    looked_at = list(overdue.values_list("pk", "owned_until", "task_id")[:1000])
    lost = {
        run_id
        for run_id, owned_until, task_id in looked_at
        if owned_until is not None or not _task_pending(task_id, taken_since=now - lease)
    }
    with transaction.atomic():
        # Runs a worker took meanwhile are locked, or no longer overdue: they are left out.
        free = set(
            overdue.select_for_update(skip_locked=True)
            .filter(pk__in=[run_id for run_id, *_rest in looked_at])
            .values_list("pk", flat=True)
        )
        ScenarioRun.objects.filter(pk__in=free).update(sent_at=now)
        resend = sorted(free & lost)
        # The dead worker's lease goes: from now on the new task tells whether the run waits.
        ScenarioRun.objects.filter(pk__in=resend).update(owned_until=None, owner="")
        for run_id in resend:
            # Sent while the run stays locked: no worker takes it before this commits.
            _enqueue(run_id)
    return len(resend)
