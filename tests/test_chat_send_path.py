"""The cheap send (issue #9, part 3): at most two store round trips before the ack, authorisation
from the node's access cache that is exactly as fresh as the store (two nodes in this process,
sharing the real Redis and the embedded store), idempotency from the unique index."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pymongo import monitoring

from hubchat.channels.access_cache import TTL_SECS
from hubchat.channels.models import SendMessage
from hubchat.clock import ManualClock
from hubchat.config import Settings
from hubchat.principal import Principal
from hubchat.schema import new_id
from tests.conftest import SmtpSink
from tests.support import HubClient, settled
from tests.test_chat_support import Chat, client_id, running_hub, send


class Commands(monitoring.CommandListener):
    """Observes the commands the store clients created after it was registered send (while on)."""

    def __init__(self) -> None:
        self.on = False
        self.seen: list[tuple[str, str]] = []
        self.raw: list[tuple[str, str, Any]] = []  # (command, collection, its filter)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.on:
            name, collection = event.command_name, str(event.command.get(event.command_name))
            self.seen.append((name, collection))
            self.raw.append((name, collection, event.command.get("filter", event.command.get("query"))))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[str, str]]]:
        self.seen, self.raw = [], []
        self.on = True
        try:
            yield self.seen
        finally:
            self.on = False


# What a send could touch (other collections belong to background pollers: mail outbox, SOS).
CHAT_COLLECTIONS = {"channels", "messages", "receipts", "memberships", "users", "sessions", "associations",
                    "translation_memory", "translation_memory_words"}
COMMANDS = Commands()
monitoring.register(COMMANDS)  # before any client of these tests is created


@pytest.fixture
async def two_hubs(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> AsyncIterator[tuple[Chat, Chat]]:
    """Two hubchat nodes (their own Infra, caches and sockets) over one Redis and one store."""
    async with running_hub(settings, smtp, aiohttp_server) as a, running_hub(settings, smtp, aiohttp_server) as b:
        yield Chat(a), Chat(b)


async def quiet(hub: HubClient) -> None:
    """The work after earlier acks (fan-out, receipts, translation) has finished."""
    await settled(hub)
    await hub.services["translate"]._background.drain()


def error_code(ack: Any) -> str:
    assert isinstance(ack, dict) and "error" in ack, ack
    return str(ack["error"]["code"])


async def test_a_send_makes_at_most_two_store_round_trips_before_its_ack(settings: Settings, smtp: SmtpSink,
                                                                         aiohttp_server: Any) -> None:
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        chat = Chat(hub)
        alice, bob = await chat.user("Alice"), await chat.user("Bob")
        association_id = await chat.association(alice, members=(bob,))
        channel_id = await chat.channel(association_id)
        principal = Principal(user_id=bob["id"], role="member", session_id="-", display_name="Bob", language="lus")
        messages = chat.service.messages
        await messages.send(principal, SendMessage(channel_id=channel_id, client_msg_id=client_id(), body="warm"))
        await quiet(hub)

        body = SendMessage(channel_id=channel_id, client_msg_id=client_id(), body="Chibai")
        with COMMANDS.recording() as before_ack:
            # The fan-out and the own read receipt are spawned at the end of send and run only
            # once it has returned (the ack): what is recorded here is the ack path alone.
            view = await messages.send(principal, body)
        send_path = [c for c in before_ack if c[1] in CHAT_COLLECTIONS]  # not the mail outbox's poller
        assert send_path == [("findAndModify", "channels"), ("insert", "messages")], before_ack
        assert view["seq"] == 2
        await quiet(hub)

        with COMMANDS.recording() as retry:  # a retry of a stored message: found by the unique index
            again = await messages.send(principal, body)
        assert again["id"] == view["id"] and again["seq"] == 2
        assert [name for name, coll in retry if coll in CHAT_COLLECTIONS] == ["findAndModify", "insert", "find",
                                                                             "update"]  # the hole recorded
        await quiet(hub)
        channel = await chat.store["channels"].find_one({"_id": channel_id})
        assert channel["holes"] == [3] and channel["last_seq"] == 3
        rec = await chat.connect(bob)
        page = await rec.call("message:history", {"channel_id": channel_id, "after_seq": 1})
        assert [m["seq"] for m in page["messages"]] == [2]  # answered without waiting for seq 3
        receipt = await chat.store["receipts"].find_one({"_id": f"{channel_id}:{bob['id']}"})
        assert receipt["seq"] == 2  # the sender's own read receipt, stored after the ack


async def test_an_outsider_neither_sends_nor_burns_a_seq(two_hubs: tuple[Chat, Chat]) -> None:
    a, _ = two_hubs
    alice, mallory = await a.user("Alice"), await a.user("Mallory")
    channel_id = await a.channel(await a.association(alice))
    outsider = await a.connect(mallory)
    for _ in range(3):
        assert error_code(await send(outsider, channel_id, "let me in")) == "not_member"
    assert error_code(await send(outsider, new_id(), "probe")) == "not_member"
    channel = await a.store["channels"].find_one({"_id": channel_id})
    assert channel["last_seq"] == 0 and "holes" not in channel
    assert await a.count_messages(channel_id=channel_id) == 0


async def test_a_removed_member_cannot_send_once_the_removal_is_acknowledged_on_another_node(
        two_hubs: tuple[Chat, Chat]) -> None:
    a, b = two_hubs
    alice, bob = await a.user("Alice"), await a.user("Bob")
    association_id = await a.association(alice, members=(bob,))
    channel_id = await a.channel(association_id)
    cell_id = await a.channel(association_id, "cell")
    bob_on_b = await b.connect(bob)
    cache = b.service.access.cache

    assert "message" in await send(bob_on_b, channel_id, "one")
    hits = cache.hits
    assert "message" in await send(bob_on_b, channel_id, "two")
    assert cache.hits > hits  # node b authorised from its cache

    # Promoted on node a: node b sees the new role at once (the cell channel)...
    await a.set_role(association_id, bob, alice, "office_bearer")
    assert "message" in await send(bob_on_b, cell_id, "hello cell")
    # ...and demoted, then removed, on node a: not one more message through node b.
    await a.set_role(association_id, bob, alice, "member")
    assert error_code(await send(bob_on_b, cell_id, "still a bearer?")) == "not_member"
    await a.remove(association_id, bob, alice)
    assert error_code(await send(bob_on_b, channel_id, "still here?")) == "not_member"
    assert await a.count_messages(channel_id=channel_id, sender_id=bob["id"]) == 2


async def test_the_cache_never_outlives_its_ttl(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> None:
    """A membership removed without any event (as a restore after a refused change is written)
    is seen after an entry's TTL at the latest."""
    clock = ManualClock()
    async with running_hub(settings, smtp, aiohttp_server, clock) as hub:
        chat = Chat(hub)
        alice, bob = await chat.user("Alice"), await chat.user("Bob")
        association_id = await chat.association(alice, members=(bob,))
        channel_id = await chat.channel(association_id)
        rec = await chat.connect(bob)
        assert "message" in await send(rec, channel_id, "one")
        await chat.store["memberships"].delete_one({"association_id": association_id, "user_id": bob["id"]})
        assert "message" in await send(rec, channel_id, "cached")  # no event: the entry is still used
        clock.advance(TTL_SECS + 1)
        assert error_code(await send(rec, channel_id, "after a silent removal")) == "not_member"


async def test_concurrent_inserts_share_writes_and_each_gets_its_own_outcome(settings: Settings, smtp: SmtpSink,
                                                                              aiohttp_server: Any) -> None:
    """Group commit: inserts queued while none is written go out as one write; a retry's
    duplicate key reaches that caller only and the others are stored."""
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        chat = Chat(hub)
        alice = await chat.user("Alice")
        channel_id = await chat.channel(await chat.association(alice))
        rec = await chat.connect(alice)
        first = (await send(rec, channel_id, "first", "group-commit-0001"))["message"]
        repo = chat.service.messages.repo
        stored = await chat.store["messages"].find_one({"_id": first["id"]})
        docs = [{**stored, "_id": new_id(), "seq": 100 + i, "client_msg_id": client_id()} for i in range(9)]
        retry = {**stored, "_id": new_id(), "seq": 200}  # the same (channel, sender, client_msg_id)
        batches = repo.group_commit.batches

        with COMMANDS.recording() as seen:
            outcomes = await asyncio.gather(*(repo.insert(d) for d in [*docs[:4], retry, *docs[4:]]),
                                            return_exceptions=True)
        assert [type(o).__name__ for o in outcomes] == ["NoneType"] * 4 + ["DuplicateKeyError"] + ["NoneType"] * 5
        assert repo.group_commit.batches - batches == 1
        assert [c for c in seen if c[1] == "messages"] == [("insert", "messages")]  # one write for ten
        assert await chat.count_messages(channel_id=channel_id) == 10
        assert await chat.count_messages(channel_id=channel_id, seq=200) == 0


async def test_own_read_receipts_queued_behind_a_write_go_out_as_one_and_never_move_back(
        settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> None:
    """The senders' own receipts (after the ack): those queued before the writer runs (or while it
    writes) go out as one bulk write, keep only each reader's highest seq, create missing
    receipts and never lower a stored one."""
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        chat = Chat(hub)
        users = [await chat.user(f"U{i}") for i in range(4)]
        channel_id = await chat.channel(await chat.association(users[0], members=users[1:]))
        own = chat.service.messages.own_receipts
        await own.advance(channel_id, users[3]["id"], 50)  # stored before: higher than what follows
        batches = own.batches

        with COMMANDS.recording() as seen:
            await asyncio.gather(own.advance(channel_id, users[0]["id"], 1),
                                 *(own.advance(channel_id, users[i % 3]["id"], seq) for i, seq in
                                   enumerate([7, 9, 4, 8, 12, 5])),
                                 own.advance(channel_id, users[3]["id"], 20))
        assert own.batches - batches == 1
        assert [c for c in seen if c[1] == "receipts"] == [("update", "receipts")]  # one write for eight
        stored = {doc["user_id"]: doc["seq"] async for doc in chat.store["receipts"].find({"channel_id": channel_id})}
        assert stored == {users[0]["id"]: 8, users[1]["id"]: 12, users[2]["id"]: 5, users[3]["id"]: 50}


async def test_presence_goes_to_the_channel_rooms_without_reading_member_lists(
        settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> None:
    """A user's presence is one emit to the rooms of their channels: a connected peer hears it, a
    connected user sharing no channel does not, nor do the user's own sockets; and announcing
    reads no association's member list (it did: one read of every member per transition)."""
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        chat = Chat(hub)
        alice, bob, carol = await chat.user("Alice"), await chat.user("Bob"), await chat.user("Carol")
        crowd = [await chat.user(f"Member {i}") for i in range(12)]
        await chat.association(alice, members=(bob, *crowd))
        await chat.association(carol)
        bob_rec, carol_rec = await chat.connect(bob), await chat.connect(carol)
        alice_rec = await chat.connect(alice)
        await bob_rec.wait_for("presence:updated", where=lambda e: e == {"user_id": alice["id"], "online": True})
        await settled(hub, bob_rec, carol_rec, alice_rec)

        with COMMANDS.recording():
            await chat.service.presence.announce(alice["id"], False)
        member_lists = [raw for raw in COMMANDS.raw if raw[1] == "memberships" and "association_id" in str(raw[2])]
        assert member_lists == []
        await bob_rec.wait_for("presence:updated", where=lambda e: e == {"user_id": alice["id"], "online": False})
        await settled(hub, bob_rec, carol_rec, alice_rec)
        assert not any(e["user_id"] == alice["id"] for e in carol_rec.events["presence:updated"])
        assert not any(e["user_id"] == alice["id"] for e in alice_rec.events["presence:updated"])


async def test_presence_held_back_under_pressure_goes_out_merged_as_one_batch_per_channel(
        settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> None:
    """Presence is light work: while the node is under pressure (here: SOS work running) the
    announcer waits; the transitions queued meanwhile are merged to each user's last state and
    reach each channel room as one presence:batch, only the channel's members."""
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        chat = Chat(hub)
        alice, bob, carol, dave = [await chat.user(n) for n in ("Alice", "Bob", "Carol", "Dave")]
        await chat.association(alice, members=(bob, dave))
        await chat.association(carol)
        bob_rec, carol_rec = await chat.connect(bob), await chat.connect(carol)
        await settled(hub, bob_rec, carol_rec)
        bob_rec.events.clear()
        presence, admission = chat.service.presence, hub.services["accounts"].infra.admission

        held_back = admission.shed.get("presence", 0)
        async with admission.urgent():  # SOS work running: light work waits
            for user, online in ((alice, True), (dave, True), (alice, False)):
                await presence._announce_soon(user["id"], online)
            async with asyncio.timeout(5):
                while admission.shed.get("presence", 0) == held_back:  # the announcer tried and waits
                    await asyncio.sleep(0.01)
            assert "presence:batch" not in bob_rec.events and "presence:updated" not in bob_rec.events
        (batch,) = await bob_rec.wait_for("presence:batch")
        assert sorted(batch["updates"], key=lambda u: u["user_id"]) == sorted(
            [{"user_id": alice["id"], "online": False}, {"user_id": dave["id"], "online": True}],
            key=lambda u: u["user_id"])
        await settled(hub, bob_rec, carol_rec)
        assert "presence:updated" not in bob_rec.events
        assert "presence:batch" not in carol_rec.events and "presence:updated" not in carol_rec.events


async def test_direct_channels_are_listed_by_their_member_rows_and_older_ones_are_backfilled_once(
        settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> None:
    """A user's direct channels come from their member rows (an index look-up, not a test of every
    DM's member_ids): a DM stored before the rows existed is listed once the backfill has run,
    which runs once per store; a stale row finds nothing."""
    import datetime as dt

    from hubchat.channels.repository import BACKFILLED, DM_MEMBERS

    async with running_hub(settings, smtp, aiohttp_server) as hub:
        chat = Chat(hub)
        alice, bob, carol = await chat.user("Alice"), await chat.user("Bob"), await chat.user("Carol")
        repo, access = chat.service.channel_repo, chat.service.access
        old_dm = new_id()
        await chat.store["channels"].insert_one({
            "_id": old_dm, "key": f"dm:{alice['id']}:{bob['id']}", "kind": "dm", "name": None, "association_id": None,
            "association_ids": [], "member_ids": sorted((alice["id"], bob["id"])), "created_by": alice["id"],
            "last_seq": 0, "version": 0, "created_at": dt.datetime.now(dt.UTC)})
        bob_access = await access.of_user({"_id": bob["id"], "role": "member"})
        assert [c["_id"] for c in await access.channels_of(bob_access)] == []  # no rows yet

        assert await repo.backfill_dm_members() == 0  # this store was backfilled when the node started
        await chat.store[DM_MEMBERS].delete_one({"_id": BACKFILLED})
        assert await repo.backfill_dm_members() == 1
        assert [c["_id"] for c in await access.channels_of(bob_access)] == [old_dm]
        assert await repo.backfill_dm_members() == 0

        await chat.store[DM_MEMBERS].insert_one({"_id": f"{carol['id']}:{old_dm}", "user_id": carol["id"],
                                                 "channel_id": old_dm})  # a row the channel disowns
        carol_access = await access.of_user({"_id": carol["id"], "role": "member"})
        assert await access.channels_of(carol_access) == []
