"""The server pool with a real Redis and fake Ollama servers: slots, choice, breaker, failover."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
import uuid

import pytest
import redis

from orchestration.engine import errors as e
from orchestration.engine.types import ChatMessage, ModelOptions, ModelRequest, ReplyDone
from orchestration.providers import connections, http
from orchestration.providers.breaker import BreakerPolicy
from orchestration.providers.http import RetryPolicy, Timeouts
from orchestration.providers.pool import ServerPool, ServerSpec
from orchestration.providers.slots import ACQUIRED, FULL, Slots
from tests.fakes import replies as r

FAST_RETRY = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.01)
QUICK_BREAKER = BreakerPolicy(
    failure_threshold=2, cooldown_s=0.4, max_cooldown_s=2.0, probe_timeout_s=1.0
)
MODEL = "qwen2.5:14b"
REQUEST = ModelRequest(
    model=MODEL, messages=(ChatMessage("user", "hi"),), options=ModelOptions(num_ctx=4096)
)


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def pool(redis_client) -> ServerPool:
    return ServerPool(redis_client, retry=FAST_RETRY, breaker=QUICK_BREAKER)


def spec(url: str, *, parallel: int = 1, name: str = "") -> ServerSpec:
    # unique names: Redis state is keyed by server name and outlives a test
    return ServerSpec(
        name=name or f"ollama-{uuid.uuid4().hex[:8]}",
        kind="ollama",
        base_url=url,
        parallel=parallel,
        timeouts=Timeouts(connect_s=0.5, read_s=2.0, deadline_s=5.0),
    )


def slow_answer(seconds: float):
    return lambda q: r.ollama_chat(q.json, "ok", latency_s=seconds)


def _call_through_pool(redis_url: str, server: ServerSpec, calls: int) -> None:
    """A worker process: its own Redis client, pool and event loop, like a Celery worker."""

    async def run() -> None:
        pool = ServerPool(redis.Redis.from_url(redis_url), retry=FAST_RETRY)
        client = pool.for_servers([server])
        for _ in range(calls):
            await client.chat(REQUEST)

    connections.run_async(run())


def _hold_a_slot_forever(
    redis_url: str, server: str, ttl_s: float, held: multiprocessing.Event
) -> None:
    answer = Slots(redis.Redis.from_url(redis_url)).try_acquire(server, 1, ttl_s)
    if answer.status == ACQUIRED:
        held.set()
    time.sleep(60)


# --- slots -----------------------------------------------------------------------------------


def test_slots_hold_under_several_worker_processes(redis_url, fake_ollama):
    fake_ollama.respond_with(slow_answer(0.05))
    server = spec(fake_ollama.url, parallel=2)
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_call_through_pool, args=(redis_url, server, 5)) for _ in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert len(fake_ollama.requests_to("/api/chat")) == 20
    assert fake_ollama.max_in_flight == 2, "two slots: never more, and both were used"


def test_slot_of_a_killed_worker_frees_itself_when_its_lease_expires(redis_url, redis_client):
    server = f"ollama-{uuid.uuid4().hex[:8]}"
    ctx = multiprocessing.get_context("spawn")
    held = ctx.Event()
    worker = ctx.Process(target=_hold_a_slot_forever, args=(redis_url, server, 1.0, held))
    worker.start()
    try:
        assert held.wait(30)
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        slots = Slots(redis_client)
        assert slots.try_acquire(server, 1, 5.0).status == FULL
        time.sleep(1.1)
        assert slots.try_acquire(server, 1, 5.0).status == ACQUIRED
    finally:
        worker.kill()


async def test_time_spent_waiting_for_a_slot_is_the_queue_wait(pool, fake_ollama):
    fake_ollama.respond_with(slow_answer(0.3))
    client = pool.for_servers([spec(fake_ollama.url, parallel=1)])
    first, second = await asyncio.gather(client.chat(REQUEST), client.chat(REQUEST))
    waits = sorted([first.timing.queue_wait_ms, second.timing.queue_wait_ms])
    assert waits[0] < 50
    assert waits[1] >= 250
    assert fake_ollama.max_in_flight == 1


async def test_deadline_passing_while_waiting_for_a_slot_ends_the_call(
    pool, fake_ollama, redis_client
):
    server = spec(fake_ollama.url, parallel=1)
    assert Slots(redis_client).try_acquire(server.name, 1, 30).status == ACQUIRED
    started = time.monotonic()
    with pytest.raises(e.DeadlineExceeded, match="waiting for a server slot"):
        await pool.chat(REQUEST, [server], deadline_at=http.deadline_in(0.3))
    assert time.monotonic() - started < 0.5
    assert fake_ollama.requests_to("/api/chat") == []


# --- choosing among equivalent servers -------------------------------------------------------


async def test_server_with_the_model_already_loaded_is_preferred(pool, fake_ollama_factory):
    cold, warm = fake_ollama_factory(), fake_ollama_factory()
    cold.loaded = {}
    warm.loaded = {MODEL: 16384}
    reply = await pool.chat(REQUEST, [spec(cold.url, name="cold"), spec(warm.url, name="warm")])
    assert reply.server == "warm"
    assert cold.requests_to("/api/chat") == []


async def test_server_with_a_free_slot_is_preferred_over_a_busy_one(
    pool, fake_ollama_factory, redis_client
):
    busy, idle = fake_ollama_factory(), fake_ollama_factory()
    busy_spec, idle_spec = spec(busy.url), spec(idle.url)
    assert Slots(redis_client).try_acquire(busy_spec.name, 1, 30).status == ACQUIRED
    reply = await pool.chat(REQUEST, [busy_spec, idle_spec])
    assert reply.server == idle_spec.name
    assert reply.timing.queue_wait_ms < 50


# --- breaker and failover --------------------------------------------------------------------


async def test_calls_fail_over_and_the_failing_server_returns_after_it_heals(
    pool, fake_ollama_factory
):
    flaky, steady = fake_ollama_factory(), fake_ollama_factory()
    servers = [spec(flaky.url, name=f"flaky-{uuid.uuid4().hex[:6]}"), spec(steady.url)]
    flaky.always(r.fixture("error_runner_stopped"))

    reply = await pool.chat(REQUEST, servers)  # flaky fails twice, the call moves on
    assert reply.server == servers[1].name
    assert [(a.server, a.outcome) for a in reply.attempts] == [
        (servers[0].name, "ServerError"), (servers[0].name, "ServerError"), (servers[1].name, "ok"),
    ]  # fmt: skip
    await pool.chat(REQUEST, servers)  # second failure: the breaker opens
    assert pool.breaker.state(servers[0].name).is_open

    before = len(flaky.requests_to("/api/chat"))
    reply = await pool.chat(REQUEST, servers)
    assert reply.server == servers[1].name
    assert len(flaky.requests_to("/api/chat")) == before, "no call reaches a cooling server"

    flaky.heal()
    await asyncio.sleep(QUICK_BREAKER.cooldown_s + 0.1)
    reply = await pool.chat(REQUEST, servers)
    assert reply.server == servers[0].name, "probed, healthy, back in rotation"
    assert flaky.requests_to("/api/version"), "the probe came first"
    assert not pool.breaker.state(servers[0].name).is_open


async def test_a_server_failing_its_probe_cools_down_for_longer(pool, fake_ollama_factory):
    broken, steady = fake_ollama_factory(), fake_ollama_factory()
    servers = [spec(broken.url), spec(steady.url)]
    broken.always(r.fixture("error_runner_stopped"))
    broken.always(r.error(500, "still broken"), path="/api/version")
    for _ in range(2):
        await pool.chat(REQUEST, servers)
    first = pool.breaker.state(servers[0].name)
    await asyncio.sleep(first.open_until_ms / 1000 - time.time() + 0.05)
    reply = await pool.chat(REQUEST, servers)
    assert reply.server == servers[1].name
    again = pool.breaker.state(servers[0].name)
    assert again.is_open and again.trips == 2
    assert again.open_until_ms - again.now_ms > QUICK_BREAKER.cooldown_s * 1000


async def test_breaker_state_is_shared_by_every_pool_on_the_same_redis(
    pool, redis_client, fake_ollama_factory
):
    broken, steady = fake_ollama_factory(), fake_ollama_factory()
    servers = [spec(broken.url), spec(steady.url)]
    broken.always(r.fixture("error_runner_stopped"))
    for _ in range(2):
        await pool.chat(REQUEST, servers)
    other_worker = ServerPool(redis_client, retry=FAST_RETRY, breaker=QUICK_BREAKER)
    before = len(broken.requests_to("/api/chat"))
    assert (await other_worker.chat(REQUEST, servers)).server == servers[1].name
    assert len(broken.requests_to("/api/chat")) == before


async def test_when_every_server_cools_down_the_call_fails_fast(pool, fake_ollama_factory):
    a, b = fake_ollama_factory(), fake_ollama_factory()
    servers = [spec(a.url), spec(b.url)]
    for fake in (a, b):
        fake.always(r.fixture("error_queue_full"))
    for _ in range(2):
        with pytest.raises(e.ServerBusy):
            await pool.chat(REQUEST, servers)
    started = time.monotonic()
    with pytest.raises(e.NoServerAvailable):
        await pool.chat(REQUEST, servers)
    assert time.monotonic() - started < 0.2


async def test_a_bad_request_is_not_failed_over(pool, fake_ollama_factory):
    a, b = fake_ollama_factory(), fake_ollama_factory()
    a.always(r.fixture("error_no_tools_support"))
    with pytest.raises(e.ModelUnsupported):
        await pool.chat(REQUEST, [spec(a.url), spec(b.url)])
    assert b.requests_to("/api/chat") == []
    assert not pool.breaker.state(spec(a.url).name).failures


async def test_a_stream_fails_over_while_nothing_has_been_shown(pool, fake_ollama_factory):
    busy, steady = fake_ollama_factory(), fake_ollama_factory()
    servers = [spec(busy.url), spec(steady.url)]
    busy.always(r.fixture("error_queue_full"))
    events = [ev async for ev in pool.chat_stream(REQUEST, servers)]
    done = events[-1]
    assert isinstance(done, ReplyDone) and done.reply.server == servers[1].name
    assert [a.outcome for a in done.reply.attempts] == ["ServerBusy", "ServerBusy", "ok"]
    assert done.reply.timing.queue_wait_ms is not None


async def test_slots_are_released_after_failures_and_cancellation(pool, fake_ollama, redis_client):
    server = spec(fake_ollama.url, parallel=1)
    fake_ollama.script(r.fixture("error_model_not_found"))
    with pytest.raises(e.ModelNotFound):
        await pool.chat(REQUEST, [server])
    fake_ollama.respond_with(slow_answer(5))
    task = asyncio.create_task(pool.chat(REQUEST, [server]))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert Slots(redis_client).holders(server.name) == 0
