"""The live sockets against the real ASGI application, a real Redis channel layer and the DB."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from channels.db import database_sync_to_async as sync

from orchestration.services.events import event_publish_async
from tests.factories import ConversationFactory, OperatorFactory, ThreadFactory, UserFactory
from tests.inspector import live

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("live_redis_settings"),
]


@pytest.fixture
def alice_cookie(db):
    return live.session_cookie_for(OperatorFactory(username="alice"))


async def _connect(path, cookie, origin=live.ORIGIN):
    comm = live.communicator(path, cookie=cookie, origin=origin)
    connected, code = await comm.connect(timeout=5)
    return comm, connected, code


async def _resume(comm, last_seq, lanes: str = "operator,arbiter,coding,interpreter") -> str:
    """What the page's resume form sends when its socket opens (htmx ws extension format)."""
    await comm.send_to(
        text_data=json.dumps(
            {
                "action": "resume",
                "last_seq": str(last_seq),
                "lanes": lanes,
                "HEADERS": {"HX-Request": "true", "HX-Trigger": "ws-resume"},
            }
        )
    )
    return await comm.receive_from(timeout=5)


async def _frames_until(comm, needle: str, timeout: float = 5.0) -> list[str]:
    frames: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            frames.append(await comm.receive_from(timeout=timeout))
            if needle in frames[-1]:
                return frames


def _rows(frame: str) -> list[int]:
    return [int(s) for s in re.findall(r'class="seq-row lanes-\d+" id="m-(\d+)"', frame)]


def _last_seq(frame: str) -> int:
    return int(re.search(r'id="last-seq" type="hidden" name="last_seq" value="(\d+)"', frame)[1])


async def test_anonymous_visitor_cannot_open_a_conversation_socket():
    run = await sync(ConversationFactory)()
    comm, connected, code = await _connect(f"/ws/conversations/{run.pk}/", cookie="")
    assert not connected and code == 4401
    await comm.disconnect()


async def test_socket_from_another_origin_is_refused(alice_cookie):
    run = await sync(ConversationFactory)()
    comm, connected, _ = await _connect(
        f"/ws/conversations/{run.pk}/", alice_cookie, origin="http://evil.example"
    )
    assert not connected
    await comm.disconnect()


async def test_stranger_cannot_subscribe_to_a_conversation():
    run = await sync(ConversationFactory)()
    cookie = await sync(live.session_cookie_for)(await sync(UserFactory)(username="charlie"))
    comm, connected, code = await _connect(f"/ws/conversations/{run.pk}/", cookie)
    assert not connected and code == 4403
    await comm.disconnect()


async def test_missing_conversation_is_refused(alice_cookie):
    comm, connected, code = await _connect("/ws/conversations/999999/", alice_cookie)
    assert not connected and code == 4404
    await comm.disconnect()


async def test_new_message_arrives_as_a_row_appended_to_the_diagram(alice_cookie):
    run = await sync(ConversationFactory)()
    await sync(live.message_record)(run, sender="operator", recipient="arbiter", content="task")
    comm, connected, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    assert connected
    first = await _resume(comm, 1)
    assert _rows(first) == [] and _last_seq(first) == 1
    await sync(live.message_record)(run, content="Please <b>write</b> it")
    frame = (await _frames_until(comm, "Please"))[-1]
    assert 'hx-swap-oob="beforeend:#seq-rows"' in frame
    assert _rows(frame) == [2]
    assert "Please &lt;b&gt;write&lt;/b&gt; it" in frame
    assert _last_seq(frame) == 2
    await comm.disconnect()


async def test_reconnecting_client_gets_what_it_missed_in_order_without_duplicates(alice_cookie):
    run = await sync(ConversationFactory)()
    for n in range(1, 6):
        await sync(live.message_record)(run, content=f"message {n}")
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    frame = await _resume(comm, 2)
    assert _rows(frame) == [3, 4, 5]
    assert _last_seq(frame) == 5
    await sync(live.message_record)(run, content="message 6")
    frames = await _frames_until(comm, "message 6")
    assert [seq for f in frames for seq in _rows(f)] == [6]
    # The same event arrives on two groups (the run's and the runs list's): no second row.
    await sync(live.message_record)(run, content="message 7")
    frames = await _frames_until(comm, "message 7")
    await asyncio.sleep(0.3)
    while not await comm.receive_nothing(timeout=0.2):
        frames.append(await comm.receive_from())
    assert [seq for f in frames for seq in _rows(f)] == [7]
    await comm.disconnect()


async def test_page_that_does_not_say_its_lanes_gets_the_whole_diagram_redrawn(alice_cookie):
    run = await sync(ConversationFactory)()
    for n in range(1, 4):
        await sync(live.message_record)(run, content=f"message {n}")
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    frame = await _resume(comm, 2, lanes="")
    assert '<section id="diagram" class="panel diagram" hx-swap-oob="outerHTML"' in frame
    assert _rows(frame) == [1, 2, 3]
    assert (
        'id="lanes-input" type="hidden" name="lanes" value="operator,arbiter,interpreter,coding"'
        in frame
    )
    await comm.disconnect()


async def test_message_from_a_new_participant_redraws_the_diagram_with_its_lane(alice_cookie):
    run = await sync(ConversationFactory)()
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    await _resume(comm, 0)
    await sync(live.message_record)(run, sender="arbiter", recipient="vision", content="look")
    frame = (await _frames_until(comm, "look"))[-1]
    assert re.search(r'<div class="lane-head gs-\d">vision</div>', frame)
    assert _rows(frame) == [1]
    await comm.disconnect()


async def test_client_too_far_behind_is_told_to_reload(alice_cookie):
    run = await sync(ConversationFactory)()
    await sync(lambda: type(run).objects.filter(pk=run.pk).update(last_seq=900))()
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    frame = await _resume(comm, 10)
    assert 'data-reload="1"' in frame
    assert _rows(frame) == []
    await comm.disconnect()


async def test_tool_call_change_redraws_the_cards_of_its_message(alice_cookie):
    run = await sync(ConversationFactory)()
    message = await sync(live.message_record)(
        run, sender="arbiter", recipient="arbiter", role="assistant", content="calling"
    )
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    await _resume(comm, 1)
    await sync(live.tool_call_record)(
        run,
        message=message,
        call_id="c1",
        name="consult_coding_specialist",
        arguments={"task": "x"},
        status="running",
        repairs=[{"stage": "json_repair", "before": "{task: x", "after": {"task": "x"}}],
    )
    frame = (await _frames_until(comm, "consult_coding_specialist"))[-1]
    assert f'hx-swap-oob="innerHTML:#calls-{message.pk}"' in frame
    assert "json_repair" in frame and "Running" in frame
    assert _rows(frame) == []
    await comm.disconnect()


async def test_status_change_and_escalation_redraw_their_panels(alice_cookie):
    run = await sync(ConversationFactory)(status="running")
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    await _resume(comm, 0)
    await sync(live.escalation_open)(run, "Which <i>version</i>?")
    frame = (await _frames_until(comm, "run-escalations"))[-1]
    assert 'id="run-escalations"' in frame and "Which &lt;i&gt;version&lt;/i&gt;?" in frame
    assert 'id="nav-escalations"' in frame
    await sync(live.status_set)(run, "waiting_for_user")
    frame = (await _frames_until(comm, 'id="run-status"'))[-1]
    assert "Waiting for user" in frame
    await comm.disconnect()


async def test_tokens_stream_into_a_row_that_the_finished_message_replaces(alice_cookie):
    run = await sync(ConversationFactory)()
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    await _resume(comm, 0)
    frames = []
    # One token at a time, as a model streams them (tokens sent in the same instant go out as
    # one delta: see test_tokens_sent_together_reach_the_page_in_one_frame_in_order).
    for text in ("Hel", "lo <script>"):
        await event_publish_async(
            conversation_id=run.pk,
            type="message.delta",
            seq=0,
            key="arbiter:1",
            participant="arbiter",
            text=text,
        )
        frames.append(await comm.receive_from(timeout=5))
    first, second = frames
    assert 'hx-swap-oob="beforeend:#streams"' in first and "Hel" in first
    stream_id = re.search(r'id="(stream-[0-9a-f]+)"', first)[1]
    assert f'hx-swap-oob="beforeend:#{stream_id}-text"' in second
    assert "lo &lt;script&gt;" in second
    await sync(live.message_record)(
        run,
        journal_key="arbiter:1",
        sender="arbiter",
        recipient="arbiter",
        role="assistant",
        content="Hello <script>",
    )
    frame = (await _frames_until(comm, "seq-rows"))[-1]
    assert f'<div id="{stream_id}" hx-swap-oob="delete"></div>' in frame
    assert _rows(frame) == [1]
    await comm.disconnect()


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2]",
        '"text"',
        json.dumps({"last_seq": "abc"}),
        json.dumps({"last_seq": -5}),
        json.dumps({"action": "drop_tables"}),
        "{" * 20_000,
    ],
)
async def test_malformed_frame_gets_an_error_frame_and_the_socket_keeps_working(
    alice_cookie, payload
):
    run = await sync(ConversationFactory)()
    await sync(live.message_record)(run, content="hello")
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    await comm.send_to(text_data=payload)
    error = await comm.receive_from(timeout=5)
    assert 'id="ws-notice"' in error and "error" in error
    frame = await _resume(comm, 0)
    assert _rows(frame) == [1]
    await comm.disconnect()


async def test_runs_list_socket_adds_new_runs_and_updates_their_rows(alice_cookie):
    comm, connected, _ = await _connect("/ws/runs/?view=list", alice_cookie)
    assert connected
    await comm.send_to(text_data=json.dumps({"action": "resume", "last_seq": "0"}))
    frames = await _frames_until(comm, "nav-escalations")
    assert 'id="runs-body" hx-swap-oob="outerHTML"' in frames[0]
    run = await sync(ConversationFactory)(task="A brand new run")
    await sync(live.status_set)(run, "running")
    frame = (await _frames_until(comm, "A brand new run"))[-1]
    assert f'id="run-{run.pk}"' in frame
    await sync(live.status_set)(run, "completed")
    frame = (await _frames_until(comm, "Completed"))[-1]
    assert f'<tr id="run-{run.pk}"' in frame and 'hx-swap-oob="outerHTML"' in frame
    await comm.disconnect()


async def test_runs_list_socket_refuses_strangers_but_the_navigation_count_is_for_everyone():
    cookie = await sync(live.session_cookie_for)(await sync(UserFactory)(username="charlie"))
    comm, connected, code = await _connect("/ws/runs/?view=list", cookie)
    assert not connected and code == 4403
    comm, connected, _ = await _connect("/ws/runs/?view=nav", cookie)
    assert connected
    await comm.send_to(text_data=json.dumps({"action": "resume", "last_seq": "0"}))
    assert 'id="nav-escalations"' in await comm.receive_from(timeout=5)
    await comm.disconnect()


async def test_threads_panel_is_redrawn_once_after_resuming_then_only_grows(alice_cookie):
    run = await sync(ConversationFactory)()
    thread = await sync(ThreadFactory)(conversation=run, participant="coding")
    await sync(live.message_record)(run, thread=thread, content="first")
    comm, _, _ = await _connect(f"/ws/conversations/{run.pk}/", alice_cookie)
    await _resume(comm, 1)
    await sync(live.message_record)(run, thread=thread, content="second")
    frame = (await _frames_until(comm, "second"))[-1]
    assert '<section id="threads" class="panel threads" hx-swap-oob="outerHTML"' in frame
    assert '<a href="#m-1">#1</a>, <a href="#m-2">#2</a>' in frame
    await sync(live.message_record)(run, thread=thread, content="third", withheld=["<b>x</b>"])
    frame = (await _frames_until(comm, "third"))[-1]
    assert 'id="threads"' not in frame
    assert f'<div hx-swap-oob="beforeend:#thread-{thread.pk}-seen">, <a href="#m-3">#3</a>' in frame
    assert f'hx-swap-oob="innerHTML:#thread-{thread.pk}-withheld"' in frame
    assert "&lt;b&gt;x&lt;/b&gt;" in frame
    await comm.disconnect()
