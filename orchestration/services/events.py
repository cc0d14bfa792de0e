"""Live events for the inspector. The database is the log; events only say "look again".

Every event names the conversation and carries its ``seq``; consumers re-read the rows and render
them, and a client that missed events asks for everything after the last seq it saw.
Event types: ``message.created``, ``message.delta`` (streamed tokens, not stored),
``tool_call.updated``, ``escalation.opened``, ``escalation.closed``, ``conversation.status``.

Publishing never blocks the caller: events go, in order, through one background thread per
process. A worker's step does not wait on the inspector. The thread sends whatever has queued up
since its last send together, in two Redis round trips (who is in the groups, then every message),
instead of channels_redis's four per event and group: in a worker whose threads keep the CPU
busy, every round trip costs the thread a wait for the GIL, and those waits were most of an
event's way to the browser.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

RUNS_GROUP = "runs"
# Pages that only show the open escalations (the count in the navigation, the inbox): they need
# none of the runs list's traffic.
ESCALATIONS_GROUP = "escalations"
ESCALATION_EVENTS = frozenset({"escalation.opened", "escalation.closed"})
# Events the runs list also wants (new runs, status changes, escalation counts).
_RUNS_EVENTS = frozenset({"conversation.status", *ESCALATION_EVENTS})


_CONVERSATION_PREFIX = "conversation."


def conversation_group_name(conversation_id: int) -> str:
    """The channel-layer group of one conversation's watchers."""
    return f"{_CONVERSATION_PREFIX}{conversation_id}"


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
    """A daemon thread that sends events in the order they were submitted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, event: dict[str, Any]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mmos-events", daemon=True)
                self._thread.start()
            self._pending += 1
        self._queue.put(event)

    def flush(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        sender = _Sender()
        while True:
            batch = [self._queue.get()]
            # One commit submits its events one after another: wait a moment for the rest, so
            # they go out together and a conversation's watchers get one event for all of them.
            while len(batch) < _BATCH_MAX:
                try:
                    batch.append(self._queue.get(timeout=_GATHER_S))
                except queue.Empty:
                    break
            try:
                sender.send(batch)
            except Exception as exc:  # the inspector catches up by seq; the worker goes on
                logger.warning("could not publish %d events: %s", len(batch), exc)
                sender.reset()
            finally:
                with self._idle:
                    self._pending -= len(batch)
                    self._idle.notify_all()


_BATCH_MAX = 200
_GATHER_S = 0.001

# channels_redis's own script for adding one message to each of its channels' queues.
_GROUP_SEND_LUA = """
local over_capacity = 0
local current_time = ARGV[#ARGV - 1]
local expiry = ARGV[#ARGV]
for i=1,#KEYS do
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], current_time, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


def _groups(event: dict[str, Any]) -> list[str]:
    groups = [conversation_group_name(event["conversation_id"])]
    if event["type"] in _RUNS_EVENTS or event.get("runs_list"):
        groups.append(RUNS_GROUP)
    if event["type"] in ESCALATION_EVENTS:
        groups.append(ESCALATIONS_GROUP)
    return groups


def _sends(batch: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(group, event) pairs to send for ``batch``, in order. A conversation's watchers re-read
    everything up to an event's seq, so of several changes in a row (no streamed tokens
    between them) its group gets only the last; the other groups get every event."""
    sends: list[tuple[str, dict[str, Any]] | None] = []
    last: dict[str, int] = {}  # conversation group -> index of its last "look again" event
    for event in _deltas_joined(batch):
        for group in _groups(event):
            if group.startswith(_CONVERSATION_PREFIX):
                if event["type"] == "message.delta":
                    last.pop(group, None)
                else:
                    if group in last:
                        sends[last[group]] = None
                    last[group] = len(sends)
            sends.append((group, event))
    return [send for send in sends if send is not None]


def _deltas_joined(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``batch`` with each run of token deltas of one stream (nothing else of the conversation
    between them) sent as one delta carrying their text in order: a reply that arrives faster
    than it can be shown costs a page one frame, not one per token."""
    joined: list[dict[str, Any]] = []
    last: dict[Any, int] = {}  # conversation id -> index in ``joined`` of its latest event
    for event in batch:
        conversation = event["conversation_id"]
        previous = joined[last[conversation]] if conversation in last else None
        if (
            event["type"] == "message.delta"
            and previous is not None
            and previous["type"] == "message.delta"
            and previous.get("key") == event.get("key")
            and previous.get("participant") == event.get("participant")
        ):
            previous["text"] = str(previous.get("text", "")) + str(event.get("text", ""))
            continue
        last[conversation] = len(joined)
        joined.append(dict(event) if event["type"] == "message.delta" else event)
    return joined


class _Sender:
    """Sends batches through the channel layer, lives in the publisher thread."""

    def __init__(self) -> None:
        self._layer: Any = None
        self._redis: Any = None  # a synchronous client when the layer allows the batched path
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_score = 0.0

    def reset(self) -> None:
        if self._redis is not None:
            self._redis.close()
        self._layer = self._redis = None

    def send(self, batch: list[dict[str, Any]]) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        if layer is not self._layer:
            self.reset()
            self._layer, self._redis = layer, _sync_client(layer)
        if self._redis is None:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            for event in batch:
                for group in _groups(event):
                    self._loop.run_until_complete(layer.group_send(group, event))
            return
        self._redis_send(layer, _sends(batch))

    def _redis_send(self, layer: Any, sends: list[tuple[str, dict[str, Any]]]) -> None:
        """What channels_redis's ``group_send`` does, for many sends in two round trips."""
        now = time.time()
        groups = list(dict.fromkeys(group for group, _ in sends))
        pipe = self._redis.pipeline(transaction=False)
        for group in groups:
            key = layer._group_key(group)
            pipe.zremrangebyscore(key, min=0, max=int(now) - layer.group_expiry)
            pipe.zrange(key, 0, -1)
        replies = pipe.execute()
        members = {g: [m.decode() for m in replies[2 * i + 1]] for i, g in enumerate(groups)}
        pipe = self._redis.pipeline(transaction=False)
        cleaned: set[bytes] = set()
        evals: list[int] = []  # positions of the scripts' replies among the pipeline's
        for group, event in sends:
            if not members[group]:
                continue
            by_connection, messages, capacities = layer._map_channel_keys_to_connection(
                members[group], event
            )
            keys = by_connection[0]
            for key in keys:
                if key not in cleaned:  # drop messages nobody took in time, as group_send does
                    pipe.zremrangebyscore(key, min=0, max=int(now) - int(layer.expiry))
                    cleaned.add(key)
            # Receivers pop the lowest score first: scores must grow with submission order.
            self._last_score = max(time.time(), self._last_score + 1e-6)
            args = [messages[k] for k in keys] + [capacities[k] for k in keys]
            pipe.eval(_GROUP_SEND_LUA, len(keys), *keys, *args, self._last_score, layer.expiry)
            evals.append(len(pipe) - 1)
        if not evals:
            return
        replies = pipe.execute()
        over = sum(replies[i] for i in evals)
        if over:
            logger.info("%s channel queues over capacity while publishing", over)


def _sync_client(layer: Any) -> Any:
    """A Redis client for ``layer`` if it is channels_redis on one Redis given by URL, else
    ``None`` (sharded or sentinel layers, or other backends, go through ``group_send``)."""
    try:
        from channels_redis.core import RedisChannelLayer
    except ImportError:
        return None
    if not isinstance(layer, RedisChannelLayer) or layer.ring_size != 1:
        return None
    if not hasattr(layer, "_map_channel_keys_to_connection"):
        return None
    host = dict(layer.hosts[0])
    address = host.pop("address", None)
    if address is None:
        return None
    import redis

    return redis.Redis.from_url(address, **host)


_publisher = _Publisher()
