"""SOS escalation against real services: T1 and T2 emails and wider dispatch, nobody on duty,
acknowledgement stopping it, email failure on the timeline, a restart inside the window, and
exactly-once steps with two nodes (two apps in this process, and two ``hubchat`` processes).

In-process nodes run on the test's ManualClock: T1 and T2 are the production-like ten and
twenty minutes of ``fast()``, and a test advances the clock to make a step due; "nothing
escalated (yet)" is checked after the schedulers' next passes, not after a wait."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hubchat.clock import ManualClock
from hubchat.config import Settings
from hubchat.embedded_mongo import free_loopback_port
from tests.conftest import SmtpSink
from tests.support import HubClient, serve_processes, wait_ready
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    BENGALURU,
    DELHI,
    ESCALATION_LIST,
    GURUGRAM,
    JAIPUR,
    QUIET_SECS,
    Node,
    account,
    bearer_at,
    dispatched,
    emails_queued,
    fast,
    node_factory,
    officer_on_duty,
    person,
    scheduler_passes,
    stored_alert,
    timeline,
    trigger,
    wait_until,
)

pytestmark = pytest.mark.timeout(90)

NodeFactory = Callable[[Settings], Awaitable[Node]]
T1, T2 = 600.0, 1200.0  # fast()'s; subprocess nodes cannot share the clock and run on short ones


def body_of(message: Any) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def kinds(hub: HubClient, alert_id: str) -> list[str]:
    return [e["type"] for e in await timeline(hub, alert_id)]


async def test_t1_and_t2_email_and_widen_the_dispatch(settings: Settings, node_factory: NodeFactory,
                                                      smtp: SmtpSink, clock: ManualClock) -> None:
    node = await node_factory(fast(settings))
    hub = node.client
    assert hub is not None
    officer, (officer_sock,) = await officer_on_duty(hub)
    off_duty = await account(hub, "Off Duty Officer", role="officer")
    _, (near_sock,), _ = await bearer_at(hub, officer, GURUGRAM, "Near Bearer")
    jaipur, (jaipur_sock,), jaipur_assoc = await bearer_at(hub, officer, JAIPUR, "Jaipur Bearer")
    south, (south_sock,), _ = await bearer_at(hub, officer, BENGALURU, "Bengaluru Bearer")
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock, note="Help me")
    alert_id = alert["id"]
    await near_sock.wait_for("sos:new")
    await dispatched(hub, alert_id)
    clock.advance(T1 - 60.0)
    await scheduler_passes(hub)
    assert (await stored_alert(hub, alert_id))["escalation"]["level"] == 0  # not before T1
    assert jaipur_sock.events["sos:new"] == [] and smtp.to(officer["email"]) == []

    clock.advance(60.0)
    first = (await smtp.wait_for(officer["email"]))[0]
    assert "MEDICAL" in first["Subject"] and "not acknowledged" in first["Subject"]
    text = body_of(first)
    assert "https://www.openstreetmap.org/?mlat=28.613900&mlon=77.209000#map=15/28.613900/77.209000" in text
    assert "Lalremruati" in text and "+919812345678" in text and someone["email"] in text
    assert f"{settings.public_url}/#/sos/{alert_id}" in text and "Help me" in text
    got = await jaipur_sock.wait_for("sos:new")
    assert got[0]["view"] == "limited" and 200 < got[0]["distance_km"] < 300
    await officer_sock.wait_for("sos:updated", where=lambda a: a["escalation"]["level"] == 1)

    async def t1_recorded() -> bool:  # as in production, T1's email outcome lands long before T2
        return "t1" in (await stored_alert(hub, alert_id))["escalation"]["emailed_at"]
    await wait_until(t1_recorded)
    clock.advance(T2 - T1 - 60.0)
    await scheduler_passes(hub)
    assert south_sock.events["sos:new"] == [] and smtp.to(ESCALATION_LIST) == []  # not before T2

    clock.advance(60.0)
    listed = (await smtp.wait_for(ESCALATION_LIST))[0]
    assert "still not acknowledged" in listed["Subject"]
    got = await south_sock.wait_for("sos:new")
    assert got[0]["distance_km"] > 1500
    clock.advance(T2)
    await scheduler_passes(hub)
    assert await emails_queued(hub, alert_id) == 2  # one per step: nothing after T2
    assert len(smtp.to(officer["email"])) == 1 and len(smtp.to(ESCALATION_LIST)) == 1
    assert smtp.to(off_duty["email"]) == []
    for rec in (near_sock, jaipur_sock, south_sock):
        assert len(rec.events["sos:new"]) == 1

    async def emails_logged() -> bool:
        return (await kinds(hub, alert_id)).count("email_sent") == 2
    await wait_until(emails_logged)
    events = await timeline(hub, alert_id)
    assert [(e["data"]["level"], e["data"]["reason"]) for e in events if e["type"] == "escalation"] == \
        [(1, "t1"), (2, "t2")]
    assert [(e["data"]["step"], e["data"]["recipients"]) for e in events if e["type"] == "email_sent"] == \
        [("t1", 1), ("t2", 1)]
    assert [e["data"]["round"] for e in events if e["type"] == "dispatch"] == [1, 2, 3]
    stored = await stored_alert(hub, alert_id)
    assert stored["escalation"]["level"] == 2 and stored["escalation"]["next_at"] is None
    assert set(stored["escalation"]["emailed_at"]) == {"t1", "t2"}
    rounds = {e["user_id"]: e["round"] for e in stored["dispatch"]}
    assert rounds[jaipur["id"]] == 2 and rounds[south["id"]] == 3
    assert [e for e in stored["dispatch"] if e["user_id"] == jaipur["id"]][0]["association_id"] == jaipur_assoc


async def test_nobody_on_duty_emails_at_once(settings: Settings, node_factory: NodeFactory, smtp: SmtpSink) -> None:
    node = await node_factory(fast(settings))  # T1 is ten minutes away
    hub = node.client
    assert hub is not None
    officer = await account(hub, "Sleeping Officer", role="officer")
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock, at=None, category="stranded")
    for address in (officer["email"], ESCALATION_LIST):
        mail = (await smtp.wait_for(address, timeout=3))[0]
        assert "nobody is on duty" in mail["Subject"] and "STRANDED" in mail["Subject"]
        assert "location unknown — registered city: Aizawl, IN" in body_of(mail)
    stored = await dispatched(hub, alert["id"])
    assert stored["dispatch"] == [] and stored["escalation"]["level"] == 0


async def test_acknowledging_stops_escalation(settings: Settings, node_factory: NodeFactory, smtp: SmtpSink,
                                              clock: ManualClock) -> None:
    node = await node_factory(fast(settings))
    hub = node.client
    assert hub is not None
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub)
    alert = await trigger(await hub.connect(someone["access_token"]))
    ack = await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": "acknowledge"})
    assert ack["alert"]["escalation"]["next_at"] is None
    await dispatched(hub, alert["id"])
    clock.advance(T2 * 2)
    await scheduler_passes(hub)
    assert await emails_queued(hub, alert["id"]) == 0
    assert smtp.to(officer["email"]) == [] and smtp.to(ESCALATION_LIST) == []
    assert "escalation" not in await kinds(hub, alert["id"])


async def test_failed_emails_are_on_the_timeline(settings: Settings, node_factory: NodeFactory) -> None:
    dead_smtp = fast(settings, smtp_port=free_loopback_port(), mail_outbox_max_attempts=2,
                     mail_retry_base_delay_secs=0.01)
    node = await node_factory(dead_smtp)
    hub = node.client
    assert hub is not None
    officer = await account(hub, "Sleeping Officer", role="officer")
    _, (bearer_sock,), _ = await bearer_at(hub, officer, GURUGRAM, "Near Bearer")
    alert = await trigger(await hub.connect((await person(hub))["access_token"]))
    await bearer_sock.wait_for("sos:new")  # dispatch does not wait for email

    async def failed() -> bool:
        return "email_failed" in await kinds(hub, alert["id"])
    await wait_until(failed)
    async def both_failed() -> bool:  # one entry per recipient, from the outbox
        events = [e for e in await timeline(hub, alert["id"]) if e["type"] == "email_failed"]
        return sum(e["data"]["recipients"] for e in events) == 2
    await wait_until(both_failed)
    events = [e for e in await timeline(hub, alert["id"]) if e["type"] == "email_failed"]
    assert [e["data"] for e in events] == [{"step": "trigger", "recipients": 1}] * 2
    assert "email_sent" not in await kinds(hub, alert["id"])


async def test_a_restarted_node_still_escalates(settings: Settings, node_factory: NodeFactory,
                                               smtp: SmtpSink, clock: ManualClock) -> None:
    quick = fast(settings)
    first = await node_factory(quick)
    hub = first.client
    assert hub is not None
    officer, _ = await officer_on_duty(hub)
    someone = await person(hub)
    alert = await trigger(await hub.connect(someone["access_token"]))
    await dispatched(hub, alert["id"])
    await first.stop()  # inside the window: nothing has escalated yet
    assert smtp.to(officer["email"]) == []
    clock.advance(T1)  # T1 passes while no node runs

    second = await node_factory(quick)
    assert second.client is not None
    mail = (await smtp.wait_for(officer["email"], timeout=5))[0]
    assert alert["id"] in body_of(mail)
    stored = await stored_alert(second.client, alert["id"])
    assert stored["escalation"]["level"] == 1 and stored["escalation"]["node"] == second.sos.escalator.node_id
    await scheduler_passes(second.client)
    assert await emails_queued(second.client, alert["id"]) == 1
    assert len(smtp.to(officer["email"])) == 1


async def test_two_nodes_escalate_each_step_once(settings: Settings, node_factory: NodeFactory,
                                                 smtp: SmtpSink, clock: ManualClock) -> None:
    quick = fast(settings, sos_scheduler_interval_secs=0.05)
    a = await node_factory(quick)
    b = await node_factory(quick)
    assert a.client is not None and b.client is not None
    officer, (officer_sock,) = await officer_on_duty(a.client)
    jaipur, (jaipur_sock,), _ = await bearer_at(a.client, officer, JAIPUR, "Jaipur Bearer")
    jaipur_on_b = await b.client.connect(jaipur["access_token"])
    someone = await person(b.client)
    alert = await trigger(await b.client.connect(someone["access_token"]))
    await officer_sock.wait_for("sos:new")
    await dispatched(a.client, alert["id"])
    clock.advance(T2)  # both steps due at once: both nodes race for each
    await smtp.wait_for(ESCALATION_LIST, timeout=5)
    await jaipur_on_b.wait_for("sos:new")
    await jaipur_sock.wait_for("sos:new")
    await smtp.wait_for(officer["email"], timeout=5)
    await scheduler_passes(a.client, b.client)
    assert await emails_queued(a.client, alert["id"]) == 2
    assert len(smtp.to(officer["email"])) == 1 and len(smtp.to(ESCALATION_LIST)) == 1
    assert len(jaipur_sock.events["sos:new"]) == 1 and len(jaipur_on_b.events["sos:new"]) == 1
    assert len(officer_sock.events["sos:new"]) == 1
    events = await timeline(a.client, alert["id"])
    assert [e["data"]["level"] for e in events if e["type"] == "escalation"] == [1, 2]
    assert [e["data"]["round"] for e in events if e["type"] == "dispatch"] == [1, 2, 3]
    assert a.sos.escalator.steps_run + b.sos.escalator.steps_run == 3  # level 0 (trigger node), 1 and 2


# ---------------------------------------------------------------- two real processes
@pytest.fixture
def sos_processes(settings: Settings, tmp_path: Path) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """Two ``hubchat serve`` processes sharing the test's stores, escalating quickly."""
    with serve_processes(settings, tmp_path, HUBCHAT_SOS_T1_SECS="0.8", HUBCHAT_SOS_T2_SECS="1.6",
                         HUBCHAT_SOS_SCHEDULER_INTERVAL_SECS="0.05",
                         HUBCHAT_SOS_ESCALATION_EMAILS=ESCALATION_LIST) as nodes:
        yield nodes


async def test_two_processes_deliver_once_and_escalate_once(
        sos_processes: list[tuple[str, subprocess.Popen[bytes]]], settings: Settings, smtp: SmtpSink,
        node_factory: NodeFactory, tmp_path: Path) -> None:
    for url, process in sos_processes:
        await wait_ready(url, process)
    # a third, in-process node on the same database only to create accounts and read the store
    helper = await node_factory(fast(settings, sos_scheduler_interval_secs=600.0))
    assert helper.client is not None
    a, b = (HubClient(url, smtp, helper.client.services) for url, _ in sos_processes)
    try:
        officer = await account(helper.client, "Officer On A", role="officer")
        officer_a = await a.connect(officer["access_token"])
        officer_b = await b.connect(officer["access_token"])
        await officer_a.call("duty:set", {"on_duty": True})
        near, _, _ = await bearer_at(helper.client, officer, GURUGRAM, "Near Bearer", sockets=0)
        near_a, near_b = await a.connect(near["access_token"]), await b.connect(near["access_token"])
        someone = await person(helper.client)
        person_b = await b.connect(someone["access_token"])
        ack = await person_b.call("sos:trigger", {"client_sos_id": "two-process-1", "category": "violence",
                                                  "lat": DELHI[0], "lon": DELHI[1]})
        alert_id = ack["alert"]["id"]
        for rec in (officer_a, officer_b, near_a, near_b):
            await rec.wait_for("sos:new")
        await smtp.wait_for(ESCALATION_LIST, timeout=10)
        await asyncio.sleep(QUIET_SECS)
        for rec in (officer_a, officer_b, near_a, near_b):
            assert len(rec.events["sos:new"]) == 1
        assert len(smtp.to(officer["email"])) == 1 and len(smtp.to(ESCALATION_LIST)) == 1
        events = await timeline(helper.client, alert_id)
        assert [e["data"]["level"] for e in events if e["type"] == "escalation"] == [1, 2]
        # a transition on node a reaches the person's socket on node b
        await officer_a.call("sos:transition", {"alert_id": alert_id, "action": "acknowledge"})
        seen = await person_b.wait_for("sos:updated")
        assert seen[0]["acknowledged_by"]["display_name"] == "Officer On A"
    finally:
        await a.close()
        await b.close()

