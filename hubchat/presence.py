"""Who is online, across nodes and across the several tabs (connections) of one user.

The contract is :class:`Presence`.  A user is online while at least one of their connections is
live; a connection is live from ``connect`` until ``disconnect`` or until ``ttl_secs`` pass
without a ``refresh`` (the heartbeat of the node holding it).  ``conn_id`` is
``"{node_id}:{socket sid}"``.

Transition guarantee: the ``True`` answers of ``connect`` (went online) and of
``disconnect``/``sweep`` (went offline) alternate strictly per user, across all nodes: two nodes
racing never both report the same transition, and every reported online is followed by exactly
one reported offline.  The reported state is what :class:`RedisPresence` keeps in its users set,
so a user whose only connections expired stays reported online (``connect`` then answers
``False``) until some node's ``sweep`` reports them offline; ``online`` answers from the live
connections themselves.  Expiry is judged on the Redis server's clock plus the injected clock's
``ahead_secs`` (0 in production, see hubchat/clock.py), and on the injected clock's
``monotonic`` for :class:`MemoryPresence`.  A connection already removed by ``sweep`` is not revived by
``refresh``: its socket must ``connect`` again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hubchat.clock import Clock, SystemClock
from hubchat.errors import Unavailable

__all__ = ["MemoryPresence", "Presence", "RedisPresence"]


class Presence(Protocol):
    """Online state per user; transitions reported once across nodes (see module docstring)."""

    async def connect(self, user_id: str, conn_id: str) -> bool:
        """Record a live connection; True when this makes the user go from offline to online."""
        ...

    async def disconnect(self, user_id: str, conn_id: str) -> bool:
        """Forget a connection; True when the user thereby has no live connection left."""
        ...

    async def refresh(self, conns: Sequence[tuple[str, str]]) -> None:
        """Heartbeat: extend the expiry of these known ``(user_id, conn_id)`` pairs."""
        ...

    async def online(self, user_ids: Sequence[str]) -> dict[str, bool]:
        """Whether each user has a live connection now."""
        ...

    async def sweep(self) -> list[str]:
        """Drop expired connections (of a node that died); return the users that went offline."""
        ...


def _check_ids(user_id: str, conn_id: str) -> None:
    if not user_id or not conn_id:
        raise ValueError("user_id and conn_id must not be empty")


# Every script reads the server clock in milliseconds (13 digits: exact in Lua number formatting)
# plus ARGV[1], the injected clock's lead in ms; the scripts' own arguments follow it.
_NOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
"""

# KEYS: user's connections, users set; ARGV: lead, user_id, conn_id, ttl ms.  Returns 1 if went online.
_CONNECT_LUA = (
    _NOW_LUA
    + """
local ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return redis.call('SADD', KEYS[2], ARGV[2])
"""
)

# KEYS: user's connections, users set; ARGV: lead, user_id, conn_id or ''.  Returns 1 if went offline.
_LEAVE_LUA = (
    _NOW_LUA
    + """
if ARGV[3] ~= '' then redis.call('ZREM', KEYS[1], ARGV[3]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
return redis.call('SREM', KEYS[2], ARGV[2])
"""
)

# KEYS: user's connections; ARGV: lead, ttl ms, conn ids...  Extends only connections still present.
_REFRESH_LUA = (
    _NOW_LUA
    + """
local ttl = tonumber(ARGV[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 0
"""
)

# KEYS: users' connection sets; ARGV: lead.  Returns the count of live connections of each.
_ONLINE_LUA = (
    _NOW_LUA
    + """
local counts = {}
for i, key in ipairs(KEYS) do counts[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf') end
return counts
"""
)


class RedisPresence:
    """Per user a sorted set ``prefix + "presence:" + user_id`` of conn ids scored by expiry
    (server milliseconds), and the set ``prefix + "presence:users"`` of users reported online.

    Each of connect, disconnect and the sweep of one user is one Lua script, hence atomic.
    Redis errors become :class:`Unavailable`.  The client is borrowed, not closed.
    """

    SWEEP_BATCH = 200

    def __init__(self, redis: aioredis.Redis, prefix: str, ttl_secs: float, clock: Clock | None = None) -> None:
        if ttl_secs <= 0:
            raise ValueError("ttl_secs must be positive")
        self._clock = clock or SystemClock()
        self._redis = redis
        self._user_prefix = prefix + "presence:"
        self._users_key = prefix + "presence:users"
        self._ttl_ms = max(1, round(ttl_secs * 1000))
        self._connect = redis.register_script(_CONNECT_LUA)
        self._leave = redis.register_script(_LEAVE_LUA)
        self._refresh = redis.register_script(_REFRESH_LUA)
        self._online = redis.register_script(_ONLINE_LUA)

    def _key(self, user_id: str) -> str:
        return self._user_prefix + user_id

    def _lead_ms(self) -> int:
        return round(self._clock.ahead_secs() * 1000)

    async def connect(self, user_id: str, conn_id: str) -> bool:
        _check_ids(user_id, conn_id)
        keys = [self._key(user_id), self._users_key]
        return bool(await self._run(self._connect, keys, [self._lead_ms(), user_id, conn_id, self._ttl_ms]))

    async def disconnect(self, user_id: str, conn_id: str) -> bool:
        _check_ids(user_id, conn_id)
        return bool(await self._run(self._leave, [self._key(user_id), self._users_key],
                                   [self._lead_ms(), user_id, conn_id]))

    async def refresh(self, conns: Sequence[tuple[str, str]]) -> None:
        by_user: dict[str, list[str]] = {}
        for user_id, conn_id in conns:
            by_user.setdefault(user_id, []).append(conn_id)
        if not by_user:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, conn_ids in by_user.items():
                    await self._refresh(
                        keys=[self._key(user_id)], args=[self._lead_ms(), self._ttl_ms, *conn_ids], client=pipe
                    )
                await pipe.execute()
        except RedisError as exc:
            raise Unavailable("presence unavailable") from exc

    async def online(self, user_ids: Sequence[str]) -> dict[str, bool]:
        unique = list(dict.fromkeys(user_ids))
        if not unique:
            return {}
        counts = await self._run(self._online, [self._key(u) for u in unique], [self._lead_ms()])
        return {user_id: int(count) > 0 for user_id, count in zip(unique, counts, strict=True)}

    async def sweep(self) -> list[str]:
        offline: list[str] = []
        try:
            batch: list[str] = []
            async for member in self._redis.sscan_iter(self._users_key, count=self.SWEEP_BATCH):
                batch.append(member.decode() if isinstance(member, bytes) else str(member))
                if len(batch) >= self.SWEEP_BATCH:
                    offline += await self._sweep_users(batch)
                    batch = []
            offline += await self._sweep_users(batch)
        except RedisError as exc:
            raise Unavailable("presence unavailable") from exc
        return offline

    async def _sweep_users(self, user_ids: list[str]) -> list[str]:
        if not user_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                await self._leave(keys=[self._key(user_id), self._users_key], args=[self._lead_ms(), user_id, ""],
                                  client=pipe)
            results = await pipe.execute()
        return [user_id for user_id, went in zip(user_ids, results, strict=True) if went]

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except RedisError as exc:
            raise Unavailable("presence unavailable") from exc


class MemoryPresence:
    """The same semantics inside one process (a single node), on the clock's ``monotonic``."""

    def __init__(self, ttl_secs: float, clock: Clock | None = None) -> None:
        if ttl_secs <= 0:
            raise ValueError("ttl_secs must be positive")
        self._clock = clock or SystemClock()
        self._ttl_secs = ttl_secs
        self._conns: dict[str, dict[str, float]] = {}  # user -> conn -> expires_at
        self._reported: set[str] = set()  # users reported online

    def _live(self, user_id: str, now: float) -> dict[str, float]:
        conns = self._conns.get(user_id, {})
        for conn_id in [c for c, expires_at in conns.items() if expires_at <= now]:
            del conns[conn_id]
        if not conns:
            self._conns.pop(user_id, None)
        return conns

    async def connect(self, user_id: str, conn_id: str) -> bool:
        _check_ids(user_id, conn_id)
        now = self._clock.monotonic()
        self._live(user_id, now)
        self._conns.setdefault(user_id, {})[conn_id] = now + self._ttl_secs
        went_online = user_id not in self._reported
        self._reported.add(user_id)
        return went_online

    async def disconnect(self, user_id: str, conn_id: str) -> bool:
        _check_ids(user_id, conn_id)
        self._conns.get(user_id, {}).pop(conn_id, None)
        return self._leave(user_id, self._clock.monotonic())

    async def refresh(self, conns: Sequence[tuple[str, str]]) -> None:
        expires_at = self._clock.monotonic() + self._ttl_secs
        for user_id, conn_id in conns:
            known = self._conns.get(user_id)
            if known is not None and conn_id in known:
                known[conn_id] = expires_at

    async def online(self, user_ids: Sequence[str]) -> dict[str, bool]:
        now = self._clock.monotonic()
        return {
            user_id: any(expires_at > now for expires_at in self._conns.get(user_id, {}).values())
            for user_id in user_ids
        }

    async def sweep(self) -> list[str]:
        now = self._clock.monotonic()
        return [user_id for user_id in list(self._reported) if self._leave(user_id, now)]

    def _leave(self, user_id: str, now: float) -> bool:
        if self._live(user_id, now) or user_id not in self._reported:
            return False
        self._reported.discard(user_id)
        return True
