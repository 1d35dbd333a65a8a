from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bizproc.documents import document_providers
from bizproc.hooks import document_hooks
from crm.documents import CrmDocumentProvider
from crm.models import RECORD_MODELS, Deal


@pytest.fixture
def provider() -> CrmDocumentProvider:
    """The provider the engine uses (registered by the CRM app)."""
    registered = document_providers.get("crm")
    assert isinstance(registered, CrmDocumentProvider)
    return registered


@pytest.fixture
def records_snapshot() -> Callable[[], dict[str, list[dict[str, Any]]]]:
    """Every row of every record table (and the deal ↔ contacts links), to compare."""

    def snapshot() -> dict[str, list[dict[str, Any]]]:
        rows = {
            entity_type: list(model.objects.order_by("pk").values())
            for entity_type, model in RECORD_MODELS.items()
        }
        rows["DEAL_CONTACTS"] = list(Deal.contacts.through.objects.order_by("pk").values())
        return rows

    return snapshot


@dataclass
class HookCalls:
    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


@pytest.fixture
def hook_calls() -> Iterator[HookCalls]:
    """Records every call of the document hooks while the test runs."""
    calls = HookCalls()

    def on_created(**kwargs: Any) -> None:
        calls.created.append(kwargs)

    def on_updated(**kwargs: Any) -> None:
        calls.updated.append(kwargs)

    def on_deleted(**kwargs: Any) -> None:
        calls.deleted.append(kwargs)

    document_hooks.on_created.append(on_created)
    document_hooks.on_updated.append(on_updated)
    document_hooks.on_deleted.append(on_deleted)
    try:
        yield calls
    finally:
        document_hooks.on_created.remove(on_created)
        document_hooks.on_updated.remove(on_updated)
        document_hooks.on_deleted.remove(on_deleted)
