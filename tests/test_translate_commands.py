"""``hubchat translate …`` commands run as the CLI runs them (their own event loop, their own
Infra), against the test MongoDB and Redis."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from hubchat.channels.translations import MessageTranslations
from hubchat.config import Settings
from hubchat.schema import new_id
from hubchat.store import Store, make_client
from hubchat.translate import add_commands, packages, run_command
from tests.translate_fixtures import *  # noqa: F403 (fixtures)


def hubchat(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="hubchat")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return run_command(parser.parse_args(list(argv)), settings, messages_for=MessageTranslations)


async def with_store(settings: Settings, work: Any) -> Any:
    client = make_client(settings.mongo_uri)
    try:
        return await work(Store(client, settings.mongo_db))
    finally:
        await client.close()


def test_text_backfill_and_export(settings: Settings, argos_package_lus_en: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert hubchat(settings, "translate", "text", "--lang", "lus", "Ka hliam!") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["status"], result["engine"], result["text"]) == ("done", "phrasebook", "I am injured")

    message_id = new_id()

    channel_id = new_id()

    async def insert(store: Store) -> None:
        await store["channels"].insert_one({"_id": channel_id, "last_seq": 1, "version": 1})
        await store["messages"].insert_one({
            "_id": message_id, "channel_id": channel_id, "seq": 1, "version": 1, "body": "Ka kal thei lo ang",
            "language": "lus", "deleted": False, "created_at": dt.datetime.now(dt.UTC)})
        await store["translation_corrections"].insert_one({
            "_id": new_id(), "message_id": message_id, "channel_id": new_id(), "source_lang": "lus",
            "target_lang": "en", "source_text": "Ka kal thei lo ang", "machine_text": None,
            "corrected_text": "I cannot come", "model_version": None, "author_id": "u1", "author_name": "U",
            "at": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)})

    asyncio.run(with_store(settings, insert))
    assert hubchat(settings, "translate", "backfill", "--since", "1h") == 0
    assert "translated 0 messages" in capsys.readouterr().out  # no model yet: still unavailable

    packages.install(argos_package_lus_en, Path(settings.data_dir) / "argos-packages")
    assert hubchat(settings, "translate", "backfill", "--since", "1h") == 0
    assert "translated 1 messages" in capsys.readouterr().out

    async def read(store: Store) -> dict[str, Any]:
        doc = await store["messages"].find_one({"_id": message_id})
        assert doc is not None
        return dict(doc["translation"])

    stored = asyncio.run(with_store(settings, read))
    assert (stored["status"], stored["engine"]) == ("done", "model")

    out = tmp_path / "corpus.tsv"
    assert hubchat(settings, "translate", "export-corrections", "--out", str(out)) == 0
    assert out.read_text(encoding="utf-8").splitlines()[1] == \
        "lus\ten\tKa kal thei lo ang\t\tI cannot come\tu1\t2025-01-02T03:04:05.000Z"


def test_backfilled_translation_reaches_sync(settings: Settings, argos_package_lus_en: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A translation stored by ``hubchat translate backfill`` takes a new channel version, so a
    client that was offline gets it from ``sync`` (its ``last_version`` is the one before)."""
    from hubchat import auth, channels, directory
    from hubchat.channels.models import SyncPoint
    from hubchat.infra import Infra
    from hubchat.principal import Principal

    alice, bob, channel_id, message_id = new_id(), new_id(), new_id(), new_id()

    async def insert(store: Store) -> None:  # a direct channel with one message, as chat stores them
        await store["channels"].insert_one({
            "_id": channel_id, "key": f"dm:{alice}:{bob}", "kind": "dm", "name": None, "association_id": None,
            "association_ids": [], "member_ids": sorted((alice, bob)), "created_by": alice,
            "last_seq": 1, "version": 1, "created_at": dt.datetime.now(dt.UTC)})
        await store["messages"].insert_one({
            "_id": message_id, "channel_id": channel_id, "seq": 1, "version": 1, "client_msg_id": new_id(),
            "sender_id": alice, "sender_name": "Alice", "body": "Ka kal thei lo ang", "body_digest": None,
            "language": "lus", "created_at": dt.datetime.now(dt.UTC), "edited_at": None, "deleted": False,
            "deleted_at": None})

    asyncio.run(with_store(settings, insert))
    packages.install(argos_package_lus_en, Path(settings.data_dir) / "argos-packages")
    assert hubchat(settings, "translate", "backfill", "--since", "1h") == 0
    assert "translated 1 messages" in capsys.readouterr().out

    async def sync_as_bob() -> dict[str, Any]:
        infra = Infra(settings)
        accounts = auth.AccountService(infra)
        chat = channels.ChannelService(infra, accounts, directory.DirectoryService(infra, accounts))
        async with infra.running([channels.INDEXES]):
            principal = Principal(user_id=bob, role="member", session_id="s", display_name="Bob")
            answer: dict[str, Any] = await chat.messages.sync(
                principal, [SyncPoint(channel_id=channel_id, last_seq=1, last_version=1)])
            return answer

    [answer] = asyncio.run(sync_as_bob())["channels"]
    assert answer["version"] == 2
    [update] = answer["updates"]
    assert (update["id"], update["version"]) == (message_id, 2)
    assert (update["translation"]["status"], update["translation"]["engine"]) == ("done", "model")
