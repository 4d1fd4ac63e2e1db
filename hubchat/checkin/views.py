"""What the person sees of a timer.  Never anything of duress: a timer ended by the duress PIN
shows exactly as one ended by the SOS PIN (the fields below are the same after either)."""

from __future__ import annotations

from typing import Literal, TypedDict

from hubchat.clock import iso
from hubchat.store import Document


class LocationView(TypedDict):
    lat: float
    lon: float
    accuracy_m: float | None
    at: str | None


class CheckinView(TypedDict):
    id: str
    status: Literal["active", "checked_in", "missed"]
    set_at: str | None
    due_at: str | None
    note: str | None
    remind_at: str | None
    location: LocationView | None
    ended_at: str | None
    alert_id: str | None  # the SOS a missed deadline raised (the person's own alert)


def person_status(doc: Document) -> Literal["active", "checked_in", "missed"]:
    status = doc["status"]
    if status == "active":
        return "active"
    if status == "checked_in":
        return "checked_in"
    return "missed"  # firing (claimed, being raised) or missed


def checkin_view(doc: Document) -> CheckinView:
    location = doc.get("location")
    return {
        "id": doc["_id"],
        "status": person_status(doc),
        "set_at": iso(doc.get("set_at")),
        "due_at": iso(doc.get("due_at")),
        "note": doc.get("note"),
        "remind_at": iso(doc.get("remind_at")),
        "location": None if not location else {"lat": location["lat"], "lon": location["lon"],
                                               "accuracy_m": location.get("accuracy_m"),
                                               "at": iso(location.get("at"))},
        "ended_at": iso(doc.get("ended_at")),
        "alert_id": doc.get("alert_id"),
    }
