"""Store access of the translation capability.

Collections::

    messages                  (owned by channels) — this capability writes only the ``translation``
                              sub-document: {status, source_lang, lang, text, engine, model_version,
                              unvetted, similar, ms, at, for_version,
                              correction?: {text, author_id, author_name, at}}
    translation_corrections   {_id, message_id, channel_id, source_lang, target_lang, source_text,
                               machine_text | None, corrected_text, model_version | None,
                               author_id, author_name, at}

A translation is written only if the message still has the version it was translated from
(an edit or delete in between makes the write a no-op), and field by field, so a member's
correction survives a later backfill.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel

from hubchat.clock import utcnow
from hubchat.infra import Infra
from hubchat.store import Document
from hubchat.translate.models import RETRY_STATUSES, TranslationResult

MESSAGES = "messages"
# Hands out the next sync version of a channel (the chat capability's counter): storing a
# translation or a correction takes one, so a client that missed the event gets it from `sync`.
NextVersion = Callable[[str], Awaitable[int]]
CORRECTIONS = "translation_corrections"

INDEXES = {
    MESSAGES: [IndexModel([("translation.status", ASCENDING), ("created_at", ASCENDING)],
                          name="messages_translation_status")],
    CORRECTIONS: [IndexModel([("at", ASCENDING)], name="translation_corrections_at"),
                  IndexModel([("message_id", ASCENDING)], name="translation_corrections_message")],
}



class TranslationRepository:
    def __init__(self, infra: Infra, next_version: NextVersion | None = None):
        self.infra = infra
        self._next_version = next_version

    async def _version_field(self, channel_id: str) -> dict[str, Any]:
        if self._next_version is None:
            return {}
        return {"version": await self._next_version(channel_id)}

    @property
    def _messages(self) -> Any:
        return self.infra.store[MESSAGES]

    @property
    def _corrections(self) -> Any:
        return self.infra.store[CORRECTIONS]

    async def message(self, message_id: str) -> Document | None:
        doc: Document | None = await self._messages.find_one({"_id": message_id})
        return doc

    async def store_result(self, message_id: str, channel_id: str, version: int | None,
                           result: TranslationResult) -> Document | None:
        """Write the result on the message; the stored ``translation`` or None if the message changed."""
        query: dict[str, Any] = {"_id": message_id, "deleted": {"$ne": True}}
        if version is not None:
            query["version"] = version
        fields = {
            "status": result.status, "source_lang": result.source_lang, "lang": result.target_lang,
            "text": result.text, "engine": result.engine, "model_version": result.model_version,
            "unvetted": result.unvetted, "similar": result.similar,
            "ms": result.ms, "at": utcnow(), "for_version": version,
        }
        update = {f"translation.{k}": v for k, v in fields.items()}
        if result.status == "done":  # a text to show: clients that missed the event get it from sync
            update |= await self._version_field(channel_id)
        changed = await self._messages.find_one_and_update(
            query, {"$set": update}, projection={"translation": 1, "version": 1}, return_document=True)
        return None if changed is None else {**(changed.get("translation") or {}), "_version": changed.get("version")}

    async def store_correction(self, message: Mapping[str, Any], correction: Document,
                               record: Document) -> Document | None:
        fields: dict[str, Any] = {"translation.correction": correction}
        stored = message.get("translation") or {}
        if not stored:
            fields.update({"translation.status": "unavailable", "translation.at": correction["at"]})
        fields["translation.source_lang"] = record["source_lang"]
        fields["translation.lang"] = record["target_lang"]
        fields |= await self._version_field(str(message["channel_id"]))
        changed = await self._messages.find_one_and_update(
            {"_id": message["_id"], "deleted": {"$ne": True}}, {"$set": fields},
            projection={"translation": 1, "version": 1}, return_document=True)
        if changed is None:
            return None
        await self._corrections.insert_one(record)
        return {**(changed.get("translation") or {}), "_version": changed.get("version")}

    async def to_backfill(self, since: dt.datetime) -> AsyncIterator[Document]:
        query = {
            "created_at": {"$gte": since},
            "deleted": {"$ne": True},
            "$or": [{"translation": {"$exists": False}},
                    {"translation.status": {"$in": list(RETRY_STATUSES)}}],
        }
        projection = {"_id": 1, "channel_id": 1, "seq": 1, "version": 1, "body": 1, "language": 1}
        async for doc in self._messages.find(query, projection).sort("created_at", ASCENDING):
            yield doc

    async def corrections(self) -> AsyncIterator[Document]:
        async for doc in self._corrections.find({}).sort([("at", ASCENDING), ("_id", ASCENDING)]):
            yield doc
