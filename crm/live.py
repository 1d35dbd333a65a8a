"""The record card's live updates: every committed write to a record's timeline (a change of
its fields, a comment — by a person or a process) is announced to the record's open cards,
which draw their new entries and their details (``crm.consumers.RecordCardConsumer``).

Ids only, on commit, through the engine's hand-off to the channel layer (``bizproc.live``), in
a group of the CRM's own: the engine's live pages never hear of it.
"""

import re

from django.db import transaction

from bizproc import live


def timeline_group(document_id: str) -> str:
    return "crm.timeline." + re.sub(r"[^A-Za-z0-9_.-]", "-", document_id)[:80]


def timeline_announce(*, document_id: str) -> None:
    """Tells the record's open cards, once the current transaction commits, that its
    timeline has new entries."""
    message = {"type": "crm.timeline", "document_id": document_id}
    transaction.on_commit(lambda: live.publish(timeline_group(document_id), message), robust=True)
