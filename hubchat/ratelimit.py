"""Rate limits: a sliding-window log per key, shared by every node through Redis.

The contract is :class:`RateLimiter`.  :class:`RedisRateLimiter` keeps the log of each key in a
sorted set and decides in one Lua script, on the Redis server's clock (plus the injected
clock's ``ahead_secs``: 0 in production, see hubchat/clock.py), so nodes whose clocks disagree
still share one count.  :class:`MemoryRateLimiter` gives the same answers inside one process (a
single node without Redis), on the injected clock's ``monotonic``.

Semantics (both): a call for ``key`` is allowed while fewer than ``limit`` calls were allowed in
the last ``window_secs``; an allowed call is counted, a refused one is not.  A refusal says how
long until the oldest counted call leaves the window.  ``limit <= 0`` means unlimited (nothing is
counted).  Decisions are atomic: two nodes racing for the last slot never both get it.
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hubchat.clock import Clock, SystemClock
from hubchat.errors import RateLimited, Unavailable

__all__ = ["MemoryRateLimiter", "RateLimiter", "RedisRateLimiter"]


class RateLimiter(Protocol):
    """Sliding-window limits; atomic per key; ``limit <= 0`` is unlimited."""

    async def allow(self, key: str, limit: int, window_secs: float) -> float:
        """0.0 when allowed (and counted); else the seconds until a retry can pass (not counted)."""
        ...

    async def hit(self, key: str, limit: int, window_secs: float, what: str = "requests") -> None:
        """Count one call, or raise :class:`RateLimited` (code ``rate_limited``) when over."""
        ...


class _HitFromAllow:
    async def allow(self, key: str, limit: int, window_secs: float) -> float:
        raise NotImplementedError

    async def hit(self, key: str, limit: int, window_secs: float, what: str = "requests") -> None:
        retry_after_secs = await self.allow(key, limit, window_secs)
        if retry_after_secs > 0:
            shown = max(1, math.ceil(retry_after_secs))
            raise RateLimited(f"too many {what}; retry in {shown} s", retry_after_secs=retry_after_secs)


def _window_ms(window_secs: float) -> int:
    if window_secs <= 0:
        raise ValueError("window_secs must be positive")
    return max(1, math.ceil(window_secs * 1000))


# KEYS[1]: the log; ARGV: limit, window in ms, a token unique to this call, the clock's lead in ms.
# Scores are server milliseconds (13 digits: exact in Lua's %.14g number formatting).
_SLIDING_WINDOW_LUA = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
"""


class RedisRateLimiter(_HitFromAllow):
    """Sliding-window log in the sorted set ``prefix + "rl:" + key``, expiring after the window.

    Redis errors become :class:`Unavailable` (the limiter fails closed).  The client is
    borrowed, not closed.
    """

    def __init__(self, redis: aioredis.Redis, prefix: str, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._key_prefix = prefix + "rl:"
        self._script = redis.register_script(_SLIDING_WINDOW_LUA)
        self._token_prefix = secrets.token_hex(4)
        self._calls = 0

    async def allow(self, key: str, limit: int, window_secs: float) -> float:
        if limit <= 0:
            return 0.0
        self._calls += 1
        token = f"{self._token_prefix}{self._calls}"
        try:
            wait_ms = await self._script(
                keys=[self._key_prefix + key], args=[limit, _window_ms(window_secs), token,
                                                   round(self._clock.ahead_secs() * 1000)]
            )
        except RedisError as exc:
            raise Unavailable("rate limiter unavailable") from exc
        return int(wait_ms) / 1000


@dataclass
class _Log:
    times: deque[float] = field(default_factory=deque)
    expires_at: float = 0.0


class MemoryRateLimiter(_HitFromAllow):
    """The same sliding-window log in this process, on the clock's ``monotonic``."""

    PURGE_EVERY_CALLS = 1024

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._logs: dict[str, _Log] = {}
        self._calls = 0

    async def allow(self, key: str, limit: int, window_secs: float) -> float:
        if limit <= 0:
            return 0.0
        window = _window_ms(window_secs) / 1000
        now = self._clock.monotonic()
        self._calls += 1
        if self._calls % self.PURGE_EVERY_CALLS == 0:
            self._purge(now)
        entry = self._logs.setdefault(key, _Log())
        times = entry.times
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) < limit:
            times.append(now)
            entry.expires_at = now + window
            return 0.0
        return max(times[len(times) - limit] + window - now, 0.001)

    def _purge(self, now: float) -> None:
        for key in [k for k, entry in self._logs.items() if entry.expires_at <= now]:
            del self._logs[key]
