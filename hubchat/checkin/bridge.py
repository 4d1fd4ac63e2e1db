"""The SOS side of check-in timers: raising an alert for the person through ``TriggerHandler``.

A missed deadline is an ordinary trigger (stored before it is published, dispatched round by
round, escalated; category ``other``; the timer's note as the alert's note), whose new alert
carries ``source: "checkin"`` and ``checkin: {id, reason, due_at, note, location_from}`` for the
Cell.  Its ``client_sos_id`` is derived from the timer, so a timer fired again (a node died after
claiming it) answers the one stored alert.  The duress PIN raises ``raise_silent_duress``.
"""

from __future__ import annotations

from hubchat.principal import Principal
from hubchat.sos.models import TriggerIn
from hubchat.sos.service import SosService
from hubchat.store import Document


def _principal(timer: Document) -> Principal:
    """The person, as the system acts for them (never built from anything a client sent)."""
    return Principal(user_id=timer["user_id"], role="member", session_id="checkin", display_name="")


def _request(client_sos_id: str, timer: Document, location: Document | None) -> TriggerIn:
    fields: dict[str, object] = {"client_sos_id": client_sos_id, "category": "other"}
    if timer.get("note"):
        fields["note"] = timer["note"]
    if location:
        fields.update(lat=location["lat"], lon=location["lon"])
        if location.get("accuracy_m") is not None:
            fields["accuracy_m"] = location["accuracy_m"]
    return TriggerIn.model_validate(fields)


def _origin(timer: Document, reason: str, location_from: str | None) -> Document:
    return {"source": "checkin", "checkin": {"id": timer["_id"], "reason": reason, "due_at": timer["due_at"],
                                             "note": timer.get("note"), "location_from": location_from}}


class SosBridge:
    def __init__(self, sos: SosService):
        self.sos = sos

    async def raise_missed(self, timer: Document, location: Document | None) -> Document:
        req = _request(f"checkin-{timer['_id']}", timer, location)
        alert, _ = await self.sos.triggers.trigger(_principal(timer), req, origin=_origin(
            timer, "missed", _location_from(timer, location)))
        return alert

    async def raise_duress(self, timer: Document, location: Document | None) -> Document:
        req = _request(f"checkin-duress-{timer['_id']}", timer, location)
        return await self.sos.triggers.raise_silent_duress(_principal(timer), req, _origin(
            timer, "duress", _location_from(timer, location)))

    async def last_location(self, user_id: str) -> Document | None:
        alerts = await self.sos.repo.find_many({"user_id": user_id, "location_known": True},
                                               sort=[("updated_at", -1)], limit=1)
        return alerts[0]["location"] if alerts else None


def _location_from(timer: Document, location: Document | None) -> str | None:
    if location is None:
        return None
    return str(timer.get("location_from") or "set") if timer.get("location") else "last_sos"
