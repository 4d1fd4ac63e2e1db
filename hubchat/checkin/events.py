"""Socket.IO events of check-in timers: thin — Realtime validates, the service decides."""

from __future__ import annotations

from typing import Any

from hubchat.checkin.models import CheckInIn, LocationIn, SetIn
from hubchat.checkin.service import CheckinService
from hubchat.principal import Principal
from hubchat.realtime import Realtime

Ack = dict[str, Any]


def register_events(realtime: Realtime, service: CheckinService) -> None:
    event = realtime.event

    @event("checkin:set", SetIn)
    async def set_timer(principal: Principal, req: SetIn, sid: str) -> Ack:
        return {"checkin": await service.set(principal, req)}

    @event("checkin:mine")
    async def mine(principal: Principal, req: None, sid: str) -> Ack:
        return await service.mine(principal)

    @event("checkin:location", LocationIn)
    async def location(principal: Principal, req: LocationIn, sid: str) -> Ack:
        return {"checkin": await service.location(principal, req)}

    @event("checkin:check_in", CheckInIn)
    async def check_in(principal: Principal, req: CheckInIn, sid: str) -> Ack:
        return {"checkin": await service.check_in(principal, req)}
