"""Concurrent sockets per key (a user, a client address), counted across nodes.

Each key holds the ``conn_id`` of its live sockets with an expiry; the node holding a socket
refreshes it (``refresh``, every third of ``ttl_secs``) and releases it on disconnect, so the
sockets of a node that died stop counting after ``ttl_secs``.  ``acquire`` takes a slot under
every key at once, or none: atomic across nodes (one Lua script on the Redis server's clock),
so two nodes racing for the last slot never both get it.  A limit ``<= 0`` is unlimited.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hubchat.errors import Unavailable

__all__ = ["MemorySocketSlots", "RedisSocketSlots", "SocketSlots"]


class SocketSlots(Protocol):
    async def acquire(self, limits: Sequence[tuple[str, int]], conn_id: str) -> str | None:
        """Take a slot for ``conn_id`` under each key; None when taken, else the full key."""
        ...

    async def release(self, keys: Sequence[str], conn_id: str) -> None: ...

    async def refresh(self, held: Sequence[tuple[str, str]]) -> None:
        """Extend the expiry of these ``(key, conn_id)`` slots."""
        ...


_NOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: the slot sets; ARGV: conn_id, ttl ms, then one limit per key.  0, or the index of a full key.
_ACQUIRE_LUA = _NOW_LUA + """
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZSCORE', key, ARGV[1]) == false and redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    return i
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[1])
  redis.call('PEXPIRE', key, ttl)
end
return 0
"""

# KEYS: slot sets; ARGV: ttl ms, then one conn_id per key.  Only slots still held are extended.
_REFRESH_LUA = _NOW_LUA + """
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + ttl, ARGV[1 + i])
  redis.call('PEXPIRE', key, ttl)
end
return 0
"""


class RedisSocketSlots:
    def __init__(self, redis: aioredis.Redis, prefix: str, ttl_secs: float) -> None:
        self._redis = redis
        self._prefix = prefix + "sockets:"
        self._ttl_ms = max(1, int(ttl_secs * 1000))
        self._acquire = redis.register_script(_ACQUIRE_LUA)
        self._refresh = redis.register_script(_REFRESH_LUA)

    async def acquire(self, limits: Sequence[tuple[str, int]], conn_id: str) -> str | None:
        limited = [(key, limit) for key, limit in limits if limit > 0]
        if not limited:
            return None
        keys = [self._prefix + key for key, _ in limited]
        args: list[Any] = [conn_id, self._ttl_ms, *(limit for _, limit in limited)]
        try:
            full = int(await self._acquire(keys=keys, args=args))
        except RedisError as exc:
            raise Unavailable("connection limits unavailable") from exc
        return limited[full - 1][0] if full else None

    async def release(self, keys: Sequence[str], conn_id: str) -> None:
        if not keys:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zrem(self._prefix + key, conn_id)
                await pipe.execute()
        except RedisError as exc:
            raise Unavailable("connection limits unavailable") from exc

    async def refresh(self, held: Sequence[tuple[str, str]]) -> None:
        if not held:
            return
        try:
            await self._refresh(keys=[self._prefix + key for key, _ in held],
                                args=[self._ttl_ms, *(conn for _, conn in held)])
        except RedisError as exc:
            raise Unavailable("connection limits unavailable") from exc


class MemorySocketSlots:
    """The same within one process (a single node without Redis), on ``time.monotonic``."""

    def __init__(self, ttl_secs: float) -> None:
        self._ttl = ttl_secs
        self._slots: dict[str, dict[str, float]] = {}

    def _live(self, key: str, now: float) -> dict[str, float]:
        slots = self._slots.setdefault(key, {})
        for conn, expiry in list(slots.items()):
            if expiry <= now:
                del slots[conn]
        return slots

    async def acquire(self, limits: Sequence[tuple[str, int]], conn_id: str) -> str | None:
        now = time.monotonic()
        limited = [(key, limit) for key, limit in limits if limit > 0]
        for key, limit in limited:
            slots = self._live(key, now)
            if conn_id not in slots and len(slots) >= limit:
                return key
        for key, _ in limited:
            self._slots[key][conn_id] = now + self._ttl
        return None

    async def release(self, keys: Sequence[str], conn_id: str) -> None:
        for key in keys:
            slots = self._slots.get(key)
            if slots is not None:
                slots.pop(conn_id, None)
                if not slots:
                    del self._slots[key]

    async def refresh(self, held: Sequence[tuple[str, str]]) -> None:
        expiry = time.monotonic() + self._ttl
        for key, conn_id in held:
            slots = self._slots.get(key)
            if slots is not None and conn_id in slots:
                slots[conn_id] = expiry
