"""Per-server parallel slots shared by every worker process and machine, kept in Redis.

A server's slots are a sorted set of holder tokens scored by their expiry time (Redis' own clock,
so machines with skewed clocks agree). Acquiring first drops expired holders, so a worker killed
while holding a slot frees it when its lease runs out. The same script also reads the server's
circuit breaker, so the hot path costs one round trip to acquire and one to release.

Redis calls are synchronous on purpose: they take well under a millisecond on a nearby Redis,
and a sync client has no event-loop binding, which matters because Celery tasks run
``asyncio.run`` again and again. Give the client a ``socket_timeout``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import redis

SLOTS_KEY = "mmos:pool:slots:{}"
BREAKER_KEY = "mmos:pool:breaker:{}"

# KEYS: slots, breaker.  ARGV: limit, ttl_ms, token.
# Returns {status, detail}: status 1 acquired (detail = breaker failures so far), 0 full,
# -1 breaker open (detail = open_until_ms), -2 cooldown over, a probe must go first.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local open_until = tonumber(redis.call('HGET', KEYS[2], 'open_until') or '0')
if open_until > now then return {-1, open_until} end
if open_until > 0 then return {-2, open_until} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return {0, 0} end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')}
"""

# KEYS: slots.  ARGV: limit.  Returns how many slots are free now.
_FREE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
"""

ACQUIRED, FULL, COOLING, NEEDS_PROBE = 1, 0, -1, -2


@dataclass(frozen=True)
class SlotAnswer:
    status: int
    detail: int
    token: str = ""


class Slots:
    """The slot sets of all servers, in one Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._acquire = client.register_script(_ACQUIRE)
        self._free = client.register_script(_FREE)

    def try_acquire(self, server: str, limit: int, ttl_s: float) -> SlotAnswer:
        """One attempt to take a slot; never waits."""
        token = uuid.uuid4().hex
        status, detail = self._acquire(
            keys=[SLOTS_KEY.format(server), BREAKER_KEY.format(server)],
            args=[limit, max(1, int(ttl_s * 1000)), token],
        )
        return SlotAnswer(int(status), int(detail), token if status == ACQUIRED else "")

    def release(self, server: str, token: str) -> None:
        self.redis.zrem(SLOTS_KEY.format(server), token)

    def free(self, servers: list[tuple[str, int]]) -> dict[str, int]:
        """Free slots per server (name, limit), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for name, limit in servers:
            self._free(keys=[SLOTS_KEY.format(name)], args=[limit], client=pipe)
        return {name: int(n) for (name, _), n in zip(servers, pipe.execute(), strict=True)}

    def holders(self, server: str) -> int:
        """Holders right now, expired ones included until the next acquire drops them."""
        return int(self.redis.zcard(SLOTS_KEY.format(server)))
