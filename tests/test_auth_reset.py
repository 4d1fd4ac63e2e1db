"""Unverified accounts expire, and a forgotten password is reset by an emailed code (issue 8 item 20)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubchat.config import Settings
from tests.conftest import SmtpSink
from tests.support import DEFAULT_PASSWORD, HubClient, running_hub

NEW_PASSWORD = "a brand new passphrase"


def registration(email: str, password: str = DEFAULT_PASSWORD, name: str = "R") -> dict[str, Any]:
    return {"email": email, "password": password, "display_name": name, "country": "IN", "city": "Aizawl"}


async def reset_code(hub: HubClient, email: str, nth: int = 1) -> str:
    def resets() -> list[Any]:
        return [m for m in hub.smtp.to(email) if "reset code" in str(m["Subject"]).lower()]

    async with asyncio.timeout(10):
        while len(resets()) < nth:
            await asyncio.sleep(0.02)
    text = resets()[nth - 1].get_payload(decode=True).decode()
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)


async def wait_disconnected(rec: Any) -> None:
    async with asyncio.timeout(5):
        while rec.sio.connected:
            await asyncio.sleep(0.02)


@pytest.fixture
async def two_hubs(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> AsyncIterator[tuple[HubClient,
                                                                                                     HubClient]]:
    """Two nodes in this process sharing the store and Redis (cross-node paths go through Redis)."""
    async with running_hub(settings.replace(node_id="node-a"), smtp, aiohttp_server) as a:
        async with running_hub(settings.replace(node_id="node-b"), smtp, aiohttp_server) as b:
            yield a, b


async def test_an_unverified_account_older_than_a_day_gives_way_to_the_real_owner(hub: HubClient) -> None:
    email = f"victim-{uuid.uuid4().hex[:8]}@example.org"
    status, _ = await hub.request("POST", "/api/auth/register", json=registration(email, "squatter password"))
    assert status == 201
    users = hub.services["accounts"].infra.store["users"]
    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    await users.update_one({"email": email}, {"$set": {"created_at": day_ago}})

    status, body = await hub.request("POST", "/api/auth/register", json=registration(email, name="Owner"))
    assert status == 201, body
    code = await hub.verification_code(email, nth=2)
    status, body = await hub.request("POST", "/api/auth/verify", json={"email": email, "code": code})
    assert status == 200 and body["user"]["display_name"] == "Owner"
    await hub.login(email)
    status, _ = await hub.request("POST", "/api/auth/login", json={"email": email, "password": "squatter password"})
    assert status == 401
    assert await users.count_documents({"email": email}) == 1


async def test_a_fresh_unverified_account_is_not_replaced(hub: HubClient) -> None:
    email = f"fresh-{uuid.uuid4().hex[:8]}@example.org"
    await hub.register(email, display_name="First")
    await hub.request("POST", "/api/auth/register", json=registration(email, "other password", "Second"))
    users = hub.services["accounts"].infra.store["users"]
    doc = await users.find_one({"email": email})
    assert doc is not None and doc["display_name"] == "First"


async def test_password_reset_by_emailed_code_ends_every_session_on_every_node(
        two_hubs: tuple[HubClient, HubClient]) -> None:
    a, b = two_hubs
    person = await a.user()
    other_session = await b.login(person["email"])
    socket_a = await a.connect(person["access_token"])
    socket_b = await b.connect(other_session["access_token"])

    status, body = await a.request("POST", "/api/auth/password-reset", json={"email": person["email"]})
    assert status == 202, body
    code = await reset_code(a, person["email"])
    status, body = await a.request("POST", "/api/auth/password-reset/confirm",
                                   json={"email": person["email"], "code": code, "password": NEW_PASSWORD})
    assert status == 204, body

    await wait_disconnected(socket_a)
    await wait_disconnected(socket_b)  # the other node closed it
    for hub, session in ((a, person), (b, other_session)):
        status, _ = await hub.request("GET", "/api/me", token=session["access_token"])
        assert status == 401
        status, _ = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
        assert status == 401
    status, _ = await a.request("POST", "/api/auth/login", json={"email": person["email"],
                                                                  "password": DEFAULT_PASSWORD})
    assert status == 401
    await a.login(person["email"], NEW_PASSWORD)
    # The code worked once.
    status, body = await a.request("POST", "/api/auth/password-reset/confirm",
                                   json={"email": person["email"], "code": code, "password": "yet another one!"})
    assert status == 400 and body["error"]["code"] == "code_invalid"


async def test_password_reset_answers_alike_for_unknown_emails_and_refuses_wrong_codes(hub: HubClient) -> None:
    person = await hub.user()
    known = await hub.request("POST", "/api/auth/password-reset", json={"email": person["email"]})
    unknown = await hub.request("POST", "/api/auth/password-reset", json={"email": "nobody-x@example.org"})
    assert known == unknown and known[0] == 202
    code = await reset_code(hub, person["email"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        status, body = await hub.request("POST", "/api/auth/password-reset/confirm",
                                         json={"email": person["email"], "code": wrong, "password": NEW_PASSWORD})
        assert status == 400 and body["error"]["code"] == "code_invalid"
    # Five wrong tries used the code up.
    status, body = await hub.request("POST", "/api/auth/password-reset/confirm",
                                     json={"email": person["email"], "code": code, "password": NEW_PASSWORD})
    assert status == 400 and body["error"]["code"] == "code_invalid"
    await hub.login(person["email"])  # unchanged


async def test_password_reset_requests_are_rate_limited(hub: HubClient) -> None:
    person = await hub.user()
    statuses = [(await hub.request("POST", "/api/auth/password-reset", json={"email": person["email"]}))[0]
                for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    await hub.smtp.wait_for(person["email"], count=4)  # the verification code and three reset codes
    await asyncio.sleep(0.05)
    assert len(hub.smtp.to(person["email"])) == 4
