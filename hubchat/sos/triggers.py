"""Raising an alert: idempotent, one open alert per person, stored before anyone is told.

    sos:trigger / POST /api/sos
      1. the same client_sos_id again (creation or retrigger) → that alert, unchanged; with
         different content → 409 client_sos_id_reused
      2. the person has an open alert → the new location is appended to it (track, timeline
         ``retriggered``, re-broadcast); the same alert is answered.  At most one retrigger per
         alert per ``sos_retrigger_min_interval_secs`` is stored and re-broadcast (shared limiter,
         every node): the others are coalesced — answered the same way, their location kept as a
         live location (``sos:location`` limits) and their note as a note (``sos:note`` limits)
      3. otherwise a new alert: its first timeline entry and first track point are written, then
         the alert itself (unique on (user_id, client_sos_id) and on open_key), and only then is
         anything emitted; dispatch runs after the answer (see ``escalation``: level 0)

Races (two nodes, a retry crossing the original) end in a unique-index refusal and a new pass
through the same steps, so they answer the one stored alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, cast

from pymongo.errors import DuplicateKeyError

from hubchat.clock import utcnow
from hubchat.config import Settings
from hubchat.errors import Conflict, Unavailable
from hubchat.principal import Principal
from hubchat.ratelimit import RateLimiter
from hubchat.realtime import Realtime
from hubchat.schema import new_id
from hubchat.sos.access import actor_of_person
from hubchat.sos.escalation import Escalator, initial_state
from hubchat.sos.metrics import SosMetrics
from hubchat.sos.models import TriggerIn
from hubchat.sos.ports import Accounts
from hubchat.sos.repository import AlertRepository
from hubchat.sos.rooms import SosRooms, alert_room
from hubchat.sos.views import cover_alert, cover_view
from hubchat.store import AGAIN, Again, Document, retry_on_conflict

log = logging.getLogger(__name__)

TRIGGER_ATTEMPTS = 4

Coalesce = Callable[[Principal, Document, TriggerIn], Awaitable[None]]


def fingerprint(req: TriggerIn) -> str:
    """A digest of everything the client sent: a replay must match it exactly."""
    canonical = json.dumps(req.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def person_card(user: Document) -> Document:
    return {"id": user["_id"], "display_name": user.get("display_name"), "phone": user.get("phone"),
            "email": user.get("email"), "country": user.get("country"), "city": user.get("city"),
            "language": user.get("language", "en")}


class TriggerHandler:
    def __init__(self, settings: Settings, repo: AlertRepository, accounts: Accounts, realtime: Realtime,
                 rooms: SosRooms, escalator: Escalator, metrics: SosMetrics,
                 limiter: Callable[[], RateLimiter] | None = None, coalesce: Coalesce | None = None,
                 urgent: Callable[[], AbstractAsyncContextManager[None]] | None = None):
        """``urgent()``: held while a trigger runs and while its first dispatch round tells the
        officers, so that no new chat work is admitted meanwhile (``Admission.urgent``)."""
        self.settings = settings
        self._urgent = urgent or contextlib.nullcontext
        self._limiter = limiter
        # keeps a coalesced retrigger's location and note (AlertActions.coalesced)
        self.coalesce = coalesce
        self.metrics = metrics
        self.repo = repo
        self.accounts = accounts
        self.realtime = realtime
        self.rooms = rooms
        self.escalator = escalator

    async def trigger(self, principal: Principal, req: TriggerIn, *,
                      origin: Document | None = None) -> tuple[Document, str]:
        """(the alert, "created" | "retriggered" | "replayed").  ``origin``: fields stored on a
        new alert that say where it came from when the system raised it for the person
        (``{"source": "checkin", "checkin": {…}}``, see ``raise_for``)."""
        async with self._urgent():
            alert, outcome = await self._trigger(principal, req, origin)
        self.metrics.triggers.labels(outcome).inc()
        return alert, outcome

    async def raise_silent_duress(self, principal: Principal, req: TriggerIn, origin: Document) -> Document:
        """A duress alert the person's screens never show (the check-in timer's duress PIN): stored
        already marked duress and covered — dispatched to Cell officers only, every escalation step
        due at once (officers and the escalation list), the ``duress`` email sent — and never the
        person's open alert, so nothing the person's phone can ask for reveals it.  Idempotent on
        ``client_sos_id`` like any trigger."""
        print_ = fingerprint(req)

        async def attempt() -> Document | Again:
            stored, user = await asyncio.gather(self.repo.by_trigger(principal.user_id, req.client_sos_id),
                                                self.accounts.get_user(principal.user_id))
            if stored is not None:
                return self._replay(stored, req.client_sos_id, print_)
            created = await self._create(principal, req, print_, user, origin, silent_duress=True)
            return AGAIN if created is None else created

        async with self._urgent():
            alert = await retry_on_conflict(attempt, attempts=TRIGGER_ATTEMPTS, exhausted=Unavailable(
                "the alert could not be stored yet", code="sos_retry"))
        self.metrics.triggers.labels("silent_duress").inc()
        return alert

    async def _trigger(self, principal: Principal, req: TriggerIn,
                       origin: Document | None = None) -> tuple[Document, str]:
        print_ = fingerprint(req)

        async def attempt() -> tuple[Document, str] | Again:
            # Independent reads in one round trip: each sequential store call of an SOS may
            # queue behind chat work (at most ``chat_max_inflight`` sends) at the store and on
            # the event loop.  The person's card is read ahead; replays and retriggers drop it.
            stored, current, user = await asyncio.gather(
                self.repo.by_trigger(principal.user_id, req.client_sos_id), self.repo.open_of(principal.user_id),
                self.accounts.get_user(principal.user_id), return_exceptions=True)
            if isinstance(stored, BaseException):
                raise stored
            if isinstance(current, BaseException):
                raise current
            if stored is not None:
                return self._replay(stored, req.client_sos_id, print_), "replayed"
            if current is not None:
                if not await self._restore_allowed(current["_id"]):
                    if self.coalesce is not None:
                        await self.coalesce(principal, current, req)
                    return current, "retriggered"
                after = await self._retrigger(current, req, print_)
                return AGAIN if after is None else (after, "retriggered")
            if isinstance(user, BaseException):
                raise user
            created = await self._create(principal, req, print_, user, origin)
            return AGAIN if created is None else (created, "created")

        return await retry_on_conflict(attempt, attempts=TRIGGER_ATTEMPTS, exhausted=Unavailable(
            "the alert could not be stored yet, retry with the same client_sos_id", code="sos_retry"))

    async def _restore_allowed(self, alert_id: str) -> bool:
        """One stored, re-broadcast retrigger per alert per interval (the limiter down: allowed)."""
        interval = self.settings.sos_retrigger_min_interval_secs
        if self._limiter is None or interval <= 0:
            return True
        try:
            return await self._limiter().allow(f"sos:retrigger:{alert_id}", 1, interval) == 0
        except Unavailable:
            self.metrics.limiter_down.inc()
            return True

    @staticmethod
    def _replay(alert: Document, client_sos_id: str, print_: str) -> Document:
        if f"{client_sos_id}:{print_}" not in alert.get("triggers", []):
            raise Conflict("this client_sos_id was already used for a different SOS", code="client_sos_id_reused")
        return alert

    async def _create(self, principal: Principal, req: TriggerIn, print_: str, user: Document,
                      origin: Document | None = None, *, silent_duress: bool = False) -> Document | None:
        now = self.escalator.clock.now()  # the clock its escalation steps fall due on
        alert_id = new_id()
        location = None
        if req.lat is not None and req.lon is not None:
            location = {"lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m, "at": now}
        alert: Document = {
            "_id": alert_id, "user_id": principal.user_id, "client_sos_id": req.client_sos_id,
            "fingerprint": print_, "trigger_ids": [req.client_sos_id], "triggers": [f"{req.client_sos_id}:{print_}"],
            "open_key": principal.user_id, "person": person_card(user), "category": req.category,
            "note": req.note, "battery_pct": req.battery_pct, "location": location,
            "location_known": location is not None, "location_logged_ts": now.timestamp() if location else 0.0,
            "status": "open", "duress": False, "cover": None,
            "created_at": now, "created_ms": int(now.timestamp() * 1000),  # reports range over it (integer: indexed)
            "updated_at": now, "closed_at": None, "acknowledged_by": None,
            "responders": [], "dispatch": [],
            "escalation": initial_state(now, self.settings, self.realtime.node_id),
            "version": 1, "last_seq": 1,
        }
        if origin:
            alert.update(origin)
        if silent_duress:
            # as a duress "cancel" leaves an alert: covered at once (everyone outside the Cell
            # would be shown a cancelled alert, though nobody outside it is ever told of this
            # one), not the person's open alert, every step left due now
            # ``silent``: never the person's (not in their history) nor anyone's outside the Cell
            alert.update(duress=True, silent=True, open_key=f"duress:{alert_id}")
            alert["escalation"]["next_at"] = now
            # (the cover keeps nothing of where the alert came from: to anyone outside the Cell
            # it is an ordinary alert the person cancelled)
            plain = {k: v for k, v in alert.items() if k not in ("source", "checkin")}
            alert.update(cover=cover_view(plain, now), cover_alert=cover_alert(plain, now))
        # Timeline and track first (together: one round trip): an alert is never visible without
        # its first entry (which is announced once the alert is stored).
        first = self.repo.append(alert_id, 1, "created", actor_of_person(alert), note=req.note, data={
            "client_sos_id": req.client_sos_id, "category": req.category, "location_known": location is not None,
            "lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m, "battery_pct": req.battery_pct},
            announce=False)
        writes: list[Awaitable[Any]] = [first]
        if req.lat is not None and req.lon is not None:
            writes.append(self.repo.add_point(alert_id, req.lat, req.lon, req.accuracy_m, req.battery_pct, now))
        written = await asyncio.gather(*writes, return_exceptions=True)
        failed = [w for w in written if isinstance(w, BaseException)]
        if failed:
            with contextlib.suppress(Exception):  # the half that landed has no alert: remove it
                await self.repo.delete_orphans(alert_id)
            raise failed[0]
        created = cast(Document, written[0])
        try:
            await self.repo.insert(alert)
        except DuplicateKeyError:
            await self.repo.delete_orphans(alert_id)
            return None
        log.warning("SOS raised", extra={"alert_id": alert_id, "category": req.category,
                                          "source": alert.get("source", "person")})
        await self.repo.announce(created)
        self.rooms.spawn(self._dispatch_first_round(alert), "sos-dispatch")
        if silent_duress:
            await self.repo.add(alert_id, "duress", None, data={"status": "open", "cover": True,
                                                                "source": alert.get("source")})
            self.rooms.spawn(self.escalator.on_duress(alert), "sos-duress")
            return alert
        await self._join(principal.user_id, alert_id)
        return alert

    async def _dispatch_first_round(self, alert: Document) -> None:
        async with self._urgent():
            await self.escalator.complete_initial(alert)

    async def _join(self, user_id: str, alert_id: str) -> None:
        """The person's sockets, on every node, into the alert's room (a reconnect repairs a miss)."""
        try:
            await self.realtime.join(user_id, [alert_room(alert_id)])
        except Exception:
            log.exception("sos: could not move the person's sockets into the alert room", extra={"alert_id": alert_id})

    async def _retrigger(self, current: Document, req: TriggerIn, print_: str) -> Document | None:
        now = utcnow()
        fields: Document = {}
        if req.lat is not None and req.lon is not None:
            fields.update(location={"lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m, "at": now},
                          location_known=True)
        if req.battery_pct is not None:
            fields["battery_pct"] = req.battery_pct
        update: Document = {"$addToSet": {"trigger_ids": req.client_sos_id,
                                          "triggers": f"{req.client_sos_id}:{print_}"},
                            "$inc": {"last_seq": 1}}
        if fields:
            update["$set"] = fields
        after = await self.repo.update({"_id": current["_id"], "open_key": current["user_id"],
                                        "trigger_ids": {"$nin": [req.client_sos_id]}}, update)
        if after is None:
            return None
        await self.repo.append(after["_id"], after["last_seq"], "retriggered", actor_of_person(after), note=req.note,
                               data={"client_sos_id": req.client_sos_id, "category": req.category,
                                     "lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m,
                                     "battery_pct": req.battery_pct})
        if req.lat is not None and req.lon is not None:
            await self.repo.add_point(after["_id"], req.lat, req.lon, req.accuracy_m, req.battery_pct, now)
        await self._join(after["user_id"], after["_id"])
        await self.rooms.updated(after, bearers=False)
        return after
