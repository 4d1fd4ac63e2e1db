"""The whole path through Socket.IO, against the app as wired by ``hubchat.app.build_app``:
a member sends in Mizo → the other member receives the original (``message:new``) and then
the translation (``message:translated``); a correction reaches the sender.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hubchat.channels.translations import MessageTranslations
from hubchat.config import Settings
from hubchat.schema import new_id
from hubchat.translate import add_commands, packages, run_command
from tests.conftest import SmtpSink
from tests.support import HubClient, Recorder, running_hub
from tests.translate_fixtures import *  # noqa: F403 (fixtures)


class OrderedRecorder(Recorder):
    """A Recorder that also keeps the order in which events of any name arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []

        @self.sio.on("*")  # type: ignore[misc,untyped-decorator,unused-ignore]
        async def catch_all(event: str, data: Any = None) -> None:
            self.order.append(event)
            self.events[event].append(data)
            self._changed.set()


@contextlib.asynccontextmanager
async def hub_with_model(settings: Settings, smtp: SmtpSink, aiohttp_server: Any,
                         package: Path | None) -> AsyncIterator[HubClient]:
    if package is not None:
        packages.install(package, packages_dir(settings))
    async with running_hub(settings, smtp, aiohttp_server) as client:
        yield client


def packages_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "argos-packages"  # the default when translate_packages_dir is empty


async def quick_user(hub: HubClient, name: str, language: str) -> dict[str, Any]:
    """A verified officer (officers may message each other directly), written to the store."""
    accounts = hub.services["accounts"]
    store = accounts.infra.store
    now = dt.datetime.now(dt.UTC)
    user_id, session_id = new_id(), new_id()
    await store["users"].insert_one({
        "_id": user_id, "email": f"{uuid.uuid4().hex[:10]}@cell.example.org", "password_hash": "-",
        "display_name": name, "language": language, "country": "IN", "city": "Aizawl", "phone": None,
        "role": "officer", "verified": True, "created_at": now})
    await store["sessions"].insert_one({
        "_id": session_id, "user_id": user_id, "digest": "-", "used_digests": [], "created_at": now,
        "refreshed_at": now, "revoked_at": None, "expires_at": now + dt.timedelta(days=1)})
    return {"id": user_id, "access_token": accounts.signer.access_token(user_id, session_id, "officer")}


async def connect(hub: HubClient, token: str) -> OrderedRecorder:
    rec = OrderedRecorder()
    await rec.sio.connect(hub.base_url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    hub.sockets.append(rec)
    return rec


async def test_send_in_mizo_receive_original_then_translation(settings: Settings, smtp: SmtpSink,
                                                              aiohttp_server: Any,
                                                              argos_package_lus_en: Path) -> None:
    async with hub_with_model(settings, smtp, aiohttp_server, argos_package_lus_en) as hub:
        mizo = await quick_user(hub, "Lalremruata", "lus")
        english = await quick_user(hub, "Sarah", "en")
        sender, reader = await connect(hub, mizo["access_token"]), await connect(hub, english["access_token"])
        opened = await sender.call("dm:open", {"user_id": english["id"]})
        channel_id = opened["channel"]["id"]
        await reader.wait_for("channel:added")

        body = "Naktukah inkhawmna a awm ang. Ka hliam! https://maps.example/x"
        ack = await sender.call("message:send", {"channel_id": channel_id, "client_msg_id": uuid.uuid4().hex,
                                                 "body": body})
        message = ack["message"]
        assert message["body"] == body and message["language"] == "lus"
        assert "translation" not in message or message["translation"] is None  # the ack never waits

        [new] = await reader.wait_for("message:new")
        [translated] = await reader.wait_for("message:translated", timeout=15)
        assert reader.order.index("message:new") < reader.order.index("message:translated")
        assert new["body"] == body
        assert (translated["channel_id"], translated["message_id"], translated["seq"]) == \
            (channel_id, message["id"], message["seq"])
        translation = translated["translation"]
        assert (translation["status"], translation["source_lang"], translation["lang"]) == ("done", "lus", "en")
        assert translation["engine"] == "mixed" and translation["model_version"].startswith("lus-en@")
        assert "I am injured" in translation["text"]  # the phrasebook sentence (the model part is gibberish)
        assert translation["text"].count("https://maps.example/x") == 1
        await sender.wait_for("message:translated")  # the sender's other devices see it too

        corrected = await reader.call("message:correct_translation", {
            "message_id": message["id"], "text": "There is a meeting tomorrow. I am hurt, help me!"})
        assert corrected["translation"]["correction"]["author"]["id"] == english["id"]
        [shown] = await sender.wait_for("message:translation_corrected")
        assert shown["translation"]["correction"]["text"] == "There is a meeting tomorrow. I am hurt, help me!"

        refused = await reader.call("message:correct_translation", {"message_id": new_id(), "text": "x"})
        assert refused["error"]["code"] == "message_not_found"


async def test_no_model_then_cli_backfill_reaches_connected_clients(settings: Settings, smtp: SmtpSink,
                                                                    aiohttp_server: Any,
                                                                    argos_package_lus_en: Path) -> None:
    """Without a model the channel learns ``unavailable``; after ``hubchat models install`` and
    ``hubchat translate backfill`` (another process: its own loop and Infra, emitting through
    Redis) the connected reader receives the translation."""
    async with hub_with_model(settings, smtp, aiohttp_server, None) as hub:
        mizo = await quick_user(hub, "Lalremruata", "lus")
        english = await quick_user(hub, "Sarah", "en")
        sender, reader = await connect(hub, mizo["access_token"]), await connect(hub, english["access_token"])
        channel_id = (await sender.call("dm:open", {"user_id": english["id"]}))["channel"]["id"]
        await reader.wait_for("channel:added")
        ack = await sender.call("message:send", {"channel_id": channel_id, "client_msg_id": uuid.uuid4().hex,
                                                 "body": "Naktukah inkhawmna a awm ang."})
        # Known at once (no model for lus-en): stored with the message and carried in message:new,
        # in the ack too; no second fan-out.
        assert ack["message"]["translation"]["status"] == "unavailable"
        [first] = await reader.wait_for("message:new")
        assert first["translation"]["status"] == "unavailable" and first["translation"]["text"] is None
        assert first["translation"]["source_lang"] == "lus" and first["translation"]["lang"] == "en"

        def hubchat(*argv: str) -> int:
            parser = argparse.ArgumentParser(prog="hubchat")
            add_commands(parser.add_subparsers(dest="command", required=True))
            return run_command(parser.parse_args(list(argv)), settings, messages_for=MessageTranslations)

        assert await asyncio.to_thread(hubchat, "models", "install", str(argos_package_lus_en)) == 0
        assert await asyncio.to_thread(hubchat, "translate", "backfill", "--since", "1h") == 0
        [second] = await reader.wait_for("message:translated")
        assert reader.events["message:translated"] == [second]  # the only one: none for "unavailable"
        assert second["message_id"] == ack["message"]["id"]
        assert (second["translation"]["status"], second["translation"]["engine"]) == ("done", "model")
