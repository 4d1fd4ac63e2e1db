"""Translation memory: translations people made, looked up before the model.

Every member's correction of a message's translation (and every translation a member provides
where there was none) becomes an entry, per direction; officers review, approve or remove them;
``hubchat translate import-memory`` / ``export-memory`` move them in and out as TSV.

Collections (owned by this capability)::

    translation_memory        {_id, direction ("lus-en" | "en-lus"), key (the source, normalised as
                               a phrasebook key), target_key, source_text, target_text, origin
                               ("correction" | "import"), approved, approved_by, approved_at,
                               author_id, author_name, message_id, count (times this exact pair
                               was given), created_at, updated_at}
    translation_memory_words  {_id, direction, word, entry_id, key}: one row per content word of
                               an entry's key — the candidate index of the similar look-up (a
                               collection of scalars rather than an array field, so that the
                               embedded store serves the look-up from an index, see store.py)

Look-up of a text, per direction: an **exact** match of the normalised text (case, accents, ``ṭ``
and punctuation ignored), else a **similar** sentence: candidates are the entries sharing one of
the text's longest content words (index look-ups, at most ``FUZZY_CANDIDATES`` entries), scored
with ``rapidfuzz.fuzz.ratio`` on the normalised texts; the best at or above the threshold wins if
its links, numbers, phone numbers and emoji are exactly the text's (so a similar sentence never
brings someone else's number or time).  Approved entries rank first, then the closer, then the
newer.  A similar match is always reported as such — never as the text's own translation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TextIO, TypedDict

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError
from rapidfuzz import fuzz

from hubchat.clock import iso, utcnow
from hubchat.errors import BadRequest, NotFound
from hubchat.infra import Infra
from hubchat.schema import new_id
from hubchat.store import Document
from hubchat.translate import spans
from hubchat.translate.detect import ENGLISH_WORDS, MIZO_WORDS
from hubchat.translate.phrasebook import phrase_key

MEMORY = "translation_memory"
WORDS = "translation_memory_words"
DIRECTIONS = ("lus-en", "en-lus")
Origin = Literal["correction", "import"]

DEFAULT_FUZZY_THRESHOLD = 88.0  # rapidfuzz ratio, 0..100
FUZZY_CANDIDATES = 200  # entries scored at most per look-up
FUZZY_QUERY_WORDS = 4  # the text's longest content words used to find candidates
FUZZY_TEXTS_MAX = 8  # texts (a message and its sentences) looked up as similar per call
MAX_TOKENS = 16  # content words stored per entry
# The similar look-up's postings (word -> candidate entries) are kept on the node this long: every
# chat message with no exact entry asks for its longest words, and the same words come back all
# day.  A change made on this node clears them at once; one made on another node is seen as a
# *similar* candidate within this time (exact look-ups always read the store).
POSTINGS_TTL_SECS = 30.0
POSTINGS_CACHED_MAX = 4096
MIN_TOKEN_CHARS = 3
MAX_TEXT_CHARS = 4000
LIST_MAX = 100
EXPORT_COLUMNS = ("id", "source_lang", "target_lang", "source_text", "target_text", "origin", "approved",
                  "author_id", "updated_at")

INDEXES = {
    MEMORY: [
        IndexModel([("direction", ASCENDING), ("key", ASCENDING), ("target_key", ASCENDING)],
                   name="translation_memory_pair", unique=True),
        IndexModel([("updated_at", DESCENDING)], name="translation_memory_updated"),
    ],
    WORDS: [
        IndexModel([("direction", ASCENDING), ("word", ASCENDING)], name="translation_memory_words_word"),
        IndexModel([("entry_id", ASCENDING)], name="translation_memory_words_entry"),
    ],
}

_FUNCTION_WORDS = MIZO_WORDS | ENGLISH_WORDS
_WORD = re.compile(r"\w+")


@dataclasses.dataclass(frozen=True)
class MemoryHit:
    text: str  # the translation, with the text's own spans already in place
    exact: bool  # False: the translation of a similar sentence
    score: float  # 100 for exact
    entry_id: str
    approved: bool


class MemoryEntryView(TypedDict):
    id: str
    source_lang: str
    target_lang: str
    source_text: str
    target_text: str
    origin: str
    approved: bool
    approved_by: str | None
    approved_at: str | None
    author: dict[str, str] | None
    count: int
    created_at: str | None
    updated_at: str | None


def memory_key(text: str) -> str:
    return phrase_key(text)


def content_tokens(key: str, limit: int = MAX_TOKENS) -> list[str]:
    """The key's distinct words that carry meaning (not particles or function words), longest first."""
    words = {w for w in _WORD.findall(key) if len(w) >= MIN_TOKEN_CHARS and w not in _FUNCTION_WORDS}
    return sorted(words, key=lambda w: (-len(w), w))[:limit]


def _span_texts(text: str) -> tuple[str, ...]:
    return tuple(span.text for span in spans.protect(text).spans)


def entry_view(doc: Mapping[str, Any]) -> MemoryEntryView:
    source, target = str(doc["direction"]).split("-")
    author = None if not doc.get("author_id") else {"id": doc["author_id"],
                                                    "display_name": doc.get("author_name") or ""}
    return {"id": doc["_id"], "source_lang": source, "target_lang": target, "source_text": doc["source_text"],
            "target_text": doc["target_text"], "origin": doc.get("origin", "correction"),
            "approved": bool(doc.get("approved")), "approved_by": doc.get("approved_by"),
            "approved_at": iso(doc.get("approved_at")), "author": author, "count": int(doc.get("count") or 1),
            "created_at": iso(doc.get("created_at")), "updated_at": iso(doc.get("updated_at"))}


def _rank(doc: Mapping[str, Any], score: float) -> tuple[bool, float, str]:
    return bool(doc.get("approved")), score, iso(doc.get("updated_at")) or ""


class TranslationMemory:
    def __init__(self, infra: Infra, fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD):
        self.infra = infra
        self.fuzzy_threshold = fuzzy_threshold
        # (direction, word, limit) -> (read at, [(entry_id, key)]): see POSTINGS_TTL_SECS
        self._postings: dict[tuple[str, str, int], tuple[float, Sequence[tuple[str, str]]]] = {}

    @property
    def _entries(self) -> Any:
        return self.infra.store[MEMORY]

    @property
    def _words(self) -> Any:
        return self.infra.store[WORDS]

    # ------------------------------------------------------------ writing
    async def add(self, direction: str, source_text: str, target_text: str, *, origin: Origin,
                  author_id: str | None = None, author_name: str | None = None, approved: bool = False,
                  message_id: str | None = None) -> Document | None:
        """Record a translation people made; the same pair again counts up (and stays approved).
        Returns the entry, or None when either side normalises to nothing."""
        if direction not in DIRECTIONS:
            raise BadRequest(f"direction must be one of {', '.join(DIRECTIONS)}", code="invalid_payload")
        source_text, target_text = source_text.strip(), target_text.strip()
        key, target_key = memory_key(source_text), memory_key(target_text)
        if not key or not target_key:
            return None
        now = utcnow()
        on_insert: dict[str, Any] = {"_id": new_id(), "source_text": source_text[:MAX_TEXT_CHARS],
                                     "origin": origin, "created_at": now, "message_id": message_id}
        fields: dict[str, Any] = {"target_text": target_text[:MAX_TEXT_CHARS], "updated_at": now,
                                  "author_id": author_id, "author_name": author_name}
        if approved:
            fields |= {"approved": True, "approved_by": author_id, "approved_at": now}
        else:
            on_insert |= {"approved": False, "approved_by": None, "approved_at": None}
        query = {"direction": direction, "key": key, "target_key": target_key}
        # Insert, else count up the existing pair: portable to stores whose find-and-modify
        # upsert ignores $setOnInsert (the embedded one does).
        try:
            await self._entries.insert_one({**query, **on_insert, **fields, "count": 1})
        except DuplicateKeyError:
            await self._entries.update_one(query, {"$set": fields, "$inc": {"count": 1}})
        else:
            words = [{"_id": new_id(), "direction": direction, "word": word, "entry_id": on_insert["_id"], "key": key}
                     for word in content_tokens(key)]
            if words:
                await self._words.insert_many(words)
                self._postings.clear()
        doc: Document | None = await self._entries.find_one(query)
        return doc

    async def approve(self, entry_id: str, officer_id: str) -> Document:
        doc: Document | None = await self._entries.find_one_and_update(
            {"_id": entry_id}, {"$set": {"approved": True, "approved_by": officer_id, "approved_at": utcnow()}},
            return_document=True)
        if doc is None:
            raise NotFound("no such translation memory entry", code="memory_entry_not_found")
        return doc

    async def remove(self, entry_id: str) -> None:
        result = await self._entries.delete_one({"_id": entry_id})
        if result.deleted_count == 0:
            raise NotFound("no such translation memory entry", code="memory_entry_not_found")
        await self._words.delete_many({"entry_id": entry_id})
        self._postings.clear()

    # ------------------------------------------------------------ reading
    async def list(self, *, direction: str | None = None, approved: bool | None = None,
                   before: str | None = None, limit: int = 50) -> list[Document]:
        """Newest first; ``before``: an entry id from the previous page."""
        query: dict[str, Any] = {}
        if direction is not None:
            query["direction"] = direction
        if approved is not None:
            query["approved"] = approved
        if before is not None:
            anchor = await self._entries.find_one({"_id": before}, {"updated_at": 1})
            if anchor is None:
                raise NotFound("no such translation memory entry", code="memory_entry_not_found")
            query["$or"] = [{"updated_at": {"$lt": anchor["updated_at"]}},
                            {"updated_at": anchor["updated_at"], "_id": {"$lt": before}}]
        cursor = self._entries.find(query).sort([("updated_at", DESCENDING), ("_id", DESCENDING)])
        return [doc async for doc in cursor.limit(max(1, min(limit, LIST_MAX)))]

    async def find(self, direction: str, texts: Sequence[str], similar: bool = True) -> dict[str, MemoryHit]:
        """The best entry for each text that has one (exact first, else — if ``similar`` — a similar one)."""
        keys = {text: memory_key(text) for text in texts}
        wanted = sorted({k for k in keys.values() if k})
        if not wanted:
            return {}
        exact: dict[str, Document] = {}
        for key in wanted:  # one equality look-up each: served by the (direction, key, …) index
            async for doc in self._entries.find({"direction": direction, "key": key}):
                best = exact.get(key)
                if best is None or _rank(doc, 100.0) > _rank(best, 100.0):
                    exact[key] = doc
        hits: dict[str, MemoryHit] = {}
        fuzzy_left = FUZZY_TEXTS_MAX if similar else 0
        for text, key in keys.items():
            if key in exact:
                doc = exact[key]
                hits[text] = MemoryHit(doc["target_text"], True, 100.0, doc["_id"], bool(doc.get("approved")))
            elif key and fuzzy_left > 0:
                fuzzy_left -= 1
                close = await self._similar(direction, text, key)
                if close is not None:
                    hits[text] = close
        return hits

    async def _similar(self, direction: str, text: str, key: str) -> MemoryHit | None:
        words = content_tokens(key, FUZZY_QUERY_WORDS)
        if not words:
            return None
        per_word = max(1, FUZZY_CANDIDATES // len(words))
        scores: dict[str, float] = {}
        for word in words:
            for entry_id, entry_key in await self._postings_of(direction, word, per_word):
                if entry_id not in scores:
                    scores[entry_id] = fuzz.ratio(key, entry_key, score_cutoff=self.fuzzy_threshold)
        close = [entry_id for entry_id, score in scores.items() if score]
        ranked = []
        for entry_id in close:
            doc = await self._entries.find_one({"_id": entry_id})
            if doc is not None:
                ranked.append((_rank(doc, scores[entry_id]), doc))
        own_spans = _span_texts(text)
        for (approved, score, _), doc in sorted(ranked, key=lambda pair: pair[0], reverse=True):
            if _span_texts(doc["source_text"]) == own_spans:
                return MemoryHit(doc["target_text"], False, round(score, 1), doc["_id"], approved)
        return None

    # ------------------------------------------------------------ import / export
    async def _postings_of(self, direction: str, word: str, limit: int) -> Sequence[tuple[str, str]]:
        now = self.infra.clock.monotonic()
        cached = self._postings.get((direction, word, limit))
        if cached is not None and now - cached[0] < POSTINGS_TTL_SECS:
            return cached[1]
        cursor = self._words.find({"direction": direction, "word": word}, {"entry_id": 1, "key": 1})
        postings = [(p["entry_id"], p["key"]) async for p in cursor.limit(limit)]
        if len(self._postings) >= POSTINGS_CACHED_MAX:
            self._postings.clear()
        self._postings[(direction, word, limit)] = (now, postings)
        return postings

    async def export(self, out: TextIO) -> int:
        """Every entry as TSV (header first), oldest first; returns the count."""
        out.write("\t".join(EXPORT_COLUMNS) + "\n")
        count = 0
        async for doc in self._entries.find({}).sort([("created_at", ASCENDING), ("_id", ASCENDING)]):
            source, target = str(doc["direction"]).split("-")
            cells = [doc["_id"], source, target, doc["source_text"], doc["target_text"],
                     doc.get("origin", "correction"), "yes" if doc.get("approved") else "no",
                     doc.get("author_id") or "", iso(doc.get("updated_at")) or ""]
            out.write("\t".join(escape_cell(str(c)) for c in cells) + "\n")
            count += 1
        return count

    async def import_rows(self, lines: Iterable[str]) -> int:
        """Add the rows of a TSV with a header naming at least source_lang, target_lang,
        source_text and target_text (or corrected_text: the corrections export works as is);
        an ``approved`` column of yes/no is honoured.  Returns how many rows were added."""
        count = 0
        for row in pair_rows(lines, "import"):
            approved = row.cell("approved").strip().casefold() in ("yes", "true", "1")
            added = await self.add(row.direction, row.source, row.target, origin="import", approved=approved)
            count += added is not None
        return count


@dataclasses.dataclass(frozen=True)
class PairRow:
    """One row of a translation-pairs TSV (memory import, corrections export, evaluation pairs)."""

    direction: str  # "lus-en" | "en-lus"
    source: str
    target: str
    cells: list[str]
    columns: dict[str, int]

    def cell(self, name: str) -> str:
        index = self.columns.get(name)
        return self.cells[index] if index is not None else ""


def pair_rows(lines: Iterable[str], what: str) -> Iterator[PairRow]:
    """The rows of a TSV whose header names at least source_lang, target_lang, source_text and
    target_text (or corrected_text: the corrections export reads as it is); cells unescaped, blank
    lines skipped.  A malformed header or row is ``BadRequest`` naming ``what`` and the line."""
    rows = iter(lines)
    header = [c.strip() for c in next(rows, "").rstrip("\r\n").split("\t")]
    columns = {name: index for index, name in enumerate(header)}
    target = "target_text" if "target_text" in columns else "corrected_text"
    missing = [c for c in ("source_lang", "target_lang", "source_text", target) if c not in columns]
    if missing:
        raise BadRequest(f"{what}: the header lacks {', '.join(missing)}".replace(
            "corrected_text", "target_text (or corrected_text)"))
    for number, line in enumerate(rows, start=2):
        if not line.strip():
            continue
        cells = [unescape_cell(c) for c in line.rstrip("\r\n").split("\t")]
        if len(cells) < len(header):
            raise BadRequest(f"{what}: line {number} has {len(cells)} cells, the header {len(header)}")
        direction = f"{cells[columns['source_lang']]}-{cells[columns['target_lang']]}"
        if direction not in DIRECTIONS:
            raise BadRequest(f"{what}: line {number}: languages must be lus and en")
        yield PairRow(direction, cells[columns["source_text"]], cells[columns[target]], cells, columns)


def escape_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r\n", "\\n").replace("\n", "\\n").replace(
        "\r", "\\n")


def unescape_cell(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n"}.get(m.group(1), m.group(1)), text)
