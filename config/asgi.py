"""ASGI entry point: HTTP through Django, websockets through Channels."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware chain and the view called as one synchronous
    function in the request's thread: one hop from the event loop a request.

    Every view and the innermost middleware here are synchronous. Django's asynchronous chain
    ran the middleware in a thread, hopped back to the event loop below the innermost one and
    out to the thread again for the view: two hops more, about 1 M instructions of a REST
    start's 12.9 M (README, "Benchmarks"). An asynchronous view would still work (Django's
    synchronous chain runs it with ``async_to_sync``), at the price of those hops.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)


django.setup(set_prefix=False)
django_application = SyncChainASGIHandler()

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
