"""Translation memory: entries from corrections, exact and similar look-up in the pipeline,
officers' review, TSV import/export — against the embedded MongoDB, real Redis and, for the
events, real Socket.IO clients."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from rapidfuzz import fuzz

from hubchat.channels.translations import MessageTranslations
from hubchat.clock import ManualClock
from hubchat.config import Settings
from hubchat.errors import Forbidden, NotFound
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.schema import new_id
from hubchat.translate import INDEXES, TranslationService, add_commands, run_command
from hubchat.translate import memory as memory_module
from hubchat.translate.memory import (
    FUZZY_CANDIDATES,
    MemoryHit,
    TranslationMemory,
    content_tokens,
    escape_cell,
    memory_key,
    unescape_cell,
)
from hubchat.translate.options import TranslateOptions
from tests.conftest import SmtpSink
from tests.support import HubClient, Recorder, running_hub
from tests.test_translate_engine import running_pipeline
from tests.translate_fixtures import *  # noqa: F403 (fixtures)

MEMBER = Principal(user_id=new_id(), role="member", session_id="s1", display_name="Lalremruati", language="lus")
OFFICER = Principal(user_id=new_id(), role="officer", session_id="s2", display_name="Officer Zosangi")


@pytest.fixture
async def infra(settings: Settings) -> AsyncIterator[Infra]:
    infra = Infra(settings)
    async with infra.running([INDEXES]):
        yield infra


# ---------------------------------------------------------------- pure parts
def test_keys_and_tokens() -> None:
    assert memory_key("  Naktukah INKHAWM a awm ang!! ") == "naktukah inkhawm a awm ang"
    assert memory_key("Ṭhian") == memory_key("thian")
    # content words only (no particles or function words), longest first
    assert content_tokens("naktukah thlarau inkhawmpui a awm ang") == ["inkhawmpui", "naktukah", "thlarau"]
    assert content_tokens("there is a meeting tomorrow") == ["meeting"]


@pytest.mark.parametrize("text", ["plain", "tab\there", "two\nlines", "back\\slash\\t literal", "\\n"])
def test_tsv_cells_round_trip(text: str) -> None:
    cell = escape_cell(text)
    assert "\t" not in cell and "\n" not in cell
    assert unescape_cell(cell) == text


# ---------------------------------------------------------------- the store
async def test_exact_entries_rank_approved_then_newest(infra: Infra) -> None:
    memory = TranslationMemory(infra)
    first = await memory.add("lus-en", "Naktukah inkhawm a awm ang", "There is a meeting tomorrow",
                             origin="correction", author_id=MEMBER.user_id)
    again = await memory.add("lus-en", "naktukah inkhawm a awm ang!", "There is a meeting tomorrow.",
                             origin="correction", author_id=MEMBER.user_id)
    assert first is not None and again is not None
    assert again["_id"] == first["_id"] and again["count"] == 2  # the same pair, normalised
    other = await memory.add("lus-en", "Naktukah inkhawm a awm ang", "Tomorrow we meet", origin="correction")
    assert other is not None and other["_id"] != first["_id"]

    hits = await memory.find("lus-en", ["Naktukah inkhawm a awm ang."])
    assert hits["Naktukah inkhawm a awm ang."].text == "Tomorrow we meet"  # the newest
    await memory.approve(first["_id"], OFFICER.user_id)
    hits = await memory.find("lus-en", ["Naktukah inkhawm a awm ang."])
    assert hits["Naktukah inkhawm a awm ang."] == MemoryHit("There is a meeting tomorrow.", True, 100.0,
                                                            first["_id"], True)
    assert await memory.find("en-lus", ["Naktukah inkhawm a awm ang"]) == {}  # per direction
    assert await memory.add("lus-en", "!!", "?", origin="correction") is None  # nothing to key on


async def test_similar_sentences_above_the_threshold_only(infra: Infra) -> None:
    memory = TranslationMemory(infra, fuzzy_threshold=88.0)
    entry = await memory.add("lus-en", "Naktukah zing dar 9-ah inkhawm a awm ang", "Tomorrow at 9 there is a meeting",
                             origin="correction")
    assert entry is not None
    close = "Naktukah zing dar 9-ah inkhawm a awm ang em"
    far = "Naktukah inkhawm a awm lo ang, ka lungngai"
    other_time = "Naktukah zing dar 8-ah inkhawm a awm ang"  # similar, but another number
    hits = await memory.find("lus-en", [close, far, other_time])
    assert set(hits) == {close}
    assert not hits[close].exact and 88.0 <= hits[close].score < 100.0
    assert hits[close].entry_id == entry["_id"]


async def test_similar_look_up_scores_a_bounded_candidate_set(infra: Infra, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries sharing a word with the text are candidates; at most FUZZY_CANDIDATES are scored, so
    a large memory costs one bounded index look-up — the exact match is still found first."""
    memory = TranslationMemory(infra)
    scored = []

    class CountingFuzz:  # rapidfuzz itself, counted
        @staticmethod
        def ratio(a: str, b: str, score_cutoff: float) -> float:
            scored.append(b)
            return float(fuzz.ratio(a, b, score_cutoff=score_cutoff))

    monkeypatch.setattr(memory_module, "fuzz", CountingFuzz)
    entries = [{"_id": new_id(), "direction": "lus-en", "key": f"inkhawmpui {i} thlarau", "target_key": f"t{i}",
                "source_text": f"Inkhawmpui {i} thlarau", "target_text": f"t{i}", "approved": False, "count": 1,
                "updated_at": dt.datetime.now(dt.UTC)} for i in range(FUZZY_CANDIDATES + 50)]
    await infra.store["translation_memory"].insert_many(entries)
    await infra.store["translation_memory_words"].insert_many([
        {"_id": new_id(), "direction": "lus-en", "word": word, "entry_id": entry["_id"], "key": entry["key"]}
        for entry in entries for word in ("inkhawmpui", "thlarau")])
    text = "Inkhawmpui 7 thlarau"
    hits = await memory.find("lus-en", [text, "Inkhawmpui thlarau chu a ṭha"])
    assert hits[text].exact and hits[text].text == "t7"
    assert "Inkhawmpui thlarau chu a ṭha" not in hits
    assert 0 < len(scored) <= FUZZY_CANDIDATES  # of 250 sharing its words


async def test_list_approve_remove_need_an_officer(infra: Infra, empty_translate_options: TranslateOptions) -> None:
    service = TranslationService(infra, messages=MessageTranslations(infra), options=empty_translate_options)
    entries = [await service.memory.add("lus-en", f"Thuchah {i} naktukah", f"Message {i} tomorrow",
                                        origin="correction") for i in range(3)]
    assert all(entries)
    with pytest.raises(Forbidden) as refused:
        await service.list_memory(MEMBER)
    assert refused.value.error_code == "not_officer"
    with pytest.raises(Forbidden):
        await service.approve_memory(MEMBER, entries[0]["_id"])  # type: ignore[index]
    with pytest.raises(Forbidden):
        await service.remove_memory(MEMBER, entries[0]["_id"])  # type: ignore[index]
    page = await service.list_memory(OFFICER, limit=2)
    assert [e["target_text"] for e in page["entries"]] == ["Message 2 tomorrow", "Message 1 tomorrow"]
    rest = await service.list_memory(OFFICER, before=page["entries"][-1]["id"])
    assert [e["target_text"] for e in rest["entries"]] == ["Message 0 tomorrow"]
    approved = await service.approve_memory(OFFICER, rest["entries"][0]["id"])
    assert approved["entry"]["approved"] and approved["entry"]["approved_by"] == OFFICER.user_id
    assert [e["id"] for e in (await service.list_memory(OFFICER, approved=True))["entries"]] == \
        [rest["entries"][0]["id"]]
    words = infra.store["translation_memory_words"]
    assert await words.count_documents({"entry_id": rest["entries"][0]["id"]}) == 2  # thuchah, naktukah
    assert await service.remove_memory(OFFICER, rest["entries"][0]["id"]) == {"removed": True}
    assert await infra.store["translation_memory_words"].count_documents({"entry_id": rest["entries"][0]["id"]}) == 0
    with pytest.raises(NotFound):
        await service.remove_memory(OFFICER, rest["entries"][0]["id"])
    assert len((await service.list_memory(OFFICER))["entries"]) == 2


async def test_import_and_export_round_trip(infra: Infra) -> None:
    memory = TranslationMemory(infra)
    tsv = ("source_lang\ttarget_lang\tsource_text\ttarget_text\tapproved\n"
           "lus\ten\tKa lo kal ang\tI will come\tyes\n"
           "en\tlus\tThe meeting is at 5.\\nBring food.\tInkhawm chu dar 5-ah a ni.\\nChaw keng rawh.\tno\n")
    assert await memory.import_rows(io.StringIO(tsv)) == 2
    out = io.StringIO()
    assert await memory.export(out) == 2
    lines = out.getvalue().splitlines()
    assert lines[0].split("\t")[:5] == ["id", "source_lang", "target_lang", "source_text", "target_text"]
    assert lines[1].split("\t")[1:7] == ["lus", "en", "Ka lo kal ang", "I will come", "import", "yes"]
    assert lines[2].split("\t")[3] == "The meeting is at 5.\\nBring food."
    # the export imports again as the same entries (counted up, not duplicated)
    assert await memory.import_rows(io.StringIO(out.getvalue())) == 2
    assert await infra.store["translation_memory"].count_documents({}) == 2
    # the corrections export works as an import too (corrected_text is the target)
    corrections = ("source_lang\ttarget_lang\tsource_text\tmachine_translation\tcorrected_text\tauthor_id\tat\n"
                   "lus\ten\tKa hliam tak\t\tI am badly hurt\tu1\t2025-01-01T00:00:00Z\n")
    assert await memory.import_rows(io.StringIO(corrections)) == 1
    hits = await memory.find("lus-en", ["ka hliam tak"])
    assert hits["ka hliam tak"].text == "I am badly hurt" and not hits["ka hliam tak"].approved


# ---------------------------------------------------------------- the pipeline
async def test_pipeline_uses_memory_before_the_model(infra: Infra, translate_options: TranslateOptions) -> None:
    memory = TranslationMemory(infra)
    await memory.add("lus-en", "Naktukah inkhawmna a awm ang.", "There is a meeting tomorrow.", origin="correction")
    await memory.add("lus-en", "Kan hotu chu Pu Lalthanga a ni", "Our leader is Mr Lalthanga", origin="correction")
    async with running_pipeline(translate_options) as pipeline:
        pipeline.memory = memory
        exact = await pipeline.translate("naktukah inkhawmna a awm ang", "lus")
        similar = await pipeline.translate("Kan hotu chu Pu Lalthanga a ni e", "lus")
        mixed = await pipeline.translate("Ka hliam! Naktukah inkhawmna a awm ang.", "lus")
        model = await pipeline.translate("Zanin ruah a sur ang.", "lus")
    assert (exact.status, exact.engine, exact.text, exact.similar) == \
        ("done", "memory", "There is a meeting tomorrow.", False)
    assert exact.model_version is not None and exact.model_version.startswith("memory@")
    assert (similar.engine, similar.text, similar.similar) == ("similar", "Our leader is Mr Lalthanga", True)
    assert (mixed.engine, mixed.text, mixed.similar) == ("mixed", "I am injured There is a meeting tomorrow.", False)
    assert (model.engine, model.similar) == ("model", False)


async def test_memory_works_without_a_model_and_keeps_spans(infra: Infra,
                                                            empty_translate_options: TranslateOptions) -> None:
    memory = TranslationMemory(infra)
    await memory.add("lus-en", "Inkhawm hmun chu https://maps.example/a a ni", "The meeting place is https://maps.example/a",
                     origin="correction")
    async with running_pipeline(empty_translate_options) as pipeline:
        pipeline.memory = memory
        found = await pipeline.translate("Inkhawm hmun chu https://maps.example/a a ni", "lus")
        other_link = await pipeline.translate("Inkhawm hmun chu https://maps.example/b a ni", "lus")
    assert (found.status, found.engine, found.text) == ("done", "memory", "The meeting place is https://maps.example/a")
    assert other_link.status == "unavailable"  # similar words, but not the same link: not offered


# ---------------------------------------------------------------- service and the wire
async def test_a_correction_becomes_memory_for_the_next_message(infra: Infra,
                                                                 empty_translate_options: TranslateOptions) -> None:
    async def can_read(principal: Principal, channel_id: str) -> bool:
        return True

    async def emit(event: str, data: Mapping[str, Any], *, to: str | Sequence[str],
                   skip_sid: str | None = None) -> None:
        return None

    service = TranslationService(infra, messages=MessageTranslations(infra), can_read=can_read, emit=emit,
                                 options=empty_translate_options)
    channel_id = new_id()  # a stored translation takes the channel's next version
    await infra.store["channels"].insert_one({"_id": channel_id, "last_seq": 0, "version": 1})
    doc = {"_id": new_id(), "channel_id": channel_id, "seq": 1, "version": 1, "body": "Zanin ruah a sur ang",
           "language": "lus", "deleted": False, "created_at": dt.datetime.now(dt.UTC)}
    await infra.store["messages"].insert_one(doc)
    async with service.running():
        assert (await service.translate_message(doc)).status == "unavailable"
        await service.correct(MEMBER, doc["_id"], "It will rain tonight")
        again = {**doc, "_id": new_id(), "seq": 2}
        await infra.store["messages"].insert_one(again)
        result = await service.translate_message(again)
    assert (result.status, result.engine, result.text) == ("done", "memory", "It will rain tonight")
    stored = await infra.store["messages"].find_one({"_id": again["_id"]})
    assert stored is not None and stored["translation"]["engine"] == "memory"
    [entry] = (await service.list_memory(OFFICER))["entries"]
    assert (entry["origin"], entry["author"], entry["approved"]) == \
        ("correction", {"id": MEMBER.user_id, "display_name": MEMBER.display_name}, False)


async def _user(hub: HubClient, role: str) -> dict[str, Any]:
    accounts = hub.services["accounts"]
    store = accounts.infra.store
    now = dt.datetime.now(dt.UTC)
    user_id, session_id = new_id(), new_id()
    await store["users"].insert_one({
        "_id": user_id, "email": f"{uuid.uuid4().hex[:10]}@cell.example.org", "password_hash": "-",
        "display_name": role.title(), "language": "en", "country": "IN", "city": "Aizawl", "phone": None,
        "role": role, "verified": True, "created_at": now})
    await store["sessions"].insert_one({
        "_id": session_id, "user_id": user_id, "digest": "-", "used_digests": [], "created_at": now,
        "refreshed_at": now, "revoked_at": None, "expires_at": now + dt.timedelta(days=1)})
    return {"id": user_id, "access_token": accounts.signer.access_token(user_id, session_id, role)}


async def test_officers_review_memory_over_socketio(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> None:
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        officer, member = await _user(hub, "officer"), await _user(hub, "member")
        memory: TranslationMemory = hub.services["translate"].memory
        entry = await memory.add("lus-en", "Ka lo kal ang", "I will come", origin="correction")
        assert entry is not None
        sockets = []
        for user in (officer, member):
            rec = Recorder()
            await rec.sio.connect(hub.base_url, auth={"token": user["access_token"]}, transports=["websocket"],
                                  wait_timeout=10)
            hub.sockets.append(rec)
            sockets.append(rec)
        officer_sock, member_sock = sockets
        listed = await officer_sock.call("translate:memory_list", {"direction": "lus-en"})
        assert [e["id"] for e in listed["entries"]] == [entry["_id"]]
        for event, payload in (("translate:memory_list", {}), ("translate:memory_approve", {"entry_id": entry["_id"]}),
                               ("translate:memory_remove", {"entry_id": entry["_id"]})):
            assert (await member_sock.call(event, payload))["error"]["code"] == "not_officer"
        assert (await officer_sock.call("translate:memory_list", {"limit": 500}))["error"]["code"] == "invalid_payload"
        approved = await officer_sock.call("translate:memory_approve", {"entry_id": entry["_id"]})
        assert approved["entry"]["approved"] is True
        assert await officer_sock.call("translate:memory_remove", {"entry_id": entry["_id"]}) == {"removed": True}
        missing = await officer_sock.call("translate:memory_remove", {"entry_id": entry["_id"]})
        assert missing["error"]["code"] == "memory_entry_not_found"


def test_import_and_export_commands(settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def hubchat(*argv: str) -> int:
        parser = argparse.ArgumentParser(prog="hubchat")
        add_commands(parser.add_subparsers(dest="command", required=True))
        return run_command(parser.parse_args(list(argv)), settings, messages_for=MessageTranslations)

    source = tmp_path / "memory.tsv"
    source.write_text("source_lang\ttarget_lang\tsource_text\ttarget_text\n"
                      "lus\ten\tZanin ruah a sur ang\tIt will rain tonight\n"
                      "en\tlus\tIt will rain tonight\tZanin ruah a sur ang\n", encoding="utf-8")
    assert hubchat("translate", "import-memory", str(source)) == 0
    assert "imported 2" in capsys.readouterr().err
    out = tmp_path / "out.tsv"
    assert hubchat("translate", "export-memory", "--out", str(out)) == 0
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3 and {r.split("\t")[1] for r in rows[1:]} == {"lus", "en"}
    assert hubchat("translate", "text", "--lang", "lus", "zanin ruah a sur ang!") == 0
    assert '"engine": "memory"' in capsys.readouterr().out


async def test_a_members_translation_of_the_whole_text_beats_the_phrasebook(
        infra: Infra, empty_translate_options: TranslateOptions) -> None:
    memory = TranslationMemory(infra)
    await memory.add("lus-en", "Ka hliam. Min pui rawh!", "I'm hurt, please help me!", origin="correction")
    async with running_pipeline(empty_translate_options) as pipeline:
        pipeline.memory = memory
        whole = await pipeline.translate("Ka hliam. Min pui rawh!", "lus")
        phrases = await pipeline.translate("Ka hliam. Police ko rawh!", "lus")  # only similar: the phrasebook's
    assert (whole.engine, whole.text) == ("memory", "I'm hurt, please help me!")
    assert (phrases.engine, phrases.text, phrases.similar) == ("phrasebook", "I am injured Call the police", False)


async def test_similar_candidates_are_read_once_per_word_until_a_change_or_their_time_is_up(settings: Settings) -> None:
    """Every chat message with no exact entry asks for its longest words' postings: the node keeps
    them POSTINGS_TTL_SECS, a change on this node is seen at once, and the store is asked again
    once the time is up (a change made on another node)."""
    clock = ManualClock()
    infra = Infra(settings, clock=clock)
    async with infra.running([INDEXES]):
        memory = TranslationMemory(infra, fuzzy_threshold=88.0)
        await memory.add("lus-en", "Naktukah zing dar 9-ah inkhawm a awm ang", "Tomorrow at 9 there is a meeting",
                         origin="correction")
        close = "Naktukah zing dar 9-ah inkhawm a awm ang em"
        assert (await memory.find("lus-en", [close]))[close].text == "Tomorrow at 9 there is a meeting"
        words = infra.store[memory_module.WORDS]
        await words.delete_many({})  # what another node's removal would leave in the store
        assert close in await memory.find("lus-en", [close])  # the node's postings, still fresh
        clock.advance(memory_module.POSTINGS_TTL_SECS)
        assert await memory.find("lus-en", [close]) == {}  # read again: gone
        other = await memory.add("lus-en", "Naktukah zing dar 10-ah inkhawm a awm ang", "Tomorrow at 10 …",
                                 origin="correction")
        assert other is not None
        near_other = "Naktukah zing dar 10-ah inkhawm a awm ang em"
        assert (await memory.find("lus-en", [near_other]))[near_other].entry_id == other["_id"]  # at once
