"""The person's own alert history (issue 12, item 1): ``GET /api/me/sos/alerts`` lists only the
caller's closed alerts, each in the person view they saw live; a duress-cancelled alert is
indistinguishable from a real cancel; hiding it removes it from the person's list only (the Cell
keeps the alert).  Real hubchat, real Socket.IO clients, real HTTP."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

from typing import Any

from tests.support import HubClient
from tests.test_sos_duress import same_shape
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DURESS_PIN,
    SOS_PIN,
    hub,
    node_factory,
    officer_on_duty,
    person,
    stored_alert,
    trigger,
)


async def history(hub: HubClient, who: dict[str, Any], query: str = "") -> tuple[int, Any]:
    return await hub.request("GET", f"/api/me/sos/alerts{query}", token=who["access_token"])


async def test_a_duress_cancel_is_listed_exactly_like_a_real_cancel(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    victim, control = await person(hub, "Victim"), await person(hub, "Control")
    victim_sock, control_sock = await hub.connect(victim["access_token"]), await hub.connect(control["access_token"])
    victim_alert, control_alert = await trigger(victim_sock), await trigger(control_sock)
    for alert in (victim_alert, control_alert):
        acked = await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": "acknowledge"})
        assert "alert" in acked, acked
    duress = await victim_sock.call("sos:cancel", {"alert_id": victim_alert["id"], "pin": DURESS_PIN})
    real = await control_sock.call("sos:cancel", {"alert_id": control_alert["id"], "pin": SOS_PIN})
    assert duress["alert"]["status"] == real["alert"]["status"] == "cancelled"
    assert (await stored_alert(hub, victim_alert["id"]))["status"] == "acknowledged"  # still open for the Cell

    (s1, mine), (s2, theirs) = await history(hub, victim), await history(hub, control)
    assert s1 == s2 == 200, (mine, theirs)
    assert [a["id"] for a in mine["alerts"]] == [victim_alert["id"]]
    assert [a["id"] for a in theirs["alerts"]] == [control_alert["id"]]
    assert same_shape(mine) == same_shape(theirs)  # the same fields, values and shape
    listed = mine["alerts"][0]
    assert listed == duress["alert"]  # exactly what the cancel answered: the cover
    assert "duress" not in str(mine) and listed["acknowledged_by"]["display_name"] == "Duty Officer"
    # The open (duress) alert is not on the person's SOS screen either: nothing tells it apart.
    assert (await hub.request("GET", "/api/sos/mine", token=victim["access_token"]))[1] == {"alert": None}


async def test_only_the_callers_closed_alerts_newest_first_in_pages(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    me, other = await person(hub, "Lalhmingmawii"), await person(hub, "Someone Else")
    sock, other_sock = await hub.connect(me["access_token"]), await hub.connect(other["access_token"])
    ids = []
    for n in range(3):
        alert = await trigger(sock, client_sos_id=f"mine-{n}-abcdef")
        ids.append(alert["id"])
        ack = await sock.call("sos:cancel", {"alert_id": alert["id"], "pin": SOS_PIN})
        assert ack["alert"]["status"] == "cancelled", ack
    still_open = await trigger(sock, client_sos_id="mine-open-abcdef")
    others = await trigger(other_sock)

    status, first = await history(hub, me, "?limit=2")
    assert status == 200, first
    assert [a["id"] for a in first["alerts"]] == [ids[2], ids[1]] and first["next_before"] == ids[1]
    status, second = await history(hub, me, f"?limit=2&before={ids[1]}")
    assert [a["id"] for a in second["alerts"]] == [ids[0]] and second["next_before"] is None
    everything = [a["id"] for a in first["alerts"] + second["alerts"]]
    assert still_open["id"] not in everything and others["id"] not in everything
    assert all(a["view"] == "person" for a in first["alerts"])

    # Someone else's alert id as the cursor, an operator, an unknown parameter: refused, nothing shown.
    for query in (f"?before={others['id']}", "?before[$gt]=", "?limit=0", "?limit=101", "?user_id=" + other["id"],
                  "?limit=2&limit=3"):
        status, body = await history(hub, me, query)
        assert status == 400 and body["error"]["code"] == "invalid_payload", (query, body)
    status, body = await hub.request("GET", "/api/me/sos/alerts")
    assert status == 401, body


async def test_hiding_the_history_hides_it_from_the_person_only(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    me = await person(hub, "Zothansangi")
    sock = await hub.connect(me["access_token"])
    alert = await trigger(sock)
    await sock.call("sos:cancel", {"alert_id": alert["id"], "pin": DURESS_PIN})
    status, body = await hub.request("POST", "/api/me/sos/alerts/hide", token=me["access_token"], json={"x": 1})
    assert status == 400, body  # no fields
    status, body = await hub.request("POST", "/api/me/sos/alerts/hide", token=me["access_token"])
    assert status == 200 and body["hidden_before"], body
    status, listed = await history(hub, me)
    assert status == 200 and listed["alerts"] == [] and listed["hidden_before"] == body["hidden_before"]
    # The Cell still has it, duress and all.
    got = await officer_sock.call("sos:get", {"alert_id": alert["id"]})
    assert got["alert"]["duress"] is True, got
    # A later alert is listed again.
    later = await trigger(sock, client_sos_id="after-hide-abcdef")
    await sock.call("sos:cancel", {"alert_id": later["id"], "pin": SOS_PIN})
    status, listed = await history(hub, me)
    assert [a["id"] for a in listed["alerts"]] == [later["id"]]
