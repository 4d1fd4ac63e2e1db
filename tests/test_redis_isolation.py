"""Two deployments on one Redis server (issue 8 item 7): Redis pub/sub ignores the database
number, so channel names carry it (or the ``deployment`` name).  Real nodes, real Socket.IO
clients, the machine's Redis in databases 9 and 10 with the same key prefix."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from hubchat.config import Settings, load_settings, redact_url
from hubchat.errors import Unavailable
from hubchat.infra import Infra
from hubchat.store import make_client
from tests import test_sos_helpers
from tests.conftest import REDIS_HOST, REDIS_PORT, REDIS_URL
from tests.support import HubClient
from tests.test_sos_helpers import Node, fast, officer_on_duty, person, trigger

node_factory = test_sos_helpers.node_factory
pytestmark = pytest.mark.timeout(60)
OTHER_DB = 10 if not REDIS_URL.endswith("/10") else 11


@pytest.fixture
async def two_deployments(settings: Settings, mongo_uri: str,
                          node_factory: Callable[[Settings], Any]) -> AsyncIterator[tuple[HubClient, HubClient]]:
    """Deployment A on REDIS_URL (db 9) and B on db OTHER_DB: same prefix, own store, defaults otherwise."""
    other_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{OTHER_DB}"
    other_db = settings.mongo_db + "_b"
    a: Node = await node_factory(fast(settings))
    b: Node = await node_factory(fast(settings.replace(redis_url=other_url, mongo_db=other_db)))
    assert a.client is not None and b.client is not None
    try:
        yield a.client, b.client
    finally:
        await b.stop()
        client = aioredis.from_url(other_url)
        keys = [key async for key in client.scan_iter(match=settings.redis_prefix + "*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        mongo = make_client(mongo_uri)
        await mongo.drop_database(other_db)
        await mongo.close()


async def test_an_sos_in_one_deployment_does_not_reach_the_other(two_deployments: tuple[HubClient, HubClient]) -> None:
    a, b = two_deployments
    _, (officer_a,) = await officer_on_duty(a, "Officer A")
    _, (officer_b,) = await officer_on_duty(b, "Officer B")

    sock_a = await a.connect((await person(a, "Person A"))["access_token"])
    alert_a = await trigger(sock_a)
    await officer_a.wait_for("sos:new", where=lambda e: e["id"] == alert_a["id"])
    # B's own alert is published after A's: once B's officer has it, A's would have arrived before.
    sock_b = await b.connect((await person(b, "Person B"))["access_token"])
    alert_b = await trigger(sock_b)
    await officer_b.wait_for("sos:new", where=lambda e: e["id"] == alert_b["id"])
    heard_by_b = [e.get("id") for name, events in officer_b.events.items() if name.startswith("sos:") for e in events]
    heard_by_a = [e.get("id") for name, events in officer_a.events.items() if name.startswith("sos:") for e in events]
    assert alert_a["id"] not in heard_by_b and alert_b["id"] not in heard_by_a


async def test_bus_events_stay_in_their_deployment(two_deployments: tuple[HubClient, HubClient]) -> None:
    a, b = two_deployments
    bus_a, bus_b = a.services["sos"].infra.bus, b.services["sos"].infra.bus
    got_a: list[dict[str, Any]] = []
    got_b: list[dict[str, Any]] = []
    topic = f"isolation-{uuid.uuid4().hex[:8]}"

    async def on_a(event: dict[str, Any]) -> None:
        got_a.append(event)

    async def on_b(event: dict[str, Any]) -> None:
        got_b.append(event)

    bus_a.subscribe(topic, on_a)
    bus_b.subscribe(topic, on_b)
    await asyncio.sleep(0.05)  # the late subscriptions are confirmed in the background
    await bus_a.publish(topic, {"from": "a"})
    await bus_b.publish(topic, {"from": "b"})
    for _ in range(100):
        if got_a and got_b:
            break
        await asyncio.sleep(0.02)
    assert got_a == [{"from": "a"}] and got_b == [{"from": "b"}]


def test_channel_prefix_from_the_database_or_the_deployment_name() -> None:
    def prefix(**values: Any) -> str:
        return load_settings(environ={}, **values).channel_prefix

    assert prefix() == "hubchat:db0:"
    assert prefix(redis_url="redis://127.0.0.1:6379/9") == "hubchat:db9:"
    assert prefix(redis_url="rediss://user:pw@redis.example.org:6380/3") == "hubchat:db3:"
    assert prefix(redis_url="redis://127.0.0.1:6379?db=4") == "hubchat:db4:"
    assert prefix(redis_url="unix:///run/redis.sock?db=2") == "hubchat:db2:"
    assert prefix(redis_url="redis://127.0.0.1:6379/9", deployment="mizo-hub-eu") == "hubchat:mizo-hub-eu:"
    with pytest.raises(Exception, match="deployment"):
        load_settings(environ={}, deployment="two words")


async def test_a_redis_password_never_shows_in_errors_or_repr(settings: Settings) -> None:
    from hubchat.embedded_mongo import free_loopback_port

    secret = "s3cret-" + uuid.uuid4().hex
    for url in (f"redis://hubchat:{secret}@127.0.0.1:{free_loopback_port()}/9",  # nobody listens
                f"redis://hubchat:{secret}@{REDIS_HOST}:{REDIS_PORT}/9"):  # a user the server does not know
        bad = settings.replace(redis_url=url)
        with pytest.raises(Unavailable) as caught:
            async with Infra(bad).running():
                pass
        assert secret not in str(caught.value) and "***" in str(caught.value), caught.value
        assert secret not in repr(bad)
    assert redact_url(f"rediss://:{secret}@h:1/0") == "rediss://:***@h:1/0"
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
