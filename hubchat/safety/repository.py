"""The safety capability's collections (only this module names them).

    safety_profiles         {_id: user id, fields: {name: "pf1:kid:…" ciphertext}, version,
                             updated_at, shared, share_until}: one per person; every field value
                             (JSON text) is encrypted on its own (crypto.py); the share flag and
                             its expiry are not secret and stay plain
    safety_profile_audit    {_id, person_id, viewer: {id, display_name, role}, basis, alert_id, at}:
                            every time a Cell officer was shown a profile
    trusted_contacts        {_id, person_id, name, email, relation, language, may_receive_location,
                             confirmed_at, token_digest, token_expires_at, created_at}; the
                             confirmation token is kept as its SHA-256 only (``used:{_id}``
                             once confirmed, so the unique index holds)

Timestamps are written on insert or with ``$currentDate``; documents that carry datetimes are
replaced whole or written with ``$set`` of whole top-level fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.clock import utcnow
from hubchat.infra import Infra
from hubchat.schema import new_id
from hubchat.store import Document

PROFILES = "safety_profiles"
PROFILE_AUDIT = "safety_profile_audit"
CONTACTS = "trusted_contacts"

INDEXES = {
    PROFILE_AUDIT: [IndexModel([("person_id", 1), ("at", 1)], name="safety_profile_audit_person_at")],
    CONTACTS: [IndexModel([("person_id", 1), ("email", 1)], unique=True, name="trusted_contacts_person_email"),
               IndexModel([("token_digest", 1)], unique=True, name="trusted_contacts_token")],
}


class SafetyRepository:
    def __init__(self, infra: Infra):
        self.infra = infra

    def coll(self, name: str) -> Any:
        return self.infra.store[name]

    # ------------------------------------------------------------ profiles
    async def profile(self, user_id: str) -> Document | None:
        doc: Document | None = await self.coll(PROFILES).find_one({"_id": user_id})
        return doc

    async def save_fields(self, user_id: str, fields: dict[str, str]) -> Document:
        """Replace the encrypted fields (keeping the share setting); creates the profile."""
        current = await self.profile(user_id)
        if current is None:
            doc = {"_id": user_id, "fields": fields, "version": 1, "updated_at": utcnow(), "shared": False,
                   "share_until": None}
            try:
                await self.coll(PROFILES).insert_one(doc)
                return doc
            except DuplicateKeyError:  # a first save from another device at the same moment: update it
                pass
        after: Document | None = await self.coll(PROFILES).find_one_and_update(
            {"_id": user_id}, {"$set": {"fields": fields}, "$inc": {"version": 1},
                               "$currentDate": {"updated_at": True}}, return_document=ReturnDocument.AFTER)
        if after is None:  # deleted meanwhile: this save creates it again
            return await self.save_fields(user_id, fields)
        return after

    async def reencrypt(self, user_id: str, version: int, fields: dict[str, str]) -> bool:
        """Rotation: the same values under the current key, if nobody wrote meanwhile."""
        result = await self.coll(PROFILES).update_one({"_id": user_id, "version": version},
                                                      {"$set": {"fields": fields}, "$inc": {"version": 1}})
        return bool(result.modified_count)

    async def all_profiles(self) -> Any:
        return self.coll(PROFILES).find({}, {"_id": 1, "fields": 1, "version": 1})

    async def set_share(self, user_id: str, shared: bool, until: dt.datetime | None) -> Document | None:
        doc: Document | None = await self.coll(PROFILES).find_one_and_update(
            {"_id": user_id}, {"$set": {"shared": shared, "share_until": until}},
            return_document=ReturnDocument.AFTER)
        return doc

    async def delete_profile(self, user_id: str) -> bool:
        result = await self.coll(PROFILES).delete_one({"_id": user_id})
        return bool(result.deleted_count)

    async def audit_view(self, person_id: str, viewer: Document, basis: str, alert_id: str | None) -> None:
        await self.coll(PROFILE_AUDIT).insert_one({"_id": new_id(), "person_id": person_id, "viewer": viewer,
                                                   "basis": basis, "alert_id": alert_id, "at": utcnow()})

    async def audit_entries(self, person_id: str) -> list[Document]:
        cursor = self.coll(PROFILE_AUDIT).find({"person_id": person_id}).sort([("at", 1), ("_id", 1)])
        return [e async for e in cursor]

    # ------------------------------------------------------------ trusted contacts
    async def contacts_of(self, person_id: str) -> list[Document]:
        cursor = self.coll(CONTACTS).find({"person_id": person_id}).sort([("created_at", 1), ("_id", 1)])
        return [c async for c in cursor]

    async def contact(self, person_id: str, contact_id: str) -> Document | None:
        doc: Document | None = await self.coll(CONTACTS).find_one({"_id": contact_id, "person_id": person_id})
        return doc

    async def insert_contact(self, doc: Document) -> None:
        await self.coll(CONTACTS).insert_one(doc)

    async def update_contact(self, person_id: str, contact_id: str, sets: Document) -> Document | None:
        doc: Document | None = await self.coll(CONTACTS).find_one_and_update(
            {"_id": contact_id, "person_id": person_id}, {"$set": sets}, return_document=ReturnDocument.AFTER)
        return doc

    async def delete_contact(self, person_id: str, contact_id: str) -> bool:
        result = await self.coll(CONTACTS).delete_one({"_id": contact_id, "person_id": person_id})
        return bool(result.deleted_count)

    async def contact_by_token(self, digest: str) -> Document | None:
        doc: Document | None = await self.coll(CONTACTS).find_one({"token_digest": digest})
        return doc

    async def confirm_contact(self, contact_id: str, digest: str) -> Document | None:
        """Conditioned on the token still being the one presented: a link works once."""
        doc: Document | None = await self.coll(CONTACTS).find_one_and_update(
            {"_id": contact_id, "token_digest": digest},
            {"$set": {"token_digest": f"used:{contact_id}", "token_expires_at": None},
             "$currentDate": {"confirmed_at": True}}, return_document=ReturnDocument.AFTER)
        return doc
