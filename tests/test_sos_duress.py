"""Duress stays the Cell's secret (issue 8, items 2 and 3), over real Socket.IO and HTTP.

* The PIN lockout answers every PIN alike (wrong, real, duress): an abuser enumerating PINs on the
  person's phone learns nothing, while a duress PIN among them still reaches the Cell.
* Office bearers — told or responding — see a duress "cancel" exactly as a real cancel: the same
  events, views, timeline and answers, and nothing more afterwards.
"""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

import time
from typing import Any

from tests.support import HubClient, Recorder
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    DURESS_PIN,
    ESCALATION_LIST,
    GURUGRAM,
    MUMBAI,
    SOS_PIN,
    bearer_at,
    dispatched,
    error_code,
    hub,
    node_factory,
    officer_on_duty,
    person,
    scheduler_passes,
    settled,
    sos_service,
    stored_alert,
    timeline,
    trigger,
    wait_until,
)

VOLATILE = {"id", "client_sos_id", "created_at", "updated_at", "closed_at", "at", "next_at", "user_id", "seq",
            "alert_id", "retry_after_secs"}


def same_shape(value: Any) -> Any:
    """The value with ids, times and people's names blanked: what must match field by field
    between two alerts of two people raised a moment apart."""
    if isinstance(value, dict):
        return {k: ("*" if k in VOLATILE or k in ("display_name", "email", "phone") else same_shape(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [same_shape(v) for v in value]
    return value


def person_side(rec: Recorder) -> dict[str, list[Any]]:
    return {name: [same_shape(e) for e in items] for name, items in rec.events.items() if items}


async def lock_out(sock: Recorder, alert_id: str) -> None:
    codes = [error_code(await sock.call("sos:cancel", {"alert_id": alert_id, "pin": f"900{i}"})) for i in range(5)]
    assert codes == ["wrong_pin"] * 5


async def test_lockout_answers_every_pin_alike_and_a_duress_pin_still_reaches_the_cell(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    victim, control = await person(hub, "Victim"), await person(hub, "Control")
    victim_sock, control_sock = await hub.connect(victim["access_token"]), await hub.connect(control["access_token"])
    victim_alert, control_alert = await trigger(victim_sock), await trigger(control_sock)
    await dispatched(hub, victim_alert["id"])
    await dispatched(hub, control_alert["id"])
    await lock_out(victim_sock, victim_alert["id"])
    await lock_out(control_sock, control_alert["id"])
    victim_sock.events.clear()
    control_sock.events.clear()

    # the abuser holding the victim's phone enumerates PINs, the real and the duress PIN among them;
    # the control person (no duress) types wrong PINs only
    answers: dict[str, list[Any]] = {"victim": [], "control": []}
    took: dict[str, list[float]] = {"victim": [], "control": []}
    for pin in ("1111", DURESS_PIN, SOS_PIN, "4321"):
        started = time.perf_counter()
        answers["victim"].append(await victim_sock.call("sos:cancel", {"alert_id": victim_alert["id"], "pin": pin}))
        took["victim"].append(time.perf_counter() - started)
        started = time.perf_counter()
        answers["control"].append(await control_sock.call("sos:cancel",
                                                          {"alert_id": control_alert["id"], "pin": "0000"}))
        took["control"].append(time.perf_counter() - started)
    for ack in answers["victim"] + answers["control"]:
        assert error_code(ack) == "rate_limited" and 0 < ack["error"]["retry_after_secs"] <= 600
    assert [same_shape(a) for a in answers["victim"]] == [same_shape(a) for a in answers["control"]]
    # the same work (both hashes verified) for every PIN: no PIN answers markedly faster or slower
    assert max(took["victim"]) < 3 * max(min(took["control"]), 0.05) + 0.5

    # the Cell learns of the duress at once: duress email, full view saying the person sees "open"
    for address in (officer["email"], ESCALATION_LIST):
        mail = (await hub.smtp.wait_for(address))[0]
        assert "DURESS" in mail["Subject"] and victim_alert["id"] in str(mail.get_payload(decode=True))
    full = await officer_sock.wait_for("sos:updated", where=lambda a: a["id"] == victim_alert["id"] and a["duress"])
    assert full[0]["status"] == "open" and full[0]["duress_person_sees"] == "open"
    stored = await stored_alert(hub, victim_alert["id"])
    assert stored["duress"] is True and stored["status"] == "open" and not stored.get("cover")
    locked = [e["data"] for e in await timeline(hub, victim_alert["id"]) if e["data"].get("kind") == "pin_locked"]
    assert [d["pin"] for d in locked] == ["wrong", "duress", "cancel", "wrong"]

    # the phone shows nothing different: same live events (none), same pulls over Socket.IO and HTTP
    await settled(hub, victim_sock, control_sock)
    assert person_side(victim_sock) == person_side(control_sock) == {}
    mine = [await s.call("sos:mine") for s in (victim_sock, control_sock)]
    assert mine[0]["alert"]["status"] == mine[1]["alert"]["status"] == "open"
    assert same_shape(mine[0]) == same_shape(mine[1])
    for who, alert in ((victim, victim_alert), (control, control_alert)):
        status, body = await hub.request("GET", "/api/sos/mine", token=who["access_token"])
        assert status == 200 and body["alert"]["status"] == "open" and "duress" not in str(body)
        status, body = await hub.request("GET", f"/api/sos/alerts/{alert['id']}", token=who["access_token"])
        assert status == 200 and body["alert"]["view"] == "person" and body["alert"]["status"] == "open"
    got = [await s.call("sos:get", {"alert_id": a["id"]})
           for s, a in ((victim_sock, victim_alert), (control_sock, control_alert))]
    assert same_shape(got[0]) == same_shape(got[1])
    # an acknowledgement still reaches both phones alike
    for alert in (victim_alert, control_alert):
        await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": "acknowledge"})
    seen = [(await s.wait_for("sos:updated"))[0] for s in (victim_sock, control_sock)]
    assert same_shape(seen[0]) == same_shape(seen[1]) and seen[0]["status"] == "acknowledged"

    # once the lockout is over, a right PIN "cancels" as always, and the alert stays the Cell's
    limiter_keys = [f"sos:pin:{victim_alert['id']}", f"sos:pin-user:{victim['id']}"]
    redis = hub.services["accounts"].infra.redis
    prefix = hub.services["accounts"].infra.settings.redis_prefix
    await redis.delete(*(f"{prefix}rl:{key}" for key in limiter_keys))
    ack = await victim_sock.call("sos:cancel", {"alert_id": victim_alert["id"], "pin": SOS_PIN})
    assert ack["alert"]["status"] == "cancelled"
    stored = await stored_alert(hub, victim_alert["id"])
    assert stored["duress"] is True and stored["status"] == "acknowledged" and stored["cover"]
    assert (await victim_sock.call("sos:mine"))["alert"] is None


async def bearers_follow(hub: HubClient, officer: dict[str, Any], pin: str, name: str, near: Recorder,
                         responder: Recorder) -> tuple[str, dict[str, list[Any]], dict[str, list[Any]]]:
    """An alert told to two bearers, one of whom acknowledges; then the person enters ``pin``.
    Returns (alert id, what the bearer who only was told received, what the responder received)."""
    someone = await person(hub, name)
    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock)
    alert_id = alert["id"]
    await dispatched(hub, alert_id)
    await near.wait_for("sos:new", where=lambda a: a["id"] == alert_id)
    await responder.wait_for("sos:new", where=lambda a: a["id"] == alert_id)
    ack = await responder.call("sos:transition", {"alert_id": alert_id, "action": "acknowledge"})
    assert ack["alert"]["status"] == "acknowledged"
    await near.wait_for("sos:updated", where=lambda a: a["id"] == alert_id)
    ack = await sock.call("sos:cancel", {"alert_id": alert_id, "pin": pin})
    assert ack["alert"]["status"] == "cancelled"
    await near.wait_for("sos:updated", where=lambda a: a["id"] == alert_id and a["status"] == "cancelled")
    await responder.wait_for("sos:updated", where=lambda a: a["id"] == alert_id and a["status"] == "cancelled")
    return alert_id, near.events, responder.events


def about(events: dict[str, list[Any]], alert_id: str) -> list[tuple[str, Any]]:
    return [(name, same_shape(e)) for name, items in sorted(events.items()) for e in items
            if isinstance(e, dict) and (e.get("id") == alert_id or e.get("alert_id") == alert_id)]


async def test_bearers_see_a_duress_cancel_exactly_as_a_real_cancel(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    near, (near_sock,), _ = await bearer_at(hub, officer, GURUGRAM, "Told Bearer")
    helper, (helper_sock,), _ = await bearer_at(hub, officer, DELHI, "Responding Bearer")
    far, (far_sock,), _ = await bearer_at(hub, officer, MUMBAI, "Far Bearer")  # same country, 1150 km

    real_id, _, _ = await bearers_follow(hub, officer, SOS_PIN, "Real Cancel", near_sock, helper_sock)
    duress_id, _, _ = await bearers_follow(hub, officer, DURESS_PIN, "Forced Cancel", near_sock, helper_sock)
    await officer_sock.wait_for("sos:updated", where=lambda a: a["id"] == duress_id and a["duress"])

    async def escalated() -> bool:
        return bool((await stored_alert(hub, duress_id))["escalation"]["level"] == 2)
    await wait_until(escalated)  # every step left ran at once, for the Cell only
    await scheduler_passes(hub)
    await settled(hub, near_sock, helper_sock)

    # live events, field by field
    assert about(near_sock.events, duress_id) == about(near_sock.events, real_id)
    assert about(helper_sock.events, duress_id) == about(helper_sock.events, real_id)
    last = [e for e in helper_sock.events["sos:updated"] if e["id"] == duress_id][-1]
    assert last["status"] == "cancelled" and last["duress"] is False and last["duress_person_sees"] is None
    # duress does not widen the dispatch to the whole country
    assert not [e for e in far_sock.events["sos:new"] if e["id"] == duress_id]
    assert (await stored_alert(hub, duress_id))["status"] == "acknowledged"

    # pulls, field by field: the told bearer's limited view, the responder's full view, timeline, export
    for sock in (near_sock, helper_sock):
        views = [await sock.call("sos:get", {"alert_id": i}) for i in (real_id, duress_id)]
        assert same_shape(views[0]) == same_shape(views[1]) and views[1]["alert"]["status"] == "cancelled"
    lines = [await helper_sock.call("sos:timeline", {"alert_id": i}) for i in (real_id, duress_id)]
    assert same_shape(lines[0]) == same_shape(lines[1])
    assert [e["type"] for e in lines[1]["events"]][-1] == "status"
    exports = []
    for alert_id in (real_id, duress_id):
        status, body = await hub.request("GET", f"/api/sos/alerts/{alert_id}/export.json",
                                         token=helper["access_token"])
        assert status == 200
        exports.append(body)
    assert same_shape(exports[0]) == same_shape(exports[1])
    status, cap = await hub.request("GET", f"/api/sos/alerts/{duress_id}/export.cap", token=helper["access_token"])
    assert status == 200 and "Duress: no." in cap and "DURESS:" not in cap and "duress PIN" not in cap

    # what they may still do answers alike
    for sock, event, extra in ((helper_sock, "sos:note", {"body": "on my way"}),
                               (helper_sock, "sos:transition", {"action": "respond"}),
                               (near_sock, "sos:transition", {"action": "acknowledge"})):
        answers = [await sock.call(event, {"alert_id": i, **extra}) for i in (real_id, duress_id)]
        assert answers[0] == answers[1] and error_code(answers[0]) == "alert_closed"

    # the Cell goes on: its changes reach the Cell only
    before = (len(near_sock.events["sos:updated"]), len(helper_sock.events["sos:updated"]))
    await officer_sock.call("sos:transition", {"alert_id": duress_id, "action": "acknowledge"})
    await officer_sock.call("sos:note", {"alert_id": duress_id, "body": "calling the police"})
    await settled(hub, near_sock, helper_sock)
    assert (len(near_sock.events["sos:updated"]), len(helper_sock.events["sos:updated"])) == before
    assert not helper_sock.events["sos:note"]
    full = await officer_sock.call("sos:get", {"alert_id": duress_id})
    assert full["alert"]["duress"] is True and full["alert"]["duress_person_sees"] == "cancelled"
    kinds = [e["type"] for e in (await officer_sock.call("sos:timeline", {"alert_id": duress_id}))["events"]]
    assert "duress" in kinds and kinds.count("escalation") == 2
    assert sos_service(hub) is not None
