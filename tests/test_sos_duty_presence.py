"""The duty roster matches reality: an on-duty officer with no connected socket for longer than
``sos_duty_grace_secs`` is not reachable live, so an SOS emails the Cell at once (the "nobody on
duty" path, through the durable outbox) and says why on its timeline; a reconnected officer is
reachable again; the roster shows who is connected, also across two nodes."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hubchat.config import Settings
from hubchat.outbox import OUTBOX
from hubchat.sos.repository import DUTY
from tests.conftest import SmtpSink
from tests.support import HubClient
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    ESCALATION_LIST,
    Node,
    account,
    emails_queued,
    fast,
    node_factory,
    officer_on_duty,
    person,
    settled,
    sos_service,
    timeline,
    trigger,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)

NodeFactory = Callable[[Settings], Awaitable[Node]]
GRACE = 0.3


async def roster(sock: Any) -> dict[str, dict[str, Any]]:
    ack = await sock.call("duty:list")
    assert "officers" in ack, ack
    return {o["id"]: o for o in ack["officers"]}


async def unreachable_past_grace(hub: HubClient, officer_id: str) -> None:
    """Poll until the server no longer counts the officer as reachable (grace over)."""
    async def gone() -> bool:
        return officer_id not in await sos_service(hub).duty.reachable_ids()
    await wait_until(gone, timeout=5)


async def kinds(hub: HubClient, alert_id: str) -> list[str]:
    return [e["type"] for e in await timeline(hub, alert_id)]



async def reached_live_without_email(hub: HubClient, smtp: SmtpSink, officer: dict[str, Any],
                                     alert: dict[str, Any]) -> None:
    """The alert was dispatched to a reachable officer: no email, no "nobody reachable" step."""
    async def dispatched() -> bool:
        return "dispatch" in await kinds(hub, alert["id"])
    await wait_until(dispatched)
    await settled(hub)
    assert await emails_queued(hub, alert["id"]) == 0
    assert smtp.to(officer["email"]) == [] and smtp.to(ESCALATION_LIST) == []
    assert "no_officer_reachable" not in await kinds(hub, alert["id"])

async def test_an_officer_gone_past_grace_is_not_reachable_and_the_cell_is_emailed_at_once(
        settings: Settings, node_factory: NodeFactory, smtp: SmtpSink) -> None:
    node = await node_factory(fast(settings, sos_duty_grace_secs=GRACE))
    hub = node.client
    assert hub is not None
    officer, (officer_sock,) = await officer_on_duty(hub, "Vanished Officer")
    colleague = await account(hub, "Off Duty Colleague", role="officer")
    colleague_sock = await hub.connect(colleague["access_token"])
    assert (await roster(colleague_sock))[officer["id"]]["connected"] is True
    await officer_sock.disconnect()  # closed the console without going off duty

    async def shown_disconnected() -> bool:
        entry = (await roster(colleague_sock))[officer["id"]]
        return entry["connected"] is False and entry["last_seen_at"] is not None
    await wait_until(shown_disconnected)
    entry = (await roster(colleague_sock))[officer["id"]]
    assert entry["on_duty"] is True  # still on the roster: only not reachable
    await unreachable_past_grace(hub, officer["id"])

    someone = await person(hub)
    alert = await trigger(await hub.connect(someone["access_token"]))
    for address in (officer["email"], colleague["email"], ESCALATION_LIST):
        mail = (await smtp.wait_for(address, timeout=5))[0]
        assert "no on-duty officer is connected" in mail["Subject"], mail["Subject"]

    async def why_recorded() -> bool:
        return "no_officer_reachable" in await kinds(hub, alert["id"])
    await wait_until(why_recorded)
    events = await timeline(hub, alert["id"])
    why = [e for e in events if e["type"] == "no_officer_reachable"][0]
    assert why["data"]["reason"] == "none_connected"
    assert why["data"]["on_duty"] == 1
    assert [o["id"] for o in why["data"]["unreachable"]] == [officer["id"]]

    # Through the durable outbox, keyed by alert and step; each outcome on the timeline.
    tag = f"sos-email:{alert['id']}:trigger"
    stored = [doc async for doc in sos_service(hub).repo.coll(OUTBOX).find({"tag": tag})]
    assert len(stored) == 3

    async def all_sent() -> bool:
        return sum(1 for e in await timeline(hub, alert["id"]) if e["type"] == "email_sent") == 3
    await wait_until(all_sent)


async def test_within_grace_an_officer_still_counts(settings: Settings, node_factory: NodeFactory,
                                                    smtp: SmtpSink) -> None:
    node = await node_factory(fast(settings, sos_duty_grace_secs=30.0))
    hub = node.client
    assert hub is not None
    officer, (officer_sock,) = await officer_on_duty(hub, "Reloading Officer")
    await officer_sock.disconnect()  # a page reload: back within the grace period

    async def offline() -> bool:
        return not (await sos_service(hub).duty.connected([officer["id"]]))[officer["id"]]
    await wait_until(offline)
    assert officer["id"] in await sos_service(hub).duty.reachable_ids()
    someone = await person(hub)
    alert = await trigger(await hub.connect(someone["access_token"]))
    await reached_live_without_email(hub, smtp, officer, alert)


async def test_an_officer_who_reconnects_is_reachable_again(settings: Settings, node_factory: NodeFactory,
                                                            smtp: SmtpSink) -> None:
    node = await node_factory(fast(settings, sos_duty_grace_secs=GRACE))
    hub = node.client
    assert hub is not None
    officer, (officer_sock,) = await officer_on_duty(hub, "Returning Officer")
    await officer_sock.disconnect()
    await unreachable_past_grace(hub, officer["id"])

    back = await hub.connect(officer["access_token"])  # still on duty: rejoins the feed
    entry = (await roster(back))[officer["id"]]
    assert entry["connected"] is True
    assert officer["id"] in await sos_service(hub).duty.reachable_ids()
    someone = await person(hub)
    alert = await trigger(await hub.connect(someone["access_token"]))
    await back.wait_for("sos:new")
    await reached_live_without_email(hub, smtp, officer, alert)


async def test_colleagues_on_the_feed_see_who_disconnects_and_returns(settings: Settings,
                                                                      node_factory: NodeFactory) -> None:
    node = await node_factory(fast(settings, sos_duty_grace_secs=GRACE))
    hub = node.client
    assert hub is not None
    leaver, (leaver_sock,) = await officer_on_duty(hub, "Leaving Officer")
    _, (watcher,) = await officer_on_duty(hub, "Watching Officer")

    def leaver_is(connected: bool) -> Callable[[Any], bool]:
        def check(event: Any) -> bool:
            return any(o["id"] == leaver["id"] and o["connected"] is connected for o in event["officers"])
        return check

    await leaver_sock.disconnect()
    gone = (await watcher.wait_for("duty:updated", where=leaver_is(False)))[-1]
    entry = [o for o in gone["officers"] if o["id"] == leaver["id"]][0]
    assert entry["on_duty"] is True and entry["last_seen_at"] is not None
    await hub.connect(leaver["access_token"])
    await watcher.wait_for("duty:updated", where=leaver_is(True))


async def test_two_nodes_share_who_is_connected(settings: Settings, node_factory: NodeFactory,
                                                smtp: SmtpSink) -> None:
    quick = fast(settings, sos_duty_grace_secs=GRACE)
    a = await node_factory(quick)
    b = await node_factory(quick)
    assert a.client is not None and b.client is not None
    officer = await account(a.client, "Node B Officer", role="officer")
    on_b = await b.client.connect(officer["access_token"])
    assert (await on_b.call("duty:set", {"on_duty": True}))["duty"]["on_duty"] is True
    colleague = await account(a.client, "Node A Colleague", role="officer")
    on_a = await a.client.connect(colleague["access_token"])
    # Node A sees the officer connected on node B: an SOS raised on A reaches them live.
    assert (await roster(on_a))[officer["id"]]["connected"] is True
    someone = await person(a.client)
    first = await trigger(await a.client.connect(someone["access_token"]), client_sos_id="two-nodes-1")
    await on_b.wait_for("sos:new")

    async def dispatched() -> bool:
        return "dispatch" in await kinds(a.client, first["id"])  # type: ignore[arg-type]
    await wait_until(dispatched)
    assert "no_officer_reachable" not in await kinds(a.client, first["id"])

    # The console on node B closes; node A learns it from the roster in the store and presence.
    await on_b.disconnect()

    async def shown_disconnected() -> bool:
        return (await roster(on_a))[officer["id"]]["connected"] is False
    await wait_until(shown_disconnected)
    await unreachable_past_grace(a.client, officer["id"])
    another = await person(a.client, "Second Person")
    second = await trigger(await a.client.connect(another["access_token"]), client_sos_id="two-nodes-2")
    await smtp.wait_for(ESCALATION_LIST, timeout=5)
    await smtp.wait_for(officer["email"], timeout=5)

    async def why_recorded() -> bool:
        return "no_officer_reachable" in await kinds(a.client, second["id"])  # type: ignore[arg-type]
    await wait_until(why_recorded)


async def test_the_grace_period_survives_a_node_restart(settings: Settings, node_factory: NodeFactory,
                                                        smtp: SmtpSink) -> None:
    slow_grace = fast(settings, sos_duty_grace_secs=30.0)
    first = await node_factory(slow_grace)
    assert first.client is not None
    officer, _ = await officer_on_duty(first.client, "Night Officer")
    # On duty for an hour already: only the stamp of their last socket keeps them in grace.
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    await first.sos.repo.coll(DUTY).update_one({"_id": officer["id"]}, {"$set": {"since": an_hour_ago}})
    await first.stop()  # the node goes down with the officer's console on it

    second = await node_factory(slow_grace)
    hub = second.client
    assert hub is not None
    stamped = await second.sos.repo.coll(DUTY).find_one({"_id": officer["id"]})
    assert stamped is not None and stamped["last_seen_at"] > an_hour_ago
    assert officer["id"] in await sos_service(hub).duty.reachable_ids()  # within grace, from the store
    alert = await trigger(await hub.connect((await person(hub))["access_token"]))

    async def dispatched() -> bool:
        return "dispatch" in await kinds(hub, alert["id"])
    await wait_until(dispatched)
    await settled(hub)
    assert await emails_queued(hub, alert["id"]) == 0
    assert smtp.to(ESCALATION_LIST) == [] and "no_officer_reachable" not in await kinds(hub, alert["id"])
