"""SOS through the wire: a real hubchat (SOS wired as in app.py) on a TCP port, real Socket.IO
clients, Redis, the embedded MongoDB-wire server and the aiosmtpd sink — trigger and dispatch,
idempotency, lifecycle and permissions, live location, cancel and duress, feed, privacy, audit
and bad input."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

from typing import Any

from hubchat.clock import ManualClock
from tests.support import HubClient
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    BENGALURU,
    DELHI,
    DURESS_PIN,
    ESCALATION_LIST,
    GURUGRAM,
    LOCATION_EVERY_SECS,
    MUMBAI,
    SOS_PIN,
    account,
    bearer_at,
    dispatched,
    error_code,
    hub,
    join_association,
    node_factory,
    officer_on_duty,
    person,
    settled,
    stored_alert,
    timeline,
    trigger,
    trigger_body,
    wait_until,
)


# ---------------------------------------------------------------- trigger and dispatch
async def test_trigger_tells_officers_and_near_office_bearers_once(hub: HubClient) -> None:
    officer, officer_socks = await officer_on_duty(hub, sockets=2)
    near, near_socks, near_assoc = await bearer_at(hub, officer, GURUGRAM, "Near Bearer", sockets=2)
    far, far_socks, _ = await bearer_at(hub, officer, BENGALURU, "Far Bearer")
    own, own_socks, own_assoc = await bearer_at(hub, officer, MUMBAI, "Own Bearer")
    # the real registration path once (PINs set at sign-up); the other tests store accounts directly
    someone = await hub.user(display_name="Lalremruati", sos_pin=SOS_PIN, duress_pin=DURESS_PIN, phone="+919812345678")
    await join_association(hub, someone, own, own_assoc)
    person_sock = await hub.connect(someone["access_token"])

    ack = await person_sock.call("sos:trigger", trigger_body(note="Chest pain", battery_pct=41))
    assert ack["outcome"] == "created"
    alert = ack["alert"]
    assert alert["view"] == "person" and alert["status"] == "open" and alert["category"] == "medical"
    assert alert["location"]["lat"] == DELHI[0] and alert["location_known"] is True

    for sock in officer_socks:
        got = await sock.wait_for("sos:new")
        assert got[0]["id"] == alert["id"] and got[0]["view"] == "full"
        assert got[0]["person"]["display_name"] == "Lalremruati" and got[0]["person"]["phone"] == "+919812345678"
        assert (got[0]["lat"], got[0]["lon"], got[0]["accuracy_m"]) == (DELHI[0], DELHI[1], 25.0)
    for sock in [*near_socks, *own_socks]:
        got = await sock.wait_for("sos:new")
        assert got[0]["id"] == alert["id"] and got[0]["view"] == "limited"
    await settled(hub, *officer_socks, *near_socks, *own_socks, *far_socks, person_sock)
    for sock in [*officer_socks, *near_socks, *own_socks]:
        assert len(sock.events["sos:new"]) == 1
    assert far_socks[0].events["sos:new"] == []
    assert person_sock.events["sos:new"] == []

    limited = near_socks[0].events["sos:new"][0]
    assert 20 < limited["distance_km"] < 30
    assert limited["person"] == {"label": "A person near you", "city": "Aizawl", "country": "IN"}
    assert "Lalremruati" not in str(limited) and "+919812345678" not in str(limited)
    assert (limited["area"]["lat"], limited["area"]["lon"]) != DELHI
    assert abs(limited["area"]["lat"] - DELHI[0]) < 0.05 and abs(limited["area"]["lon"] - DELHI[1]) < 0.05
    assert own_socks[0].events["sos:new"][0]["distance_km"] > 1000

    stored = await dispatched(hub, alert["id"])
    told = {(e["user_id"], e["role"], e["association_id"], e["round"]) for e in stored["dispatch"]}
    assert told == {(officer["id"], "officer", None, 1), (near["id"], "office_bearer", near_assoc, 1),
                    (own["id"], "office_bearer", own_assoc, 1)}
    events = await timeline(hub, alert["id"])
    assert [e["type"] for e in events] == ["created", "dispatch"] and [e["seq"] for e in events] == [1, 2]
    async with hub.http.get(f"{hub.ops_url}/metrics") as resp:
        metrics = await resp.text()
    assert 'hubchat_sos_triggers_total{outcome="created"} 1.0' in metrics
    assert 'hubchat_sos_dispatched_total{role="office_bearer",round="1"} 2.0' in metrics
    assert events[0]["actor"]["id"] == someone["id"] and events[0]["note"] == "Chest pain"
    assert events[1]["data"]["officers"] == [officer["id"]]


async def test_trigger_is_idempotent_over_socket_and_http(hub: HubClient) -> None:
    await officer_on_duty(hub)
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    body = trigger_body("retry-me-0001", note="help")
    first = await sock.call("sos:trigger", body)
    again = await sock.call("sos:trigger", body)
    assert again["outcome"] == "replayed" and again["alert"]["id"] == first["alert"]["id"]
    moving = ("version", "updated_at")  # dispatch may have written meanwhile
    assert {k: v for k, v in again["alert"].items() if k not in moving} == \
        {k: v for k, v in first["alert"].items() if k not in moving}  # from memory and from the store alike
    await dispatched(hub, first["alert"]["id"])
    status, mine = await hub.request("GET", "/api/sos/mine", token=someone["access_token"])
    assert status == 200 and mine["alert"]["id"] == first["alert"]["id"]
    status, over_http = await hub.request("POST", "/api/sos", token=someone["access_token"], json=body)
    assert status == 200 and over_http["alert"]["id"] == first["alert"]["id"] and over_http["outcome"] == "replayed"
    before = await stored_alert(hub, first["alert"]["id"])

    changed = await sock.call("sos:trigger", {**body, "category": "violence"})
    assert error_code(changed) == "client_sos_id_reused"
    status, changed_http = await hub.request("POST", "/api/sos", token=someone["access_token"],
                                             json={**body, "lat": 10.0})
    assert status == 409 and changed_http["error"]["code"] == "client_sos_id_reused"
    after = await stored_alert(hub, first["alert"]["id"])
    assert after["version"] == before["version"] and after["location"] == before["location"]
    assert await sos_count(hub, someone["id"]) == 1

    # HTTP first, then the same over HTTP again (a flaky network retrying)
    other = await person(hub, "Zorinpuii")
    status, created = await hub.request("POST", "/api/sos", token=other["access_token"],
                                        json=trigger_body("http-first-01", at=None))
    assert status == 201 and created["outcome"] == "created", created
    assert created["alert"]["location_known"] is False and created["alert"]["location"] is None
    status, retried = await hub.request("POST", "/api/sos", token=other["access_token"],
                                        json=trigger_body("http-first-01", at=None))
    assert status == 200 and retried["alert"]["id"] == created["alert"]["id"]
    assert await sos_count(hub, other["id"]) == 1
    stored = await stored_alert(hub, created["alert"]["id"])
    assert stored["person"]["city"] == "Aizawl" and stored["location"] is None


async def sos_count(hub: HubClient, user_id: str) -> int:
    count: int = await hub.services["sos"].repo.coll("alerts").count_documents({"user_id": user_id})
    return count


async def test_trigger_again_while_open_appends_the_location(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    first = await trigger(sock, client_sos_id="first-press-01")
    await dispatched(hub, first["id"])
    ack = await sock.call("sos:trigger", trigger_body("second-press-1", at=GURUGRAM, category="violence",
                                                      battery_pct=12))
    assert ack["outcome"] == "retriggered" and ack["alert"]["id"] == first["id"]
    assert ack["alert"]["location"]["lat"] == GURUGRAM[0] and ack["alert"]["battery_pct"] == 12
    assert ack["alert"]["category"] == "medical"  # the alert keeps its first category; the timeline has the new one
    again = await sock.call("sos:trigger", trigger_body("second-press-1", at=GURUGRAM, category="violence",
                                                        battery_pct=12))
    assert again["outcome"] == "replayed" and again["alert"]["id"] == first["id"]

    track = await hub.services["sos"].repo.track(first["id"])
    assert [(p["lat"], p["lon"]) for p in track] == [DELHI, GURUGRAM]
    events = await timeline(hub, first["id"])
    retriggered = [e for e in events if e["type"] == "retriggered"]
    assert len(retriggered) == 1 and retriggered[0]["data"]["category"] == "violence"
    assert await sos_count(hub, someone["id"]) == 1
    updates = await officer_sock.wait_for("sos:updated", where=lambda a: a["lat"] == GURUGRAM[0])
    assert updates[0]["id"] == first["id"]


# ---------------------------------------------------------------- lifecycle and permissions
async def test_lifecycle_with_permission_checks(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    near, (near_sock,), _ = await bearer_at(hub, officer, GURUGRAM, "Near Bearer")
    stranger = await person(hub, "Not Told")
    stranger_sock = await hub.connect(stranger["access_token"])
    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    alert = await trigger(person_sock)
    await near_sock.wait_for("sos:new")
    alert_id = alert["id"]

    def move(action: str, **extra: Any) -> dict[str, Any]:
        return {"alert_id": alert_id, "action": action, **extra}

    assert error_code(await stranger_sock.call("sos:transition", move("acknowledge"))) == "alert_not_found"
    assert error_code(await person_sock.call("sos:transition", move("acknowledge"))) == "not_allowed"
    assert error_code(await person_sock.call("sos:transition", move("resolve"))) == "not_allowed"
    assert error_code(await near_sock.call("sos:transition", move("respond"))) == "not_allowed"
    assert error_code(await officer_sock.call("sos:transition", move("respond"))) == "invalid_transition"
    assert error_code(await officer_sock.call("sos:transition", move("resolve"))) == "invalid_transition"
    assert (await stored_alert(hub, alert_id))["status"] == "open"

    ack = await near_sock.call("sos:transition", move("acknowledge", note="On my way, 10 minutes"))
    assert ack["alert"]["status"] == "acknowledged" and ack["alert"]["view"] == "full"
    assert ack["alert"]["lat"] == DELHI[0] and ack["alert"]["person"]["phone"] == "+919812345678"
    seen = await person_sock.wait_for("sos:updated", where=lambda a: a["status"] == "acknowledged")
    assert seen[0]["acknowledged_by"]["display_name"] == "Near Bearer" and seen[0]["view"] == "person"
    assert seen[0]["acknowledged_by"]["role"] == "office_bearer" and "id" not in seen[0]["acknowledged_by"]
    await officer_sock.wait_for("sos:updated", where=lambda a: a["status"] == "acknowledged")
    # a bearer may not close what the Cell has not acknowledged; the Cell takes over the alert
    assert error_code(await near_sock.call("sos:transition", move("false_alarm"))) in ("not_allowed",
                                                                                      "invalid_transition")
    taken = await officer_sock.call("sos:transition", move("acknowledge"))
    assert taken["alert"]["status"] == "acknowledged" and taken["alert"]["cell_acknowledged_by"]["id"] == officer["id"]
    assert error_code(await officer_sock.call("sos:transition", move("acknowledge"))) == "invalid_transition"

    ack = await near_sock.call("sos:transition", move("respond"))
    assert ack["alert"]["status"] == "responding"
    ack = await officer_sock.call("sos:transition", move("resolve", note="Taken to hospital"))
    assert ack["alert"]["status"] == "resolved" and ack["alert"]["closed_at"]
    resolved = await person_sock.wait_for("sos:updated", where=lambda a: a["status"] == "resolved")
    assert resolved[0]["closed_at"]
    await near_sock.wait_for("sos:updated", where=lambda a: a["status"] == "resolved" and a["view"] == "full")

    for action in ("acknowledge", "respond", "resolve", "false_alarm"):
        assert error_code(await officer_sock.call("sos:transition", move(action))) == "alert_closed"
    assert error_code(await near_sock.call("sos:note", {"alert_id": alert_id, "body": "late"})) == "alert_closed"
    assert error_code(await person_sock.call("sos:cancel", {"alert_id": alert_id, "pin": SOS_PIN})) == "alert_closed"

    stored = await stored_alert(hub, alert_id)
    assert stored["status"] == "resolved" and stored["responders"] == [near["id"], officer["id"]]
    assert stored["acknowledged_by"]["id"] == near["id"] and stored["escalation"]["next_at"] is None
    statuses = [(e["data"]["to"], e["actor"]["id"], e["actor"]["role"], e["note"])
                for e in await timeline(hub, alert_id) if e["type"] == "status"]
    assert statuses == [("acknowledged", near["id"], "office_bearer", "On my way, 10 minutes"),
                        ("acknowledged", officer["id"], "officer", None),
                        ("responding", near["id"], "responder", None),
                        ("resolved", officer["id"], "officer", "Taken to hospital")]
    seqs = [e["seq"] for e in await timeline(hub, alert_id)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # the person's own next SOS is a new alert
    assert (await trigger(person_sock))["id"] != alert_id


async def test_false_alarm_and_notes(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    near, (near_sock,), _ = await bearer_at(hub, officer, GURUGRAM, "Near Bearer")
    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    alert = await trigger(person_sock)
    alert_id = alert["id"]
    await near_sock.wait_for("sos:new")

    assert error_code(await near_sock.call("sos:note", {"alert_id": alert_id, "body": "x"})) == "not_allowed"
    ack = await person_sock.call("sos:note", {"alert_id": alert_id, "body": "I am in the basement"})
    assert ack["event"]["type"] == "note" and ack["event"]["actor"]["role"] == "person"
    got = await officer_sock.wait_for("sos:note")
    assert got[0]["alert_id"] == alert_id and got[0]["event"]["note"] == "I am in the basement"
    ack = await officer_sock.call("sos:note", {"alert_id": alert_id, "body": "Calling the embassy\nline 2"})
    assert ack["event"]["actor"] == {"id": officer["id"], "display_name": "Duty Officer", "role": "officer"}
    assert error_code(await officer_sock.call("sos:note", {"alert_id": alert_id, "body": "x" * 1001})) \
        == "invalid_payload"
    await settled(hub, person_sock)
    assert person_sock.events["sos:note"] == []  # notes are the team's

    await officer_sock.call("sos:transition", {"alert_id": alert_id, "action": "acknowledge"})
    await officer_sock.call("sos:transition", {"alert_id": alert_id, "action": "respond"})
    # the acknowledging officer is a responder and on the feed: still told once
    await officer_sock.wait_for("sos:updated", where=lambda a: a["status"] == "responding")
    await settled(hub, officer_sock)
    assert [a["status"] for a in officer_sock.events["sos:updated"]] == ["acknowledged", "responding"]
    ack = await officer_sock.call("sos:transition", {"alert_id": alert_id, "action": "false_alarm",
                                                     "note": "Pressed by a child"})
    assert ack["alert"]["status"] == "false_alarm"
    await person_sock.wait_for("sos:updated", where=lambda a: a["status"] == "false_alarm")
    limited = await near_sock.wait_for("sos:updated", where=lambda a: a["status"] == "false_alarm")
    assert limited[0]["view"] == "limited"
    notes = [e["note"] for e in await timeline(hub, alert_id) if e["type"] == "note"]
    assert notes == ["I am in the basement", "Calling the embassy\nline 2"]


# ---------------------------------------------------------------- live location
async def test_live_location_is_throttled_and_reaches_only_responders(hub: HubClient, clock: ManualClock) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    near, (near_sock,), _ = await bearer_at(hub, officer, GURUGRAM, "Near Bearer")
    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    alert = await trigger(person_sock)
    alert_id = alert["id"]
    await near_sock.wait_for("sos:new")
    clock.advance(LOCATION_EVERY_SECS)  # the trigger's point is the first of the track

    def at(lat: float, lon: float, **extra: Any) -> dict[str, Any]:
        return {"alert_id": alert_id, "lat": lat, "lon": lon, **extra}

    ack = await person_sock.call("sos:location", at(28.62, 77.21, accuracy_m=8.5, battery_pct=30))
    assert ack["location"]["lat"] == 28.62 and ack["location"]["accuracy_m"] == 8.5
    refused = await person_sock.call("sos:location", at(28.63, 77.22))
    assert error_code(refused) == "rate_limited" and refused["error"]["retry_after_secs"] > 0
    got = await officer_sock.wait_for("sos:location")
    assert got[0] == {"alert_id": alert_id, "location": ack["location"], "battery_pct": 30,
                      "version": got[0]["version"]}
    assert error_code(await officer_sock.call("sos:location", at(1.0, 1.0))) == "not_allowed"
    track = await hub.services["sos"].repo.track(alert_id)
    assert [(p["lat"], p["lon"]) for p in track] == [DELHI, (28.62, 77.21)]

    view = (await near_sock.call("sos:get", {"alert_id": alert_id}))["alert"]
    assert view["view"] == "limited" and "lat" not in view and "location" not in view
    assert "28.62" not in str(view) and "77.21" not in str(view)
    assert near_sock.events["sos:location"] == []

    await near_sock.call("sos:transition", {"alert_id": alert_id, "action": "acknowledge"})
    refused = await person_sock.call("sos:location", at(28.64, 77.23))
    assert error_code(refused) == "rate_limited"  # still within the interval
    clock.advance(LOCATION_EVERY_SECS)
    ack = await person_sock.call("sos:location", at(28.64, 77.23))
    assert "location" in ack, ack
    got = await near_sock.wait_for("sos:location")
    assert got[0]["location"]["lat"] == 28.64
    assert person_sock.events["sos:location"] == []
    stored = await stored_alert(hub, alert_id)
    assert stored["location"]["lat"] == 28.64 and stored["battery_pct"] == 30
    assert len(await hub.services["sos"].repo.track(alert_id)) == 3


# ---------------------------------------------------------------- cancel and duress
async def test_cancel_needs_the_right_pin(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    alert = await trigger(person_sock)
    alert_id = alert["id"]
    assert error_code(await officer_sock.call("sos:cancel", {"alert_id": alert_id, "pin": SOS_PIN})) == "not_allowed"
    assert error_code(await person_sock.call("sos:cancel", {"alert_id": alert_id, "pin": "0000"})) == "wrong_pin"
    ack = await person_sock.call("sos:cancel", {"alert_id": alert_id, "pin": SOS_PIN})
    assert ack["alert"]["status"] == "cancelled" and ack["alert"]["view"] == "person"
    await person_sock.wait_for("sos:updated", where=lambda a: a["status"] == "cancelled")
    full = await officer_sock.wait_for("sos:updated", where=lambda a: a["status"] == "cancelled")
    assert full[0]["duress"] is False
    stored = await stored_alert(hub, alert_id)
    assert stored["status"] == "cancelled" and stored["duress"] is False and stored["closed_at"] is not None
    assert (await person_sock.call("sos:mine"))["alert"] is None
    kinds = [e["type"] for e in await timeline(hub, alert_id)]
    assert "duress" not in kinds and kinds.count("status") == 1

    no_pins = await account(hub, "No Pins Yet")
    no_pins_sock = await hub.connect(no_pins["access_token"])
    theirs = await trigger(no_pins_sock)
    assert error_code(await no_pins_sock.call("sos:cancel", {"alert_id": theirs["id"], "pin": SOS_PIN})) \
        == "pins_not_set"

    # PIN guessing is limited per alert: 5 attempts in 10 minutes
    second = await trigger(person_sock)
    codes = [error_code(await person_sock.call("sos:cancel", {"alert_id": second["id"], "pin": f"000{i}"}))
             for i in range(5)]
    assert codes == ["wrong_pin"] * 5
    assert error_code(await person_sock.call("sos:cancel", {"alert_id": second["id"], "pin": SOS_PIN})) \
        == "rate_limited"
    assert (await stored_alert(hub, second["id"]))["status"] == "open"
    # ... the duress PIN too answers rate_limited, and silently marks the alert duress (test_sos_duress)
    assert error_code(await person_sock.call("sos:cancel", {"alert_id": second["id"], "pin": DURESS_PIN})) \
        == "rate_limited"

    async def marked() -> bool:
        return bool((await stored_alert(hub, second["id"])).get("duress"))
    await wait_until(marked)
    stored = await stored_alert(hub, second["id"])
    assert stored["duress"] is True and stored["status"] == "open"
    wrong = [e for e in await timeline(hub, second["id"]) if e["type"] == "note"]
    assert [e["data"]["kind"] for e in wrong] == ["wrong_pin"] * 5 + ["pin_locked"] * 2
    assert wrong[0]["data"] == {"kind": "wrong_pin"} and wrong[0]["actor"] is None


async def test_duress_pin_looks_like_a_cancel_but_escalates(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    second_screen = await hub.connect(someone["access_token"])

    # a real cancel first, to compare what the person sees
    real = await trigger(person_sock)
    await dispatched(hub, real["id"])
    real_ack = await person_sock.call("sos:cancel", {"alert_id": real["id"], "pin": SOS_PIN})
    real_pushed = (await second_screen.wait_for("sos:updated", where=lambda a: a["id"] == real["id"]))[-1]

    alert = await trigger(person_sock)
    alert_id = alert["id"]
    await dispatched(hub, alert_id)
    ack = await person_sock.call("sos:cancel", {"alert_id": alert_id, "pin": DURESS_PIN})
    assert set(ack) == set(real_ack) and set(ack["alert"]) == set(real_ack["alert"])
    timeless = ("id", "client_sos_id", "created_at", "updated_at", "closed_at", "location")
    same_shape = {k: v for k, v in ack["alert"].items() if k not in timeless}
    assert same_shape == {k: v for k, v in real_ack["alert"].items() if k in same_shape}
    assert set(ack["alert"]["location"]) == set(real_ack["alert"]["location"])
    assert ack["alert"]["status"] == "cancelled" and ack["alert"]["closed_at"] == ack["alert"]["updated_at"]
    assert len(ack["alert"]["closed_at"]) == len(real_ack["alert"]["closed_at"])
    pushed = await second_screen.wait_for("sos:updated", where=lambda a: a["id"] == alert_id)
    assert pushed[-1] == ack["alert"] and set(pushed[-1]) == set(real_pushed)

    full = await officer_sock.wait_for("sos:updated", where=lambda a: a["id"] == alert_id and a["duress"])
    assert full[0]["status"] == "open"
    # escalation emails at once: on-duty officers and the escalation list
    for address in (officer["email"], ESCALATION_LIST):
        mail = (await hub.smtp.wait_for(address))[0]
        assert "DURESS" in mail["Subject"] and alert_id in str(mail.get_payload(decode=True))

    async def escalated() -> bool:  # the level is written first, then its timeline entry
        if (await stored_alert(hub, alert_id))["escalation"]["level"] != 2:
            return False
        return [e["type"] for e in await timeline(hub, alert_id)].count("escalation") >= 2
    await wait_until(escalated)
    stored = await stored_alert(hub, alert_id)
    assert stored["status"] == "open" and stored["duress"] is True and stored["closed_at"] is None
    kinds = [e["type"] for e in await timeline(hub, alert_id)]
    assert kinds.count("duress") == 1 and kinds.count("escalation") == 2

    # what the person can learn afterwards still says "cancelled"
    assert (await person_sock.call("sos:get", {"alert_id": alert_id}))["alert"] == ack["alert"]
    assert (await person_sock.call("sos:mine"))["alert"] is None
    status, body = await hub.request("GET", "/api/sos/mine", token=someone["access_token"])
    assert status == 200 and body == {"alert": None}
    assert error_code(await person_sock.call("sos:cancel", {"alert_id": alert_id, "pin": SOS_PIN})) == "alert_closed"
    for action in ("acknowledge", "resolve"):  # what the same calls answer on a really cancelled alert
        duress_answer = await person_sock.call("sos:transition", {"alert_id": alert_id, "action": action})
        real_answer = await person_sock.call("sos:transition", {"alert_id": real["id"], "action": action})
        assert duress_answer == real_answer and error_code(real_answer) == "alert_closed"
    for event, extra in (("sos:note", {"body": "hello"}), ("sos:get", {}), ("sos:timeline", {})):
        duress_answer = await person_sock.call(event, {"alert_id": alert_id, **extra})
        real_answer = await person_sock.call(event, {"alert_id": real["id"], **extra})
        if event == "sos:get":
            assert set(duress_answer["alert"]) == set(real_answer["alert"])
            assert duress_answer["alert"]["status"] == real_answer["alert"]["status"] == "cancelled"
        else:
            assert duress_answer == real_answer, event
    refused = await person_sock.call("sos:location", {"alert_id": alert_id, "lat": 28.7, "lon": 77.3})
    assert error_code(refused) == "alert_closed"
    moved = await officer_sock.wait_for("sos:location", where=lambda e: e["alert_id"] == alert_id)
    assert moved[0]["location"]["lat"] == 28.7  # still tracked, quietly
    before = len(second_screen.events["sos:updated"])
    await officer_sock.call("sos:transition", {"alert_id": alert_id, "action": "acknowledge"})
    await officer_sock.call("sos:transition", {"alert_id": alert_id, "action": "respond"})
    await settled(hub, second_screen, person_sock)
    assert len(second_screen.events["sos:updated"]) == before
    assert all(not e.get("duress") for e in person_sock.events["sos:updated"] + second_screen.events["sos:updated"])
    assert "duress" not in str(person_sock.events) and "duress" not in str(second_screen.events)
    # a new SOS from the person is a new alert, not the hidden one
    assert (await trigger(person_sock))["id"] != alert_id


# ---------------------------------------------------------------- feed, duty and reconnect
async def test_officer_feed_snapshot_order_and_reconnect(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    people = [await person(hub, name) for name in ("Oldest", "Acknowledged", "Duress", "Stranded Abroad")]
    socks = [await hub.connect(p["access_token"]) for p in people]
    oldest = await trigger(socks[0])
    acked = await trigger(socks[1], category="violence")
    duress = await trigger(socks[2], category="detention")
    stranded = await trigger(socks[3], category="stranded", at=None)
    await officer_sock.call("sos:transition", {"alert_id": acked["id"], "action": "acknowledge"})
    await socks[2].call("sos:cancel", {"alert_id": duress["id"], "pin": DURESS_PIN})
    resolved = await trigger(await hub.connect((await person(hub, "Closed"))["access_token"]))
    await officer_sock.call("sos:transition", {"alert_id": resolved["id"], "action": "acknowledge"})
    await officer_sock.call("sos:transition", {"alert_id": resolved["id"], "action": "respond"})
    await officer_sock.call("sos:transition", {"alert_id": resolved["id"], "action": "resolve"})

    await officer_sock.disconnect()
    again = await hub.connect(officer["access_token"])  # the connect hook rejoins cell:feed
    feed = await again.call("sos:feed", {})
    assert [a["id"] for a in feed["alerts"]] == [duress["id"], oldest["id"], stranded["id"], acked["id"]]
    assert feed["live"] is True and [o["id"] for o in feed["on_duty"]] == [officer["id"]]
    first = feed["alerts"][0]
    assert first["duress"] is True and first["status"] == "open" and first["person"]["display_name"] == "Duress"
    assert (first["lat"], first["lon"], first["accuracy_m"]) == (DELHI[0], DELHI[1], 25.0)
    unknown = feed["alerts"][2]
    assert (unknown["lat"], unknown["lon"], unknown["accuracy_m"]) == (None, None, None)
    assert unknown["area"] == {"city": "Aizawl", "country": "IN"}

    only = await again.call("sos:feed", {"category": "violence"})
    assert [a["id"] for a in only["alerts"]] == [acked["id"]]
    assert (await again.call("sos:feed", {"status": "acknowledged"}))["alerts"][0]["id"] == acked["id"]
    assert (await again.call("sos:feed", {"country": "AE"}))["alerts"] == []
    assert error_code(await again.call("sos:feed", {"status": "resolved"})) == "invalid_payload"

    newer = await trigger(await hub.connect((await person(hub, "After Reconnect"))["access_token"]))
    got = await again.wait_for("sos:new")
    assert got[0]["id"] == newer["id"]

    # a person reconnecting rejoins their open alert's room and can fetch it
    await socks[0].disconnect()
    back = await hub.connect(people[0]["access_token"])
    assert (await back.call("sos:mine"))["alert"]["id"] == oldest["id"]
    await again.call("sos:transition", {"alert_id": oldest["id"], "action": "acknowledge"})
    seen = await back.wait_for("sos:updated")
    assert seen[0]["status"] == "acknowledged" and seen[0]["acknowledged_by"]["display_name"] == "Duty Officer"


async def test_duty_roster(hub: HubClient) -> None:
    first, (first_sock,) = await officer_on_duty(hub, "First Officer")
    other = await hub.connect((await person(hub, "Member"))["access_token"])
    assert error_code(await other.call("duty:set", {"on_duty": True})) == "not_allowed"
    assert error_code(await other.call("duty:list")) == "not_allowed"
    assert error_code(await other.call("sos:feed", {})) == "not_allowed"
    assert error_code(await first_sock.call("duty:set", {"on_duty": "yes"})) == "invalid_payload"

    officer2 = await account(hub, "Second Officer", role="officer")
    sock2 = await hub.connect(officer2["access_token"])
    ack = await sock2.call("duty:set", {"on_duty": True})
    assert [o["display_name"] for o in ack["officers"]] == ["First Officer", "Second Officer"]
    got = await first_sock.wait_for("duty:updated", where=lambda e: len(e["officers"]) == 2)
    assert got[-1]["officers"][1]["id"] == officer2["id"]
    assert len((await first_sock.call("duty:list"))["officers"]) == 2

    ack = await first_sock.call("duty:set", {"on_duty": False})
    assert ack["duty"]["on_duty"] is False and [o["id"] for o in ack["officers"]] == [officer2["id"]]
    await sock2.wait_for("duty:updated", where=lambda e: len(e["officers"]) == 1)
    alert = await trigger(await hub.connect((await person(hub))["access_token"]))
    await sock2.wait_for("sos:new")
    await settled(hub, first_sock)
    assert first_sock.events["sos:new"] == []  # off duty: no longer on the live feed
    assert (await first_sock.call("sos:feed", {}))["live"] is False
    stored = await dispatched(hub, alert["id"])
    assert [e["user_id"] for e in stored["dispatch"] if e["role"] == "officer"] == [officer2["id"]]


# ---------------------------------------------------------------- privacy, audit, exports
async def test_views_audit_and_exports(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    near, (near_sock,), near_assoc = await bearer_at(hub, officer, GURUGRAM, "Near Bearer")
    other_bearer, (other_sock,), _ = await bearer_at(hub, officer, GURUGRAM, "Other Bearer")
    stranger = await hub.connect((await person(hub, "Stranger"))["access_token"])
    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    alert = await trigger(person_sock, note="Locked in a room")
    alert_id = alert["id"]
    await near_sock.wait_for("sos:new")
    await other_sock.wait_for("sos:new")

    limited = (await near_sock.call("sos:get", {"alert_id": alert_id}))["alert"]
    assert limited["view"] == "limited" and set(limited) == {
        "view", "id", "category", "status", "created_at", "updated_at", "closed_at", "distance_km",
        "location_known", "area", "person", "version"}
    assert limited["person"]["label"] == "A person near you" and "Locked" not in str(limited)
    assert limited["area"]["approx_km"] == 5.0
    for sock in (near_sock, other_sock):
        assert error_code(await sock.call("sos:timeline", {"alert_id": alert_id})) == "not_allowed"
        assert error_code(await sock.call("sos:audit", {"alert_id": alert_id})) == "not_allowed"
    assert error_code(await stranger.call("sos:get", {"alert_id": alert_id})) == "alert_not_found"
    assert error_code(await person_sock.call("sos:timeline", {"alert_id": alert_id})) == "not_allowed"
    own = (await person_sock.call("sos:get", {"alert_id": alert_id}))["alert"]
    assert own["view"] == "person" and "duress" not in own and "person" not in own and "dispatch" not in own

    full = (await officer_sock.call("sos:get", {"alert_id": alert_id}))["alert"]
    assert full["view"] == "full" and full["person"]["email"] == someone["email"] and full["note"] == "Locked in a room"
    await near_sock.call("sos:transition", {"alert_id": alert_id, "action": "acknowledge"})
    full_for_responder = (await near_sock.call("sos:get", {"alert_id": alert_id}))["alert"]
    assert full_for_responder["view"] == "full" and full_for_responder["lat"] == DELHI[0]
    still_limited = (await other_sock.call("sos:get", {"alert_id": alert_id}))["alert"]
    assert still_limited["view"] == "limited" and still_limited["status"] == "acknowledged"
    assert (await near_sock.call("sos:timeline", {"alert_id": alert_id}))["events"][0]["type"] == "created"

    token = officer["access_token"]
    status, body = await hub.request("GET", f"/api/sos/alerts/{alert_id}", token=token)
    assert status == 200 and body["alert"]["view"] == "full"
    status, body = await hub.request("GET", f"/api/sos/alerts/{alert_id}/export.json", token=token)
    assert status == 200 and body["alert"]["id"] == alert_id
    assert [e["type"] for e in body["timeline"]][:2] == ["created", "dispatch"]
    assert body["track"][0]["lat"] == DELHI[0]
    status, xml = await hub.request("GET", f"/api/sos/alerts/{alert_id}/export.cap", token=token)
    assert status == 200 and "urn:oasis:names:tc:emergency:cap:1.2" in xml and alert_id in xml, xml
    async with hub.http.get(f"{hub.base_url}/api/sos/alerts/{alert_id}/export.cap",
                            headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.content_type == "application/cap+xml"
    status, body = await hub.request("GET", f"/api/sos/alerts/{alert_id}/export.json",
                                     token=other_bearer["access_token"])
    assert status == 403 and body["error"]["code"] == "not_allowed"
    status, body = await hub.request("GET", f"/api/sos/alerts/{alert_id}", token=someone["access_token"])
    assert status == 200 and body["alert"]["view"] == "person"

    status, body = await hub.request("GET", f"/api/sos/alerts/{alert_id}/audit", token=token)
    assert status == 200
    entries = [(e["viewer"]["id"], e["viewer"]["role"], e["action"]) for e in body["entries"]]
    assert entries == [(officer["id"], "officer", "view"), (near["id"], "responder", "view"),
                       (near["id"], "responder", "timeline"), (officer["id"], "officer", "view"),
                       (officer["id"], "officer", "export_json"), (officer["id"], "officer", "export_cap"),
                       (officer["id"], "officer", "export_cap")]
    assert (await officer_sock.call("sos:audit", {"alert_id": alert_id}))["entries"] == body["entries"]
    status, body = await hub.request("GET", f"/api/sos/alerts/{alert_id}/audit", token=near["access_token"])
    assert status == 403


async def test_closed_alerts_are_paged_newest_first(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    ids = []
    for i, category in enumerate(("medical", "violence", "medical")):
        sock = await hub.connect((await person(hub, f"P{i}"))["access_token"])
        alert = await trigger(sock, category=category)
        for action in ("acknowledge", "respond", "resolve"):
            await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": action})
        ids.append(alert["id"])
    still_open = await trigger(await hub.connect((await person(hub, "Open"))["access_token"]))
    token = officer["access_token"]
    status, page = await hub.request("GET", "/api/sos/alerts?limit=2", token=token)
    assert status == 200 and [a["id"] for a in page["alerts"]] == [ids[2], ids[1]]
    status, rest = await hub.request("GET", f"/api/sos/alerts?limit=2&before={page['next_before']}", token=token)
    assert [a["id"] for a in rest["alerts"]] == [ids[0]] and rest["next_before"] is None
    status, medical = await hub.request("GET", "/api/sos/alerts?category=medical&country=in", token=token)
    assert [a["id"] for a in medical["alerts"]] == [ids[2], ids[0]]
    status, opened = await hub.request("GET", "/api/sos/alerts?status=open", token=token)
    assert [a["id"] for a in opened["alerts"]] == [still_open["id"]]
    # By the day raised (UTC), both ends included.
    import datetime as dt
    today = dt.datetime.now(dt.UTC).date()
    day = dt.timedelta(days=1)
    for since, until, expected in ((today, today, ids[::-1]), (today - day, None, ids[::-1]),
                                   (None, today - day, []), (today + day, None, [])):
        query = "&".join(f"{k}={v}" for k, v in (("since", since), ("until", until)) if v)
        status, found = await hub.request("GET", f"/api/sos/alerts?{query}", token=token)
        assert status == 200 and [a["id"] for a in found["alerts"]] == expected, (query, found)
    for query in ("since=2026-13-01", f"since={today + day}&until={today}", "until=yesterday"):
        status, body = await hub.request("GET", f"/api/sos/alerts?{query}", token=token)
        assert status == 400 and body["error"]["code"] == "invalid_payload", (query, body)
    for query in ("limit=0", "limit=abc", "status=gone", "before=%7B%22%24gt%22%3A%22%22%7D", "extra=1",
                  f"before={'0' * 24}"):
        status, body = await hub.request("GET", f"/api/sos/alerts?{query}", token=token)
        assert status == 400 and body["error"]["code"] == "invalid_payload", (query, body)
    status, body = await hub.request("GET", "/api/sos/alerts", token=(await person(hub, "M"))["access_token"])
    assert status == 403 and body["error"]["code"] == "not_allowed"
    status, body = await hub.request("GET", "/api/sos/alerts")
    assert status == 401
    status, body = await hub.request("GET", "/api/sos/alerts/not-an-id", token=token)
    assert status == 404 and body["error"]["code"] == "invalid_id"
    status, body = await hub.request("GET", f"/api/sos/alerts/{'0' * 24}", token=token)
    assert status == 404 and body["error"]["code"] == "alert_not_found"


# ---------------------------------------------------------------- bad input never corrupts an alert
BAD_TRIGGERS: list[dict[str, Any]] = [
    {"lat": 91.0, "lon": 0.0}, {"lat": -90.5, "lon": 0.0}, {"lat": 0.0, "lon": 180.5}, {"lat": "28.6", "lon": 77.2},
    {"lat": True, "lon": 77.2}, {"lat": 28.6}, {"lon": 77.2}, {"lat": None, "lon": 77.2},
    {"lat": 28.6, "lon": 77.2, "accuracy_m": -1}, {"lat": 28.6, "lon": 77.2, "accuracy_m": 100001},
    {"accuracy_m": 10}, {"category": "robbery"}, {"category": {"$gt": ""}}, {"note": "x" * 501},
    {"note": {"$gt": ""}}, {"battery_pct": 101}, {"battery_pct": 50.5}, {"battery_pct": "50"},
    {"battery_pct": False}, {"client_sos_id": {"$gt": ""}}, {"client_sos_id": "short"},
    {"client_sos_id": "has space in it"}, {"unknown": 1}, {"person": {"display_name": "spoof"}},
    {"status": "resolved"}, {"lat": {"$gt": ""}, "lon": 1.0},
]


async def test_bad_input_is_refused_and_changes_nothing(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    for bad in BAD_TRIGGERS:
        body = {**trigger_body("bad-input-01", at=None), **bad}
        assert error_code(await sock.call("sos:trigger", body)) == "invalid_payload", bad
    assert await sos_count(hub, someone["id"]) == 0
    for raw in (b'{"client_sos_id": "nan-input-01", "category": "medical", "lat": NaN, "lon": 1}',
                b'{"client_sos_id": "inf-input-01", "category": "medical", "lat": 1e999, "lon": 1}', b"[1]",
                b"not json"):
        status, body = await hub.request("POST", "/api/sos", token=someone["access_token"], data=raw,
                                         headers={"Content-Type": "application/json"})
        assert status == 400 and body["error"]["code"] == "invalid_payload", (raw, body)
    assert error_code(await sock.call("sos:trigger", [trigger_body()])) == "invalid_payload"
    assert await sos_count(hub, someone["id"]) == 0

    alert = await trigger(sock)
    alert_id = alert["id"]
    await dispatched(hub, alert_id)
    before = await stored_alert(hub, alert_id)
    bad_events: list[tuple[Any, str, dict[str, Any]]] = [
        (officer_sock, "sos:transition", {"alert_id": alert_id, "action": "close"}),
        (officer_sock, "sos:transition", {"alert_id": {"$gt": ""}, "action": "acknowledge"}),
        (officer_sock, "sos:transition", {"alert_id": alert_id, "action": "acknowledge", "status": "resolved"}),
        (officer_sock, "sos:transition", {"alert_id": alert_id, "action": "acknowledge", "note": "n" * 501}),
        (officer_sock, "sos:note", {"alert_id": alert_id, "body": ""}),
        (officer_sock, "sos:note", {"alert_id": alert_id, "body": {"$gt": ""}}),
        (sock, "sos:location", {"alert_id": alert_id, "lat": 100.0, "lon": 1.0}),
        (sock, "sos:location", {"alert_id": alert_id, "lat": "1", "lon": 1.0}),
        (sock, "sos:location", {"alert_id": alert_id, "lat": 1.0}),
        (sock, "sos:location", {"alert_id": alert_id, "lat": 1.0, "lon": 1.0, "battery_pct": 200}),
        (sock, "sos:cancel", {"alert_id": alert_id, "pin": {"$gt": ""}}),
        (sock, "sos:cancel", {"alert_id": alert_id, "pin": "12"}),
        (sock, "sos:cancel", {"alert_id": alert_id}),
        (sock, "sos:get", {"alert_id": "../../etc"}),
        (officer_sock, "sos:feed", {"status": {"$ne": "open"}}),
        (officer_sock, "sos:feed", {"country": "India"}),
    ]
    for rec, event, payload in bad_events:
        assert error_code(await rec.call(event, payload)) == "invalid_payload", (event, payload)
    assert error_code(await officer_sock.call("sos:get", {"alert_id": "f" * 24})) == "alert_not_found"
    after = await stored_alert(hub, alert_id)
    assert after == before
    assert [e["type"] for e in await timeline(hub, alert_id)] == ["created", "dispatch"]


async def test_notes_are_translated_for_the_team(hub: HubClient) -> None:
    """A Mizo note (here one the reviewed phrasebook knows, as no model is installed in this test)
    is appended to the timeline in English, pointing at the note, and reaches the officers."""
    officer, officer_socks = await officer_on_duty(hub)
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])
    ack = await sock.call("sos:trigger", trigger_body("note-in-mizo-1", note="Min pui rawh"))
    alert_id = ack["alert"]["id"]
    (got,) = await officer_socks[0].wait_for("sos:note_translated")
    assert got["alert_id"] == alert_id
    assert got["event"]["type"] == "translation" and got["event"]["note"] == "Help me"
    assert got["event"]["data"]["of_seq"] == 1 and got["event"]["data"]["lang"] == "en"
    assert got["event"]["data"]["engine"] == "phrasebook" and got["event"]["actor"] is None
    assert got["event"]["data"]["unvetted"] is True  # no Mizo speaker has reviewed the phrase yet
    assert got["event"]["data"]["similar"] is False
    events = await timeline(hub, alert_id)
    created = next(e for e in events if e["type"] == "created")
    assert created["note"] == "Min pui rawh"  # the original stays as written
    # A note nobody can translate (no model, not in the phrasebook) adds nothing.
    await sock.call("sos:note", {"alert_id": alert_id, "body": "Zanin a thim lutuk"})
    await settled(hub, *officer_socks)
    assert len(officer_socks[0].events["sos:note_translated"]) == 1
