"""The Bus contract, run against the in-process bus and against Redis pub/sub on the real Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from hubchat.bus import Bus, InProcessBus, RedisBus, open_bus
from hubchat.config import Settings
from hubchat.embedded_mongo import free_loopback_port
from hubchat.errors import Unavailable

WAIT_SECS = 5.0


class Inbox:
    """A handler that keeps what it receives, with a way to wait for it."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait(self, count: int, timeout: float = WAIT_SECS) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.events


@pytest.fixture(params=["in_process", "redis"])
async def bus(
    request: pytest.FixtureRequest, redis_client: aioredis.Redis, redis_prefix: str
) -> AsyncIterator[Bus]:
    """An unstarted bus; closed after the test."""
    made: Bus
    if request.param == "redis":
        made = RedisBus(redis_client, redis_prefix)
    else:
        made = InProcessBus()
    try:
        yield made
    finally:
        await made.close()


# ---------------------------------------------------------------- the contract
async def test_delivers_to_every_subscriber_of_the_topic(bus: Bus) -> None:
    first, second = Inbox(), Inbox()
    bus.subscribe("room", first)
    bus.subscribe("room", second)
    await bus.start()

    await bus.publish("room", {"text": "hello", "n": 1, "nested": {"ok": True}})

    assert await first.wait(1) == [{"text": "hello", "n": 1, "nested": {"ok": True}}]
    assert await second.wait(1) == [{"text": "hello", "n": 1, "nested": {"ok": True}}]
    assert first.events[0] is not second.events[0]  # each handler has its own copy


async def test_does_not_deliver_other_topics(bus: Bus) -> None:
    inbox = Inbox()
    bus.subscribe("room", inbox)
    await bus.start()

    await bus.publish("other", {"n": 1})
    await bus.publish("room", {"n": 2})  # published after: its arrival means "other" had its chance

    assert await inbox.wait(1) == [{"n": 2}]
    await asyncio.sleep(0.05)
    assert inbox.events == [{"n": 2}]


async def test_keeps_publish_order_of_one_publisher(bus: Bus) -> None:
    inbox = Inbox()
    bus.subscribe("room", inbox)
    await bus.start()

    for n in range(200):
        await bus.publish("room", {"n": n})

    assert [e["n"] for e in await inbox.wait(200)] == list(range(200))


async def test_failing_handler_does_not_stop_later_deliveries(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()

    async def explode(event: dict[str, Any]) -> None:
        raise RuntimeError(f"boom {event['n']}")

    bus.subscribe("room", explode)
    bus.subscribe("room", inbox)
    await bus.start()

    with caplog.at_level(logging.ERROR, logger="hubchat.bus"):
        await bus.publish("room", {"n": 1})
        await bus.publish("room", {"n": 2})
        assert await inbox.wait(2) == [{"n": 1}, {"n": 2}]

    assert sum("boom" in str(r.exc_info[1]) for r in caplog.records if r.exc_info) == 2
    assert isinstance(bus, InProcessBus | RedisBus) and bus.failed == 2


async def test_subscribe_after_start(bus: Bus) -> None:
    early = Inbox()
    bus.subscribe("early", early)
    await bus.start()

    late, late_too = Inbox(), Inbox()
    bus.subscribe("late", late)
    bus.subscribe("early", late_too)  # a second handler on an already subscribed topic
    await bus.publish("late", {"n": 1})
    await bus.publish("early", {"n": 2})

    assert await late.wait(1) == [{"n": 1}]
    assert await late_too.wait(1) == [{"n": 2}]
    assert await early.wait(1) == [{"n": 2}]


async def test_publish_rejects_what_is_not_a_json_object(bus: Bus) -> None:
    await bus.start()
    with pytest.raises(TypeError):
        await bus.publish("room", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await bus.publish("room", {"when": object()})


async def test_close_is_clean(bus: Bus) -> None:
    inbox = Inbox()
    bus.subscribe("room", inbox)
    before = asyncio.all_tasks()
    await bus.start()
    await bus.publish("room", {"n": 1})
    await inbox.wait(1)

    await bus.close()
    await bus.close()  # twice is harmless

    assert asyncio.all_tasks() <= before  # no listener or dispatcher left behind
    await bus.publish("room", {"n": 2})  # dropped or sent to other nodes; never delivered here
    await asyncio.sleep(0)  # whatever publish scheduled has run
    assert asyncio.all_tasks() <= before  # and nothing is left that could deliver it later
    assert inbox.events == [{"n": 1}]


async def test_close_before_start(bus: Bus) -> None:
    await bus.close()


# ---------------------------------------------------------------- Redis only
async def test_two_redis_nodes_receive_each_others_events(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    node_a, node_b = RedisBus(redis_client, redis_prefix), RedisBus(redis_client, redis_prefix)
    inbox_a, inbox_b = Inbox(), Inbox()
    node_a.subscribe("room", inbox_a)
    node_b.subscribe("room", inbox_b)
    await node_a.start()
    await node_b.start()
    try:
        await node_a.publish("room", {"from": "a"})
        await node_b.publish("room", {"from": "b"})

        assert await inbox_a.wait(2) == [{"from": "a"}, {"from": "b"}]
        assert await inbox_b.wait(2) == [{"from": "a"}, {"from": "b"}]
    finally:
        await node_a.close()
        await node_b.close()


async def test_redis_bus_isolated_by_prefix(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    ours, theirs = RedisBus(redis_client, redis_prefix), RedisBus(redis_client, redis_prefix + "other:")
    inbox = Inbox()
    ours.subscribe("room", inbox)
    await ours.start()
    await theirs.start()
    try:
        await theirs.publish("room", {"n": 1})
        await ours.publish("room", {"n": 2})
        assert await inbox.wait(1) == [{"n": 2}]
    finally:
        await ours.close()
        await theirs.close()


async def test_redis_bus_skips_undecodable_messages(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    bus = RedisBus(redis_client, redis_prefix)
    inbox = Inbox()
    bus.subscribe("room", inbox)
    await bus.start()
    try:
        channel = redis_prefix + "bus:room"
        await redis_client.publish(channel, b"not json {")
        await redis_client.publish(channel, b"\xff\xfe")
        await redis_client.publish(channel, b"[1, 2]")  # JSON, but not an object
        await bus.publish("room", {"n": 1})

        assert await inbox.wait(1) == [{"n": 1}]
        assert bus.dropped == 3
    finally:
        await bus.close()


async def test_redis_bus_survives_a_dropped_connection(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = RedisBus(redis_client, redis_prefix)
    inbox = Inbox()
    bus.subscribe("room", inbox)
    await bus.start()
    try:
        await bus.publish("room", {"n": 0})
        await inbox.wait(1)

        pubsub = bus._pubsub  # white box: find the listener's connection to kill it server-side
        assert pubsub is not None and pubsub.connection is not None
        writer = pubsub.connection._writer
        assert writer is not None
        host, port = writer.get_extra_info("sockname")[:2]
        assert await redis_client.client_kill_filter(_type=None, addr=f"{host}:{port}") == 1

        # At most once: events published while it reconnects may be lost, so keep publishing.
        async with asyncio.timeout(15):
            n = 1
            while not any(e["n"] >= 1 for e in inbox.events):
                await bus.publish("room", {"n": n})
                n += 1
                await asyncio.sleep(0.05)
    finally:
        await bus.close()


# ---------------------------------------------------------------- open_bus
async def test_open_bus_without_redis_is_in_process(caplog: pytest.LogCaptureFixture) -> None:
    inbox = Inbox()
    with caplog.at_level(logging.INFO, logger="hubchat.bus"):
        async with open_bus(Settings(redis_url=""), None) as bus:
            assert isinstance(bus, InProcessBus)
            bus.subscribe("room", inbox)
            await bus.publish("room", {"n": 1})
            await inbox.wait(1)
    assert "no redis_url: single node, in-process bus" in caplog.text


async def test_open_bus_with_redis(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    inbox = Inbox()
    async with open_bus(Settings(redis_prefix=redis_prefix), redis_client) as bus:
        assert isinstance(bus, RedisBus)
        bus.subscribe("room", inbox)
        await bus.publish("room", {"n": 1})
        assert await inbox.wait(1) == [{"n": 1}]


async def test_redis_bus_start_without_redis_is_unavailable(redis_prefix: str) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=free_loopback_port(), retry=Retry(NoBackoff(), 0))
    bus = RedisBus(client, redis_prefix)
    bus.subscribe("room", Inbox())
    try:
        with pytest.raises(Unavailable):
            await bus.start()
    finally:
        await bus.close()
        await client.aclose()
