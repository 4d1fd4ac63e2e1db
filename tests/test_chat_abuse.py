"""Chat against a hostile client: sync amplification, out-of-range integers and deep nesting,
unlimited writes.  Real hubchat on TCP, Redis, the embedded store, python-socketio clients and
raw websocket frames."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubchat.channels import limits as limits_module
from hubchat.channels import messages as messages_module
from hubchat.channels.limits import CHAT_WRITE_LIMITS, WriteLimit
from hubchat.config import Settings
from hubchat.schema import new_id
from tests.conftest import SmtpSink
from tests.raw_socket import RawSocket
from tests.test_chat_support import Chat, running_hub, send


@pytest.fixture
async def chat(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> AsyncIterator[Chat]:
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        yield Chat(hub)


def error_code(ack: Any) -> str:
    assert isinstance(ack, dict) and "error" in ack, ack
    return str(ack["error"]["code"])


# ---------------------------------------------------------------- sync amplification
async def test_sync_answers_a_channel_once_and_caps_the_whole_answer(chat: Chat,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(messages_module, "SYNC_MAX_MESSAGES", 4)
    monkeypatch.setattr(messages_module, "SYNC_MAX_ITEMS", 4)
    alice = await chat.user("Alice")
    first = await chat.channel(await chat.association(alice))
    second = await chat.channel(await chat.association(alice))
    rec = await chat.connect(alice)
    for i in range(5):
        await send(rec, first, f"first {i}")
    for i in range(3):
        await send(rec, second, f"second {i}")

    # the attack: one channel listed 199 times, then another
    points = [{"channel_id": first, "last_seq": 0}] * 199 + [{"channel_id": second, "last_seq": 0}]
    answer = await rec.call("sync", {"channels": points})
    assert [c["channel_id"] for c in answer["channels"]] == [first]  # once; the budget of 4 is spent
    assert [m["seq"] for m in answer["channels"][0]["messages"]] == [1, 2, 3, 4]
    assert answer["channels"][0]["has_more"] is True and answer["has_more"] is True

    # the client continues: the rest of the first channel, then the channel left out
    answer = await rec.call("sync", {"channels": [{"channel_id": first, "last_seq": 4},
                                                  {"channel_id": second, "last_seq": 0, "last_version": 0}]})
    one, two = answer["channels"]
    assert [m["seq"] for m in one["messages"]] == [5] and one["has_more"] is False
    assert [m["seq"] for m in two["messages"]] == [1, 2, 3] and two["has_more"] is False
    assert two["updates"] == [] and two["has_more_updates"] is False
    assert answer["has_more"] is False


# ---------------------------------------------------------------- integers and nesting
async def test_integers_out_of_range_are_refused_not_500(chat: Chat) -> None:
    alice = await chat.user("Alice")
    channel_id = await chat.channel(await chat.association(alice))
    rec = await chat.connect(alice)
    huge = 2 ** 63
    for payload in ({"channels": [{"channel_id": channel_id, "last_seq": huge}]},
                    {"channels": [{"channel_id": channel_id, "last_seq": 0, "last_version": huge * 4}]}):
        assert error_code(await rec.call("sync", payload)) == "invalid_payload"
    for query in ({"after_seq": huge}, {"before_seq": huge}):
        assert error_code(await rec.call("message:history", {"channel_id": channel_id, **query})) == \
            "invalid_payload"
    assert error_code(await rec.call("receipt:read", {"channel_id": channel_id, "seq": huge})) == "invalid_payload"
    status, body = await chat.hub.request("GET", f"/api/channels/{channel_id}/messages?after_seq={huge}",
                                          token=alice["access_token"])
    assert status == 400 and body["error"]["code"] == "invalid_payload", body
    # the largest accepted value still works
    ok = await rec.call("sync", {"channels": [{"channel_id": channel_id, "last_seq": 2 ** 53 - 1}]})
    assert ok["channels"][0]["messages"] == []


async def test_deeply_nested_json_is_refused_not_500(chat: Chat) -> None:
    alice = await chat.user("Alice")
    deep = "[" * 30_000 + "]" * 30_000
    status, body = await chat.hub.request("POST", "/api/auth/login", data=deep,
                                          headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "invalid_payload", body
    deep_object = '{"a":' * 9_000 + "1" + "}" * 9_000
    status, body = await chat.hub.request("PATCH", "/api/me", token=alice["access_token"], data=deep_object,
                                          headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "invalid_payload", body

    # the same over Socket.IO: the frame is dropped, the socket and the server carry on
    sock, reply = await RawSocket.open(chat.hub.http, chat.hub.base_url, {"token": alice["access_token"]})
    try:
        assert "sid" in reply
        await sock.send('421["channel:list",' + deep + "]")
        listed = await sock.call("channel:list")
        assert "channels" in listed[0], listed
    finally:
        await sock.close()
    rec = await chat.connect(alice)
    assert "channels" in await rec.call("channel:list")


# ---------------------------------------------------------------- every chat write is limited
async def test_every_chat_write_is_limited_per_user_across_nodes(
        settings: Settings, smtp: SmtpSink, aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits_module, "CHAT_WRITE_LIMITS",
                        {event: WriteLimit(2, 600, limit.what) for event, limit in CHAT_WRITE_LIMITS.items()})
    async with running_hub(settings, smtp, aiohttp_server) as hub_a, \
            running_hub(settings, smtp, aiohttp_server) as hub_b:
        chat = Chat(hub_a)
        alice = await chat.user("Alice")
        association_id = await chat.association(alice)
        channel_id = await chat.channel(association_id)
        on_a, on_b = await hub_a.connect(alice["access_token"]), await hub_b.connect(alice["access_token"])
        sent = [(await send(on_a, channel_id, f"message {i}"))["message"] for i in range(3)]
        other = new_id()

        calls: list[tuple[str, Any]] = [
            ("message:edit", {"message_id": sent[0]["id"], "body": "edited"}),
            ("receipt:read", {"channel_id": channel_id, "seq": 1}),
            ("typing:start", {"channel_id": channel_id}),
            ("dm:open", {"user_id": other}),
            ("channel:create", {"kind": "inter", "name": "Joint committee", "association_id": association_id}),
            ("channel:invite", {"channel_id": other, "association_id": other}),
            ("channel:accept", {"channel_id": other, "association_id": other}),
        ]
        for event, payload in calls:
            await on_a.call(event, payload)
            await on_b.call(event, payload)
            third = await on_a.call(event, payload if event != "message:edit" else {**payload, "body": "third"})
            assert error_code(third) == "rate_limited", (event, third)
            assert third["error"]["retry_after_secs"] > 0
        for i in range(2):
            assert "message" in await (on_a, on_b)[i].call("message:delete", {"message_id": sent[i]["id"]})
        assert error_code(await on_a.call("message:delete", {"message_id": sent[2]["id"]})) == "rate_limited"

        # refused writes changed nothing
        stored = await chat.store["messages"].find_one({"_id": sent[2]["id"]})
        assert stored["deleted"] is False and stored["body"] == "message 2"
        assert await chat.store["channels"].count_documents({"kind": "inter", "association_id": association_id}) == 2
