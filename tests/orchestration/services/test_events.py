"""The event publisher against a real Redis channel layer: order, grouping, joined tokens."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from orchestration.services.events import (
    ESCALATIONS_GROUP,
    RUNS_GROUP,
    conversation_group_name,
    event_publish,
    event_publish_async,
    events_flush,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("live_redis_settings"),
]


async def _member_of(group: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def _received(channel: str) -> list[dict]:
    """Every message waiting on ``channel`` once the publisher has sent all it was given."""
    assert await sync_to_async(events_flush)(10.0)
    layer, messages = get_channel_layer(), []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
        except TimeoutError:
            return messages


def _publish_committed(**event) -> None:
    with transaction.atomic():
        event_publish(**event)


async def test_runs_list_gets_every_status_change_in_the_order_they_were_committed():
    channel = await _member_of(RUNS_GROUP)
    for n in range(1, 41):
        await sync_to_async(_publish_committed)(
            conversation_id=n, type="conversation.status", seq=n, status="running"
        )
    received = await _received(channel)
    assert [m["conversation_id"] for m in received] == list(range(1, 41))
    assert {m["type"] for m in received} == {"conversation.status"}


async def test_rolled_back_changes_publish_nothing():
    channel = await _member_of(RUNS_GROUP)

    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            event_publish(conversation_id=5, type="conversation.status", seq=1, status="running")
            raise RuntimeError("the write failed")

    await sync_to_async(rolled_back)()
    await sync_to_async(_publish_committed)(
        conversation_id=6, type="conversation.status", seq=1, status="queued"
    )
    assert [m["conversation_id"] for m in await _received(channel)] == [6]


async def test_a_conversations_watchers_get_its_latest_change_after_every_token_in_order():
    channel = await _member_of(conversation_group_name(7))
    await sync_to_async(_publish_committed)(conversation_id=7, type="message.created", seq=1)
    for text in ("Hel", "lo ", "<b>", "world"):
        await event_publish_async(
            conversation_id=7,
            type="message.delta",
            seq=0,
            key="arbiter:1",
            participant="arbiter",
            text=text,
        )
    for seq, kind in ((2, "message.created"), (3, "tool_call.updated"), (4, "message.created")):
        await sync_to_async(_publish_committed)(conversation_id=7, type=kind, seq=seq)
    received = await _received(channel)
    deltas = [m for m in received if m["type"] == "message.delta"]
    changes = [m["seq"] for m in received if m["type"] != "message.delta"]
    # However the publisher grouped them: the tokens arrive whole and in order, after the
    # change that came before them; changes only ever move forward and end at the latest.
    assert "".join(m["text"] for m in deltas) == "Hello <b>world"
    assert received[0]["type"] == "message.created" and received[0]["seq"] == 1
    assert changes == sorted(set(changes)) and changes[-1] == 4
    assert all(m["conversation_id"] == 7 for m in received)


async def test_escalations_reach_pages_that_only_count_them_but_status_changes_do_not():
    channel = await _member_of(ESCALATIONS_GROUP)
    await sync_to_async(_publish_committed)(
        conversation_id=3, type="conversation.status", seq=1, status="running"
    )
    await sync_to_async(_publish_committed)(
        conversation_id=3, type="escalation.opened", seq=2, escalation_id=9
    )
    received = await _received(channel)
    assert [(m["type"], m["escalation_id"]) for m in received] == [("escalation.opened", 9)]
