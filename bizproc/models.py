"""Templates (a draft every edit goes to), their published versions, instances and journal."""

import copy
import datetime
import secrets
import threading
from collections import OrderedDict
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bizproc.documents import DocumentType
from bizproc.jsonfield import OrderedJSONField
from bizproc.tree import root_node


class AutoExecute(models.IntegerChoices):
    """Bitrix's auto-start bitmask; designer templates use 0 to 3."""

    NONE = 0, _("Manual")
    CREATE = 1, _("On create")
    EDIT = 2, _("On change")
    CREATE_AND_EDIT = 3, _("On create and on change")


SCRIPT_FLAG = 32  # the robots template of a smart scenario: hidden from template lists


def empty_tree() -> dict:
    return root_node()


class DocumentTypeQuerySet[M: models.Model](models.QuerySet[M]):
    def for_document_type(self, document_type: DocumentType) -> Self:
        return self.filter(
            module=document_type.module,
            entity=document_type.entity,
            document_type=document_type.type,
        )


class ForDocumentType(models.Model):
    """What templates and smart scenarios share: the Bitrix document type triple they work on,
    and who made and changed them when."""

    module = models.CharField(_("module"), max_length=50)
    entity = models.CharField(_("entity"), max_length=100)
    document_type = models.CharField(_("document type"), max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modified by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    modified_at = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        abstract = True

    @property
    def document_type_triple(self) -> DocumentType:
        return DocumentType(self.module, self.entity, self.document_type)


class TemplateQuerySet(DocumentTypeQuerySet["Template"]):
    def listed(self) -> Self:
        """Templates people design (not the robots templates of smart scenarios, nor deleted
        ones kept for their processes)."""
        return self.exclude(auto_execute__gte=SCRIPT_FLAG).filter(deleted_at__isnull=True)


class Template(ForDocumentType):
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    auto_execute = models.PositiveIntegerField(_("auto-start"), default=AutoExecute.NONE)
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(_("sort"), default=500)
    # The draft: every edit goes here and bumps the revision.
    tree = OrderedJSONField(_("blocks"), default=empty_tree)
    parameters = OrderedJSONField(_("parameters"), default=dict, blank=True)
    variables = OrderedJSONField(_("variables"), default=dict, blank=True)
    constants = OrderedJSONField(_("constants"), default=dict, blank=True)
    revision = models.PositiveIntegerField(_("draft revision"), default=1)
    # What the last import or publication found, shown on the template: ``[{"level": "error"
    # | "warning" | "info", "message", "node", "code"}]`` — problems that kept an import a
    # draft, warnings (fields and users that do not exist here), what an import created.
    notices = models.JSONField(_("notices"), default=list, blank=True)
    # A deleted template whose versions still have processes is kept for them: inactive, and
    # out of every list (``template_delete``).
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    # The version new processes start: set with ``published_token`` by each publication, under
    # the template's row lock (``template_publish``).
    published_version = models.ForeignKey(
        "TemplateVersion",
        verbose_name=_("published version"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    published_token = models.BigIntegerField(
        _("published version token"), null=True, blank=True, editable=False
    )

    objects = TemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("process template")
        verbose_name_plural = _("process templates")
        ordering = ["sort", "name", "pk"]
        indexes = [
            models.Index(
                fields=["module", "entity", "document_type"], name="bizproc_tpl_doctype_idx"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def latest_version(self) -> "TemplateVersion | None":
        """The version published when this template was read, from the process's cache of
        versions (they never change) — no query once a process has read it."""
        if self.published_version_id is None or self.published_token is None:
            return None
        version = _published_versions.get(self.published_token)
        if version is None:
            version = TemplateVersion.objects.filter(
                pk=self.published_version_id, template_id=self.pk, token=self.published_token
            ).first()
            if version is None:  # this object outlived its publication (rolled back)
                return self.versions.order_by("-number").first()
            _published_versions.put(self.published_token, version)
        # A copy of its own for the caller: what it caches on the copy (its template, its
        # publisher) stays its own; the blocks and schemas are shared and never changed.
        version = copy.copy(version)
        version.template = self
        return version


def new_version_token() -> int:
    """A random 63-bit key of one publication. Not ``random``: tests reseed it to the same
    value, and a version rolled back by one test would be taken for another's."""
    return secrets.randbits(63)


class _VersionCache:
    """The most recently used published versions of this process, by token (a token names one
    publication only, so an entry never goes stale; database ids would, reused after a
    rollback)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[int, TemplateVersion] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: int) -> "TemplateVersion | None":
        with self._lock:
            version = self._entries.get(token)
            if version is not None:
                self._entries.move_to_end(token)
            return version

    def put(self, token: int, version: "TemplateVersion") -> None:
        with self._lock:
            self._entries[token] = version
            self._entries.move_to_end(token)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_published_versions = _VersionCache(size=300)


class TemplateVersion(models.Model):
    """A published, immutable copy of a draft; instances run the version they started on."""

    template = models.ForeignKey(
        Template, verbose_name=_("template"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    tree = OrderedJSONField(_("blocks"))
    parameters = OrderedJSONField(_("parameters"), default=dict)
    variables = OrderedJSONField(_("variables"), default=dict)
    constants = OrderedJSONField(_("constants"), default=dict)
    draft_revision = models.PositiveIntegerField(_("draft revision"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), auto_now_add=True)
    # What the publisher's rights allowed the version to refer to (``bizproc.scope``); run-time
    # references are checked against it, so the versions of someone who left still run.
    reference_scope = models.JSONField(_("reference scope"), null=True, blank=True)
    # Its publication's ``Template.published_token``: a cache entry is checked against it.
    token = models.BigIntegerField(_("token"), default=new_version_token, editable=False)

    class Meta:
        verbose_name = _("template version")
        verbose_name_plural = _("template versions")
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="bizproc_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template} · v{self.number}"


class InstanceStatus(models.IntegerChoices):
    # A process's own words: «Создан», «Завершен» — a record's date column and a journal row's
    # status say "Created" and "Completed" in other Russian words.
    CREATED = 0, pgettext_lazy("process", "Created")
    RUNNING = 1, pgettext_lazy("process", "Running")
    COMPLETED = 2, pgettext_lazy("process", "Completed")
    SUSPENDED = 3, pgettext_lazy("process", "Suspended")
    TERMINATED = 4, pgettext_lazy("process", "Terminated")


class InstanceQuerySet(models.QuerySet["Instance"]):
    def unfinished(self) -> Self:
        return self.filter(
            status__in=[InstanceStatus.CREATED, InstanceStatus.RUNNING, InstanceStatus.SUSPENDED]
        )

    def for_document(self, document_id: str) -> Self:
        return self.filter(document_id=document_id)


def new_instance_id() -> str:
    """Bitrix-like workflow ids: 14 hex digits, a dot, 8 digits (``67a1c2b3d4e5f6.12345678``)."""
    return f"{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"


class Instance(models.Model):
    """A running (or finished) process: the version it runs, its document, and its state."""

    id = models.CharField(primary_key=True, max_length=32, default=new_instance_id, editable=False)
    template = models.ForeignKey(
        Template,
        verbose_name=_("template"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="instances",
    )
    version = models.ForeignKey(
        TemplateVersion,
        verbose_name=_("version"),
        on_delete=models.PROTECT,
        related_name="instances",
    )
    module = models.CharField(_("module"), max_length=50)
    entity = models.CharField(_("entity"), max_length=100)
    # The document type's own code (``DEAL``, ``iblock_5``): several types share an entity
    # name (every process list is ``BizprocDocument``), so lists of processes filter by it.
    # A database default too: rows written by raw SQL (the engine bench's floor) need none.
    document_type = models.CharField(_("document type"), max_length=100, blank=True, db_default="")
    document_id = models.CharField(_("document"), max_length=100)
    status = models.PositiveSmallIntegerField(
        _("status"), choices=InstanceStatus, default=InstanceStatus.CREATED
    )
    state_title = models.CharField(_("state"), max_length=255, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    modified_at = models.DateTimeField(_("modified"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    parameters = OrderedJSONField(_("parameters"), default=dict)
    variables = OrderedJSONField(_("variables"), default=dict)
    # The execution state: pending events, each block's status and local data, results, waits.
    state = OrderedJSONField(_("execution state"), default=dict)
    # When the instance next has something to do (a timer, or queued work); None: it waits for
    # an event (a child process) or is finished. The sweeper re-enqueues what is overdue.
    wake_at = models.DateTimeField(_("wake at"), null=True, blank=True)
    # A step in progress holds the lease; an expired lease means its worker died.
    owned_until = models.DateTimeField(_("owned until"), null=True, blank=True)
    owner = models.CharField(_("owner"), max_length=64, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent process"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
    )
    parent_activity = models.CharField(_("parent block"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = InstanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("process")
        verbose_name_plural = _("processes")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["document_id", "-started_at"], name="bizproc_inst_doc_idx"),
            models.Index(fields=["status", "wake_at"], name="bizproc_inst_wake_idx"),
            models.Index(fields=["status", "owned_until"], name="bizproc_inst_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.version.template.name if self.template_id else self.id} · {self.document_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)


class TrackingType(models.IntegerChoices):
    EXECUTE = 1, _("Start action")
    CLOSE = 2, _("Stop action")
    CANCEL = 3, _("Cancel action")
    FAULT = 4, _("Action error")
    CUSTOM = 5, _("User record")
    REPORT = 6, _("Report")
    ERROR = 9, _("Error")


SIMPLIFIED_TYPES = (
    TrackingType.CUSTOM,
    TrackingType.FAULT,
    TrackingType.REPORT,
    TrackingType.ERROR,
)


class ExecutionStatus(models.IntegerChoices):
    INITIALIZED = 0, _("Initialized")
    EXECUTING = 1, pgettext_lazy("journal", "In progress")
    CANCELING = 2, _("Being canceled")
    CLOSED = 3, pgettext_lazy("journal", "Completed")  # «Завершено», not a process's «Завершен»
    FAULTING = 4, _("Error")


class ExecutionResult(models.IntegerChoices):
    NONE = 0, pgettext_lazy("journal", "None")  # «Нет», not the access level «Нет доступа»
    SUCCEEDED = 1, pgettext_lazy("journal", "Success")
    CANCELED = 2, pgettext_lazy("journal", "Canceled")
    FAULTED = 3, _("Error")
    UNINITIALIZED = 4, _("Not initialized")


class JournalEntry(models.Model):
    """One row of a process journal. Written only by ``bizproc.journal``."""

    # No index of its own: (instance, id) below serves every lookup by instance (a process's
    # journal, the cascade of its deletion), and each index costs every row written — on
    # PostgreSQL two here (the text pk adds a ``_like`` twin), 32 insertions a 5-block start.
    instance = models.ForeignKey(
        Instance,
        verbose_name=_("process"),
        on_delete=models.CASCADE,
        related_name="journal",
        db_index=False,
    )
    document_id = models.CharField(_("document"), max_length=100)
    type = models.PositiveSmallIntegerField(_("type"), choices=TrackingType)
    status = models.PositiveSmallIntegerField(_("status"), choices=ExecutionStatus)
    result = models.PositiveSmallIntegerField(_("result"), choices=ExecutionResult)
    activity_name = models.CharField(_("block"), max_length=64, blank=True)
    activity_title = models.CharField(_("name"), max_length=255, blank=True)
    note = models.TextField(_("note"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modified by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("date"), default=timezone.now)

    # Set by ``journal.for_display`` for a journal table, not stored.
    instance_url: str
    date_text: str
    type_label: str
    status_label: str
    result_label: str
    note_text: str

    class Meta:
        verbose_name = _("journal row")
        verbose_name_plural = _("journal rows")
        ordering = ["-id"]
        indexes = [
            # "Newest rows of this document", keyset-paged by id.
            models.Index(fields=["document_id", "-id"], name="bizproc_journal_doc_idx"),
            models.Index(fields=["instance", "id"], name="bizproc_journal_inst_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.activity_title}"


class Scenario(ForDocumentType):
    """A smart scenario: a named, activatable robots template for one document type.

    Its start parameters and constants are its robots template's ``PARAMETERS`` and
    ``CONSTANTS``; it is versioned like any template, and a run keeps the version it started with.
    """

    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(_("sort"), default=500)
    template = models.OneToOneField(
        Template,
        verbose_name=_("robots template"),
        on_delete=models.PROTECT,
        related_name="scenario",
    )

    objects = DocumentTypeQuerySet.as_manager()

    class Meta:
        verbose_name = _("smart scenario")
        verbose_name_plural = _("smart scenarios")
        ordering = ["sort", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.IntegerChoices):
    QUEUED = 0, _("Queued")
    EXECUTING = 1, _("Executing")
    FAULT = 2, _("Error")
    TERMINATED = 3, pgettext_lazy("scenario run", "Terminated")  # «Прерван»
    COMPLETED = 4, pgettext_lazy("scenario run", "Completed")


UNFINISHED_RUN = (RunStatus.QUEUED, RunStatus.EXECUTING)


class ScenarioRun(models.Model):
    """One run of a scenario on one record, and the process instance it created."""

    scenario = models.ForeignKey(
        Scenario, verbose_name=_("smart scenario"), on_delete=models.CASCADE, related_name="runs"
    )
    version = models.ForeignKey(
        TemplateVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="+"
    )
    document_id = models.CharField(_("document"), max_length=100)
    status = models.PositiveSmallIntegerField(
        _("status"), choices=RunStatus, default=RunStatus.QUEUED
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    parameters = OrderedJSONField(_("parameters"), default=dict)
    instance = models.OneToOneField(
        Instance,
        verbose_name=_("process"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scenario_run",
    )
    # The process and block that started the run (the Start smart scenario block), if any.
    caller = models.ForeignKey(
        Instance,
        verbose_name=_("started by process"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="started_runs",
    )
    caller_activity = models.CharField(_("started by block"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # A queued run is handed to the task queue (``sent_at``, ``task_id``); the worker that
    # takes it holds a lease, committed before it starts the run's process. The sweeper sends
    # a queued run again when its task is no longer waiting in the queue yet no worker has
    # taken the run, or when its worker died (the lease expired).
    sent_at = models.DateTimeField(_("sent to a worker"), default=timezone.now)
    task_id = models.CharField(_("worker task"), max_length=255, blank=True)
    owned_until = models.DateTimeField(_("owned until"), null=True, blank=True)
    owner = models.CharField(_("owner"), max_length=64, blank=True)
    # How many times a worker took the run: a run whose start crashes its worker every time
    # ends as a fault after ``BIZPROC_RUN_MAX_ATTEMPTS`` instead of being sent again forever.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("smart scenario run")
        verbose_name_plural = _("smart scenario runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "document_id"],
                condition=models.Q(status__in=UNFINISHED_RUN),
                name="bizproc_one_unfinished_run_per_record",
            )
        ]
        indexes = [
            models.Index(fields=["document_id", "-created_at"], name="bizproc_run_doc_idx"),
            models.Index(fields=["status", "sent_at"], name="bizproc_run_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.scenario} · {self.document_id}"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_RUN


class TaskStatus(models.IntegerChoices):
    """A task's status and a person's answer, numbered as Bitrix24 numbers them (0–4)."""

    WAITING = 0, pgettext_lazy("task", "Waiting")
    YES = 1, pgettext_lazy("task", "Approved")
    NO = 2, pgettext_lazy("task", "Rejected")
    OK = 3, pgettext_lazy("task", "Done")  # a review's answer
    TIMEOUT = 4, pgettext_lazy("task", "Time limit reached")
    # The process stopped (ours), or a Request information declined (Bitrix's CompleteCancel;
    # a person's answer "cancel" is 4 in Bitrix's REST, see rest.methods.bizproc).
    CANCELED = 5, pgettext_lazy("task", "Canceled")


class ProcessTask(models.Model):
    """A task a process gives people (the Approve and Review blocks, Bitrix's ``b_bp_task``):
    they answer it on their Tasks page, and the answer wakes the block that waits for it.

    The decision rule is kept on the task (``approve_type``, ``min_percent``, ``wait_for_all``)
    so that an answer settles the task at once: it then leaves the others' lists."""

    instance = models.ForeignKey(
        Instance, verbose_name=_("process"), on_delete=models.CASCADE, related_name="tasks"
    )
    activity_name = models.CharField(_("block"), max_length=64)
    document_id = models.CharField(_("document"), max_length=100)
    # The block's kind: approve, review, request (Request information), optional_request.
    kind = models.CharField(_("kind"), max_length=16)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    yes_label = models.CharField(_("button to approve"), max_length=255)
    no_label = models.CharField(_("button to reject"), max_length=255, blank=True)
    comment_label = models.CharField(_("comment label"), max_length=255, blank=True)
    show_comment = models.BooleanField(_("ask for a comment"), default=False)
    approve_type = models.CharField(_("who decides"), max_length=8, default="any")
    min_percent = models.PositiveSmallIntegerField(_("minimum percent"), default=50)
    wait_for_all = models.BooleanField(_("wait for every vote"), default=False)
    # What Bitrix keeps in the task's PARAMETERS beyond the columns above: ``CommentRequired``,
    # and for Request information the fields asked for (``REQUEST``, Bitrix's shape).
    parameters = OrderedJSONField(_("parameters"), default=dict, blank=True)
    overdue_at = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.PositiveSmallIntegerField(
        _("status"), choices=TaskStatus, default=TaskStatus.WAITING
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class ProcessTaskUser(models.Model):
    """One person a task is given to, and their answer."""

    task = models.ForeignKey(
        ProcessTask, verbose_name=_("task"), on_delete=models.CASCADE, related_name="assignees"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="process_tasks",
    )
    status = models.PositiveSmallIntegerField(
        _("answer"), choices=TaskStatus, default=TaskStatus.WAITING
    )
    comment = models.TextField(_("comment"), blank=True)
    # Request information: the values given, typed (``bizproc.values.encode``), by field.
    response = OrderedJSONField(_("values given"), default=dict, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("task assignee")
        verbose_name_plural = _("task assignees")
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="bizproc_task_user_once")
        ]
        indexes = [models.Index(fields=["user", "status"], name="bizproc_task_user_idx")]

    def __str__(self) -> str:
        return f"{self.task} · {self.user}"

    @property
    def answer_label(self) -> str:
        """The answer as its button said it (“Approve the trip”)."""
        if self.status in (TaskStatus.YES, TaskStatus.OK):
            return self.task.yes_label
        if self.status == TaskStatus.NO or (
            self.status == TaskStatus.CANCELED and self.answered_at is not None
        ):
            return self.task.no_label
        return self.get_status_display()


class ActivityStorage(models.Model):
    """What a block keeps from one process to the next (Bitrix's activity storage, per
    template and block): Select employee "in turn" remembers whom it chose last."""

    template = models.ForeignKey(
        Template, verbose_name=_("template"), on_delete=models.CASCADE, related_name="+"
    )
    activity_name = models.CharField(_("block"), max_length=64)
    key = models.CharField(_("key"), max_length=64)
    value = models.JSONField(_("value"), null=True, blank=True)

    class Meta:
        verbose_name = _("block storage")
        verbose_name_plural = _("block storage")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "activity_name", "key"], name="bizproc_storage_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_id} · {self.activity_name} · {self.key}"


class GlobalKind(models.TextChoices):
    CONSTANT = "GlobalConst", _("Global constant")
    VARIABLE = "GlobalVar", _("Global variable")


GLOBAL_VISIBILITY = "GLOBAL"
"""Bitrix's visibility of a global that every process sees."""


class GlobalField(models.Model):
    """A company-wide constant or variable (``{=GlobalConst:Id}``, ``{=GlobalVar:Id}``).

    Its definition is one entry of Bitrix's parameter shape (``Name``, ``Type``, ``Multiple``,
    ``Required``, ``Options``, ``Default``), the value being ``Default`` as in Bitrix, so the
    same field types and conversion serve templates' parameters and globals. ``visibility`` is
    Bitrix's: ``GLOBAL``, a module (``CRM``) or one document type (``CRM_DEAL``,
    ``LISTS_IBLOCK_3``).
    """

    kind = models.CharField(_("kind"), max_length=20, choices=GlobalKind.choices)
    code = models.CharField(_("ID"), max_length=64)
    definition = OrderedJSONField(_("definition"), default=dict)
    visibility = models.CharField(_("visibility"), max_length=150, default=GLOBAL_VISIBILITY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modified by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    modified_at = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        verbose_name = _("global constant or variable")
        verbose_name_plural = _("global constants and variables")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="bizproc_global_kind_code"),
        ]

    def __str__(self) -> str:
        return str(self.definition.get("Name") or self.code)

    @property
    def name(self) -> str:
        return str(self.definition.get("Name") or self.code)

    @property
    def type(self) -> str:
        return str(self.definition.get("Type") or "string")

    @property
    def value(self) -> Any:
        return self.definition.get("Default")


def _weekend_default() -> list[int]:
    return [5, 6]


class WorkCalendar(models.Model):
    """The company's working calendar, one row (Bitrix's calendar settings ``week_holidays``,
    ``work_time_start``/``work_time_end``, ``year_holidays``, ``year_workdays``); read as a
    ``bizproc.workcalendar.WorkCalendar`` through ``bizproc.calendars.calendar_get``, changed
    through ``calendar_update``. Dates are kept as ISO text, yearly holidays as ``MM-DD``."""

    ROW = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ROW)
    weekend = models.JSONField(_("days off in the week"), default=_weekend_default)
    work_start = models.TimeField(_("working day starts"), default=datetime.time(9))
    work_end = models.TimeField(_("working day ends"), default=datetime.time(18))
    yearly_holidays = models.JSONField(_("holidays every year"), default=list, blank=True)
    holidays = models.JSONField(_("one-off holidays"), default=list, blank=True)
    workdays = models.JSONField(_("one-off working days"), default=list, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    modified_at = models.DateTimeField(_("modified"), auto_now=True)
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendar")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="bizproc_one_calendar")
        ]

    def __str__(self) -> str:
        return str(_("Working calendar"))
