"""The method registry and what every method call shares: parameters, errors, pages, timing.

Methods are plain functions registered by their Bitrix24 name (``@method("crm.deal.list")``);
each takes a ``Call`` and returns its ``result`` — or a ``Page`` for the list methods, which
adds ``total`` and ``next``. A method refuses with ``RestError`` (Bitrix's error code and
English description, and the HTTP status) or lets ``PermissionDenied`` through (403
``ACCESS_DENIED``). ``method_run`` runs one method for the endpoint and for each command of a
``batch``.
"""

import datetime
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import User

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
# Bitrix24 counts each method's processing time in a ten-minute window.
OPERATING_WINDOW_SECONDS = 600


class RestError(Exception):
    """A refused call: Bitrix's ``error`` code (often empty, as Bitrix's CRM methods send),
    its English ``error_description`` and the HTTP status."""

    def __init__(self, description: str, code: str = "", status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code
        self.status = status


def access_denied() -> RestError:
    return RestError("Access denied!", "ACCESS_DENIED", 403)


def not_found() -> RestError:
    return RestError("Not found")


@dataclass
class Call:
    user: User
    params: Mapping[str, Any]
    _upper: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._upper = {str(key).upper(): value for key, value in self.params.items()}

    def param(self, name: str, default: Any = None) -> Any:
        """A top-level parameter by name in any letter case (``id``, ``ID``, ``Id``)."""
        return self._upper.get(name.upper(), default)


@dataclass
class Page:
    """One page of a list: its items, the whole count (None: not counted), the next start."""

    items: list[Any]
    total: int | None
    next: int | None


Method = Callable[[Call], Any]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    """Registers a method under its Bitrix24 name (matched case-insensitively)."""

    def register(function: Method) -> Method:
        key = name.lower()
        if key in METHODS:
            raise ValueError(f"REST method {name!r} is registered already")
        METHODS[key] = function
        return function

    return register


def time_block(start: float, finish: float, processing: float) -> dict[str, Any]:
    """Bitrix24's ``time`` object: epoch seconds, durations, dates in the active time zone."""
    zone = timezone.get_current_timezone()

    def date(moment: float) -> str:
        return datetime.datetime.fromtimestamp(moment, tz=zone).isoformat(timespec="seconds")

    return {
        "start": start,
        "finish": finish,
        "duration": finish - start,
        "processing": processing,
        "date_start": date(start),
        "date_finish": date(finish),
        "operating_reset_at": int(start) + OPERATING_WINDOW_SECONDS,
        "operating": processing,
    }


@dataclass
class Outcome:
    """What one method call answered: a body (result or error) and the HTTP status."""

    body: dict[str, Any]
    status: int = 200

    @property
    def failed(self) -> bool:
        return "error" in self.body


def error_body(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}


def method_run(*, name: str, user: User, params: Mapping[str, Any]) -> Outcome:
    """Runs a method; its errors become error bodies, unexpected ones are logged (500)."""
    function = METHODS.get(name.lower())
    if function is None:
        return Outcome(error_body("ERROR_METHOD_NOT_FOUND", "Method not found!"), 404)
    start, began = time.time(), time.perf_counter()
    try:
        result = function(Call(user=user, params=params))
    except RestError as error:
        return Outcome(error_body(error.code, error.description), error.status)
    except PermissionDenied:
        denied = access_denied()
        return Outcome(error_body(denied.code, denied.description), denied.status)
    except Exception:
        logger.exception("REST method %s failed", name)
        return Outcome(error_body("INTERNAL_SERVER_ERROR", "Internal server error"), 500)
    processing = time.perf_counter() - began
    body: dict[str, Any] = {}
    if isinstance(result, Page):
        body["result"] = result.items
        if result.next is not None:
            body["next"] = result.next
        if result.total is not None:
            body["total"] = result.total
    else:
        body["result"] = result
    body["time"] = time_block(start, start + processing, processing)
    return Outcome(body)
