"""Check-in timers (issue 14, item 2) against a real server, store, Redis, SMTP and Socket.IO.

Time is the test's ManualClock: a deadline or a reminder falls due when the test advances it,
and "the scanner looked" is waited on by counting its passes, never by sleeping.
"""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from hubchat.checkin import CheckinService
from hubchat.checkin.scanner import LEASE_MS, ms
from hubchat.clock import ManualClock
from hubchat.config import Settings
from hubchat.sos.repository import ALERTS
from tests.raw_socket import RawSocket
from tests.support import HubClient, Recorder
from tests.test_sos_duress import same_shape as sos_shape
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    DURESS_PIN,
    ESCALATION_LIST,
    SOS_PIN,
    Node,
    account,
    bearer_at,
    error_code,
    fast,
    node_factory,
    officer_on_duty,
    person,
    settled,
    trigger,
    wait_until,
)

MUNICH = (48.1351, 11.5820)
TIMES = {"set_at", "due_at", "remind_at", "ended_at"}


def same_shape(value: Any) -> Any:
    """As the SOS duress tests compare (ids, times, names blanked), the timer's times too."""
    if isinstance(value, dict):
        return sos_shape({k: ("*" if k in TIMES else same_shape(v)) for k, v in value.items()})
    if isinstance(value, list):
        return [same_shape(v) for v in value]
    return value


def checkin_settings(settings: Settings) -> Settings:
    return fast(settings, checkin_scan_interval_secs=0.05)


async def hub_of(node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings) -> HubClient:
    node = await node_factory(checkin_settings(settings))
    assert node.client is not None
    return node.client


def service(hub: HubClient) -> CheckinService:
    timers: CheckinService = hub.services["checkin"]
    return timers


async def scans(*hubs: HubClient, count: int = 2) -> None:
    """Each node's scanner finished ``count`` more passes (what was due when called has run)."""
    scanners = [service(hub).scanner for hub in hubs]
    targets = [s.passes + count for s in scanners]

    async def passed() -> bool:
        return all(s.passes >= t for s, t in zip(scanners, targets, strict=True))
    await wait_until(passed, step=0.02)


def set_body(minutes: int = 30, **extra: Any) -> dict[str, Any]:
    return {"client_id": f"ci-{uuid.uuid4().hex[:12]}", "minutes": minutes, **extra}


async def set_timer(sock: Recorder, **kwargs: Any) -> dict[str, Any]:
    ack = await sock.call("checkin:set", set_body(**kwargs))
    assert "checkin" in ack, ack
    view: dict[str, Any] = ack["checkin"]
    return view


async def alerts_of(hub: HubClient, user_id: str) -> list[dict[str, Any]]:
    store = hub.services["accounts"].infra.store
    return [doc async for doc in store[ALERTS].find({"user_id": user_id})]


# ---------------------------------------------------------------- set, check in
async def test_set_then_check_in_with_the_sos_pin_ends_it_and_nothing_fires(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings, clock: ManualClock) -> None:
    hub = await hub_of(node_factory, settings)
    someone = await person(hub, "Zothansangi")
    sock, other_device = await hub.connect(someone["access_token"]), await hub.connect(someone["access_token"])
    view = await set_timer(sock, minutes=45, note="Meeting the agent at the café\nNear the station",
                           lat=MUNICH[0], lon=MUNICH[1], accuracy_m=20.0, remind_before_minutes=10)
    assert view["status"] == "active" and view["note"].startswith("Meeting the agent")
    assert view["location"]["lat"] == MUNICH[0] and view["remind_at"] < view["due_at"]
    assert (await other_device.wait_for("checkin:updated"))[0]["id"] == view["id"]
    assert (await sock.call("checkin:mine"))["checkin"] == view
    status, body = await hub.request("GET", "/api/checkin", token=someone["access_token"])
    assert status == 200 and body["checkin"] == view

    ack = await sock.call("checkin:check_in", {"checkin_id": view["id"], "pin": SOS_PIN})
    assert ack["checkin"]["status"] == "checked_in" and ack["checkin"]["ended_at"]
    ended = await other_device.wait_for("checkin:updated", where=lambda v: v["status"] == "checked_in")
    assert ended[0] == ack["checkin"]
    # once ended, the timer answers closed; the deadline passing raises nothing
    again = await sock.call("checkin:check_in", {"checkin_id": view["id"], "pin": SOS_PIN})
    assert error_code(again) == "checkin_closed" and again["error"]["status"] == "checked_in"
    clock.advance(46 * 60)
    await scans(hub)
    assert await alerts_of(hub, someone["id"]) == []
    # a new timer may be set now (one active at a time)
    assert (await set_timer(sock))["status"] == "active"


async def test_inputs_are_validated_and_a_retry_answers_the_stored_timer(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings) -> None:
    hub = await hub_of(node_factory, settings)
    someone = await person(hub, "Lalhmingliani")
    sock = await hub.connect(someone["access_token"])
    bad = [
        {"client_id": "ci-12345678"},  # neither minutes nor due_at
        {"client_id": "ci-12345678", "minutes": 30, "due_at": "2030-01-01T00:00:00Z"},
        {"client_id": "ci-12345678", "minutes": "30"},  # no coercion
        {"client_id": "ci-12345678", "minutes": 30, "note": "bell\x07"},
        {"client_id": "ci-12345678", "minutes": 30, "note": "x" * 501},
        {"client_id": "ci-12345678", "minutes": 30, "lat": 10.0},
        {"client_id": "ci-12345678", "due_at": "2030-01-01T00:00:00"},  # no offset
        {"client_id": {"$gt": ""}, "minutes": 30},
        {"client_id": "ci-12345678", "minutes": 30, "user_id": someone["id"]},
    ]
    for body in bad:
        assert error_code(await sock.call("checkin:set", body)) == "invalid_payload", body
    for minutes in (1, 4):  # below the 5-minute floor
        assert error_code(await sock.call("checkin:set", set_body(minutes))) == "deadline_out_of_range"
    assert error_code(await sock.call("checkin:set", set_body(73 * 60))) == "invalid_payload"  # schema bound
    assert error_code(await sock.call("checkin:set", {"client_id": "ci-far-future", "due_at": "2099-01-01T00:00:00Z"})
                      ) == "deadline_out_of_range"
    assert error_code(await sock.call("checkin:set", set_body(30, remind_before_minutes=30))
                      ) == "reminder_out_of_range"

    body = set_body(60, note="Border crossing")
    first = (await sock.call("checkin:set", body))["checkin"]
    assert (await sock.call("checkin:set", body))["checkin"] == first  # a retry: the same timer
    status, replay = await hub.request("POST", "/api/checkin", token=someone["access_token"], json=body)
    assert status == 201 and replay["checkin"] == first
    assert error_code(await sock.call("checkin:set", {**body, "note": "other"})) == "client_id_reused"
    assert error_code(await sock.call("checkin:set", set_body(30))) == "checkin_active"
    status, err = await hub.request("POST", "/api/checkin", token=someone["access_token"], json=set_body(30))
    assert status == 409 and err["error"]["code"] == "checkin_active"
    status, err = await hub.request("POST", "/api/checkin", json=set_body(30))
    assert status == 401

    # without SOS PINs there is no way to check in: refused before anything is stored
    no_pins = await account(hub, "No Pins")
    bare = await hub.connect(no_pins["access_token"])
    assert error_code(await bare.call("checkin:set", set_body(30))) == "pins_not_set"
    assert (await bare.call("checkin:mine"))["checkin"] is None


# ---------------------------------------------------------------- missed deadline
async def test_a_missed_deadline_raises_one_sos_with_the_note_and_location_to_the_cell(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings, clock: ManualClock) -> None:
    hub = await hub_of(node_factory, settings)
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub, "Vanlalruati")
    sock = await hub.connect(someone["access_token"])
    view = await set_timer(sock, minutes=30, note="New employer, flat 4B")
    moved = await sock.call("checkin:location", {"checkin_id": view["id"], "lat": DELHI[0], "lon": DELHI[1],
                                                 "accuracy_m": 30.0})
    assert moved["checkin"]["location"]["lat"] == DELHI[0]

    clock.advance(29 * 60)
    await scans(hub)
    assert await alerts_of(hub, someone["id"]) == []  # not yet due
    clock.advance(61)
    new = await officer_sock.wait_for("sos:new", where=lambda a: a["person"]["id"] == someone["id"])
    full = new[0]
    assert full["source"] == "checkin" and full["checkin"]["reason"] == "missed"
    assert full["checkin"]["note"] == "New employer, flat 4B" and full["note"] == "New employer, flat 4B"
    assert full["checkin"]["location_from"] == "update" and (full["lat"], full["lon"]) == DELHI
    assert full["duress"] is False and full["status"] == "open"
    missed = await sock.wait_for("checkin:updated", where=lambda v: v["status"] == "missed")
    assert missed[0]["alert_id"] == full["id"]
    # the person's phone has the SOS as any alert they raised (they can cancel it with the PIN)
    assert (await sock.call("sos:mine"))["alert"]["id"] == full["id"]
    await scans(hub, count=3)
    assert len(await alerts_of(hub, someone["id"])) == 1
    late = await sock.call("checkin:check_in", {"checkin_id": view["id"], "pin": SOS_PIN})
    assert error_code(late) == "checkin_closed" and late["error"]["status"] == "missed"


async def test_without_a_location_on_the_timer_the_last_sos_location_is_used(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings, clock: ManualClock) -> None:
    hub = await hub_of(node_factory, settings)
    someone = await person(hub, "Lalrinpuii")
    sock = await hub.connect(someone["access_token"])
    earlier = await trigger(sock)  # at DELHI
    assert (await sock.call("sos:cancel", {"alert_id": earlier["id"], "pin": SOS_PIN}))["alert"]["status"] == (
        "cancelled")
    await set_timer(sock, minutes=10)
    clock.advance(11 * 60)
    await wait_until(lambda: _count(hub, someone["id"], 2))
    raised = [a for a in await alerts_of(hub, someone["id"]) if a.get("source") == "checkin"]
    assert len(raised) == 1 and raised[0]["checkin"]["location_from"] == "last_sos"
    assert (raised[0]["location"]["lat"], raised[0]["location"]["lon"]) == DELHI


async def _count(hub: HubClient, user_id: str, n: int) -> bool:
    return len(await alerts_of(hub, user_id)) >= n


# ---------------------------------------------------------------- the duress PIN
async def test_duress_pin_ends_the_timer_exactly_like_the_real_pin_and_alerts_only_the_cell(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings) -> None:
    """The abuser holding the phone makes the person check in: with the duress PIN the phone
    shows and receives exactly what the real PIN gives; the Cell gets a silent duress alert; a
    nearby office bearer gets nothing."""
    hub = await hub_of(node_factory, settings)
    officer, (officer_sock,) = await officer_on_duty(hub)
    bearer, (bearer_sock,), _ = await bearer_at(hub, officer, DELHI, "Nearby Bearer")
    victim, control = await person(hub, "Victim"), await person(hub, "Control")
    victim_sock, control_sock = await hub.connect(victim["access_token"]), await hub.connect(control["access_token"])
    timers = {}
    for who, sock in (("victim", victim_sock), ("control", control_sock)):
        timers[who] = await set_timer(sock, minutes=60, note="Meeting", lat=DELHI[0], lon=DELHI[1])
    await settled(hub, victim_sock, control_sock)
    victim_sock.events.clear()
    control_sock.events.clear()

    answers = [await victim_sock.call("checkin:check_in", {"checkin_id": timers["victim"]["id"], "pin": DURESS_PIN}),
               await control_sock.call("checkin:check_in", {"checkin_id": timers["control"]["id"], "pin": SOS_PIN})]
    assert answers[0]["checkin"]["status"] == "checked_in"
    assert same_shape(answers[0]) == same_shape(answers[1])

    # the Cell: a duress alert, marked as coming from the check-in, the person "checked in"
    new = await officer_sock.wait_for("sos:new", where=lambda a: a["person"]["id"] == victim["id"])
    full = new[0]
    assert full["duress"] is True and full["duress_person_sees"] == "checked_in"
    assert full["source"] == "checkin" and full["checkin"]["reason"] == "duress"
    assert full["checkin"]["note"] == "Meeting" and (full["lat"], full["lon"]) == DELHI
    for address in (officer["email"], ESCALATION_LIST):
        mail = (await hub.smtp.wait_for(address))[0]
        assert "DURESS" in mail["Subject"] and full["id"] in str(mail.get_payload(decode=True))

    # the phone: the same events, the same pulls; no alert at all
    await settled(hub, victim_sock, control_sock, bearer_sock)
    assert {k: [same_shape(e) for e in v] for k, v in victim_sock.events.items()} == {
        k: [same_shape(e) for e in v] for k, v in control_sock.events.items()}
    assert set(victim_sock.events) == {"checkin:updated"}
    mine = [await s.call("checkin:mine") for s in (victim_sock, control_sock)]
    assert same_shape(mine[0]) == same_shape(mine[1]) and "duress" not in str(mine[0])
    assert (await victim_sock.call("sos:mine"))["alert"] is None
    status, body = await hub.request("GET", "/api/checkin", token=victim["access_token"])
    assert status == 200 and "duress" not in str(body)
    # the office bearer near the person: told nothing
    assert "sos:new" not in bearer_sock.events and "sos:updated" not in bearer_sock.events
    stored = await alerts_of(hub, victim["id"])
    assert len(stored) == 1 and not any(e.get("user_id") == bearer["id"] for e in stored[0].get("dispatch", []))
    # what anyone outside the Cell would be shown keeps nothing of the check-in
    assert stored[0]["checkin"]["reason"] == "duress" and "checkin" not in stored[0]["cover_alert"]
    assert stored[0]["open_key"] == f"duress:{stored[0]['_id']}"
    assert await alerts_of(hub, control["id"]) == []
    # the bearer may not read it either
    denied = await bearer_sock.call("sos:get", {"alert_id": full["id"]})
    assert "error" in denied and "duress" not in str(denied).replace("duress_", "")


async def test_wrong_pins_lock_out_like_cancel_and_a_duress_pin_in_the_lockout_still_reaches_the_cell(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings) -> None:
    hub = await hub_of(node_factory, settings)
    officer, (officer_sock,) = await officer_on_duty(hub)
    victim, control = await person(hub, "Victim"), await person(hub, "Control")
    victim_sock, control_sock = await hub.connect(victim["access_token"]), await hub.connect(control["access_token"])
    v = await set_timer(victim_sock, minutes=60)
    c = await set_timer(control_sock, minutes=60)
    for sock, timer in ((victim_sock, v), (control_sock, c)):
        codes = [error_code(await sock.call("checkin:check_in", {"checkin_id": timer["id"], "pin": f"900{i}"}))
                 for i in range(5)]
        assert codes == ["wrong_pin"] * 5
    # locked: every PIN, the real and the duress one among them, is answered alike
    answers = {"victim": [], "control": []}  # type: dict[str, list[Any]]
    for pin in (SOS_PIN, DURESS_PIN, "1111"):
        answers["victim"].append(await victim_sock.call("checkin:check_in", {"checkin_id": v["id"], "pin": pin}))
        answers["control"].append(await control_sock.call("checkin:check_in", {"checkin_id": c["id"], "pin": "0000"}))
    for ack in answers["victim"] + answers["control"]:
        assert error_code(ack) == "rate_limited"
    assert [same_shape(a) for a in answers["victim"]] == [same_shape(a) for a in answers["control"]]
    # the timer is still running as the person was told; the Cell has a duress alert
    assert (await victim_sock.call("checkin:mine"))["checkin"]["status"] == "active"
    new = await officer_sock.wait_for("sos:new", where=lambda a: a["person"]["id"] == victim["id"])
    assert new[0]["duress"] is True and new[0]["checkin"]["reason"] == "duress"
    assert await alerts_of(hub, control["id"]) == []
    # the per-person budget is the cancel PIN's: an SOS raised now gives no fresh guesses
    # (8 of its 10 per hour are spent; the new alert's own 5 are not: the third attempt is refused)
    alert = await trigger(control_sock)
    codes = [error_code(await control_sock.call("sos:cancel", {"alert_id": alert["id"], "pin": "0000"}))
             for _ in range(3)]
    assert codes == ["wrong_pin", "wrong_pin", "rate_limited"]


async def test_raw_frames_cannot_touch_another_persons_timer(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings) -> None:
    """An outsider with an account (who may even know the victim's PIN) sends hand-made frames."""
    hub = await hub_of(node_factory, settings)
    victim = await person(hub, "Victim")
    outsider = await person(hub, "Outsider")
    victim_sock = await hub.connect(victim["access_token"])
    timer = await set_timer(victim_sock, minutes=60, lat=DELHI[0], lon=DELHI[1])
    sock, _ = await RawSocket.open(hub.http, hub.base_url, {"token": outsider["access_token"]})

    class Raw:
        async def call(self, event: str, body: Any) -> Any:
            (ack,) = await sock.call(event, body)
            return ack

        async def send(self, frame: str) -> None:
            await sock.send(frame)

    raw = Raw()
    try:
        for event, body in (("checkin:check_in", {"checkin_id": timer["id"], "pin": SOS_PIN}),
                            ("checkin:check_in", {"checkin_id": timer["id"], "pin": DURESS_PIN}),
                            ("checkin:location", {"checkin_id": timer["id"], "lat": 1.0, "lon": 1.0})):
            ack = await raw.call(event, body)
            assert error_code(ack) == "checkin_not_found", ack
        unknown = await raw.call("checkin:check_in", {"checkin_id": "0" * 24, "pin": SOS_PIN})
        assert same_shape(unknown) == same_shape(await raw.call("checkin:check_in",
                                                                {"checkin_id": timer["id"], "pin": "1111"}))
        for body in ({"checkin_id": {"$ne": ""}, "pin": SOS_PIN}, {"checkin_id": timer["id"], "pin": {"$gt": ""}},
                     {"checkin_id": timer["id"], "pin": SOS_PIN, "user_id": victim["id"]}):
            assert error_code(await raw.call("checkin:check_in", body)) == "invalid_payload"
        await raw.send('42["checkin:check_in"')  # a broken frame: no crash, nothing changes
    finally:
        await sock.close()
    status, body = await hub.request("POST", "/api/checkin/check-in", token=outsider["access_token"],
                                     json={"checkin_id": timer["id"], "pin": SOS_PIN})
    assert status == 404 and body["error"]["code"] == "checkin_not_found"
    mine = (await victim_sock.call("checkin:mine"))["checkin"]
    assert mine["status"] == "active" and mine["location"]["lat"] == DELHI[0]
    assert await alerts_of(hub, victim["id"]) == []


# ---------------------------------------------------------------- the reminder
async def test_the_reminder_reaches_the_sockets_and_email_once(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings, clock: ManualClock) -> None:
    hub = await hub_of(node_factory, settings)
    someone = await person(hub, "Remi")
    sock = await hub.connect(someone["access_token"])
    await set_timer(sock, minutes=30, remind_before_minutes=10, note="private note")
    clock.advance(19 * 60)
    await scans(hub)
    assert "checkin:reminder" not in sock.events
    clock.advance(60 + 1)
    got = await sock.wait_for("checkin:reminder")
    assert got[0]["checkin"]["status"] == "active"
    mail = (await hub.smtp.wait_for(someone["email"]))[0]
    assert "check-in" in mail["Subject"] and "private note" not in str(mail.get_payload(decode=True))
    clock.advance(60)
    await scans(hub, count=3)
    await settled(hub, sock)
    assert len(sock.events["checkin:reminder"]) == 1 and len(hub.smtp.to(someone["email"])) == 1


# ---------------------------------------------------------------- nodes, restarts, crashes
async def test_two_nodes_fire_a_missed_deadline_exactly_once(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings, clock: ManualClock) -> None:
    a = await hub_of(node_factory, settings)
    b = await hub_of(node_factory, settings)
    people = [await person(a, f"Person {i}") for i in range(4)]
    for i, who in enumerate(people):
        sock = await (a if i % 2 else b).connect(who["access_token"])
        await set_timer(sock, minutes=10, lat=DELHI[0], lon=DELHI[1])
    clock.advance(11 * 60)

    async def all_missed() -> bool:
        return [len(await alerts_of(a, p["id"])) for p in people] == [1] * len(people)
    await wait_until(all_missed, timeout=10)
    await scans(a, b, count=3)
    for who in people:
        assert len(await alerts_of(a, who["id"])) == 1
    assert service(a).scanner.fired_here + service(b).scanner.fired_here == len(people)


async def test_a_timer_survives_a_restart_and_fires_on_the_next_start(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings, clock: ManualClock) -> None:
    first = await node_factory(checkin_settings(settings))
    assert first.client is not None
    someone = await person(first.client, "Restarted")
    sock = await first.client.connect(someone["access_token"])
    await set_timer(sock, minutes=15, note="before the restart")
    await first.stop()
    clock.advance(16 * 60)  # the deadline passes while no node runs
    hub = await hub_of(node_factory, settings)
    await wait_until(lambda: _count(hub, someone["id"], 1))
    await scans(hub, count=3)
    raised = await alerts_of(hub, someone["id"])
    assert len(raised) == 1 and raised[0]["note"] == "before the restart"


async def test_a_claim_left_by_a_dead_node_is_taken_over_after_its_lease(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings, clock: ManualClock) -> None:
    hub = await hub_of(node_factory, settings)
    someone = await person(hub, "Handed Over")
    sock = await hub.connect(someone["access_token"])
    timer = await set_timer(sock, minutes=10)
    clock.advance(10 * 60 + 1)
    # what a node's claim writes, left behind by a node that died before raising the SOS
    repo = service(hub).repo
    await repo.update({"_id": timer["id"]}, {"$set": {"status": "firing", "claim": "dead-node-claim",
                                                      "node": "dead", "lease_ms": ms(clock) + LEASE_MS,
                                                      "active_key": f"closed:{timer['id']}"}})
    await scans(hub, count=3)
    assert await alerts_of(hub, someone["id"]) == []  # its lease still runs
    clock.advance(LEASE_MS / 1000 + 1)
    await wait_until(lambda: _count(hub, someone["id"], 1))
    await scans(hub, count=3)
    assert len(await alerts_of(hub, someone["id"])) == 1
    assert (await repo.find(timer["id"]) or {})["status"] == "missed"


# ---------------------------------------------------------------- the HTTP fallback
async def test_the_http_routes_do_what_the_events_do(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings) -> None:
    hub = await hub_of(node_factory, settings)
    someone = await person(hub, "Over HTTP")
    sock = await hub.connect(someone["access_token"])
    token = someone["access_token"]
    status, body = await hub.request("POST", "/api/checkin", token=token, json=set_body(20, note="by HTTP"))
    assert status == 201 and body["checkin"]["status"] == "active"
    timer = body["checkin"]
    assert (await sock.wait_for("checkin:updated"))[0] == timer
    status, body = await hub.request("POST", "/api/checkin/location", token=token,
                                     json={"checkin_id": timer["id"], "lat": DELHI[0], "lon": DELHI[1]})
    assert status == 200 and body["checkin"]["location"]["lon"] == DELHI[1]
    status, body = await hub.request("POST", "/api/checkin/check-in", token=token,
                                     json={"checkin_id": timer["id"], "pin": "0000"})
    assert status == 403 and body["error"]["code"] == "wrong_pin"
    status, body = await hub.request("POST", "/api/checkin/check-in", token=token,
                                     json={"checkin_id": timer["id"], "pin": {"$gt": ""}})
    assert status == 400 and body["error"]["code"] == "invalid_payload"
    status, body = await hub.request("POST", "/api/checkin/check-in", token=token,
                                     json={"checkin_id": timer["id"], "pin": SOS_PIN})
    assert status == 200 and body["checkin"]["status"] == "checked_in"
    status, body = await hub.request("POST", "/api/checkin/location", token=token,
                                     json={"checkin_id": timer["id"], "lat": 1.0, "lon": 1.0})
    assert status == 409 and body["error"]["code"] == "checkin_closed"
    status, body = await hub.request("GET", "/api/checkin", token=token)
    assert status == 200 and body["checkin"]["status"] == "checked_in"
