"""Getting a committed change to the websockets, from whatever thread committed it.

Only ``bizproc.journal`` publishes (on commit); this module hands its message to the channel
layer safely:

* In a server process the consumers live on the ASGI server's event loop. Each consumer binds
  that loop when it connects, and publishing schedules ``group_send`` on it with
  ``asyncio.run_coroutine_threadsafe``. This is what makes the embedded default work: there the
  task worker and the sweeper are threads of the server process, views run in asgiref's thread
  pool, and ``InMemoryChannelLayer`` is not thread-safe (its queues belong to the loop that
  reads them) — so every call into the layer happens on the server's loop, never in the
  committing thread.
* A process without a connected consumer (a separate ``bizproc_worker``, a management
  command, a server before its first websocket) with the Redis layer publishes on a private
  event loop in a daemon thread kept for the life of the process: the committing thread never
  waits for Redis, and Redis connections are reused rather than opened per message.
* With the in-memory layer and no consumer ever connected in this process there is nobody to
  tell, and the message is dropped.

On Redis the layer is pub/sub (``config.settings``): a message reaches the server processes
that have a socket in its group at that moment, and is gone otherwise.

Publishing never raises into the caller: a lost message delays a page until its next change
(and every page catches up when its socket reconnects), but must not break a committed step.
"""

import asyncio
import logging
import os
import re
import threading
from concurrent.futures import Future
from typing import Any

from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None
_own_loop: asyncio.AbstractEventLoop | None = None
_own_loop_lock = threading.Lock()


def _forget_loops() -> None:
    """A forked child has only the thread that forked: the loops it inherited run nowhere (a
    message handed to them would wait forever), and a lock may have been held. It starts its
    own loop when it first publishes."""
    global _server_loop, _own_loop, _own_loop_lock
    _server_loop = _own_loop = None
    _own_loop_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_loops)


def document_group(document_id: str) -> str:
    """The channel-layer group of a document's live pages (group names allow ``[\\w.-]``).

    Ids that differ only in other characters share a group; consumers compare the id itself.
    """
    return "bizproc.document." + re.sub(r"[^A-Za-z0-9_.-]", "-", document_id)[:80]


def bind_server_loop() -> None:
    """Remembers the running loop as this process's server loop (called by consumers)."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


def _publishing_loop(layer: BaseChannelLayer) -> asyncio.AbstractEventLoop | None:
    global _own_loop
    loop = _server_loop
    if loop is not None and loop.is_running():
        return loop
    if isinstance(layer, InMemoryChannelLayer):
        return None
    with _own_loop_lock:
        if _own_loop is None:
            _own_loop = asyncio.new_event_loop()
            threading.Thread(
                target=_own_loop.run_forever, name="bizproc-live-publisher", daemon=True
            ).start()
        return _own_loop


def publish(group: str, message: dict[str, Any]) -> None:
    """Sends ``message`` to ``group`` without blocking the caller; safe from any thread."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _publishing_loop(layer)
    if loop is None:
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
    future.add_done_callback(_log_failure)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("A live update was not published", exc_info=future.exception())
