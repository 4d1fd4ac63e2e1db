"""Trusted contacts (issue 14, item 3) against a real server, store, Redis, Socket.IO clients and
SMTP server (aiosmtpd): confirmation first, then raise / acknowledge / close emails, the location
only when allowed, and a duress "cancel" that contacts cannot tell from a real one."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

import re
import uuid
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from hubchat.outbox import OUTBOX
from hubchat.safety.repository import CONTACTS
from hubchat.safety.service import SafetyService
from tests.support import HubClient, settled
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    DURESS_PIN,
    SOS_PIN,
    account,
    dispatched,
    hub,
    node_factory,
    officer_on_duty,
    person,
    scheduler_passes,
    stored_alert,
    trigger,
    wait_until,
)

LINK = re.compile(r"/api/trusted-contacts/confirm\?token=([A-Za-z0-9_-]+)")


def safety(hub: HubClient) -> SafetyService:
    service: SafetyService = hub.services["safety"]
    return service


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def address(name: str = "contact") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@family.example.org"


async def add_contact(hub: HubClient, someone: dict[str, Any], email: str, **fields: Any) -> tuple[int, Any]:
    return await hub.request("POST", "/api/trusted-contacts", token=someone["access_token"],
                             json={"name": fields.pop("name", "Pi Zaii"), "email": email, **fields})


async def confirmed_contact(hub: HubClient, someone: dict[str, Any], email: str, **fields: Any) -> str:
    status, body = await add_contact(hub, someone, email, **fields)
    assert status == 201, body
    token = await confirmation_token(hub, email)
    status, answer = await hub.request("POST", "/api/trusted-contacts/confirm", json={"token": token})
    assert status == 200 and answer["confirmed"] is True, answer
    contact_id: str = body["contact"]["id"]
    return contact_id


async def confirmation_token(hub: HubClient, email: str, nth: int = 1) -> str:
    message = (await hub.smtp.wait_for(email, count=nth))[nth - 1]
    match = LINK.search(body_of(message))
    assert match, body_of(message)
    return match.group(1)


async def barrier(hub: HubClient, *socks: Any) -> None:
    """Everything the node started has been stored: SOS work, then the contacts' emails."""
    await settled(hub, *socks)
    await safety(hub).notifier.drain()


async def contact_mail(hub: HubClient, email: str) -> list[dict[str, Any]]:
    """Every SOS email stored for this contact in the outbox (confirmation left out), oldest first."""
    cursor = safety(hub).repo.coll(OUTBOX).find({"to": email, "tag": {"$regex": "^safety-contact:"}})
    return sorted([doc async for doc in cursor], key=lambda d: (d["created_ms"], d["_id"]))


async def test_confirmed_contacts_hear_of_raise_acknowledge_and_close(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub, "Mawii")
    confirmed = address("mother")
    unconfirmed = address("brother")
    await confirmed_contact(hub, someone, confirmed, relation="mother", language="en")
    status, body = await add_contact(hub, someone, unconfirmed, name="Mafaa")
    assert status == 201 and body["contact"]["confirmed"] is False
    status, listing = await hub.request("GET", "/api/trusted-contacts", token=someone["access_token"])
    assert [(c["email"], c["confirmed"]) for c in listing["contacts"]] == [(confirmed, True), (unconfirmed, False)]

    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock, note="my employer locked me in")
    await dispatched(hub, alert["id"])
    raised = (await hub.smtp.wait_for(confirmed, count=2))[1]  # the confirmation, then the alert
    assert raised["Subject"] == "SOS: Mawii has asked for help"
    text = body_of(raised)
    # no location (not allowed), no note, no category
    assert f"{DELHI[0]:.5f}" not in text and "openstreetmap" not in text
    assert "employer" not in text and "medical" not in text.lower()

    ack = await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": "acknowledge"})
    assert ack["alert"]["status"] == "acknowledged"
    acked = (await hub.smtp.wait_for(confirmed, count=3))[2]
    assert acked["Subject"] == "SOS: the Diaspora Cell is helping Mawii"
    assert "Duty Officer" not in body_of(acked)
    for action in ("respond", "resolve"):
        ack = await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": action})
        assert "alert" in ack, ack
    closed = (await hub.smtp.wait_for(confirmed, count=4))[3]
    assert closed["Subject"] == "SOS: the alert of Mawii is closed"
    assert "resolved by the Diaspora Cell" in body_of(closed)

    await barrier(hub, sock, officer_sock)
    assert [d["tag"] for d in await contact_mail(hub, confirmed)] == [
        "safety-contact:raised", "safety-contact:acknowledged", "safety-contact:closed"]
    # the unconfirmed contact got the confirmation email and nothing else
    assert len(hub.smtp.to(unconfirmed)) == 1 and await contact_mail(hub, unconfirmed) == []


async def test_the_location_only_where_the_person_allowed_it(hub: HubClient) -> None:
    await officer_on_duty(hub)
    someone = await person(hub, "Mawii")
    allowed, withheld = address("allowed"), address("withheld")
    await confirmed_contact(hub, someone, allowed, may_receive_location=True)
    await confirmed_contact(hub, someone, withheld)
    sock = await hub.connect(someone["access_token"])
    await trigger(sock)
    with_location = body_of((await hub.smtp.wait_for(allowed, count=2))[1])
    without = body_of((await hub.smtp.wait_for(withheld, count=2))[1])
    assert f"{DELHI[0]:.5f}, {DELHI[1]:.5f}" in with_location and "openstreetmap.org" in with_location
    assert f"{DELHI[0]:.5f}" not in without and "openstreetmap" not in without


async def test_mizo_contacts_are_written_to_in_mizo(hub: HubClient) -> None:
    await officer_on_duty(hub)
    someone = await person(hub, "Mawii")
    email = address("nu")
    status, _ = await add_contact(hub, someone, email, language="lus")
    assert status == 201
    confirm = (await hub.smtp.wait_for(email))[0]
    assert "mi rintlak" in confirm["Subject"]
    link = re.search(r"http\S+/api/trusted-contacts/confirm\S+", body_of(confirm))
    assert link and link.group(0).endswith("&lang=lus")
    parts = urlsplit(link.group(0))
    status, page = await hub.request("GET", f"{parts.path}?{parts.query}")
    assert status == 200 and 'lang="lus"' in page and "Finfiah rawh" in page


def blank_times(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "<time>", text)


async def test_a_duress_cancel_reads_exactly_as_a_real_cancel(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    real, forced = await person(hub, "Mawii"), await person(hub, "Mawii")
    real_contact, forced_contact = address("real"), address("forced")
    await confirmed_contact(hub, real, real_contact, name="Nu", may_receive_location=True)
    await confirmed_contact(hub, forced, forced_contact, name="Nu", may_receive_location=True)

    async def raise_and_cancel(someone: dict[str, Any], pin: str) -> str:
        sock = await hub.connect(someone["access_token"])
        alert = await trigger(sock)
        await dispatched(hub, alert["id"])
        ack = await sock.call("sos:cancel", {"alert_id": alert["id"], "pin": pin})
        assert ack["alert"]["status"] == "cancelled"
        return str(alert["id"])

    real_id = await raise_and_cancel(real, SOS_PIN)
    forced_id = await raise_and_cancel(forced, DURESS_PIN)
    await officer_sock.wait_for("sos:updated", where=lambda a: a["id"] == forced_id and a["duress"])

    # the Cell goes on with the duress alert: escalation runs, an officer acknowledges and resolves
    async def escalated() -> bool:
        return bool((await stored_alert(hub, forced_id))["escalation"]["level"] == 2)
    await wait_until(escalated)
    for action in ("acknowledge", "respond", "resolve"):
        ack = await officer_sock.call("sos:transition", {"alert_id": forced_id, "action": action})
        assert "alert" in ack, ack
    await scheduler_passes(hub)
    await barrier(hub, officer_sock)

    stored = {i: await contact_mail(hub, c) for i, c in ((real_id, real_contact), (forced_id, forced_contact))}
    assert [d["tag"] for d in stored[real_id]] == ["safety-contact:raised", "safety-contact:closed"]
    assert [d["tag"] for d in stored[forced_id]] == [d["tag"] for d in stored[real_id]]
    for mine, theirs in zip(stored[real_id], stored[forced_id], strict=True):
        assert mine["subject"] == theirs["subject"]
        assert blank_times(mine["text"]) == blank_times(theirs["text"])
        assert mine["html"] == theirs["html"]
    # and on the wire, byte for byte apart from the times and the message headers
    real_mail = [body_of(m) for m in await hub.smtp.wait_for(real_contact, count=3)]
    forced_mail = [body_of(m) for m in await hub.smtp.wait_for(forced_contact, count=3)]
    assert [blank_times(b) for b in real_mail[1:]] == [blank_times(b) for b in forced_mail[1:]]
    assert "cancelled by Mawii" in forced_mail[2] and "duress" not in " ".join(forced_mail).lower()
    assert len(hub.smtp.to(forced_contact)) == 3  # confirmation, raised, "cancelled": nothing after


async def test_outsiders_cannot_add_change_or_confirm_contacts(hub: HubClient) -> None:
    someone, outsider = await person(hub, "Mawii"), await account(hub, "Outsider")
    email = address()
    status, body = await add_contact(hub, someone, email)
    contact_id = body["contact"]["id"]
    # the person comes from the token: an outsider's requests touch only the outsider's own list
    for method, path, payload in (("PATCH", f"/api/trusted-contacts/{contact_id}", {"may_receive_location": True}),
                                  ("DELETE", f"/api/trusted-contacts/{contact_id}", None),
                                  ("POST", f"/api/trusted-contacts/{contact_id}/resend", None)):
        status, body = await hub.request(method, path, token=outsider["access_token"], json=payload)
        assert (status, body["error"]["code"]) == (404, "contact_not_found"), (method, body)
    status, body = await hub.request("POST", "/api/trusted-contacts", token=outsider["access_token"],
                                     json={"name": "X", "email": address(), "person_id": someone["id"]})
    assert status == 400  # no such field: a client never says whose contact it is
    status, body = await hub.request("POST", "/api/trusted-contacts", json={"name": "X", "email": address()})
    assert status == 401
    for bad in ({"name": "X", "email": {"$ne": ""}}, {"name": "X", "email": "a@x.org, b@y.org"},
                {"name": "X", "email": address(), "language": "fr"}):
        status, body = await hub.request("POST", "/api/trusted-contacts", token=someone["access_token"], json=bad)
        assert status == 400, bad

    # wrong tokens; the page (GET) never confirms; the link works once
    for token in ("x" * 43, "short", {"$ne": ""}):
        status, body = await hub.request("POST", "/api/trusted-contacts/confirm", json={"token": token})
        assert status in (400, 404), body
    token = await confirmation_token(hub, email)
    status, page = await hub.request("GET", f"/api/trusted-contacts/confirm?token={token}")
    assert status == 200 and 'method="post"' in page
    raw = await safety(hub).repo.coll(CONTACTS).find_one({"_id": contact_id})
    assert raw["confirmed_at"] is None and token not in str(raw)  # only its digest is stored
    async with hub.http.post(hub.base_url + "/api/trusted-contacts/confirm", data={"token": token}) as resp:
        assert resp.status == 200 and "confirmed" in await resp.text()
    status, body = await hub.request("POST", "/api/trusted-contacts/confirm", json={"token": token})
    assert (status, body["error"]["code"]) == (404, "invalid_token")


async def test_limits_on_contacts_and_confirmation_emails(hub: HubClient) -> None:
    someone = await person(hub, "Mawii")
    for _ in range(5):
        status, body = await add_contact(hub, someone, address())
        assert status == 201, body
    status, body = await add_contact(hub, someone, address())
    assert (status, body["error"]["code"]) == (409, "too_many_contacts")

    # one address receives at most 3 confirmation emails a day, whoever asks
    target = address("target")
    answers = []
    for i in range(4):
        asker = await person(hub, f"Asker {i}")
        answers.append((await add_contact(hub, asker, target))[0])
    assert answers == [201, 201, 201, 429]
    await hub.smtp.wait_for(target, count=3)
    assert await safety(hub).repo.coll(CONTACTS).count_documents({"email": target}) == 3

    # a person can delete a contact and see the list change
    status, listing = await hub.request("GET", "/api/trusted-contacts", token=someone["access_token"])
    first = listing["contacts"][0]["id"]
    status, body = await hub.request("DELETE", f"/api/trusted-contacts/{first}", token=someone["access_token"])
    assert status == 200
    status, listing = await hub.request("GET", "/api/trusted-contacts", token=someone["access_token"])
    assert first not in [c["id"] for c in listing["contacts"]]
