"""ASGI entry point: HTTP through Django, websockets through Channels."""

import gc
import os
from contextlib import closing
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django
from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix


class SingleHopASGIHandler(ASGIHandler):
    """Django's ASGI handler, doing a request's synchronous work in one call to its thread:
    the ``request_started`` signal, the middleware chain and the view, and, for a response
    that is not streamed, ``close()`` with ``request_finished`` (its content is in memory by
    then, so it is sent after).

    Every view and the innermost middleware here are synchronous. The stock handler went to
    the request's thread for ``request_started``, again for the middleware, back to the event
    loop below the innermost one and out again for the view, and once more to close the
    response: five hops a request, a tenth of a REST start's CPU (README, "Benchmarks"). A
    streamed response (a file) is closed after it is sent, in the same thread. The stock
    handler also listened for the client going away to cancel an asynchronous view; there are
    none, and a synchronous one runs to its end either way.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            set_script_prefix(get_script_prefix(scope))
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response


django.setup(set_prefix=False)
django_application = SingleHopASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# What is loaded by now lives as long as the process: frozen, it is out of the collector's way.
# Otherwise each full collection walks it all (about 45 ms here) while every request in the
# process waits.
gc.freeze()
