"""Getting a committed change to the websockets, from whatever thread committed it.

``bizproc.journal`` and ``crm.live`` publish (on commit); this module hands their messages to
the channel layer safely:

* On Redis the layer is pub/sub (``config.settings``): a message reaches the server processes
  that have a socket in its group at that moment, and is gone otherwise. Any process publishes
  from a daemon thread of its own with a plain Redis client (``_PubSubPublisher``): the
  committing thread only queues the message and never waits for Redis.
* With the in-memory layer the consumers live on the ASGI server's event loop. Each consumer
  binds that loop when it connects, and publishing schedules ``group_send`` on it with
  ``asyncio.run_coroutine_threadsafe``. This is what makes the embedded default work: there the
  task worker and the sweeper are threads of the server process, views run in asgiref's thread
  pool, and ``InMemoryChannelLayer`` is not thread-safe (its queues belong to the loop that
  reads them) — so every call into the layer happens on the server's loop, never in the
  committing thread. With no consumer ever connected in this process there is nobody to tell,
  and the message is dropped.
* Another layer (several Redis shards, Sentinel) gets ``group_send`` on the server's loop, or on
  a private event loop in a daemon thread kept for the life of the process.

Publishing never raises into the caller: a lost message delays a page until its next change
(and every page catches up when its socket reconnects), but must not break a committed step.
"""

import asyncio
import logging
import os
import queue
import re
import threading
from concurrent.futures import Future
from typing import Any

import redis
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None
_own_loop: asyncio.AbstractEventLoop | None = None
_own_loop_lock = threading.Lock()


def _forget_loops() -> None:
    """A forked child has only the thread that forked: the loops it inherited run nowhere (a
    message handed to them would wait forever), and a lock may have been held. It starts its
    own loop when it first publishes."""
    global _server_loop, _own_loop, _own_loop_lock, _pubsub_publisher
    _server_loop = _own_loop = _pubsub_publisher = None
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


class _PubSubPublisher:
    """Publishes for channels_redis's pub/sub layer with a plain Redis client, in a daemon
    thread of its own: the committing thread only queues. What is queued while the thread
    sends goes out in its next pipeline, one round trip. The layer's own ``group_send``, on
    an event loop, took about three times the CPU a message (asyncio's Redis client): half
    the CPU of a five-block process's start.

    The message is what the layer's ``group_send`` publishes: the layer's serialization, to
    its group's channel (``<prefix>__group__<group>``, channels_redis's naming)."""

    def __init__(self, layer: BaseChannelLayer, url: str, prefix: str) -> None:
        self.layer = layer
        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.waiting: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        threading.Thread(target=self._send_forever, name="bizproc-live-pubsub", daemon=True).start()

    def put(self, group: str, message: dict[str, Any]) -> None:
        self.waiting.put((group, message))

    def _send_forever(self) -> None:
        while True:
            batch = [self.waiting.get()]
            while True:
                try:
                    batch.append(self.waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                pipeline = self.client.pipeline(transaction=False)
                for group, message in batch:
                    pipeline.publish(
                        f"{self.prefix}__group__{group}",
                        self.layer.serialize(message),  # type: ignore[attr-defined]
                    )
                pipeline.execute()
            except Exception:
                logger.exception("%d live updates were not published", len(batch))


_pubsub_publisher: _PubSubPublisher | None = None


def _pubsub_publisher_for(layer: BaseChannelLayer) -> _PubSubPublisher | None:
    """The process's publisher for ``layer`` when it is the pub/sub layer on one Redis."""
    global _pubsub_publisher
    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    if _pubsub_publisher is None or _pubsub_publisher.layer is not layer:
        layers: dict[str, dict[str, Any]] = settings.CHANNEL_LAYERS
        config = layers[DEFAULT_CHANNEL_LAYER].get("CONFIG", {})
        hosts = config.get("hosts") or []
        if len(hosts) != 1 or not isinstance(hosts[0], str):
            return None  # several shards or a Sentinel: the layer's own group_send
        with _own_loop_lock:
            if _pubsub_publisher is None or _pubsub_publisher.layer is not layer:
                _pubsub_publisher = _PubSubPublisher(layer, hosts[0], config.get("prefix", "asgi"))
    return _pubsub_publisher


def publish(group: str, message: dict[str, Any]) -> None:
    """Sends ``message`` to ``group`` without blocking the caller; safe from any thread."""
    layer = get_channel_layer()
    if layer is None:
        return
    publisher = _pubsub_publisher_for(layer)
    if publisher is not None:
        publisher.put(group, message)
        return
    loop = _publishing_loop(layer)
    if loop is None:
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
    future.add_done_callback(_log_failure)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("A live update was not published", exc_info=future.exception())
