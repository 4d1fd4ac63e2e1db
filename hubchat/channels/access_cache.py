"""A node's cache of users' active association roles, so that a chat event needs no store read
to authorise its sender (issue #9: a send makes at most two store round trips before its ack).

Exactly as secure as reading the store every time, because every cached entry is checked against
the user's **access epoch**, a counter shared by all nodes (Redis; in process without Redis) that
:meth:`AccessCache.forget` raises on every committed membership or role change *before* that
change is acknowledged (the directory publishes ``MembershipChange`` in its own task, before it
answers; ``ChannelService.on_membership_change`` calls ``forget`` first).  Every lookup reads the
epoch (one Redis GET, no store round trip); a different epoch is a miss, and the roles are read
again from the store.  So a member removed on node A cannot send one message through node B after
A acknowledged the removal.  The epoch is read *before* the store, so an entry is never newer in
its epoch than in its data.

Failure: when Redis cannot be read the cache is dropped and the store is read (authoritative);
when the epoch cannot be raised the local entry is dropped and the error logged.  An entry lives
at most ``TTL_SECS`` in any case (a removal whose epoch could not be raised because Redis was
down, or a membership restored without an event, is seen again after that long).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from redis.exceptions import RedisError

from hubchat.clock import Clock
from hubchat.directory.membership import MembershipRole

log = logging.getLogger(__name__)

TTL_SECS = 30.0
MAX_ENTRIES = 20_000
EPOCH_KEY_TTL_SECS = 7 * 24 * 3600  # far longer than TTL_SECS: an expired key reads 0 again

Roles = Mapping[str, MembershipRole]


class Epochs(Protocol):
    async def current(self, user_id: str) -> int: ...

    async def bump(self, user_id: str) -> None: ...


class MemoryEpochs:
    """One process (no Redis: a single node)."""

    def __init__(self) -> None:
        self._epochs: dict[str, int] = {}

    async def current(self, user_id: str) -> int:
        return self._epochs.get(user_id, 0)

    async def bump(self, user_id: str) -> None:
        self._epochs[user_id] = self._epochs.get(user_id, 0) + 1


class RedisEpochs:
    """Shared by every node of the deployment."""

    def __init__(self, redis: Any, prefix: str):
        self.redis = redis
        self.prefix = prefix + "chat:access_epoch:"

    async def current(self, user_id: str) -> int:
        raw = await self.redis.get(self.prefix + user_id)
        return int(raw or 0)

    async def bump(self, user_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self.prefix + user_id)
            pipe.expire(self.prefix + user_id, EPOCH_KEY_TTL_SECS)
            await pipe.execute()


@dataclasses.dataclass(frozen=True)
class _Entry:
    epoch: int
    until: float
    roles: Roles


class AccessCache:
    def __init__(self, epochs: Callable[[], Epochs], clock: Clock, *, ttl_secs: float = TTL_SECS,
                 max_entries: int = MAX_ENTRIES):
        self._epochs = epochs
        self._clock = clock
        self.ttl_secs = ttl_secs
        self.max_entries = max_entries
        self._entries: collections.OrderedDict[str, _Entry] = collections.OrderedDict()
        self.hits = 0
        self.misses = 0

    async def roles(self, user_id: str, read: Callable[[str], Awaitable[Roles]]) -> Roles:
        """The user's roles: cached while the user's epoch is unchanged, else ``read`` (the store)."""
        try:
            epoch: int | None = await self._epochs().current(user_id)
        except (RedisError, OSError):
            log.warning("access epochs unreadable: the store is read and the cache dropped")
            self._entries.clear()
            epoch = None
        now = self._clock.monotonic()
        entry = self._entries.get(user_id)
        if epoch is not None and entry is not None and entry.epoch == epoch and entry.until > now:
            self.hits += 1
            return entry.roles
        self.misses += 1
        roles = await read(user_id)
        if epoch is not None:
            self._entries[user_id] = _Entry(epoch, now + self.ttl_secs, dict(roles))
            self._entries.move_to_end(user_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return roles

    async def forget(self, user_id: str) -> None:
        """A committed change of the user's memberships or roles: every node's entry is stale
        from now on (call before the change is acknowledged)."""
        self._entries.pop(user_id, None)
        try:
            await self._epochs().bump(user_id)
        except (RedisError, OSError):
            log.exception("access epoch not raised: other nodes keep their entry up to %s s", self.ttl_secs,
                          extra={"user_id": user_id})
