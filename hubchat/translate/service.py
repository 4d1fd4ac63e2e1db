"""TranslationService: translates chat messages (and SOS notes) off the send path, stores the
result on the message and tells the channel.

Events (after the write succeeded; see ``docs/api.md``)::

    message:translated             {channel_id, message_id, seq, translation}   to chan:{channel_id}
    message:translation_corrected  {channel_id, message_id, seq, translation}   to chan:{channel_id}

They leave through ``infra.realtime.emit`` (at most once per socket, a failure logged and
dropped); the stored ``translation`` on the message is the pull path.  A message whose
translation never landed (node stopped, queue full, no model) is found again by :meth:`backfill`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, Protocol, TextIO

from hubchat.background import BackgroundTasks, cancel_and_wait
from hubchat.clock import iso, utcnow
from hubchat.errors import BadRequest, Conflict, Forbidden, NotFound
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.schema import new_id
from hubchat.translate.cache import MemoryTranslationCache, RedisTranslationCache, TranslationCache
from hubchat.translate.detect import Lang
from hubchat.translate.engine import Engine
from hubchat.translate.memory import MemoryEntryView, TranslationMemory, entry_view
from hubchat.translate.metrics import TranslateMetrics
from hubchat.translate.models import (
    RETRY_STATUSES,
    TranslationEvent,
    TranslationResult,
    TranslationView,
    translation_view,
)
from hubchat.translate.options import TranslateOptions
from hubchat.translate.packages import PackageInfo
from hubchat.translate.phrasebook import Phrasebook
from hubchat.translate.pipeline import Pipeline, other
from hubchat.translate.ports import CanRead, TranslatedMessages
from hubchat.translate.repository import TranslationRepository, result_fields
from hubchat.translate.worker import BatchWorker, Priority, Shed

log = logging.getLogger(__name__)

class Emit(Protocol):
    """``Realtime.emit``'s signature (tests pass a recorder)."""

    async def __call__(self, event: str, data: Mapping[str, Any], *, to: str | Sequence[str],
                       skip_sid: str | None = None) -> None: ...


DRAIN_TIMEOUT_SECS = 10.0
BACKFILL_CONCURRENCY = 64
BACKFILL_RETRY_DELAY_SECS = 0.2
EXPORT_COLUMNS = ("source_lang", "target_lang", "source_text", "machine_translation", "corrected_text",
                  "author_id", "at")


# A message stored with one of these translation statuses is not translated again on its event.
FINAL_STATUSES = ("done", "same_language")


def channel_room(channel_id: str) -> str:
    return f"chan:{channel_id}"


async def _deny_all(principal: Principal, channel_id: str) -> bool:
    return False


class TranslationService:
    def __init__(self, infra: Infra, *, messages: TranslatedMessages, can_read: CanRead | None = None,
                 emit: Emit | None = None, options: TranslateOptions | None = None,
                 phrasebook: Phrasebook | None = None):
        self.infra = infra
        self.options = options or TranslateOptions.from_settings(infra.settings)
        self.can_read = can_read or _deny_all
        self._emit: Emit = emit or infra.realtime.emit
        self.metrics = TranslateMetrics.on(infra.metrics.registry)
        self.phrasebook = phrasebook or Phrasebook.load(self.options.phrasebook_path)
        self.engine = Engine(self.options)
        self.worker = BatchWorker(self.engine.translate, batch_max_sentences=self.options.batch_max_sentences,
                                  batch_window_ms=self.options.batch_window_ms,
                                  queue_max=self.options.queue_max, metrics=self.metrics)
        self.repo = TranslationRepository(infra, messages)
        self.memory = TranslationMemory(infra, self.options.memory_fuzzy_threshold)
        self._pipeline: Pipeline | None = None
        self._background = BackgroundTasks("translation")

    # ------------------------------------------------------------ lifecycle
    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TranslationService]:
        """Loads the models, runs the worker (and the package rescan); on exit finishes or sheds
        pending work (shed messages stay ``pending_backfill``)."""
        await self.refresh_models(log_pairs=True)
        self._pipeline = Pipeline(phrasebook=self.phrasebook, cache=self._make_cache(), worker=self.worker,
                                  model_version=self.engine.model_version,
                                  override_confidence=self.options.detect_override_confidence,
                                  metrics=self.metrics, memory=self.memory)
        async with self.worker.running():
            rescan = None
            if self.options.models_rescan_secs > 0:
                rescan = asyncio.get_running_loop().create_task(self._rescan_loop(), name="translate-rescan")
            try:
                yield self
            finally:
                if rescan is not None:
                    await cancel_and_wait({rescan})  # a driver may absorb one cancellation
                await self._background.drain(DRAIN_TIMEOUT_SECS)
        self._pipeline = None

    def _make_cache(self) -> TranslationCache:
        def on_error(what: str) -> None:
            self.metrics.cache.labels("error").inc()

        if self.infra.redis is not None:
            return RedisTranslationCache(self.infra.redis, self.infra.settings.redis_prefix,
                                         ttl_secs=self.options.cache_ttl_secs,
                                         max_entries=self.options.cache_max_entries, on_error=on_error)
        return MemoryTranslationCache(ttl_secs=self.options.cache_ttl_secs,
                                      max_entries=self.options.cache_max_entries)

    async def refresh_models(self, log_pairs: bool = False) -> list[PackageInfo]:
        changed = await asyncio.to_thread(self.engine.refresh)
        packages = self.engine.packages()
        if changed or log_pairs:
            pairs = {p.direction: p.model_version for p in packages}
            missing = [d for d in ("lus-en", "en-lus") if d not in pairs]
            log.info("translation models: %s; missing: %s (those messages are marked unavailable)",
                     ", ".join(f"{d} {v}" for d, v in pairs.items()) or "none", ", ".join(missing) or "none",
                     extra={"pairs": pairs, "missing": missing})
        return packages

    async def _rescan_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.models_rescan_secs)
            try:
                await self.refresh_models()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("translation model rescan failed")

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise RuntimeError("translation service is not running")
        return self._pipeline

    # ------------------------------------------------------------ translating
    def settled_fields(self, body: str, language: str | None, version: int) -> dict[str, Any] | None:
        """The ``translation`` sub-document for a new message whose translation is known at once
        (no I/O: see :meth:`Pipeline.settled`), for the chat capability to store in the insert
        and carry in ``message:new``, so no second fan-out follows; None when not known yet."""
        if self._pipeline is None:
            return None
        result = self._pipeline.settled(body, language)
        return None if result is None else result_fields(result, version)

    async def submit_message(self, message: Mapping[str, Any], priority: Priority = Priority.CHAT) -> None:
        """Schedule the translation of a stored message and return at once (run on the chat
        capability's ``MessageStored`` event: takes the stored document or its client view).
        A message stored with a final translation (``done``, ``same_language``) needs none."""
        if self._pipeline is None or message.get("deleted") or not message.get("body"):
            return
        if (message.get("translation") or {}).get("status") in FINAL_STATUSES:
            return
        self._background.spawn(self.translate_message(message, priority), "translate-message")

    async def translate_message(self, message: Mapping[str, Any],
                                priority: Priority = Priority.CHAT) -> TranslationResult:
        """Translate, store on the message, emit ``message:translated``; returns the result."""
        message_id = str(message.get("_id") or message["id"])
        result = await self.pipeline.translate(str(message["body"]), message.get("language"), priority)
        carried = message.get("translation") or {}
        if result.status in RETRY_STATUSES and carried.get("status") == result.status:
            return result  # stored with the message and carried in its message:new already
        version = message.get("version")
        stored = await self.repo.store_result(message_id, str(message["channel_id"]),
                                              None if version is None else int(version), result)
        if stored is None:
            log.debug("message changed while it was translated", extra={"message_id": message_id})
            return result
        await self._announce("message:translated", message, stored)
        return result

    async def translate_text(self, text: str, lang: str | None,
                             priority: Priority = Priority.SOS) -> TranslationResult:
        """Translate a text that is not a chat message (an SOS note); nothing is stored or emitted."""
        return await self.pipeline.translate(text, lang, priority)

    async def _announce(self, event: str, message: Mapping[str, Any], stored: Mapping[str, Any]) -> None:
        channel_id = str(message["channel_id"])
        payload: TranslationEvent = {"channel_id": channel_id, "message_id": str(message.get("_id") or message["id"]),
                                     "seq": int(message["seq"]), "version": stored.get("_version"),
                                     "translation": translation_view(stored)}
        await self._emit(event, payload, to=channel_room(channel_id))

    # ------------------------------------------------------------ corrections
    async def correct(self, principal: Principal, message_id: str, text: str) -> dict[str, TranslationView | None]:
        """Store a member's correction of a message's translation and show it to the channel."""
        text = text.strip()
        if not text:
            raise BadRequest("the correction is empty", code="empty_correction")
        settings = self.infra.settings
        await self.infra.limiter.hit(f"translation_corrections:{principal.user_id}", settings.message_rate_limit,
                                     settings.message_rate_window_secs, "translation corrections")
        message = await self.repo.message(message_id)
        if message is None or not await self.can_read(principal, str(message["channel_id"])):
            # One answer for "no such message" and "not in its channel": ids cannot be probed.
            raise NotFound("no such message", code="message_not_found")
        if message.get("deleted") or not message.get("body"):
            raise Conflict("the message was deleted", code="message_deleted")
        stored = message.get("translation") or {}
        declared = stored.get("source_lang") or message.get("language")
        source: Lang = "lus" if declared == "lus" else "en"
        target = stored.get("lang") or other(source)
        at = utcnow()
        correction = {"text": text, "author_id": principal.user_id, "author_name": principal.display_name, "at": at}
        record = {"_id": new_id(), "message_id": message_id, "channel_id": message["channel_id"],
                  "source_lang": source, "target_lang": target, "source_text": message["body"],
                  "machine_text": stored.get("text"), "corrected_text": text,
                  "model_version": stored.get("model_version"), "author_id": principal.user_id,
                  "author_name": principal.display_name, "at": at}
        updated = await self.repo.store_correction(message, correction, record)
        if updated is None:
            raise Conflict("the message was deleted", code="message_deleted")
        if target != source:
            await self.memory.add(f"{source}-{target}", str(message["body"]), text, origin="correction",
                                  author_id=principal.user_id, author_name=principal.display_name,
                                  message_id=message_id)
        await self._announce("message:translation_corrected", message, updated)
        return {"translation": translation_view(updated)}

    async def export_corrections(self, out: TextIO) -> int:
        """Write every correction as a TSV parallel corpus (header row first); returns the count.

        Columns: source_lang, target_lang, source_text, machine_translation, corrected_text,
        author_id, at (ISO 8601).  Tabs, line breaks and backslashes inside a text are written
        as ``\\t``, ``\\n`` and ``\\\\`` so each correction stays on one line.
        """
        out.write("\t".join(EXPORT_COLUMNS) + "\n")
        count = 0
        async for doc in self.repo.corrections():
            cells = [doc["source_lang"], doc["target_lang"], doc["source_text"], doc.get("machine_text") or "",
                     doc["corrected_text"], doc["author_id"], iso(doc["at"])]
            out.write("\t".join(_cell(str(c)) for c in cells) + "\n")
            count += 1
        return count

    # ------------------------------------------------------------ translation memory (officers)
    async def list_memory(self, principal: Principal, *, direction: str | None = None,
                          approved: bool | None = None, before: str | None = None,
                          limit: int = 50) -> dict[str, list[MemoryEntryView]]:
        _officers_only(principal)
        docs = await self.memory.list(direction=direction, approved=approved, before=before, limit=limit)
        return {"entries": [entry_view(doc) for doc in docs]}

    async def approve_memory(self, principal: Principal, entry_id: str) -> dict[str, MemoryEntryView]:
        _officers_only(principal)
        doc = await self.memory.approve(entry_id, principal.user_id)
        log.info("translation memory entry approved", extra={"entry_id": entry_id, "by": principal.user_id})
        return {"entry": entry_view(doc)}

    async def remove_memory(self, principal: Principal, entry_id: str) -> dict[str, bool]:
        _officers_only(principal)
        await self.memory.remove(entry_id)
        log.info("translation memory entry removed", extra={"entry_id": entry_id, "by": principal.user_id})
        return {"removed": True}

    async def import_memory(self, lines: Iterable[str]) -> int:
        return await self.memory.import_rows(lines)

    async def export_memory(self, out: TextIO) -> int:
        return await self.memory.export(out)

    # ------------------------------------------------------------ backfill
    async def backfill(self, since: dt.datetime) -> int:
        """Translate the messages since ``since`` that have no translation yet (no model at the
        time, shed, failed, or never queued); returns how many are translated now."""
        await self.refresh_models()
        limit = asyncio.Semaphore(BACKFILL_CONCURRENCY)
        done = 0

        async def one(message: Mapping[str, Any]) -> None:
            nonlocal done
            try:
                while True:
                    result = await self.translate_message(message, Priority.BACKFILL)
                    if result.status != "pending_backfill":
                        break
                    await asyncio.sleep(BACKFILL_RETRY_DELAY_SECS)  # shed for chat: try again
                done += result.translated
            except Exception:
                log.exception("backfill of a message failed", extra={"message_id": message.get("_id")})
            finally:
                limit.release()

        tasks = []
        async for message in self.repo.to_backfill(since):
            await limit.acquire()
            tasks.append(asyncio.get_running_loop().create_task(one(message)))
        await asyncio.gather(*tasks)
        return done


def _officers_only(principal: Principal) -> None:
    if not principal.is_officer:
        raise Forbidden("only officers review the translation memory", code="not_officer")


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r\n", "\\n").replace("\n", "\\n").replace(
        "\r", "\\n")



__all__ = ["CanRead", "Emit", "Shed", "TranslationService"]
