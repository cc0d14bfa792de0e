"""Live events for the inspector. The database is the log; events only say "look again".

Every event names the conversation and carries its ``seq``; consumers re-read the rows and render
them, and a client that missed events asks for everything after the last seq it saw.
Event types: ``message.created``, ``message.delta`` (streamed tokens, not stored),
``tool_call.updated``, ``escalation.opened``, ``escalation.closed``, ``conversation.status``.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
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
    """Publish once the current transaction commits (at once outside a transaction).

    A failed publish is logged, never raised: watchers catch up from the rows.
    """
    event = {"type": type, "conversation_id": conversation_id, "seq": seq, **data}
    transaction.on_commit(lambda: _send(event))


async def event_publish_async(*, conversation_id: int, type: str, seq: int, **data: Any) -> None:
    """For ephemeral events sent from async code (token deltas): no transaction involved."""
    event = {"type": type, "conversation_id": conversation_id, "seq": seq, **data}
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(conversation_group_name(conversation_id), event)
    except Exception:  # noqa: BLE001 - watchers catch up from the database
        logger.warning("could not publish %s for conversation %s", type, conversation_id)


def _send(event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(conversation_group_name(event["conversation_id"]), event)
        if event["type"] in _RUNS_EVENTS or event.get("runs_list"):
            async_to_sync(layer.group_send)(RUNS_GROUP, event)
    except Exception:  # noqa: BLE001 - watchers catch up from the database
        logger.warning(
            "could not publish %s for conversation %s", event["type"], event["conversation_id"]
        )
