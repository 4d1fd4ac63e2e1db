"""Who is told about an alert, round by round, and telling them.

    round 1 (at trigger)  every on-duty officer; office bearers of approved associations with a
                          gathering place within ``sos_dispatch_radius_km`` (nearest first) and of
                          every approved association the person is an active member of
    round 2 (T1)          the same, with ``sos_escalation_radius_km``
    round 3 (T2)          the same, plus every approved association in the person's registered
                          country and in the countries of the associations near the alert

Each round records the newly reached people on the alert (``dispatch`` entries with the round
and time) and on the timeline (one ``dispatch`` entry), then tells them: round 1 sends the full
``sos:new`` once to ``cell:feed`` (before any office-bearer lookup, so officers are never kept
waiting by the directory); every round sends the limited ``sos:new`` to each newly reached
office bearer's ``user:{id}`` room, with the distance from that association's nearest gathering
place.  Someone already told is never told again.  Once a duress PIN was accepted as a "cancel"
only officers are told (no association may notice anything a real cancel would not show).  An
on-duty officer who is also an office bearer is told as an officer only, and the person is never
a recipient of their own alert.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from hubchat.clock import utcnow
from hubchat.config import Settings
from hubchat.directory.geo import haversine_km
from hubchat.realtime import user_room
from hubchat.sos.duty import DutyRoster
from hubchat.sos.metrics import SosMetrics
from hubchat.sos.ports import Directory
from hubchat.sos.repository import AlertRepository
from hubchat.sos.rooms import FEED_ROOM, SosRooms
from hubchat.sos.views import covered, full_view, limited_view
from hubchat.store import Document

log = logging.getLogger(__name__)

MAX_NEAR_ASSOCIATIONS = 100
MAX_COUNTRY_ASSOCIATIONS = 500


@dataclasses.dataclass(frozen=True)
class Recipient:
    user_id: str
    role: str  # "officer" | "office_bearer"
    association_id: str | None = None
    distance_km: float | None = None

    def entry(self, round_no: int, at: Any) -> Document:
        return {"user_id": self.user_id, "role": self.role, "association_id": self.association_id,
                "distance_km": self.distance_km, "round": round_no, "at": at}


def _nearest_km(association: Document, location: Document | None) -> float | None:
    if not location:
        return None
    distances = [haversine_km(location["lat"], location["lon"], p["lat"], p["lon"])
                 for p in association.get("gathering_places", [])]
    return round(min(distances), 1) if distances else None


class Dispatcher:
    def __init__(self, settings: Settings, repo: AlertRepository, directory: Directory, duty: DutyRoster,
                 rooms: SosRooms, metrics: SosMetrics):
        self.settings = settings
        self.metrics = metrics
        self.repo = repo
        self.directory = directory
        self.duty = duty
        self.rooms = rooms

    # ------------------------------------------------------------ who is in reach
    async def reach(self, alert: Document, round_no: int) -> list[Recipient]:
        person_id = alert["user_id"]
        officers = [uid for uid in await self.duty.on_duty_ids() if uid != person_id]
        found: list[Recipient] = [Recipient(uid, "officer") for uid in officers]
        if covered(alert):
            return found  # to everyone outside the Cell this alert was cancelled: nobody else is told
        seen = {person_id, *officers}
        try:
            associations = await self._associations(alert, round_no)
            bearers = await self.directory.office_bearers_by_association([aid for aid, _ in associations])
            for association_id, distance in associations:
                for uid in bearers.get(association_id, []):
                    if uid not in seen:
                        seen.add(uid)
                        found.append(Recipient(uid, "office_bearer", association_id, distance))
        except Exception:
            # The officers must hear of it even when the directory fails; the next round (and
            # everyone not yet told) is tried again at T1.
            log.exception("sos dispatch: office bearers could not be found", extra={"alert_id": alert["_id"]})
        return found

    async def _associations(self, alert: Document, round_no: int) -> list[tuple[str, float | None]]:
        """(association id, distance km) in the order they are told: near ones nearest first,
        then the person's own, then (round 3) the rest of the country."""
        location = alert.get("location")
        ordered: list[tuple[str, float | None]] = []
        own_ids = asyncio.ensure_future(self.directory.association_ids_of(alert["user_id"]))  # meanwhile
        try:
            if location:
                radius = (self.settings.sos_dispatch_radius_km if round_no == 1
                          else self.settings.sos_escalation_radius_km)
                near = await self.directory.near(location["lat"], location["lon"], radius, MAX_NEAR_ASSOCIATIONS)
                ordered += [(hit["association_id"], hit["distance_km"]) for hit in near]
            own = await own_ids
        finally:
            if not own_ids.done():
                own_ids.cancel()
                await asyncio.gather(own_ids, return_exceptions=True)
        for doc in await self.directory.approved_associations(ids=own):
            ordered.append((doc["_id"], _nearest_km(doc, location)))
        if round_no >= 3:
            countries = {alert["person"].get("country")}
            near_ids = [aid for aid, _ in ordered]
            countries |= {doc.get("country") for doc in await self.directory.approved_associations(ids=near_ids)}
            country_wide = await self.directory.approved_associations(
                countries=sorted(c for c in countries if c), limit=MAX_COUNTRY_ASSOCIATIONS)
            measured = [(doc["_id"], _nearest_km(doc, location)) for doc in country_wide]
            measured.sort(key=lambda hit: (hit[1] is None, hit[1] or 0.0, hit[0]))
            ordered += measured
        unique: dict[str, float | None] = {}
        for association_id, distance in ordered:
            unique.setdefault(association_id, distance)
        return list(unique.items())

    # ------------------------------------------------------------ telling them
    async def run_round(self, alert_id: str, round_no: int) -> tuple[Document, list[Recipient]] | None:
        """Record and tell everyone newly in reach; (alert after, the newly told), None if gone."""
        alert = await self.repo.find(alert_id)
        if alert is None:
            return None
        if round_no == 1:
            # On-duty officers first, before any office-bearer lookup can slow the round down.
            await self.rooms.emit("sos:new", full_view(alert), FEED_ROOM)
        reached = await self.reach(alert, round_no)
        now = utcnow()
        fresh: list[Recipient] = []

        def record(current: Document) -> Document | None:
            told = {e["user_id"] for e in current.get("dispatch", [])}
            # Covered (a duress PIN accepted as a cancel) since ``reach`` read it: officers only.
            allowed = [r for r in reached if r.role == "officer" or not covered(current)]
            fresh[:] = [r for r in allowed if r.user_id not in told]
            if not fresh:
                return None
            entries = [*current.get("dispatch", []), *(r.entry(round_no, now) for r in fresh)]
            return {"$set": {"dispatch": entries}, "$inc": {"last_seq": 1}}

        written = await self.repo.mutate(alert_id, record, current=alert)  # no second read of the alert
        if written is None:
            after, seq = await self.repo.get(alert_id), await self.repo.next_seq(alert_id)
        else:
            after, seq = written[1], written[1]["last_seq"]
        await self.repo.append(alert_id, seq, "dispatch", None, data=self._summary(round_no, fresh, alert))
        await self._deliver(after, round_no, fresh)
        for recipient in fresh:
            self.metrics.told.labels(recipient.role, str(round_no)).inc()
        log.info("sos dispatch round %d: %d newly told", round_no, len(fresh), extra={"alert_id": alert_id})
        return after, fresh

    def _summary(self, round_no: int, fresh: list[Recipient], alert: Document) -> Document:
        scope = "radius" if round_no < 3 else "country"
        radius = self.settings.sos_dispatch_radius_km if round_no == 1 else self.settings.sos_escalation_radius_km
        return {"round": round_no, "scope": scope, "radius_km": radius if alert.get("location") else None,
                "officers": [r.user_id for r in fresh if r.role == "officer"],
                "office_bearers": [{"user_id": r.user_id, "association_id": r.association_id,
                                    "distance_km": r.distance_km} for r in fresh if r.role == "office_bearer"]}

    async def _deliver(self, alert: Document, round_no: int, fresh: list[Recipient]) -> None:
        for r in fresh:
            if r.role == "office_bearer":
                view = limited_view(alert, r.distance_km, approx_km=self.rooms.approx_km)
                await self.rooms.emit("sos:new", view, user_room(r.user_id))
