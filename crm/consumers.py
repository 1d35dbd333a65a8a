"""The record card's socket: new timeline entries and the details as they are now, after
every write to the record (``crm.live``). Rights, language and time zone are the user's, read
again for every message, as on the engine's live pages (``bizproc.consumers.LiveConsumer``)."""

from typing import Any

from django.http import Http404
from django.template.loader import render_to_string

from bizproc.bounds import bounded_int
from bizproc.consumers import LiveConsumer
from bizproc.documents import DocumentError
from crm import live, permissions
from crm.documents import parse_document_id
from crm.models import Record
from crm.views import Display, record_rows, timeline_after

EMPTY_GONE = '<li id="timeline-empty" hx-swap-oob="delete"></li>'  # "No entries yet." goes


class RecordCardConsumer(LiveConsumer):
    """A record's card (``?after=``: the newest timeline entry it shows, 0 for none)."""

    def group(self, document_id: str) -> str:
        return live.timeline_group(document_id)

    async def crm_timeline(self, event: dict[str, Any]) -> None:
        if event["document_id"] in self.documents:
            await self.refresh()

    def _record(self, user: Any) -> Record:
        raw = self.scope["url_route"]["kwargs"]["document_id"]
        try:
            entity_type, pk = parse_document_id(raw)
        except DocumentError:
            raise Http404 from None
        return permissions.get_readable_or_404(user, entity_type, pk)

    def authorize(self, user: Any) -> list[str]:
        self.after = bounded_int(self.params.get("after", ""), minimum=0) or 0
        return [self._record(user).document_id]

    def render(self, user: Any) -> list[str]:
        record = self._record(user)
        display = Display(user)
        template = "crm/record_detail.html"
        fields = render_to_string(
            f"{template}#record-fields", {"rows": record_rows(record, display), "oob": True}
        ).strip()
        entries = timeline_after(record, display, self.after)
        if not entries:
            return [fields]
        was_empty, self.after = self.after == 0, entries[0].entry.pk
        new = render_to_string(f"{template}#timeline-new", {"entries": entries})
        return [fields, new, EMPTY_GONE] if was_empty else [fields, new]
