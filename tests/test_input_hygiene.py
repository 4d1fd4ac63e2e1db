"""Addresses are one plain address each, and single-line fields hold one line (issue 8 item 17)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from hubchat.errors import Unavailable
from hubchat.mail import Email, Mailer
from tests.support import DEFAULT_PASSWORD, HubClient


def registration(**changes: Any) -> dict[str, Any]:
    return {"email": f"h-{uuid.uuid4().hex[:8]}@example.org", "password": DEFAULT_PASSWORD,
            "display_name": "Hygiene", "country": "IN", "city": "Aizawl", **changes}


@pytest.mark.parametrize("email", [
    "x,attacker@example.org", "x@example.org,attacker@example.org", "a\x00b@example.org",
    "victim@example.org\r\nBcc: attacker@example.org", "Victim <attacker@example.org>",
    "\"a,b\"@example.org", "a b@example.org", "a@b", "tab\t@example.org",
])
async def test_malformed_addresses_are_refused_and_nothing_is_mailed(hub: HubClient, email: str) -> None:
    status, body = await hub.request("POST", "/api/auth/register", json=registration(email=email))
    assert status == 400 and body["error"]["code"] == "invalid_payload", body
    assert "email" in body["error"]["message"]
    assert await hub.services["accounts"].infra.store["users"].count_documents({}) == 0
    status, _ = await hub.request("POST", "/api/auth/resend-code", json={"email": email})
    assert status == 400
    await asyncio.sleep(0.05)
    assert hub.smtp.messages == []


@pytest.mark.parametrize("field, value", [
    ("display_name", "Evil\r\nBcc: attacker@example.org"), ("display_name", "Tab\there"),
    ("city", "Aizawl\nline two"), ("display_name", "Line\u2028separator"), ("city", "N\x85el")])
async def test_single_line_fields_refuse_line_breaks_and_tabs(hub: HubClient, field: str, value: str) -> None:
    status, body = await hub.request("POST", "/api/auth/register", json=registration(**{field: value}))
    assert status == 400 and body["error"]["code"] == "invalid_payload" and field in body["error"]["message"]
    session = await hub.user()
    status, body = await hub.request("PATCH", "/api/me", token=session["access_token"], json={field: value})
    assert status == 400 and field in body["error"]["message"]
    status, body = await hub.request("GET", "/api/me", token=session["access_token"])
    assert body["user"][field] != value


async def test_a_valid_address_is_normalised(hub: HubClient) -> None:
    email = f"Mixed.Case+tag-{uuid.uuid4().hex[:6]}@Example.ORG"
    user = await hub.register(email)
    assert user["email"] == email.lower()


async def test_the_mailer_refuses_a_bad_address_instead_of_crashing(settings: Any, smtp: Any) -> None:
    mailer = Mailer(settings)
    with pytest.raises(Unavailable) as raised:
        await mailer.send(Email(to=("a\x00b@example.org",), subject="s", text="t"))
    assert raised.value.error_code == "mail_failed" and mailer.failed == 1
    # A bad address among good ones is dropped; the others still get the mail.
    await mailer.send(Email(to=("x,attacker@example.org", "good@example.org"), subject="s", text="t"))
    messages = await smtp.wait_for("good@example.org")
    assert "attacker" not in str(messages[0]["To"]) and mailer.sent == 1
    await mailer.close()
