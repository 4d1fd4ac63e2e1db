"""Limits on password guessing and account creation, over real HTTP (issue 8, items 9 and 11).

Client addresses are given with ``X-Forwarded-For`` and ``trusted_proxy_header`` configured, as
behind a reverse proxy; one test checks the header is ignored when it is not configured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubchat.config import Settings
from tests.conftest import SmtpSink
from tests.support import DEFAULT_PASSWORD, HubClient, running_hub

WRONG = "wrong password!!"


def addr(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{n}"}


@pytest.fixture
def proxied(settings: Settings) -> Settings:
    return settings.replace(trusted_proxy_header="X-Forwarded-For")


@pytest.fixture
async def phub(proxied: Settings, smtp: SmtpSink, aiohttp_server: Any) -> AsyncIterator[HubClient]:
    async with running_hub(proxied, smtp, aiohttp_server) as client:
        yield client


async def login(hub: HubClient, email: str, password: str, n: int) -> tuple[int, Any]:
    return await hub.request("POST", "/api/auth/login", json={"email": email, "password": password},
                             headers=addr(n))


async def test_a_stranger_guessing_cannot_lock_the_owner_out(phub: HubClient) -> None:
    owner = await phub.user()
    statuses = [(await login(phub, owner["email"], WRONG, 66))[0] for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429
    # The owner, from the address they use, still gets in (they may need to raise an SOS).
    status, body = await login(phub, owner["email"], DEFAULT_PASSWORD, 1)
    assert status == 200, body
    # And from an address never seen before, too: the stranger only locked out himself.
    status, body = await login(phub, owner["email"], DEFAULT_PASSWORD, 2)
    assert status == 200, body


async def test_one_address_is_limited_across_emails(proxied: Settings, smtp: SmtpSink,
                                                    aiohttp_server: Any) -> None:
    async with running_hub(proxied.replace(auth_client_rate_limit=5), smtp, aiohttp_server) as hub:
        statuses = [(await login(hub, f"nobody-{i}@example.org", WRONG, 9))[0] for i in range(7)]
        assert statuses == [401] * 5 + [429] * 2
        status, _ = await login(hub, "nobody-0@example.org", WRONG, 10)
        assert status == 401  # another address is not affected


async def test_many_addresses_on_one_email_spare_addresses_that_signed_in_before(
        proxied: Settings, smtp: SmtpSink, aiohttp_server: Any) -> None:
    async with running_hub(proxied.replace(auth_email_rate_limit=4), smtp, aiohttp_server) as hub:
        owner = await hub.user()  # signed in once, from the TCP peer (no header)
        status, _ = await login(hub, owner["email"], DEFAULT_PASSWORD, 1)
        assert status == 200
        # A botnet: one guess from each of many addresses.
        statuses = [(await login(hub, owner["email"], WRONG, 100 + i))[0] for i in range(6)]
        assert statuses[-1] == 429 and statuses.count(401) <= 3
        # The owner's addresses still work; only new addresses wait for the window.
        status, body = await login(hub, owner["email"], DEFAULT_PASSWORD, 1)
        assert status == 200, body
        status, _ = await login(hub, owner["email"], DEFAULT_PASSWORD, 200)
        assert status == 429


async def test_the_proxy_header_is_ignored_unless_configured(settings: Settings, smtp: SmtpSink,
                                                             aiohttp_server: Any) -> None:
    async with running_hub(settings.replace(auth_client_rate_limit=3), smtp, aiohttp_server) as hub:
        statuses = [(await login(hub, f"nobody-{i}@example.org", WRONG, i))[0] for i in range(4)]
        assert statuses == [401] * 3 + [429]  # all from the TCP peer, whatever the header says


async def test_registration_is_limited_per_client_address(proxied: Settings, smtp: SmtpSink,
                                                          aiohttp_server: Any) -> None:
    async with running_hub(proxied.replace(register_rate_limit=3), smtp, aiohttp_server) as hub:
        def payload() -> dict[str, Any]:
            return {"email": f"r-{uuid.uuid4().hex[:8]}@example.org", "password": DEFAULT_PASSWORD,
                    "display_name": "R", "country": "IN", "city": "Aizawl"}
        statuses = [(await hub.request("POST", "/api/auth/register", json=payload(), headers=addr(5)))[0]
                    for _ in range(4)]
        assert statuses == [201, 201, 201, 429]
        status, _ = await hub.request("POST", "/api/auth/register", json=payload(), headers=addr(6))
        assert status == 201
        users = hub.services["accounts"].infra.store["users"]
        assert await users.count_documents({}) == 4


async def test_a_login_flood_is_shed_and_the_server_stays_responsive(proxied: Settings, smtp: SmtpSink,
                                                                      aiohttp_server: Any) -> None:
    async with running_hub(proxied.replace(password_hash_concurrency=1, auth_client_rate_limit=0,
                                           auth_email_rate_limit=0), smtp, aiohttp_server) as hub:
        async def one(i: int) -> tuple[int, Any]:
            return await login(hub, f"flood-{i}@example.org", WRONG, i % 250)

        flood = [asyncio.create_task(one(i)) for i in range(60)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        status, _ = await hub.request("GET", "/healthz")
        health_secs = time.monotonic() - started
        results = await asyncio.gather(*flood)
        codes = [s for s, _ in results]
        assert status == 200 and health_secs < 1.0, health_secs
        assert set(codes) == {401, 429} and codes.count(429) >= 30, codes
        shed = [b for s, b in results if s == 429]
        assert all(b["error"]["code"] == "rate_limited" for b in shed)


async def test_sos_pin_change_shares_the_login_limit(phub: HubClient) -> None:
    """A stolen 15-minute access token is not a way to guess the password without limit."""
    owner = await phub.user()
    pins = {"password": WRONG, "sos_pin": "1234", "duress_pin": "9876"}
    statuses = []
    for _ in range(6):
        status, _ = await phub.request("PUT", "/api/me/sos-pins", token=owner["access_token"], json=pins,
                                       headers=addr(77))
        statuses.append(status)
    for _ in range(6):
        status, _ = await login(phub, owner["email"], WRONG, 77)
        statuses.append(status)
    assert statuses[:10] == [403] * 6 + [401] * 4 and statuses[10:] == [429, 429]
    status, body = await phub.request("PUT", "/api/me/sos-pins", token=owner["access_token"],
                                      json={**pins, "password": DEFAULT_PASSWORD}, headers=addr(77))
    assert status == 429 and body["error"]["code"] == "rate_limited"


async def _advance_session_clock(hub: HubClient, user_id: str, secs: float) -> None:
    """As if ``secs`` passed: every time stamp of the user's sessions moves back by ``secs``."""
    sessions = hub.services["accounts"].infra.store["sessions"]
    async for doc in sessions.find({"user_id": user_id}):
        moved = {k: v - dt.timedelta(seconds=secs) for k, v in doc.items() if isinstance(v, dt.datetime)}
        await sessions.update_one({"_id": doc["_id"]}, {"$set": moved})


async def test_the_refresh_grace_window_does_not_slide_with_replays(hub: HubClient) -> None:
    """Replaying the rotated token every 20 s must not keep it alive beyond 30 s from its rotation."""
    session = await hub.user()
    old = session["refresh_token"]
    status, _ = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": old})
    assert status == 200
    await _advance_session_clock(hub, session["user"]["id"], 20)
    status, replayed = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": old})
    assert status == 200  # within the grace window of the rotation
    await _advance_session_clock(hub, session["user"]["id"], 20)
    status, body = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": old})
    assert status == 401 and body["error"]["code"] == "refresh_invalid"
    status, _ = await hub.request("GET", "/api/me", token=replayed["access_token"])
    assert status == 401  # reuse past the window ended the session
