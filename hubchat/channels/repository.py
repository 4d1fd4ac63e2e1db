"""Store access for channels, messages and read receipts; nothing here knows who may do what.

Collections::

    channels  {_id, key (unique: "association:{aid}" | "cell:{aid}" | "inter:{id}" | "dm:{a}:{b}"),
               kind, name, association_id | None, association_ids: [aid], invited_association_ids: [aid],
               member_ids: [uid] (dm only), created_by | None, created_at,
               last_seq (last message seq handed out), version (bumped by every create/edit/delete),
               holes?: [seq] (the newest seqs known to stay empty: see ``mark_hole``)}
    messages  {_id, channel_id, seq, version, client_msg_id, sender_id, sender_name, body | None,
               body_digest | None, language, created_at, edited_at | None, deleted, deleted_at | None,
               translation?: written for the translation capability (channels.translations)}
    receipts  {_id: "{channel_id}:{user_id}", channel_id, user_id, seq, updated_at}
    dm_members {_id: "{user_id}:{channel_id}", user_id, channel_id}: one row per member of a direct
               channel, so that a user's direct channels are an index look-up (the embedded store
               tests an element of ``member_ids`` row by row); the row ``{_id: BACKFILLED}``
               says that the direct channels stored before these rows existed have theirs

``seq`` and ``version`` are taken atomically from the channel document with ``$inc`` *before*
the message is written, so a reader may briefly see seq N+1 before N (see
:mod:`hubchat.channels.messages` for how readers wait that out), and a seq whose insert failed
is never reused (a permanent hole clients must tolerate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hubchat.channels.group_commit import DUPLICATE_KEY, GroupCommit
from hubchat.clock import utcnow
from hubchat.errors import Unavailable
from hubchat.infra import Infra
from hubchat.store import AGAIN, Again, Document, retry_on_conflict

CHANNELS = "channels"
MESSAGES = "messages"
RECEIPTS = "receipts"
DM_MEMBERS = "dm_members"
BACKFILLED = "~backfilled"
BACKFILL_BATCH = 500
HOLES_KEPT = 256  # = messages.IN_FLIGHT_WINDOW_SEQS: older holes are not waited for anyway

INDEXES = {
    CHANNELS: [
        IndexModel([("key", ASCENDING)], unique=True, name="channels_key_unique"),
        IndexModel([("association_ids", ASCENDING)], name="channels_association_ids"),
        IndexModel([("member_ids", ASCENDING)], name="channels_member_ids"),
        IndexModel([("invited_association_ids", ASCENDING)], name="channels_invited_association_ids"),
        IndexModel([("kind", ASCENDING), ("association_id", ASCENDING)], name="channels_kind_association"),
    ],
    MESSAGES: [
        IndexModel([("channel_id", ASCENDING), ("seq", ASCENDING)], unique=True, name="messages_channel_seq"),
        IndexModel([("channel_id", ASCENDING), ("sender_id", ASCENDING), ("client_msg_id", ASCENDING)],
                   unique=True, name="messages_client_msg_id_unique"),
        IndexModel([("channel_id", ASCENDING), ("version", ASCENDING)], name="messages_channel_version"),
        # backfill's scan (channels.translations.MessageTranslations.untranslated_since)
        IndexModel([("translation.status", ASCENDING), ("created_at", ASCENDING)],
                   name="messages_translation_status"),
    ],
    RECEIPTS: [IndexModel([("user_id", ASCENDING)], name="receipts_user")],
    DM_MEMBERS: [IndexModel([("user_id", ASCENDING)], name="dm_members_user")],
}


class ChannelRepository:
    def __init__(self, infra: Infra):
        self.infra = infra

    @property
    def _coll(self) -> Any:
        return self.infra.store[CHANNELS]

    async def get(self, channel_id: str) -> Document | None:
        doc: Document | None = await self._coll.find_one({"_id": channel_id})
        return doc

    async def by_key(self, key: str) -> Document | None:
        doc: Document | None = await self._coll.find_one({"key": key})
        return doc

    async def find(self, query: Mapping[str, Any]) -> list[Document]:
        return [doc async for doc in self._coll.find(dict(query)).sort("created_at", ASCENDING)]

    async def touching_association(self, association_id: str) -> list[Document]:
        return await self.find({"association_ids": association_id})

    async def ensure(self, key: str, fields: Mapping[str, Any]) -> tuple[Document, bool]:
        """The channel with this unique key, created from ``fields`` if missing: (doc, created)."""
        existing = await self.by_key(key)
        if existing is not None:
            return existing, False
        doc = {**fields, "key": key, "last_seq": 0, "version": 0, "created_at": utcnow()}
        try:
            await self._coll.insert_one(doc)
        except DuplicateKeyError:  # another request or node created it first
            winner = await self.by_key(key)
            if winner is None:
                raise
            return winner, False
        return doc, True

    async def add_dm_members(self, channel_id: str, member_ids: Iterable[str]) -> None:
        """The member rows of a direct channel (idempotent)."""
        await upsert_all(self.infra.store[DM_MEMBERS], _member_rows(channel_id, member_ids))

    async def direct_of(self, user_id: str) -> list[Document]:
        """The direct channels of a user (by their member rows; the channel's own ``member_ids``
        is checked again, so a stale row finds nothing)."""
        rows = self.infra.store[DM_MEMBERS].find({"user_id": user_id}, {"channel_id": 1})
        ids = [row["channel_id"] async for row in rows]
        if not ids:
            return []
        return await self.find({"_id": {"$in": ids}, "kind": "dm", "member_ids": user_id})

    async def backfill_dm_members(self) -> int:
        """Member rows for the direct channels stored before they existed, once per store (the
        ``BACKFILLED`` row marks it done; two nodes doing it at once write the same rows)."""
        rows = self.infra.store[DM_MEMBERS]
        if await rows.find_one({"_id": BACKFILLED}) is not None:
            return 0
        done = 0
        batch: list[UpdateOne] = []
        async for channel in self._coll.find({"kind": "dm"}, {"member_ids": 1}):
            done += 1
            batch += _member_rows(channel["_id"], channel.get("member_ids", ()))
            if len(batch) >= BACKFILL_BATCH:
                await upsert_all(rows, batch)
                batch = []
        await upsert_all(rows, batch)
        await rows.update_one({"_id": BACKFILLED}, {"$set": {"channels": done}}, upsert=True)
        return done

    async def take_seq(self, channel_id: str) -> tuple[int, int]:
        """Hand out the next (seq, version) of a channel, atomically across nodes."""
        doc = await self._coll.find_one_and_update(
            {"_id": channel_id}, {"$inc": {"last_seq": 1, "version": 1}},
            projection={"last_seq": 1, "version": 1}, return_document=ReturnDocument.AFTER)
        if doc is None:
            raise LookupError(channel_id)
        return int(doc["last_seq"]), int(doc["version"])

    async def take_seq_if(self, channel_id: str, condition: Mapping[str, Any]) -> Document | None:
        """Hand out the next (seq, version) of a channel only if it matches ``condition`` (the
        membership filter: authorisation and sequencing in one round trip).  The channel after
        the update (``kind``, ``association_id``, ``last_seq``, ``version``), or None: no such
        channel, or no match."""
        doc: Document | None = await self._coll.find_one_and_update(
            {**condition, "_id": channel_id}, {"$inc": {"last_seq": 1, "version": 1}},
            projection={"kind": 1, "association_id": 1, "last_seq": 1, "version": 1},
            return_document=ReturnDocument.AFTER)
        return doc

    async def mark_hole(self, channel_id: str, seq: int) -> None:
        """Record a seq that will never hold a message (its insert lost to a retry of the same
        ``client_msg_id``), so readers do not wait for it; the newest ``HOLES_KEPT`` are kept."""
        await self._coll.update_one({"_id": channel_id},
                                    {"$push": {"holes": {"$each": [seq], "$slice": -HOLES_KEPT}}})

    async def take_version(self, channel_id: str) -> int:
        doc = await self._coll.find_one_and_update(
            {"_id": channel_id}, {"$inc": {"version": 1}},
            projection={"version": 1}, return_document=ReturnDocument.AFTER)
        if doc is None:
            raise LookupError(channel_id)
        return int(doc["version"])

    async def invite(self, channel_id: str, association_id: str) -> Document | None:
        doc: Document | None = await self._coll.find_one_and_update(
            {"_id": channel_id, "kind": "inter", "association_ids": {"$ne": association_id}},
            {"$addToSet": {"invited_association_ids": association_id}}, return_document=ReturnDocument.AFTER)
        return doc

    async def accept(self, channel_id: str, association_id: str) -> Document | None:
        doc: Document | None = await self._coll.find_one_and_update(
            {"_id": channel_id, "kind": "inter", "invited_association_ids": association_id},
            {"$pull": {"invited_association_ids": association_id},
             "$addToSet": {"association_ids": association_id}}, return_document=ReturnDocument.AFTER)
        return doc

    async def invited(self, association_id: str) -> list[Document]:
        """The inter channels with a pending invitation of this association, oldest first."""
        return await self.find({"invited_association_ids": association_id, "kind": "inter"})

    async def decline(self, channel_id: str, association_id: str) -> Document | None:
        doc: Document | None = await self._coll.find_one_and_update(
            {"_id": channel_id, "kind": "inter", "invited_association_ids": association_id},
            {"$pull": {"invited_association_ids": association_id}}, return_document=ReturnDocument.AFTER)
        return doc

    async def leave(self, channel_id: str, association_id: str) -> Document | None:
        doc: Document | None = await self._coll.find_one_and_update(
            {"_id": channel_id, "kind": "inter", "association_ids": association_id},
            {"$pull": {"association_ids": association_id}}, return_document=ReturnDocument.AFTER)
        return doc


class MessageRepository:
    def __init__(self, infra: Infra):
        self.infra = infra
        self.group_commit = GroupCommit(lambda: self._coll)

    @property
    def _coll(self) -> Any:
        return self.infra.store[MESSAGES]

    async def insert(self, doc: Document) -> None:
        """Raises DuplicateKeyError when (channel, sender, client_msg_id) is already stored.
        Concurrent inserts share one write (:mod:`hubchat.channels.group_commit`)."""
        await self.group_commit.insert(doc)

    async def get(self, message_id: str) -> Document | None:
        doc: Document | None = await self._coll.find_one({"_id": message_id})
        return doc

    async def by_client_id(self, channel_id: str, sender_id: str, client_msg_id: str) -> Document | None:
        doc: Document | None = await self._coll.find_one(
            {"channel_id": channel_id, "sender_id": sender_id, "client_msg_id": client_msg_id})
        return doc

    async def after(self, channel_id: str, after_seq: int, limit: int) -> list[Document]:
        """Up to ``limit`` messages with seq > after_seq, ascending."""
        cursor = self._coll.find({"channel_id": channel_id, "seq": {"$gt": after_seq}})
        return [doc async for doc in cursor.sort("seq", ASCENDING).limit(limit)]

    async def before(self, channel_id: str, before_seq: int | None, limit: int) -> list[Document]:
        """The newest ``limit`` messages with seq < before_seq (all when None), ascending."""
        query: dict[str, Any] = {"channel_id": channel_id}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        cursor = self._coll.find(query).sort("seq", DESCENDING).limit(limit)
        docs = [doc async for doc in cursor]
        docs.reverse()
        return docs

    async def changed_since(self, channel_id: str, max_seq: int, after_version: int, limit: int) -> list[Document]:
        """Messages with seq <= max_seq whose version > after_version, by ascending version."""
        cursor = self._coll.find({"channel_id": channel_id, "seq": {"$lte": max_seq},
                                  "version": {"$gt": after_version}})
        return [doc async for doc in cursor.sort("version", ASCENDING).limit(limit)]

    async def change(self, message_id: str, version: int, set_fields: Mapping[str, Any],
                     unset_fields: Iterable[str] = ()) -> Document | None:
        """Apply an edit/delete carrying ``version`` unless the message was deleted or a newer
        change already landed (so concurrent changes end in the one with the highest version)."""
        update: dict[str, Any] = {"$set": {**set_fields, "version": version}}
        unset = {name: "" for name in unset_fields}
        if unset:
            update["$unset"] = unset
        doc: Document | None = await self._coll.find_one_and_update(
            {"_id": message_id, "deleted": False, "version": {"$lt": version}}, update,
            return_document=ReturnDocument.AFTER)
        return doc


class ReceiptRepository:
    def __init__(self, infra: Infra):
        self.infra = infra

    @property
    def _coll(self) -> Any:
        return self.infra.store[RECEIPTS]

    @staticmethod
    def _id(channel_id: str, user_id: str) -> str:
        return f"{channel_id}:{user_id}"

    async def advance(self, channel_id: str, user_id: str, seq: int) -> tuple[int, int]:
        """Raise the read seq to ``seq`` if higher (never lowers it): (before, after)."""
        before = await self._upsert_max(channel_id, user_id, seq)
        old = int(before["seq"]) if before else 0
        return old, max(old, seq)

    async def _upsert_max(self, channel_id: str, user_id: str, seq: int) -> Document | None:
        update = {"$max": {"seq": seq},
                  "$set": {"channel_id": channel_id, "user_id": user_id, "updated_at": utcnow()}}

        async def attempt() -> Document | None | Again:
            try:
                doc: Document | None = await self._coll.find_one_and_update(
                    {"_id": self._id(channel_id, user_id)}, update, upsert=True, projection={"seq": 1},
                    return_document=ReturnDocument.BEFORE)
                return doc
            except DuplicateKeyError:  # two first reads at once: the loser's upsert becomes an update
                return AGAIN

        return await retry_on_conflict(attempt, attempts=2, exhausted=Unavailable("storage is unavailable, retry"))

    async def advance_many(self, seqs: Mapping[tuple[str, str], int]) -> None:
        """Raise each (channel id, user id)'s read seq to the given seq if higher, in one unordered
        bulk write of upserts (:func:`upsert_all`)."""
        now = utcnow()
        await upsert_all(self._coll, [
            UpdateOne({"_id": self._id(channel_id, user_id)},
                      {"$max": {"seq": seq}, "$set": {"channel_id": channel_id, "user_id": user_id, "updated_at": now}},
                      upsert=True)
            for (channel_id, user_id), seq in seqs.items()])

    async def read_seqs(self, user_id: str, channel_ids: Iterable[str]) -> dict[str, int]:
        """channel_id -> this user's read seq (channels never read are absent)."""
        ids = [self._id(channel_id, user_id) for channel_id in channel_ids]
        if not ids:
            return {}
        cursor = self._coll.find({"_id": {"$in": ids}}, {"channel_id": 1, "seq": 1})
        return {doc["channel_id"]: int(doc["seq"]) async for doc in cursor}

    async def readers(self, channel_id: str, user_ids: Iterable[str]) -> dict[str, int]:
        """user_id -> read seq in one channel (users who never read it are absent)."""
        ids = [self._id(channel_id, user_id) for user_id in user_ids]
        if not ids:
            return {}
        cursor = self._coll.find({"_id": {"$in": ids}}, {"user_id": 1, "seq": 1})
        return {doc["user_id"]: int(doc["seq"]) async for doc in cursor}


def _member_rows(channel_id: str, member_ids: Iterable[str]) -> list[UpdateOne]:
    return [UpdateOne({"_id": f"{user_id}:{channel_id}"}, {"$set": {"user_id": user_id, "channel_id": channel_id}},
                      upsert=True) for user_id in member_ids]


async def upsert_all(collection: Any, ops: list[UpdateOne]) -> None:
    """One unordered bulk write of upserts.  An upsert that lost a race with another first write
    of the same document (duplicate key) is sent again once, as the update it then is."""
    if not ops:
        return
    try:
        await collection.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        await collection.bulk_write([ops[int(error["index"])] for error in errors], ordered=False)
