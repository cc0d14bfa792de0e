"""Reads for the servers page: each server's health as the poller last saw it, and slots in use."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from django.conf import settings
from django.utils import timezone

from orchestration.models import Server
from orchestration.providers.slots import Slots

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerView:
    server: Server
    slots_in_use: int | None  # None: the slot store (Redis) could not be read
    cooling_down: bool
    specialists: list[str]


def server_list() -> list[ServerView]:
    servers = list(Server.objects.prefetch_related("specialists").order_by("name"))
    used = _slots_in_use(servers)
    now = timezone.now()
    return [
        ServerView(
            server=server,
            slots_in_use=used.get(server.name) if used is not None else None,
            cooling_down=bool(server.cooldown_until and server.cooldown_until > now),
            specialists=[s.role for s in server.specialists.all()],
        )
        for server in servers
    ]


def _slots_in_use(servers: list[Server]) -> dict[str, int] | None:
    if not servers:
        return {}
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
    )
    try:
        free = Slots(client).free([(s.name, s.parallel) for s in servers])
        return {s.name: max(0, s.parallel - free[s.name]) for s in servers}
    except redis.RedisError:
        logger.warning("could not read server slots from Redis")
        return None
    finally:
        client.close()
