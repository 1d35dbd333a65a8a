"""Websocket consumers of the live pages: a record's Processes tab and journal, a process's
page, and the progress of smart scenario runs someone started.

Every consumer joins the group of the document(s) it shows (``live.document_group``), where
``bizproc.journal`` announces each committed step with ids only. On each announcement that
concerns it — and once right after connecting, so nothing committed between the page's render
and the socket's opening is missed — it re-reads the database as its user, with that user's
current rights, language and time zone, renders the same partials the page was rendered with,
and sends them as htmx out-of-band swaps (the htmx ``ws`` extension swaps each top-level
element by id, or as its ``hx-swap-oob`` says).

Close codes: 4401 when nobody is logged in, 4403 when the user may not read what the socket
shows (or it does not exist); the socket is accepted first so that the browser sees the code.
The htmx extension does not reconnect after these, only after abnormal closures.
"""

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone, translation

from bizproc import live
from bizproc.bounds import bounded_int
from bizproc.documents import Operation
from bizproc.models import Instance, ScenarioRun
from bizproc.process_views import instance_context, instance_rows
from bizproc.views import (
    PAGE,
    document_for,
    processes_live_context,
    record_journal_page,
    record_processes,
)

CLOSE_ANONYMOUS = 4401
CLOSE_FORBIDDEN = 4403
EMPTY_GONE = '<p id="journal-empty" hx-swap-oob="delete"></p>'  # "No records." goes


class Refused(Exception):
    """The socket is to be closed with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def in_thread(function: Any) -> Any:
    """Runs blocking database work in a pool thread of its own: renders of different sockets
    run in parallel instead of queueing on the one thread-sensitive thread."""
    return DatabaseSyncToAsync(function, thread_sensitive=False)


@contextmanager
def user_locale(user: Any) -> Iterator[None]:
    try:
        zone = zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(zone):
        yield


class LiveConsumer(AsyncWebsocketConsumer):
    """Authenticates, authorises, joins the documents' groups, sends the current state, and
    re-renders on every announcement that ``concerns`` it.

    Subclasses say which documents (``authorize``), which announcements matter, and what to
    render (``render``, called with a fresh user inside that user's locale).
    """

    documents: list[str]
    params: QueryDict

    async def connect(self) -> None:
        await self.accept()
        user = self.scope["user"]
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_ANONYMOUS)
            return
        self.user_id = user.pk
        self.params = QueryDict(self.scope["query_string"].decode(errors="replace"))
        self.documents = []
        try:
            self.documents = await in_thread(self._authorize)()
        except Refused as refused:
            await self.close(code=refused.code)
            return
        live.bind_server_loop()
        for document_id in self.documents:
            await self.channel_layer.group_add(self.group(document_id), self.channel_name)
        await self.refresh()

    async def disconnect(self, code: int) -> None:
        for document_id in getattr(self, "documents", []):
            await self.channel_layer.group_discard(self.group(document_id), self.channel_name)

    def group(self, document_id: str) -> str:
        """The group whose announcements about the document this socket hears: the engine's
        (``bizproc.changed``); an app's live page may follow its own."""
        return live.document_group(document_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The pages only listen."""

    async def bizproc_changed(self, event: dict[str, Any]) -> None:
        if event["document_id"] in self.documents and self.concerns(event):
            await self.refresh()

    async def refresh(self) -> None:
        try:
            messages = await in_thread(self._render)()
        except Refused as refused:
            await self.close(code=refused.code)
            return
        for message in messages:
            await self.send(text_data=message)

    def _user(self) -> Any:
        """The user as they are now (rights, language): re-read on every render."""
        user = get_user_model().objects.filter(pk=self.user_id, is_active=True).first()
        if user is None:
            raise Refused(CLOSE_ANONYMOUS)
        return user

    def _authorize(self) -> list[str]:
        try:
            return self.authorize(self._user())
        except (Http404, PermissionDenied):
            raise Refused(CLOSE_FORBIDDEN) from None

    def _render(self) -> list[str]:
        user = self._user()
        try:
            with user_locale(user):
                return self.render(user)
        except (Http404, PermissionDenied):
            raise Refused(CLOSE_FORBIDDEN) from None

    def authorize(self, user: Any) -> list[str]:
        """The ids of the documents whose announcements this socket follows (Http404 or
        PermissionDenied when the user may not): by default, the route's document."""
        raw = self.scope["url_route"]["kwargs"]["document_id"]
        _provider, document_id = document_for(user, raw, Operation.READ)
        return [document_id]

    def concerns(self, event: dict[str, Any]) -> bool:
        return True

    def render(self, user: Any) -> list[str]:
        """The messages to send: each one htmx fragment (or several, none of them table
        parts: a ``<tbody>`` parses as such only at the start of a message)."""
        raise NotImplementedError


class DocumentProcessesConsumer(LiveConsumer):
    """The Processes tab of a record: re-renders its live part (active and completed
    processes, the latest rows) on any change of the record's processes."""

    def render(self, user: Any) -> list[str]:
        (document_id,) = self.documents
        provider, document_id = document_for(user, document_id, Operation.READ)
        may_manage = provider.can(user, Operation.START_PROCESS, document_id=document_id)
        return [
            render_to_string(
                "bizproc/document_processes.html#processes-live",
                processes_live_context(document_id, may_manage=may_manage),
            )
        ]


class NewRowsMixin:
    """Rows newer than the newest one the page shows, prepended to its ``#journal-rows``.

    Only a first page asks for them: its socket's ``after`` is the newest row it shows (0: it
    shows none, and its "No records." row goes when the first one arrives).
    """

    params: QueryDict

    def rows_after(self) -> int | None:
        if not hasattr(self, "after"):
            self.after = bounded_int(self.params.get("after", ""), minimum=0)
        return self.after

    def new_rows(self, rows: list[Any], **context: Any) -> list[str]:
        """The messages for ``rows`` (newer than ``rows_after()``, newest first)."""
        if not rows:
            return []
        was_empty, self.after = self.after == 0, rows[0].pk
        html = render_to_string(
            "bizproc/journal_table.html#journal-rows-oob", {"rows": rows, **context}
        )
        return [html, EMPTY_GONE] if was_empty else [html]


class DocumentJournalConsumer(NewRowsMixin, LiveConsumer):
    """A record's journal page: its processes and runs, and new rows matching its filters."""

    def render(self, user: Any) -> list[str]:
        (document_id,) = self.documents
        document_for(user, document_id, Operation.READ)
        html = render_to_string(
            "bizproc/document_journal.html#record-processes", record_processes(document_id)
        )
        after = self.rows_after()
        if after is None:
            return [html]
        _form, rows, _next = record_journal_page(document_id, self.params, after=after)
        return [html, *self.new_rows(rows, show_process=True)]


class InstanceConsumer(NewRowsMixin, LiveConsumer):
    """A process's page: its summary and actions, its blocks' states, its new rows."""

    def authorize(self, user: Any) -> list[str]:
        self.instance_id = self.scope["url_route"]["kwargs"]["instance_id"]
        instance = Instance.objects.filter(pk=self.instance_id).first()
        if instance is None:
            raise Http404
        document_for(user, instance.document_id, Operation.READ)
        return [instance.document_id]

    def concerns(self, event: dict[str, Any]) -> bool:
        return event["instance_id"] == self.instance_id

    def render(self, user: Any) -> list[str]:
        instance = (
            Instance.objects.select_related("template", "started_by", "version")
            .filter(pk=self.instance_id)
            .first()
        )
        if instance is None:  # deleted meanwhile
            raise Http404
        document_for(user, instance.document_id, Operation.READ)
        context = instance_context(user, instance)
        html = render_to_string("bizproc/instance_detail.html#instance-summary", context)
        html += render_to_string("bizproc/instance_detail.html#instance-tree", context)
        after = self.rows_after()
        if after is None:
            return [html]
        rows = instance_rows(instance, self.params, after_id=after, limit=PAGE)
        return [html, *self.new_rows(rows)]


class ScenarioRunsConsumer(LiveConsumer):
    """The progress of smart scenario runs the user started (``?runs=1&runs=2``): follows
    their records, and closes normally once every run has finished."""

    def authorize(self, user: Any) -> list[str]:
        ids = [
            pk
            for value in self.params.getlist("runs")[:500]
            if (pk := bounded_int(value, minimum=1)) is not None
        ]
        runs = ScenarioRun.objects.filter(pk__in=ids, started_by=user)
        self.run_ids = set(runs.values_list("pk", flat=True))
        if not self.run_ids:
            raise PermissionDenied
        return sorted(set(runs.values_list("document_id", flat=True)))

    def concerns(self, event: dict[str, Any]) -> bool:
        return event.get("run_id") in self.run_ids

    def render(self, user: Any) -> list[str]:
        runs = list(
            ScenarioRun.objects.filter(pk__in=self.run_ids, started_by=user).select_related(
                "scenario"
            )
        )
        self.finished = all(run.is_finished for run in runs)
        return [
            render_to_string(
                "bizproc/scenario_start.html#run-status", {"runs": runs, "finished": self.finished}
            )
        ]

    async def refresh(self) -> None:
        await super().refresh()
        if getattr(self, "finished", False):
            await self.close(code=1000)  # normal closure: htmx does not reconnect
