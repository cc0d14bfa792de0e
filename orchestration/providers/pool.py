"""The server pool: which server runs a call, its parallel slots, and failover.

For one call the pool gets the servers that could run the model (same model on several servers
is common). It skips servers whose breaker is open, prefers one where the model is already loaded
(``/api/ps``, cached briefly in this process) and a slot is free, waits for a slot if none is
(the wait is the reply's ``queue_wait_ms``), and when a server fails with a retryable error
after the HTTP module's own retries, counts a breaker failure and moves the call to the next
server. Django-free: the service layer turns ``Server`` rows into ``ServerSpec`` values.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

import redis

from orchestration.engine import errors as e
from orchestration.engine.client import ModelClient
from orchestration.engine.types import Attempt, ModelReply, ModelRequest, ReplyDone, StreamEvent
from orchestration.providers.breaker import Breaker, BreakerPolicy
from orchestration.providers.http import RetryPolicy, Timeouts, deadline_in
from orchestration.providers.registry import client_for_server
from orchestration.providers.slots import ACQUIRED, COOLING, NEEDS_PROBE, Slots

log = logging.getLogger(__name__)
SLOT_LEASE_MARGIN_S = 10.0  # a lease outlives its call's deadline by this much, no more


@dataclass(frozen=True)
class ServerSpec:
    """What the pool needs to know about one server (built from a ``Server`` row)."""

    name: str
    kind: str
    base_url: str
    parallel: int = 1
    timeouts: Timeouts = field(default_factory=Timeouts)


@dataclass(frozen=True)
class Lease:
    spec: ServerSpec
    token: str
    waited_ms: float
    failures_before: int  # breaker failures recorded before this call: a success must clear them


class ServerPool:
    def __init__(
        self,
        client: redis.Redis,
        *,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        loaded_ttl_s: float = 5.0,
        clients: Callable[..., ModelClient] = client_for_server,
    ) -> None:
        self.slots = Slots(client)
        self.breaker = Breaker(client, breaker)
        self.retry = retry or RetryPolicy()
        self.loaded_ttl_s = loaded_ttl_s
        self._make_client = clients
        self._clients: dict[ServerSpec, ModelClient] = {}
        self._loaded: dict[str, tuple[float, frozenset[str]]] = {}

    def client(self, spec: ServerSpec) -> Any:
        c = self._clients.get(spec)
        if c is None:
            c = self._clients[spec] = self._make_client(
                spec.kind, spec.base_url, server=spec.name, timeouts=spec.timeouts, retry=self.retry
            )
        return c

    def for_servers(self, servers: Sequence[ServerSpec]) -> PooledClient:
        """A ``ModelClient`` that runs every call on the best of ``servers``."""
        return PooledClient(self, tuple(servers))

    # Calls -------------------------------------------------------------------------------------
    async def chat(
        self,
        request: ModelRequest,
        servers: Sequence[ServerSpec],
        *,
        deadline_at: float | None = None,
    ) -> ModelReply:
        t0 = time.perf_counter()
        deadline = deadline_at if deadline_at is not None else self._deadline(servers)
        attempts: list[Attempt] = []
        tried: set[str] = set()
        while True:
            lease = await self.lease(request.model, servers, tried, deadline, attempts)
            try:
                reply = await self.client(lease.spec).chat(request, deadline_at=deadline)
            except e.ModelError as err:
                self._after_failure(lease, err, attempts, tried, servers)
                continue
            finally:
                self.slots.release(lease.spec.name, lease.token)
            self._after_success(lease)
            return _finish(reply, lease, attempts, t0)

    async def chat_stream(
        self,
        request: ModelRequest,
        servers: Sequence[ServerSpec],
        *,
        deadline_at: float | None = None,
    ) -> AsyncIterator[StreamEvent]:
        t0 = time.perf_counter()
        deadline = deadline_at if deadline_at is not None else self._deadline(servers)
        attempts: list[Attempt] = []
        tried: set[str] = set()
        while True:
            lease = await self.lease(request.model, servers, tried, deadline, attempts)
            shown = False
            try:
                events = self.client(lease.spec).chat_stream(request, deadline_at=deadline)
                async with aclosing(events):
                    async for event in events:
                        if isinstance(event, ReplyDone):
                            self._after_success(lease)
                            event = ReplyDone(_finish(event.reply, lease, attempts, t0))
                        shown = True
                        yield event
                return
            except e.ModelError as err:
                if shown:  # text already reached the consumer: moving servers would repeat it
                    attempts.extend(err.attempts)
                    self._count_failure(lease.spec, err)
                    raise err.with_attempts(tuple(attempts)) from None
                self._after_failure(lease, err, attempts, tried, servers)
            finally:
                self.slots.release(lease.spec.name, lease.token)

    # Choosing a server and taking a slot -------------------------------------------------------
    async def lease(
        self,
        model: str,
        servers: Sequence[ServerSpec],
        tried: set[str],
        deadline: float,
        attempts: list[Attempt],
    ) -> Lease:
        """Take a slot on the best usable server, waiting while all are busy."""
        loop = asyncio.get_running_loop()
        candidates = [s for s in servers if s.name not in tried]
        if len(candidates) > 1:
            candidates = await self._rank(model, candidates, deadline)
        started = loop.time()
        wait = 0.002
        while True:
            ttl_s = deadline - loop.time() + SLOT_LEASE_MARGIN_S
            usable = 0
            for spec in candidates:
                answer = self.slots.try_acquire(spec.name, spec.parallel, ttl_s)
                if answer.status == NEEDS_PROBE and await self._probe(spec):
                    answer = self.slots.try_acquire(spec.name, spec.parallel, ttl_s)
                if answer.status == ACQUIRED:
                    waited_ms = (loop.time() - started) * 1000
                    return Lease(spec, answer.token, waited_ms, answer.detail)
                if answer.status != COOLING:  # busy, or another worker is probing it
                    usable += 1
            if not usable:
                names = ", ".join(s.name for s in servers) or "none given"
                raise e.NoServerAvailable(
                    f"no server can take {model!r} now (cooling down or failed: {names})",
                    attempts=tuple(attempts),
                )
            if loop.time() + wait >= deadline:
                raise e.DeadlineExceeded(
                    "the call's deadline passed while waiting for a server slot",
                    attempts=tuple(attempts),
                )
            await asyncio.sleep(wait * random.uniform(0.5, 1.0))
            wait = min(wait * 2, 0.05)

    async def _rank(
        self, model: str, candidates: list[ServerSpec], deadline: float
    ) -> list[ServerSpec]:
        """Model already loaded first, then servers with a free slot, then the given order."""
        free = self.slots.free([(s.name, s.parallel) for s in candidates])
        loaded = await asyncio.gather(*(self.loaded_models(s, deadline) for s in candidates))
        order = {s.name: i for i, s in enumerate(candidates)}
        has = {s.name: model in names for s, names in zip(candidates, loaded, strict=True)}
        return sorted(candidates, key=lambda s: (not has[s.name], free[s.name] <= 0, order[s.name]))

    async def loaded_models(self, spec: ServerSpec, deadline: float) -> frozenset[str]:
        """The server's loaded models, cached for ``loaded_ttl_s``; empty when it cannot say."""
        now = time.monotonic()
        cached = self._loaded.get(spec.name)
        if cached and cached[0] > now:
            return cached[1]
        names: frozenset[str] = frozenset()
        try:
            short = min(deadline, deadline_in(self.breaker.policy.probe_timeout_s))
            names = frozenset(await self.client(spec).loaded_models(deadline_at=short))
        except (e.ModelError, AttributeError) as err:
            log.info("cannot read loaded models of %s: %s", spec.name, err)
        self._loaded[spec.name] = (now + self.loaded_ttl_s, names)
        return names

    async def _probe(self, spec: ServerSpec) -> bool:
        """Cooldown over: one worker checks the server before real calls return to it."""
        if not self.breaker.claim_probe(spec.name):
            return False
        try:
            deadline = deadline_in(self.breaker.policy.probe_timeout_s)
            await self.client(spec).health(deadline_at=deadline)
        except e.ModelError as err:
            self.breaker.record_failure(spec.name)
            log.warning("server %s still failing its probe: %s", spec.name, err)
            return False
        finally:
            self.breaker.release_probe(spec.name)
        self.breaker.record_success(spec.name)
        log.info("server %s passed its probe and is back in rotation", spec.name)
        return True

    # Outcomes ----------------------------------------------------------------------------------
    def _after_success(self, lease: Lease) -> None:
        if lease.failures_before:
            self.breaker.record_success(lease.spec.name)

    def _after_failure(
        self,
        lease: Lease,
        err: e.ModelError,
        attempts: list[Attempt],
        tried: set[str],
        servers: Sequence[ServerSpec],
    ) -> None:
        """Record the failure; re-raise unless another server may run the call."""
        attempts.extend(err.attempts)
        self._count_failure(lease.spec, err)
        tried.add(lease.spec.name)
        if not err.retryable or all(s.name in tried for s in servers):
            raise err.with_attempts(tuple(attempts))
        log.warning("failing over from %s: %s", lease.spec.name, err)

    def _count_failure(self, spec: ServerSpec, err: e.ModelError) -> None:
        # only the server's fault counts: a bad request would fail anywhere
        if err.retryable or isinstance(err, e.DeadlineExceeded):
            self.breaker.record_failure(spec.name)

    def _deadline(self, servers: Sequence[ServerSpec]) -> float:
        return deadline_in(max((s.timeouts.deadline_s for s in servers), default=600.0))


def _finish(reply: ModelReply, lease: Lease, attempts: list[Attempt], t0: float) -> ModelReply:
    timing = replace(
        reply.timing,
        queue_wait_ms=lease.waited_ms,
        total_ms=(time.perf_counter() - t0) * 1000,
    )
    return replace(reply, timing=timing, attempts=(*attempts, *reply.attempts))


class PooledClient:
    """A ``ModelClient`` bound to a set of equivalent servers of one pool."""

    def __init__(self, pool: ServerPool, servers: tuple[ServerSpec, ...]) -> None:
        self.pool = pool
        self.servers = servers

    async def chat(self, request: ModelRequest, *, deadline_at: float | None = None) -> ModelReply:
        return await self.pool.chat(request, self.servers, deadline_at=deadline_at)

    def chat_stream(
        self, request: ModelRequest, *, deadline_at: float | None = None
    ) -> AsyncIterator[StreamEvent]:
        return self.pool.chat_stream(request, self.servers, deadline_at=deadline_at)
