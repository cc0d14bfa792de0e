"""The engine's ``ModelDirectory`` on the rows: a role's model, reached through the server pool."""

from __future__ import annotations

import functools

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from orchestration.engine.client import ModelClient
from orchestration.engine.state import SpecialistInfo
from orchestration.models import Server, Specialist
from orchestration.providers.http import Timeouts
from orchestration.providers.pool import ServerPool, ServerSpec


@functools.cache
def server_pool() -> ServerPool:
    """One pool per process: slots and breakers live in Redis and are shared by every worker."""
    # The pool's Redis calls are short and synchronous; bounded so a hung Redis cannot stall
    # every model call behind it.
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    return ServerPool(client)


@receiver(setting_changed)
def _pool_reset(*, setting: str, **kwargs) -> None:
    if setting == "REDIS_URL":
        server_pool.cache_clear()


def server_spec(server: Server) -> ServerSpec:
    return ServerSpec(
        name=server.name,
        kind=server.kind,
        base_url=server.base_url,
        parallel=server.parallel,
        timeouts=Timeouts(
            connect_s=server.connect_timeout_s,
            read_s=server.read_timeout_s,
            deadline_s=server.deadline_s,
        ),
    )


class DatabaseModelDirectory:
    """Built once per step from the rows; every role's candidate servers are fixed for the step.

    A role runs on its own server first; other servers that host the same model for another role
    are its failover candidates (the pool prefers whichever has the model loaded and a free slot).
    """

    def __init__(self, specialists: dict[str, SpecialistInfo], *, pool: ServerPool | None = None):
        self._specialists = specialists
        self._pool = pool or server_pool()
        rows = Specialist.objects.filter(enabled=True).select_related("server")
        servers_by_model: dict[str, list[Server]] = {}
        for row in rows:
            servers_by_model.setdefault(row.model, [])
            if row.server not in servers_by_model[row.model]:
                servers_by_model[row.model].append(row.server)
        self._servers: dict[str, tuple[ServerSpec, ...]] = {}
        for row in rows:
            own = [row.server] + [s for s in servers_by_model[row.model] if s != row.server]
            self._servers[row.role] = tuple(
                server_spec(s) for s in own if s.kind == row.server.kind
            )

    def specialist(self, role: str) -> SpecialistInfo:
        try:
            return self._specialists[role]
        except KeyError:
            raise LookupError(f"no enabled specialist {role!r}") from None

    def client_for(self, role: str) -> ModelClient:
        self.specialist(role)
        return self._pool.for_servers(self._servers[role])
