"""A check-in ended with the duress PIN raises an alert only the Cell may ever learn of: the
person's own alert history and their trusted contacts must show nothing of it (someone holding
the phone, or reading a relative's mail, would otherwise learn that the "check-in" was duress).
"""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

from collections.abc import Awaitable, Callable

from hubchat.config import Settings
from tests.test_checkin import hub_of, set_timer
from tests.test_safety_contacts import address, barrier, confirmed_contact, contact_mail
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    DURESS_PIN,
    SOS_PIN,
    Node,
    node_factory,
    officer_on_duty,
    person,
)


async def test_a_duress_check_in_leaves_no_trace_in_the_persons_history_or_their_contacts_mail(
        node_factory: Callable[[Settings], Awaitable[Node]], settings: Settings) -> None:
    hub = await hub_of(node_factory, settings)
    officer, (officer_sock,) = await officer_on_duty(hub)
    victim, control = await person(hub, "Victim"), await person(hub, "Control")
    contacts = {"victim": address("victim-mother"), "control": address("control-mother")}
    for who, someone in (("victim", victim), ("control", control)):
        await confirmed_contact(hub, someone, contacts[who], relation="mother", language="en")
    victim_sock, control_sock = await hub.connect(victim["access_token"]), await hub.connect(control["access_token"])
    for sock, pin in ((victim_sock, DURESS_PIN), (control_sock, SOS_PIN)):
        timer = await set_timer(sock, minutes=60, note="Meeting the agent", lat=DELHI[0], lon=DELHI[1])
        answer = await sock.call("checkin:check_in", {"checkin_id": timer["id"], "pin": pin})
        assert answer["checkin"]["status"] == "checked_in", answer

    # the Cell is told (so the silent alert exists and its moments have run) ...
    await officer_sock.wait_for("sos:new", where=lambda a: a["person"]["id"] == victim["id"])
    await barrier(hub, victim_sock, control_sock, officer_sock)
    # ... but the person's history and their contacts show nothing of it, exactly like the control's
    for who, someone in (("victim", victim), ("control", control)):
        status, history = await hub.request("GET", "/api/me/sos/alerts", token=someone["access_token"])
        assert status == 200 and history["alerts"] == [], (who, history)
        assert await contact_mail(hub, contacts[who]) == [], who
        assert len(hub.smtp.to(contacts[who])) == 1  # the confirmation only
