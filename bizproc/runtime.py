"""Running processes: start, step, wake, terminate, kill.

An instance's execution state is a queue of events and each block's status, kept in its row.
A step takes the row (``select_for_update``) and processes events until none is left: blocks
execute, close, wait (a timer, a child process) or fault. Everything a step does inside our
database — document writes, journal rows, the new state — commits together, so a step happens
exactly once or not at all. Starting a process runs its first step at once in the caller's
transaction; wake-ups go through ``django.tasks`` (enqueued on commit, ``run_after`` for
timers), and a sweeper re-enqueues whatever is overdue or whose step's lease expired.
"""

import datetime
import logging
import zoneinfo
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from bizproc import parameters as start_parameters
from bizproc import values as encoded
from bizproc.activities import activities
from bizproc.activities.base import Activity, ActivityFault, Status, TerminateProcess
from bizproc.budget import Deadline, StepTimeExceeded, step_deadline
from bizproc.calendars import calendar_get
from bizproc.documents import (
    DocumentError,
    DocumentProvider,
    DocumentType,
    Operation,
    document_providers,
)
from bizproc.expressions import Environment, ExpressionError, display_text, evaluate, system_values
from bizproc.fieldtypes import Field, FieldValueError
from bizproc.globals import GlobalRefused, global_variables_write, globals_schema, globals_values
from bizproc.journal import Journal, announce
from bizproc.models import (
    UNFINISHED_RUN,
    GlobalKind,
    Instance,
    InstanceStatus,
    ProcessTask,
    RunStatus,
    ScenarioRun,
    TaskStatus,
    Template,
    TemplateVersion,
)
from bizproc.people import person_info
from bizproc.schemas import schema_fields
from bizproc.scope import reference_check
from bizproc.state import Event, EventKind, ExecutionState, Wait
from bizproc.tree import Node, walk_with_parents
from bizproc.user_values import users_resolve

logger = logging.getLogger(__name__)

JOURNAL_BATCH = 1000  # rows a long step writes at a time, within its time budget


def setting(name: str, default: Any) -> Any:
    return getattr(settings, f"BIZPROC_{name}", default)


class ProcessRefused(Exception):
    """A start or an action refused; ``message`` is in the active language. Nothing changed."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


class StartForbidden(ProcessRefused):
    """The user may not start processes on the document (the document exists)."""


class Runner:
    """One step of one instance: the loop over its queued events, the named transitions that
    change its status (``_complete``, ``_fault``, ``_stop``, ``_terminate``), and the
    ``bizproc.activities.context.Context`` blocks run in."""

    def __init__(
        self,
        instance: Instance,
        version: TemplateVersion,
        *,
        document: Mapping[str, Any] | None = None,
    ) -> None:
        """``document``: the document's values, when the caller has just read them in the
        step's transaction."""
        self.instance = instance
        self.version = version
        self.state = ExecutionState.from_json(instance.state)
        self.nodes: dict[str, tuple[Node, Node | None]] = {
            node["Name"]: (node, parent) for node, parent in walk_with_parents(version.tree)
        }
        self.provider: DocumentProvider = document_providers.get(instance.module)
        self.journal = Journal(instance, instance.started_by_id)
        self.variables: dict[str, Any] = encoded.decode(instance.variables)
        self.parameters: dict[str, Any] = encoded.decode(instance.parameters)
        self.constants = _schema_defaults(version.constants)
        self.variable_fields = schema_fields(version.variables)
        self.results: dict[str, dict[str, Any]] = encoded.decode(self.state.results)
        self.now = timezone.now()
        self._document: Mapping[str, Any] | None = document
        self.scenario_launches = 0
        self._document_fields: dict[str, Field] | None = None
        self._globals: dict[str, dict[str, Any]] = {}
        self.events = 0
        self.deadline: Deadline | None = None
        self.block = ""  # the block whose event the step handles (or handled last)

    # ---- what blocks use -------------------------------------------------------------------
    @property
    def starter_id(self) -> int | None:
        return self.instance.started_by_id

    def evaluate(self, value: Any) -> Any:
        """A property's value; a list (Bitrix's multiple values) is evaluated item by item."""
        if isinstance(value, list):
            items = [self.evaluate(item) for item in value]
            return [v for item in items for v in (item if isinstance(item, list) else [item])]
        try:
            return evaluate(
                value, _Scope(self), check=self.deadline.check if self.deadline else None
            )
        except ExpressionError as error:
            raise ActivityFault(str(error)) from None

    def environment(self) -> Environment:
        """The clock, the working calendar and people, as formula functions see them."""
        return _Scope(self).environment()

    def document(self) -> Mapping[str, Any]:
        if self._document is None:
            try:
                self._document = self.provider.read(self.instance.document_id)
            except DocumentError as error:
                raise ActivityFault(error.message) from None
        return self._document

    def globals(self, kind: GlobalKind) -> dict[str, Any]:
        """The typed global constants or variables the process sees, read once per step
        (a variable set by this step is updated here by ``global_variables_set``)."""
        if kind not in self._globals:
            self._globals[kind] = globals_values(kind=kind, document_type=self.document_type)
        return self._globals[kind]

    def global_fields(self, kind: GlobalKind) -> dict[str, Field]:
        return schema_fields(globals_schema(kind=kind, document_type=self.document_type))

    def global_variables_set(self, values: Mapping[str, Any]) -> None:
        """Writes global variables in the step's transaction (Set global variable)."""
        try:
            written = global_variables_write(
                document_type=self.document_type, values=values, user=self.instance.started_by
            )
        except GlobalRefused as error:
            raise ActivityFault(error.message) from None
        self.globals(GlobalKind.VARIABLE).update(written)

    @property
    def document_type(self) -> DocumentType:
        return self.provider.document_type_of(self.instance.document_id)

    def document_fields(self) -> dict[str, Field]:
        if self._document_fields is None:
            document_type = self.provider.document_type_of(self.instance.document_id)
            self._document_fields = {f.code: f for f in self.provider.fields(document_type)}
        return self._document_fields

    def document_write(self, values: Mapping[str, Any]) -> None:
        try:
            # The values the step holds let the provider save without reading them again.
            self._document = self.provider.write(
                self.instance.document_id, values, user_id=self.starter_id, current=self._document
            )
        except DocumentError as error:
            self._document = None
            raise ActivityFault(error.message) from None

    def set_variable(self, name: str, value: Any) -> None:
        target = next(
            (f for code, f in self.variable_fields.items() if code.lower() == name.lower()), None
        )
        if target is None:
            raise ActivityFault(_("Unknown variable: %(name)s") % {"name": name})
        try:
            self.variables[target.code] = target.convert(value)
        except FieldValueError as error:
            raise ActivityFault(error.message) from None

    @property
    def loop_limit(self) -> int:
        return setting("LOOP_LIMIT", 10_000)

    def lookup_any(self, objects: list[str], field: str) -> Any:
        """A condition's left side: the first of ``objects`` that has ``field``."""
        scope = _Scope(self)
        for obj in objects:
            try:
                return scope.lookup(obj, field)
            except LookupError:
                continue
        raise ActivityFault(
            _("The condition refers to an unknown field: %(field)s") % {"field": field}
        )

    def start_child(
        self,
        *,
        template_id: Any,
        document_id: Any,
        parameters: Mapping[str, Any],
        activity_name: str,
    ) -> Instance:
        template_pk = _int_or_none(template_id)
        template = Template.objects.filter(pk=template_pk).first() if template_pk else None
        if template is None:
            raise ActivityFault(_("Template not found"))
        # A template an expression chose must be one the publisher could have chosen.
        reference_check(version=self.version, document_type=template.document_type_triple)
        starter_id = self.starter_id
        user = get_user_model().objects.filter(pk=starter_id).first() if starter_id else None
        self.state.children = True
        self.persist()
        try:
            return workflow_start(
                template=template,
                document_id=document_id,
                user=user,
                parameters=parameters,
                check_rights=False,
                parent=self.instance,
                parent_activity=activity_name,
            )
        except ProcessRefused as refused:
            raise ActivityFault(refused.message) from None
        finally:
            # The child ran in this transaction and may have written the document.
            self._document = None

    def persist(self) -> None:
        """Inserts a new instance's row now (before something that points at it)."""
        if self.instance._state.adding:
            self.instance.state = self.state.to_json()
            self.instance.save()

    def set_result(self, name: str, result: str, value: Any) -> None:
        self.results.setdefault(name, {})[result] = value

    def set_state_title(self, title: str) -> None:
        self.instance.state_title = str(title)[:255]

    def data(self, name: str) -> dict[str, Any]:
        """A block's own run-time data (loop counters, pending branches …)."""
        return self.state.data.setdefault(name, {})

    def schedule(self, name: str) -> None:
        self.state.queue.append(Event(EventKind.EXECUTE, name))

    def reset(self, node: Node) -> None:
        """Forgets what the blocks under ``node`` did, for another turn of a loop."""
        for child, _parent in walk_with_parents(node):
            if child is not node:
                self.state.data.pop(child["Name"], None)
                self.state.waits.pop(child["Name"], None)

    def wait_until(self, name: str, moment: datetime.datetime) -> None:
        self.state.waits[name] = Wait(until=moment)

    def wait_for_child(self, name: str, child_id: str) -> None:
        self.state.waits[name] = Wait(child=child_id)

    def wait_for_task(
        self, name: str, task_id: int, *, until: datetime.datetime | None = None
    ) -> None:
        """Waits for the task to be settled (``task_settled``), or until ``until`` at most."""
        self.state.waits[name] = Wait(task=task_id, until=until)
        self.state.tasks = True

    # ---- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        with step_deadline(setting("STEP_TIME_LIMIT_SECONDS", 10)) as deadline:
            self.deadline = deadline
            self._process_queue(deadline)
        self._finish_step()

    def _process_queue(self, deadline: Deadline) -> None:
        queue = self.state.queue
        budget = setting("STEP_EVENT_LIMIT", 100_000)
        while queue and self.instance.status == InstanceStatus.RUNNING:
            event = queue.pop(0)
            name = self.block = event.block
            self.events += 1
            if self.events > budget:
                self._fault(name, _("The process did too much in one step and was stopped."))
                break
            try:
                deadline.check()
                self._handle(event)
            except StepTimeExceeded as exceeded:
                self._stop(name, _out_of_time(exceeded.seconds))
            except ActivityFault as fault:
                self._fault(name, fault.message)
            except ExpressionError as error:  # a value too long to show, say
                self._fault(name, str(error))
            except TerminateProcess as terminate:
                self._terminate(terminate.state_title or pgettext("process", "Terminated"))
            except Exception as error:  # a bug must not lose the process: it faults, logged
                if transaction.get_connection().needs_rollback:
                    raise  # the block left the transaction to be rolled back: so is the step
                logger.exception("Block %s of process %s failed", name, self.instance.pk)
                self._fault(name, _("An unexpected error stopped the process."))
                self.instance.error = repr(error)
            if len(self.journal.rows) >= JOURNAL_BATCH:
                self.persist()  # the rows point at the instance
                self.journal.write()

    def _handle(self, event: Event) -> None:
        name = event.block
        node, parent = self.nodes[name]
        activity = activities.for_node(node)
        match event.kind:
            case EventKind.EXECUTE:
                self.journal.execute(name, activity.display_title)
                status = activity.execute(self)
            case EventKind.CHILD_CLOSED:
                status = activity.on_child_closed(self, event.child)
            case EventKind.RESUME:
                self.state.waits.pop(name, None)
                status = activity.resume(self)
        if status == Status.CLOSED:
            self._closed(name, activity, parent)

    def _closed(self, name: str, activity: Activity, parent: Node | None) -> None:
        self.journal.close(name, activity.display_title)
        if parent is None:
            self._complete()
        else:
            self.state.queue.append(Event(EventKind.CHILD_CLOSED, parent["Name"], name))

    def _complete(self) -> None:
        self.instance.status = InstanceStatus.COMPLETED
        self.instance.finished_at = self.now
        if not self.instance.state_title:
            self.instance.state_title = pgettext("process", "Completed")

    def _fault(self, name: str, message: str) -> None:
        node = self.nodes.get(name, (None, None))[0]
        title = activities.for_node(node).display_title if node else name
        self.journal.fault(name, title, message)
        self.instance.error = message
        self._terminate(pgettext("process", "Terminated"))

    def _stop(self, name: str, message: str) -> None:
        """Stops the process over one of its budgets as a loop over its iteration budget
        stops: an Error row, then Terminated."""
        node = self.nodes.get(name, (None, None))[0]
        title = activities.for_node(node).display_title if node else ""
        self.journal.error(name, title, message)
        self._terminate(pgettext("process", "Terminated"))

    def _terminate(self, state_title: str) -> None:
        self.instance.status = InstanceStatus.TERMINATED
        self.instance.state_title = str(state_title)[:255]
        self.instance.finished_at = self.now
        self.state.queue = []

    def _finish_step(self) -> None:
        instance = self.instance
        variables, results = encoded.encode(self.variables), encoded.encode(self.results)
        limit = setting("STATE_LIMIT_BYTES", 1_048_576)
        state = {**self.state.to_json(), "results": results}
        if limit and _stored_size(instance.parameters, variables, state, limit=limit) > limit:
            # The row keeps the variables and results it had before this step.
            self._stop(self.block, _state_too_large(limit))
        else:
            self.state.results = results
            instance.variables = variables
        instance.owned_until = None
        instance.owner = ""
        if instance.is_finished:
            instance.wake_at = None
            self.state.waits = {}
        else:
            instance.wake_at = self.state.next_wake()
        instance.state = self.state.to_json()
        if instance._state.adding:
            # Its first step: the row goes in with the step's journal rows.
            self.journal.flush(insert_instance=True)
        else:
            instance.save()
            self.journal.flush()
        if instance.wake_at is not None:
            instance_enqueue(instance.pk, run_after=instance.wake_at)
        if instance.is_finished and instance.parent_id:
            _notify_parent(instance)
        if instance.is_finished and self.state.run:
            run_sync(instance)
        if instance.is_finished and self.state.tasks:
            tasks_cancel(instance_id=instance.pk)
        if instance.is_finished and self.state.children:
            for child in Instance.objects.filter(parent=instance).unfinished():
                instance_terminate(instance=child, user=None)


def _out_of_time(seconds: float) -> str:
    return ngettext(
        "The step took longer than %(limit)d second and was stopped.",
        "The step took longer than %(limit)d seconds and was stopped.",
        int(seconds),
    ) % {"limit": seconds}


def _state_too_large(limit: int) -> str:
    return _(
        "The process's variables and state would take more than %(limit)s, so the process "
        "was stopped; its variables keep the values they had before this step."
    ) % {"limit": filesizeformat(limit)}


def _stored_size(*parts: Any, limit: int) -> int:
    """Bytes the instance's row takes to store ``parts``, counted up to just past ``limit``."""
    size = 0
    for part in parts:
        size += encoded.stored_size(part, limit=limit - size)
        if size > limit:
            break
    return size


class _Scope:
    """Expression values of a running instance (``{=Document:TITLE}``, ``{=Variable:X}`` …)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def _pool(self, obj: str) -> Mapping[str, Any] | None:
        runner = self.runner
        match obj.lower():
            case "document":
                return runner.document()
            case "template":
                return {**runner.parameters, "TargetUser": _user_value(runner.starter_id)}
            case "variable":
                return runner.variables
            case "constant":
                return runner.constants
            case "workflow":
                return {"ID": runner.instance.pk}
            case "user":
                return {"ID": _user_value(runner.starter_id)}
            case "system":
                return system_values(runner.now)
            case "globalconst":
                return runner.globals(GlobalKind.CONSTANT)
            case "globalvar":
                return runner.globals(GlobalKind.VARIABLE)
        for name, results in runner.results.items():
            if name.lower() == obj.lower():
                return results
        return None

    def lookup(self, obj: str, field: str) -> Any:
        pool = self._pool(obj)
        if pool is not None:
            wanted = field.lower()
            for key in pool:
                if key.lower() == wanted:
                    return pool[key]
            if obj.lower() in ("document", "globalconst", "globalvar"):
                # A field the document lacks or a global not defined here (a template's
                # warning): empty, as in Bitrix.
                return None
        raise LookupError(f"{obj}:{field}")

    def environment(self) -> Environment:
        provider, document_id = self.runner.provider, self.runner.instance.document_id
        return Environment(
            now=lambda: self.runner.now,
            calendar=calendar_get,
            user_zone=lambda value: user_zone(users_resolve(self.runner, value, evaluated=True)),
            user_info=person_info,
            document_url=lambda: provider.url(document_id) or None,
            document_title=lambda: provider.title(document_id),
        )

    def printable(self, obj: str, field: str, value: Any) -> str:
        schemas = {
            "document": self.runner.document_fields,
            "template": lambda: schema_fields(self.runner.version.parameters),
            "variable": lambda: self.runner.variable_fields,
            "constant": lambda: schema_fields(self.runner.version.constants),
            "globalconst": lambda: self.runner.global_fields(GlobalKind.CONSTANT),
            "globalvar": lambda: self.runner.global_fields(GlobalKind.VARIABLE),
        }
        if obj.lower() in schemas:
            found = next(
                (f for code, f in schemas[obj.lower()]().items() if code.lower() == field.lower()),
                None,
            )
            if found is not None and obj.lower() == "document" and value not in (None, "", []):
                document_type = self.runner.provider.document_type_of(
                    self.runner.instance.document_id
                )
                shown = self.runner.provider.printable(document_type, found.code, value)
                if shown is not None:
                    return shown
            if found is not None and found.options:
                items = value if isinstance(value, list) else [value]
                return ", ".join(
                    str(found.options.get(str(item), item))
                    for item in items
                    if item not in (None, "")
                )
        return user_names(value) if _looks_like_users(value) else display_text(value)


def _looks_like_users(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(isinstance(item, str) and item.startswith("user_") for item in items)


def user_names(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    ids = [int(item[5:]) for item in items if str(item)[5:].isdigit()]
    names = {user.pk: user.get_full_name() for user in get_user_model().objects.filter(pk__in=ids)}
    return ", ".join(names.get(pk, f"user_{pk}") for pk in ids)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _user_value(user_id: int | None) -> str | None:
    return f"user_{user_id}" if user_id else None


def _schema_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    values = {}
    for code, field in schema_fields(schema).items():
        try:
            values[code] = field.convert(schema[code].get("Default"))
        except FieldValueError:
            values[code] = schema[code].get("Default")
    return values


def user_zone(user_ids: list[int]) -> datetime.tzinfo | None:
    """The time zone of the first of the users (their profile's; the site's when it names
    none that exists), or None when there is nobody."""
    user = get_user_model().objects.filter(pk=user_ids[0]).first() if user_ids else None
    if user is None:
        return None
    try:
        return zoneinfo.ZoneInfo(getattr(user, "time_zone", None) or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@contextmanager
def _starter_locale(user: Any) -> Iterator[None]:
    """Journal notes and messages in the language and time zone of who started the process."""
    language = getattr(user, "language", None) or settings.LANGUAGE_CODE
    try:
        zone = zoneinfo.ZoneInfo(getattr(user, "time_zone", None) or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with translation.override(language), timezone.override(zone):
        yield


def workflow_start(
    *,
    template: Template,
    document_id: Any,
    user: Any | None,
    parameters: Mapping[str, Any] | None = None,
    check_rights: bool = True,
    parent: Instance | None = None,
    parent_activity: str = "",
    version: TemplateVersion | None = None,
    scenario_run: ScenarioRun | None = None,
    hide_unreadable: bool = False,
) -> Instance:
    """Starts the template's latest version (or ``version``) on a document and runs it up to
    its first wait.

    Runs in the caller's transaction. ``check_rights`` asks the document provider whether
    ``user`` may start processes on the document (auto-start and child processes do not);
    with ``hide_unreadable``, also whether they may read it: if not, the document is refused
    as one that does not exist, before the right to start (REST's "not found").
    """
    if not template.active:
        raise ProcessRefused(_("The template is inactive."))
    version = version or template.latest_version
    if version is None:
        raise ProcessRefused(_("The template has not been published yet."))
    try:
        provider = document_providers.get(template.module)
        document_id = provider.normalize_id(
            document_id, document_type=template.document_type_triple
        )
    except DocumentError as error:
        message = (
            _("Template type and DOCUMENT_ID mismatch!")
            if error.message == _("Incorrect document type!")
            else error.message
        )
        raise ProcessRefused(message) from None
    rights = [Operation.START_PROCESS] if check_rights else []
    if check_rights and hide_unreadable:
        rights.append(Operation.READ)
    # The document is read once, in the transaction the process runs in: for the rights, and
    # as the values the first blocks see.
    with transaction.atomic():
        try:
            document, allowed = provider.read_checked(document_id, user=user, operations=rights)
        except DocumentError:
            raise ProcessRefused(_("Cannot find item with this ID.")) from None
        missing = set(rights) - allowed
        if Operation.READ in missing:
            raise ProcessRefused(_("Cannot find item with this ID."))
        if missing:
            raise StartForbidden(_("You may not start processes on this item."))
        with _starter_locale(user):
            try:
                typed = start_parameters.convert(
                    version.parameters,
                    parameters or {},
                    required_message=_("The field '%(name)s' is required."),
                    unknown_message=_("Unknown parameter: %(name)s"),
                )
            except start_parameters.ParametersRefused as refused:
                raise ProcessRefused(refused.message, refused.errors) from None
            limit = setting("STATE_LIMIT_BYTES", 1_048_576)
            if limit and _stored_size(encoded.encode(typed), limit=limit) > limit:
                raise ProcessRefused(
                    _("The start parameters would take more than %(limit)s.")
                    % {"limit": filesizeformat(limit)}
                )
            # Inserted at the end of the first step with its state (or earlier, if a block
            # needs the row: a child process or a scenario run points at it).
            instance = Instance(
                template=template,
                version=version,
                module=template.module,
                entity=template.entity,
                document_type=template.document_type,
                document_id=document_id,
                status=InstanceStatus.RUNNING,
                started_by=user,
                parameters=encoded.encode(typed),
                variables=encoded.encode(_schema_defaults(version.variables)),
                state=ExecutionState(
                    queue=[Event(EventKind.EXECUTE, version.tree["Name"])],
                    run=scenario_run.pk if scenario_run else None,
                ).to_json(),
                parent=parent,
                parent_activity=parent_activity,
            )
            if scenario_run is not None:
                instance.save()
                scenario_run.instance = instance
                scenario_run.save(update_fields=["instance"])
            Runner(instance, version, document=document).run()
    return instance


def instance_enqueue(instance_id: str, *, run_after: datetime.datetime | None = None) -> None:
    """Asks a worker to step the instance (after the current transaction commits)."""
    from bizproc.tasks import instance_wake

    def enqueue() -> None:
        task = (
            instance_wake.using(run_after=run_after)
            if run_after and run_after > timezone.now()
            else instance_wake
        )
        task.enqueue(instance_id)

    transaction.on_commit(enqueue, robust=True)


def instance_step(instance_id: str, *, worker_id: str = "") -> bool:
    """A worker's step of an instance that has something due; False when there was nothing.

    The lease is taken in its own committed transaction first: if this worker dies during the
    step, the step's transaction rolls back and the expired lease tells the sweeper.
    """
    now = timezone.now()
    lease = datetime.timedelta(seconds=setting("LEASE_SECONDS", 60))
    worker_id = worker_id or get_random_string(12)
    claimed = (
        Instance.objects.filter(pk=instance_id, status=InstanceStatus.RUNNING)
        .filter(Q(owned_until__isnull=True) | Q(owned_until__lt=now))
        .filter(Q(wake_at__lte=now) | Q(owned_until__lt=now))
        .update(owned_until=now + lease, owner=worker_id[:64])
    )
    if not claimed:
        return False
    with transaction.atomic():
        instance = (
            Instance.objects.select_for_update(of=("self",))
            .select_related("version", "started_by")
            .get(pk=instance_id)
        )
        if instance.owner != worker_id[:64] or instance.status != InstanceStatus.RUNNING:
            return False
        runner = Runner(instance, instance.version)
        _queue_due_timers(runner)
        with _starter_locale(instance.started_by):
            runner.run()
    return True


def _queue_due_timers(runner: Runner) -> None:
    for name, wait in list(runner.state.waits.items()):
        if wait.until is not None and wait.until <= runner.now:
            runner.state.resume(name)


def run_sync(instance: Instance) -> None:
    """Carries a finished process's outcome over to the smart scenario run that started it."""
    if not instance.is_finished:
        return
    if instance.status == InstanceStatus.COMPLETED:
        status = RunStatus.COMPLETED
    elif instance.error:
        status = RunStatus.FAULT
    else:
        status = RunStatus.TERMINATED
    ScenarioRun.objects.filter(instance=instance, status__in=UNFINISHED_RUN).update(
        status=status, error=instance.error, finished_at=instance.finished_at or timezone.now()
    )


def _notify_parent(child: Instance) -> None:
    """A finished child process wakes the block of its parent that waits for it."""
    parent = Instance.objects.select_for_update().filter(pk=child.parent_id).first()
    if parent is None or parent.is_finished:
        return
    state = ExecutionState.from_json(parent.state)
    wait = state.waits.get(child.parent_activity)
    if wait is None or wait.child != child.pk:
        return
    state.resume(child.parent_activity)
    parent.state = state.to_json()
    parent.wake_at = timezone.now()
    parent.save(update_fields=["state", "wake_at", "modified_at"])
    instance_enqueue(parent.pk)


def task_settled(*, instance_id: str, name: str, task_id: int) -> None:
    """A settled task wakes the block of its process that waits for it."""
    instance = Instance.objects.select_for_update().filter(pk=instance_id).first()
    if instance is None or instance.is_finished:
        return
    state = ExecutionState.from_json(instance.state)
    wait = state.waits.get(name)
    if wait is None or wait.task != task_id:
        return
    state.resume(name)
    instance.state = state.to_json()
    instance.wake_at = timezone.now()
    instance.save(update_fields=["state", "wake_at", "modified_at"])
    instance_enqueue(instance.pk)


def tasks_cancel(*, instance_id: str) -> None:
    """The open tasks of a process that has finished are no one's to answer any more."""
    ProcessTask.objects.filter(instance_id=instance_id, status=TaskStatus.WAITING).update(
        status=TaskStatus.CANCELED, completed_at=timezone.now()
    )


@transaction.atomic
def instance_terminate(*, instance: Instance, user: Any | None, state_title: str = "") -> None:
    """Stops an unfinished process; its journal stays."""
    locked = Instance.objects.select_for_update().get(pk=instance.pk)
    if locked.is_finished:
        raise ProcessRefused(_("The process has finished already."))
    with _starter_locale(locked.started_by):
        journal = Journal(locked, user.pk if user is not None else locked.started_by_id)
        journal.custom("", "", state_title or _("The process was stopped."))
        locked.status = InstanceStatus.TERMINATED
        locked.state_title = (state_title or pgettext("process", "Terminated"))[:255]
        locked.finished_at = timezone.now()
        locked.wake_at = None
        locked.owned_until = None
        locked.save()
        journal.flush()
    tasks_cancel(instance_id=locked.pk)
    for child in Instance.objects.filter(parent=locked).unfinished():
        instance_terminate(instance=child, user=user)
    instance.refresh_from_db()


@transaction.atomic
def instance_kill(*, instance: Instance) -> None:
    """Deletes a process and its journal (Bitrix's "kill"). A smart scenario run it was
    executing ends as terminated: left executing without a process, it would refuse every
    later run of its scenario on the record as "still running"."""
    runs = ScenarioRun.objects.filter(instance_id=instance.pk, status__in=UNFINISHED_RUN)
    for run_id in runs.values_list("pk", flat=True):
        announce(document_id=instance.document_id, run_id=run_id)
    runs.update(status=RunStatus.TERMINATED, finished_at=timezone.now())
    Instance.objects.filter(pk=instance.pk).delete()
    announce(document_id=instance.document_id, instance_id=instance.pk)


def instance_resume(*, instance: Instance) -> None:
    """An admin's nudge for an instance stuck past its lease: let a worker take it again."""
    Instance.objects.filter(pk=instance.pk, status=InstanceStatus.RUNNING).update(
        owned_until=None, owner="", wake_at=timezone.now()
    )
    instance_enqueue(instance.pk)


def instances_sweep(*, now: datetime.datetime | None = None) -> int:
    """Re-enqueues running instances that are overdue (a lost task) or whose lease expired
    (a killed worker). Extra wake-ups are harmless: a step with nothing due does nothing."""
    now = now or timezone.now()
    grace = datetime.timedelta(seconds=setting("SWEEP_GRACE_SECONDS", 30))
    due = Instance.objects.filter(status=InstanceStatus.RUNNING).filter(
        Q(wake_at__lte=now - grace, owned_until__isnull=True) | Q(owned_until__lt=now)
    )
    ids = list(due.values_list("pk", flat=True)[:1000])
    with transaction.atomic():
        for instance_id in ids:
            instance_enqueue(instance_id)
    return len(ids)


# ---- document events (registered in BizprocConfig.ready) ----------------------------------


def _auto_start(document_id: str, user_id: int | None, flag: int) -> None:
    """Starts the active templates of the document's type that start on this event."""
    document_type = None
    for provider in document_providers.all():
        try:
            document_type = provider.document_type_of(document_id)
            break
        except DocumentError:
            continue
    if document_type is None:
        return
    templates = (
        Template.objects.for_document_type(document_type)
        .listed()
        .filter(active=True, auto_execute__in=[value for value in range(4) if value & flag])
        .filter(versions__isnull=False)
        .distinct()
    )
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    # One budget for all of them: they run in the transaction of the write that started them.
    with step_deadline(setting("STEP_TIME_LIMIT_SECONDS", 10)):
        for template in templates:
            workflow_start(
                template=template, document_id=document_id, user=user, check_rights=False
            )


def on_document_created(*, document_id: str, user_id: int | None, by_process: bool) -> None:
    if not by_process:
        _auto_start(document_id, user_id, 1)


def on_document_updated(
    *, document_id: str, user_id: int | None, changes: Mapping[str, Any], by_process: bool
) -> None:
    # Writes made by a process never start "on change" processes: no loops.
    if not by_process:
        _auto_start(document_id, user_id, 2)


def on_document_deleted(*, document_id: str, user_id: int | None) -> None:
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    for instance in Instance.objects.for_document(document_id).unfinished():
        instance_terminate(instance=instance, user=user, state_title=_("The item was deleted."))
