"""Accounts over real HTTP and Socket.IO: registration, verification, login, refresh, logout."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
import socketio

from hubchat.auth.service import REFRESH_REUSE_GRACE_SECS
from tests.support import DEFAULT_PASSWORD, HubClient, Recorder


async def test_register_verify_login_me(hub: HubClient) -> None:
    user = await hub.register(display_name="Lalremruati", language="lus", country="AE", city="Dubai")
    assert user["verified"] is False and user["language"] == "lus" and "password_hash" not in user
    status, body = await hub.request("POST", "/api/auth/login",
                                     json={"email": user["email"], "password": DEFAULT_PASSWORD})
    assert status == 403 and body["error"]["code"] == "email_unverified"

    code = await hub.verification_code(user["email"])
    status, body = await hub.request("POST", "/api/auth/verify", json={"email": user["email"], "code": code})
    assert status == 200 and body["user"]["verified"] is True

    session = await hub.login(user["email"])
    assert session["token_type"] == "Bearer" and session["expires_in"] == 900
    status, body = await hub.request("GET", "/api/me", token=session["access_token"])
    assert status == 200 and body["user"]["display_name"] == "Lalremruati" and body["user"]["country"] == "AE"


async def test_duplicate_email_changes_nothing(hub: HubClient) -> None:
    user = await hub.register()
    status, body = await hub.request("POST", "/api/auth/register", json={
        "email": user["email"].upper(), "password": DEFAULT_PASSWORD, "display_name": "Again",
        "country": "IN", "city": "Aizawl"})
    assert status == 201 and body["user"]["id"] != user["id"]  # answered like a new one (no enumeration)
    stored = await hub.services["accounts"].infra.store["users"].find({"email": user["email"]}).to_list()
    assert [u["_id"] for u in stored] == [user["id"]]


async def test_wrong_code_and_attempt_limit(hub: HubClient) -> None:
    user = await hub.register()
    code = await hub.verification_code(user["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        status, body = await hub.request("POST", "/api/auth/verify", json={"email": user["email"], "code": wrong})
        assert status == 400 and body["error"]["code"] == "code_invalid"
    # Attempts are used up: even the right code no longer works until a new one is sent.
    status, body = await hub.request("POST", "/api/auth/verify", json={"email": user["email"], "code": code})
    assert status in (400, 429)
    status, _ = await hub.request("POST", "/api/auth/resend-code", json={"email": user["email"]})
    assert status == 202


async def test_resend_gives_a_new_working_code(hub: HubClient) -> None:
    user = await hub.register()
    await hub.verification_code(user["email"])
    status, _ = await hub.request("POST", "/api/auth/resend-code", json={"email": user["email"]})
    assert status == 202
    code = await hub.verification_code(user["email"], nth=2)
    status, body = await hub.request("POST", "/api/auth/verify", json={"email": user["email"], "code": code})
    assert status == 200 and body["user"]["verified"]


async def test_wrong_password_and_unknown_email_look_the_same(hub: HubClient) -> None:
    session = await hub.user()
    for email, password in ((session["email"], "wrong password!"), ("nobody@example.org", DEFAULT_PASSWORD)):
        status, body = await hub.request("POST", "/api/auth/login", json={"email": email, "password": password})
        assert status == 401 and body["error"]["code"] == "invalid_credentials"


async def test_refresh_rotates_and_reuse_revokes_the_session(hub: HubClient) -> None:
    session = await hub.user()
    status, first = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert status == 200 and first["refresh_token"] != session["refresh_token"]
    status, second = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert status == 200
    status, _ = await hub.request("GET", "/api/me", token=second["access_token"])
    assert status == 200

    # A token rotated two steps ago comes back: theft is assumed and the whole session ends.
    status, body = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert status == 401 and body["error"]["code"] == "refresh_invalid"
    first = second
    status, body = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert status == 401
    status, body = await hub.request("GET", "/api/me", token=first["access_token"])
    assert status == 401 and body["error"]["code"] == "session_revoked"


async def test_logout_revokes_tokens_and_closes_sockets(hub: HubClient) -> None:
    session = await hub.user()
    rec = await hub.connect(session["access_token"])
    assert rec.sio.connected
    status, _ = await hub.request("POST", "/api/auth/logout", token=session["access_token"])
    assert status == 204
    for _ in range(100):
        if not rec.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not rec.sio.connected
    status, _ = await hub.request("GET", "/api/me", token=session["access_token"])
    assert status == 401
    status, _ = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert status == 401


async def _refused(hub: HubClient, auth: Any) -> Any:
    rec = Recorder()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await rec.sio.connect(hub.base_url, auth=auth, transports=["websocket"], wait_timeout=5)
    assert isinstance(rec.connect_error, dict) and rec.connect_error["message"], rec.connect_error
    return rec.connect_error["data"]


@pytest.mark.parametrize("auth", [None, {}, {"token": ""}, {"token": "not.a.jwt"}, {"token": {"$gt": ""}},
                                  {"token": "x", "user_id": "0" * 24}])
async def test_socket_without_valid_token_is_refused(hub: HubClient, auth: Any) -> None:
    error = await _refused(hub, auth)
    assert error["code"] in {"token_missing", "token_invalid"} and error["message"]


async def test_socket_with_a_token_signed_by_another_key_is_refused(hub: HubClient) -> None:
    import time

    import jwt

    session = await hub.user()
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    attacker_key = "guessed-by-an-attacker-" + "x" * 32
    forged = jwt.encode({**claims, "role": "admin", "exp": int(time.time()) + 600}, attacker_key, algorithm="HS256")
    error = await _refused(hub, {"token": forged})
    assert error["code"] == "token_invalid"


async def test_expired_token_is_refused(hub: HubClient) -> None:
    import time

    import jwt

    session = await hub.user()
    signer = hub.services["accounts"].signer
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    expired = jwt.encode({**claims, "iat": int(time.time()) - 3600, "exp": int(time.time()) - 600},
                         signer._secret, algorithm="HS256")
    error = await _refused(hub, {"token": expired})
    assert error["code"] == "token_expired"


@pytest.mark.parametrize("payload, field", [
    ({"email": "a@b.org", "password": "short", "display_name": "A", "country": "IN", "city": "X"}, "password"),
    ({"email": "not-an-email", "password": DEFAULT_PASSWORD, "display_name": "A", "country": "IN", "city": "X"},
     "email"),
    ({"email": {"$gt": ""}, "password": DEFAULT_PASSWORD, "display_name": "A", "country": "IN", "city": "X"},
     "email"),
    ({"email": "a@b.org", "password": DEFAULT_PASSWORD, "display_name": "A", "country": "India", "city": "X"},
     "country"),
    ({"email": "a@b.org", "password": DEFAULT_PASSWORD, "display_name": "A", "country": "IN", "city": "X",
      "role": "officer"}, "role"),
    ({"email": "a@b.org", "password": DEFAULT_PASSWORD, "display_name": "A", "country": "IN", "city": "X",
      "language": "fr"}, "language"),
    ({"email": "a@b.org", "password": DEFAULT_PASSWORD, "display_name": "x" * 81, "country": "IN", "city": "X"},
     "display_name"),
])
async def test_bad_registration_is_refused_and_stores_nothing(hub: HubClient, payload: dict[str, Any],
                                                             field: str) -> None:
    status, body = await hub.request("POST", "/api/auth/register", json=payload)
    assert status == 400 and body["error"]["code"] == "invalid_payload" and field in body["error"]["message"]
    assert await hub.services["accounts"].infra.store["users"].count_documents({}) == 0


async def test_malformed_and_oversized_bodies(hub: HubClient) -> None:
    status, body = await hub.request("POST", "/api/auth/login", data=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "invalid_payload"
    status, body = await hub.request("POST", "/api/auth/login", json=["a", "b"])
    assert status == 400 and body["error"]["code"] == "invalid_payload"
    status, body = await hub.request("POST", "/api/auth/register", json={"email": "a@b.org", "pad": "x" * 70_000})
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    status, body = await hub.request("GET", "/api/no-such-route")
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_login_attempts_are_rate_limited(hub: HubClient) -> None:
    session = await hub.user()
    statuses = []
    for _ in range(12):
        status, body = await hub.request("POST", "/api/auth/login",
                                         json={"email": session["email"], "password": "wrong password!"})
        statuses.append(status)
    assert statuses[:9] == [401] * 9 and statuses[-1] == 429
    assert body["error"]["code"] == "rate_limited" and body["error"]["retry_after_secs"] > 0


async def test_profile_update_cannot_change_role(hub: HubClient) -> None:
    session = await hub.user()
    token = session["access_token"]
    status, body = await hub.request("PATCH", "/api/me", token=token, json={"role": "admin"})
    assert status == 400
    status, body = await hub.request("PATCH", "/api/me", token=token, json={"language": "lus", "city": "Dubai"})
    assert status == 200 and body["user"]["language"] == "lus" and body["user"]["role"] == "member"


async def test_health_readiness_and_metrics(hub: HubClient) -> None:
    status, body = await hub.request("GET", "/healthz")
    assert status == 200 and body == {"status": "ok"}
    status, body = await hub.request("GET", "/readyz")
    assert status == 200 and body == {"ready": True}
    session = await hub.user()
    await hub.connect(session["access_token"])
    status, _ = await hub.request("GET", "/metrics")
    assert status == 404  # metrics are on the ops listener only
    async with hub.http.get(hub.ops_url + "/readyz") as resp:
        assert resp.status == 200 and await resp.json() == {"ready": True, "checks": {"mongodb": True, "redis": True}}
    async with hub.http.get(hub.ops_url + "/metrics") as resp:
        assert resp.status == 200 and "hubchat_socket_connections 1.0" in await resp.text()


async def test_officer_bootstrap_logs_in_as_officer(hub: HubClient) -> None:
    officer = await hub.officer()
    assert officer["user"]["role"] == "officer" and officer["user"]["verified"]
    assert DEFAULT_PASSWORD not in str(officer)


async def test_sos_pins_at_registration_and_later(hub: HubClient) -> None:
    accounts = hub.services["accounts"]
    with_pins = await hub.user(sos_pin="2468", duress_pin="1357")
    assert with_pins["user"]["sos_pins_set"] is True
    assert await accounts.check_sos_pin(with_pins["id"], "2468") == "cancel"
    assert await accounts.check_sos_pin(with_pins["id"], "1357") == "duress"
    assert await accounts.check_sos_pin(with_pins["id"], "0000") == "wrong"

    later = await hub.user()
    assert later["user"]["sos_pins_set"] is False
    assert await accounts.check_sos_pin(later["id"], "2468") == "wrong"
    token = later["access_token"]
    status, body = await hub.request("PUT", "/api/me/sos-pins", token=token,
                                     json={"password": "wrong password!", "sos_pin": "1111", "duress_pin": "2222"})
    assert status == 403
    status, body = await hub.request("PUT", "/api/me/sos-pins", token=token,
                                     json={"password": DEFAULT_PASSWORD, "sos_pin": "1111", "duress_pin": "1111"})
    assert status == 400 and body["error"]["code"] == "pins_equal"
    status, body = await hub.request("PUT", "/api/me/sos-pins", token=token,
                                     json={"password": DEFAULT_PASSWORD, "sos_pin": "12", "duress_pin": "2222"})
    assert status == 400 and body["error"]["code"] == "invalid_payload"
    assert await accounts.check_sos_pin(later["id"], "1111") == "wrong"
    status, body = await hub.request("PUT", "/api/me/sos-pins", token=token,
                                     json={"password": DEFAULT_PASSWORD, "sos_pin": "1111", "duress_pin": "2222"})
    assert status == 200 and body["user"]["sos_pins_set"] is True
    assert await accounts.check_sos_pin(later["id"], "2222") == "duress"


async def test_registration_refuses_half_or_equal_pins(hub: HubClient) -> None:
    base = {"password": DEFAULT_PASSWORD, "display_name": "A", "country": "IN", "city": "X"}
    status, body = await hub.request("POST", "/api/auth/register",
                                     json={**base, "email": "p1@example.org", "sos_pin": "1234"})
    assert status == 400 and body["error"]["code"] == "pins_incomplete"
    status, body = await hub.request("POST", "/api/auth/register",
                                     json={**base, "email": "p2@example.org", "sos_pin": "1234", "duress_pin": "1234"})
    assert status == 400 and body["error"]["code"] == "pins_equal"
    assert await hub.services["accounts"].infra.store["users"].count_documents({}) == 0


async def test_the_token_rotated_just_before_is_honoured_once_more(hub: HubClient) -> None:
    """A page reloaded while its refresh was in flight presents the previous token again: within
    the grace window that rotates again instead of ending the session."""
    session = await hub.user()
    status, lost = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert status == 200
    status, again = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert status == 200 and again["refresh_token"] not in (lost["refresh_token"], session["refresh_token"])
    status, _ = await hub.request("GET", "/api/me", token=again["access_token"])
    assert status == 200
    # The token the reloaded page never saw counts as used: whoever presents it ends the session.
    status, _ = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": lost["refresh_token"]})
    assert status == 401
    status, _ = await hub.request("GET", "/api/me", token=again["access_token"])
    assert status == 401


async def test_the_previous_token_after_the_grace_window_revokes(hub: HubClient) -> None:
    session = await hub.user()
    status, first = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert status == 200
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=REFRESH_REUSE_GRACE_SECS + 5)
    sessions = hub.services["accounts"].infra.store["sessions"]
    await sessions.update_one({"user_id": session["user"]["id"]}, {"$set": {"refreshed_at": old, "rotated_at": old}})
    status, body = await hub.request("POST", "/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert status == 401 and body["error"]["code"] == "refresh_invalid"
    status, _ = await hub.request("GET", "/api/me", token=first["access_token"])
    assert status == 401  # the whole session ended
