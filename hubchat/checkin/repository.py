"""The ``checkins`` collection: one document per timer.

    _id            derived from (person, client_id): a retried set answers the stored timer
    user_id, note, location {lat, lon, accuracy_m, at}|None, location_from ("set"|"update")
    status         active → checked_in | firing (claimed by a node) → missed
    active_key     user_id while active (unique: one active timer per person), else closed:{id}
    due_at/due_ms  the deadline (datetime to show, epoch ms of the injected clock to compare)
    remind_ms      when the reminder is due (None: no reminder)
    remind_state   waiting → claimed → sent (None: no reminder)
    lease_ms, claim, node      the claim of whichever job runs now (fire, remind)
    duress         the duress PIN ended it (never in any view but the Cell's alert)
    duress_state   pending → claimed → raised: the silent alert, raised once
    duress_lease_ms, duress_alert_id, alert_id (the missed deadline's SOS)

Times to compare are integers (epoch milliseconds): the embedded store compares them alike
on every update path, as the mail outbox does.
"""

from __future__ import annotations

from typing import Any

from pymongo import IndexModel, ReturnDocument

from hubchat.infra import Infra
from hubchat.store import Document

CHECKINS = "checkins"
INDEXES = {CHECKINS: [IndexModel([("active_key", 1)], unique=True, name="checkin_active"),
                      IndexModel([("status", 1)], name="checkin_status"),
                      IndexModel([("duress_state", 1)], name="checkin_duress"),
                      IndexModel([("user_id", 1)], name="checkin_user")]}
SCAN_LIMIT = 5000


class CheckinRepository:
    def __init__(self, infra: Infra):
        self.infra = infra

    def coll(self) -> Any:
        return self.infra.store[CHECKINS]

    async def insert(self, doc: Document) -> None:
        await self.coll().insert_one(doc)

    async def find(self, checkin_id: str) -> Document | None:
        doc: Document | None = await self.coll().find_one({"_id": checkin_id})
        return doc

    async def active_of(self, user_id: str) -> Document | None:
        doc: Document | None = await self.coll().find_one({"active_key": user_id})
        return doc

    async def latest_of(self, user_id: str) -> Document | None:
        cursor = self.coll().find({"user_id": user_id}).sort([("set_ms", -1)]).limit(1)
        docs = [doc async for doc in cursor]
        return docs[0] if docs else None

    async def update(self, query: Document, update: Document) -> Document | None:
        """One conditional write; the document after, or None when ``query`` matched nothing."""
        doc: Document | None = await self.coll().find_one_and_update(
            query, update, return_document=ReturnDocument.AFTER)
        return doc

    async def where(self, field: str, value: str) -> list[Document]:
        """Equality on an indexed field (each an index search on both backends)."""
        return [doc async for doc in self.coll().find({field: value}).limit(SCAN_LIMIT)]
