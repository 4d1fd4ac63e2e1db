"""Store access of the translation capability.

Collections::

    translation_corrections   {_id, message_id, channel_id, source_lang, target_lang, source_text,
                               machine_text | None, corrected_text, model_version | None,
                               author_id, author_name, at}

The ``translation`` sub-document of a message — {status, source_lang, lang, text, engine,
model_version, unvetted, similar, ms, at, for_version, correction?: {text, author_id,
author_name, at}} — is
stored by the chat capability, which owns ``messages`` (port ``ports.TranslatedMessages``).
A translation is written only if the message still has the version it was translated from
(an edit or delete in between makes the write a no-op), and field by field, so a member's
correction survives a later backfill.  A translation with a text, and every correction, takes
a new channel version so a client that missed the event gets it from ``sync``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel

from hubchat.clock import utcnow
from hubchat.infra import Infra
from hubchat.store import Document
from hubchat.translate.models import RETRY_STATUSES, TranslationResult
from hubchat.translate.ports import TranslatedMessages

CORRECTIONS = "translation_corrections"

INDEXES = {
    CORRECTIONS: [IndexModel([("at", ASCENDING)], name="translation_corrections_at"),
                  IndexModel([("message_id", ASCENDING)], name="translation_corrections_message")],
}


def _stored(changed: Document | None) -> Document | None:
    return None if changed is None else {**(changed.get("translation") or {}), "_version": changed.get("version")}


def result_fields(result: TranslationResult, version: int | None) -> Document:
    """The ``translation`` sub-document of a message for a result (translated from ``version``)."""
    return {
        "status": result.status, "source_lang": result.source_lang, "lang": result.target_lang,
        "text": result.text, "engine": result.engine, "model_version": result.model_version,
        "unvetted": result.unvetted, "similar": result.similar,
        "ms": result.ms, "at": utcnow(), "for_version": version,
    }


class TranslationRepository:
    def __init__(self, infra: Infra, messages: TranslatedMessages):
        self.infra = infra
        self.messages = messages

    @property
    def _corrections(self) -> Any:
        return self.infra.store[CORRECTIONS]

    async def message(self, message_id: str) -> Document | None:
        return await self.messages.message(message_id)

    async def store_result(self, message_id: str, channel_id: str, version: int | None,
                           result: TranslationResult) -> Document | None:
        """Write the result on the message; the stored ``translation`` or None if the message changed."""
        fields = result_fields(result, version)
        # a text to show: clients that missed the event get it from sync
        return _stored(await self.messages.set_translation(message_id, channel_id, fields, if_version=version,
                                                           new_version=result.status == "done"))

    async def store_correction(self, message: Mapping[str, Any], correction: Document,
                               record: Document) -> Document | None:
        fields: dict[str, Any] = {"correction": correction}
        if not message.get("translation"):
            fields.update({"status": "unavailable", "at": correction["at"]})
        fields["source_lang"] = record["source_lang"]
        fields["lang"] = record["target_lang"]
        changed = await self.messages.set_translation(str(message["_id"]), str(message["channel_id"]), fields,
                                                      new_version=True)
        if changed is None:
            return None
        await self._corrections.insert_one(record)
        return _stored(changed)

    def to_backfill(self, since: dt.datetime) -> AsyncIterator[Document]:
        return self.messages.untranslated_since(since, RETRY_STATUSES)

    async def corrections(self) -> AsyncIterator[Document]:
        async for doc in self._corrections.find({}).sort([("at", ASCENDING), ("_id", ASCENDING)]):
            yield doc
