"""ChannelService: channel rules and lifecycle; composes messages, activity and presence.

Rooms follow membership: a socket joins ``chan:{id}`` for each of its user's channels when it
connects; afterwards channel creation, inter acceptance, association approval and membership
changes move every socket of the affected users (all nodes) with ``realtime.join``/``leave``.
Events to users about their channel list leave only after the write:

    channel:added    {channel}             to ``user:{id}`` of each user who gained the channel
    channel:removed  {channel_id}          to ``user:{id}`` of each user who lost it
    channel:updated  {channel}             to ``chan:{id}`` when an inter channel's associations change
    channel:invited  {channel, association_id, invited_by}
                                           to the office bearers of an invited association

Approval record: an association counts as approved once its association channel exists (created
by the approval listener), so this capability needs no read of the directory's documents.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from hubchat.auth.service import AccountService, public_user
from hubchat.channels.access import AccessReader
from hubchat.channels.activity import Activity
from hubchat.channels.fanout import Fanout, channel_room
from hubchat.channels.messages import MessageService
from hubchat.channels.ports import CellDesk, Directory
from hubchat.channels.presence import PresenceAnnouncer
from hubchat.channels.repository import ChannelRepository, MessageRepository, ReceiptRepository
from hubchat.channels.rules import (
    association_key,
    cell_key,
    dm_key,
    inter_key,
    is_member,
    may_accept,
    may_dm,
    may_invite,
)
from hubchat.channels.translations import MessageTranslations
from hubchat.channels.views import channel_view
from hubchat.directory.membership import AssociationApproved, MembershipChange, Memberships
from hubchat.errors import BadRequest, Conflict, Forbidden, NotFound
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.realtime import user_room
from hubchat.schema import new_id
from hubchat.store import Document

log = logging.getLogger(__name__)

CELL_CHANNEL_SUFFIX = " · Diaspora Cell"


class ChannelService:
    def __init__(self, infra: Infra, accounts: AccountService, directory: Directory):
        self.infra = infra
        self.accounts = accounts
        self.memberships: Memberships = directory.memberships
        self.channel_repo = ChannelRepository(infra)
        self.receipts = ReceiptRepository(infra)
        self.translations = MessageTranslations(infra, self.channel_repo)  # for the translation capability
        self.access = AccessReader(accounts, directory, self.channel_repo)
        self.fanout = Fanout()
        self.messages = MessageService(infra, self.access, self.channel_repo, MessageRepository(infra),
                                       self.receipts, self.fanout)
        self.activity = Activity(infra, self.access, self.receipts)
        self.presence = PresenceAnnouncer(infra, accounts, self.access)
        self.cell_desk: CellDesk | None = None  # set by app.py once the SOS capability exists
        infra.events.subscribe(MembershipChange, self.on_membership_change)
        infra.events.subscribe(AssociationApproved, self.on_association_approved)
        infra.realtime.connect_hooks.append(self.join_rooms)
        infra.realtime.connect_hooks.append(self.presence.on_connect)
        infra.realtime.disconnect_hooks.append(self.presence.on_disconnect)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Presence heartbeat and announcer; on exit this node's presence is removed and
        pending deliveries are drained."""
        backfilled = await self.channel_repo.backfill_dm_members()
        if backfilled:
            log.info("member rows written for direct channels stored before them", extra={"channels": backfilled})
        try:
            async with self.presence.running():
                yield
        finally:
            await self.fanout.drain()

    async def can_read(self, principal: Principal, channel_id: str) -> bool:
        """Whether the caller is a member of the channel (for capabilities acting on its messages)."""
        try:
            await self.access.authorise(principal, channel_id)
        except Forbidden:
            return False
        return True

    # ------------------------------------------------------------ connections
    async def join_rooms(self, principal: Principal, sid: str) -> None:
        """Connect hook: this socket joins the room of every channel of its user."""
        channels = await self.access.channels_of(await self.access.of_principal(principal))
        for channel in channels:
            await self.infra.realtime.enter_room(sid, channel_room(channel["_id"]))

    # ------------------------------------------------------------ reading channels
    async def list_channels(self, principal: Principal) -> list[dict[str, Any]]:
        channels = await self.access.channels_of(await self.access.of_principal(principal))
        reads = await self.receipts.read_seqs(principal.user_id, [c["_id"] for c in channels])
        partners = {c["_id"]: _partner(c, principal.user_id) for c in channels if c["kind"] == "dm"}
        users = await self.accounts.users_by_id(list(partners.values())) if partners else {}
        views = []
        for channel in channels:
            members = None
            if channel["kind"] == "dm":
                partner = users.get(partners[channel["_id"]])
                members = [public_user(partner)] if partner else []
            views.append(channel_view(channel, read_seq=reads.get(channel["_id"], 0), members=members))
        return views

    async def members(self, principal: Principal, channel_id: str) -> list[dict[str, Any]]:
        channel = await self.access.authorise(principal, channel_id)
        users = await self.accounts.users_by_id(await self.access.member_ids(channel))
        return sorted((public_user(u) for u in users.values()), key=lambda u: (u["display_name"], u["id"]))

    async def view_for(self, channel: Mapping[str, Any], user_id: str) -> dict[str, Any]:
        return (await self._views_for(channel, [user_id]))[user_id]

    async def _views_for(self, channel: Mapping[str, Any], user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The channel as each of these users sees it (read seq; for dm the other member)."""
        ids = list(dict.fromkeys(user_ids))
        reads = await self.receipts.readers(channel["_id"], ids)
        users: dict[str, Document] = {}
        if channel["kind"] == "dm":
            users = await self.accounts.users_by_id(list(channel["member_ids"]))
        views = {}
        for user_id in ids:
            members = None
            if channel["kind"] == "dm":
                partner = users.get(_partner(channel, user_id))
                members = [public_user(partner)] if partner else []
            views[user_id] = channel_view(channel, read_seq=reads.get(user_id, 0), members=members)
        return views

    # ------------------------------------------------------------ direct messages
    async def open_dm(self, principal: Principal, user_id: str) -> dict[str, Any]:
        """The one direct channel with ``user_id``, created on first use if the rules allow it."""
        if user_id == principal.user_id:
            raise BadRequest("you cannot message yourself", code="dm_self")
        not_allowed = Forbidden("you may not message this user", code="dm_not_allowed")
        try:  # an unknown user answers like a forbidden one: ids cannot be probed
            target = await self.accounts.get_user(user_id)
        except NotFound:
            raise not_allowed from None
        key = dm_key(principal.user_id, user_id)
        channel, created = await self.channel_repo.by_key(key), False
        if channel is None:
            if not may_dm(*await self.access.for_dm(principal, target)):
                raise not_allowed
            channel, created = await self.channel_repo.ensure(key, {
                "_id": new_id(), "kind": "dm", "name": None, "association_id": None, "association_ids": [],
                "member_ids": sorted((principal.user_id, user_id)), "created_by": principal.user_id})
        # Before anyone hears of it; idempotent, so it also mends a creator stopped just before it.
        await self.channel_repo.add_dm_members(channel["_id"], channel["member_ids"])
        if created:
            await self._added(channel, channel["member_ids"])
        return {"channel": await self.view_for(channel, principal.user_id)}

    async def contact_cell(self, principal: Principal) -> dict[str, Any]:
        """A direct channel with a Cell officer who can answer now: one the caller already has a
        channel with if any, else the first on the duty roster.  Anyone may message an officer
        (rules.may_dm); this only finds one.  Nobody reachable: ``no_officer_on_duty``."""
        officers = [o for o in (await self.cell_desk() if self.cell_desk else []) if o != principal.user_id]
        if not officers:
            raise Conflict("no Diaspora Cell officer is on duty now", code="no_officer_on_duty")
        for officer_id in officers:
            if await self.channel_repo.by_key(dm_key(principal.user_id, officer_id)) is not None:
                return await self.open_dm(principal, officer_id)
        return await self.open_dm(principal, officers[0])

    # ------------------------------------------------------------ inter-association channels
    async def create_inter(self, principal: Principal, name: str, association_id: str) -> dict[str, Any]:
        access = await self.access.of_principal(principal)
        if association_id not in access.office_bearer_of:
            raise Forbidden("only an office bearer of the association may do this", code="not_office_bearer")
        await self._require_approved(association_id)
        channel_id = new_id()
        channel, _ = await self.channel_repo.ensure(inter_key(channel_id), {
            "_id": channel_id, "kind": "inter", "name": name, "association_id": association_id,
            "association_ids": [association_id], "invited_association_ids": [], "member_ids": [],
            "created_by": principal.user_id})
        await self._added(channel, await self.access.member_ids(channel))
        return {"channel": await self.view_for(channel, principal.user_id)}

    async def invite(self, principal: Principal, channel_id: str, association_id: str) -> dict[str, Any]:
        access = await self.access.of_principal(principal)
        channel = await self.access.authorise(principal, channel_id, access)
        if channel["kind"] != "inter":
            raise BadRequest("only inter-association channels take invitations", code="not_inter_channel")
        if not may_invite(channel, access, association_id):
            raise Conflict("the association is already a member", code="already_member")
        await self._require_approved(association_id)
        updated = await self.channel_repo.invite(channel_id, association_id)
        if updated is None:
            raise Conflict("the association is already a member", code="already_member")
        view = channel_view(updated)
        if association_id not in channel.get("invited_association_ids", []):
            bearers = await self.memberships.office_bearer_ids([association_id])
            invitation = {"channel": view, "association_id": association_id, "invited_by": principal.user_id}
            self.infra.realtime.emit_later("channel:invited", invitation, to=[user_room(b) for b in bearers])
            self.infra.realtime.emit_later("channel:updated", {"channel": view}, to=channel_room(channel_id))
        return {"channel": await self.view_for(updated, principal.user_id)}

    async def accept(self, principal: Principal, channel_id: str, association_id: str) -> dict[str, Any]:
        access = await self.access.of_principal(principal)
        if association_id not in access.office_bearer_of:
            raise Forbidden("only an office bearer of the association may do this", code="not_office_bearer")
        channel = await self.channel_repo.get(channel_id)
        if channel is not None and association_id in channel.get("association_ids", []):
            return {"channel": await self.view_for(channel, principal.user_id)}  # accepted already
        if channel is None or not may_accept(channel, access, association_id):
            raise NotFound("no such invitation", code="invitation_not_found")
        updated = await self.channel_repo.accept(channel_id, association_id)
        if updated is None:  # a fellow office bearer accepted at the same moment
            updated = await self.channel_repo.get(channel_id)
            if updated is None or association_id not in updated.get("association_ids", []):
                raise NotFound("no such invitation", code="invitation_not_found")
            return {"channel": await self.view_for(updated, principal.user_id)}
        await self._added(updated, await self.memberships.office_bearer_ids([association_id]))
        self.infra.realtime.emit_later("channel:updated", {"channel": channel_view(updated)},
                                       to=channel_room(channel_id))
        return {"channel": await self.view_for(updated, principal.user_id)}

    async def invitations(self, principal: Principal, association_id: str) -> dict[str, Any]:
        """The association's pending invitations, for its office bearers only (anyone else, and an
        association that does not exist, answers the same ``not_office_bearer``)."""
        await self._require_bearer(principal, association_id)
        channels = await self.channel_repo.invited(association_id)
        return {"invitations": [{"channel": channel_view(c), "association_id": association_id} for c in channels]}

    async def decline(self, principal: Principal, channel_id: str, association_id: str) -> dict[str, Any]:
        await self._require_bearer(principal, association_id)
        updated = await self.channel_repo.decline(channel_id, association_id)
        if updated is None:
            raise NotFound("no such invitation", code="invitation_not_found")
        self.infra.realtime.emit_later("channel:updated", {"channel": channel_view(updated)},
                                       to=channel_room(channel_id))
        return {"channel_id": channel_id, "association_id": association_id, "declined": True}

    async def leave(self, principal: Principal, channel_id: str, association_id: str) -> dict[str, Any]:
        """The association leaves an inter channel: its office bearers lose it (unless another of
        their associations still belongs to it)."""
        await self._require_bearer(principal, association_id)
        updated = await self.channel_repo.leave(channel_id, association_id)
        if updated is None:  # not an inter channel of this association (or no such channel)
            raise Forbidden("you are not a member of this channel", code="not_member")
        staying = set(await self.access.member_ids(updated))
        for user_id in await self.memberships.office_bearer_ids([association_id]):
            if user_id not in staying:
                await self._removed(updated, user_id)
        self.infra.realtime.emit_later("channel:updated", {"channel": channel_view(updated)},
                                       to=channel_room(channel_id))
        return {"channel_id": channel_id, "association_id": association_id, "left": True}

    async def _require_bearer(self, principal: Principal, association_id: str) -> None:
        access = await self.access.of_principal(principal)
        if association_id not in access.office_bearer_of:
            raise Forbidden("only an office bearer of the association may do this", code="not_office_bearer")

    async def _require_approved(self, association_id: str) -> None:
        if await self.channel_repo.by_key(association_key(association_id)) is None:
            raise Conflict("the association is not approved", code="association_not_approved")

    # ------------------------------------------------------------ directory listeners
    async def on_association_approved(self, event: AssociationApproved) -> None:
        await self.ensure_association_channels(event.association_id, event.name)

    async def ensure_association_channels(self, association_id: str, name: str) -> list[Document]:
        """The association and cell channels of an approved association (idempotent); their
        members' sockets join the rooms."""
        base = {"association_id": association_id, "association_ids": [association_id],
                "invited_association_ids": [], "member_ids": [], "created_by": None}
        made = [
            await self.channel_repo.ensure(association_key(association_id),
                                           {**base, "_id": new_id(), "kind": "association", "name": name}),
            await self.channel_repo.ensure(cell_key(association_id),
                                           {**base, "_id": new_id(), "kind": "cell",
                                            "name": name + CELL_CHANNEL_SUFFIX}),
        ]
        for channel, created in made:
            members = await self.access.member_ids(channel)
            if created:
                await self._added(channel, members)
            else:  # approved again: repair rooms quietly
                for user_id in members:
                    await self.infra.realtime.join(user_id, [channel_room(channel["_id"])])
        return [channel for channel, _ in made]

    async def on_membership_change(self, change: MembershipChange) -> None:
        """Move the user's sockets into or out of the channels of that association (first, the
        user's cached roles are dropped on every node: before the change is acknowledged)."""
        await self.access.forget(change.user_id)
        users = await self.accounts.users_by_id([change.user_id])
        user = users.get(change.user_id)
        if user is None:
            return
        now = await self.access.of_user(user)
        roles_before = {a: r for a, r in now.roles.items() if a != change.association_id}
        if change.before is not None:
            roles_before[change.association_id] = change.before
        before = dataclasses.replace(now, roles=roles_before)
        for channel in await self.channel_repo.touching_association(change.association_id):
            was, is_now = is_member(channel, before), is_member(channel, now)
            if is_now and not was:
                await self._added(channel, [change.user_id])
            elif was and not is_now:
                await self._removed(channel, change.user_id)

    # ------------------------------------------------------------ room moves
    async def _added(self, channel: Document, user_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(user_ids))
        room = channel_room(channel["_id"])
        for user_id in ids:
            await self.infra.realtime.join(user_id, [room])
        for user_id, view in (await self._views_for(channel, ids)).items():
            self.infra.realtime.emit_later("channel:added", {"channel": view}, to=user_room(user_id))

    async def _removed(self, channel: Document, user_id: str) -> None:
        await self.infra.realtime.leave(user_id, [channel_room(channel["_id"])])
        self.infra.realtime.emit_later("channel:removed", {"channel_id": channel["_id"]}, to=user_room(user_id))


def _partner(channel: Mapping[str, Any], user_id: str) -> str:
    others = [m for m in channel["member_ids"] if m != user_id]
    return others[0] if others else user_id
