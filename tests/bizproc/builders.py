"""Building, publishing and running templates in tests — through the real services."""

import itertools
import time

from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from bizproc import services
from bizproc.documents import DocumentType
from bizproc.models import Instance, JournalEntry, Template
from bizproc.tree import root_node
from crm.documents import DOCUMENT_TYPES

_names = itertools.count(1)


def node(type_: str, name: str | None = None, children: list | None = None, **properties) -> dict:
    return {
        "Type": type_,
        "Name": name or f"A{next(_names)}_1_1_1",
        "Properties": {
            "Title": properties.pop("Title", type_.removesuffix("Activity")),
            **properties,
        },
        "Children": children or [],
    }


def branch(
    condition: dict, *children: dict, title: str = "Branch", name: str | None = None
) -> dict:
    return node("IfElseBranchActivity", name, list(children), Title=title, **condition)


def sequence(*children: dict, name: str | None = None) -> dict:
    return node("SequenceActivity", name, list(children))


def published(
    *blocks: dict,
    user,
    entity: str = "DEAL",
    parameters: dict | None = None,
    variables: dict | None = None,
    constants: dict | None = None,
    auto_execute: int = 0,
    name: str = "Test process",
    document_type: DocumentType | None = None,
) -> Template:
    """A template with these blocks under the root, published as version 1; for a deal, or
    for ``entity``'s CRM type, or for ``document_type`` (a list's)."""
    template = services.template_create(
        document_type=document_type or DOCUMENT_TYPES[entity],
        name=name,
        user=user,
        auto_execute=auto_execute,
    )
    tree = root_node()
    tree["Children"] = list(blocks)
    template.tree = tree
    template.parameters = parameters or {}
    template.variables = variables or {}
    template.constants = constants or {}
    template.save()
    services.template_publish(template=template, user=user)
    return template


def field(
    type_: str,
    name: str = "",
    *,
    required: bool = False,
    multiple: bool = False,
    default=None,
    options=None,
) -> dict:
    entry = {
        "Name": name or type_,
        "Description": "",
        "Type": type_,
        "Required": "1" if required else "0",
        "Multiple": "1" if multiple else "0",
        "Default": default if default is not None else "",
    }
    if options is not None:
        entry["Options"] = options
    return entry


def rows(instance: Instance) -> list[tuple[int, str, str]]:
    """The instance's journal as a reader sees it: (type, block title, note), oldest first."""
    return list(
        JournalEntry.objects.filter(instance=instance)
        .order_by("id")
        .values_list("type", "activity_title", "note")
    )


def notes(instance: Instance, type_: int) -> list[str]:
    return [note for row_type, _title, note in rows(instance) if row_type == type_]


def run_tasks(timeout: float = 15) -> None:
    """Runs every queued task, waiting for delayed ones (``run_after``) until none is left."""
    deadline = time.monotonic() + timeout
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    while True:
        worker.run()
        pending = DBTaskResult.objects.filter(status="READY").order_by("run_after")
        upcoming = pending.values_list("run_after", flat=True).first()
        if not pending.exists():
            return
        if time.monotonic() > deadline:
            raise AssertionError("Tasks were still pending at the deadline")
        if upcoming is not None:
            time.sleep(max(0.0, min(0.5, (upcoming - timezone.now()).total_seconds())) + 0.01)
