"""Cases over real HTTP and Socket.IO, against the real store, Redis and SMTP (aiosmtpd).

The attacks are tests here: an office bearer, an outsider with an account and the person cannot
read a case, its notes or referrals (one uniform 404); nobody but an officer opens a case;
client-supplied owners, statuses and operators are refused; a duress alert's case is never shown
to the person; a referral's email carries the alert's export and never the duress flag.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import xml.etree.ElementTree as ET
from email.message import Message
from typing import Any

from hubchat.clock import ManualClock
from hubchat.outbox import OUTBOX
from tests import test_sos_helpers
from tests.support import HubClient
from tests.test_sos_helpers import (
    DURESS_PIN,
    account,
    officer_on_duty,
    person,
    trigger,
    wait_until,
)

AGENCY_EMAIL = "consular.wel@mission.example.org"

# the SOS tests' fixtures: hubchat with SOS wired, escalation far away
hub = test_sos_helpers.hub
node_factory = test_sos_helpers.node_factory


async def make_alert(hub: HubClient, name: str = "Lalremruati") -> tuple[dict[str, Any], dict[str, Any]]:
    someone = await person(hub, name)
    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock)
    return someone, alert


async def agency(hub: HubClient, officer: dict[str, Any], email: str = AGENCY_EMAIL) -> dict[str, Any]:
    status, body = await hub.request("POST", "/api/partner-agencies", token=officer["access_token"], json={
        "name": "Embassy of India, Welfare Wing", "kind": "mission", "email": email, "country": "AE"})
    assert status == 201, body
    return body["agency"]  # type: ignore[no-any-return]


async def case_from(hub: HubClient, officer: dict[str, Any], alert_id: str) -> dict[str, Any]:
    status, body = await hub.request("POST", "/api/cases/from-alert", token=officer["access_token"],
                                     json={"alert_id": alert_id})
    assert status in (200, 201), body
    return body["case"]  # type: ignore[no-any-return]


def attachment_of(message: Message) -> tuple[str, str, bytes]:
    for part in message.walk():
        if part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return str(part.get_filename()), part.get_content_type(), payload
    raise AssertionError("no attachment")


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


# ---------------------------------------------------------------- the officer's path
async def test_alert_becomes_one_case_with_notes_reminder_referral_and_close(hub: HubClient,
                                                                            clock: ManualClock) -> None:
    officer, officer_socks = await officer_on_duty(hub, "Case Officer")
    someone, alert = await make_alert(hub)
    token = officer["access_token"]

    status, first = await hub.request("POST", "/api/cases/from-alert", token=token, json={"alert_id": alert["id"]})
    assert status == 201 and first["created"] is True
    case = first["case"]
    assert case["status"] == "open" and case["owner"]["id"] == officer["id"]
    assert case["person"]["id"] == someone["id"] and case["alert_id"] == alert["id"]
    # idempotent: one case per alert
    status, again = await hub.request("POST", "/api/cases/from-alert", token=token, json={"alert_id": alert["id"]})
    assert status == 200 and again["created"] is False and again["case"]["id"] == case["id"]
    changed = await officer_socks[0].wait_for("case:changed", where=lambda e: e["case"]["id"] == case["id"])
    assert changed[0]["change"] == "open"
    assert await hub.services["cases"].has_open_case(someone["id"]) is True

    status, body = await hub.request("POST", f"/api/cases/{case['id']}/notes", token=token,
                                     json={"kind": "call", "body": "Spoke to her; safe at a friend's place."})
    assert status == 201 and body["note"]["kind"] == "call"
    status, body = await hub.request("PATCH", f"/api/cases/{case['id']}", token=token, json={"status": "in_progress"})
    assert status == 200 and body["case"]["status"] == "in_progress"

    # a follow-up reminder fires once, to the owner's sockets and by email
    due = (clock.now() + dt.timedelta(minutes=2)).isoformat().replace("+00:00", "Z")
    status, body = await hub.request("POST", f"/api/cases/{case['id']}/reminders", token=token,
                                     json={"due_at": due, "note": "Call back about the passport"})
    assert status == 201 and body["reminder"]["state"] == "pending"
    clock.advance(300)  # the SOS escalation steps stay far away (test_sos_helpers.fast)
    got = await officer_socks[0].wait_for("case:reminder")
    assert got[0]["reminder"]["note"] == "Call back about the passport" and got[0]["case"]["id"] == case["id"]
    [mail] = await hub.smtp.wait_for(officer["email"])
    assert mail["Subject"] == "Case follow-up due" and "Call back about the passport" in text_of(mail)
    reminders = hub.services["cases"].reminders
    passes = reminders.passes
    await wait_until(lambda: _passed(reminders, passes + 2))
    assert len(officer_socks[0].events["case:reminder"]) == 1 and len(hub.smtp.to(officer["email"])) == 1

    # a referral with the JSON export attached, through the outbox, to a real SMTP server
    partner = await agency(hub, officer)
    status, body = await hub.request("POST", f"/api/cases/{case['id']}/referrals", token=token,
                                     json={"agency_id": partner["id"], "attach": "json", "note": "Please assist."})
    assert status == 201, body
    assert body["referral"]["agency"]["email"] == AGENCY_EMAIL
    [mail] = await hub.smtp.wait_for(AGENCY_EMAIL)
    name, content_type, payload = attachment_of(mail)
    assert name == f"sos-{alert['id']}.json" and content_type == "application/json"
    export = json.loads(payload)
    assert export["alert"]["id"] == alert["id"] and "duress" not in payload.decode()
    assert "Please assist." in text_of(mail)

    async def referral_sent() -> bool:
        _, got = await hub.request("GET", f"/api/cases/{case['id']}", token=token)
        return bool(got["referrals"][0]["email"] == "sent")

    await wait_until(referral_sent)  # the outbox's outcome, recorded on the referral
    status, detail = await hub.request("GET", f"/api/cases/{case['id']}", token=token)
    assert status == 200 and detail["case"]["status"] == "referred"
    assert [n["kind"] for n in detail["notes"]] == ["call"]
    assert detail["referrals"][0]["agency"]["name"] == partner["name"]
    assert detail["reminders"][0]["state"] == "fired"

    status, body = await hub.request("POST", f"/api/cases/{case['id']}/close", token=token,
                                     json={"outcome": "safe", "note": "Back home in Aizawl."})
    assert status == 200 and body["case"]["status"] == "closed" and body["case"]["outcome"] == "safe"
    assert await hub.services["cases"].has_open_case(someone["id"]) is False
    status, body = await hub.request("POST", f"/api/cases/{case['id']}/notes", token=token,
                                     json={"kind": "other", "body": "late"})
    assert status == 409 and body["error"]["code"] == "case_closed"

    # the audit trail names who saw and changed the case
    status, audit = await hub.request("GET", f"/api/cases/{case['id']}/audit", token=token)
    actions = [e["action"] for e in audit["entries"]]
    assert {"open", "note", "status", "reminder", "refer", "view", "close"} <= set(actions)
    assert all(e["actor"]["id"] == officer["id"] for e in audit["entries"])
    # the export sent to the agency is in the alert's audit too
    status, alert_audit = await hub.request("GET", f"/api/sos/alerts/{alert['id']}/audit", token=token)
    assert "referral_json" in [e["action"] for e in alert_audit["entries"]]


async def _true(value: bool) -> bool:
    return value


async def _passed(reminders: Any, count: int) -> bool:
    return bool(reminders.passes >= count)


async def test_referral_with_cap_attachment_parses_as_cap_xml(hub: HubClient) -> None:
    officer = await account(hub, "Cap Officer", role="officer")
    _, alert = await make_alert(hub)
    case = await case_from(hub, officer, alert["id"])
    partner = await agency(hub, officer, "desk@police.example.org")
    status, body = await hub.request("POST", f"/api/cases/{case['id']}/referrals", token=officer["access_token"],
                                     json={"agency_id": partner["id"], "attach": "cap"})
    assert status == 201, body
    [mail] = await hub.smtp.wait_for("desk@police.example.org")
    name, content_type, payload = attachment_of(mail)
    assert name.endswith(".cap.xml") and content_type == "application/cap+xml"
    root = ET.fromstring(payload)
    assert root.tag == "{urn:oasis:names:tc:emergency:cap:1.2}alert"
    stored = await hub.services["cases"].infra.store[OUTBOX].find_one({"to": "desk@police.example.org"})
    assert stored["state"] == "sent" or stored["state"] == "sending"


async def test_open_case_from_a_chat_message_the_officer_can_read(hub: HubClient) -> None:
    officer = await account(hub, "Chat Officer", role="officer")
    someone = await person(hub, "Zothansangi")
    bystander = await person(hub, "Bystander")
    sock = await hub.connect(someone["access_token"])
    channel = (await sock.call("dm:open", {"user_id": officer["id"]}))["channel"]
    sent = await sock.call("message:send", {"channel_id": channel["id"], "client_msg_id": "help-request-1",
                                            "body": "My employer took my passport. Please help."})
    message_id = sent["message"]["id"]
    token = officer["access_token"]
    # the message must be the person's own, in that channel
    for payload in ({"person_id": bystander["id"], "channel_id": channel["id"], "message_id": message_id},
                    {"person_id": someone["id"], "channel_id": "a" * 24, "message_id": message_id},
                    {"person_id": someone["id"], "channel_id": channel["id"], "message_id": "b" * 24}):
        status, body = await hub.request("POST", "/api/cases", token=token, json=payload)
        assert status == 404 and body["error"]["code"] == "message_not_found", payload
    status, opened = await hub.request("POST", "/api/cases", token=token, json={
        "person_id": someone["id"], "channel_id": channel["id"], "message_id": message_id,
        "summary": "Passport held by employer"})
    assert status == 201, opened
    assert opened["case"]["source"] == {"kind": "chat", "channel_id": channel["id"], "message_id": message_id}
    assert opened["case"]["person"]["display_name"] == "Zothansangi"
    status, opened = await hub.request("POST", "/api/cases", token=token, json={"person_id": bystander["id"]})
    assert status == 201 and opened["case"]["source"] == {"kind": "person"}
    status, body = await hub.request("POST", "/api/cases", token=token, json={"person_id": "c" * 24})
    assert status == 404 and body["error"]["code"] == "person_not_found"


# ---------------------------------------------------------------- attacks
async def test_outsiders_bearers_and_the_person_cannot_read_or_change_a_case(hub: HubClient) -> None:
    officer = await account(hub, "Owner Officer", role="officer")
    someone, alert = await make_alert(hub)
    case = await case_from(hub, officer, alert["id"])
    await hub.request("POST", f"/api/cases/{case['id']}/notes", token=officer["access_token"],
                      json={"kind": "visit", "body": "Visited the employer's compound"})
    outsider = await account(hub, "Outsider")
    bearer = await account(hub, "Rogue Bearer")  # an office bearer is a member to the Cell's routes
    missing = "f" * 24
    for who in (outsider, bearer, someone):
        token = who["access_token"]
        answers = []
        for case_id in (case["id"], missing):
            for method, path, payload in (
                    ("GET", f"/api/cases/{case_id}", None), ("GET", f"/api/cases/{case_id}/audit", None),
                    ("PATCH", f"/api/cases/{case_id}", {"status": "in_progress"}),
                    ("POST", f"/api/cases/{case_id}/notes", {"kind": "other", "body": "x"}),
                    ("POST", f"/api/cases/{case_id}/close", {"outcome": "safe"}),
                    ("POST", f"/api/cases/{case_id}/referrals", {"agency_id": missing})):
                status, body = await hub.request(method, path, token=token, json=payload)
                answers.append((status, body["error"]["code"]))
        assert set(answers) == {(404, "case_not_found")}, answers  # uniform: exists or not
        for method, path, payload in (("GET", "/api/cases", None), ("GET", "/api/partner-agencies", None),
                                      ("POST", "/api/cases/from-alert", {"alert_id": alert["id"]}),
                                      ("POST", "/api/cases", {"person_id": someone["id"]}),
                                      ("POST", "/api/partner-agencies", {"name": "x", "kind": "ngo",
                                                                         "email": "x@example.org",
                                                                         "country": "AE"})):
            status, body = await hub.request(method, path, token=token, json=payload)
            assert (status, body["error"]["code"]) == (403, "not_allowed"), (path, body)
    # the person sees their own case's status only
    status, mine = await hub.request("GET", "/api/cases/mine", token=someone["access_token"])
    assert status == 200 and mine["cases"] == [{"id": case["id"], "view": "person", "status": "open",
                                               "opened_at": case["created_at"], "updated_at": mine["cases"][0][
                                                   "updated_at"]}]
    assert "employer" not in json.dumps(mine)
    # nothing changed
    status, detail = await hub.request("GET", f"/api/cases/{case['id']}", token=officer["access_token"])
    assert detail["case"]["status"] == "open" and len(detail["notes"]) == 1
    # without a token
    status, body = await hub.request("GET", f"/api/cases/{case['id']}")
    assert status == 401


async def test_client_supplied_owner_status_and_operators_are_refused(hub: HubClient) -> None:
    officer = await account(hub, "Strict Officer", role="officer")
    member = await account(hub, "Plain Member")
    _, alert = await make_alert(hub)
    case = await case_from(hub, officer, alert["id"])
    token = officer["access_token"]
    bad = [({"owner_id": member["id"]}, "invalid_owner"), ({"status": "closed"}, "invalid_payload"),
           ({"status": "done"}, "invalid_payload"), ({"owner_id": {"$ne": ""}}, "invalid_payload"),
           ({}, "invalid_payload"), ({"status": "open", "version": 9}, "invalid_payload")]
    for payload, code in bad:
        status, body = await hub.request("PATCH", f"/api/cases/{case['id']}", token=token, json=payload)
        assert status == 400 and body["error"]["code"] == code, (payload, body)
    for query in ("status=$ne", "owner_id[$ne]=x", "limit=1000", "country=india", "before=1"):
        status, body = await hub.request("GET", f"/api/cases?{query}", token=token)
        assert status == 400, (query, body)
    status, body = await hub.request("POST", f"/api/cases/{case['id']}/close", token=token,
                                     json={"outcome": "vanished"})
    assert status == 400
    status, body = await hub.request("POST", f"/api/cases/{case['id']}/reminders", token=token,
                                     json={"due_at": "2001-01-01T00:00:00Z"})
    assert status == 400 and body["error"]["code"] == "invalid_due_at"
    # reassigning to another officer works
    other = await account(hub, "Second Officer", role="officer")
    status, body = await hub.request("PATCH", f"/api/cases/{case['id']}", token=token, json={"owner_id": other["id"]})
    assert status == 200 and body["case"]["owner"] == {"id": other["id"], "display_name": "Second Officer"}
    status, detail = await hub.request("GET", f"/api/cases/{case['id']}", token=token)
    assert detail["case"]["status"] == "open"


async def test_a_duress_alerts_case_is_hidden_from_the_person_and_its_referral(hub: HubClient) -> None:
    officer, officer_socks = await officer_on_duty(hub, "Duress Officer")
    someone, alert = await make_alert(hub, "Forced")
    sock = await hub.connect(someone["access_token"])
    ack = await sock.call("sos:cancel", {"alert_id": alert["id"], "pin": DURESS_PIN})
    assert "error" not in ack, ack
    await officer_socks[0].wait_for("sos:updated", where=lambda a: a["id"] == alert["id"] and a["duress"])
    case = await case_from(hub, officer, alert["id"])
    status, mine = await hub.request("GET", "/api/cases/mine", token=someone["access_token"])
    assert status == 200 and mine == {"cases": []}
    partner = await agency(hub, officer, "duress-desk@police.example.org")
    status, body = await hub.request("POST", f"/api/cases/{case['id']}/referrals", token=officer["access_token"],
                                     json={"agency_id": partner["id"], "attach": "json"})
    assert status == 201
    [mail] = await hub.smtp.wait_for("duress-desk@police.example.org")
    _, _, payload = attachment_of(mail)
    assert "duress" not in payload.decode().lower() and "pin" not in payload.decode().lower()
    assert json.loads(payload)["alert"]["status"] == "cancelled"  # as the person's phone showed it


async def test_case_list_filters_and_pages(hub: HubClient) -> None:
    officer = await account(hub, "List Officer", role="officer")
    other = await account(hub, "Other Officer", role="officer")
    made = []
    for name in ("Lalmuanpuii", "Lalthanzuala", "Vanlalruata"):
        _, alert = await make_alert(hub, name)
        made.append(await case_from(hub, officer, alert["id"]))
    token = officer["access_token"]
    await hub.request("PATCH", f"/api/cases/{made[0]['id']}", token=token, json={"owner_id": other["id"]})
    await hub.request("PATCH", f"/api/cases/{made[1]['id']}", token=token, json={"status": "in_progress"})

    status, page1 = await hub.request("GET", "/api/cases?limit=2", token=token)
    assert status == 200 and len(page1["cases"]) == 2 and page1["next_before"]
    status, page2 = await hub.request("GET", f"/api/cases?limit=2&before={page1['next_before']}", token=token)
    seen = [c["id"] for c in page1["cases"] + page2["cases"]]
    assert seen[:3] == [c["id"] for c in reversed(made)] and len(set(seen)) == len(seen)

    status, body = await hub.request("GET", f"/api/cases?owner_id={other['id']}", token=token)
    assert [c["id"] for c in body["cases"]] == [made[0]["id"]]
    status, body = await hub.request("GET", "/api/cases?status=in_progress", token=token)
    assert [c["id"] for c in body["cases"]] == [made[1]["id"]]
    status, body = await hub.request("GET", "/api/cases?q=lalth", token=token)
    assert [c["id"] for c in body["cases"]] == [made[1]["id"]]
    status, body = await hub.request("GET", "/api/cases?country=IN&since=2000-01-01", token=token)
    assert {c["id"] for c in made} <= {c["id"] for c in body["cases"]}
    status, body = await hub.request("GET", "/api/cases?until=2000-01-01", token=token)
    assert body["cases"] == []


async def test_a_reminder_fires_once_across_two_nodes(hub: HubClient, node_factory: Any, settings: Any,
                                                      clock: ManualClock) -> None:
    second = (await node_factory(test_sos_helpers.fast(settings))).client
    officer = await account(hub, "Two Node Officer", role="officer")
    socks = [await hub.connect(officer["access_token"]), await second.connect(officer["access_token"])]
    _, alert = await make_alert(hub)
    case = await case_from(hub, officer, alert["id"])
    due = (clock.now() + dt.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    status, _ = await hub.request("POST", f"/api/cases/{case['id']}/reminders", token=officer["access_token"],
                                  json={"due_at": due, "note": "Once only"})
    assert status == 201
    clock.advance(120)

    def reminder_mails() -> list[Message]:  # nobody is on duty: the alert itself was emailed to the officer
        return [m for m in hub.smtp.to(officer["email"]) if m["Subject"] == "Case follow-up due"]

    await wait_until(lambda: _true(bool(reminder_mails())))
    schedulers = [node.services["cases"].reminders for node in (hub, second)]
    passes = [s.passes for s in schedulers]

    async def both_passed_twice() -> bool:
        return all(s.passes >= p + 2 for s, p in zip(schedulers, passes, strict=True))

    await wait_until(both_passed_twice)
    assert sum(s.fired for s in schedulers) == 1 and len(reminder_mails()) == 1
    for sock in socks:  # the owner's sockets on both nodes heard it, once each
        await sock.wait_for("case:reminder")
        assert len(sock.events["case:reminder"]) == 1


async def test_case_writes_are_rate_limited_per_officer(node_factory: Any, settings: Any) -> None:
    node = (await node_factory(test_sos_helpers.fast(settings, cases_writes_per_minute=3))).client
    officer = await account(node, "Busy Officer", role="officer")
    _, alert = await make_alert(node)
    case = await case_from(node, officer, alert["id"])  # write 1
    path = f"/api/cases/{case['id']}/notes"
    answers = [(await node.request("POST", path, token=officer["access_token"],
                                   json={"kind": "other", "body": f"note {i}"}))[0] for i in range(3)]
    assert answers == [201, 201, 429]
    status, detail = await node.request("GET", f"/api/cases/{case['id']}", token=officer["access_token"])
    assert [n["body"] for n in detail["notes"]] == ["note 0", "note 1"]


async def test_turning_one_alert_into_a_case_at_once_on_two_nodes_makes_one_case(
        hub: HubClient, node_factory: Any, settings: Any) -> None:
    second = (await node_factory(test_sos_helpers.fast(settings))).client
    officers = [await account(hub, f"Racing Officer {i}", role="officer") for i in range(2)]
    _, alert = await make_alert(hub)
    answers = await asyncio.gather(*(node.request("POST", "/api/cases/from-alert", token=o["access_token"],
                                                  json={"alert_id": alert["id"]})
                                     for node in (hub, second) for o in officers))
    assert sorted(status for status, _ in answers) == [200, 200, 200, 201]
    assert len({body["case"]["id"] for _, body in answers}) == 1
