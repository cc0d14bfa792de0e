"""Every fault mode of a model server ends within the deadline, with the right error and attempts.

The calls go through ``OllamaClient`` to the fake Ollama server (a real HTTP server on loopback).
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from orchestration.engine import errors as e
from orchestration.engine.types import ChatMessage, ModelOptions, ModelRequest, ReplyDone, TextDelta
from orchestration.providers import connections
from orchestration.providers.http import RetryPolicy, Timeouts
from orchestration.providers.ollama import OllamaClient
from tests.fakes import replies as r

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02)
REQUEST = ModelRequest(
    model="qwen2.5:14b",
    messages=(ChatMessage("user", "Why is the sky blue?"),),
    options=ModelOptions(num_ctx=8192),
)


def client(url: str, *, read_s: float = 0.4, deadline_s: float = 2.0, retry=FAST_RETRY):
    timeouts = Timeouts(connect_s=0.5, read_s=read_s, deadline_s=deadline_s)
    return OllamaClient(base_url=url, server="ollama01", timeouts=timeouts, retry=retry)


async def failing_chat(c: OllamaClient) -> tuple[e.ModelError, float]:
    started = time.monotonic()
    with pytest.raises(e.ModelError) as caught:
        await c.chat(REQUEST)
    return caught.value, time.monotonic() - started


def outcomes(err_or_reply) -> list[str]:
    return [a.outcome for a in err_or_reply.attempts]


async def test_refused_connection_is_retried_then_ends_as_connect_failed(refused_url):
    err, took = await failing_chat(client(refused_url))
    assert type(err) is e.ConnectFailed and err.retryable
    assert outcomes(err) == ["ConnectFailed"] * 3
    assert err.server == "ollama01"
    assert took < 2.0


async def test_server_that_accepts_and_hangs_times_out_on_every_attempt(fake_ollama):
    fake_ollama.always(r.hang())
    err, took = await failing_chat(client(fake_ollama.url, read_s=0.3, deadline_s=3.0))
    assert type(err) is e.ResponseTimeout
    assert outcomes(err) == ["ResponseTimeout"] * 3
    assert 0.9 <= took < 3.0


async def test_hang_longer_than_the_deadline_ends_at_the_deadline(fake_ollama):
    fake_ollama.always(r.hang())
    err, took = await failing_chat(client(fake_ollama.url, read_s=5.0, deadline_s=0.6))
    assert type(err) is e.DeadlineExceeded and not err.retryable
    assert outcomes(err) == ["DeadlineExceeded"]
    assert 0.6 <= took < 0.9


async def test_byte_drip_cannot_escape_the_total_deadline(fake_ollama):
    # every byte arrives well inside the read timeout, so only the deadline can stop it
    fake_ollama.always(r.drip(r.fixture("chat_plain"), every_s=0.02))
    err, took = await failing_chat(client(fake_ollama.url, read_s=0.5, deadline_s=0.8))
    assert type(err) is e.DeadlineExceeded
    assert outcomes(err) == ["DeadlineExceeded"]
    assert 0.8 <= took < 1.1


async def test_byte_drip_on_a_stream_also_ends_at_the_deadline(fake_ollama):
    fake_ollama.always(r.drip(r.fixture("chat_stream_chunks"), every_s=0.002))
    c = client(fake_ollama.url, read_s=0.5, deadline_s=1.0)
    seen: list[str] = []
    started = time.monotonic()
    with pytest.raises(e.DeadlineExceeded):
        async for event in c.chat_stream(REQUEST):
            if isinstance(event, TextDelta):
                seen.append(event.text)
    assert seen, "some text dripped through before the deadline"
    assert time.monotonic() - started < 1.3


async def test_server_error_is_retried_and_the_third_attempt_succeeds(fake_ollama):
    fake_ollama.script(r.fixture("error_runner_stopped"), r.fixture("error_runner_stopped"))
    reply = await client(fake_ollama.url).chat(REQUEST)
    assert reply.message.content.startswith("The sky looks blue")
    assert outcomes(reply) == ["ServerError", "ServerError", "ok"]
    assert [a.number for a in reply.attempts] == [1, 2, 3]


async def test_queue_full_is_retried_until_attempts_run_out(fake_ollama):
    fake_ollama.always(r.fixture("error_queue_full"))
    err, _ = await failing_chat(client(fake_ollama.url))
    assert type(err) is e.ServerBusy and err.status == 503
    assert "maximum pending requests exceeded" in err.message
    assert outcomes(err) == ["ServerBusy"] * 3
    assert len(fake_ollama.requests_to("/api/chat")) == 3


async def test_backoff_never_sleeps_past_the_deadline(fake_ollama):
    fake_ollama.always(r.fixture("error_queue_full"))
    slow_backoff = RetryPolicy(max_attempts=5, base_delay_s=5.0, max_delay_s=5.0)
    random.seed(1)  # the first full-jitter delay is then far beyond the 0.5 s deadline
    err, took = await failing_chat(client(fake_ollama.url, deadline_s=0.5, retry=slow_backoff))
    assert type(err) is e.ServerBusy
    assert len(err.attempts) == 1
    assert took < 0.5


async def test_bad_request_is_not_retried(fake_ollama):
    fake_ollama.script(r.fixture("error_string_arguments_in_history"))
    err, _ = await failing_chat(client(fake_ollama.url))
    assert type(err) is e.BadRequest and err.status == 400 and not err.retryable
    assert outcomes(err) == ["BadRequest"]


async def test_malformed_json_is_not_retried(fake_ollama):
    fake_ollama.script(r.malformed())
    err, _ = await failing_chat(client(fake_ollama.url))
    assert type(err) is e.MalformedResponse
    assert outcomes(err) == ["MalformedResponse"]


async def test_body_cut_short_is_retried_as_truncated(fake_ollama):
    fake_ollama.script(r.truncated(r.fixture("chat_plain")))
    reply = await client(fake_ollama.url).chat(REQUEST)
    assert outcomes(reply) == ["StreamTruncated", "ok"]


async def test_connection_closed_without_answer_is_retried(fake_ollama):
    fake_ollama.script(r.reset())
    reply = await client(fake_ollama.url).chat(REQUEST)
    assert outcomes(reply) == ["ConnectFailed", "ok"]


async def test_stream_cut_before_any_line_is_retried(fake_ollama):
    fake_ollama.script(r.cut(r.fixture("chat_stream_chunks"), after=0))
    events = [ev async for ev in client(fake_ollama.url).chat_stream(REQUEST)]
    done = events[-1]
    assert isinstance(done, ReplyDone)
    assert outcomes(done.reply) == ["StreamTruncated", "ok"]


async def test_stream_cut_after_text_was_shown_fails_without_retry(fake_ollama):
    fake_ollama.script(r.cut(r.fixture("chat_stream_chunks"), after=3))
    texts: list[str] = []
    with pytest.raises(e.StreamTruncated) as caught:
        async for event in client(fake_ollama.url).chat_stream(REQUEST):
            texts.append(event.text)
    assert texts == ["The", " sky", " looks"]
    assert outcomes(caught.value) == ["StreamTruncated"]
    assert caught.value.retryable, "the caller may still re-run the whole call"


async def test_error_line_inside_a_200_stream_becomes_mid_stream_error(fake_ollama):
    fake_ollama.script(r.fixture("error_midstream"))
    texts: list[str] = []
    with pytest.raises(e.MidStreamError) as caught:
        async for event in client(fake_ollama.url).chat_stream(REQUEST):
            texts.append(event.text)
    assert texts == ["Tokyo", " is"]
    assert "CUDA error: out of memory" in caught.value.message
    assert len(caught.value.attempts) == 1


async def test_error_line_before_any_text_is_retried(fake_ollama):
    fake_ollama.script(
        r.ndjson_reply([{"error": "an error was encountered while running the model"}])
    )
    events = [ev async for ev in client(fake_ollama.url).chat_stream(REQUEST)]
    assert outcomes(events[-1].reply) == ["MidStreamError", "ok"]


async def test_cold_model_load_is_waited_for_and_reported_as_load_time(fake_ollama):
    fake_ollama.script(r.cold(r.fixture("chat_plain"), load_s=0.5))
    reply = await client(fake_ollama.url, read_s=1.0).chat(REQUEST)
    assert reply.timing.load_ms == pytest.approx(500, abs=1)
    assert reply.timing.total_ms >= 500
    assert outcomes(reply) == ["ok"]


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=0.5)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (9, 0.5)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8, "jitter spreads delays across the whole range"


async def test_connection_pool_is_reused_within_one_event_loop(fake_ollama):
    c = client(fake_ollama.url)
    first = connections.shared_client(c.http.base_url, c.http.timeouts)
    await c.chat(REQUEST)
    await c.chat(REQUEST)
    async for _ in c.chat_stream(REQUEST):
        pass
    async for _ in c.chat_stream(REQUEST):
        pass
    await c.chat(REQUEST)
    assert connections.shared_client(c.http.base_url, c.http.timeouts) is first
    assert fake_ollama.connections_opened == 1, "streams are read to the end and the socket reused"


def test_repeated_event_loops_do_not_keep_closed_pools(fake_ollama):
    c = client(fake_ollama.url)
    for _ in range(3):
        reply = connections.run_async(c.chat(REQUEST))
        assert reply.message.content
    assert not [loop for loop in connections._clients if loop.is_closed()]


def test_pools_opened_without_the_bridge_are_dropped_when_their_loop_closed(fake_ollama):
    c = client(fake_ollama.url)
    loops = []

    async def call() -> None:
        loops.append(asyncio.get_running_loop())
        await c.chat(REQUEST)

    asyncio.run(call())
    asyncio.run(call())
    assert loops[0] not in connections._clients


async def test_deadline_never_cancels_the_stream_consumers_own_work(fake_ollama):
    fake_ollama.always(r.Reply(**{**vars(r.fixture("chat_stream_chunks")), "chunk_delay_s": 0.05}))
    c = client(fake_ollama.url, read_s=1.0, deadline_s=0.3)
    slept = False
    with pytest.raises(e.DeadlineExceeded):
        async for _ in c.chat_stream(REQUEST):
            if not slept:
                await asyncio.sleep(0.5)  # the consumer is busy when the deadline passes
                slept = True
    assert slept, "the consumer's sleep ran to its end; the next read raised instead"


async def test_cancelling_a_call_from_outside_is_not_mistaken_for_the_deadline(fake_ollama):
    fake_ollama.always(r.hang())
    task = asyncio.create_task(client(fake_ollama.url, read_s=5.0, deadline_s=5.0).chat(REQUEST))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
