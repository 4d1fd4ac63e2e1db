"""Reads the facts the membership rules need, from the store (never from clients).

Sources: the directory (its ``Memberships`` read model: active memberships and roles; which
associations are approved) and the accounts (who is a cell officer), through their methods.
A user's roles come through the node's :class:`~hubchat.channels.access_cache.AccessCache`,
which is checked against a cross-node epoch on every call (as fresh as a store read).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hubchat.auth.service import AccountService
from hubchat.channels.access_cache import AccessCache, Epochs, MemoryEpochs, RedisEpochs, Roles
from hubchat.channels.ports import Directory
from hubchat.channels.repository import ChannelRepository
from hubchat.channels.rules import Access, channels_filter, is_member
from hubchat.errors import Forbidden
from hubchat.principal import STAFF_ROLES, Principal
from hubchat.store import Document


class AccessReader:
    def __init__(self, accounts: AccountService, directory: Directory, channels: ChannelRepository):
        self.accounts = accounts
        self.directory = directory
        self.memberships = directory.memberships
        self.channels = channels
        self.infra = channels.infra
        self._memory_epochs = MemoryEpochs()
        self._redis_epochs: RedisEpochs | None = None
        self.cache = AccessCache(self._epochs, self.infra.clock)

    def _epochs(self) -> Epochs:
        redis = self.infra.redis
        if redis is None:
            return self._memory_epochs
        if self._redis_epochs is None or self._redis_epochs.redis is not redis:
            self._redis_epochs = RedisEpochs(redis, self.infra.settings.redis_prefix)
        return self._redis_epochs

    async def forget(self, user_id: str) -> None:
        """The user's memberships or roles changed (committed): drop cached roles on every node."""
        await self.cache.forget(user_id)

    async def _read_roles(self, user_id: str) -> Roles:
        rows = await self.memberships.active_of_user(user_id)
        return {row["association_id"]: row["role"] for row in rows}

    async def of_principal(self, principal: Principal) -> Access:
        return await self._access(principal.user_id, principal.is_officer)

    async def of_user(self, user: Mapping[str, Any]) -> Access:
        return await self._access(user["_id"], user.get("role") in STAFF_ROLES)

    async def _access(self, user_id: str, is_officer: bool, approved_only: bool = False) -> Access:
        roles = dict(await self.cache.roles(user_id, self._read_roles))
        if approved_only and roles:
            approved = await self.directory.approved_ids(roles)
            roles = {aid: role for aid, role in roles.items() if aid in approved}
        return Access(user_id=user_id, is_officer=is_officer, roles=roles)

    async def for_dm(self, principal: Principal, target: Mapping[str, Any]) -> tuple[Access, Access]:
        """Both sides' access for the direct-message rule: only memberships of *approved*
        associations count, so founding a pending (or rejected) association makes nobody an
        office bearer who may message every officer."""
        return (await self._access(principal.user_id, principal.is_officer, approved_only=True),
                await self._access(target["_id"], target.get("role") in STAFF_ROLES, approved_only=True))

    async def authorise(self, principal: Principal, channel_id: str, access: Access | None = None) -> Document:
        """The channel, if the caller belongs to it now; else ``not_member`` (403).

        An unknown channel id answers ``not_member`` as well, so ids cannot be probed.
        """
        channel = await self.channels.get(channel_id)
        if channel is not None:
            if channel["kind"] == "dm":  # membership is the channel's own member list
                access = Access(user_id=principal.user_id)
            elif access is None:
                access = await self.of_principal(principal)
            if is_member(channel, access):
                return channel
        raise Forbidden("you are not a member of this channel", code="not_member")

    async def channels_of(self, access: Access) -> list[Document]:
        """The user's channels, oldest first: the association, cell and inter channels by the
        membership filter, the direct channels by their member rows (an index look-up)."""
        channels = await self.channels.find(channels_filter(access, direct=False))
        channels += await self.channels.direct_of(access.user_id)
        return sorted(channels, key=lambda channel: channel["created_at"])

    async def officer_ids(self) -> list[str]:
        return await self.accounts.staff_ids()

    async def member_ids(self, channel: Mapping[str, Any]) -> list[str]:
        """Everyone who belongs to the channel right now."""
        kind = channel["kind"]
        if kind == "dm":
            return list(channel["member_ids"])
        if kind == "association":
            return await self.memberships.member_ids(channel["association_id"])
        if kind == "inter":
            return await self.memberships.office_bearer_ids(list(channel["association_ids"]))
        bearers = await self.memberships.office_bearer_ids([channel["association_id"]])
        return sorted(set(bearers) | set(await self.officer_ids()))

    async def peers_of(self, access: Access, channels: Iterable[Mapping[str, Any]] | None = None) -> set[str]:
        """Every other user who shares at least one channel with this user."""
        if channels is None:
            channels = await self.channels_of(access)
        peers: set[str] = set()
        bearer_associations: set[str] = set()
        with_officers = False
        for channel in channels:
            kind = channel["kind"]
            if kind == "dm":
                peers.update(channel["member_ids"])
            elif kind == "association":
                peers.update(await self.memberships.member_ids(channel["association_id"]))
            elif kind == "inter":
                bearer_associations.update(channel["association_ids"])
            else:
                bearer_associations.add(channel["association_id"])
                with_officers = True
        if bearer_associations:
            peers.update(await self.memberships.office_bearer_ids(sorted(bearer_associations)))
        if with_officers:
            peers.update(await self.officer_ids())
        peers.discard(access.user_id)
        return peers
