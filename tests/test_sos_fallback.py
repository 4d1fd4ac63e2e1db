"""The person's HTTP fallbacks (issue 10): live location, notes and cancel over plain HTTP when the
socket will not stay up, answered exactly as the Socket.IO events are (same service methods, same
limits, same idempotency through an optional ``client_id``, same duress cover) — and a person
whose app was offline while officers acted reads the alert's current state on reconnect.

Everything over a real hubchat on a TCP port: real Socket.IO clients, real HTTP, Redis, the
embedded store."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

import time
from typing import Any

from hubchat.clock import ManualClock
from tests.support import HubClient, Recorder
from tests.test_sos_duress import person_side, same_shape
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    DURESS_PIN,
    GURUGRAM,
    LOCATION_EVERY_SECS,
    SOS_PIN,
    dispatched,
    error_code,
    hub,
    node_factory,
    officer_on_duty,
    person,
    settled,
    sos_service,
    stored_alert,
    timeline,
    trigger,
    wait_until,
)

UNKNOWN_ID = "0123456789abcdef01234567"


async def post(hub: HubClient, path: str, who: dict[str, Any], body: Any) -> tuple[int, Any]:
    return await hub.request("POST", path, token=who["access_token"], json=body)


async def track_count(hub: HubClient, alert_id: str) -> int:
    count: int = await sos_service(hub).repo.coll("alert_track").count_documents({"alert_id": alert_id})
    return count


async def notes_of(hub: HubClient, alert_id: str) -> list[dict[str, Any]]:
    return [e for e in await timeline(hub, alert_id) if e["type"] == "note" and e.get("actor")]


async def open_alert(hub: HubClient, name: str) -> tuple[dict[str, Any], Recorder, dict[str, Any]]:
    who = await person(hub, name)
    sock = await hub.connect(who["access_token"])
    alert = await trigger(sock)
    await dispatched(hub, alert["id"])
    return who, sock, alert


# ---------------------------------------------------------------- live location
async def test_location_over_http_answers_as_the_socket_event_and_a_retry_is_stored_once(
        hub: HubClient, clock: ManualClock) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    who, sock, alert = await open_alert(hub, "Mawii")
    points = await track_count(hub, alert["id"])
    body = {"alert_id": alert["id"], "lat": GURUGRAM[0], "lon": GURUGRAM[1], "accuracy_m": 12.0, "battery_pct": 30,
            "client_id": "loc-000000001"}
    status, first = await post(hub, "/api/sos/location", who, body)
    assert status == 200, first
    assert first["alert_id"] == alert["id"] and first["location"]["lat"] == GURUGRAM[0]
    assert set(first) == {"alert_id", "location"} and set(first["location"]) == {"lat", "lon", "accuracy_m", "at"}
    got = await officer_sock.wait_for("sos:location")
    assert got[0]["location"] == first["location"] and got[0]["battery_pct"] == 30

    # the answer was lost: the same body again, over HTTP and over the socket → the same answer, nothing stored
    status, again = await post(hub, "/api/sos/location", who, body)
    assert status == 200 and again == first
    assert await sock.call("sos:location", body) == first
    await settled(hub, officer_sock)
    assert await track_count(hub, alert["id"]) == points + 1
    assert len(officer_sock.events["sos:location"]) == 1
    # the same client_id with another position is refused, and changes nothing
    status, reused = await post(hub, "/api/sos/location", who, {**body, "lat": DELHI[0]})
    assert status == 409 and reused["error"]["code"] == "client_id_reused"
    assert error_code(await sock.call("sos:location", {**body, "lat": DELHI[0]})) == "client_id_reused"
    # a new position within the interval: the same 429 as the socket, with Retry-After, not stored
    status, limited = await post(hub, "/api/sos/location", who, {**body, "client_id": "loc-000000002"})
    assert status == 429 and limited["error"]["code"] == "rate_limited" and limited["error"]["retry_after_secs"] > 0
    assert await track_count(hub, alert["id"]) == points + 1
    stored = await stored_alert(hub, alert["id"])
    assert stored["location"]["lat"] == GURUGRAM[0]

    # without a client_id every accepted update is stored, as before
    clock.advance(LOCATION_EVERY_SECS)
    status, _ = await post(hub, "/api/sos/location", who, {"alert_id": alert["id"], "lat": 28.5, "lon": 77.1})
    assert status == 200
    assert await track_count(hub, alert["id"]) == points + 2


# ---------------------------------------------------------------- notes
async def test_note_over_http_answers_as_the_socket_event_and_a_retry_is_stored_once(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    who, sock, alert = await open_alert(hub, "Mapuii")
    body = {"alert_id": alert["id"], "body": "I am in the basement", "client_id": "note-00000001"}
    status, first = await post(hub, "/api/sos/note", who, body)
    assert status == 200 and first["event"]["type"] == "note" and first["event"]["note"] == body["body"]
    assert first["event"]["actor"]["id"] == who["id"] and "client_id" not in str(first)
    got = await officer_sock.wait_for("sos:note")
    assert got[0]["event"] == first["event"]

    status, again = await post(hub, "/api/sos/note", who, body)
    assert status == 200 and again == first
    assert await sock.call("sos:note", body) == first
    await settled(hub, officer_sock)
    assert len(await notes_of(hub, alert["id"])) == 1 and len(officer_sock.events["sos:note"]) == 1
    status, reused = await post(hub, "/api/sos/note", who, {**body, "body": "another text"})
    assert status == 409 and reused["error"]["code"] == "client_id_reused"
    assert len(await notes_of(hub, alert["id"])) == 1

    # the socket first, then the HTTP retry with the same client_id
    sock_body = {"alert_id": alert["id"], "body": "second floor", "client_id": "note-00000002"}
    by_socket = await sock.call("sos:note", sock_body)
    status, by_http = await post(hub, "/api/sos/note", who, sock_body)
    assert status == 200 and by_http == by_socket
    # an officer's note with the same client_id is another note (client ids are per user)
    officer_note = await officer_sock.call("sos:note", sock_body)
    assert officer_note["event"]["seq"] != by_socket["event"]["seq"]
    # without a client_id, two sends are two notes, as before
    plain = {"alert_id": alert["id"], "body": "third"}
    assert (await post(hub, "/api/sos/note", who, plain))[0] == 200
    assert (await post(hub, "/api/sos/note", who, plain))[0] == 200
    assert len(await notes_of(hub, alert["id"])) == 5


# ---------------------------------------------------------------- bad input and strangers
async def test_fallback_routes_refuse_bad_input_and_strangers_and_change_nothing(hub: HubClient) -> None:
    await officer_on_duty(hub)
    who, _sock, alert = await open_alert(hub, "Sangi")
    stranger = await person(hub, "Stranger")
    alert_id = alert["id"]
    good = {
        "/api/sos/location": {"alert_id": alert_id, "lat": 28.6, "lon": 77.2},
        "/api/sos/note": {"alert_id": alert_id, "body": "hello"},
        "/api/sos/cancel": {"alert_id": alert_id, "pin": SOS_PIN},
    }
    bad: list[tuple[str, Any]] = [
        ("/api/sos/location", {**good["/api/sos/location"], "lat": "28.6"}),
        ("/api/sos/location", {**good["/api/sos/location"], "lat": 91}),
        ("/api/sos/location", {"alert_id": alert_id, "lat": 28.6}),
        ("/api/sos/location", {**good["/api/sos/location"], "client_id": "short"}),
        ("/api/sos/location", {**good["/api/sos/location"], "user_id": stranger["id"]}),
        ("/api/sos/note", {**good["/api/sos/note"], "body": ""}),
        ("/api/sos/note", {**good["/api/sos/note"], "body": "x" * 1001}),
        ("/api/sos/note", {**good["/api/sos/note"], "client_id": {"$gt": ""}}),
        ("/api/sos/note", {"alert_id": {"$gt": ""}, "body": "hi"}),
        ("/api/sos/cancel", {"alert_id": alert_id, "pin": 2468}),
        ("/api/sos/cancel", {"alert_id": alert_id, "pin": "12"}),
        ("/api/sos/cancel", {"alert_id": alert_id, "pin": SOS_PIN, "force": True}),
        ("/api/sos/cancel", [good["/api/sos/cancel"]]),
    ]
    before = await stored_alert(hub, alert_id)
    events_before, points_before = len(await timeline(hub, alert_id)), await track_count(hub, alert_id)
    for path, body in bad:
        status, answer = await post(hub, path, who, body)
        assert status == 400 and answer["error"]["code"] == "invalid_payload", (path, body, answer)
    for path in good:
        status, answer = await hub.request("POST", path, token=who["access_token"], data=b"not json",
                                           headers={"Content-Type": "application/json"})
        assert status == 400 and answer["error"]["code"] == "invalid_payload"
        status, answer = await hub.request("POST", path, json=good[path])
        assert status == 401
        # another user's alert is answered exactly as an alert that does not exist
        status, theirs = await post(hub, path, stranger, good[path])
        status_unknown, unknown = await post(hub, path, stranger, {**good[path], "alert_id": UNKNOWN_ID})
        assert status == status_unknown == 404 and theirs == unknown, (path, theirs, unknown)
        assert theirs["error"]["code"] == "alert_not_found"
    after = await stored_alert(hub, alert_id)
    assert after["version"] == before["version"] and after["status"] == "open"
    assert after["location"] == before["location"]
    assert len(await timeline(hub, alert_id)) == events_before and await track_count(hub, alert_id) == points_before


# ---------------------------------------------------------------- cancel, real and duress
async def test_cancel_over_http_duress_pin_answers_exactly_as_the_real_pin(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    victim, victim_sock, victim_alert = await open_alert(hub, "Victim")
    control, control_sock, control_alert = await open_alert(hub, "Control")
    for who, a in ((victim, victim_alert), (control, control_alert)):  # a note and a point with client ids
        assert (await post(hub, "/api/sos/note", who, {"alert_id": a["id"], "body": "before",
                                                        "client_id": "note-before-1"}))[0] == 200
        assert (await post(hub, "/api/sos/location", who, {"alert_id": a["id"], "lat": 28.6, "lon": 77.2,
                                                            "client_id": "loc-before-1"}))[0] == 200
    for sock in (victim_sock, control_sock):
        sock.events.clear()

    # a wrong PIN first: the same 403 for both
    wrong = [await post(hub, "/api/sos/cancel", who, {"alert_id": a["id"], "pin": "9999"})
             for who, a in ((victim, victim_alert), (control, control_alert))]
    assert [s for s, _ in wrong] == [403, 403] and same_shape(wrong[0][1]) == same_shape(wrong[1][1])
    assert wrong[0][1]["error"]["code"] == "wrong_pin"

    answers: list[tuple[int, Any]] = []
    took: list[float] = []
    for who, alert, pin in ((victim, victim_alert, DURESS_PIN), (control, control_alert, SOS_PIN)):
        started = time.perf_counter()
        answers.append(await post(hub, "/api/sos/cancel", who, {"alert_id": alert["id"], "pin": pin}))
        took.append(time.perf_counter() - started)
    (v_status, v_body), (c_status, c_body) = answers
    assert v_status == c_status == 200
    assert v_body["alert"]["status"] == c_body["alert"]["status"] == "cancelled"
    assert same_shape(v_body) == same_shape(c_body)
    assert max(took) < 3 * max(min(took), 0.05) + 0.5
    # the person's screens get the same live events
    for sock in (victim_sock, control_sock):
        await sock.wait_for("sos:updated")
    await settled(hub, victim_sock, control_sock)
    assert person_side(victim_sock) == person_side(control_sock)
    assert victim_sock.events["sos:updated"][0] == v_body["alert"]

    # the Cell knows the truth
    stored = await stored_alert(hub, victim_alert["id"])
    assert stored["duress"] is True and stored["status"] == "open"
    assert (await stored_alert(hub, control_alert["id"]))["status"] == "cancelled"

    # what comes after is answered alike: a retried cancel, a location, a note, the reads
    for path, body in (("/api/sos/cancel", {"pin": SOS_PIN}), ("/api/sos/location", {"lat": 28.6, "lon": 77.2}),
                       ("/api/sos/note", {"body": "are you there", "client_id": "note-after-01"}),
                       ("/api/sos/note", {"body": "before", "client_id": "note-before-1"}),
                       ("/api/sos/note", {"body": "other text", "client_id": "note-before-1"}),
                       ("/api/sos/location", {"lat": 28.6, "lon": 77.2, "client_id": "loc-before-1"}),
                       ("/api/sos/location", {"lat": 10.0, "lon": 77.2, "client_id": "loc-before-1"})):
        after = [await post(hub, path, who, {"alert_id": a["id"], **body})
                 for who, a in ((victim, victim_alert), (control, control_alert))]
        assert after[0][0] == after[1][0] == 409, (path, after)
        assert same_shape(after[0][1]) == same_shape(after[1][1]) and after[0][1]["error"]["code"] == "alert_closed"
    reads = [await hub.request("GET", f"/api/sos/alerts/{a['id']}", token=who["access_token"])
             for who, a in ((victim, victim_alert), (control, control_alert))]
    assert reads[0][0] == reads[1][0] == 200 and same_shape(reads[0][1]) == same_shape(reads[1][1])
    for who in (victim, control):
        assert (await hub.request("GET", "/api/sos/mine", token=who["access_token"])) == (200, {"alert": None})
    # the victim's note after the cover reached the Cell only
    assert [e["note"] for e in await notes_of(hub, victim_alert["id"])] == ["before", "are you there"]
    assert [e["note"] for e in await notes_of(hub, control_alert["id"])] == ["before"]
    await settled(hub, victim_sock, control_sock)
    assert person_side(victim_sock) == person_side(control_sock)


async def test_cancel_over_http_during_the_lockout_answers_every_pin_alike(hub: HubClient) -> None:
    await officer_on_duty(hub)
    victim, _victim_sock, victim_alert = await open_alert(hub, "Victim")
    control, _control_sock, control_alert = await open_alert(hub, "Control")
    for who, alert in ((victim, victim_alert), (control, control_alert)):
        for i in range(5):
            status, body = await post(hub, "/api/sos/cancel", who, {"alert_id": alert["id"], "pin": f"900{i}"})
            assert status == 403 and body["error"]["code"] == "wrong_pin"
    victim_answers, control_answers = [], []
    for pin in ("1111", DURESS_PIN, SOS_PIN):
        victim_answers.append(await post(hub, "/api/sos/cancel", victim, {"alert_id": victim_alert["id"], "pin": pin}))
        control_answers.append(await post(hub, "/api/sos/cancel", control,
                                          {"alert_id": control_alert["id"], "pin": "0000"}))
    for status, body in victim_answers + control_answers:
        assert status == 429 and body["error"]["code"] == "rate_limited"
    assert [same_shape(b) for _, b in victim_answers] == [same_shape(b) for _, b in control_answers]

    async def marked() -> bool:
        return bool((await stored_alert(hub, victim_alert["id"])).get("duress"))
    await wait_until(marked)
    status, body = await hub.request("GET", "/api/sos/mine", token=victim["access_token"])
    assert status == 200 and body["alert"]["status"] == "open" and "duress" not in str(body)


# ---------------------------------------------------------------- reconnect
async def test_a_person_offline_while_officers_acted_reads_the_current_state_on_reconnect(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub, "Officer Lalthanpuia")
    who, sock, alert = await open_alert(hub, "Offline Person")
    await sock.disconnect()
    for action in ("acknowledge", "respond"):
        ack = await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": action})
        assert "alert" in ack, ack

    again = await hub.connect(who["access_token"])
    mine = await again.call("sos:mine")
    assert mine["alert"]["id"] == alert["id"] and mine["alert"]["status"] == "responding"
    assert mine["alert"]["acknowledged_by"]["display_name"] == "Officer Lalthanpuia"
    assert mine["alert"]["view"] == "person" and mine["alert"]["version"] > alert["version"]
    assert await hub.request("GET", "/api/sos/mine", token=who["access_token"]) == (200, mine)
    # the reconnected socket is back in the alert's room: the next change arrives live
    await officer_sock.call("sos:transition", {"alert_id": alert["id"], "action": "resolve"})
    live = await again.wait_for("sos:updated")
    assert live[0]["status"] == "resolved" and live[0]["acknowledged_by"]["display_name"] == "Officer Lalthanpuia"

    # resolved while offline: the alert is no longer open (sos:mine is null) and the client that
    # knows its alert reads it by id, over the socket or over HTTP
    await again.disconnect()
    third = await hub.connect(who["access_token"])
    assert (await third.call("sos:mine"))["alert"] is None
    got = await third.call("sos:get", {"alert_id": alert["id"]})
    assert got["alert"]["status"] == "resolved" and got["alert"]["view"] == "person"
    assert await hub.request("GET", f"/api/sos/alerts/{alert['id']}", token=who["access_token"]) == (200, got)
