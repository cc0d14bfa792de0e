"""Live events for the inspector. The database is the log; events only say "look again".

Every event names the conversation and carries its ``seq``; consumers re-read the rows and render
them, and a client that missed events asks for everything after the last seq it saw.
Event types: ``message.created``, ``message.delta`` (streamed tokens, not stored),
``tool_call.updated``, ``escalation.opened``, ``escalation.closed``, ``conversation.status``.

Publishing never blocks the caller: events go, in order, through one background thread per
process that keeps an event loop and the channel layer's Redis connections open. A worker's step
does not wait on the inspector.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

RUNS_GROUP = "runs"
# Events the runs list also wants (new runs, status changes, escalation counts).
_RUNS_EVENTS = frozenset({"conversation.status", "escalation.opened", "escalation.closed"})


def conversation_group_name(conversation_id: int) -> str:
    """The channel-layer group of one conversation's watchers."""
    return f"conversation.{conversation_id}"


def event_publish(*, conversation_id: int, type: str, seq: int, **data: Any) -> None:
    """Publish once the current transaction commits (at once outside a transaction)."""
    event = {"type": type, "conversation_id": conversation_id, "seq": seq, **data}
    transaction.on_commit(lambda: _publisher.submit(event))


async def event_publish_async(*, conversation_id: int, type: str, seq: int, **data: Any) -> None:
    """For ephemeral events sent from async code (token deltas): no transaction involved."""
    _publisher.submit({"type": type, "conversation_id": conversation_id, "seq": seq, **data})


def events_flush(timeout: float = 5.0) -> bool:
    """Wait until every event submitted so far was sent (or failed). For tests and exits."""
    return _publisher.flush(timeout)


class _Publisher:
    """A daemon thread with its own event loop that sends events one after another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, event: dict[str, Any]) -> None:
        with self._lock:
            if self._loop is None or not self._thread.is_alive():
                self._start()
            self._pending += 1
            loop, queue = self._loop, self._queue
        loop.call_soon_threadsafe(queue.put_nowait, event)

    def flush(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._queue = asyncio.Queue()
            ready.set()
            self._loop.run_until_complete(self._drain())

        self._thread = threading.Thread(target=run, name="mmos-events", daemon=True)
        self._thread.start()
        ready.wait()

    async def _drain(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await _send(event)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


async def _send(event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(conversation_group_name(event["conversation_id"]), event)
        if event["type"] in _RUNS_EVENTS or event.get("runs_list"):
            await layer.group_send(RUNS_GROUP, event)
    except Exception:
        logger.warning(
            "could not publish %s for conversation %s", event["type"], event["conversation_id"]
        )


_publisher = _Publisher()
