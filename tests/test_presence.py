"""The Presence contract, in memory and on the real Redis; TTLs run out on a ManualClock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from hubchat.clock import ManualClock
from hubchat.presence import MemoryPresence, Presence, RedisPresence

TTL_SECS = 10.0  # far longer than a test runs: only the clock's advances make it pass
PresenceFactory = Callable[[float], Presence]


@pytest.fixture(params=["memory", "redis"])
def make_presence(
    request: pytest.FixtureRequest, redis_client: aioredis.Redis, redis_prefix: str, clock: ManualClock
) -> PresenceFactory:
    if request.param == "redis":
        return lambda ttl_secs: RedisPresence(redis_client, redis_prefix, ttl_secs, clock)
    return lambda ttl_secs: MemoryPresence(ttl_secs, clock)


@pytest.fixture
def presence(make_presence: PresenceFactory) -> Presence:
    return make_presence(60)


async def test_tabs_make_one_online_user(presence: Presence) -> None:
    assert await presence.connect("alice", "node1:tab1") is True
    assert await presence.connect("alice", "node1:tab2") is False
    assert await presence.connect("alice", "node1:tab2") is False  # the same tab again

    assert await presence.disconnect("alice", "node1:tab1") is False
    assert await presence.online(["alice"]) == {"alice": True}
    assert await presence.disconnect("alice", "node1:tab2") is True

    assert await presence.online(["alice"]) == {"alice": False}
    assert await presence.disconnect("alice", "node1:tab2") is False  # already offline
    assert await presence.connect("alice", "node1:tab3") is True  # back online


async def test_online_answers_for_each_user(presence: Presence) -> None:
    await presence.connect("alice", "n1:a")
    await presence.connect("bob", "n2:b")
    await presence.disconnect("bob", "n2:b")

    assert await presence.online(["alice", "bob", "carol"]) == {"alice": True, "bob": False, "carol": False}
    assert await presence.online([]) == {}


async def test_disconnect_of_unknown_connection(presence: Presence) -> None:
    assert await presence.disconnect("nobody", "n1:x") is False
    await presence.connect("alice", "n1:a")
    assert await presence.disconnect("alice", "n1:unknown") is False
    assert await presence.online(["alice"]) == {"alice": True}


async def test_expired_connections_are_swept_offline(make_presence: PresenceFactory, clock: ManualClock) -> None:
    presence = make_presence(TTL_SECS)
    await presence.connect("alice", "dead-node:a")
    await presence.connect("bob", "dead-node:b")
    await presence.connect("bob", "live-node:b")
    assert await presence.sweep() == []

    clock.advance(TTL_SECS / 2)
    await presence.refresh([("bob", "live-node:b")])  # the live node's heartbeat
    assert await presence.online(["alice", "bob"]) == {"alice": True, "bob": True}
    clock.advance(TTL_SECS / 2)

    assert await presence.online(["alice", "bob"]) == {"alice": False, "bob": True}
    assert await presence.sweep() == ["alice"]
    assert await presence.sweep() == []  # reported once
    assert await presence.disconnect("bob", "live-node:b") is True


async def test_refresh_keeps_connections_alive(make_presence: PresenceFactory, clock: ManualClock) -> None:
    presence = make_presence(TTL_SECS)
    await presence.connect("alice", "n1:a")
    for _ in range(4):
        clock.advance(TTL_SECS * 0.9)
        await presence.refresh([("alice", "n1:a")])

    assert await presence.sweep() == []
    assert await presence.online(["alice"]) == {"alice": True}


async def test_refresh_does_not_revive_what_was_disconnected(presence: Presence) -> None:
    await presence.connect("alice", "n1:a")
    await presence.disconnect("alice", "n1:a")

    await presence.refresh([("alice", "n1:a"), ("nobody", "n1:z")])

    assert await presence.online(["alice", "nobody"]) == {"alice": False, "nobody": False}
    await presence.refresh([])


async def test_reconnect_before_sweep_is_not_a_new_transition(make_presence: PresenceFactory,
                                                              clock: ManualClock) -> None:
    presence = make_presence(TTL_SECS)
    assert await presence.connect("alice", "dead-node:a") is True
    clock.advance(TTL_SECS)
    assert await presence.online(["alice"]) == {"alice": False}

    # Still reported online (nobody swept), so no second "online"; and no "offline" later.
    assert await presence.connect("alice", "new-node:a") is False
    assert await presence.sweep() == []


async def test_empty_ids_are_refused(presence: Presence) -> None:
    with pytest.raises(ValueError):
        await presence.connect("", "n1:a")
    with pytest.raises(ValueError):
        await presence.disconnect("alice", "")


# ---------------------------------------------------------------- Redis only
async def test_two_redis_nodes_agree(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    node1 = RedisPresence(redis_client, redis_prefix, 60)
    node2 = RedisPresence(redis_client, redis_prefix, 60)

    assert await node1.connect("alice", "node1:s1") is True
    assert await node2.connect("alice", "node2:s9") is False
    assert await node2.online(["alice"]) == {"alice": True}
    assert await node1.disconnect("alice", "node1:s1") is False
    assert await node2.disconnect("alice", "node2:s9") is True
    assert await node1.online(["alice"]) == {"alice": False}


async def test_racing_redis_nodes_report_each_transition_once(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    nodes = [RedisPresence(redis_client, redis_prefix, 60) for _ in range(5)]

    went_online = await asyncio.gather(*(n.connect("alice", f"node{i}:s") for i, n in enumerate(nodes)))
    went_offline = await asyncio.gather(*(n.disconnect("alice", f"node{i}:s") for i, n in enumerate(nodes)))

    assert sum(went_online) == 1
    assert sum(went_offline) == 1


async def test_racing_redis_sweeps_report_once(redis_client: aioredis.Redis, redis_prefix: str,
                                               clock: ManualClock) -> None:
    dying = RedisPresence(redis_client, redis_prefix, TTL_SECS, clock)
    for user in ("alice", "bob", "carol"):
        await dying.connect(user, f"dead:{user}")
    clock.advance(TTL_SECS)

    sweepers = [RedisPresence(redis_client, redis_prefix, 60, clock) for _ in range(3)]
    results = await asyncio.gather(*(s.sweep() for s in sweepers))

    assert sorted(user for swept in results for user in swept) == ["alice", "bob", "carol"]


async def test_redis_keys_carry_the_prefix_and_expire(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    await RedisPresence(redis_client, redis_prefix, 5).connect("alice", "n1:a")

    assert await redis_client.sismember(redis_prefix + "presence:users", "alice")
    assert 0 < await redis_client.pttl(redis_prefix + "presence:alice") <= 5000
