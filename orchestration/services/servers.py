"""Server health polling: reachable, version, loaded models, context lengths → ``Server`` rows.

Celery beat runs ``server_health_poll`` (``orchestration.tasks.servers``) which calls
``server_health_check_all``. All servers are polled at once in one event loop, then the rows are
written; no transaction is held while a server is being asked. Only the health fields are
updated, so an admin editing a server at the same moment loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import redis
from django.utils import timezone

from orchestration.engine.errors import ModelError
from orchestration.models import Server
from orchestration.providers.base import ServerHealth
from orchestration.providers.connections import run_async
from orchestration.providers.http import RetryPolicy, Timeouts
from orchestration.providers.registry import client_for_server
from orchestration.services.model_directory import server_pool

log = logging.getLogger(__name__)

POLL_LIMIT_S = 10.0  # a health poll never waits longer than this for one server
POLL_RETRY = RetryPolicy(max_attempts=1)  # the next poll is the retry


def server_health_check_all() -> list[Server]:
    """Poll every server and store what it said. Returns the updated rows."""
    return server_health_check_many(servers=list(Server.objects.all()))


def server_health_check(*, server: Server) -> Server:
    """Poll one server and store what it said. Returns the updated row."""
    return server_health_check_many(servers=[server])[0]


def server_health_check_many(*, servers: Sequence[Server]) -> list[Server]:
    outcomes = run_async(_poll_all(servers)) if servers else []
    cooldowns = _cooldowns([s.name for s in servers])
    now = timezone.now()
    for server, outcome in zip(servers, outcomes, strict=True):
        fields: dict[str, object] = {
            "last_checked_at": now,
            "cooldown_until": cooldowns.get(server.name),
        }
        if isinstance(outcome, ServerHealth):
            fields |= {
                "is_healthy": True,
                "version": outcome.version[:64],
                "loaded_models": list(outcome.loaded_models),
                "context_lengths": dict(outcome.context_lengths),
                "recent_latency_ms": outcome.latency_ms,
                "last_error": "",
            }
        else:
            # keep the last known version and models: the dashboard shows them as stale
            fields |= {"is_healthy": False, "last_error": str(outcome)[:2000]}
            log.warning("server %s failed its health check: %s", server.name, outcome)
        Server.objects.filter(pk=server.pk).update(**fields)
    return list(Server.objects.filter(pk__in=[s.pk for s in servers]))


async def _poll_all(servers: Sequence[Server]) -> list[ServerHealth | ModelError]:
    return await asyncio.gather(*(_poll(s) for s in servers))


async def _poll(server: Server) -> ServerHealth | ModelError:
    timeouts = Timeouts(
        connect_s=min(server.connect_timeout_s, POLL_LIMIT_S),
        read_s=min(server.read_timeout_s, POLL_LIMIT_S),
        deadline_s=min(server.deadline_s, POLL_LIMIT_S),
    )
    try:
        client = client_for_server(
            server.kind, server.base_url, server=server.name, timeouts=timeouts, retry=POLL_RETRY
        )
        return await client.health()
    except ModelError as err:
        return err
    except LookupError as err:  # a kind with no client: say so on the row
        return ModelError(str(err), server=server.name)


def _cooldowns(names: list[str]) -> dict[str, datetime]:
    """Breaker cooldowns from Redis; none when Redis cannot be reached (health still counts)."""
    try:
        breaker = server_pool().breaker
        states = {name: breaker.state(name) for name in names}
    except redis.RedisError as err:
        log.warning("cannot read server cooldowns from Redis: %s", err)
        return {}
    return {
        name: datetime.fromtimestamp(state.cooldown_until, UTC)
        for name, state in states.items()
        if state.cooldown_until is not None
    }
