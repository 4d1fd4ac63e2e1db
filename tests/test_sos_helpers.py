"""Shared fixtures and helpers of the SOS tests (this module holds no tests)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from hubchat.app import OPS_APP, SERVICES, build_app
from hubchat.auth.passwords import hash_password
from hubchat.clock import ManualClock
from hubchat.config import Settings
from hubchat.outbox import OUTBOX
from hubchat.schema import new_id
from hubchat.sos import SosService
from tests.conftest import SmtpSink
from tests.support import DEFAULT_PASSWORD, HubClient, Recorder, settled  # noqa: F401 (re-exported)

DELHI = (28.6139, 77.2090)
GURUGRAM = (28.4595, 77.0266)  # ~ 25 km from Delhi
JAIPUR = (26.9124, 75.7873)  # ~ 240 km
MUMBAI = (19.0760, 72.8777)  # ~ 1150 km
BENGALURU = (12.9716, 77.5946)  # ~ 1750 km
SOS_PIN = "2468"
DURESS_PIN = "1357"
ESCALATION_LIST = "cell-escalation@example.org"
QUIET_SECS = 0.4  # how long "nothing more arrives" is watched for
LOCATION_EVERY_SECS = 30.0  # live location updates accepted per alert: passes only by clock.advance


def fast(settings: Settings, **overrides: Any) -> Settings:
    """Settings for SOS tests: a quick scheduler, escalation far away unless a test says otherwise."""
    values: dict[str, Any] = {"sos_scheduler_interval_secs": 0.1, "sos_t1_secs": 600.0, "sos_t2_secs": 1200.0,
                              "sos_escalation_emails": ESCALATION_LIST,
                              "sos_location_min_interval_secs": LOCATION_EVERY_SECS}
    values.update(overrides)
    return settings.replace(**values)


class Node:
    """One hubchat app with SOS on a real TCP port, startable and stoppable inside a test; every
    node of a test runs on the test's clock (as real nodes share the Redis server's)."""

    def __init__(self, settings: Settings, smtp: SmtpSink, clock: ManualClock):
        self.settings = settings
        self.smtp = smtp
        self.clock = clock
        self.server: TestServer | None = None
        self.ops_server: TestServer | None = None
        self.client: HubClient | None = None

    async def start(self) -> HubClient:
        app = build_app(self.settings, self.clock)
        self.server = TestServer(app)
        await self.server.start_server()
        self.ops_server = TestServer(app[OPS_APP])
        await self.ops_server.start_server()
        self.client = HubClient(str(self.server.make_url("/")), self.smtp, app[SERVICES])  # type: ignore[arg-type]
        self.client.ops_url = str(self.ops_server.make_url("")).rstrip("/")
        return self.client

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        if self.server is not None:
            await self.server.close()
            self.server = None
        if self.ops_server is not None:
            await self.ops_server.close()
            self.ops_server = None

    @property
    def sos(self) -> SosService:
        assert self.client is not None
        service: SosService = self.client.services["sos"]
        return service


@pytest.fixture
async def node_factory(smtp: SmtpSink, clock: ManualClock) -> AsyncIterator[Callable[[Settings], Awaitable[Node]]]:
    nodes: list[Node] = []

    async def start(settings: Settings) -> Node:
        node = Node(settings, smtp, clock)
        await node.start()
        nodes.append(node)
        return node

    try:
        yield start
    finally:
        for node in reversed(nodes):
            await node.stop()


@pytest.fixture
async def hub(settings: Settings, node_factory: Callable[[Settings], Awaitable[Node]]) -> HubClient:
    """Overrides the shared ``hub``: hubchat with SOS wired, escalation far away."""
    node = await node_factory(fast(settings))
    assert node.client is not None
    return node.client


# ---------------------------------------------------------------- people and places
_HASHES: dict[str, str] = {}


async def _hash(secret: str) -> str:
    """argon2 costs ~0.2 s a hash here: each secret is hashed once per test run."""
    if secret not in _HASHES:
        _HASHES[secret] = await hash_password(secret)
    return _HASHES[secret]


async def account(hub: HubClient, name: str, role: str = "member", **fields: Any) -> dict[str, Any]:
    """A verified account with a live session, stored as registration and login store them (the
    auth flow itself is tested in test_auth; the full HTTP path is used by ``registered``)."""
    accounts = hub.services["accounts"]
    store = accounts.infra.store
    now = dt.datetime.now(dt.UTC)
    user = {"_id": new_id(), "email": f"{role}-{uuid.uuid4().hex[:10]}@example.org",
            "password_hash": await _hash(DEFAULT_PASSWORD), "display_name": name, "language": "en",
            "country": "IN", "city": "Aizawl", "phone": None, "role": role, "verified": True, "created_at": now,
            "sos_pin_hash": None, "duress_pin_hash": None}
    for key, value in fields.items():
        user[f"{key}_hash" if key in ("sos_pin", "duress_pin") else key] = (
            await _hash(value) if key in ("sos_pin", "duress_pin") else value)
    await store["users"].insert_one(user)
    session_id = new_id()
    await store["sessions"].insert_one({"_id": session_id, "user_id": user["_id"], "digest": "", "used_digests": [],
                                        "created_at": now, "refreshed_at": now, "revoked_at": None,
                                        "expires_at": now + dt.timedelta(days=1)})
    token = accounts.signer.access_token(user["_id"], session_id, role)
    return {"access_token": token, "id": user["_id"], "email": user["email"], "display_name": name}


async def person(hub: HubClient, name: str = "Lalremruati", **fields: Any) -> dict[str, Any]:
    fields = {"sos_pin": SOS_PIN, "duress_pin": DURESS_PIN, "phone": "+919812345678", **fields}
    return await account(hub, name, **fields)


async def officer_on_duty(hub: HubClient, name: str = "Duty Officer", sockets: int = 1) -> tuple[dict[str, Any],
                                                                                                 list[Recorder]]:
    officer = await account(hub, name, role="officer")
    recs = [await hub.connect(officer["access_token"]) for _ in range(sockets)]
    ack = await recs[0].call("duty:set", {"on_duty": True})
    assert ack["duty"]["on_duty"] is True, ack
    await asyncio.sleep(0.05)  # the room change travels over the bus to the other sockets' nodes
    return officer, recs


async def association(hub: HubClient, officer: dict[str, Any], bearer: dict[str, Any], at: tuple[float, float],
                      country: str = "IN", approve: bool = True) -> str:
    status, body = await hub.request("POST", "/api/associations", token=bearer["access_token"], json={
        "name": f"Mizo Welfare {uuid.uuid4().hex[:6]}", "country": country, "city": "Somewhere",
        "description": "Mizo people living here.", "contact_email": f"assoc-{uuid.uuid4().hex[:8]}@example.org",
        "gathering_places": [{"name": "Hall", "address": "Main road", "lat": at[0], "lon": at[1]}]})
    assert status == 201, body
    association_id: str = body["association"]["id"]
    if approve:
        status, body = await hub.request("POST", f"/api/associations/{association_id}/approve",
                                         token=officer["access_token"])
        assert status == 200, body
    return association_id


async def bearer_at(hub: HubClient, officer: dict[str, Any], at: tuple[float, float], name: str,
                    sockets: int = 1) -> tuple[dict[str, Any], list[Recorder], str]:
    bearer = await account(hub, name)
    association_id = await association(hub, officer, bearer, at)
    recs = [await hub.connect(bearer["access_token"]) for _ in range(sockets)]
    return bearer, recs, association_id


async def join_association(hub: HubClient, member: dict[str, Any], bearer: dict[str, Any], association_id: str) -> None:
    status, body = await hub.request("POST", f"/api/associations/{association_id}/join", token=member["access_token"])
    assert status in (200, 201), body
    status, body = await hub.request("POST", f"/api/associations/{association_id}/requests/{member['id']}/approve",
                                     token=bearer["access_token"])
    assert status == 200, body


def trigger_body(client_sos_id: str | None = None, at: tuple[float, float] | None = DELHI,
                 **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"client_sos_id": client_sos_id or f"sos-{uuid.uuid4().hex[:12]}", "category": "medical"}
    if at is not None:
        body.update(lat=at[0], lon=at[1], accuracy_m=25.0)
    body.update(extra)
    return body


async def trigger(rec: Recorder, **kwargs: Any) -> dict[str, Any]:
    ack = await rec.call("sos:trigger", trigger_body(**kwargs))
    assert "alert" in ack, ack
    alert: dict[str, Any] = ack["alert"]
    return alert


def sos_service(hub: HubClient) -> SosService:
    service: SosService = hub.services["sos"]
    return service


async def stored_alert(hub: HubClient, alert_id: str) -> dict[str, Any]:
    doc = await sos_service(hub).repo.find(alert_id)
    assert doc is not None
    return doc


async def timeline(hub: HubClient, alert_id: str) -> list[dict[str, Any]]:
    return await sos_service(hub).repo.timeline(alert_id)


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0, step: float = 0.05) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(step)


async def scheduler_passes(*hubs: HubClient, count: int = 2) -> None:
    """Wait until each node's escalation scheduler finished ``count`` more passes: a pass that
    started after this call has run every step that was due when it was called (after a
    ``clock.advance``, say), so "nothing escalated" can be checked without watching the clock."""
    escalators = [sos_service(hub).escalator for hub in hubs]
    targets = [e.passes + count for e in escalators]

    async def passed() -> bool:
        return all(e.passes >= target for e, target in zip(escalators, targets, strict=True))
    await wait_until(passed, step=0.02)


async def emails_queued(hub: HubClient, alert_id: str) -> int:
    """SOS emails of this alert in the durable outbox (one per recipient and step)."""
    return int(await sos_service(hub).repo.coll(OUTBOX).count_documents(
        {"tag": {"$regex": f"^sos-email:{alert_id}:"}}))


async def dispatched(hub: HubClient, alert_id: str, count: int = 1) -> dict[str, Any]:
    """The alert once its dispatch timeline entries reached ``count`` (round 1 is in the background)."""
    async def done() -> bool:
        rounds = sum(1 for e in await timeline(hub, alert_id) if e["type"] == "dispatch")
        return rounds >= count and bool((await stored_alert(hub, alert_id))["escalation"]["done"])
    await wait_until(done)
    return await stored_alert(hub, alert_id)


def error_code(ack: Any) -> str:
    assert isinstance(ack, dict) and "error" in ack, ack
    code: str = ack["error"]["code"]
    return code
