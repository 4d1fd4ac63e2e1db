"""Read receipts (stored, monotonic) and typing indicators (ephemeral, throttled)."""

from __future__ import annotations

from typing import Any

from hubchat.channels.access import AccessReader
from hubchat.channels.fanout import channel_room
from hubchat.channels.repository import ReceiptRepository
from hubchat.infra import Infra
from hubchat.principal import Principal


class Activity:
    def __init__(self, infra: Infra, access: AccessReader, receipts: ReceiptRepository):
        self.infra = infra
        self.access = access
        self.receipts = receipts

    async def mark_read(self, principal: Principal, channel_id: str, seq: int) -> dict[str, Any]:
        """Raise the caller's read seq (capped at the channel's last seq; never lowered); shed
        first when the node is busy (``overloaded``)."""
        self.infra.admission.check_light("receipt")
        channel = await self.access.authorise(principal, channel_id)
        before, after = await self.receipts.advance(channel_id, principal.user_id,
                                                    min(seq, int(channel["last_seq"])))
        receipt = {"channel_id": channel_id, "user_id": principal.user_id, "seq": after}
        if after > before:
            self.infra.realtime.emit_later("receipt:updated", receipt, to=channel_room(channel_id))
        return {"receipt": receipt}

    async def typing(self, principal: Principal, channel_id: str, sid: str) -> dict[str, Any]:
        """Tell the channel's other sockets; at most one per user and channel per throttle period;
        shed first when the node is busy (``overloaded``)."""
        self.infra.admission.check_light("typing")
        await self.access.authorise(principal, channel_id)
        wait_secs = await self.infra.limiter.allow(f"typing:{principal.user_id}:{channel_id}", 1,
                                                   self.infra.settings.typing_throttle_secs)
        if wait_secs > 0:
            return {"throttled": True}
        event = {"channel_id": channel_id, "user_id": principal.user_id, "display_name": principal.display_name}
        self.infra.realtime.emit_later("typing", event, to=channel_room(channel_id), skip_sid=sid)
        return {"ok": True}
