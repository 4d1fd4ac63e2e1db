"""TranslationService against the embedded MongoDB and real Redis: storage, events, corrections,
export and backfill."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from hubchat import channels
from hubchat.channels.translations import MessageTranslations
from hubchat.config import Settings
from hubchat.errors import Conflict, NotFound
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.schema import new_id
from hubchat.translate import INDEXES, Priority, TranslationService, packages
from hubchat.translate.options import TranslateOptions
from tests.translate_fixtures import *  # noqa: F403 (fixtures)

MEMBER = Principal(user_id=new_id(), role="member", session_id="s1", display_name="Lalremruati", language="lus")
OUTSIDER = Principal(user_id=new_id(), role="member", session_id="s2", display_name="Someone")


class Events:
    """Records what the service emits, as (event, payload, room)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any], str]] = []
        self.changed = asyncio.Event()

    async def __call__(self, event: str, data: Mapping[str, Any], *, to: str | Sequence[str],
                       skip_sid: str | None = None) -> None:
        assert isinstance(to, str)
        self.items.append((event, dict(data), to))
        self.changed.set()

    async def wait(self, event: str, count: int = 1, timeout: float = 10.0) -> list[tuple[dict[str, Any], str]]:
        async def poll() -> list[tuple[dict[str, Any], str]]:
            while len(self.named(event)) < count:
                self.changed.clear()
                await self.changed.wait()
            return self.named(event)
        return await asyncio.wait_for(poll(), timeout)

    def named(self, event: str) -> list[tuple[dict[str, Any], str]]:
        return [(data, room) for name, data, room in self.items if name == event]


async def can_read(principal: Principal, channel_id: str) -> bool:
    return principal.user_id == MEMBER.user_id


@pytest.fixture
async def infra(settings: Settings) -> AsyncIterator[Infra]:
    infra = Infra(settings)
    async with infra.running([INDEXES, channels.INDEXES]):
        yield infra


def service_for(infra: Infra, options: TranslateOptions, events: Events) -> TranslationService:
    return TranslationService(infra, messages=MessageTranslations(infra), can_read=can_read, emit=events,
                              options=options)


async def insert_message(infra: Infra, body: str, language: str = "lus", **fields: Any) -> dict[str, Any]:
    """A stored message, in a channel of its own (a stored translation takes its next version)."""
    channel_id = fields.pop("channel_id", new_id())
    await infra.store["channels"].update_one({"_id": channel_id}, {"$setOnInsert": {"last_seq": 0, "version": 1}},
                                             upsert=True)
    doc = {"_id": new_id(), "channel_id": channel_id, "seq": fields.pop("seq", 1),
           "version": 1, "client_msg_id": new_id(), "sender_id": MEMBER.user_id, "sender_name": "Lal",
           "body": body, "body_digest": None, "language": language,
           "created_at": dt.datetime.now(dt.UTC), "edited_at": None, "deleted": False,
           "deleted_at": None, **fields}
    await infra.store["messages"].insert_one(doc)
    return doc


async def stored_translation(infra: Infra, message_id: str) -> dict[str, Any]:
    doc = await infra.store["messages"].find_one({"_id": message_id})
    assert doc is not None
    return dict(doc.get("translation") or {})


# ---------------------------------------------------------------- store and event
async def test_message_translation_is_stored_and_announced(infra: Infra, translate_options: TranslateOptions) -> None:
    events = Events()
    service = service_for(infra, translate_options, events)
    message = await insert_message(infra, "Naktukah inkhawmna a awm ang. Ka hliam.", seq=7)
    async with service.running():
        await service.submit_message(message)  # returns at once; the work runs in the background
        [(payload, room)] = await events.wait("message:translated")
    stored = await stored_translation(infra, message["_id"])
    assert room == f"chan:{message['channel_id']}"
    assert (payload["channel_id"], payload["message_id"], payload["seq"]) == (message["channel_id"], message["_id"], 7)
    translation = payload["translation"]
    assert (translation["status"], translation["source_lang"], translation["lang"]) == ("done", "lus", "en")
    assert translation["engine"] == "mixed"  # second sentence from the phrasebook, first from the model
    assert translation["text"] == stored["text"] and translation["text"].endswith("I am injured")
    assert translation["model_version"].startswith("lus-en@0.1.0+")
    assert translation["ms"] > 0 and translation["at"].endswith("Z")
    assert stored["for_version"] == 1 and stored["model_version"] == translation["model_version"]
    assert translation["unvetted"] is True and stored["unvetted"] is True  # "Ka hliam" is not reviewed yet


async def test_view_of_a_client_message_is_accepted(infra: Infra, translate_options: TranslateOptions) -> None:
    """The channels capability hands its listeners the client view (``id``, not ``_id``)."""
    events = Events()
    service = service_for(infra, translate_options, events)
    message = await insert_message(infra, "Help me", language="en")
    view = {"id": message["_id"], "channel_id": message["channel_id"], "seq": 1, "version": 1,
            "body": "Help me", "language": "en", "deleted": False}
    async with service.running():
        await service.submit_message(view)
        [(payload, _)] = await events.wait("message:translated")
    assert payload["translation"]["text"] == "Min pui rawh"
    assert payload["translation"]["engine"] == "phrasebook"


async def test_a_message_edited_meanwhile_is_not_overwritten(infra: Infra,
                                                             translate_options: TranslateOptions) -> None:
    events = Events()
    service = service_for(infra, translate_options, events)
    message = await insert_message(infra, "Ka kal dawn e")
    await infra.store["messages"].update_one({"_id": message["_id"]}, {"$set": {"version": 2, "body": "Edited"}})
    async with service.running():
        result = await service.translate_message(message)
    assert result.status == "done"
    assert await stored_translation(infra, message["_id"]) == {}
    assert events.items == []


async def test_shutdown_finishes_queued_translations(infra: Infra, translate_options: TranslateOptions) -> None:
    events = Events()
    service = service_for(infra, translate_options, events)
    messages = [await insert_message(infra, f"Thu thar {i} a awm e", seq=i) for i in range(1, 6)]
    async with service.running():
        for message in messages:
            await service.submit_message(message)
    statuses = [(await stored_translation(infra, m["_id"])).get("status") for m in messages]
    assert statuses == ["done"] * 5
    assert len(events.named("message:translated")) == 5


async def test_sos_note_translation(infra: Infra, translate_options: TranslateOptions) -> None:
    service = service_for(infra, translate_options, Events())
    async with service.running():
        result = await service.translate_text("Ka hliam. Min pui rawh!", "lus", Priority.SOS)
    assert (result.status, result.engine, result.text) == ("done", "phrasebook", "I am injured Help me")


# ---------------------------------------------------------------- corrections and export
async def test_correction_is_stored_shown_and_exported(infra: Infra, translate_options: TranslateOptions) -> None:
    events = Events()
    service = service_for(infra, translate_options, events)
    message = await insert_message(infra, "Naktukah inkhawmna a awm ang.")
    async with service.running():
        await service.translate_message(message)
        machine = (await stored_translation(infra, message["_id"]))["text"]
        answer = await service.correct(MEMBER, message["_id"], "  There is a meeting\ttomorrow.\nCome! ")
        [(payload, room)] = await events.wait("message:translation_corrected")
        with pytest.raises(NotFound):
            await service.correct(OUTSIDER, message["_id"], "spam")
        with pytest.raises(NotFound):
            await service.correct(MEMBER, new_id(), "no such message")
        out = io.StringIO()
        count = await service.export_corrections(out)
    view = answer["translation"]
    assert view is not None and view["correction"] is not None
    correction = view["correction"]
    assert correction["text"] == "There is a meeting\ttomorrow.\nCome!"
    assert correction["author"] == {"id": MEMBER.user_id, "display_name": MEMBER.display_name}
    assert payload["translation"]["correction"] == correction and room == f"chan:{message['channel_id']}"
    assert payload["translation"]["text"] == machine  # the machine translation stays beside it
    stored = await stored_translation(infra, message["_id"])
    assert stored["correction"]["author_id"] == MEMBER.user_id
    assert await infra.store["translation_corrections"].count_documents({"message_id": message["_id"]}) == 1
    assert count == 1
    header, row, end = out.getvalue().split("\n")
    assert header.split("\t") == ["source_lang", "target_lang", "source_text", "machine_translation",
                                  "corrected_text", "author_id", "at"]
    cells = row.split("\t")
    assert cells[:5] == ["lus", "en", "Naktukah inkhawmna a awm ang.", machine,
                         "There is a meeting\\ttomorrow.\\nCome!"]
    assert cells[5] == MEMBER.user_id and cells[6].endswith("Z") and end == ""


async def test_correction_without_machine_translation(infra: Infra,
                                                      empty_translate_options: TranslateOptions) -> None:
    """A human translation of an untranslatable message is kept too (it grows the corpus)."""
    service = service_for(infra, empty_translate_options, Events())
    message = await insert_message(infra, "Naktukah inkhawmna a awm ang.")
    deleted = await insert_message(infra, "Thu hlui")
    await infra.store["messages"].update_one({"_id": deleted["_id"]}, {"$set": {"deleted": True, "body": None}})
    async with service.running():
        answer = await service.correct(MEMBER, message["_id"], "There is a meeting tomorrow.")
        with pytest.raises(Conflict):
            await service.correct(MEMBER, deleted["_id"], "Old news")
        out = io.StringIO()
        await service.export_corrections(out)
    assert answer["translation"]["status"] == "unavailable"  # type: ignore[index]
    assert out.getvalue().split("\n")[1].split("\t")[3] == ""


# ---------------------------------------------------------------- missing model and backfill
async def test_missing_model_then_backfill(infra: Infra, empty_translate_options: TranslateOptions,
                                           argos_package_lus_en: Path) -> None:
    events = Events()
    old = await insert_message(infra, "Thu hlui tak a ni", created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    messages = [await insert_message(infra, f"Naktukah inkhawmna {i} a awm ang.", seq=i) for i in range(1, 4)]
    never_queued = await insert_message(infra, "Ka lo kal thei lo ang", seq=4)
    service = service_for(infra, empty_translate_options, events)
    async with service.running():
        for message in messages:
            await service.submit_message(message)
        await events.wait("message:translated", count=3)
    for message in messages:
        assert (await stored_translation(infra, message["_id"]))["status"] == "unavailable"
    assert all(data["translation"]["status"] == "unavailable" for data, _ in events.named("message:translated"))

    packages.install(argos_package_lus_en, empty_translate_options.packages_path)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    backfiller = service_for(infra, dataclasses.replace(empty_translate_options), events)
    async with backfiller.running():
        assert await backfiller.backfill(since) == 4
        assert await backfiller.backfill(since) == 0  # nothing left to do
    for message in [*messages, never_queued]:
        stored = await stored_translation(infra, message["_id"])
        assert (stored["status"], stored["engine"]) == ("done", "model")
    assert await stored_translation(infra, old["_id"]) == {}  # before --since
    assert len(events.named("message:translated")) == 3 + 4
