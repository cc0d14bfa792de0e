"""A circuit breaker per server, its state in Redis so every worker sees the same cooldown.

Closed → (``failure_threshold`` consecutive failures) → open for a cooldown → half-open: one
worker wins the probe lock and checks the server; success closes the breaker, failure opens it
again with the cooldown doubled (capped). The slot script reads ``open_until`` on every acquire.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from orchestration.providers.slots import BREAKER_KEY

PROBE_KEY = "mmos:pool:probe:{}"

# KEYS: breaker.  ARGV: threshold, cooldown_ms, max_cooldown_ms.
# A failure while half-open (open_until set and passed) re-opens at once.
_FAILURE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
local max_ms = tonumber(ARGV[3])
if failures >= tonumber(ARGV[1]) or (open_until > 0 and open_until <= now) then
  local trips = redis.call('HINCRBY', KEYS[1], 'trips', 1)
  local cool = math.floor(math.min(tonumber(ARGV[2]) * 2 ^ (trips - 1), max_ms))
  open_until = now + cool
  redis.call('HSET', KEYS[1], 'open_until', open_until, 'failures', 0)
end
redis.call('PEXPIRE', KEYS[1], max_ms * 4)
return open_until
"""

_STATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'failures', 'open_until', 'trips')
return {tonumber(v[1] or '0'), tonumber(v[2] or '0'), tonumber(v[3] or '0'), now}
"""


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 3
    cooldown_s: float = 15.0
    max_cooldown_s: float = 300.0
    probe_timeout_s: float = 3.0


@dataclass(frozen=True)
class BreakerState:
    failures: int
    open_until_ms: int  # Redis clock, ms since the epoch; 0 = closed
    trips: int
    now_ms: int

    @property
    def is_open(self) -> bool:
        return self.open_until_ms > self.now_ms

    @property
    def cooldown_until(self) -> float | None:
        """Epoch seconds while open, else None."""
        return self.open_until_ms / 1000 if self.is_open else None


class Breaker:
    def __init__(self, client: redis.Redis, policy: BreakerPolicy | None = None) -> None:
        self.redis = client
        self.policy = policy or BreakerPolicy()
        self._failure = client.register_script(_FAILURE)
        self._state = client.register_script(_STATE)

    def record_failure(self, server: str) -> int:
        """Count one failure; returns ``open_until_ms`` (0 while still closed)."""
        p = self.policy
        return int(
            self._failure(
                keys=[BREAKER_KEY.format(server)],
                args=[p.failure_threshold, int(p.cooldown_s * 1000), int(p.max_cooldown_s * 1000)],
            )
        )

    def record_success(self, server: str) -> None:
        self.redis.delete(BREAKER_KEY.format(server))

    def state(self, server: str) -> BreakerState:
        failures, open_until, trips, now = self._state(keys=[BREAKER_KEY.format(server)])
        return BreakerState(int(failures), int(open_until), int(trips), int(now))

    def claim_probe(self, server: str) -> bool:
        """Only one worker probes a server whose cooldown is over."""
        ttl_ms = int(self.policy.probe_timeout_s * 1000) + 1000
        return bool(self.redis.set(PROBE_KEY.format(server), "1", nx=True, px=ttl_ms))

    def release_probe(self, server: str) -> None:
        self.redis.delete(PROBE_KEY.format(server))
