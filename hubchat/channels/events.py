"""Socket.IO events of the channels capability: thin — the payload is validated by Realtime,
the service decides, the ack is shaped here.  See ``docs/api.md``."""

from __future__ import annotations

from typing import Any

from hubchat.channels.limits import hit
from hubchat.channels.models import (
    ChannelAssociation,
    ChannelRef,
    CreateChannel,
    EditMessage,
    History,
    HistoryQuery,
    MessageRef,
    OpenDirect,
    PresenceQuery,
    ReadReceipt,
    SendMessage,
    Sync,
)
from hubchat.channels.service import ChannelService
from hubchat.principal import Principal
from hubchat.realtime import Realtime

Ack = dict[str, Any]


def register_events(realtime: Realtime, service: ChannelService) -> None:
    messages, activity = service.messages, service.activity

    async def limit(event: str, principal: Principal) -> None:
        """The per-user limit of a chat write (see hubchat.channels.limits), before anything else."""
        await hit(service.infra.limiter, event, principal.user_id)

    @realtime.event("message:send", SendMessage)
    async def send(principal: Principal, req: SendMessage, sid: str) -> Ack:
        return {"message": await messages.send(principal, req)}

    @realtime.event("message:history", History)
    async def history(principal: Principal, req: History, sid: str) -> Ack:
        query = HistoryQuery(before_seq=req.before_seq, after_seq=req.after_seq, limit=req.limit)
        return await messages.history(principal, req.channel_id, query)

    @realtime.event("sync", Sync)
    async def sync(principal: Principal, req: Sync, sid: str) -> Ack:
        return await messages.sync(principal, req.channels)

    @realtime.event("message:edit", EditMessage)
    async def edit(principal: Principal, req: EditMessage, sid: str) -> Ack:
        await limit("message:edit", principal)
        return {"message": await messages.edit(principal, req.message_id, req.body)}

    @realtime.event("message:delete", MessageRef)
    async def delete(principal: Principal, req: MessageRef, sid: str) -> Ack:
        await limit("message:delete", principal)
        return {"message": await messages.delete(principal, req.message_id)}

    @realtime.event("receipt:read", ReadReceipt)
    async def read(principal: Principal, req: ReadReceipt, sid: str) -> Ack:
        await limit("receipt:read", principal)
        return await activity.mark_read(principal, req.channel_id, req.seq)

    @realtime.event("typing:start", ChannelRef)
    async def typing(principal: Principal, req: ChannelRef, sid: str) -> Ack:
        await limit("typing:start", principal)
        return await activity.typing(principal, req.channel_id, sid)

    @realtime.event("presence:get", PresenceQuery)
    async def presence(principal: Principal, req: PresenceQuery, sid: str) -> Ack:
        return {"presence": await service.presence.presence_of(principal, req.user_ids)}

    @realtime.event("channel:list")
    async def channel_list(principal: Principal, req: None, sid: str) -> Ack:
        return {"channels": await service.list_channels(principal)}

    @realtime.event("channel:members", ChannelRef)
    async def members(principal: Principal, req: ChannelRef, sid: str) -> Ack:
        return {"members": await service.members(principal, req.channel_id)}

    @realtime.event("dm:open", OpenDirect)
    async def dm_open(principal: Principal, req: OpenDirect, sid: str) -> Ack:
        await limit("dm:open", principal)
        return await service.open_dm(principal, req.user_id)

    @realtime.event("channel:create", CreateChannel)
    async def create(principal: Principal, req: CreateChannel, sid: str) -> Ack:
        await limit("channel:create", principal)
        return await service.create_inter(principal, req.name, req.association_id)

    @realtime.event("channel:invite", ChannelAssociation)
    async def invite(principal: Principal, req: ChannelAssociation, sid: str) -> Ack:
        await limit("channel:invite", principal)
        return await service.invite(principal, req.channel_id, req.association_id)

    @realtime.event("channel:accept", ChannelAssociation)
    async def accept(principal: Principal, req: ChannelAssociation, sid: str) -> Ack:
        await limit("channel:accept", principal)
        return await service.accept(principal, req.channel_id, req.association_id)

    @realtime.event("channel:decline", ChannelAssociation)
    async def decline(principal: Principal, req: ChannelAssociation, sid: str) -> Ack:
        await limit("channel:decline", principal)
        return await service.decline(principal, req.channel_id, req.association_id)

    @realtime.event("channel:leave", ChannelAssociation)
    async def leave(principal: Principal, req: ChannelAssociation, sid: str) -> Ack:
        await limit("channel:leave", principal)
        return await service.leave(principal, req.channel_id, req.association_id)

    @realtime.event("dm:cell")
    async def dm_cell(principal: Principal, req: None, sid: str) -> Ack:
        await limit("dm:open", principal)
        return await service.contact_cell(principal)
