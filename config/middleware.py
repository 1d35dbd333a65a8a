"""Project-wide middleware."""

import time
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    """Adds ``Server-Timing: app;dur=<ms>``: the time the application spent on the request.

    Browsers show it in their developer tools, and the benchmarks read the server's own time
    from it rather than the time their clients observe. Works under ASGI and WSGI alike.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        response = self.get_response(request)
        return self._stamp(response, started)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = await self.get_response(request)
        return self._stamp(response, started)

    @staticmethod
    def _stamp(response: HttpResponse, started: float) -> HttpResponse:
        elapsed = (time.perf_counter() - started) * 1000
        timing = f"app;dur={elapsed:.1f}"
        existing = response.headers.get("Server-Timing")
        response.headers["Server-Timing"] = f"{existing}, {timing}" if existing else timing
        return response
