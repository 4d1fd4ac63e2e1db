"""Overload over the wire: a node with few chat slots answers a burst of sends promptly
(stored or ``overloaded``), never duplicates a retried send, and admits an SOS in the middle."""

from __future__ import annotations

import asyncio
from typing import Any

from hubchat.config import Settings
from tests.support import HubClient, Recorder
from tests.test_sos_helpers import (
    Node,
    account,
    association,
    fast,
    node_factory,
    officer_on_duty,
    person,
    trigger,
)

BURST = 40
__all__ = ["node_factory"]  # the fixture, imported for pytest


async def send(rec: Recorder, channel_id: str, n: int) -> Any:
    return await rec.call("message:send", {"channel_id": channel_id, "client_msg_id": f"burst-{n:04d}",
                                           "body": f"message {n}"})


async def test_a_burst_is_answered_promptly_and_an_sos_goes_through(settings: Settings, node_factory: Any) -> None:
    node: Node = await node_factory(fast(settings, chat_max_inflight=2, chat_admission_wait_ms=0.0,
                                         message_rate_limit=0))
    hub: HubClient = node.client  # type: ignore[assignment]
    officer, (officer_socket,) = await officer_on_duty(hub)
    bearer = await account(hub, "Bearer")
    association_id = await association(hub, officer, bearer, (28.6, 77.2))
    status, body = await hub.request("GET", "/api/channels", token=bearer["access_token"])
    assert status == 200, body
    channel_id = next(c["id"] for c in body["channels"] if c.get("association_id") == association_id)
    sender = await hub.connect(bearer["access_token"])
    victim = await person(hub)
    victim_socket = await hub.connect(victim["access_token"])

    burst = [asyncio.create_task(send(sender, channel_id, n)) for n in range(BURST)]
    # The SOS comes once the burst has reached the node (while SOS work runs no chat slot is
    # handed out, so a burst arriving after it would all be refused, with no wait allowed here).
    await asyncio.wait(burst, return_when=asyncio.FIRST_COMPLETED)
    sos_ack = await trigger(victim_socket)
    acks = await asyncio.gather(*burst)

    assert sos_ack["status"] == "open", sos_ack  # SOS is never refused for chat load
    await officer_socket.wait_for("sos:new", where=lambda e: e["id"] == sos_ack["id"])
    stored = [n for n, ack in enumerate(acks) if "message" in ack]
    refused = [n for n, ack in enumerate(acks) if "error" in ack]
    assert stored and refused, acks  # two slots cannot take forty sends at once
    assert sorted(stored + refused) == list(range(BURST))
    for n in refused:
        error = acks[n]["error"]
        assert error["code"] == "overloaded" and error["temporary"] is True
        assert 100 <= error["retry_after_ms"] <= 5000

    # The client retries the refused ones with the same client_msg_id, after the hint.
    for n in refused:
        for _ in range(50):
            ack = await send(sender, channel_id, n)
            if "message" in ack:
                break
            await asyncio.sleep(ack["error"]["retry_after_ms"] / 1000)
        assert "message" in ack, ack
    for n in stored[:3]:  # a retry of an acknowledged one returns the stored message, not a copy
        again = await send(sender, channel_id, n)
        assert again["message"]["seq"] == acks[n]["message"]["seq"]
    history = await sender.call("message:history", {"channel_id": channel_id, "limit": 100})
    bodies = [m["body"] for m in history["messages"]]
    assert sorted(bodies) == sorted(f"message {n}" for n in range(BURST))  # each exactly once


async def test_typing_and_receipts_are_shed_while_the_loop_lags(settings: Settings, node_factory: Any) -> None:
    node: Node = await node_factory(fast(settings))
    hub: HubClient = node.client  # type: ignore[assignment]
    officer = (await officer_on_duty(hub))[0]
    bearer = await account(hub, "Bearer")
    association_id = await association(hub, officer, bearer, (28.6, 77.2))
    status, body = await hub.request("GET", "/api/channels", token=bearer["access_token"])
    channel_id = next(c["id"] for c in body["channels"] if c.get("association_id") == association_id)
    sender = await hub.connect(bearer["access_token"])
    admission = node.sos.infra.admission
    busy = admission.lag_limit_secs * 0.9  # as the probe records a busy loop
    admission.observe_lag(busy)
    typing = await sender.call("typing:start", {"channel_id": channel_id})
    admission.observe_lag(busy)
    receipt = await sender.call("receipt:read", {"channel_id": channel_id, "seq": 0})
    admission.observe_lag(busy)
    assert typing["error"]["code"] == "overloaded" and receipt["error"]["code"] == "overloaded"
    ack = await send(sender, channel_id, 1)  # sends still pass below the full limit
    assert "message" in ack, ack
