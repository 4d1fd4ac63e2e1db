"""Two hubchat server processes sharing Redis and MongoDB deliver each other's messages and presence."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hubchat.config import Settings
from hubchat.store import Store
from tests.conftest import SmtpSink
from tests.support import DEFAULT_PASSWORD, HubClient, node_env, serve_processes, wait_ready

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def node_processes(settings: Settings, tmp_path: Path) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    with serve_processes(settings, tmp_path) as nodes:
        yield nodes


@pytest.fixture
async def two_nodes(node_processes: list[tuple[str, subprocess.Popen[bytes]]],
                    smtp: SmtpSink, store: Store) -> AsyncIterator[tuple[HubClient, HubClient]]:
    for url, process in node_processes:
        await wait_ready(url, process)
    a, b = (HubClient(url, smtp) for url, _ in node_processes)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def create_officer_by_cli(settings: Settings) -> str:
    email = f"officer-{uuid.uuid4().hex[:8]}@cell.example.org"
    env = node_env(settings, 0) | {"HUBCHAT_OFFICER_PASSWORD": DEFAULT_PASSWORD}
    result = subprocess.run([sys.executable, "-m", "hubchat", "admin", "create-officer", "--email", email,
                             "--name", "Officer Two-Nodes"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert DEFAULT_PASSWORD not in result.stdout + result.stderr
    return email


async def approved_association_with_members(a: HubClient, b: HubClient, settings: Settings) -> dict[str, Any]:
    """An association approved on node b, with an office bearer (via a) and a member (via b)."""
    bearer = await a.user(display_name="Office Bearer")
    member = await b.user(display_name="Member")
    officer = await b.login(create_officer_by_cli(settings))
    status, body = await a.request("POST", "/api/associations", token=bearer["access_token"], json={
        "name": "Mizo Welfare Association Dubai", "country": "AE", "city": "Dubai",
        "description": "Mizo people in Dubai", "contact_email": "mwa.dubai@example.org",
        "contact_phone": "+971500000000",
        "gathering_places": [{"name": "Hall", "address": "Al Karama", "lat": 25.2, "lon": 55.3,
                              "schedule": "Sundays 10:00"}],
        "office_bearers": []})
    assert status == 201, body
    association_id = body["association"]["id"]
    status, body = await b.request("POST", f"/api/associations/{association_id}/approve", token=officer["access_token"])
    assert status == 200, body
    status, body = await b.request("POST", f"/api/associations/{association_id}/join", token=member["access_token"])
    assert status in (200, 201), body
    status, body = await a.request("POST", f"/api/associations/{association_id}/requests/{member['id']}/approve",
                                   token=bearer["access_token"])
    assert status == 200, body
    return {"bearer": bearer, "member": member, "officer": officer, "association_id": association_id}


async def test_messages_and_presence_cross_nodes(two_nodes: tuple[HubClient, HubClient], settings: Settings) -> None:
    a, b = two_nodes
    world = await approved_association_with_members(a, b, settings)
    bearer_socket = await a.connect(world["bearer"]["access_token"])
    listed = await bearer_socket.call("channel:list")
    channel = next(c for c in listed["channels"] if c["kind"] == "association")

    member_socket = await b.connect(world["member"]["access_token"])
    await bearer_socket.wait_for("presence:updated", where=lambda e: e == {"user_id": world["member"]["id"],
                                                                           "online": True})

    ack = await member_socket.call("message:send", {"channel_id": channel["id"], "client_msg_id": "cross-node-1",
                                                    "body": "Chibai! from node b"})
    assert ack["message"]["seq"] == 1
    got = await bearer_socket.wait_for("message:new")
    assert got[0]["body"] == "Chibai! from node b" and got[0]["sender"]["id"] == world["member"]["id"]

    ack = await bearer_socket.call("message:send", {"channel_id": channel["id"], "client_msg_id": "cross-node-2",
                                                    "body": "Reply from node a"})
    assert ack["message"]["seq"] == 2
    got = await member_socket.wait_for("message:new", where=lambda m: m["seq"] == 2)
    assert got[0]["body"] == "Reply from node a"

    # A second tab on the other node keeps the member online when the first closes.
    second_tab = await a.connect(world["member"]["access_token"])
    await member_socket.disconnect()
    await asyncio.sleep(0.5)
    offline = [e for e in bearer_socket.events["presence:updated"] if e["online"] is False]
    assert offline == []
    await second_tab.disconnect()
    await bearer_socket.wait_for("presence:updated", where=lambda e: e == {"user_id": world["member"]["id"],
                                                                           "online": False})


async def test_rate_limit_is_shared_across_nodes(two_nodes: tuple[HubClient, HubClient], settings: Settings) -> None:
    a, b = two_nodes
    world = await approved_association_with_members(a, b, settings)
    on_a = await a.connect(world["member"]["access_token"])
    on_b = await b.connect(world["member"]["access_token"])
    listed = await on_a.call("channel:list")
    channel = next(c for c in listed["channels"] if c["kind"] == "association")
    acks = []
    for i in range(settings.message_rate_limit + 2):
        socket = on_a if i % 2 == 0 else on_b
        acks.append(await socket.call("message:send", {"channel_id": channel["id"],
                                                       "client_msg_id": f"limit-{i:04d}", "body": f"n{i}"}))
    accepted = [ack for ack in acks if "message" in ack]
    refused = [ack for ack in acks if "error" in ack]
    assert len(accepted) == settings.message_rate_limit
    assert refused and all(r["error"]["code"] == "rate_limited" for r in refused)
