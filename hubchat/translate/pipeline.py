"""One text through the translation pipeline:

    decide the source language (declared; the detector overrides it only when confident)
    → whole text in the phrasebook?
    → whole text in the translation memory (exact)?
    → protect spans, split sentences; per sentence (placeholders renumbered from 0):
        nothing but spans/punctuation → kept as is
        in the phrasebook (ignoring its spans) → the phrase's translation, spans appended
        in the translation memory (exact) → what people translated it as
        (no sentence found so far and the whole text is similar to a memory entry → that entry)
        similar to a memory entry → its translation, flagged ``similar``
        in the cache (model version, direction, sentence) → cached model output
        else → the model worker (batched with other texts' sentences), then the cache
    → restore spans, reassemble with the original spacing and line breaks.

Without a model for the direction, texts that need one are ``unavailable`` (phrasebook texts
still translate); a text shed from the full model queue is ``pending_backfill``; a model error
is ``failed``.  All three are retried by backfill.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from hubchat.translate import sentences as sentence_splitter
from hubchat.translate import spans
from hubchat.translate.cache import CacheKey, TranslationCache, cache_text
from hubchat.translate.detect import LANGS, Lang, detect
from hubchat.translate.engine import ModelUnavailable
from hubchat.translate.memory import MemoryHit
from hubchat.translate.metrics import TranslateMetrics
from hubchat.translate.models import EngineName, TranslationResult
from hubchat.translate.phrasebook import Phrasebook
from hubchat.translate.worker import BatchWorker, Priority, Shed

log = logging.getLogger(__name__)

ModelVersionOf = Callable[[str], "str | None"]


class MemoryLookup(Protocol):
    async def find(self, direction: str, texts: Sequence[str], similar: bool = True) -> Mapping[str, MemoryHit]: ...


_LANG_OF: dict[str, Lang] = {lang: lang for lang in LANGS}


def other(lang: Lang) -> Lang:
    return "en" if lang == "lus" else "lus"


def decide_source(text: str, declared: str | None, override_confidence: float) -> Lang | None:
    """The sender's declared language unless the detector is confident it is the other one."""
    detection = detect(spans.without_spans(text))
    source = _LANG_OF.get(declared or "", detection.lang)
    if detection.lang is not None and detection.lang != source and detection.confidence >= override_confidence:
        source = detection.lang
    return source


@dataclasses.dataclass
class _Sentence:
    lead: str  # white space before the sentence
    original: str
    sep: str
    local: spans.Protected | None = None  # None: nothing to translate
    translation: str | None = None  # with local placeholders
    engine: EngineName | None = None
    unvetted: bool = False  # translated with a phrase no Mizo speaker reviewed
    similar: bool = False  # translated as a similar text was (translation memory)
    final: bool = False  # the translation has the real spans, not placeholders (translation memory)


class Pipeline:
    def __init__(self, *, phrasebook: Phrasebook, cache: TranslationCache, worker: BatchWorker,
                 model_version: ModelVersionOf, override_confidence: float = 0.98,
                 metrics: TranslateMetrics | None = None, memory: MemoryLookup | None = None):
        self.phrasebook = phrasebook
        self.memory = memory
        self.cache = cache
        self.worker = worker
        self.model_version = model_version
        self.override_confidence = override_confidence
        self.metrics = metrics or worker.metrics

    async def translate(self, text: str, declared: str | None,
                        priority: Priority = Priority.CHAT) -> TranslationResult:
        started = time.perf_counter()
        result = await self._translate(text, declared, priority)
        result = dataclasses.replace(result, ms=round((time.perf_counter() - started) * 1000.0, 2))
        self.metrics.texts.labels(result.status, result.engine or "none").inc()
        self.metrics.text_seconds.observe(result.ms / 1000.0)
        return result

    def settled(self, text: str, declared: str | None) -> TranslationResult | None:
        """The result, when it is known at once with no I/O (so it can be stored with the message
        and carried in its ``message:new``): ``same_language``, a whole-text phrasebook phrase,
        or ``unavailable`` when no model serves the direction.  ``unavailable`` is provisional:
        :meth:`translate` still consults the translation memory and the phrasebook per sentence
        and may find a translation after all.  None: only :meth:`translate` can tell."""
        source = decide_source(text, declared, self.override_confidence)
        if source is None or not spans.has_words(spans.protect(text).text):
            return TranslationResult("same_language", source, None if source is None else other(source), text)
        target = other(source)
        whole = self.phrasebook.find(text, source)
        if whole is not None:
            return TranslationResult("done", source, target, whole.text, "phrasebook", self.phrasebook.version,
                                     unvetted=not whole.vetted)
        if self.model_version(f"{source}-{target}") is None:
            return TranslationResult("unavailable", source, target)
        return None

    async def _translate(self, text: str, declared: str | None, priority: Priority) -> TranslationResult:
        source = decide_source(text, declared, self.override_confidence)
        if source is None or not spans.has_words(spans.protect(text).text):
            return TranslationResult("same_language", source, None if source is None else other(source), text)
        target = other(source)
        whole = self.phrasebook.find(text, source)
        if whole is not None:
            return TranslationResult("done", source, target, whole.text, "phrasebook", self.phrasebook.version,
                                     unvetted=not whole.vetted)
        pieces = self._pieces(text)
        direction = f"{source}-{target}"
        for piece in pieces:
            if piece.local is not None:
                self._from_phrasebook(piece, source)
        if self.memory is not None:
            whole_hit = await self._from_memory(text, pieces, direction)
            if whole_hit is not None:
                return TranslationResult("done", source, target, whole_hit.text,
                                         "memory" if whole_hit.exact else "similar",
                                         f"memory@{whole_hit.entry_id}", similar=not whole_hit.exact)
        todo = [p for p in pieces if p.local is not None and p.translation is None]
        version = None
        if todo:
            version = self.model_version(direction)
            if version is None:
                return TranslationResult("unavailable", source, target)
            try:
                version = await self._from_model(todo, direction, version, priority)
            except Shed:
                return TranslationResult("pending_backfill", source, target)
            except ModelUnavailable:
                return TranslationResult("unavailable", source, target)
            except Exception:
                log.exception("translation failed", extra={"direction": direction})
                return TranslationResult("failed", source, target)
        engines = {p.engine for p in pieces if p.engine is not None}
        engine: EngineName = engines.pop() if len(engines) == 1 else "mixed"
        return TranslationResult("done", source, target, _assemble(pieces), engine,
                                 version or self.phrasebook.version,
                                 unvetted=any(p.unvetted for p in pieces), similar=any(p.similar for p in pieces))

    def _pieces(self, text: str) -> list[_Sentence]:
        protected = spans.protect(text)
        pieces = []
        for piece in sentence_splitter.split(protected.text):
            original = spans.reveal(piece.text, protected.spans)
            body = original.lstrip()
            sentence = _Sentence(original[: len(original) - len(body)], body, piece.sep)
            local = spans.protect(body)
            if spans.has_words(local.text):
                sentence.local = local
            pieces.append(sentence)
        return pieces

    def _from_phrasebook(self, piece: _Sentence, source: Lang) -> None:
        assert piece.local is not None
        phrase = self.phrasebook.find(spans.strip_placeholders(piece.local.text), source)
        if phrase is not None:
            piece.translation, piece.engine, piece.unvetted = phrase.text, "phrasebook", not phrase.vetted

    async def _from_memory(self, text: str, pieces: list[_Sentence], direction: str) -> MemoryHit | None:
        """Fill sentences from the translation memory; returns the whole text's hit when that is
        the answer (exact, or similar while no sentence was found on its own)."""
        assert self.memory is not None
        open_pieces = [p for p in pieces if p.local is not None and p.translation is None]
        # When the phrasebook had every sentence only a member's translation of the whole text
        # can do better: no similar look-up then.
        hits = await self.memory.find(direction, [text, *(p.original for p in open_pieces)],
                                      similar=bool(open_pieces))
        whole = hits.get(text)
        if whole is not None and whole.exact:
            return whole
        found_any = len(open_pieces) < sum(p.local is not None for p in pieces)  # the phrasebook's
        for piece in open_pieces:
            hit = hits.get(piece.original)
            if hit is not None and hit.exact:
                self._use(piece, hit)
                found_any = True
        if whole is not None and not found_any:
            return whole
        for piece in open_pieces:
            hit = hits.get(piece.original)
            if hit is not None and piece.translation is None:
                self._use(piece, hit)
        return None

    @staticmethod
    def _use(piece: _Sentence, hit: MemoryHit) -> None:
        piece.translation, piece.final, piece.similar = hit.text, True, not hit.exact
        piece.engine = "memory" if hit.exact else "similar"

    async def _from_model(self, todo: list[_Sentence], direction: str, version: str,
                          priority: Priority) -> str:
        keys = [CacheKey(version, direction, cache_text(p.local.text)) for p in todo if p.local]
        cached = await self.cache.get_many(keys)
        misses = []
        for piece, key, hit in zip(todo, keys, cached, strict=True):
            if hit is None:
                misses.append((piece, key))
            else:
                piece.translation, piece.engine = hit, "cache"
        self.metrics.cache.labels("hit").inc(len(keys) - len(misses))
        self.metrics.cache.labels("miss").inc(len(misses))
        if not misses:
            return version
        texts = list(dict.fromkeys(key.text for _, key in misses))
        used_version, translations = await self.worker.translate(direction, texts, priority)
        found = dict(zip(texts, translations, strict=True))
        for piece, key in misses:
            piece.translation, piece.engine = found[key.text], "model"
        await self.cache.put_many([(CacheKey(used_version, direction, t), found[t]) for t in texts])
        return used_version


def _assemble(pieces: list[_Sentence]) -> str:
    out = []
    for number, piece in enumerate(pieces, start=1):
        if piece.local is None or piece.translation is None:
            out.append(piece.lead + piece.original + piece.sep)
            continue
        body = piece.translation if piece.final else spans.restore(piece.translation, piece.local.spans).text
        # "ni.Chu": the sender left out the space; the translation gets one.
        sep = " " if not piece.sep and number < len(pieces) else piece.sep
        out.append(piece.lead + body + sep)
    return "".join(out).strip()
