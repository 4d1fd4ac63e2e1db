"""The case collections, their indexes, and the few write patterns the case rules use.

    cases            one document per case: {_id, person_id, person_name, person_name_lc, country,
                     alert_id, alert_key, source, owner_id, owner_name, status, outcome,
                     outcome_note, open_key, created_at, created_ms, updated_at, closed_at,
                     closed_ms, version}
    case_notes       {_id, case_id, kind, body, author, at, at_ms}
    case_reminders   {_id, case_id, due_at, due_ms, note, created_by, state, lease_ms,
                     claimed_by, fired_ms}   state: pending → firing → fired (or cancelled)
    case_referrals   {_id, case_id, agency: {id, name, kind, email, country}, attach, note,
                     by, at, at_ms, outbox_key}
    case_audit       who saw or changed a case: {_id, case_id, actor, action, at, at_ms}
    partner_agencies {_id, name, kind, email, country, active, created_at}

``alert_key`` (unique) is ``alert:{alert id}`` for a case made from an alert and
``case:{case id}`` otherwise: one case per alert whatever the number of nodes and retries.
``open_key`` is the person's id while the case is not closed and ``closed:{case id}`` after, so
"has this person an open case" is one indexed equality on both backends.  Times that queries
range over are integers (``*_ms``, epoch milliseconds): the embedded store serves integer ranges
from an index, not datetime ranges.
"""

from __future__ import annotations

from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.infra import Infra
from hubchat.schema import new_id
from hubchat.store import Document

CASES = "cases"
CASE_NOTES = "case_notes"
CASE_REMINDERS = "case_reminders"
CASE_REFERRALS = "case_referrals"
CASE_AUDIT = "case_audit"
AGENCIES = "partner_agencies"

INDEXES = {
    CASES: [
        IndexModel([("alert_key", 1)], unique=True, name="cases_alert_key"),
        IndexModel([("open_key", 1)], name="cases_open_key"),
        IndexModel([("created_ms", -1)], name="cases_created_ms"),
        IndexModel([("status", 1), ("created_ms", -1)], name="cases_status_created"),
        IndexModel([("owner_id", 1), ("created_ms", -1)], name="cases_owner_created"),
        IndexModel([("country", 1), ("created_ms", -1)], name="cases_country_created"),
        IndexModel([("person_id", 1), ("created_ms", -1)], name="cases_person_created"),
    ],
    CASE_NOTES: [IndexModel([("case_id", 1), ("at_ms", 1)], name="case_notes_case_at")],
    CASE_REMINDERS: [IndexModel([("state", 1), ("due_ms", 1)], name="case_reminders_due"),
                     IndexModel([("case_id", 1), ("due_ms", 1)], name="case_reminders_case")],
    CASE_REFERRALS: [IndexModel([("case_id", 1), ("at_ms", 1)], name="case_referrals_case_at")],
    CASE_AUDIT: [IndexModel([("case_id", 1), ("at_ms", 1)], name="case_audit_case_at")],
    AGENCIES: [IndexModel([("country", 1)], name="partner_agencies_country")],
}

MAX_PER_CASE = 500  # notes, reminders, referrals or audit entries read for one case


class CaseRepository:
    def __init__(self, infra: Infra):
        self.infra = infra

    def coll(self, name: str) -> Any:
        return self.infra.store[name]

    # ------------------------------------------------------------ cases
    async def insert(self, case: Document) -> Document | None:
        """Store a new case; None when its ``alert_key`` is taken (the alert has a case)."""
        try:
            await self.coll(CASES).insert_one(case)
        except DuplicateKeyError:
            return None
        return case

    async def find(self, case_id: str) -> Document | None:
        doc: Document | None = await self.coll(CASES).find_one({"_id": case_id})
        return doc

    async def by_alert(self, alert_id: str) -> Document | None:
        doc: Document | None = await self.coll(CASES).find_one({"alert_key": f"alert:{alert_id}"})
        return doc

    async def update(self, query: Document, sets: Document) -> Document | None:
        """One conditional write that bumps ``version``; the document after, or None."""
        doc: Document | None = await self.coll(CASES).find_one_and_update(
            query, {"$set": sets, "$inc": {"version": 1}}, return_document=ReturnDocument.AFTER)
        return doc

    async def open_of(self, person_id: str) -> Document | None:
        doc: Document | None = await self.coll(CASES).find_one({"open_key": person_id})
        return doc

    async def page(self, query: Document, limit: int) -> list[Document]:
        cursor = self.coll(CASES).find(query).sort([("created_ms", -1), ("_id", -1)]).limit(limit)
        return [doc async for doc in cursor]

    async def of_person(self, person_id: str, limit: int) -> list[Document]:
        cursor = self.coll(CASES).find({"person_id": person_id}).sort([("created_ms", -1)]).limit(limit)
        return [doc async for doc in cursor]

    async def created_between(self, from_ms: int, to_ms: int, limit: int,
                              projection: Document | None = None) -> list[Document]:
        """Cases created in [from_ms, to_ms): one integer range on ``cases_created_ms``."""
        cursor = self.coll(CASES).find({"created_ms": {"$gte": from_ms, "$lt": to_ms}}, projection).limit(limit)
        return [doc async for doc in cursor]

    # ------------------------------------------------------------ per-case lists
    async def add(self, collection: str, doc: Document) -> Document:
        stored = {"_id": new_id(), **doc}
        await self.coll(collection).insert_one(stored)
        return stored

    async def of_case(self, collection: str, case_id: str, order: str = "at_ms") -> list[Document]:
        cursor = self.coll(collection).find({"case_id": case_id}).sort([(order, 1), ("_id", 1)]).limit(MAX_PER_CASE)
        return [doc async for doc in cursor]

    # ------------------------------------------------------------ reminders
    async def claim_reminder(self, now_ms: int, lease_ms: int, node: str) -> Document | None:
        """Take one due reminder (or one whose claimer died) with a single atomic update."""
        for query in ({"state": "pending", "due_ms": {"$lte": now_ms}},
                      {"state": "firing", "lease_ms": {"$lte": now_ms}}):
            doc: Document | None = await self.coll(CASE_REMINDERS).find_one_and_update(
                query, {"$set": {"state": "firing", "lease_ms": now_ms + lease_ms, "claimed_by": node}},
                sort=[("due_ms", 1)], return_document=ReturnDocument.AFTER)
            if doc is not None:
                return doc
        return None

    async def finish_reminder(self, reminder_id: str, node: str, now_ms: int) -> None:
        await self.coll(CASE_REMINDERS).update_one({"_id": reminder_id, "claimed_by": node, "state": "firing"},
                                                   {"$set": {"state": "fired", "fired_ms": now_ms}})

    async def cancel_reminders(self, case_id: str) -> None:
        await self.coll(CASE_REMINDERS).update_many({"case_id": case_id, "state": "pending"},
                                                    {"$set": {"state": "cancelled"}})

    # ------------------------------------------------------------ agencies
    async def agencies(self, limit: int = 500) -> list[Document]:
        cursor = self.coll(AGENCIES).find({}).sort([("country", 1), ("name", 1)]).limit(limit)
        return [doc async for doc in cursor]

    async def agency(self, agency_id: str) -> Document | None:
        doc: Document | None = await self.coll(AGENCIES).find_one({"_id": agency_id})
        return doc

    async def update_agency(self, agency_id: str, sets: Document) -> Document | None:
        doc: Document | None = await self.coll(AGENCIES).find_one_and_update(
            {"_id": agency_id}, {"$set": sets}, return_document=ReturnDocument.AFTER)
        return doc


def audit_entry(case_id: str, actor: Document, action: str, at_ms: int, at: Any) -> Document:
    return {"case_id": case_id, "actor": actor, "action": action, "at": at, "at_ms": at_ms}
