"""A store outage is answered the same way by every capability: ``unavailable`` (HTTP 503 with
the JSON error, the same error in a socket ack, a refused connection with that code), never a
500 — driver errors are mapped once, at the edges (``http_api.py``, ``realtime.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import socketio

from hubchat.config import Settings
from hubchat.embedded_mongo import EmbeddedMongo
from tests.conftest import SmtpSink
from tests.support import DEFAULT_PASSWORD, Recorder, running_hub


async def refused_connect(base_url: str, token: str) -> Any:
    """The connect_error data of a socket that could not connect."""
    rec = Recorder()
    try:
        await rec.sio.connect(base_url, auth={"token": token}, transports=["websocket"], wait_timeout=15)
    except socketio.exceptions.ConnectionError:
        return rec.connect_error
    finally:
        await rec.disconnect()
    raise AssertionError("the socket connected while the store was down")


async def test_requests_during_a_store_outage_answer_unavailable(settings: Settings, smtp: SmtpSink,
                                                                 aiohttp_server: Any, tmp_path: Path) -> None:
    store = EmbeddedMongo(tmp_path / "store")
    await store.start()
    try:
        async with running_hub(settings.replace(mongo_uri=store.uri), smtp, aiohttp_server) as hub:
            member = await hub.user("Member")
            token = member["access_token"]
            socket = await hub.connect(token)
            assert "channels" in await socket.call("channel:list")

            await store.stop()
            try:
                *answers, acks, connect_error = await asyncio.gather(
                    hub.request("POST", "/api/auth/login", json={"email": member["email"],
                                                                 "password": DEFAULT_PASSWORD}),
                    hub.request("GET", "/api/me", token=token),
                    hub.request("GET", "/api/associations?country=IN", token=token),
                    hub.request("GET", "/api/me/associations", token=token),
                    hub.request("GET", "/api/sos/mine", token=token),
                    asyncio.gather(socket.call("channel:list", timeout=15), socket.call("sos:mine", timeout=15)),
                    refused_connect(hub.base_url, token),
                )
            finally:
                store = EmbeddedMongo(tmp_path / "store", port=store.port)
                await store.start()

            for status, body in answers:
                assert status == 503, body
                assert body["error"]["code"] == "unavailable" and body["error"]["temporary"] is True
            for ack in acks:
                assert ack["error"]["code"] == "unavailable" and ack["error"]["temporary"] is True
            assert connect_error["data"]["code"] == "unavailable"

            # The store is back: the same requests are answered again.
            status, body = await hub.request("GET", "/api/me", token=token)
            assert status == 200 and body["user"]["id"] == member["id"]
            assert "alert" in await socket.call("sos:mine")
    finally:
        await store.stop()
