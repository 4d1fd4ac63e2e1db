"""Office bearers' reach over SOS alerts (issue 8, item 10), through a real hubchat:

* an approved association cannot move itself (country, city, gathering places) next to alerts
  without the Cell's review;
* only a Cell officer's acknowledgement stops the Cell's escalation (a bearer's is "association
  responding");
* a bearer removed from the association loses every alert dispatched to them.
"""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hubchat.clock import ManualClock
from hubchat.config import Settings
from tests.support import HubClient
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    GURUGRAM,
    MUMBAI,
    Node,
    account,
    bearer_at,
    dispatched,
    error_code,
    fast,
    hub,
    join_association,
    node_factory,
    officer_on_duty,
    person,
    scheduler_passes,
    settled,
    stored_alert,
    timeline,
    trigger,
    wait_until,
)

NodeFactory = Callable[[Settings], Awaitable[Node]]


def gathering(at: tuple[float, float]) -> dict[str, Any]:
    return {"name": "New hall", "address": "Market road", "lat": at[0], "lon": at[1]}


async def test_moving_an_approved_association_waits_for_the_cell(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    bearer, (bearer_sock,), association_id = await bearer_at(hub, officer, MUMBAI, "Mumbai Bearer")
    path = f"/api/associations/{association_id}"

    # the attack: the approved association moves itself next to where alerts happen
    status, body = await hub.request("PATCH", path, token=bearer["access_token"], json={
        "country": "IN", "city": "New Delhi", "gathering_places": [gathering(DELHI)], "description": "Moved."})
    assert status == 200, body
    shown = body["association"]
    assert shown["city"] == "Somewhere" and shown["gathering_places"][0]["lat"] == MUMBAI[0]
    assert shown["description"] == "Moved."  # not a location: applies at once
    assert shown["pending_changes"]["city"] == "New Delhi"
    assert shown["pending_changes"]["gathering_places"][0]["lat"] == DELHI[0]

    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    alert = await trigger(person_sock, at=DELHI)
    await dispatched(hub, alert["id"])
    await settled(hub, bearer_sock)
    assert not bearer_sock.events["sos:new"]
    ack = await bearer_sock.call("sos:transition", {"alert_id": alert["id"], "action": "acknowledge"})
    assert error_code(ack) == "alert_not_found"

    # only officers review; the bearer cannot approve their own move
    status, body = await hub.request("POST", f"{path}/changes/approve", token=bearer["access_token"])
    assert status == 403 and body["error"]["code"] == "not_officer"
    status, body = await hub.request("GET", "/api/associations/changes/pending", token=officer["access_token"])
    assert status == 200 and [a["id"] for a in body["associations"]] == [association_id]
    status, body = await hub.request("POST", f"{path}/changes/reject", token=officer["access_token"],
                                     json={"reason": "Tell us about the new hall first."})
    assert status == 200 and body["association"]["pending_changes"] is None
    assert body["association"]["city"] == "Somewhere"
    assert body["association"]["changes_rejection_reason"] == "Tell us about the new hall first."
    status, body = await hub.request("POST", f"{path}/changes/approve", token=officer["access_token"])
    assert status == 409 and body["error"]["code"] == "invalid_state"

    # asked again and approved: the new places are in force from then on
    status, body = await hub.request("PATCH", path, token=bearer["access_token"],
                                     json={"city": "New Delhi", "gathering_places": [gathering(DELHI)]})
    assert status == 200, body
    status, body = await hub.request("POST", f"{path}/changes/approve", token=officer["access_token"])
    assert status == 200 and body["association"]["city"] == "New Delhi"
    assert body["association"]["gathering_places"][0]["lat"] == DELHI[0]
    other = await person(hub, "Second Person")
    other_sock = await hub.connect(other["access_token"])
    second = await trigger(other_sock, at=DELHI)
    await bearer_sock.wait_for("sos:new", where=lambda a: a["id"] == second["id"])


async def test_only_the_cells_acknowledgement_stops_its_escalation(settings: Settings, node_factory: NodeFactory,
                                                                   clock: ManualClock) -> None:
    node = await node_factory(fast(settings))
    hub = node.client
    assert hub is not None
    officer, (officer_sock,) = await officer_on_duty(hub)
    bearer, (bearer_sock,), association_id = await bearer_at(hub, officer, GURUGRAM, "Rogue Bearer")
    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    alert = await trigger(person_sock)
    alert_id = alert["id"]
    await bearer_sock.wait_for("sos:new", where=lambda a: a["id"] == alert_id)
    ack = await bearer_sock.call("sos:transition", {"alert_id": alert_id, "action": "acknowledge"})
    assert ack["alert"]["status"] == "acknowledged"
    # a bearer cannot close what the Cell has not acknowledged either
    await bearer_sock.call("sos:transition", {"alert_id": alert_id, "action": "respond"})
    refused = await bearer_sock.call("sos:transition", {"alert_id": alert_id, "action": "false_alarm"})
    assert error_code(refused) == "not_allowed"
    await dispatched(hub, alert_id)
    clock.advance(2400.0)  # past fast()'s T2 (twenty minutes)

    async def escalated() -> bool:  # level 2 claimed and its work done
        escalation = (await stored_alert(hub, alert_id))["escalation"]
        return bool(escalation["level"] == 2 and escalation["done"])
    await wait_until(escalated, timeout=10)
    mail = (await hub.smtp.wait_for(officer["email"]))[0]
    assert alert_id in str(mail.get_payload(decode=True))
    levels = [e["data"]["level"] for e in await timeline(hub, alert_id) if e["type"] == "escalation"]
    assert levels == [1, 2]
    full = (await officer_sock.call("sos:get", {"alert_id": alert_id}))["alert"]
    assert full["cell_acknowledged_by"] is None
    assert [(r["user_id"], r["association_id"]) for r in full["association_responding"]] == [
        (bearer["id"], association_id)]
    acked = [e for e in await timeline(hub, alert_id) if e["type"] == "status" and e["data"]["action"] == "acknowledge"]
    assert acked[0]["data"]["by"] == "association"

    # the Cell's acknowledgement stops it
    other = await person(hub, "Second Person")
    other_sock = await hub.connect(other["access_token"])
    second = await trigger(other_sock)
    await bearer_sock.wait_for("sos:new", where=lambda a: a["id"] == second["id"])
    await bearer_sock.call("sos:transition", {"alert_id": second["id"], "action": "acknowledge"})
    taken = await officer_sock.call("sos:transition", {"alert_id": second["id"], "action": "acknowledge"})
    assert taken["alert"]["cell_acknowledged_by"]["id"] == officer["id"]
    assert taken["alert"]["escalation"]["next_at"] is None
    await dispatched(hub, second["id"])
    clock.advance(2400.0)  # past its T1 and T2
    await scheduler_passes(hub)
    assert (await stored_alert(hub, second["id"]))["escalation"]["level"] == 0


async def test_a_removed_bearer_loses_the_alerts_dispatched_to_them(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    removed, (removed_sock,), association_id = await bearer_at(hub, officer, GURUGRAM, "Removed Bearer")
    other = await account(hub, "Other Bearer")
    await join_association(hub, other, removed, association_id)
    status, body = await hub.request("PATCH", f"/api/associations/{association_id}/members/{other['id']}",
                                     token=removed["access_token"], json={"role": "office_bearer"})
    assert status == 200, body

    people = [await person(hub, f"Person {i}") for i in range(2)]
    socks = [await hub.connect(p["access_token"]) for p in people]
    told, helped = await trigger(socks[0]), await trigger(socks[1])
    for alert in (told, helped):
        await removed_sock.wait_for("sos:new", where=lambda a, i=alert["id"]: a["id"] == i)
    ack = await removed_sock.call("sos:transition", {"alert_id": helped["id"], "action": "acknowledge"})
    assert ack["alert"]["view"] == "full"

    status, _ = await hub.request("DELETE", f"/api/associations/{association_id}/members/{removed['id']}",
                                  token=other["access_token"])
    assert status == 204
    for alert in (told, helped):
        assert error_code(await removed_sock.call("sos:get", {"alert_id": alert["id"]})) == "alert_not_found"
        status, body = await hub.request("GET", f"/api/sos/alerts/{alert['id']}", token=removed["access_token"])
        assert status == 404 and body["error"]["code"] == "alert_not_found"
    status, _ = await hub.request("GET", f"/api/sos/alerts/{helped['id']}/timeline", token=removed["access_token"])
    assert status == 404
    assert error_code(await removed_sock.call("sos:note", {"alert_id": helped["id"], "body": "still here"})) \
        == "alert_not_found"
    assert error_code(await removed_sock.call("sos:transition", {"alert_id": helped["id"], "action": "respond"})) \
        == "alert_not_found"

    # nothing more reaches them
    before = {name: len(items) for name, items in removed_sock.events.items()}
    await officer_sock.call("sos:note", {"alert_id": helped["id"], "body": "police informed"})
    await officer_sock.call("sos:transition", {"alert_id": told["id"], "action": "acknowledge"})
    await socks[1].call("sos:location", {"alert_id": helped["id"], "lat": 28.62, "lon": 77.21})
    await officer_sock.wait_for("sos:location", where=lambda e: e["alert_id"] == helped["id"])
    await settled(hub, removed_sock)
    assert {name: len(items) for name, items in removed_sock.events.items()} == before
