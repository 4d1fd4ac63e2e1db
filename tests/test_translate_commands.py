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

from hubchat.config import Settings
from hubchat.schema import new_id
from hubchat.store import Store, make_client
from hubchat.translate import add_commands, packages, run_command
from tests.translate_fixtures import *  # noqa: F403 (fixtures)


def hubchat(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="hubchat")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return run_command(parser.parse_args(list(argv)), settings)


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

    async def insert(store: Store) -> None:
        await store["messages"].insert_one({
            "_id": message_id, "channel_id": new_id(), "seq": 1, "version": 1, "body": "Ka kal thei lo ang",
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
