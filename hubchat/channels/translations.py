"""The ``translation`` sub-document of stored messages, kept for the translation capability.

Channels owns ``messages`` and every channel's ``version`` counter; the translation capability
reaches them only through these methods (its port ``hubchat.translate.ports.TranslatedMessages``,
wired in ``app.py`` and ``cli.py``).  What the sub-document holds is translation's business:
this class writes the fields it is given, under ``translation.``, field by field (so a member's
correction survives a later backfill).

A write that is to be shown (``new_version``) takes the channel's next version and stores it on
the message, so ``sync`` returns the translation to a client that missed the live event — the
same for a live translation, a correction and a backfill from the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from hubchat.channels.repository import MESSAGES, ChannelRepository
from hubchat.infra import Infra
from hubchat.store import Document


class MessageTranslations:
    def __init__(self, infra: Infra, channels: ChannelRepository | None = None):
        self.infra = infra
        self.channels = channels or ChannelRepository(infra)

    @property
    def _coll(self) -> Any:
        return self.infra.store[MESSAGES]

    async def message(self, message_id: str) -> Document | None:
        doc: Document | None = await self._coll.find_one({"_id": message_id})
        return doc

    async def set_translation(self, message_id: str, channel_id: str, fields: Mapping[str, Any], *,
                              if_version: int | None = None, new_version: bool = False) -> Document | None:
        """Set ``translation.<name>`` for each field, unless the message was deleted (or, with
        ``if_version``, changed since).  ``new_version``: the message takes the channel's next
        version.  Returns ``{"translation", "version"}`` after the write, or None if none."""
        query: dict[str, Any] = {"_id": message_id, "deleted": {"$ne": True}}
        if if_version is not None:
            query["version"] = if_version
        update = {f"translation.{name}": value for name, value in fields.items()}
        if new_version:
            update["version"] = await self.channels.take_version(channel_id)
        doc: Document | None = await self._coll.find_one_and_update(
            query, {"$set": update}, projection={"_id": 0, "translation": 1, "version": 1},
            return_document=ReturnDocument.AFTER)
        return doc

    async def untranslated_since(self, since: dt.datetime, statuses: Iterable[str]) -> AsyncIterator[Document]:
        """Messages created since ``since``, not deleted, without a translation or with one of
        ``statuses``; oldest first, as ``{_id, channel_id, seq, version, body, language}``."""
        query = {
            "created_at": {"$gte": since},
            "deleted": {"$ne": True},
            "$or": [{"translation": {"$exists": False}}, {"translation.status": {"$in": list(statuses)}}],
        }
        projection = {"_id": 1, "channel_id": 1, "seq": 1, "version": 1, "body": 1, "language": 1}
        async for doc in self._coll.find(query, projection).sort("created_at", ASCENDING):
            yield doc
