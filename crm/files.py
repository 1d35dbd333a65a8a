"""Files held by records' custom file fields: which ones a record holds, and where they are
downloaded (never from a media URL: ``crm.views.record_file`` checks the reader's rights)."""

from django.urls import reverse

from crm.fields import specs_of
from crm.models import Record, UserFieldType


def record_file_ids(record: Record) -> frozenset[int]:
    """The ids of the stored files the record's file fields hold."""
    held: set[int] = set()
    for spec in specs_of(record.entity_type):
        if spec.custom is not None and spec.custom.type == UserFieldType.FILE:
            value = record.uf.get(spec.code)
            items = value if isinstance(value, list) else [value]
            held.update(item for item in items if isinstance(item, int))
    return frozenset(held)


def file_url(record: Record, file_id: int) -> str:
    """Where a person who may read the record downloads one of its files."""
    return reverse("crm:record-file", args=[record.entity_type.lower(), record.pk, file_id])
