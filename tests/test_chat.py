"""Chat over the wire: real hubchat on TCP, real Redis, the embedded MongoDB-wire server and
python-socketio clients.  Associations are made through the directory's HTTP routes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubchat.config import Settings
from hubchat.schema import new_id
from tests.conftest import SmtpSink
from tests.support import HubClient
from tests.test_chat_support import Chat, client_id, running_hub, send, settles_without, stays_quiet

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
async def chat(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> AsyncIterator[Chat]:
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        yield Chat(hub)


async def association_with(chat: Chat, *, founder: tuple[dict[str, Any]],
                           members: tuple[dict[str, Any], ...] = ()) -> tuple[str, str]:
    """(association_id, association channel id) for a founding office bearer and plain members."""
    association_id = await chat.association(founder[0], members=members)
    return association_id, await chat.channel(association_id)


def error_code(ack: Any) -> str:
    assert isinstance(ack, dict) and "error" in ack, ack
    return str(ack["error"]["code"])


# ---------------------------------------------------------------- send and fan-out
async def test_send_acks_stored_message_and_reaches_every_member_socket_only(chat: Chat) -> None:
    alice, bob, carol = await chat.user("Alice"), await chat.user("Bob"), await chat.user("Carol")
    _, channel_id = await association_with(chat, founder=(alice,), members=(bob,))
    alice_tab = await chat.connect(alice)
    bob_tab1, bob_tab2 = await chat.connect(bob), await chat.connect(bob)
    outsider = await chat.connect(carol)

    ack = await send(alice_tab, channel_id, "  Chibai!  ", "client-msg-0001")

    message = ack["message"]
    assert message["seq"] == 1 and message["body"] == "Chibai!" and message["channel_id"] == channel_id
    assert message["sender"] == {"id": alice["id"], "display_name": "Alice"}
    assert message["client_msg_id"] == "client-msg-0001" and message["language"] == "lus"
    assert ISO_UTC.match(message["created_at"]) and message["edited_at"] is None and message["deleted"] is False
    assert message["version"] >= 1
    for rec in (bob_tab1, bob_tab2, alice_tab):
        (delivered,) = await rec.wait_for("message:new")
        assert delivered == message
    assert await settles_without(chat, outsider, "message:new")
    (histogram,) = chat.service.infra.metrics.delivery_latency.collect()
    assert any(s.name.endswith("_count") and s.value >= 1 for s in histogram.samples)


async def test_concurrent_sends_take_unique_contiguous_seqs(chat: Chat) -> None:
    alice, bob, dora = await chat.user("Alice"), await chat.user("Bob"), await chat.user("Dora")
    _, channel_id = await association_with(chat, founder=(alice,), members=(bob, dora))
    sockets = [await chat.connect(person) for person in (alice, bob, dora)]

    acks = await asyncio.gather(*(send(rec, channel_id, f"message {i}") for rec in sockets for i in range(10)))

    seqs = sorted(ack["message"]["seq"] for ack in acks)
    assert seqs == list(range(1, 31))
    assert len({ack["message"]["version"] for ack in acks}) == 30
    assert await chat.count_messages(channel_id=channel_id) == 30
    history = await sockets[0].call("message:history", {"channel_id": channel_id, "limit": 100})
    assert [m["seq"] for m in history["messages"]] == list(range(1, 31))


async def test_retry_returns_the_stored_message_and_reuse_conflicts(chat: Chat) -> None:
    alice = await chat.user("Alice")
    _, channel_id = await association_with(chat, founder=(alice,))
    rec = await chat.connect(alice)

    first = await send(rec, channel_id, "hello", "retry-id-0001")
    again = await send(rec, channel_id, "hello", "retry-id-0001")
    racing = await asyncio.gather(*(send(rec, channel_id, "at once", "retry-id-0002") for _ in range(3)))
    reused = await send(rec, channel_id, "something else", "retry-id-0001")

    # The same stored message (it may have gained a translation, and with it a newer version).
    same = ("id", "seq", "body", "client_msg_id", "created_at")
    assert {k: again["message"][k] for k in same} == {k: first["message"][k] for k in same}
    assert len({ack["message"]["id"] for ack in racing}) == 1
    assert error_code(reused) == "client_msg_id_reused"
    assert await chat.count_messages(channel_id=channel_id, client_msg_id="retry-id-0001") == 1
    assert await chat.count_messages(channel_id=channel_id) == 2


# ---------------------------------------------------------------- history and sync
async def test_history_pages_backwards_and_forwards(chat: Chat) -> None:
    alice = await chat.user("Alice")
    _, channel_id = await association_with(chat, founder=(alice,))
    rec = await chat.connect(alice)
    for i in range(1, 8):
        await send(rec, channel_id, f"m{i}")

    async def page(**query: Any) -> tuple[list[int], bool]:
        answer = await rec.call("message:history", {"channel_id": channel_id, **query})
        return [m["seq"] for m in answer["messages"]], answer["has_more"]

    assert await page() == ([1, 2, 3, 4, 5, 6, 7], False)
    assert await page(limit=3) == ([5, 6, 7], True)
    assert await page(before_seq=5, limit=3) == ([2, 3, 4], True)
    assert await page(before_seq=2, limit=3) == ([1], False)
    assert await page(after_seq=0, limit=3) == ([1, 2, 3], True)
    assert await page(after_seq=5, limit=5) == ([6, 7], False)
    assert error_code(await rec.call("message:history", {"channel_id": channel_id, "before_seq": 3,
                                                         "after_seq": 1})) == "invalid_payload"
    assert error_code(await rec.call("message:history", {"channel_id": channel_id, "limit": 101})) \
        == "invalid_payload"


async def test_sync_after_reconnect_returns_exactly_what_was_missed(chat: Chat) -> None:
    alice, bob = await chat.user("Alice"), await chat.user("Bob")
    _, channel_id = await association_with(chat, founder=(alice,), members=(bob,))
    alice_rec, bob_rec = await chat.connect(alice), await chat.connect(bob)
    first = (await send(alice_rec, channel_id, "before the tunnel"))["message"]
    await bob_rec.wait_for("message:new")
    last_seq, last_version = first["seq"], first["version"]

    await bob_rec.disconnect()
    missed = [(await send(alice_rec, channel_id, f"missed {i}"))["message"] for i in range(3)]
    edited = (await alice_rec.call("message:edit", {"message_id": first["id"], "body": "before the tunnel (ed.)"}))
    bob_rec = await chat.connect(bob)
    answer = await bob_rec.call("sync", {"channels": [
        {"channel_id": channel_id, "last_seq": last_seq, "last_version": last_version},
        {"channel_id": new_id(), "last_seq": 0},
    ]})

    mine, unknown = answer["channels"]
    assert [m["id"] for m in mine["messages"]] == [m["id"] for m in missed]
    assert mine["has_more"] is False
    # The edit as acknowledged (its translation, written afterwards, is not compared here).
    assert [{k: v for k, v in m.items() if k != "translation"} for m in mine["updates"]] == \
        [{k: v for k, v in edited["message"].items() if k != "translation"}]
    assert mine["last_seq"] == missed[-1]["seq"] and mine["version"] == edited["message"]["version"]
    assert unknown["error"]["code"] == "not_member"
    again = await bob_rec.call("sync", {"channels": [
        {"channel_id": channel_id, "last_seq": mine["last_seq"], "last_version": mine["version"]}]})
    assert again["channels"][0]["messages"] == [] and again["channels"][0]["updates"] == []


async def test_readers_wait_for_a_seq_still_being_inserted_but_not_forever(chat: Chat) -> None:
    alice = await chat.user("Alice")
    _, channel_id = await association_with(chat, founder=(alice,))
    rec = await chat.connect(alice)
    await send(rec, channel_id, "one")
    in_flight, _ = await chat.service.channel_repo.take_seq(channel_id)  # seq 2: taken, not yet stored
    await send(rec, channel_id, "three")

    async def land_late() -> None:
        await asyncio.sleep(0.1)
        stored = await chat.store["messages"].find_one({"channel_id": channel_id, "seq": 3})
        await chat.store["messages"].insert_one({**stored, "_id": new_id(), "seq": in_flight,
                                                 "client_msg_id": client_id(), "body": "two"})

    lander = asyncio.create_task(land_late())
    waited = await rec.call("sync", {"channels": [{"channel_id": channel_id, "last_seq": 1}]})
    await lander
    assert [m["body"] for m in waited["channels"][0]["messages"]] == ["two", "three"]

    await chat.service.channel_repo.take_seq(channel_id)  # seq 4: its sender died; a permanent hole
    await send(rec, channel_id, "five")
    started = asyncio.get_running_loop().time()
    page = await rec.call("message:history", {"channel_id": channel_id, "after_seq": 3})
    assert [m["seq"] for m in page["messages"]] == [5]
    assert 0.2 <= asyncio.get_running_loop().time() - started < 2


# ---------------------------------------------------------------- receipts, typing, presence
async def test_read_receipts_are_monotonic_and_drive_unread(chat: Chat) -> None:
    alice, bob = await chat.user("Alice"), await chat.user("Bob")
    _, channel_id = await association_with(chat, founder=(alice,), members=(bob,))
    alice_rec, bob_rec = await chat.connect(alice), await chat.connect(bob)
    for i in range(4):
        await send(alice_rec, channel_id, f"m{i}")

    ack = await bob_rec.call("receipt:read", {"channel_id": channel_id, "seq": 2})
    (event,) = await alice_rec.wait_for("receipt:updated", where=lambda e: e["user_id"] == bob["id"])
    lower = await bob_rec.call("receipt:read", {"channel_id": channel_id, "seq": 1})
    beyond = await bob_rec.call("receipt:read", {"channel_id": channel_id, "seq": 99})

    assert ack == {"receipt": {"channel_id": channel_id, "user_id": bob["id"], "seq": 2}}
    assert event == ack["receipt"]
    assert lower["receipt"]["seq"] == 2
    assert beyond["receipt"]["seq"] == 4  # capped at the channel's last seq
    await bob_rec.call("receipt:read", {"channel_id": channel_id, "seq": 3})  # no-op: already at 4
    listed = {c["id"]: c for c in (await alice_rec.call("channel:list"))["channels"]}
    assert listed[channel_id]["last_seq"] == 4 and listed[channel_id]["unread"] == 0  # own messages are read
    _, body = await chat.hub.request("GET", "/api/channels", bob["access_token"])
    bob_view = next(c for c in body["channels"] if c["id"] == channel_id)
    assert (bob_view["read_seq"], bob_view["unread"]) == (4, 0)
    assert len(await alice_rec.wait_for("receipt:updated", where=lambda e: e["user_id"] == bob["id"])) == 2


async def test_typing_reaches_others_not_the_sender_and_is_throttled(chat: Chat) -> None:
    alice, bob = await chat.user("Alice"), await chat.user("Bob")
    _, channel_id = await association_with(chat, founder=(alice,), members=(bob,))
    alice_rec, bob_rec = await chat.connect(alice), await chat.connect(bob)

    first = await alice_rec.call("typing:start", {"channel_id": channel_id})
    second = await alice_rec.call("typing:start", {"channel_id": channel_id})

    assert first == {"ok": True} and second == {"throttled": True}
    (event,) = await bob_rec.wait_for("typing")
    assert event == {"channel_id": channel_id, "user_id": alice["id"], "display_name": "Alice"}
    assert await settles_without(chat, alice_rec, "typing")
    assert len(bob_rec.events["typing"]) == 1
    assert await chat.store["typing"].count_documents({}) == 0


async def test_presence_follows_the_first_and_last_tab(chat: Chat) -> None:
    alice, bob, carol = await chat.user("Alice"), await chat.user("Bob"), await chat.user("Carol")
    await association_with(chat, founder=(alice,), members=(bob,))
    bob_rec = await chat.connect(bob)

    def about_alice(online: bool) -> Any:
        return lambda e: e == {"user_id": alice["id"], "online": online}

    tab1 = await chat.connect(alice)
    await bob_rec.wait_for("presence:updated", where=about_alice(True))
    tab2 = await chat.connect(alice)
    await tab1.disconnect()
    assert await stays_quiet(bob_rec, "presence:updated")
    asked = await bob_rec.call("presence:get", {"user_ids": [alice["id"], carol["id"], bob["id"]]})
    assert asked == {"presence": {alice["id"]: True}}  # carol shares no channel; one's self is no peer

    await tab2.disconnect()
    await bob_rec.wait_for("presence:updated", where=about_alice(False))
    assert len(bob_rec.events["presence:updated"]) == 2
    assert (await bob_rec.call("presence:get", {"user_ids": [alice["id"]]})) == {"presence": {alice["id"]: False}}


# ---------------------------------------------------------------- edit and delete
async def test_edit_and_delete_only_own_messages_leaving_a_tombstone(chat: Chat) -> None:
    alice, bob, carol = await chat.user("Alice"), await chat.user("Bob"), await chat.user("Carol")
    _, channel_id = await association_with(chat, founder=(alice,), members=(bob,))
    alice_rec, bob_rec, carol_rec = await chat.connect(alice), await chat.connect(bob), await chat.connect(carol)
    original = (await send(alice_rec, channel_id, "typo here"))["message"]
    message_id = original["id"]

    assert error_code(await bob_rec.call("message:edit", {"message_id": message_id, "body": "hijack"})) \
        == "not_own_message"
    assert error_code(await carol_rec.call("message:delete", {"message_id": message_id})) == "message_not_found"
    assert error_code(await bob_rec.call("message:delete", {"message_id": new_id()})) == "message_not_found"
    edited = (await alice_rec.call("message:edit", {"message_id": message_id, "body": "no typo"}))["message"]
    deleted = (await alice_rec.call("message:delete", {"message_id": message_id}))["message"]

    assert edited["body"] == "no typo" and ISO_UTC.match(edited["edited_at"]) and edited["seq"] == original["seq"]
    assert original["version"] < edited["version"] < deleted["version"]
    assert deleted["deleted"] is True and deleted["body"] is None
    updates = await bob_rec.wait_for("message:updated", count=2)
    assert updates == [edited, deleted]
    assert error_code(await alice_rec.call("message:edit", {"message_id": message_id, "body": "again"})) \
        == "message_deleted"
    stored = await chat.store["messages"].find_one({"_id": message_id})
    assert stored["body"] is None and stored["deleted"] is True and stored["deleted_at"] is not None
    history = await bob_rec.call("message:history", {"channel_id": channel_id})
    assert history["messages"] == [deleted]


# ---------------------------------------------------------------- who belongs where
async def test_association_and_cell_membership(chat: Chat) -> None:
    alice, bob, carol = await chat.user("Alice"), await chat.user("Bob"), await chat.user("Carol")
    officer = await chat.officer("Officer")
    association_id, channel_id = await association_with(chat, founder=(alice,), members=(bob,))
    cell_id = await chat.channel(association_id, "cell")
    alice_rec, bob_rec, carol_rec = await chat.connect(alice), await chat.connect(bob), await chat.connect(carol)
    officer_rec = await chat.connect(officer)

    assert "message" in await send(bob_rec, channel_id, "member speaks")
    assert error_code(await send(carol_rec, channel_id, "stranger speaks")) == "not_member"
    assert error_code(await send(officer_rec, channel_id, "officer in association")) == "not_member"
    cell_message = (await send(officer_rec, cell_id, "cell speaks"))["message"]
    assert "message" in await send(alice_rec, cell_id, "bearer answers")
    assert error_code(await send(bob_rec, cell_id, "member in cell")) == "not_member"
    assert (await alice_rec.wait_for("message:new", where=lambda m: m["id"] == cell_message["id"]))
    assert await settles_without(chat, bob_rec, "message:new") and all(
        m["channel_id"] == channel_id for m in bob_rec.events["message:new"])
    members = await alice_rec.call("channel:members", {"channel_id": cell_id})
    assert {alice["id"], officer["id"]} <= {m["id"] for m in members["members"]}
    assert bob["id"] not in {m["id"] for m in members["members"]}
    assert {c["kind"] for c in (await officer_rec.call("channel:list"))["channels"]} == {"cell"}
    assert error_code(await carol_rec.call("channel:members", {"channel_id": channel_id})) == "not_member"


async def test_membership_changes_move_sockets_live(chat: Chat) -> None:
    alice, bob = await chat.user("Alice"), await chat.user("Bob")
    association_id, channel_id = await association_with(chat, founder=(alice,))
    cell_id = await chat.channel(association_id, "cell")
    alice_rec, bob_rec = await chat.connect(alice), await chat.connect(bob)

    await chat.join(association_id, bob, alice)
    (added,) = await bob_rec.wait_for("channel:added")
    assert added["channel"]["id"] == channel_id
    await send(alice_rec, channel_id, "welcome Bob")
    await bob_rec.wait_for("message:new")

    await chat.set_role(association_id, bob, alice, "office_bearer")
    await bob_rec.wait_for("channel:added", count=2)
    assert "message" in await send(bob_rec, cell_id, "hello cell")

    await chat.remove(association_id, bob, alice)
    removed = await bob_rec.wait_for("channel:removed", count=2)
    assert {e["channel_id"] for e in removed} == {channel_id, cell_id}
    await send(alice_rec, channel_id, "after Bob left")
    assert await settles_without(chat, bob_rec, "message:new")
    assert [m["body"] for m in bob_rec.events["message:new"] if m["channel_id"] == channel_id] == ["welcome Bob"]
    assert error_code(await send(bob_rec, channel_id, "still here?")) == "not_member"


async def test_inter_channel_between_office_bearers_of_accepted_associations(chat: Chat) -> None:
    alice, bob = await chat.user("Alice"), await chat.user("Bob")  # association A: bearer, member
    zara, yuri = await chat.user("Zara"), await chat.user("Yuri")  # association B: bearer, member
    officer = await chat.officer()
    assoc_a, _ = await association_with(chat, founder=(alice,), members=(bob,))
    assoc_b, _ = await association_with(chat, founder=(zara,), members=(yuri,))
    pending = await chat.association(await chat.user("Pending"), approve=False)
    recs = {name: await chat.connect(person) for name, person in
            (("alice", alice), ("bob", bob), ("zara", zara), ("yuri", yuri), ("officer", officer))}

    refused = await recs["bob"].call("channel:create", {"kind": "inter", "name": "Europe", "association_id": assoc_a})
    assert error_code(refused) == "not_office_bearer"
    channel = (await recs["alice"].call("channel:create",
                                        {"kind": "inter", "name": "Europe", "association_id": assoc_a}))["channel"]
    invite = {"channel_id": channel["id"], "association_id": assoc_b}
    assert error_code(await recs["zara"].call("channel:accept", invite)) == "invitation_not_found"
    assert error_code(await recs["alice"].call("channel:invite", {
        "channel_id": channel["id"], "association_id": pending})) == "association_not_approved"
    invited = await recs["alice"].call("channel:invite", invite)
    assert invited["channel"]["invited_association_ids"] == [assoc_b]
    (invitation,) = await recs["zara"].wait_for("channel:invited")
    assert invitation["association_id"] == assoc_b and invitation["channel"]["id"] == channel["id"]
    assert error_code(await send(recs["zara"], channel["id"], "too early")) == "not_member"
    assert error_code(await recs["yuri"].call("channel:accept", invite)) == "not_office_bearer"

    accepted = (await recs["zara"].call("channel:accept", invite))["channel"]
    assert sorted(accepted["association_ids"]) == sorted([assoc_a, assoc_b])
    message = (await send(recs["zara"], channel["id"], "hello from B"))["message"]
    await recs["alice"].wait_for("message:new", where=lambda m: m["id"] == message["id"])
    for outsider in ("bob", "yuri", "officer"):
        assert error_code(await send(recs[outsider], channel["id"], "me too?")) == "not_member"
    members = await recs["alice"].call("channel:members", {"channel_id": channel["id"]})
    assert sorted(m["id"] for m in members["members"]) == sorted([alice["id"], zara["id"]])


async def test_direct_message_rules(chat: Chat) -> None:
    alice, bob, carol = await chat.user("Alice"), await chat.user("Bob"), await chat.user("Carol")
    officer = await chat.officer()
    await association_with(chat, founder=(alice,), members=(bob,))
    bob_rec, officer_rec = await chat.connect(bob), await chat.connect(officer)
    alice_rec, carol_rec = await chat.connect(alice), await chat.connect(carol)

    assert error_code(await bob_rec.call("dm:open", {"user_id": carol["id"]})) == "dm_not_allowed"
    assert error_code(await bob_rec.call("dm:open", {"user_id": bob["id"]})) == "dm_self"
    assert error_code(await bob_rec.call("dm:open", {"user_id": new_id()})) == "dm_not_allowed"
    to_officer = (await bob_rec.call("dm:open", {"user_id": officer["id"]}))["channel"]
    to_bearer = (await bob_rec.call("dm:open", {"user_id": alice["id"]}))["channel"]
    again = (await alice_rec.call("dm:open", {"user_id": bob["id"]}))["channel"]
    officer_to_stranger = (await officer_rec.call("dm:open", {"user_id": carol["id"]}))["channel"]

    assert to_officer["kind"] == "dm" and to_officer["members"][0]["id"] == officer["id"]
    assert again["id"] == to_bearer["id"] and again["members"][0]["id"] == bob["id"]
    (added,) = await officer_rec.wait_for("channel:added", where=lambda e: e["channel"]["id"] == to_officer["id"])
    assert added["channel"]["members"][0]["id"] == bob["id"]
    message = (await send(bob_rec, to_officer["id"], "I need help"))["message"]
    await officer_rec.wait_for("message:new", where=lambda m: m["id"] == message["id"])
    assert error_code(await send(alice_rec, to_officer["id"], "peek")) == "not_member"
    assert "message" in await send(carol_rec, officer_to_stranger["id"], "thank you")
    assert await chat.store["channels"].count_documents({"kind": "dm"}) == 3


# ---------------------------------------------------------------- HTTP
async def test_rest_channel_list_and_history(chat: Chat) -> None:
    alice, carol = await chat.user("Alice"), await chat.user("Carol")
    _, channel_id = await association_with(chat, founder=(alice,))
    rec = await chat.connect(alice)
    for i in range(5):
        await send(rec, channel_id, f"m{i}")
    token = alice["access_token"]

    status, listed = await chat.hub.request("GET", "/api/channels", token)
    assert status == 200 and {c["kind"] for c in listed["channels"]} == {"association", "cell"}
    status, page = await chat.hub.request("GET", f"/api/channels/{channel_id}/messages?before_seq=5&limit=2", token)
    assert status == 200 and [m["seq"] for m in page["messages"]] == [3, 4] and page["has_more"] is True
    status, page = await chat.hub.request("GET", f"/api/channels/{channel_id}/messages?after_seq=3", token)
    assert [m["seq"] for m in page["messages"]] == [4, 5] and page["has_more"] is False

    assert (await chat.hub.request("GET", "/api/channels"))[0] == 401
    assert (await chat.hub.request("GET", f"/api/channels/{channel_id}/messages"))[0] == 401
    status, body = await chat.hub.request("GET", f"/api/channels/{channel_id}/messages", carol["access_token"])
    assert (status, body["error"]["code"]) == (403, "not_member")
    status, body = await chat.hub.request("GET", "/api/channels/nope/messages", token)
    assert (status, body["error"]["code"]) == (404, "invalid_id")
    for bad in ("limit=0", "limit=abc", "before_seq=1&after_seq=1", "extra=1", "before_seq=-1"):
        status, body = await chat.hub.request("GET", f"/api/channels/{channel_id}/messages?{bad}", token)
        assert (status, body["error"]["code"]) == (400, "invalid_payload"), bad


# ---------------------------------------------------------------- bad input
async def test_bad_inputs_are_refused_with_a_code_and_store_nothing(chat: Chat) -> None:
    alice, carol = await chat.user("Alice"), await chat.user("Carol")
    _, channel_id = await association_with(chat, founder=(alice,))
    _, other_channel = await association_with(chat, founder=(carol,))
    rec = await chat.connect(alice)
    good = {"channel_id": channel_id, "client_msg_id": client_id(), "body": "fine"}

    cases: list[tuple[Any, str]] = [
        ({**good, "sender_id": alice["id"]}, "invalid_payload"),       # unknown field
        ({**good, "body": 42}, "invalid_payload"),                     # wrong type
        ({**good, "channel_id": {"$gt": ""}}, "invalid_payload"),      # operator injection
        ({**good, "body": {"$gt": ""}}, "invalid_payload"),
        ({**good, "body": "x" * 4001}, "invalid_payload"),             # too long
        ({**good, "body": "   "}, "invalid_payload"),                  # empty after trimming
        ({**good, "body": "bell\x07"}, "invalid_payload"),             # control character
        ({**good, "channel_id": "0123"}, "invalid_payload"),           # malformed id
        ({**good, "client_msg_id": "bad id!"}, "invalid_payload"),
        ({**good, "channel_id": other_channel}, "not_member"),          # someone else's channel
        ({**good, "channel_id": new_id()}, "not_member"),               # unknown channel (same answer)
        ([good], "invalid_payload"),                                   # a list, not an object
        ("fine", "invalid_payload"),
    ]
    for payload, code in cases:
        assert error_code(await rec.call("message:send", payload)) == code, payload
    assert error_code(await rec.call("channel:list", {"x": 1})) == "invalid_payload"
    assert error_code(await rec.call("receipt:read", {"channel_id": channel_id, "seq": "1"})) == "invalid_payload"
    assert error_code(await rec.call("presence:get", {"user_ids": [new_id()] * 101})) == "invalid_payload"
    assert await chat.count_messages() == 0
    assert "message" in await rec.call("message:send", good)  # the connection is still usable


async def test_oversized_socket_payload_closes_the_connection(chat: Chat) -> None:
    alice = await chat.user("Alice")
    _, channel_id = await association_with(chat, founder=(alice,))
    rec = await chat.connect(alice)

    await rec.sio.emit("message:send", {"channel_id": channel_id, "client_msg_id": client_id(),
                                        "body": "x" * (70 * 1024)})

    async def closed() -> None:
        while rec.sio.connected:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(closed(), 5)
    assert await chat.count_messages() == 0


# ---------------------------------------------------------------- with tighter settings
@pytest.fixture
async def tight_hub(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> AsyncIterator[HubClient]:
    """hubchat with a low message rate limit and a short presence TTL."""
    tight = settings.replace(message_rate_limit=3, message_rate_window_secs=30, presence_ttl_secs=1)
    async with running_hub(tight, smtp, aiohttp_server) as hub:
        yield hub


async def test_send_rate_limit_per_user(tight_hub: HubClient) -> None:
    chat = Chat(tight_hub)
    alice, bob = await chat.user("Alice"), await chat.user("Bob")
    _, channel_id = await association_with(chat, founder=(alice,), members=(bob,))
    alice_tab1, alice_tab2, bob_rec = await chat.connect(alice), await chat.connect(alice), await chat.connect(bob)

    acks = [await send(rec, channel_id, "hi") for rec in (alice_tab1, alice_tab2, alice_tab1)]
    limited = await send(alice_tab2, channel_id, "one too many")
    retried = await send(alice_tab1, channel_id, "hi", acks[0]["message"]["client_msg_id"])

    assert all("message" in ack for ack in acks)
    assert error_code(limited) == "rate_limited" and 0 < limited["error"]["retry_after_secs"] <= 30
    assert retried["message"]["id"] == acks[0]["message"]["id"]  # a retry of a stored message is not counted
    assert "message" in await send(bob_rec, channel_id, "bob is not limited")
    assert await chat.count_messages(sender_id=alice["id"]) == 3


async def test_heartbeat_sweeps_a_dead_node_and_announces_offline(tight_hub: HubClient) -> None:
    chat = Chat(tight_hub)
    alice, bob = await chat.user("Alice"), await chat.user("Bob")
    await association_with(chat, founder=(alice,), members=(bob,))
    bob_rec = await chat.connect(bob)
    presence = chat.service.infra.presence

    # Alice's only connection lives on a node that dies (it stops refreshing).
    assert await presence.connect(alice["id"], "dead-node:sid1")
    await chat.service.presence.announce(alice["id"], True)
    await bob_rec.wait_for("presence:updated", where=lambda e: e["online"])

    (gone,) = await bob_rec.wait_for("presence:updated", where=lambda e: not e["online"], timeout=5)
    assert gone == {"user_id": alice["id"], "online": False}
    # Bob's own connection, on the live node, is kept alive by the heartbeat past the TTL.
    assert (await presence.online([bob["id"]])) == {bob["id"]: True}


async def test_translation_corrected_while_offline_arrives_through_sync(chat: Chat) -> None:
    alice, bob = await chat.user("Alice"), await chat.user("Bob")
    _, channel_id = await association_with(chat, founder=(alice,), members=(bob,))
    alice_rec, bob_rec = await chat.connect(alice), await chat.connect(bob)
    sent = (await send(alice_rec, channel_id, "see you at the hall"))["message"]
    (seen,) = await bob_rec.wait_for("message:new")
    await bob_rec.disconnect()

    corrected = await alice_rec.call("message:correct_translation",
                                     {"message_id": sent["id"], "text": "Hall-ah kan inhmu ang"})
    assert corrected["translation"]["correction"]["text"] == "Hall-ah kan inhmu ang"

    bob_rec = await chat.connect(bob)
    answer = await bob_rec.call("sync", {"channels": [
        {"channel_id": channel_id, "last_seq": seen["seq"], "last_version": seen["version"]}]})
    (mine,) = answer["channels"]
    assert mine["messages"] == []
    (update,) = [m for m in mine["updates"] if m["id"] == sent["id"]]
    assert update["translation"]["correction"]["text"] == "Hall-ah kan inhmu ang"
    assert update["version"] > seen["version"]
