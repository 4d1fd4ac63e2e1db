"""Pure parts of the translation pipeline: detector, spans, sentences, phrasebook, cache (memory)."""

from __future__ import annotations

import zlib
from collections import defaultdict
from pathlib import Path

import pytest

from hubchat.translate import detect as detector
from hubchat.translate import sentences, spans
from hubchat.translate.cache import CacheKey, MemoryTranslationCache, cache_text, digest
from hubchat.translate.commands import parse_since
from hubchat.translate.models import translation_view
from hubchat.translate.phrasebook import DEFAULT_PHRASEBOOK_PATH, Match, Phrasebook, phrase_key
from hubchat.translate.pipeline import Pipeline, decide_source
from hubchat.translate.worker import BatchWorker

# GATITOS lexicon, Google Research, CC BY 4.0: see tests/data/gatitos/SOURCE.md and LICENSE.
GATITOS = Path(__file__).resolve().parent / "data" / "gatitos" / "lus_en.tsv"
DETECTOR_ACCURACY_FLOOR = 0.90  # measured 0.946 over all 6,731 texts, 0.947 on the test half (bench/RESULTS.md)
DETECTOR_MULTIWORD_FLOOR = 0.95  # measured 0.982 (0.969 before the context rules)
# Short chat messages written for hubchat (MIT): see the file's header.
CHAT_MESSAGES = Path(__file__).resolve().parent / "data" / "chat" / "short_messages.tsv"
CHAT_TEST_HALF_FLOOR = 0.94  # measured 0.965 on the held-out half (0.930 before the context rules)


# ---------------------------------------------------------------- detector
@pytest.mark.parametrize(("text", "lang"), [
    ("Min pui rawh, ka hliam", "lus"),
    ("Khawiah nge i awm?", "lus"),
    ("Ka dam ṭha e, ka lawm e", "lus"),
    ("Kan inhmu leh ang", "lus"),
    ("Help me, I am injured", "en"),
    ("Where is the hospital?", "en"),
    ("I will call you tomorrow", "en"),
])
def test_detector_on_sentences(text: str, lang: str) -> None:
    found = detector.detect(text)
    assert found.lang == lang
    assert found.confidence > 0.95


def test_detector_without_letters_has_no_opinion() -> None:
    assert detector.detect("123 :) 👍") == detector.Detection(None, 0.0, 0.0)


def test_detector_diacritics_are_mizo() -> None:
    assert detector.detect("ṭha").lang == "lus"
    assert detector.word_score("ṭawng") == detector.DIACRITIC_SCORE


def _gatitos_entries() -> list[tuple[str, str]]:
    entries = set()
    for line in GATITOS.read_text(encoding="utf-8").splitlines():
        lus, en = (cell.strip() for cell in line.split("\t"))
        if lus.casefold() == en.casefold():  # loanwords identical in both languages
            continue
        entries.add((lus, "lus"))
        entries.add((en, "en"))
    return sorted(entries)


def test_detector_accuracy_on_gatitos(capsys: pytest.CaptureFixture[str]) -> None:
    """Accuracy on the GATITOS lexicon (test data only).  The detector's word lists and rules were
    written by hand; its weights and shape rules were tuned looking at the even-hash half ('dev')
    only, but its syllable inventory (onsets thl/ngh, codas lh/rh) was completed after seeing
    which Mizo words of the whole lexicon failed to split — so 'test' is nearly, not fully, unseen."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for text, lang in _gatitos_entries():
        ok = int(detector.detect(text).lang == lang)
        half = "dev" if zlib.crc32(text.encode()) % 2 == 0 else "test"
        size = "multi" if len(text.split()) >= 2 else "single"
        for key in ("all", lang, f"{lang}-{size}", f"all-{size}", f"half-{half}"):
            counts[key][0] += ok
            counts[key][1] += 1
    report = {key: right / total for key, (right, total) in counts.items()}
    with capsys.disabled():
        print("\ndetector accuracy on GATITOS: " + ", ".join(
            f"{key} {value:.3f} (n={counts[key][1]})" for key, value in sorted(report.items())))
    assert report["all"] >= DETECTOR_ACCURACY_FLOOR
    assert report["half-test"] >= DETECTOR_ACCURACY_FLOOR
    assert report["all-multi"] >= DETECTOR_MULTIWORD_FLOOR
    assert min(report["lus"], report["en"]) >= 0.88


def test_detector_on_short_chat_messages(capsys: pytest.CaptureFixture[str]) -> None:
    """1-5-word messages; the context rules were tuned on the even-hash half only."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line in CHAT_MESSAGES.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("text\t"):
            continue
        text, lang = line.split("\t")
        half = "dev" if zlib.crc32(text.encode()) % 2 == 0 else "test"
        ok = int(detector.detect(text).lang == lang)
        for key in (half, f"{half}-{lang}"):
            counts[key][0] += ok
            counts[key][1] += 1
    report = {key: right / total for key, (right, total) in counts.items()}
    with capsys.disabled():
        print("\ndetector accuracy on short chat messages: " + ", ".join(
            f"{key} {value:.3f} (n={counts[key][1]})" for key, value in sorted(report.items())))
    assert counts["test"][1] >= 100
    assert report["test"] >= CHAT_TEST_HALF_FLOOR
    assert min(report["test-lus"], report["test-en"]) >= 0.90


# Each of these was detected wrongly before the context rules (checked against detect.py on main).
@pytest.mark.parametrize(("text", "lang"), [
    ("He ram", "lus"),  # "he" is the Mizo "this" too
    ("He lehkha", "lus"),
    ("Flight cancel a ni a.", "lus"),  # only Mizo ends a clause with "a": that outweighs English loans
    ("Hospital admit a ni a.", "lus"),
    ("Get a pen", "en"),  # inside a clause "a" is weak evidence (the English article)
    ("I have a fever", "en"),
    ("I am a nurse", "en"),  # and a capital I inside a sentence is English
    ("John nen", "lus"),  # a name says little either way
    ("Rebecca hi", "lus"),
    ("Ka'n en", "lus"),  # a Mizo contraction (ka han)
    ("I'n hmu", "lus"),
    ("mihring", "lus"),  # -ing after a Mizo onset cluster
])
def test_detector_context_rules(text: str, lang: str) -> None:
    assert detector.detect(text).lang == lang


def test_detector_context_rules_keep_english() -> None:
    for text in ("He is late", "Don't wait", "It's me", "waiting", "making tea", "Yes I can", "So am I"):
        assert detector.detect(text).lang == "en", text
    assert detector.detect("I dam em?").lang == "lus"  # a capital I opening a sentence decides nothing


def test_declared_language_wins_unless_the_detector_is_sure() -> None:
    assert decide_source("ok", "lus", 0.98) == "lus"  # one ambiguous word: keep what the sender declared
    assert decide_source("Where is the hospital? I need help", "lus", 0.98) == "en"
    assert decide_source("Min pui rawh, ka hliam tak", "en", 0.98) == "lus"
    assert decide_source("Chibai", None, 0.98) == "lus"
    assert decide_source("https://example.org", None, 0.98) is None


# ---------------------------------------------------------------- spans
ROUND_TRIP = [
    "Call +91 98765 43210 or mail lal.a@example.org, see https://ex.com/a?b=1.",
    "@lalremruata 12.5% 😀👍🏽 at 10:30 on 25/12/2024 🇮🇳",
    "A literal XZ3 and x z 7 stay as they are",
    "nothing to protect here",
    "👨‍👩‍👧 family emoji and keycap 1️⃣",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_protect_round_trip(text: str) -> None:
    protected = spans.protect(text)
    assert spans.unprotect(protected) == text
    for span in protected.spans:
        assert span.text not in protected.text or span.kind == "placeholder"


def test_protect_kinds() -> None:
    protected = spans.protect("Mail a@b.org or call +44 20 7946 0958, https://x.org/p @tei 42 🙏")
    assert [s.kind for s in protected.spans] == ["email", "phone", "url", "mention", "number", "emoji"]
    assert protected.text == "Mail XZ0 or call XZ1, XZ2 XZ3 XZ4 XZ5"


def test_restore_tolerates_model_damage() -> None:
    protected = spans.protect("Call 999 or see https://help.org now")
    # re-cased and spaced, one placeholder repeated, one invented
    restored = spans.restore("Ko rawh xz 0, XZ0 leh XZ7", protected.spans)
    assert restored.text == "Ko rawh 999, leh https://help.org"
    assert restored.lost == (1,)


def test_restore_appends_every_lost_span() -> None:
    protected = spans.protect("Call me at +91 98765 43210 😀")
    restored = spans.restore("gibberish without placeholders", protected.spans)
    assert restored.text == "gibberish without placeholders +91 98765 43210 😀"


def test_placeholders_survive_sentencepiece_as_plain_pieces() -> None:
    # Latin letters and digits only: no byte-fallback or <unk> surprises in any Latin vocabulary.
    assert spans.PLACEHOLDER.format(12).isascii()
    assert spans.PLACEHOLDER.format(12).isalnum()


def test_has_words() -> None:
    assert not spans.has_words(spans.protect("👍 https://x.org 42!").text)
    assert spans.has_words(spans.protect("ok 👍").text)


# ---------------------------------------------------------------- sentences
@pytest.mark.parametrize(("text", "expected"), [
    ("Ka hliam. Min pui rawh!", ["Ka hliam.", "Min pui rawh!"]),
    ("Dr. Lala said hi. J. Smith came... Yes?! Ok", ["Dr. Lala said hi.", "J. Smith came...", "Yes?!", "Ok"]),
    ("It costs 3.5 dollars. At 10.30 tonight", ["It costs 3.5 dollars.", "At 10.30 tonight"]),
    ("line one\n\nline two\nline three", ["line one", "line two", "line three"]),
    ('He said "Wait." Then left', ['He said "Wait."', "Then left"]),
    ("no terminator", ["no terminator"]),
])
def test_split(text: str, expected: list[str]) -> None:
    pieces = sentences.split(text)
    assert [p.text for p in pieces] == expected
    assert sentences.join(pieces) == text


# Mizo sentences written for these tests (everyday chat and notice style; no UDHR text in Mizo was
# available to commit).  a / e / i at the end of a clause are particles, not initials.
@pytest.mark.parametrize(("text", "expected"), [
    ("Ka lawm e. Naktukah ka lo kal leh ang.", ["Ka lawm e.", "Naktukah ka lo kal leh ang."]),
    ("Ka dam ṭha e. Nang i dam em?", ["Ka dam ṭha e.", "Nang i dam em?"]),
    ("Chutiang chuan a ti a. Kan zavaiin kan nui a.", ["Chutiang chuan a ti a.", "Kan zavaiin kan nui a."]),
    ("ka ti i. ka kal", ["ka ti i.", "ka kal"]),  # the rule for i (not a quoted sentence)
    # no space after the full stop
    ("Aizawl hi Mizoram khawpui ber a ni.Chu khawpui chu tlang chungah a awm.",
     ["Aizawl hi Mizoram khawpui ber a ni.", "Chu khawpui chu tlang chungah a awm."]),
    ("Ka hliam!Min pui rawh", ["Ka hliam!", "Min pui rawh"]),
    ("Inkhawm a tan tawh a.Lo kal vat rawh", ["Inkhawm a tan tawh a.", "Lo kal vat rawh"]),
    # real initials and abbreviations stay
    ("Pu R. Lalthangliana chu ka pa a ni. Ka lawm e.", ["Pu R. Lalthangliana chu ka pa a ni.", "Ka lawm e."]),
    ("Dr.Lalrinawma leh J.Smith an lo kal.", ["Dr.Lalrinawma leh J.Smith an lo kal."]),
    # decimals, times, links and e-mail addresses stay whole
    ("A man chu 2.50 a ni. Dar 10.30-ah kan kal ang.", ["A man chu 2.50 a ni.", "Dar 10.30-ah kan kal ang."]),
    ("Lehkha min thawn rawh Lal.Rema@Example.org. Ka chhiar ang.",
     ["Lehkha min thawn rawh Lal.Rema@Example.org.", "Ka chhiar ang."]),
    ("En rawh https://mizoram.gov.in/Notice.Html chu", ["En rawh https://mizoram.gov.in/Notice.Html chu"]),
    ("See www.Example.Org today, v2.Beta too", ["See www.Example.Org today, v2.Beta too"]),
])
def test_split_mizo(text: str, expected: list[str]) -> None:
    pieces = sentences.split(text)
    assert [p.text for p in pieces] == expected
    assert sentences.join(pieces) == text


def test_split_caps_long_sentences() -> None:
    text = ", ".join(["ka kal ang"] * 80)
    pieces = sentences.split(text, max_chars=100)
    assert all(len(p.text) <= 100 for p in pieces)
    assert sentences.join(pieces) == text


# ---------------------------------------------------------------- phrasebook
def test_phrase_key_normalisation() -> None:
    assert phrase_key("  Min  pui rawh!! ") == "min pui rawh"
    assert phrase_key("Ṭanpuina ka mamâwh?") == "tanpuina ka mamawh"
    assert phrase_key("HELP me.") == phrase_key("help me")


def test_phrasebook_file() -> None:
    book = Phrasebook.load(DEFAULT_PHRASEBOOK_PATH)
    assert 100 <= len(book) <= 250
    assert book.version.startswith("phrasebook@")
    assert book.lookup("min pui rawh!", "lus") == "Help me"
    assert book.lookup("Help me", "en") == "Min pui rawh"  # the first row wins for a variant
    assert book.lookup("Min ṭanpui rawh", "lus") == "Help me"
    assert book.lookup("min tanpui rawh", "lus") == "Help me"  # typed without the dot below
    assert book.lookup("Ka hliam", "lus") == "I am injured"
    assert book.lookup("Police ko rawh", "lus") == "Call the police"
    assert book.lookup("Chibai", "lus") == "Hello"
    assert book.lookup("something else entirely", "en") is None
    emergency = [p for p in book.phrases if "emergency" in p.tags]
    assert len(emergency) >= 50
    # No Mizo speaker has reviewed the file yet (see its header): nothing may claim to be vetted.
    assert not any(p.vetted for p in book.phrases)
    assert book.find("Ka hliam", "lus") == Match("I am injured", False)


@pytest.mark.parametrize(("en", "lus"), [
    ("Where am I?", "Khawiah nge ka awm?"),
    ("I am locked in", "Min kalhkhum"),
    ("My passport was taken.", "Ka passport min laksak"),
    ("I am not paid", "Ka hlawh min pe lo"),
    ("I need a doctor", "Daktawr ka mamawh"),
    ("Call my family!", "Ka chhungte ko rawh"),
    ("I need an interpreter", "Ṭawnglettu ka mamawh"),
])
def test_phrasebook_emergency_vocabulary_both_ways(en: str, lus: str) -> None:
    book = Phrasebook.load(DEFAULT_PHRASEBOOK_PATH)
    assert book.lookup(en, "en") == lus
    assert book.lookup(lus, "lus") is not None
    assert book.lookup(lus.casefold().replace("ṭ", "t"), "lus") == book.lookup(lus, "lus")


def test_phrasebook_vetted_column(tmp_path: Path) -> None:
    path = tmp_path / "book.tsv"
    path.write_text("lus\ten\ttags\tvetted\nMin pui rawh\tHelp me\temergency\tyes\n"
                    "Ka hliam\tI am injured\temergency\tno\nKa bo\tI am lost\n", encoding="utf-8")
    book = Phrasebook.load(path)
    assert [p.vetted for p in book.phrases] == [True, False, False]  # no column: not vetted
    assert book.find("help me", "en") == Match("Min pui rawh", True)
    assert book.find("I am lost", "en") == Match("Ka bo", False)
    path.write_text("Ka bo\tI am lost\t\tmaybe\n", encoding="utf-8")
    with pytest.raises(ValueError, match="book.tsv:1: vetted"):
        Phrasebook.load(path)
    for phrase in book.phrases:  # each column reads as its language to the detector
        assert detector.detect(phrase.lus).lang in ("lus", None) or len(phrase.lus.split()) <= 2
        assert phrase.en.strip() and phrase.lus.strip()


def test_phrasebook_rejects_broken_rows(tmp_path: Path) -> None:
    bad = tmp_path / "book.tsv"
    bad.write_text("# header\nlus\ten\ttags\nonly one column\n", encoding="utf-8")
    with pytest.raises(ValueError, match="book.tsv:3"):
        Phrasebook.load(bad)


# ---------------------------------------------------------------- cache (in process) and views
async def test_memory_cache_lru_and_ttl() -> None:
    now = [0.0]
    cache = MemoryTranslationCache(ttl_secs=10, max_entries=2, clock=lambda: now[0])
    a, b, c = (CacheKey("v1", "lus-en", t) for t in ("a", "b", "c"))
    await cache.put_many([(a, "A"), (b, "B")])
    assert await cache.get_many([a]) == ["A"]  # a is now the most recently used
    await cache.put_many([(c, "C")])
    assert await cache.get_many([a, b, c]) == ["A", None, "C"]
    now[0] = 11.0
    assert await cache.get_many([a, c]) == [None, None]


def test_cache_key_depends_on_version_direction_and_text() -> None:
    base = CacheKey("v1", "lus-en", "Ka  hliam")
    assert digest(base) == digest(CacheKey("v1", "lus-en", "Ka hliam"))
    assert len({digest(base), digest(base._replace(model_version="v2")), digest(base._replace(direction="en-lus")),
                digest(base._replace(text="ka hliam"))}) == 4
    assert cache_text(" a \n b ") == "a b"


def test_translation_view_shape() -> None:
    assert translation_view(None) is None
    view = translation_view({"status": "unavailable", "source_lang": "lus", "lang": "en"})
    assert view is not None and view["status"] == "unavailable" and view["text"] is None
    assert view["correction"] is None and view["unvetted"] is False
    assert translation_view({"status": "done", "text": "Help me", "unvetted": True})["unvetted"] is True  # type: ignore[index]


def test_parse_since() -> None:
    import datetime as dt

    now = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
    assert parse_since("24h", now) == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert parse_since("2024-12-31", now) == dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
    with pytest.raises(Exception, match="--since"):
        parse_since("yesterday-ish", now)


def _pipeline(models: dict[str, str]) -> Pipeline:
    async def never(direction: str, texts: list[str]) -> tuple[str, list[str]]:
        raise AssertionError("settled() must not reach the model")

    return Pipeline(phrasebook=Phrasebook.load(DEFAULT_PHRASEBOOK_PATH), cache=MemoryTranslationCache(),
                    worker=BatchWorker(never), model_version=models.get)  # type: ignore[arg-type]


def test_settled_knows_without_io_or_says_none() -> None:
    """What can go into a message's insert (and its message:new) at once."""
    without_model = _pipeline({})
    phrase = without_model.settled("Where are you?", "en")
    assert phrase is not None and (phrase.status, phrase.text, phrase.engine) == ("done", "Khawiah nge i awm?",
                                                                                  "phrasebook")
    emoji = without_model.settled("👍 https://example.org", "en")
    assert emoji is not None and emoji.status == "same_language"
    unknown = without_model.settled("Naktukah inkhawmna a awm ang.", "lus")
    assert unknown is not None
    assert (unknown.status, unknown.source_lang, unknown.target_lang) == ("unavailable", "lus", "en")
    with_model = _pipeline({"lus-en": "lus-en@1"})
    assert with_model.settled("Naktukah inkhawmna a awm ang.", "lus") is None  # the model decides
    phrase_anyway = with_model.settled("Khawiah nge i awm?", "lus")
    assert phrase_anyway is not None and phrase_anyway.status == "done"
