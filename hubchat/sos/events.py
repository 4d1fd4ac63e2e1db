"""Socket.IO events of the SOS capability: thin — Realtime validates the payload, the service
decides, the ack is shaped here.  Wire protocol: ``docs/api.md``."""

from __future__ import annotations

from typing import Any

from hubchat.principal import Principal
from hubchat.realtime import Realtime
from hubchat.sos.access import view_for
from hubchat.sos.models import (
    AlertRef,
    CancelIn,
    DutyIn,
    FeedIn,
    LocationIn,
    NoteIn,
    TransitionIn,
    TriggerIn,
)
from hubchat.sos.service import SosService
from hubchat.sos.views import person_view

Ack = dict[str, Any]


def register_events(realtime: Realtime, service: SosService) -> None:
    event = realtime.event
    approx_km = service.rooms.approx_km

    @event("sos:trigger", TriggerIn)
    async def trigger(principal: Principal, req: TriggerIn, sid: str) -> Ack:
        alert, outcome = await service.triggers.trigger(principal, req)
        return {"alert": person_view(alert), "outcome": outcome}

    @event("sos:mine")
    async def mine(principal: Principal, req: None, sid: str) -> Ack:
        return await service.reads.mine(principal)

    @event("sos:transition", TransitionIn)
    async def transition(principal: Principal, req: TransitionIn, sid: str) -> Ack:
        alert, standing = await service.actions.transition(principal, req)
        return {"alert": view_for(alert, principal, standing, approx_km)}

    @event("sos:note", NoteIn)
    async def note(principal: Principal, req: NoteIn, sid: str) -> Ack:
        return {"event": await service.actions.note(principal, req)}

    @event("sos:location", LocationIn)
    async def location(principal: Principal, req: LocationIn, sid: str) -> Ack:
        alert, point = await service.actions.location(principal, req)
        return {"alert_id": alert["_id"], "location": point}

    @event("sos:cancel", CancelIn)
    async def cancel(principal: Principal, req: CancelIn, sid: str) -> Ack:
        return {"alert": await service.actions.cancel(principal, req)}

    @event("sos:feed", FeedIn)
    async def feed(principal: Principal, req: FeedIn, sid: str) -> Ack:
        return await service.reads.feed(principal, req, sid)

    @event("sos:get", AlertRef)
    async def get(principal: Principal, req: AlertRef, sid: str) -> Ack:
        return {"alert": await service.reads.get(principal, req.alert_id)}

    @event("sos:timeline", AlertRef)
    async def timeline(principal: Principal, req: AlertRef, sid: str) -> Ack:
        return await service.reads.timeline(principal, req.alert_id)

    @event("sos:audit", AlertRef)
    async def audit(principal: Principal, req: AlertRef, sid: str) -> Ack:
        return await service.reads.audit(principal, req.alert_id)

    @event("duty:set", DutyIn)
    async def duty_set(principal: Principal, req: DutyIn, sid: str) -> Ack:
        return await service.duty.set(principal, req.on_duty)

    @event("duty:list")
    async def duty_list(principal: Principal, req: None, sid: str) -> Ack:
        return await service.duty.list(principal)
