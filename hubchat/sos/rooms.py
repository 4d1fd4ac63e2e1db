"""Socket.IO rooms of the SOS capability and the emits that leave after a committed write.

    cell:feed          sockets of on-duty Cell officers: every new alert and every change, full view
    sos:{alert_id}     sockets of the person who raised the alert: the person view, status changes only
    user:{id}          (realtime's) responders and dispatched office bearers, each told once per event

Officers are told through ``cell:feed`` only and office bearers through their ``user:{id}`` room
only, so nobody is told twice; an emit to several rooms reaches each socket once (python-socketio
deduplicates sockets across the rooms of one emit, on every node).  Responders do *not* join
``sos:{alert_id}``: that room carries the person view, and keeping the two audiences apart is what
lets a duress alert look cancelled to the person while responders see the truth.

Every SOS event leaves through :meth:`SosRooms.emit`, typed by ``SosEvent`` and ``SosPayload``
(``SERVER_EVENTS`` says which payload each event carries; ``tests/test_api_events.py`` checks it
against ``docs/api.md``), and from there through :meth:`hubchat.realtime.Realtime.emit`: at most
once per socket, after the write it announces; a failing emit is logged and dropped.  Nothing is
stored here; every event has a pull path (``sos:feed``, ``sos:get``, ``sos:mine``).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from typing import Any, Literal, TypedDict

from hubchat.background import BackgroundTasks
from hubchat.realtime import Realtime, user_room
from hubchat.sos.views import (
    AlertView,
    DutyView,
    EventView,
    FullView,
    LimitedView,
    PersonView,
    PointView,
    full_view,
    limited_view,
    person_view,
)
from hubchat.store import Document

log = logging.getLogger(__name__)

FEED_ROOM = "cell:feed"


class LocationEvent(TypedDict):
    alert_id: str
    location: PointView
    battery_pct: int | None
    version: int


class NoteEvent(TypedDict):
    alert_id: str
    event: EventView


class DutyUpdated(TypedDict):
    officers: list[DutyView]


SosEvent = Literal["sos:new", "sos:updated", "sos:location", "sos:note", "sos:note_translated", "duty:updated"]
SosPayload = AlertView | LocationEvent | NoteEvent | DutyUpdated
# The payloads each server → client event of the SOS capability may carry (docs/api.md, "Rooms and live events").
SERVER_EVENTS: dict[str, tuple[type, ...]] = {
    "sos:new": (FullView, LimitedView),
    "sos:updated": (PersonView, FullView, LimitedView),
    "sos:location": (LocationEvent,),
    "sos:note": (NoteEvent,),
    "sos:note_translated": (NoteEvent,),
    "duty:updated": (DutyUpdated,),
}


def alert_room(alert_id: str) -> str:
    return f"sos:{alert_id}"


def team_rooms(alert: Document) -> list[str]:
    """On-duty officers and the alert's acknowledged responders."""
    return [FEED_ROOM, *(user_room(uid) for uid in alert.get("responders", []))]


def bearers_told(alert: Document) -> list[Document]:
    """Dispatch entries of office bearers who have not become responders (limited view)."""
    responders = set(alert.get("responders", []))
    return [e for e in alert.get("dispatch", []) if e["role"] == "office_bearer" and e["user_id"] not in responders]


class SosRooms:
    def __init__(self, realtime: Realtime, approx_km: float):
        self.realtime = realtime
        self.approx_km = approx_km
        self._background = BackgroundTasks("sos")

    async def emit(self, event: SosEvent, data: SosPayload, to: str | Sequence[str], *,
                   skip_sid: str | None = None) -> None:
        await self.realtime.emit(event, data, to=to, skip_sid=skip_sid)

    async def to_person(self, alert: Document) -> None:
        """The person's screens: never anything after a duress PIN (the cover was their last word)."""
        if not alert.get("duress"):
            await self.emit("sos:updated", person_view(alert), alert_room(alert["_id"]))

    async def to_team(self, event: SosEvent, data: SosPayload, alert: Document) -> None:
        await self.emit(event, data, team_rooms(alert))

    async def updated(self, alert: Document, *, person: bool = True, bearers: bool = True) -> None:
        """``sos:updated`` to everyone who follows the alert, each in the view they may see."""
        if person:
            await self.to_person(alert)
        await self.to_team("sos:updated", full_view(alert), alert)
        if bearers:
            for entry in bearers_told(alert):
                await self.emit("sos:updated", limited_view(alert, entry.get("distance_km"), approx_km=self.approx_km),
                                user_room(entry["user_id"]))

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` after the current handler has answered; tracked so shutdown can wait."""
        self._background.spawn(work, name)

    async def drain(self) -> None:
        await self._background.drain()
