"""The SOS collections, their indexes, and the few write patterns every SOS rule goes through.

    alerts        one document per alert (shape in ``docs/api.md``); ``version`` grows by one on
                  every write, ``last_seq`` is the last timeline sequence number handed out
    alert_events  the append-only timeline: {_id, alert_id, seq, at, type, actor, note, data}
    alert_track   location points: {_id, alert_id, lat, lon, accuracy_m, battery_pct, at}
    alert_audit   who looked at an alert's details: {_id, alert_id, viewer, action, at}
    duty          the Cell's duty roster: {_id: officer id, on_duty, since, display_name}

Write rules, so that both MongoDB and the embedded nx-27017 store keep real datetimes and arrays
of sub-documents: top-level timestamps are written with ``$currentDate`` (or on insert); fields
holding datetimes or arrays of sub-documents (``location``, ``acknowledged_by``, ``dispatch``,
``escalation``, ``cover``) are always replaced whole, never patched with a dotted path or
``$push``.  Fields replaced from a value read earlier (``dispatch``, ``escalation``) are written
by :meth:`AlertRepository.mutate`, which is conditioned on ``version``: a concurrent write makes
it read again and recompute, so nothing is lost and a claim is won by exactly one node.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from pymongo import IndexModel, ReturnDocument

from hubchat.clock import utcnow
from hubchat.errors import NotFound, Unavailable
from hubchat.infra import Infra
from hubchat.schema import new_id
from hubchat.store import AGAIN, Again, Document, retry_on_conflict

log = logging.getLogger(__name__)

ALERTS = "alerts"
ALERT_EVENTS = "alert_events"
ALERT_TRACK = "alert_track"
ALERT_AUDIT = "alert_audit"
DUTY = "duty"
MAIL_DIGEST = "sos_mail_digest"  # SOS emails over a recipient's budget, waiting for their digest (mailbudget)

INDEXES = {
    ALERTS: [
        IndexModel([("user_id", 1), ("client_sos_id", 1)], unique=True, name="alerts_user_client_sos_id"),
        # user_id while the alert is open for the person; "closed:{id}" / "duress:{id}" afterwards,
        # so a person has at most one open alert whatever the number of nodes and retries.
        IndexModel([("open_key", 1)], unique=True, name="alerts_open_key"),
        IndexModel([("user_id", 1), ("trigger_ids", 1)], name="alerts_user_trigger_ids"),
        IndexModel([("status", 1), ("created_at", -1)], name="alerts_status_created"),
        IndexModel([("escalation.next_at", 1)], name="alerts_escalation_next_at"),
        IndexModel([("created_ms", 1)], name="alerts_created_ms"),  # the Cell's reports (hubchat/reports)
    ],
    ALERT_EVENTS: [IndexModel([("alert_id", 1), ("seq", 1)], unique=True, name="alert_events_alert_seq")],
    ALERT_TRACK: [IndexModel([("alert_id", 1), ("at", 1)], name="alert_track_alert_at")],
    ALERT_AUDIT: [IndexModel([("alert_id", 1), ("at", 1)], name="alert_audit_alert_at")],
    DUTY: [IndexModel([("on_duty", 1)], name="duty_on_duty")],
    MAIL_DIGEST: [IndexModel([("claim", 1), ("due_at", 1)], name="sos_mail_digest_due")],
}

MUTATE_ATTEMPTS = 20

Change = Callable[[Document], Document | None]


def busy() -> Unavailable:
    """An alert written by others faster than one write could land (temporary: retry)."""
    return Unavailable("the alert is changing too fast, retry", code="sos_busy")


@dataclasses.dataclass(frozen=True)
class TimelineEntryStored:
    """Domain event: a timeline entry was stored and its alert document exists (a new alert's
    first entry is published once the alert itself is stored)."""

    entry: Document


class AlertRepository:
    def __init__(self, infra: Infra):
        self.infra = infra

    def coll(self, name: str) -> Any:
        return self.infra.store[name]

    # ------------------------------------------------------------ alerts
    async def insert(self, alert: Document) -> None:
        await self.coll(ALERTS).insert_one(alert)

    async def find(self, alert_id: str) -> Document | None:
        doc: Document | None = await self.coll(ALERTS).find_one({"_id": alert_id})
        return doc

    async def get(self, alert_id: str) -> Document:
        doc = await self.find(alert_id)
        if doc is None:
            raise NotFound("no such alert", code="alert_not_found")
        return doc

    async def by_trigger(self, user_id: str, client_sos_id: str) -> Document | None:
        doc: Document | None = await self.coll(ALERTS).find_one({"user_id": user_id, "trigger_ids": client_sos_id})
        return doc

    async def open_of(self, user_id: str) -> Document | None:
        """The person's open alert, as the person knows it (a duress alert is not one)."""
        doc: Document | None = await self.coll(ALERTS).find_one({"open_key": user_id})
        return doc

    async def update(self, query: Document, update: Document) -> Document | None:
        """One conditional write that bumps ``version`` and ``updated_at``; the document after, or None."""
        update = {**update, "$inc": {**update.get("$inc", {}), "version": 1},
                  "$currentDate": {**update.get("$currentDate", {}), "updated_at": True}}
        doc: Document | None = await self.coll(ALERTS).find_one_and_update(
            query, update, return_document=ReturnDocument.AFTER)
        return doc

    async def mutate(self, alert_id: str, change: Change, extra: Document | None = None, *,
                     quiet: bool = False, current: Document | None = None) -> tuple[Document, Document] | None:
        """Read, let ``change(alert)`` compute an update (None: nothing to do), write it if nobody wrote
        in between, else read again.  Returns (before, after), or None when nothing was written.
        ``quiet``: internal bookkeeping nobody is shown; ``version`` and ``updated_at`` stay as they are.
        ``current``: the alert as the caller just read it, used instead of the first read (the
        write is conditional on its ``version``, so a change in between is read again as usual)."""
        given = [current] if current is not None else []

        async def attempt() -> tuple[Document, Document] | None | Again:
            before = given.pop() if given else await self.find(alert_id)
            if before is None:
                return None
            update = change(before)
            if update is None:
                return None
            query = {"_id": alert_id, "version": before["version"], **(extra or {})}
            if quiet:
                after = await self.coll(ALERTS).find_one_and_update(query, update,
                                                                    return_document=ReturnDocument.AFTER)
            else:
                after = await self.update(query, update)
            return AGAIN if after is None else (before, after)

        return await retry_on_conflict(attempt, attempts=MUTATE_ATTEMPTS, exhausted=busy())

    async def created_between(self, from_ms: int, to_ms: int, limit: int,
                              projection: Document | None = None) -> list[Document]:
        """Alerts raised in [from_ms, to_ms): one integer range on ``alerts_created_ms`` (the
        embedded store serves integer ranges from an index, not datetime ranges)."""
        cursor = self.coll(ALERTS).find({"created_ms": {"$gte": from_ms, "$lt": to_ms}}, projection).limit(limit)
        return [doc async for doc in cursor]

    async def next_seq(self, alert_id: str) -> int:
        doc = await self.coll(ALERTS).find_one_and_update(
            {"_id": alert_id}, {"$inc": {"last_seq": 1}}, projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER)
        if doc is None:
            raise NotFound("no such alert", code="alert_not_found")
        return int(doc["last_seq"])

    async def find_many(self, query: Document, *, sort: Sequence[tuple[str, int]] | None = None,
                        limit: int = 0, projection: Document | None = None) -> list[Document]:
        cursor = self.coll(ALERTS).find(query, projection)
        if sort:
            cursor = cursor.sort(list(sort))
        if limit:
            cursor = cursor.limit(limit)
        return [doc async for doc in cursor]

    # ------------------------------------------------------------ timeline
    @staticmethod
    def event(alert_id: str, seq: int, kind: str, actor: Document | None, *, note: str | None = None,
              data: Document | None = None, at: dt.datetime | None = None) -> Document:
        return {"_id": new_id(), "alert_id": alert_id, "seq": seq, "at": at or utcnow(), "type": kind,
                "actor": actor, "note": note, "data": data or {}}

    async def insert_event(self, event: Document, *, announce: bool = True) -> Document:
        """Store a timeline entry and publish ``TimelineEntryStored`` (``announce``: False while
        its alert document is not stored yet; the caller publishes with :meth:`announce`)."""
        await self.coll(ALERT_EVENTS).insert_one(event)
        if announce:
            await self.announce(event)
        return event

    async def announce(self, event: Document) -> None:
        await self.infra.events.publish(TimelineEntryStored(event))

    async def append(self, alert_id: str, seq: int, kind: str, actor: Document | None, *,
                     note: str | None = None, data: Document | None = None, announce: bool = True) -> Document:
        """The timeline entry numbered ``seq`` (taken with the write it records)."""
        return await self.insert_event(self.event(alert_id, seq, kind, actor, note=note, data=data),
                                       announce=announce)

    async def add(self, alert_id: str, kind: str, actor: Document | None, *, note: str | None = None,
                  data: Document | None = None) -> Document:
        """A timeline entry for something that did not change the alert document itself."""
        seq = await self.next_seq(alert_id)
        return await self.append(alert_id, seq, kind, actor, note=note, data=data)

    async def timeline(self, alert_id: str) -> list[Document]:
        return [e async for e in self.coll(ALERT_EVENTS).find({"alert_id": alert_id}).sort([("seq", 1)])]

    # ------------------------------------------------------------ track and audit
    async def add_point(self, alert_id: str, lat: float, lon: float, accuracy_m: float | None,
                        battery_pct: int | None, at: dt.datetime) -> None:
        await self.coll(ALERT_TRACK).insert_one({"_id": new_id(), "alert_id": alert_id, "lat": lat, "lon": lon,
                                                 "accuracy_m": accuracy_m, "battery_pct": battery_pct, "at": at})

    async def track(self, alert_id: str) -> list[Document]:
        return [p async for p in self.coll(ALERT_TRACK).find({"alert_id": alert_id}).sort([("at", 1), ("_id", 1)])]

    async def audit(self, alert_id: str, viewer: Document, action: str) -> None:
        await self.coll(ALERT_AUDIT).insert_one({"_id": new_id(), "alert_id": alert_id, "viewer": viewer,
                                                 "action": action, "at": utcnow()})

    async def audit_entries(self, alert_id: str) -> list[Document]:
        cursor = self.coll(ALERT_AUDIT).find({"alert_id": alert_id}).sort([("at", 1), ("_id", 1)])
        return [e async for e in cursor]

    async def delete_orphans(self, alert_id: str) -> None:
        """Undo the timeline and track written ahead of an alert insert that lost a race."""
        await self.coll(ALERT_EVENTS).delete_many({"alert_id": alert_id})
        await self.coll(ALERT_TRACK).delete_many({"alert_id": alert_id})
