"""Limits on SOS writes and emails (issue 8, item 8), through a real hubchat: retrigger floods are
coalesced (never refused), notes are limited per user, and SOS emails have a budget per recipient
beyond which alerts are coalesced into digests — never dropped."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from hubchat.config import Settings
from tests.support import HubClient
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    ESCALATION_LIST,
    SOS_PIN,
    Node,
    account,
    dispatched,
    error_code,
    fast,
    hub,
    node_factory,
    officer_on_duty,
    person,
    settled,
    sos_service,
    stored_alert,
    timeline,
    trigger,
    trigger_body,
    wait_until,
)

NodeFactory = Callable[[Settings], Awaitable[Node]]


async def test_a_retrigger_flood_is_answered_but_coalesced(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock)  # the first trigger is always created, stored and dispatched
    alert_id = alert["id"]
    await dispatched(hub, alert_id)
    officer_sock.events.clear()

    acks = await asyncio.gather(*(sock.call("sos:trigger", trigger_body(at=(28.6 + i / 1000, 77.2)))
                                  for i in range(60)))
    for i in range(10):
        status, body = await hub.request("POST", "/api/sos", token=someone["access_token"],
                                         json=trigger_body(at=(28.7, 77.2 + i / 1000), note=f"note {i}"))
        assert status == 200, body
        acks.append(body)
    assert all(a["outcome"] == "retriggered" and a["alert"]["id"] == alert_id for a in acks), acks
    await settled(hub, officer_sock)

    stored = await stored_alert(hub, alert_id)
    kinds = [e["type"] for e in await timeline(hub, alert_id)]
    assert kinds.count("retriggered") == 1 and len(stored["triggers"]) == 2
    updates = [a for a in officer_sock.events["sos:updated"] if a["id"] == alert_id]
    assert len(updates) <= 1
    # their locations are kept as live locations (one an interval), their notes as notes (within limits)
    track = await sos_service(hub).repo.track(alert_id)
    assert 2 <= len(track) <= 6
    notes = [e["note"] for e in await timeline(hub, alert_id) if e["type"] == "note"]
    assert 1 <= len(notes) <= sos_service(hub).infra.settings.sos_notes_per_minute
    assert notes[0] == "note 0"


async def test_notes_and_actions_are_limited_per_user(settings: Settings, node_factory: NodeFactory) -> None:
    node = await node_factory(fast(settings, sos_notes_per_minute=3, sos_actions_per_minute=2))
    hub = node.client
    assert hub is not None
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock)
    answers = [await officer_sock.call("sos:note", {"alert_id": alert["id"], "body": f"n{i}"}) for i in range(5)]
    assert ["event" in a for a in answers] == [True, True, True, False, False]
    assert error_code(answers[3]) == "rate_limited" and answers[3]["error"]["retry_after_secs"] > 0
    assert [e["note"] for e in await timeline(hub, alert["id"]) if e["type"] == "note"] == ["n0", "n1", "n2"]
    moves = [await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": action})
             for action in ("acknowledge", "respond", "resolve")]
    assert [m.get("alert", {}).get("status") for m in moves[:2]] == ["acknowledged", "responding"]
    assert error_code(moves[2]) == "rate_limited"
    assert (await stored_alert(hub, alert["id"]))["status"] == "responding"


async def test_sos_emails_have_a_budget_per_recipient_and_nothing_is_dropped(
        settings: Settings, node_factory: NodeFactory) -> None:
    node = await node_factory(fast(settings, sos_email_budget_per_hour=2, sos_email_digest_secs=3600.0))
    hub = node.client
    assert hub is not None
    officer = await account(hub, "Off Duty Officer", role="officer")  # nobody on duty: everyone is emailed at once
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    addresses = (officer["email"], ESCALATION_LIST)
    alert_ids = []
    for _ in range(5):  # trigger / cancel cycles
        alert = await trigger(sock, at=DELHI)
        alert_ids.append(alert["id"])
        ack = await sock.call("sos:cancel", {"alert_id": alert["id"], "pin": SOS_PIN})
        assert ack["alert"]["status"] == "cancelled"
        await dispatched(hub, alert["id"])  # each alert's emails are on their way before the next

    def mentioned(address: str) -> set[str]:
        found: set[str] = set()
        for mail in hub.smtp.to(address):
            found |= set(re.findall(r"/#/sos/([0-9a-f]{24})", mail.get_payload(decode=True).decode()))
        return found

    async def queued() -> set[str]:
        cursor = sos_service(hub).repo.coll("sos_mail_digest").find({}, {"alert_id": 1})
        return {doc["alert_id"] async for doc in cursor}

    async def accounted() -> bool:  # every alert emailed or waiting for the next digest
        waiting = await queued()
        return all(mentioned(a) | waiting >= set(alert_ids) for a in addresses)
    await wait_until(accounted, timeout=20)
    for address in addresses:
        mails = hub.smtp.to(address)
        # 2 alone, then one digest at once; whatever came later waits for the next digest
        assert len(mails) == 3 and "more alert" in mails[2]["Subject"], [m["Subject"] for m in mails]
    coalesced = [e for i in alert_ids[2:] for e in await timeline(hub, i) if e["type"] == "email_coalesced"]
    assert coalesced and all(e["data"]["step"] == "trigger" for e in coalesced)

    # the next digest is due (here: its interval is made to pass) and carries everything left
    infra = sos_service(hub).infra
    await infra.redis.delete(*(f"{infra.settings.redis_prefix}rl:sos:mail-digest:{a}" for a in addresses))

    async def all_told() -> bool:
        return all(mentioned(a) >= set(alert_ids) for a in addresses) and not await queued()
    await wait_until(all_told, timeout=30)
    assert all(len(hub.smtp.to(a)) <= 4 for a in addresses)


async def test_a_digest_claimed_by_a_node_that_stopped_is_sent_once_by_another(
        settings: Settings, node_factory: NodeFactory) -> None:
    """A node claimed an address's queued SOS emails and died before handing the digest to the
    outbox: after the stale-claim time any node hands the same items over, once (the outbox key is
    the claim token), the digest is delivered, and the alert's timeline says so."""
    import datetime as dt

    from hubchat.sos.mailbudget import STALE_CLAIM_SECS

    node = await node_factory(fast(settings, sos_email_budget_per_hour=2, sos_email_digest_secs=3600.0))
    hub = node.client
    assert hub is not None
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock, at=DELHI)
    service = sos_service(hub)
    digest = service.repo.coll("sos_mail_digest")
    address = "late-digest@cell.example.org"
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=STALE_CLAIM_SECS + 5)
    await digest.insert_one({"_id": "d" * 24, "address": address, "alert_id": alert["id"], "step": "t1",
                             "category": "violence", "duress": False, "raised_at": long_ago, "at": long_ago,
                             "due_at": long_ago, "claim": "dead-node-claim", "claimed_at": long_ago})
    for _ in range(2):  # two passes (or two nodes): one digest
        await service.mail_budget.flush()

    async def delivered() -> bool:
        return len(hub.smtp.to(address)) >= 1 and await digest.count_documents({}) == 0
    await wait_until(delivered, timeout=20)
    await asyncio.sleep(0.05)
    mails = hub.smtp.to(address)
    assert len(mails) == 1 and "more alert" in mails[0]["Subject"], [m["Subject"] for m in mails]
    assert f"/#/sos/{alert['id']}" in mails[0].get_payload(decode=True).decode()
    sent = [e for e in await timeline(hub, alert["id"]) if e["type"] == "email_sent"]
    assert any(e["data"]["step"] == "digest" for e in sent), sent
