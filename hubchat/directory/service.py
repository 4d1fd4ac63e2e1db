"""Associations: registration, review by the Diaspora Cell, edits, search and proximity search.

Collection ``associations``:

    {_id, name, name_lower, country, city, city_lower, description, contact_email, contact_phone,
     gathering_places: [{id, name, address, lat, lon, schedule}],
     office_bearers: [{id, name, position, user_id | None,
                       contacts: [{kind, value, visibility: public | members | officers}]}],
     status: pending | approved | rejected, rejection_reason,
     created_by, created_at, updated_at, decided_by, decided_at,
     changes_pending: bool, pending_changes: {country?, city?, city_lower?, gathering_places?,
                                              requested_by, requested_at} | None,
     changes_rejection_reason}

Where an approved association is (``country``, ``city``, ``gathering_places``) decides which SOS
alerts its office bearers are told of, so its office bearers cannot move it on their own: on an
approved association those fields of an edit are stored as ``pending_changes`` (a later edit
adds to them) and the places in force stay until a cell officer approves the changes
(``approve_changes``, which applies them) or rejects them (``reject_changes``).  The other fields
apply at once.  A pending or rejected association is edited directly: it is reviewed as a whole.

Lifecycle: ``pending`` → ``approved`` | ``rejected``, decided once by a cell officer.  The
registering user is the first office bearer from the start (an active membership), so they can
edit the entry and invite co-office bearers while it waits.  Membership notifications go out
as memberships change, whatever the status; on approval ``notify_approved`` is called once and
no per-member notification is repeated (subscribers that wait for approval take the members from
``Memberships.member_ids``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import IndexModel, ReturnDocument

from hubchat.clock import utcnow
from hubchat.directory.access import ASSOCIATIONS, AssociationAccess
from hubchat.directory.members import MemberService
from hubchat.directory.membership import AssociationApproved, MembershipChange, Memberships
from hubchat.directory.models import (
    AssociationIn,
    AssociationPatch,
    GatheringPlaceIn,
    NearQuery,
    OfficeBearerIn,
    PageQuery,
    SearchQuery,
)
from hubchat.directory.notices import approved_email, rejected_email
from hubchat.directory.points import POINT_INDEXES, GatheringPoints, nearest_place
from hubchat.directory.ports import Accounts
from hubchat.directory.timestamps import stamp
from hubchat.directory.views import Viewer, association_view, place_view, summary_view
from hubchat.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.schema import new_id
from hubchat.store import Document

log = logging.getLogger(__name__)

REGISTRATION_LIMIT = 10  # registrations per user per window
REGISTRATION_WINDOW_SECS = 24 * 3600
DISTANCE_DECIMALS = 1

ASSOCIATION_INDEXES = {
    ASSOCIATIONS: [
        IndexModel([("status", 1), ("country", 1), ("city_lower", 1), ("name_lower", 1)],
                   name="associations_status_place_name"),
        IndexModel([("status", 1), ("name_lower", 1)], name="associations_status_name"),
        IndexModel([("status", 1), ("created_at", 1)], name="associations_status_created"),
    ],
    **POINT_INDEXES,
}


# What decides which SOS alerts an association's office bearers are told of: reviewed by the Cell.
REVIEWED_FIELDS = ("country", "city", "city_lower", "gathering_places")


def _places(given: list[GatheringPlaceIn], existing: list[Document]) -> list[Document]:
    """Stored places; a given ``id`` is kept only when it names one of this association's places."""
    known = {p["id"] for p in existing}
    return [{"id": p.id if p.id in known else new_id(), "name": p.name, "address": p.address,
             "lat": float(p.lat), "lon": float(p.lon), "schedule": p.schedule} for p in given]


def _bearers(given: list[OfficeBearerIn], existing: list[Document]) -> list[Document]:
    known = {b["id"] for b in existing}
    return [{"id": b.id if b.id in known else new_id(), "name": b.name, "position": b.position,
             "user_id": b.user_id, "contacts": [c.model_dump() for c in b.contacts]} for b in given]


def _details(fields: Document) -> Document:
    """The stored form of validated registration fields (a subset on edit)."""
    doc: Document = {}
    for key in ("name", "country", "city", "description", "contact_email", "contact_phone"):
        if key in fields:
            doc[key] = fields[key]
    if "name" in doc:
        doc["name_lower"] = doc["name"].lower()
    if "city" in doc:
        doc["city_lower"] = doc["city"].lower()
    return doc


class DirectoryService:
    """The directory capability.  Other capabilities call :meth:`near`, :meth:`get_association`, the
    methods under "for other capabilities" and the read model ``memberships``; everything else is
    driven by the HTTP routes."""

    def __init__(self, infra: Infra, accounts: Accounts):
        self.infra = infra
        self.accounts = accounts
        self.memberships = Memberships(infra)
        self.access = AssociationAccess(infra, self.memberships)
        self.points = GatheringPoints(infra)
        self.members = MemberService(infra, accounts, self.memberships, self.access)

    @property
    def _coll(self) -> Any:
        return self.access.coll

    # ------------------------------------------------------------ registration and review
    async def register(self, principal: Principal, req: AssociationIn) -> Document:
        """A pending association; the caller becomes its first office bearer (``my_position``)."""
        await self._check_bearer_users(req.office_bearers, allowed={principal.user_id})
        await self.infra.limiter.hit(f"directory:register:{principal.user_id}", REGISTRATION_LIMIT,
                                     REGISTRATION_WINDOW_SECS, "association registrations")
        now = utcnow()
        doc: Document = {
            "_id": new_id(), **_details(req.model_dump()),
            "gathering_places": _places(req.gathering_places, []),
            "office_bearers": _bearers(req.office_bearers, []),
            "status": "pending", "rejection_reason": None,
            "created_by": principal.user_id, "created_at": now, "updated_at": now,
            "decided_by": None, "decided_at": None,
        }
        await self._coll.insert_one(doc)
        try:
            await self.members.add_founder(doc["_id"], principal.user_id, req.my_position)
        except BaseException:
            await self._coll.delete_one({"_id": doc["_id"]})
            raise
        await self.points.sync(doc)
        await self.memberships.notify(MembershipChange(doc["_id"], principal.user_id, None, "office_bearer"))
        log.info("association registered", extra={"association_id": doc["_id"]})
        return association_view(doc, Viewer(principal.user_id, principal.is_officer, "office_bearer"))

    async def pending(self, principal: Principal, page: PageQuery) -> list[Document]:
        """Registrations waiting for review, oldest first (cell officers only)."""
        viewer = self._require_officer(principal)
        cursor = self._coll.find({"status": "pending"}).sort([("created_at", 1), ("_id", 1)])
        return [association_view(doc, viewer) async for doc in cursor.skip(page.offset).limit(page.limit)]

    async def approve(self, principal: Principal, association_id: str) -> Document:
        viewer = self._require_officer(principal)
        doc = await self._decide(principal, association_id, {"status": "approved", "rejection_reason": None})
        self.infra.mailer.send_later(
            approved_email(await self._recipients(doc), doc, self.infra.settings.public_url))
        await self.memberships.notify_approved(AssociationApproved(doc["_id"], doc["name"]))
        log.info("association approved", extra={"association_id": association_id})
        return association_view(doc, viewer)

    async def reject(self, principal: Principal, association_id: str, reason: str) -> Document:
        viewer = self._require_officer(principal)
        outcome = {"status": "rejected", "rejection_reason": reason}
        doc = await self._decide(principal, association_id, outcome)
        self.infra.mailer.send_later(rejected_email(await self._recipients(doc), doc, reason))
        log.info("association rejected", extra={"association_id": association_id})
        return association_view(doc, viewer)

    async def _decide(self, principal: Principal, association_id: str, outcome: Document) -> Document:
        doc: Document | None = await self._coll.find_one_and_update(
            {"_id": association_id, "status": "pending"},
            {"$set": {**outcome, "decided_by": principal.user_id}, **stamp("decided_at", "updated_at")},
            return_document=ReturnDocument.AFTER)
        if doc is None:
            current = await self.access.load(association_id)  # 404 when it does not exist
            raise Conflict(f"the association is {current['status']}, not pending", code="invalid_state")
        await self.points.sync(doc)
        return doc

    async def _recipients(self, doc: Document) -> tuple[str, ...]:
        users = await self.accounts.users_by_id([doc["created_by"]])
        creator = users.get(doc["created_by"])
        emails = [doc["contact_email"]] + ([creator["email"]] if creator else [])
        return tuple(dict.fromkeys(e.lower() for e in emails))

    # ------------------------------------------------------------ the entry
    async def get(self, principal: Principal, association_id: str) -> Document:
        """The association page as the caller may see it (404 when they may not see it at all)."""
        doc, viewer = await self.access.visible(principal, association_id)
        return association_view(doc, viewer)

    async def get_association(self, association_id: str) -> Document:
        """The stored association document, whoever asks (for other capabilities; 404 if none)."""
        return await self.access.load(association_id)

    async def update(self, principal: Principal, association_id: str, patch: AssociationPatch) -> Document:
        """Edit the entry (its office bearers only); lists given replace the stored lists."""
        current, viewer = await self.access.as_office_bearer(principal, association_id)
        fields = patch.model_dump(include=patch.model_fields_set)
        changes = _details(fields)
        if patch.gathering_places is not None:
            changes["gathering_places"] = _places(patch.gathering_places, current.get("gathering_places", []))
        if patch.office_bearers is not None:
            members = set(await self.memberships.member_ids(association_id))
            await self._check_bearer_users(patch.office_bearers, allowed=members)
            changes["office_bearers"] = _bearers(patch.office_bearers, current.get("office_bearers", []))
        query: Document = {"_id": association_id}
        if current["status"] == "approved":
            reviewed = {k: changes.pop(k) for k in REVIEWED_FIELDS if k in changes}
            if reviewed:
                earlier = current.get("pending_changes") or {}
                changes.update(changes_pending=True, changes_rejection_reason=None, pending_changes={
                    **{k: v for k, v in earlier.items() if k in REVIEWED_FIELDS}, **reviewed,
                    "requested_by": principal.user_id, "requested_at": utcnow()})
                query["status"] = "approved"
        doc = await self._coll.find_one_and_update(query, {"$set": changes, **stamp("updated_at")},
                                                   return_document=ReturnDocument.AFTER)
        if doc is None:
            raise NotFound("no such association", code="association_not_found")
        if "gathering_places" in changes:
            await self.points.sync(doc)
        return association_view(doc, viewer)

    # ------------------------------------------------------------ review of location changes
    async def pending_changes(self, principal: Principal, page: PageQuery) -> list[Document]:
        """Approved associations waiting for a decision on location changes, oldest first (officers)."""
        viewer = self._require_officer(principal)
        cursor = self._coll.find({"changes_pending": True}).sort([("updated_at", 1), ("_id", 1)])
        return [association_view(doc, viewer) async for doc in cursor.skip(page.offset).limit(page.limit)]

    async def approve_changes(self, principal: Principal, association_id: str) -> Document:
        """Apply the pending location changes (cell officers)."""
        viewer = self._require_officer(principal)
        current = await self._with_pending(association_id)
        pending = current["pending_changes"]
        applied = {k: v for k, v in pending.items() if k in REVIEWED_FIELDS}
        doc = await self._settle(current, {**applied, "changes_rejection_reason": None})
        await self.points.sync(doc)
        log.info("association location changes approved", extra={"association_id": association_id})
        return association_view(doc, viewer)

    async def reject_changes(self, principal: Principal, association_id: str, reason: str) -> Document:
        """Drop the pending location changes; the places in force stay (cell officers)."""
        viewer = self._require_officer(principal)
        current = await self._with_pending(association_id)
        doc = await self._settle(current, {"changes_rejection_reason": reason})
        log.info("association location changes rejected", extra={"association_id": association_id})
        return association_view(doc, viewer)

    async def _with_pending(self, association_id: str) -> Document:
        current = await self.access.load(association_id)
        if not current.get("changes_pending"):
            raise Conflict("the association has no changes waiting for review", code="invalid_state")
        return current

    async def _settle(self, current: Document, sets: Document) -> Document:
        """Close the review of exactly the changes read (a newer edit makes this a conflict)."""
        doc: Document | None = await self._coll.find_one_and_update(
            {"_id": current["_id"], "changes_pending": True, "updated_at": current["updated_at"]},
            {"$set": {**sets, "changes_pending": False, "pending_changes": None}, **stamp("updated_at")},
            return_document=ReturnDocument.AFTER)
        if doc is None:
            raise Conflict("the changes were edited meanwhile; reload and review again", code="concurrent_change")
        return doc

    async def _check_bearer_users(self, bearers: list[OfficeBearerIn], allowed: set[str]) -> None:
        """A listed office bearer may be linked only to an active member of the association."""
        strangers = sorted({b.user_id for b in bearers if b.user_id is not None} - allowed)
        if strangers:
            raise ValidationFailed("office_bearers.user_id: must be an active member of the association",
                                   code="user_not_member")

    # ------------------------------------------------------------ search
    async def search(self, query: SearchQuery) -> Document:
        """Approved associations by country, city (exact, any case) and name substring (any case)."""
        filters: Document = {"status": "approved"}
        if query.country:
            filters["country"] = query.country
        if query.city:
            filters["city_lower"] = query.city.lower()
        if query.q:
            # re.escape: the user's text is matched literally, never as a pattern or an operator.
            filters["name_lower"] = {"$regex": re.escape(query.q.lower())}
        total = await self._coll.count_documents(filters)
        cursor = self._coll.find(filters).sort([("name_lower", 1), ("_id", 1)])
        found = [summary_view(doc) async for doc in cursor.skip(query.offset).limit(query.limit)]
        return {"associations": found, "total": total, "limit": query.limit, "offset": query.offset}

    async def search_near(self, query: NearQuery) -> list[Document]:
        """Approved associations with a gathering place within the radius, nearest first."""
        found = await self._nearest(query.lat, query.lon, query.radius_km, query.limit)
        return [{**summary_view(doc), "distance_km": round(distance, DISTANCE_DECIMALS),
                 "nearest_place": place_view(place)} for doc, place, distance in found]

    async def near(self, lat: float, lon: float, radius_km: float, limit: int) -> list[Document]:
        """Approved associations within ``radius_km`` of (lat, lon), nearest gathering place first:
        ``[{"association_id", "name", "distance_km", "nearest_place": {id, name, address, lat, lon,
        schedule}}]`` with ``distance_km`` rounded to 0.1 km."""
        found = await self._nearest(lat, lon, radius_km, limit)
        return [{"association_id": doc["_id"], "name": doc["name"],
                 "distance_km": round(distance, DISTANCE_DECIMALS), "nearest_place": place_view(place)}
                for doc, place, distance in found]

    # ------------------------------------------------------------ for other capabilities
    async def approved_associations(self, *, ids: Sequence[str] = (), countries: Sequence[str] = (),
                                    limit: int = 0) -> list[Document]:
        """Approved associations among ``ids``, or (without ids) in ``countries``, as
        ``{_id, country, gathering_places, status}`` (SOS dispatch); ``limit`` 0: all."""
        if ids:
            query: Document = {"_id": {"$in": list(ids)}}
        elif countries:
            query = {"country": {"$in": list(countries)}}
        else:
            return []
        cursor = self._coll.find({**query, "status": "approved"}, {"country": 1, "gathering_places": 1, "status": 1})
        if limit:
            cursor = cursor.limit(limit)
        return [doc async for doc in cursor]

    async def approved_ids(self, association_ids: Iterable[str]) -> set[str]:
        """Which of these associations are approved."""
        ids = list(dict.fromkeys(association_ids))
        if not ids:
            return set()
        return {doc["_id"] async for doc in self._coll.find({"_id": {"$in": ids}, "status": "approved"}, {"_id": 1})}

    async def association_ids_of(self, user_id: str) -> list[str]:
        """The associations the user is an active member of (any role; any status of the association)."""
        return [m["association_id"] for m in await self.memberships.active_of_user(user_id)]

    async def office_bearers_by_association(self, association_ids: Sequence[str]) -> dict[str, list[str]]:
        """Active office bearers' ids (sorted) of each association that has any, in one read."""
        return await self.memberships.office_bearers_by_association(association_ids)

    async def active_office_bearer_pairs(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (user id, association id) pairs are active office bearers now."""
        return await self.memberships.active_office_bearer_pairs(pairs)

    async def _nearest(self, lat: float, lon: float, radius_km: float,
                       limit: int) -> list[tuple[Document, Document, float]]:
        candidates = await self.points.within(lat, lon, radius_km)
        if not candidates or limit <= 0:
            return []
        found = []
        # The association documents have the final word (approved, current places).
        async for doc in self._coll.find({"_id": {"$in": list(candidates)}, "status": "approved"}):
            nearest = nearest_place(doc.get("gathering_places", []), lat, lon)
            if nearest is not None and nearest[1] <= radius_km:
                found.append((doc, nearest[0], nearest[1]))
        found.sort(key=lambda hit: (hit[2], hit[0]["name_lower"], hit[0]["_id"]))
        return found[:limit]

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _require_officer(principal: Principal) -> Viewer:
        if not principal.is_officer:
            raise Forbidden("only Diaspora Cell officers may do this", code="not_officer")
        return Viewer(principal.user_id, is_officer=True, role=None)
