"""Realtime's one way out: an emit reaches every socket in the rooms named, once, and a failed
emit is logged and dropped, never raised to the capability that called it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hubchat.config import Settings
from hubchat.realtime import user_room
from tests.conftest import SmtpSink
from tests.support import running_hub


async def test_an_emit_to_several_rooms_reaches_each_socket_once(hub: Any) -> None:
    alice, bob = await hub.user("Alice"), await hub.user("Bob")
    on_alice, on_bob = await hub.connect(alice["access_token"]), await hub.connect(bob["access_token"])
    realtime = hub.services["accounts"].infra.realtime
    await realtime.emit("probe", {"n": 1}, to=[user_room(alice["id"]), user_room(bob["id"]), user_room(alice["id"])])
    await realtime.emit("probe", {"n": 2}, to=[])  # nobody: nothing is sent
    await realtime.emit("probe", {"n": 3}, to=user_room(bob["id"]))
    assert await on_alice.wait_for("probe") == [{"n": 1}]
    assert await on_bob.wait_for("probe", count=2) == [{"n": 1}, {"n": 3}]


async def test_a_failed_emit_is_logged_and_never_raised(settings: Settings, smtp: SmtpSink, aiohttp_server: Any,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    # In process (no Redis) the payload is encoded in the emit itself, so a bad one fails there.
    async with running_hub(settings.replace(redis_url=""), smtp, aiohttp_server) as hub:
        member = await hub.user("Member")
        socket = await hub.connect(member["access_token"])
        realtime = hub.services["accounts"].infra.realtime
        with caplog.at_level(logging.ERROR, logger="hubchat.realtime"):
            await realtime.emit("probe", {"ids": {1, 2}}, to=user_room(member["id"]))  # a set is not JSON
        assert "emit failed" in caplog.text
        await realtime.emit("probe", {"ids": [1, 2]}, to=user_room(member["id"]))
        assert await socket.wait_for("probe") == [{"ids": [1, 2]}]
