"""What happens to an open alert: transitions, notes, live location, cancel and duress.

Every write is conditioned on what was read (status or version) and retried on a fresh read, so
two responders acting at once end in one transition and one clear refusal.  The timeline entry
takes its sequence number in the same write; events leave after both are stored.

Duress.  ``sos:cancel`` with the duress PIN answers, and shows on the person's screens and to
every office bearer, exactly what a real cancel would (the person's ``cover`` and the
``cover_alert`` — the stored alert as a real cancel would have left it, frozen at that moment),
while the alert stays open, is marked ``duress``, and every escalation step left runs at once for
the Cell (officers and the escalation list only: no association is told more).  From then on the
person's and the bearers' actions on that alert are answered as on a cancelled alert
(``alert_closed``) — a location or a note the person still sends is stored and shown to the Cell
— and nothing more reaches them.

PIN lockout.  Every attempt counts (5 per alert per 10 minutes, 10 per person per hour); both
hashes are verified on every attempt.  During a lockout every PIN — wrong, real or duress — is
answered the same ``rate_limited`` after the same work; the attempt goes on the officers'
timeline in the background, and a duress PIN silently marks the alert duress (``cover`` stays
empty: the person's screens keep showing the open alert they were told they could not cancel)
and emails the Cell.  A right PIN after such a silent duress "cancels" with the cover.

Retries.  A note or a location may carry a ``client_id`` (the same on every retry, over the socket
or HTTP): the timeline entry or track point is stored under an id derived from (kind, alert,
user, client_id), so a retry answers what was stored — before any rate limit, nothing stored or
sent again — and the same client_id with other content is ``client_id_reused``.  A retry is
answered so only while the alert is open as the caller knows it; on a closed (or duress-covered)
alert every call answers ``alert_closed`` alike.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.clock import to_millis, utcnow
from hubchat.config import Settings
from hubchat.errors import Conflict, Forbidden, RateLimited, Unavailable
from hubchat.principal import Principal
from hubchat.ratelimit import RateLimiter
from hubchat.sos.access import actor, actor_of_person, bearer_associations, load, standing_of
from hubchat.sos.audience import AudienceRooms
from hubchat.sos.escalation import MAX_LEVEL, Escalator
from hubchat.sos.lifecycle import (
    Standing,
    cell_acknowledges,
    check_transition,
    closed_error,
    is_closed,
    may_note,
    require_open,
)
from hubchat.sos.metrics import SosMetrics
from hubchat.sos.models import OPEN_STATUSES, CancelIn, LocationIn, NoteIn, TransitionIn, TriggerIn
from hubchat.sos.ports import Accounts, Directory
from hubchat.sos.repository import ALERT_EVENTS, ALERT_TRACK, ALERTS, AlertRepository, busy
from hubchat.sos.views import (
    EventView,
    PersonView,
    PointView,
    cover_alert,
    cover_view,
    covered,
    event_view,
    person_view,
    point_view,
)
from hubchat.store import AGAIN, Again, Document, retry_on_conflict

log = logging.getLogger(__name__)

PIN_ATTEMPTS = 5  # per alert per window, right or wrong
PIN_WINDOW_SECS = 600
PIN_USER_ATTEMPTS = 10  # per person across their alerts, so a new alert does not mean fresh guesses
PIN_USER_WINDOW_SECS = 3600
LOCATION_TIMELINE_EVERY_SECS = 60.0  # the track has every point; the timeline one a minute at most
WRITE_ATTEMPTS = 20


def client_key(kind: str, alert_id: str, user_id: str, client_id: str | None) -> str | None:
    """The stored id of a note or track point sent with ``client_id`` (24 hex, like every id)."""
    if client_id is None:
        return None
    return hashlib.sha256(f"{kind}:{alert_id}:{user_id}:{client_id}".encode()).hexdigest()[:24]


def _reused() -> Conflict:
    return Conflict("this client_id was already used for different content", code="client_id_reused")


class AlertActions:
    def __init__(self, settings: Settings, repo: AlertRepository, accounts: Accounts, directory: Directory,
                 limiter: Callable[[], RateLimiter], rooms: AudienceRooms, escalator: Escalator,
                 metrics: SosMetrics):
        self.settings = settings
        self.metrics = metrics
        self.repo = repo
        self.accounts = accounts
        self.directory = directory
        self._limiter = limiter  # the running RateLimiter (built once infrastructure runs)
        self.rooms = rooms
        self.escalator = escalator

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter()

    # ------------------------------------------------------------ transitions
    async def transition(self, principal: Principal, req: TransitionIn) -> tuple[Document, Standing]:
        await self._hit(f"sos:action:{principal.user_id}", self.settings.sos_actions_per_minute, 60.0, "actions")

        async def attempt() -> tuple[Document, Standing, str, Document] | Again:
            alert, standing = await load(self.repo, self.directory, principal, req.alert_id)
            if covered(alert) and not standing.is_officer:
                raise closed_error("cancelled")  # as on the cancelled alert everyone but the Cell believes in
            cell_acked = bool(alert.get("cell_acknowledged_by"))
            if cell_acknowledges(alert["status"], req.action, standing, cell_acked):
                target = alert["status"]  # the Cell takes over an alert an association is responding to
            else:
                target = check_transition(alert["status"], req.action, standing)
                if is_closed(target) and not standing.is_officer and not cell_acked:
                    raise Forbidden("only the Cell may close an alert it has not acknowledged", code="not_allowed")
            sets: Document = {"status": target}
            update: Document = {"$inc": {"last_seq": 1}}
            now = utcnow()
            if req.action == "acknowledge":
                who = {"id": principal.user_id, "display_name": principal.display_name,
                       "role": "officer" if standing.is_officer else "office_bearer", "at": now}
                if alert["status"] == "open":
                    sets["acknowledged_by"] = who
                update["$addToSet"] = {"responders": principal.user_id}
                if standing.is_officer:
                    sets["cell_acknowledged_by"] = who
                else:  # an association is responding: the Cell's escalation goes on
                    sets["association_responding"] = [*(alert.get("association_responding") or []), {
                        "user_id": principal.user_id, "display_name": principal.display_name, "at": now,
                        "association_id": next(iter(bearer_associations(alert, principal.user_id)), None)}]
            if not covered(alert) and ("cell_acknowledged_by" in sets or is_closed(target)):
                sets["escalation"] = {**alert["escalation"], "next_at": None}  # the Cell has it: escalation stops
            if is_closed(target):
                sets["open_key"] = f"closed:{alert['_id']}"
                update["$currentDate"] = {"closed_at": True}
            update["$set"] = sets
            after = await self.repo.update({"_id": alert["_id"], "version": alert["version"]}, update)
            return AGAIN if after is None else (alert, standing, target, after)

        alert, standing, target, after = await retry_on_conflict(attempt, attempts=WRITE_ATTEMPTS, exhausted=busy())
        data: Document = {"from": alert["status"], "to": target, "action": req.action}
        if req.action == "acknowledge":
            data["by"] = "cell" if standing.is_officer else "association"
        await self.repo.append(after["_id"], after["last_seq"], "status", actor(principal, standing), note=req.note,
                               data=data)
        log.info("sos %s", req.action, extra={"alert_id": after["_id"]})
        self.metrics.transitions.labels(req.action).inc()
        await self.rooms.updated(after)
        return after, standing_of(after, principal)

    # ------------------------------------------------------------ notes
    async def note(self, principal: Principal, req: NoteIn) -> EventView:
        alert, standing = await load(self.repo, self.directory, principal, req.alert_id)
        key = client_key("note", alert["_id"], principal.user_id, req.client_id)
        if covered(alert) and not standing.is_officer:
            # as on a cancelled alert: alert_closed, whatever was stored under this client_id before
            try:
                if (standing.is_person and (key is None or await self._stored_note(key, req) is None)
                        and await self._allow(f"sos:note:{principal.user_id}", *self._note_limit) == 0):
                    await self._add_note(alert, actor(principal, standing), req.body, key, replay=req)
            except Conflict:
                pass
            raise closed_error("cancelled")
        require_open(alert["status"])
        if not may_note(standing):
            raise Forbidden("you may not add notes to this alert", code="not_allowed")
        if key is not None and (stored := await self._stored_note(key, req)) is not None:
            return stored
        await self._hit(f"sos:note:{principal.user_id}", *self._note_limit, "notes")
        return await self._add_note(alert, actor(principal, standing), req.body, key, replay=req)

    async def _stored_note(self, key: str, req: NoteIn) -> EventView | None:
        """The note stored under ``key`` (a retry), or None; other content is ``client_id_reused``."""
        event = await self.repo.coll(ALERT_EVENTS).find_one({"_id": key})
        if event is None:
            return None
        if event.get("note") != req.body:
            raise _reused()
        return event_view(event)

    @property
    def _note_limit(self) -> tuple[int, float]:
        return self.settings.sos_notes_per_minute, 60.0

    async def _hit(self, key: str, limit: int, window_secs: float, what: str) -> None:
        wait_secs = await self._allow(key, limit, window_secs)
        if wait_secs > 0:
            raise RateLimited(f"too many {what}; retry shortly", retry_after_secs=wait_secs)

    async def _add_note(self, alert: Document, who: Document, body: str, key: str | None = None,
                        replay: NoteIn | None = None) -> EventView:
        if key is None:
            stored = await self.repo.add(alert["_id"], "note", who, note=body)
        else:
            entry = self.repo.event(alert["_id"], await self.repo.next_seq(alert["_id"]), "note", who, note=body)
            try:
                stored = await self.repo.insert_event({**entry, "_id": key})
            except DuplicateKeyError:  # the same retry crossing this one: answer what it stored
                again = None if replay is None else await self._stored_note(key, replay)
                if again is None:
                    raise Unavailable("the note is being stored, retry", code="sos_busy") from None
                return again
        event = event_view(stored)
        await self.rooms.to_team("sos:note", {"alert_id": alert["_id"], "event": event}, alert)
        return event

    # ------------------------------------------------------------ live location
    async def location(self, principal: Principal, req: LocationIn) -> tuple[Document, PointView]:
        alert, standing = await load(self.repo, self.directory, principal, req.alert_id)
        if not standing.is_person:
            raise Forbidden("only the person who raised the alert sends its location", code="not_allowed")
        key = client_key("location", alert["_id"], principal.user_id, req.client_id)
        if covered(alert):
            # as on a cancelled alert: alert_closed, whatever was stored under this client_id before
            try:
                if (key is None or await self._stored_point(key, req) is None) and await self._location_wait(
                        alert["_id"]) == 0:
                    await self._store_location(alert, req, key)
            except (DuplicateKeyError, Conflict):
                pass
            raise closed_error("cancelled")
        require_open(alert["status"])
        if key is not None and (point := await self._stored_point(key, req)) is not None:
            return alert, point
        wait_secs = await self._location_wait(alert["_id"])
        if wait_secs > 0:
            raise RateLimited("too many location updates; retry shortly", retry_after_secs=wait_secs)
        try:
            return await self._store_location(alert, req, key)
        except DuplicateKeyError:  # the same retry crossing this one: answer what it stored
            point = None if key is None else await self._stored_point(key, req)
            if point is None:  # the crossing attempt found the alert closed and took its point back
                raise Unavailable("the location is being stored, retry", code="sos_busy") from None
            return alert, point

    async def _stored_point(self, key: str, req: LocationIn) -> PointView | None:
        """The track point stored under ``key`` (a retry), or None; other content is ``client_id_reused``."""
        stored = await self.repo.coll(ALERT_TRACK).find_one({"_id": key})
        if stored is None:
            return None
        if (stored["lat"], stored["lon"], stored.get("accuracy_m"), stored.get("battery_pct")) != (
                req.lat, req.lon, req.accuracy_m, req.battery_pct):
            raise _reused()
        return point_view(stored)

    async def coalesced(self, principal: Principal, alert: Document, req: TriggerIn) -> None:
        """A retrigger beyond the retrigger limit: its location is kept as a live location and its
        note as a note, each within their own limits; nothing else is stored or sent."""
        try:
            if req.lat is not None and req.lon is not None and await self._location_wait(alert["_id"]) == 0:
                await self._store_location(alert, LocationIn(alert_id=alert["_id"], lat=req.lat, lon=req.lon,
                                                              accuracy_m=req.accuracy_m,
                                                              battery_pct=req.battery_pct))
            if req.note and await self._allow(f"sos:note:{principal.user_id}", *self._note_limit) == 0:
                await self._add_note(alert, actor_of_person(alert), req.note)
        except Conflict:
            pass  # closed meanwhile: the answer is the alert as it was

    async def _location_wait(self, alert_id: str) -> float:
        return await self._allow(f"sos:location:{alert_id}", 1, self.settings.sos_location_min_interval_secs)

    async def _allow(self, key: str, limit: int, window_secs: float) -> float:
        """The limiter's answer; when it is unavailable the call goes through (a person in danger
        is never refused because Redis is down) and the miss is counted."""
        try:
            return await self.limiter.allow(key, limit, window_secs)
        except Unavailable:
            log.warning("sos: rate limiter unavailable, letting %s through", key.split(":")[1])
            self.metrics.limiter_down.inc()
            return 0.0

    async def _store_location(self, alert: Document, req: LocationIn,
                              key: str | None = None) -> tuple[Document, PointView]:
        """``key``: the point's id, inserted first, so a crossing retry with the same client_id
        stops here (``DuplicateKeyError``) before anything else is written or sent."""
        now = utcnow()
        if key is not None:
            await self.repo.coll(ALERT_TRACK).insert_one({
                "_id": key, "alert_id": alert["_id"], "lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m,
                "battery_pct": req.battery_pct, "at": now})
        sets: Document = {"location": {"lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m, "at": now},
                          "location_known": True}
        if req.battery_pct is not None:
            sets["battery_pct"] = req.battery_pct
        after = await self.repo.update({"_id": alert["_id"], "status": {"$in": list(OPEN_STATUSES)}}, {"$set": sets})
        if after is None:
            if key is not None:
                await self.repo.coll(ALERT_TRACK).delete_one({"_id": key})
            raise closed_error((await self.repo.get(alert["_id"]))["status"])
        if key is None:
            await self.repo.add_point(alert["_id"], req.lat, req.lon, req.accuracy_m, req.battery_pct, now)
        await self._log_location(after, req, now.timestamp())
        point = point_view(after["location"])
        assert point is not None
        await self.rooms.to_team("sos:location", {"alert_id": after["_id"], "location": point,
                                                  "battery_pct": after.get("battery_pct"),
                                                  "version": after["version"]}, after)
        return after, point

    async def _log_location(self, alert: Document, req: LocationIn, now_ts: float) -> None:
        """A ``location`` timeline entry for the first fix, then at most one a minute."""
        last = float(alert.get("location_logged_ts") or 0.0)
        if last and now_ts - last < LOCATION_TIMELINE_EVERY_SECS:
            return
        taken = await self.repo.coll(ALERTS).find_one_and_update(
            {"_id": alert["_id"], "location_logged_ts": alert.get("location_logged_ts", 0.0)},
            {"$set": {"location_logged_ts": now_ts}, "$inc": {"last_seq": 1}}, projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER)
        if taken is not None:
            await self.repo.append(alert["_id"], taken["last_seq"], "location", actor_of_person(alert), data={
                "lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m, "battery_pct": req.battery_pct})

    # ------------------------------------------------------------ cancel and duress
    async def cancel(self, principal: Principal, req: CancelIn) -> PersonView:
        """The person view after the cancel (the cover when the duress PIN was used).

        Both PIN hashes are verified on every attempt, locked or not.  While PIN attempts are
        locked every PIN is answered ``rate_limited`` the same way, after the same work; the
        attempt goes on the officers' timeline in the background, and a duress PIN among them
        silently marks the alert duress and tells the Cell (the person's screens still show the
        alert open, as for any refused attempt)."""
        alert, standing = await load(self.repo, self.directory, principal, req.alert_id)
        if not standing.is_person:
            raise Forbidden("only the person who raised the alert may cancel it", code="not_allowed")
        if covered(alert):
            raise closed_error("cancelled")  # what a cancelled alert answers
        require_open(alert["status"])
        user = await self.accounts.get_user(principal.user_id)
        if not (user.get("sos_pin_hash") and user.get("duress_pin_hash")):
            raise Conflict("set your SOS PINs first, or tell the responders it was a mistake", code="pins_not_set")
        wait_secs = max(await self._allow(f"sos:pin:{alert['_id']}", PIN_ATTEMPTS, PIN_WINDOW_SECS),
                        await self._allow(f"sos:pin-user:{principal.user_id}", PIN_USER_ATTEMPTS,
                                          PIN_USER_WINDOW_SECS))
        verdict = await self.accounts.check_sos_pin(principal.user_id, req.pin)  # both hashes, always
        if wait_secs > 0:
            self.rooms.spawn(self._locked_attempt(alert, principal, standing, verdict, wait_secs), "sos-pin-locked")
            raise RateLimited("too many PIN attempts; retry later", retry_after_secs=wait_secs)
        if verdict == "wrong":
            await self.repo.add(alert["_id"], "note", None, note="a wrong cancel PIN was entered",
                                data={"kind": "wrong_pin"})
            raise Forbidden("the PIN is wrong", code="wrong_pin")
        if verdict == "cancel" and not alert.get("duress"):
            return person_view(await self._cancel(alert, principal, standing))
        # the duress PIN, or any right PIN once a duress PIN was entered during a lockout
        return person_view(await self._duress(alert, principal, standing, cover=True))

    async def _locked_attempt(self, alert: Document, principal: Principal, standing: Standing, verdict: str,
                              wait_secs: float) -> None:
        await self.repo.add(alert["_id"], "note", None,
                            note="a cancel PIN was entered while PIN attempts were locked (answered rate_limited)",
                            data={"kind": "pin_locked", "pin": verdict, "retry_after_secs": round(wait_secs, 1)})
        if verdict == "duress":
            try:
                await self._duress(alert, principal, standing, cover=False)
            except Conflict:
                pass  # closed meanwhile: nothing left to mark

    async def _mark_silently(self, alert_id: str) -> tuple[Document, Document] | None:
        """``duress: true`` without touching ``version`` or ``updated_at``: the person's view of the
        alert must not change by a single field (every write that could conflict is conditioned on
        ``duress: false`` or re-reads it)."""
        before = await self.repo.find(alert_id)
        if before is None:
            return None
        after = await self.repo.coll(ALERTS).find_one_and_update(
            {"_id": alert_id, "duress": False, "status": {"$in": list(OPEN_STATUSES)}},
            {"$set": {"duress": True}, "$inc": {"last_seq": 1}}, return_document=ReturnDocument.AFTER)
        return None if after is None else (before, after)

    async def _cancel(self, alert: Document, principal: Principal, standing: Standing) -> Document:
        async def attempt() -> tuple[Document, Document | None] | Again:
            """(the alert as read, after the cancel or None when it turned out to be duress)."""
            nonlocal alert
            require_open(alert["status"])
            if alert.get("duress"):  # a duress PIN was entered meanwhile, during a lockout
                return alert, None
            after = await self.repo.update(
                {"_id": alert["_id"], "version": alert["version"], "duress": False},
                {"$set": {"status": "cancelled", "open_key": f"closed:{alert['_id']}",
                          "escalation": {**alert["escalation"], "next_at": None}},
                 "$inc": {"last_seq": 1}, "$currentDate": {"closed_at": True}})
            if after is not None:
                return alert, after
            alert = await self.repo.get(alert["_id"])
            return AGAIN

        alert, after = await retry_on_conflict(attempt, attempts=WRITE_ATTEMPTS, exhausted=busy())
        if after is None:
            return await self._duress(alert, principal, standing, cover=True)
        await self.repo.append(after["_id"], after["last_seq"], "status", actor(principal, standing),
                               data={"from": alert["status"], "to": "cancelled", "action": "cancel"})
        log.info("sos cancelled by the person", extra={"alert_id": after["_id"]})
        self.metrics.transitions.labels("cancel").inc()
        await self.rooms.updated(after)
        return after

    async def _duress(self, alert: Document, principal: Principal, standing: Standing, *, cover: bool) -> Document:
        """Mark the alert duress.  ``cover``: the PIN was accepted, so the person — and everyone
        outside the Cell — is shown a real cancel from now on (``cover``/``cover_alert``) and the
        steps left run at once for the Cell; otherwise (entered during a lockout) nothing visible
        outside the Cell changes: only the Cell is told."""
        closed_at = to_millis(utcnow())

        def mark(current: Document) -> Document | None:
            if covered(current) or is_closed(current["status"]) or (current.get("duress") and not cover):
                return None
            sets: Document = {"duress": True}
            if cover:
                esc = current["escalation"]
                if esc["level"] < MAX_LEVEL:
                    esc = {**esc, "next_at": closed_at}
                shown = {**current, "version": current["version"] + 1}
                sets.update(cover=cover_view(shown, closed_at), cover_alert=cover_alert(shown, closed_at),
                            open_key=f"duress:{current['_id']}", escalation=esc)
            return {"$set": sets, "$inc": {"last_seq": 1}}

        if cover:
            written = await self.repo.mutate(alert["_id"], mark)
        else:
            written = await self._mark_silently(alert["_id"])
        if written is None:
            current = await self.repo.get(alert["_id"])
            if current.get("duress"):
                return current
            raise closed_error(current["status"])
        before, after = written
        await self.repo.append(after["_id"], after["last_seq"], "duress", actor(principal, standing),
                               data={"status": before["status"], "cover": cover})
        log.warning("SOS duress PIN entered", extra={"alert_id": after["_id"]})
        self.metrics.duress.inc()
        if cover:
            await self.rooms.updated(after, cover_moment=True)  # exactly what a real cancel sends
        else:
            await self.rooms.to_officers(after)
        # the answer must not wait for the emails or the escalation
        self.rooms.spawn(self.escalator.on_duress(after, email=not before.get("duress"), run_steps=cover),
                         "sos-duress")
        return after
