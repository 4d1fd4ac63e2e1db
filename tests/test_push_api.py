"""The push routes under attack: bad input changes nothing, nobody reaches another's
subscriptions, subscriptions are bounded, and a signed-out device gets no more pushes."""

# ruff: noqa: F811  (fixtures imported from the helper modules are parameters here)
from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.support import HubClient
from tests.test_push import dm, hub, quiet  # noqa: F401 (fixtures)
from tests.test_push_support import (  # noqa: F401 (fixtures)
    BrowserSubscription,
    PushServiceSink,
    b64u,
    decrypted,
    push_sink,
    subscribe,
)
from tests.test_sos_helpers import account, node_factory  # noqa: F401 (fixtures)


async def subscription_count(hub: HubClient) -> int:
    return int(await hub.services["push"].infra.store["push_subscriptions"].count_documents({}))


async def test_bad_subscriptions_are_refused_and_change_nothing(hub: HubClient, push_sink: PushServiceSink) -> None:
    member = await account(hub, "Member")
    token = member["access_token"]
    good = push_sink.subscription().to_json()

    def variant(**changes: Any) -> dict[str, Any]:
        body = {**good, "keys": dict(good["keys"])}
        for key, value in changes.items():
            if key in ("p256dh", "auth"):
                body["keys"][key] = value
            else:
                body[key] = value
        return body

    cases: list[tuple[Any, int, str]] = [
        # not a push service the server may call (SSRF): plain http, private hosts, look-alikes
        (variant(endpoint="http://fcm.googleapis.com/fcm/send/abc"), 400, "push_endpoint_not_allowed"),
        (variant(endpoint="https://127.0.0.1/push/abc"), 400, "push_endpoint_not_allowed"),
        (variant(endpoint="https://169.254.169.254/latest/meta-data"), 400, "push_endpoint_not_allowed"),
        (variant(endpoint="https://fcm.googleapis.com.evil.example/x"), 400, "push_endpoint_not_allowed"),
        (variant(endpoint="https://evilfcm.googleapis.com/x"), 400, "push_endpoint_not_allowed"),
        (variant(endpoint="https://fcm.googleapis.com:8443/x"), 400, "push_endpoint_not_allowed"),
        (variant(endpoint="https://user:pw@fcm.googleapis.com/x"), 400, "push_endpoint_not_allowed"),
        (variant(endpoint=push_sink.origin.replace("127.0.0.1", "localhost") + "/push/x"), 400,
         "push_endpoint_not_allowed"),
        # keys: not a P-256 point, wrong lengths, not base64url, operators
        (variant(p256dh=b64u(b"\x04" + b"\x01" * 64)), 400, "push_keys_invalid"),
        (variant(p256dh=b64u(b"\x02" + b"\x01" * 32)), 400, "push_keys_invalid"),
        (variant(auth=b64u(b"\x00" * 12)), 400, "push_keys_invalid"),
        (variant(auth="not base64!!!!!!!!"), 400, "invalid_payload"),
        (variant(auth={"$gt": ""}), 400, "invalid_payload"),
        (variant(endpoint={"$ne": None}), 400, "invalid_payload"),
        ({**good, "user_id": member["id"]}, 400, "invalid_payload"),
        ({"endpoint": good["endpoint"]}, 400, "invalid_payload"),
        ([good], 400, "invalid_payload"),
    ]
    for body, status, code in cases:
        got, answer = await hub.request("POST", "/api/push/subscriptions", token, json=body)
        assert (got, answer["error"]["code"]) == (status, code), body
    status, answer = await hub.request("POST", "/api/push/subscriptions", None, json=good)
    assert status == 401
    assert await subscription_count(hub) == 0


async def test_nobody_reaches_another_persons_subscriptions(hub: HubClient, push_sink: PushServiceSink) -> None:
    owner = await account(hub, "Owner")
    outsider = await account(hub, "Outsider")
    phone = push_sink.subscription()
    await subscribe(hub, owner["access_token"], phone)
    status, body = await hub.request("DELETE", "/api/push/subscriptions", outsider["access_token"],
                                     json={"endpoint": phone.endpoint})
    assert status == 200 and body["removed"] == 0
    status, body = await hub.request("GET", "/api/push/subscriptions", outsider["access_token"])
    assert status == 200 and body["subscriptions"] == []
    status, body = await hub.request("GET", "/api/push/subscriptions", owner["access_token"])
    assert [s["endpoint"] for s in body["subscriptions"]] == [phone.endpoint]
    assert "p256dh" not in str(body) and "auth" not in body["subscriptions"][0]
    for method, path in (("GET", "/api/push/subscriptions"), ("DELETE", "/api/push/subscriptions"),
                         ("GET", "/api/me/push-settings"), ("PUT", "/api/me/push-settings")):
        status, body = await hub.request(method, path, None, json={})
        assert status == 401, (method, path)
    status, body = await hub.request("DELETE", "/api/push/subscriptions", owner["access_token"],
                                     json={"endpoint": phone.endpoint})
    assert status == 200 and body["removed"] == 1
    assert await subscription_count(hub) == 0


async def test_settings_are_validated_and_kept_per_user(hub: HubClient) -> None:
    member = await account(hub, "Member")
    token = member["access_token"]
    status, body = await hub.request("GET", "/api/me/push-settings", token)
    assert status == 200 and body["settings"] == {"dms": True, "mentions": True, "previews": False, "sos": True}
    for bad in ({"dms": "no"}, {"dms": 0}, {"$set": {"dms": False}}, {"user_id": member["id"], "dms": False}):
        status, body = await hub.request("PUT", "/api/me/push-settings", token, json=bad)
        assert status == 400 and body["error"]["code"] == "invalid_payload", bad
    status, body = await hub.request("PUT", "/api/me/push-settings", token, json={"mentions": False})
    assert status == 200 and body["settings"]["mentions"] is False and body["settings"]["dms"] is True
    other = await account(hub, "Other")
    status, body = await hub.request("GET", "/api/me/push-settings", other["access_token"])
    assert body["settings"]["mentions"] is True


async def test_subscriptions_are_bounded_and_an_endpoint_belongs_to_its_last_subscriber(
        hub: HubClient, push_sink: PushServiceSink) -> None:
    member = await account(hub, "Member")
    phones = [push_sink.subscription() for _ in range(12)]
    for phone in phones:
        await subscribe(hub, member["access_token"], phone)
    status, body = await hub.request("GET", "/api/push/subscriptions", member["access_token"])
    assert {s["endpoint"] for s in body["subscriptions"]} == {p.endpoint for p in phones[2:]}
    # the same browser signed in as someone else: the endpoint is theirs now
    other = await account(hub, "Other")
    await subscribe(hub, other["access_token"], phones[-1])
    status, body = await hub.request("GET", "/api/push/subscriptions", member["access_token"])
    assert len(body["subscriptions"]) == 9


async def test_a_device_that_logged_out_gets_no_more_pushes(hub: HubClient, push_sink: PushServiceSink) -> None:
    officer = await account(hub, "Officer", role="officer")
    sock = await hub.connect(officer["access_token"])
    member = await account(hub, "Member")
    phone = push_sink.subscription()
    await subscribe(hub, member["access_token"], phone)
    await dm(hub, officer, sock, member, "first")
    [arrival] = await push_sink.wait_for(phone)
    assert decrypted(phone, arrival)["kind"] == "dm"
    status, _ = await hub.request("POST", "/api/auth/logout", member["access_token"], json={})
    assert status in (200, 204)
    await dm(hub, officer, sock, member, "second " + uuid.uuid4().hex)
    await quiet(hub, sock)
    assert len(push_sink.to(phone)) == 1
    assert await subscription_count(hub) == 0


async def test_subscribing_is_rate_limited_per_user(hub: HubClient, push_sink: PushServiceSink) -> None:
    member = await account(hub, "Member")
    for _ in range(30):
        await subscribe(hub, member["access_token"], push_sink.subscription())
    status, body = await hub.request("POST", "/api/push/subscriptions", member["access_token"],
                                     json=push_sink.subscription().to_json())
    assert status == 429 and body["error"]["code"] == "rate_limited"
    other = await account(hub, "Other")
    await subscribe(hub, other["access_token"], push_sink.subscription())


async def test_one_endpoint_subscribed_many_times_at_once_is_stored_once(
        hub: HubClient, push_sink: PushServiceSink) -> None:
    member = await account(hub, "Member")
    phone = push_sink.subscription()
    answers = await asyncio.gather(*(hub.request("POST", "/api/push/subscriptions", member["access_token"],
                                                 json=phone.to_json()) for _ in range(5)))
    assert all(status in (201, 503) for status, _ in answers), answers
    assert any(status == 201 for status, _ in answers)
    assert await subscription_count(hub) == 1
