"""Web Push end to end: a real hubchat (as app.py wires it) on a TCP port, real Socket.IO
clients, Redis, the embedded store, and a push service on a real port that checks VAPID and
whose browser-side subscriptions decrypt what arrives (tests/test_push_support.py)."""

# ruff: noqa: F811  (fixtures imported from the helper modules are parameters here)
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hubchat.clock import ManualClock
from hubchat.config import Settings
from tests.support import HubClient, Recorder
from tests.test_push_support import (  # noqa: F401 (fixtures)
    BrowserSubscription,
    PushServiceSink,
    decrypted,
    outbox_states,
    push_settings,
    push_sink,
    subscribe,
)
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DURESS_PIN,
    GURUGRAM,
    Node,
    account,
    association,
    join_association,
    node_factory,
    officer_on_duty,
    person,
    settled,
    trigger,
    wait_until,
)
from tests.test_sos_helpers import fast as sos_fast

FINAL = {"sent", "gone", "failed", "dropped"}


@pytest.fixture
async def hub(settings: Settings, push_sink: PushServiceSink,
              node_factory: Callable[[Settings], Awaitable[Node]]) -> HubClient:
    node = await node_factory(sos_fast(push_settings(settings, push_sink)))
    assert node.client is not None
    return node.client


async def outbox_done(hub: HubClient) -> None:
    """Every stored push has reached a final state."""
    async def done() -> bool:
        return all(state in FINAL for state in await outbox_states(hub))
    await wait_until(done, timeout=10.0)


async def quiet(hub: HubClient, *recs: Recorder) -> None:
    """The node's follow-up work (dispatch, message listeners) ran and every stored push ended."""
    await settled(hub, *recs)
    await outbox_done(hub)


async def dm(hub: HubClient, sender: dict[str, Any], sock: Recorder, to: dict[str, Any], body: str) -> dict[str, Any]:
    opened = await sock.call("dm:open", {"user_id": to["id"]})
    assert "channel" in opened, opened
    ack = await sock.call("message:send", {"channel_id": opened["channel"]["id"],
                                           "client_msg_id": uuid.uuid4().hex, "body": body})
    assert "message" in ack, ack
    message: dict[str, Any] = ack["message"]
    return message


# ---------------------------------------------------------------- SOS
async def test_a_new_sos_reaches_officers_on_duty_as_a_push_that_names_only_the_country(
        hub: HubClient, push_sink: PushServiceSink) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    officer_phone = push_sink.subscription()
    await subscribe(hub, officer["access_token"], officer_phone)
    off_duty = await account(hub, "Off Duty", role="officer")
    off_duty_phone = push_sink.subscription()
    await subscribe(hub, off_duty["access_token"], off_duty_phone)
    someone = await person(hub, "Lalremruati")
    their_phone = push_sink.subscription()
    await subscribe(hub, someone["access_token"], their_phone)
    sock = await hub.connect(someone["access_token"])

    alert = await trigger(sock, note="Chest pain near the market", category="medical")
    [arrival] = await push_sink.wait_for(officer_phone)
    payload = decrypted(officer_phone, arrival)
    assert payload == {"v": 1, "kind": "sos", "title": "New SOS alert", "body": "IN",
                       "tag": f"sos-{alert['id']}", "url": f"/#/console/{alert['id']}"}
    assert arrival.headers["Urgency"] == "high" and arrival.headers["TTL"] == "86400"
    assert arrival.claims["aud"] == push_sink.origin
    status, key = await hub.request("GET", "/api/push/key")
    assert status == 200 and arrival.vapid_key == key["public_key"]
    # the push service sees ciphertext only
    for secret in (b"Lalremruati", b"Chest", b"IN", b"sos"):
        assert secret not in arrival.body

    await quiet(hub, officer_sock, sock)
    assert push_sink.to(off_duty_phone) == [] and push_sink.to(their_phone) == []
    assert push_sink.refused == []
    # the same alert triggered again is not a new alert: no second push
    await trigger(sock)
    await quiet(hub, officer_sock, sock)
    assert len(push_sink.to(officer_phone)) == 1


async def test_a_duress_alert_gives_exactly_the_push_of_any_other_alert(
        hub: HubClient, push_sink: PushServiceSink) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    phone = push_sink.subscription()
    await subscribe(hub, officer["access_token"], phone)
    forced = await person(hub, "Forced Person")
    forced_sock = await hub.connect(forced["access_token"])
    calm = await person(hub, "Calm Person")
    calm_sock = await hub.connect(calm["access_token"])

    first = await trigger(forced_sock, category="violence", note="he is here")
    await push_sink.wait_for(phone, 1)
    ack = await forced_sock.call("sos:cancel", {"alert_id": first["id"], "pin": DURESS_PIN})
    assert ack["alert"]["status"] == "cancelled"  # what the phone shows
    second = await trigger(calm_sock, category="violence", note="he is here")
    await push_sink.wait_for(phone, 2)
    await quiet(hub, officer_sock, forced_sock, calm_sock)

    pushes = [decrypted(phone, a) for a in push_sink.to(phone)]
    assert len(pushes) == 2  # the duress "cancel" sends nothing more

    def without_id(payload: dict[str, Any], alert_id: str) -> str:
        return str(payload).replace(alert_id, "ID")
    assert without_id(pushes[0], first["id"]) == without_id(pushes[1], second["id"])
    assert [a.headers["Urgency"] for a in push_sink.to(phone)] == ["high", "high"]
    # once sent, the outbox keeps neither the payload nor the subscription's keys
    stored = await hub.services["push"].outbox.list()
    assert [(d["state"], d["payload"], d["auth"]) for d in stored] == [("sent", None, None)] * 2


async def test_an_officer_who_turned_sos_pushes_off_gets_none(hub: HubClient, push_sink: PushServiceSink) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    phone = push_sink.subscription()
    await subscribe(hub, officer["access_token"], phone)
    status, body = await hub.request("PUT", "/api/me/push-settings", officer["access_token"], json={"sos": False})
    assert status == 200 and body["settings"]["sos"] is False
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    await trigger(sock)
    await quiet(hub, officer_sock, sock)
    assert push_sink.to(phone) == []


# ---------------------------------------------------------------- DMs and mentions
async def test_a_direct_message_is_pushed_with_the_sender_name_and_a_preview_only_when_allowed(
        hub: HubClient, push_sink: PushServiceSink) -> None:
    officer = await account(hub, "Officer Zosangi", role="officer")
    officer_sock = await hub.connect(officer["access_token"])
    member = await account(hub, "Member Lalmuan")
    phone = push_sink.subscription()
    await subscribe(hub, member["access_token"], phone)
    sender_phone = push_sink.subscription()
    await subscribe(hub, officer["access_token"], sender_phone)

    message = await dm(hub, officer, officer_sock, member, "Your passport is ready at the embassy")
    [arrival] = await push_sink.wait_for(phone)
    assert decrypted(phone, arrival) == {"v": 1, "kind": "dm", "title": "Officer Zosangi", "body": "New message",
                                         "tag": f"chat-{message['channel_id']}",
                                         "url": f"/#/chat/{message['channel_id']}"}
    assert arrival.headers["Urgency"] == "normal" and arrival.headers["TTL"] == "3600"

    status, body = await hub.request("PUT", "/api/me/push-settings", member["access_token"], json={"previews": True})
    assert status == 200 and body["settings"] == {"dms": True, "mentions": True, "previews": True, "sos": True}
    await dm(hub, officer, officer_sock, member, "Bring   two\nphotos")
    second = (await push_sink.wait_for(phone, 2))[1]
    assert decrypted(phone, second)["body"] == "Bring two photos"

    # an edit is not a new message
    await officer_sock.call("message:edit", {"message_id": message["id"], "body": "edited"})
    status, _ = await hub.request("PUT", "/api/me/push-settings", member["access_token"], json={"dms": False})
    await dm(hub, officer, officer_sock, member, "not pushed")
    await quiet(hub, officer_sock)
    assert len(push_sink.to(phone)) == 2 and push_sink.to(sender_phone) == []


async def test_a_mention_in_an_association_channel_is_pushed_to_the_member_named(
        hub: HubClient, push_sink: PushServiceSink) -> None:
    officer = await account(hub, "Reviewer", role="officer")
    bearer = await account(hub, "Pu Thanga")
    association_id = await association(hub, officer, bearer, GURUGRAM)
    member = await account(hub, "Mami")
    bystander = await account(hub, "Other Member")
    await join_association(hub, member, bearer, association_id)
    await join_association(hub, bystander, bearer, association_id)
    bearer_phone, bystander_phone = push_sink.subscription(), push_sink.subscription()
    await subscribe(hub, bearer["access_token"], bearer_phone)
    await subscribe(hub, bystander["access_token"], bystander_phone)
    channel = await hub.services["channels"].channel_repo.by_key(f"association:{association_id}")
    sock = await hub.connect(member["access_token"])

    ack = await sock.call("message:send", {"channel_id": channel["_id"], "client_msg_id": uuid.uuid4().hex,
                                           "body": "@pu thanga can we meet on Sunday?"})
    assert "message" in ack, ack
    [arrival] = await push_sink.wait_for(bearer_phone)
    assert decrypted(bearer_phone, arrival) == {"v": 1, "kind": "mention", "title": "Mami mentioned you",
                                                "body": "New mention", "tag": f"chat-{channel['_id']}",
                                                "url": f"/#/chat/{channel['_id']}"}
    await sock.call("message:send", {"channel_id": channel["_id"], "client_msg_id": uuid.uuid4().hex,
                                     "body": "email pu@thanga.org or write to Pu Thanga"})
    await quiet(hub, sock)
    assert len(push_sink.to(bearer_phone)) == 1 and push_sink.to(bystander_phone) == []


# ---------------------------------------------------------------- the push service's answers
async def test_a_subscription_the_push_service_calls_gone_is_removed(
        hub: HubClient, push_sink: PushServiceSink) -> None:
    officer = await account(hub, "Officer", role="officer")
    sock = await hub.connect(officer["access_token"])
    member = await account(hub, "Member")
    phone = push_sink.subscription()
    await subscribe(hub, member["access_token"], phone)
    push_sink.answers = [410]
    await dm(hub, officer, sock, member, "hello")
    await push_sink.wait_for(phone)
    await quiet(hub, sock)
    assert await outbox_states(hub) == ["gone"]
    status, body = await hub.request("GET", "/api/push/subscriptions", member["access_token"])
    assert status == 200 and body["subscriptions"] == []
    await dm(hub, officer, sock, member, "again")
    await quiet(hub, sock)
    assert len(push_sink.to(phone)) == 1


async def test_a_push_service_outage_is_retried_from_the_outbox_and_delivered_once(
        hub: HubClient, push_sink: PushServiceSink, clock: ManualClock) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    phone = push_sink.subscription()
    await subscribe(hub, officer["access_token"], phone)
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    push_sink.answers = [503, 429]
    alert = await trigger(sock)
    await push_sink.wait_for(phone, 1)  # 503; then 429 and 201, each once its backoff passed

    async def pending() -> bool:
        return await outbox_states(hub) == ["pending"]
    outbox = hub.services["push"].outbox
    for expected in (2, 3):
        await wait_until(pending)
        clock.advance(120)
        outbox.wake()
        await push_sink.wait_for(phone, expected)
    await quiet(hub, officer_sock, sock)
    arrivals = push_sink.to(phone)
    assert len(arrivals) == 3 and await outbox_states(hub) == ["sent"]
    assert {decrypted(phone, a)["tag"] for a in arrivals} == {f"sos-{alert['id']}"}
    # each attempt is encrypted anew
    assert len({a.body for a in arrivals}) == 3
