"""CheckinService: the person's check-in timers.

    set       a deadline (minutes from now or an instant, within checkin_min_secs..max_secs),
              an optional note, reminder lead and location; one active timer per person;
              idempotent on client_id; the SOS PINs must be set (they are how it ends)
    location  the person's current place, kept on the active timer for a missed deadline
    check_in  the SOS PIN ends it; the duress PIN ends it identically on the person's screens
              (same write of the fields they see, same answer, same ``checkin:updated``) and
              stores ``duress_state: pending``, from which a silent alert to the Cell is raised
              (``scanner``), right after the answer and again by any node's scan until raised

PIN attempts follow the cancel PIN's rules (``sos.actions``): both hashes verified on every
attempt; 5 attempts per timer per 10 minutes and the person's 10 per hour shared with
``sos:cancel`` (the same limiter key), so a timer gives no fresh guesses.  During a lockout
every PIN is answered the same ``rate_limited``; a duress PIN among them silently stores
``duress_state: pending`` (the timer stays active, as the person was told).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
from collections.abc import AsyncIterator

from pymongo.errors import DuplicateKeyError

from hubchat.background import BackgroundTasks, cancel_and_wait
from hubchat.checkin.models import CheckInIn, LocationIn, SetIn, parse_instant
from hubchat.checkin.ports import Alerts
from hubchat.checkin.repository import CheckinRepository
from hubchat.checkin.scanner import CheckinScanner, ms
from hubchat.checkin.views import CheckinView, checkin_view, person_status
from hubchat.clock import iso, to_millis
from hubchat.errors import Conflict, Forbidden, NotFound, RateLimited, Unavailable, ValidationFailed
from hubchat.infra import Infra
from hubchat.mail import Email
from hubchat.principal import Principal
from hubchat.realtime import user_room
from hubchat.sos.actions import PIN_ATTEMPTS, PIN_USER_ATTEMPTS, PIN_USER_WINDOW_SECS, PIN_WINDOW_SECS
from hubchat.sos.ports import Accounts
from hubchat.store import Document

log = logging.getLogger(__name__)

LOCATIONS_PER_HOUR_FACTOR = 4  # location updates allowed per hour: this many times checkin_sets_per_hour


def _not_found() -> NotFound:
    return NotFound("no such check-in timer", code="checkin_not_found")


def _closed(doc: Document) -> Conflict:
    return Conflict("this check-in timer has ended", code="checkin_closed",
                    details={"status": person_status(doc)})


class CheckinService:
    def __init__(self, infra: Infra, accounts: Accounts, alerts: Alerts):
        self.infra = infra
        self.settings = infra.settings
        self.accounts = accounts
        self.alerts = alerts
        self.repo = CheckinRepository(infra)
        self.background = BackgroundTasks("checkin")
        self.scanner = CheckinScanner(self.repo, alerts, infra.clock, infra.realtime.node_id,
                                      self.settings.checkin_scan_interval_secs, self._remind, self._missed)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The scanner on this node; on exit, the work started after answers is drained."""
        task = asyncio.create_task(self.scanner.run_forever(), name="hubchat-checkin-scanner")
        try:
            yield
        finally:
            await cancel_and_wait({task})
            await self.background.drain()

    # ------------------------------------------------------------ set
    async def set(self, principal: Principal, req: SetIn) -> CheckinView:
        key = hashlib.sha256(f"checkin:{principal.user_id}:{req.client_id}".encode()).hexdigest()[:24]
        print_ = hashlib.sha256(json.dumps(req.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        stored = await self.repo.find(key)
        if stored is not None:
            return self._replay(stored, print_)
        await self._limit(f"checkin:set:{principal.user_id}", self.settings.checkin_sets_per_hour)
        user = await self.accounts.get_user(principal.user_id)
        if not (user.get("sos_pin_hash") and user.get("duress_pin_hash")):
            raise Conflict("set your SOS PINs first: checking in takes your SOS PIN", code="pins_not_set")
        now = self.infra.clock.now()
        due = to_millis(now + dt.timedelta(minutes=req.minutes)) if req.minutes is not None else to_millis(
            parse_instant(req.due_at or ""))
        span = (due - now).total_seconds()
        if not self.settings.checkin_min_secs <= span <= self.settings.checkin_max_secs:
            raise ValidationFailed(
                f"the deadline must be {self.settings.checkin_min_secs / 60:g} minutes to "
                f"{self.settings.checkin_max_secs / 3600:g} hours from now", code="deadline_out_of_range")
        remind_at = None
        if req.remind_before_minutes is not None:
            remind_at = due - dt.timedelta(minutes=req.remind_before_minutes)
            if remind_at <= now:
                raise ValidationFailed("the reminder would come before now: choose a shorter lead",
                                       code="reminder_out_of_range")
        location = None
        if req.lat is not None and req.lon is not None:
            location = {"lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m, "at": now}
        doc: Document = {
            "_id": key, "user_id": principal.user_id, "print": print_, "active_key": principal.user_id,
            "status": "active", "note": req.note, "location": location,
            "location_from": "set" if location else None,
            "set_at": now, "set_ms": ms(self.infra.clock), "due_at": due, "due_ms": int(due.timestamp() * 1000),
            "remind_at": remind_at, "remind_ms": None if remind_at is None else int(remind_at.timestamp() * 1000),
            "remind_state": None if remind_at is None else "waiting",
            "ended_at": None, "alert_id": None, "lease_ms": 0, "claim": None,
            "duress": False, "duress_state": None, "wrong_pins": 0,
        }
        try:
            await self.repo.insert(doc)
        except DuplicateKeyError:
            again = await self.repo.find(key)
            if again is not None:  # the same retry crossing this one
                return self._replay(again, print_)
            raise Conflict("you already have a check-in timer running: check in to end it first",
                           code="checkin_active") from None
        log.info("check-in timer set", extra={"checkin_id": key, "due_in_secs": round(span)})
        view = checkin_view(doc)
        await self.infra.realtime.emit("checkin:updated", view, to=user_room(principal.user_id))
        return view

    @staticmethod
    def _replay(stored: Document, print_: str) -> CheckinView:
        if stored.get("print") != print_:
            raise Conflict("this client_id was already used for a different timer", code="client_id_reused")
        return checkin_view(stored)

    async def mine(self, principal: Principal) -> dict[str, CheckinView | None]:
        """The person's active timer, else their latest (so a reconnecting screen shows the end)."""
        doc = await self.repo.active_of(principal.user_id) or await self.repo.latest_of(principal.user_id)
        return {"checkin": None if doc is None else checkin_view(doc)}

    # ------------------------------------------------------------ location
    async def location(self, principal: Principal, req: LocationIn) -> CheckinView:
        doc = await self._own(principal, req.checkin_id)
        if doc["status"] != "active":
            raise _closed(doc)
        await self._limit(f"checkin:location:{principal.user_id}",
                          self.settings.checkin_sets_per_hour * LOCATIONS_PER_HOUR_FACTOR)
        now = self.infra.clock.now()
        after = await self.repo.update(
            {"_id": doc["_id"], "user_id": principal.user_id, "status": "active"},
            {"$set": {"location": {"lat": req.lat, "lon": req.lon, "accuracy_m": req.accuracy_m, "at": now},
                      "location_from": "update"}})
        if after is None:
            raise _closed(await self._own(principal, req.checkin_id))
        view = checkin_view(after)
        await self.infra.realtime.emit("checkin:updated", view, to=user_room(principal.user_id))
        return view

    # ------------------------------------------------------------ check in
    async def check_in(self, principal: Principal, req: CheckInIn) -> CheckinView:
        doc = await self._own(principal, req.checkin_id)
        if doc["status"] != "active":
            raise _closed(doc)
        user = await self.accounts.get_user(principal.user_id)
        if not (user.get("sos_pin_hash") and user.get("duress_pin_hash")):
            raise Conflict("set your SOS PINs first", code="pins_not_set")
        wait_secs = max(await self._allow(f"checkin:pin:{doc['_id']}", PIN_ATTEMPTS, PIN_WINDOW_SECS),
                        await self._allow(f"sos:pin-user:{principal.user_id}", PIN_USER_ATTEMPTS,
                                          PIN_USER_WINDOW_SECS))
        verdict = await self.accounts.check_sos_pin(principal.user_id, req.pin)  # both hashes, always
        if wait_secs > 0:
            if verdict == "duress":
                self.background.spawn(self._locked_duress(doc["_id"]), "checkin-duress-locked")
            raise RateLimited("too many PIN attempts; retry later", retry_after_secs=wait_secs)
        if verdict == "wrong":
            await self.repo.update({"_id": doc["_id"]}, {"$inc": {"wrong_pins": 1}})
            raise Forbidden("the PIN is wrong", code="wrong_pin")
        now = self.infra.clock.now()
        ended: Document = {"status": "checked_in", "active_key": f"closed:{doc['_id']}", "ended_at": now}
        if verdict == "duress":
            ended.update(duress=True, duress_state="pending", duress_lease_ms=0)
        after = await self.repo.update({"_id": doc["_id"], "user_id": principal.user_id, "status": "active"},
                                       {"$set": ended})
        if after is None:  # the deadline fired meanwhile (the SOS it raised is the person's to cancel)
            raise _closed(await self._own(principal, req.checkin_id))
        view = checkin_view(after)
        await self.infra.realtime.emit("checkin:updated", view, to=user_room(principal.user_id))
        if verdict == "duress":
            # after the answer; any node's scan raises it if this node stops first
            self.scanner.kick_duress(doc["_id"], self.background.spawn)
        else:
            log.info("checked in", extra={"checkin_id": doc["_id"]})
        return view

    async def _locked_duress(self, checkin_id: str) -> None:
        """A duress PIN typed during a lockout: the silent alert, nothing the person can see."""
        marked = await self.repo.update({"_id": checkin_id, "duress_state": None},
                                        {"$set": {"duress_state": "pending", "duress_lease_ms": 0}})
        if marked is not None:
            await self.scanner.raise_duress(checkin_id)

    # ------------------------------------------------------------ helpers
    async def _own(self, principal: Principal, checkin_id: str) -> Document:
        """The caller's own timer; anyone else's answers exactly as one that does not exist."""
        doc = await self.repo.find(checkin_id)
        if doc is None or doc["user_id"] != principal.user_id:
            raise _not_found()
        return doc

    async def _allow(self, key: str, limit: int, window_secs: float) -> float:
        """The shared limiter's answer; when it is down the call goes through (as for SOS)."""
        try:
            return await self.infra.limiter.allow(key, limit, window_secs)
        except Unavailable:
            log.warning("check-in: rate limiter unavailable, letting %s through", key.split(":")[1])
            return 0.0

    async def _limit(self, key: str, per_hour: int) -> None:
        wait_secs = await self._allow(key, per_hour, 3600.0)
        if wait_secs > 0:
            raise RateLimited("too many check-in requests; retry later", retry_after_secs=wait_secs)

    # ------------------------------------------------------------ told by the scanner
    async def _remind(self, doc: Document) -> None:
        view = checkin_view(doc)
        await self.infra.realtime.emit("checkin:reminder", {"checkin": view}, to=user_room(doc["user_id"]))
        user = await self.accounts.get_user(doc["user_id"])
        if user.get("email"):
            due = iso(doc["due_at"])
            await self.infra.outbox.enqueue(Email(
                to=(user["email"],), subject="hubchat: your check-in is due soon",
                text=(f"Your check-in timer runs out at {due} (UTC).\n\nOpen hubchat and check in with your SOS "
                      "PIN. If you do not, the Diaspora Cell is alerted.\n")),
                key=f"checkin-reminder:{doc['_id']}", tag=f"checkin-reminder:{doc['_id']}")

    async def _missed(self, doc: Document) -> None:
        await self.infra.realtime.emit("checkin:updated", checkin_view(doc), to=user_room(doc["user_id"]))
