"""Shapes of the translation capability: results, stored documents, client views, payloads."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

from pydantic import Field

from hubchat.clock import iso
from hubchat.schema import Id, Payload, body_text
from hubchat.translate.detect import Lang

Status = Literal["done", "same_language", "unavailable", "pending_backfill", "failed"]
# memory: a translation people made of this very text; similar: one made of a similar text.
EngineName = Literal["phrasebook", "memory", "similar", "cache", "model", "mixed"]

# Statuses a later backfill retries.
RETRY_STATUSES: tuple[Status, ...] = ("unavailable", "pending_backfill", "failed")
CORRECTION_MAX_CHARS = 4000


@dataclasses.dataclass(frozen=True)
class TranslationResult:
    status: Status
    source_lang: Lang | None
    target_lang: Lang | None
    text: str | None = None
    engine: EngineName | None = None
    model_version: str | None = None
    ms: float = 0.0
    unvetted: bool = False  # a phrasebook phrase no Mizo speaker reviewed was used
    similar: bool = False  # some of it is the translation memory's entry for a similar, not the same, text

    @property
    def translated(self) -> bool:
        return self.status in ("done", "same_language")


class CorrectionView(TypedDict):
    text: str
    author: dict[str, str]
    at: str


class TranslationView(TypedDict):
    status: Status
    source_lang: str | None
    lang: str | None
    text: str | None
    engine: str | None
    model_version: str | None
    unvetted: bool
    similar: bool
    ms: float
    at: str | None
    correction: CorrectionView | None


class TranslationEvent(TypedDict):
    """Payload of ``message:translated`` and ``message:translation_corrected``."""

    channel_id: str
    message_id: str
    seq: int
    version: int | None  # the message's sync version after this change (None without a chat counter)
    translation: TranslationView | None



def translation_view(stored: Mapping[str, Any] | None) -> TranslationView | None:
    """A message's stored ``translation`` as clients see it (None when it has none yet)."""
    if not stored:
        return None
    correction = stored.get("correction")
    return {
        "status": stored.get("status", "pending_backfill"),
        "source_lang": stored.get("source_lang"),
        "lang": stored.get("lang"),
        "text": stored.get("text"),
        "engine": stored.get("engine"),
        "model_version": stored.get("model_version"),
        "unvetted": bool(stored.get("unvetted")),
        "similar": bool(stored.get("similar")),
        "ms": float(stored.get("ms") or 0.0),
        "at": iso(stored.get("at")),
        "correction": None if not correction else {
            "text": correction["text"],
            "author": {"id": correction["author_id"], "display_name": correction.get("author_name", "")},
            "at": iso(correction.get("at")) or "",
        },
    }


class ListMemory(Payload):
    direction: Literal["lus-en", "en-lus"] | None = None
    approved: bool | None = None
    before: Id | None = None  # the last entry id of the previous page
    limit: int = Field(default=50, ge=1, le=100)


class MemoryEntryRef(Payload):
    entry_id: Id


class CorrectTranslation(Payload):
    message_id: Id
    text: body_text(CORRECTION_MAX_CHARS)  # type: ignore[valid-type]
