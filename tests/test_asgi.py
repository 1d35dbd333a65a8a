"""The ASGI application's HTTP side (``config.asgi``): Django's signals, middleware and views."""

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core import signals
from django.templatetags.static import static
from django.urls import reverse

from config.asgi import application


def _get(path: str) -> list[dict[str, Any]]:
    """The ASGI messages the application sends for ``GET path``."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"accept-language", b"ru")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def run() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        answered = asyncio.Event()
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered.set()

        await application(scope, receive, send)
        return sent

    return asyncio.run(run())


def _headers(start: dict[str, Any]) -> dict[str, str]:
    return {name.decode().lower(): value.decode() for name, value in start["headers"]}


def _body(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(message.get("body", b"") for message in sent[1:])


@pytest.fixture
def hops(monkeypatch) -> list[Any]:
    """What each trip from the event loop to a thread ran."""
    made: list[Any] = []
    call = SyncToAsync.__call__

    async def counted(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        made.append(self.func)
        return await call(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    return made


@pytest.fixture
def signalled() -> list[tuple[str, int]]:
    """The request signals sent, each with the thread that sent it."""
    sent: list[tuple[str, int]] = []

    def started(**kwargs: Any) -> None:
        sent.append(("started", threading.get_ident()))

    def finished(**kwargs: Any) -> None:
        sent.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield sent
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


def test_a_page_is_served_in_one_trip_to_its_thread_through_every_middleware(
    hops, signalled
) -> None:
    """The request's signals, the middleware chain and the view run in one call to the
    request's thread (the stock handler made five trips a request, a tenth of a REST start's
    CPU), and every middleware still applies."""
    sent = _get(reverse("accounts:login"))

    assert len(hops) == 1
    assert [name for name, _thread in signalled] == ["started", "finished"]
    assert signalled[0][1] == signalled[1][1] != threading.get_ident()
    start = sent[0]
    assert start["status"] == 200
    headers = _headers(start)
    assert headers["content-language"] == "ru"  # LocaleMiddleware
    assert headers["x-frame-options"] == "DENY"  # XFrameOptionsMiddleware
    assert headers["server-timing"].startswith("app;dur=")  # the outermost one
    assert "csrftoken" in headers.get("set-cookie", "")  # CsrfViewMiddleware, from the view
    assert "Войти" in _body(sent).decode()  # the page, in the language the browser asked for


def test_a_streamed_file_is_sent_whole_and_closed_after_in_the_request_s_thread(
    hops, signalled
) -> None:
    sent = _get(static("favicon.svg"))  # WhiteNoise answers it with a FileResponse

    assert sent[0]["status"] == 200
    assert _body(sent) == (Path(settings.BASE_DIR) / "static" / "favicon.svg").read_bytes()
    assert [name for name, _thread in signalled] == ["started", "finished"]
    assert signalled[0][1] == signalled[1][1]  # the database connection goes back from there
    assert hops[-1].__name__ == "close"  # closed once it is sent, not before


def test_a_page_that_is_not_there_is_answered_and_logged(signalled, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        sent = _get("/no-such-page/")

    assert sent[0]["status"] == 404
    assert "Not Found: /no-such-page/" in caplog.text
    assert [name for name, _thread in signalled] == ["started", "finished"]
