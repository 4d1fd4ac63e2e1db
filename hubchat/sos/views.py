"""Shaping stored SOS documents for one viewer: allow-lists, never deny-lists.

    view      who                                   what
    person    the person who pressed SOS            their alert as they may know it: status,
                                                    category, their own note and location, the
                                                    acknowledger's display name and role.  A
                                                    duress alert shows the frozen "cancelled"
                                                    cover taken when the duress PIN was entered.
    full      Cell officers, acknowledged           everything needed to help: the person's name
              responders                            and contacts, exact location, duress, who was
                                                    told, escalation.
    limited   office bearers the alert was          category, status, times, distance from their
              dispatched to, before they            association's nearest gathering place, an
              acknowledge                           approximate area (a grid cell of
                                                    ``sos_approx_area_km``, or the registered
                                                    city) and "A person near you": no name, no
                                                    contact, no exact coordinates, no duress.

Every function builds a new dict from named fields, so a field added to the stored document
never reaches a client until someone adds it here on purpose.  The shapes are declared as
TypedDicts (``PersonView``, ``FullView``, ``LimitedView``, ``EventView``, ``DutyView``), which
``tests/test_api_events.py`` checks against ``docs/api.md``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal, TypedDict, cast

from hubchat.clock import iso
from hubchat.store import Document

__all__ = ["ANONYMOUS_LABEL", "AlertView", "DutyView", "EventView", "FullView", "LimitedView", "PersonView",
           "PointView", "apparent", "approx_area", "audit_view", "cover_alert", "covered", "duty_view",
           "event_view", "full_view", "iso", "limited_view", "outsider_events", "person_view", "point_view",
           "track_view"]


ANONYMOUS_LABEL = "A person near you"
KM_PER_DEGREE_LAT = 111.32
MIN_COS_LAT = 0.01  # near the poles a longitude cell would otherwise grow without bound
DEFAULT_APPROX_KM = 5.0
AREA_DECIMALS = 4


class PointView(TypedDict):
    lat: float
    lon: float
    accuracy_m: float | None
    at: str | None


class PersonAckView(TypedDict):
    display_name: str
    role: str
    at: str | None


class PersonView(TypedDict):
    view: Literal["person"]
    id: str
    client_sos_id: str
    status: str
    category: str
    note: str | None
    location: PointView | None
    location_known: bool
    battery_pct: int | None
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    acknowledged_by: PersonAckView | None
    version: int


class PersonCardView(TypedDict):
    id: str
    display_name: str | None
    phone: str | None
    email: str | None
    country: str | None
    city: str | None
    language: str | None


class StaffAckView(TypedDict):
    id: str
    display_name: str
    role: str
    at: str | None


class RespondingView(TypedDict):
    user_id: str
    display_name: str | None
    association_id: str | None
    at: str | None


class DispatchView(TypedDict):
    user_id: str
    role: str
    association_id: str | None
    distance_km: float | None
    round: int
    at: str | None


class AreaView(TypedDict):
    city: str | None
    country: str | None


class EscalationView(TypedDict):
    level: int
    next_at: str | None


class CheckinOriginView(TypedDict):
    """Where an alert raised by a check-in timer came from (officers only)."""

    id: str
    reason: Literal["missed", "duress"]
    due_at: str | None
    note: str | None
    location_from: str | None


class FullView(TypedDict):
    view: Literal["full"]
    id: str
    client_sos_id: str
    person: PersonCardView
    category: str
    note: str | None
    battery_pct: int | None
    status: str
    duress: bool
    duress_person_sees: Literal["cancelled", "open", "checked_in"] | None
    source: str
    checkin: CheckinOriginView | None
    location: PointView | None
    location_known: bool
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    area: AreaView
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    acknowledged_by: StaffAckView | None
    responders: list[str]
    cell_acknowledged_by: StaffAckView | None
    association_responding: list[RespondingView]
    dispatch: list[DispatchView]
    escalation: EscalationView
    version: int


class ApproxAreaView(TypedDict):
    lat: float | None
    lon: float | None
    approx_km: float | None
    city: str | None
    country: str | None


class AnonymousPersonView(TypedDict):
    label: str
    city: str | None
    country: str | None


class LimitedView(TypedDict):
    view: Literal["limited"]
    id: str
    category: str
    status: str
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    distance_km: float | None
    location_known: bool
    area: ApproxAreaView
    person: AnonymousPersonView
    version: int


AlertView = PersonView | FullView | LimitedView


class ActorView(TypedDict):
    id: str
    display_name: str | None
    role: str


class EventView(TypedDict):
    """One timeline entry."""

    seq: int
    at: str | None
    type: str
    actor: ActorView | None
    note: str | None
    data: dict[str, Any]


class DutyView(TypedDict):
    """A duty entry."""

    id: str
    display_name: str | None
    on_duty: bool
    since: str | None
    connected: bool
    last_seen_at: str | None



def _plain(value: Any) -> Any:
    """JSON-ready copy of server-built data (datetimes as ISO text)."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def point_view(location: Document | None) -> PointView | None:
    if not location:
        return None
    return {"lat": location["lat"], "lon": location["lon"], "accuracy_m": location.get("accuracy_m"),
            "at": iso(location.get("at"))}


# ---------------------------------------------------------------- the person
def person_view(alert: Document) -> PersonView:
    """What the person sees of their own alert (the duress cover once a duress PIN was used)."""
    if alert.get("duress") and alert.get("cover"):
        cover = alert["cover"]
        return cast(PersonView, {key: cover.get(key) for key in _PERSON_FIELDS})
    return _person_fields(alert)


_PERSON_FIELDS = ("view", "id", "client_sos_id", "status", "category", "note", "location", "location_known",
                  "battery_pct", "created_at", "updated_at", "closed_at", "acknowledged_by", "version")


def _person_fields(alert: Document) -> PersonView:
    ack = alert.get("acknowledged_by")
    return {
        "view": "person",
        "id": alert["_id"],
        "client_sos_id": alert["client_sos_id"],
        "status": alert["status"],
        "category": alert["category"],
        "note": alert.get("note"),
        "location": point_view(alert.get("location")),
        "location_known": bool(alert.get("location_known")),
        "battery_pct": alert.get("battery_pct"),
        "created_at": iso(alert["created_at"]),
        "updated_at": iso(alert.get("updated_at")),
        "closed_at": iso(alert.get("closed_at")),
        "acknowledged_by": None if not ack else {"display_name": ack["display_name"], "role": ack["role"],
                                                 "at": iso(ack.get("at"))},
        "version": alert.get("version", 1),
    }


def cover_view(alert: Document, closed_at: dt.datetime) -> PersonView:
    """The person view a real cancel at ``closed_at`` would show: stored as the duress cover."""
    return _person_fields({**alert, "duress": False, "status": "cancelled", "closed_at": closed_at,
                           "updated_at": closed_at})


# ---------------------------------------------------------------- what everyone but the Cell believes
OFFICER_ONLY_KINDS = frozenset({"duress", "pin_attempt"})
PIN_NOTE_KINDS = frozenset({"wrong_pin", "pin_locked"})
OFFICER_ONLY_EMAIL_STEPS = frozenset({"duress", "digest"})


def covered(alert: Document) -> bool:
    """A duress PIN was accepted as a "cancel": everyone but the Cell believes the alert cancelled."""
    return bool(alert.get("duress") and alert.get("cover_alert"))


def cover_alert(alert: Document, closed_at: dt.datetime) -> Document:
    """The stored alert exactly as a real cancel at ``closed_at`` would have left it (kept as the
    ``cover_alert`` of a duress alert): what the person and office bearers are shown from then on."""
    esc = alert.get("escalation") or {}
    shadow = {k: v for k, v in alert.items() if k not in ("cover", "cover_alert")}
    shadow.update(status="cancelled", duress=False, cover=None, closed_at=closed_at, updated_at=closed_at,
                  open_key=f"closed:{alert['_id']}", escalation={**esc, "next_at": None})
    return shadow


def apparent(alert: Document) -> Document:
    """The alert as anyone outside the Cell may know it: a duress alert whose PIN was accepted is
    its frozen cancel (``cover_alert``); any other duress alert is the alert without the flag."""
    if covered(alert):
        return {**alert["cover_alert"], "_id": alert["_id"]}
    if alert.get("duress"):
        return {k: v for k, v in alert.items() if k not in ("duress", "cover", "cover_alert")}
    return alert


def outsider_events(alert: Document, events: list[Document]) -> list[Document]:
    """The timeline as anyone outside the Cell may read it: no PIN attempts, no duress, no Cell
    emails about duress; for a covered duress alert, the entries up to the duress PIN, which reads
    as the person's cancel (``status`` open/... → cancelled), and nothing after it."""
    shown: list[Document] = []
    for event in events:
        kind, data = event["type"], event.get("data") or {}
        if kind == "duress" and data.get("cover"):
            shown.append({**event, "type": "status", "note": None,
                          "data": {"from": data.get("status"), "to": "cancelled", "action": "cancel"}})
            break
        if kind in OFFICER_ONLY_KINDS or (kind == "note" and event.get("actor") is None
                                          and data.get("kind") in PIN_NOTE_KINDS):
            continue
        if kind.startswith("email_") and data.get("step") in OFFICER_ONLY_EMAIL_STEPS:
            continue
        if kind == "escalation" and data.get("reason") == "duress":
            continue
        shown.append(event)
    return shown


# ---------------------------------------------------------------- officers and responders
def _person_card(person: Document) -> PersonCardView:
    return {"id": person["id"], "display_name": person.get("display_name"), "phone": person.get("phone"),
            "email": person.get("email"), "country": person.get("country"), "city": person.get("city"),
            "language": person.get("language")}


def _dispatch_entry(entry: Document) -> DispatchView:
    return {"user_id": entry["user_id"], "role": entry["role"], "association_id": entry.get("association_id"),
            "distance_km": entry.get("distance_km"), "round": entry["round"], "at": iso(entry.get("at"))}


def _acknowledger(ack: Document | None) -> StaffAckView | None:
    return None if not ack else {"id": ack["id"], "display_name": ack["display_name"], "role": ack["role"],
                                 "at": iso(ack.get("at"))}


def _responding(entry: Document) -> RespondingView:
    return {"user_id": entry["user_id"], "display_name": entry.get("display_name"),
            "association_id": entry.get("association_id"), "at": iso(entry.get("at"))}


def _person_sees(alert: Document) -> Literal["cancelled", "open", "checked_in"] | None:
    """What the person's screen shows of a duress alert: "cancelled" (the PIN was accepted),
    "open" (entered while PIN attempts were locked: the person was answered rate_limited) or
    "checked_in" (the duress PIN ended a check-in timer: no alert ever showed)."""
    if not alert.get("duress"):
        return None
    if not alert.get("cover_alert"):
        return "open"
    return "checked_in" if alert.get("source") == "checkin" else "cancelled"


def _checkin_origin(origin: Document | None) -> CheckinOriginView | None:
    if not origin:
        return None
    return {"id": origin["id"], "reason": origin["reason"], "due_at": iso(origin.get("due_at")),
            "note": origin.get("note"), "location_from": origin.get("location_from")}


def full_view(alert: Document) -> FullView:
    """Everything responders need; coordinates also flat (lat, lon, accuracy_m) for a map."""
    location = alert.get("location")
    ack = alert.get("acknowledged_by")
    escalation = alert.get("escalation") or {}
    person = alert["person"]
    return {
        "view": "full",
        "id": alert["_id"],
        "client_sos_id": alert["client_sos_id"],
        "person": _person_card(person),
        "category": alert["category"],
        "note": alert.get("note"),
        "battery_pct": alert.get("battery_pct"),
        "status": alert["status"],
        "duress": bool(alert.get("duress")),
        "duress_person_sees": _person_sees(alert),
        "source": alert.get("source") or "person",
        "checkin": _checkin_origin(alert.get("checkin")),
        "location": point_view(location),
        "location_known": bool(alert.get("location_known")),
        "lat": location["lat"] if location else None,
        "lon": location["lon"] if location else None,
        "accuracy_m": location.get("accuracy_m") if location else None,
        "area": {"city": person.get("city"), "country": person.get("country")},
        "created_at": iso(alert["created_at"]),
        "updated_at": iso(alert.get("updated_at")),
        "closed_at": iso(alert.get("closed_at")),
        "acknowledged_by": None if not ack else {"id": ack["id"], "display_name": ack["display_name"],
                                                 "role": ack["role"], "at": iso(ack.get("at"))},
        "responders": list(alert.get("responders", [])),
        "cell_acknowledged_by": _acknowledger(alert.get("cell_acknowledged_by")),
        "association_responding": [_responding(e) for e in alert.get("association_responding") or []],
        "dispatch": [_dispatch_entry(e) for e in alert.get("dispatch", [])],
        "escalation": {"level": escalation.get("level", 0), "next_at": iso(escalation.get("next_at"))},
        "version": alert.get("version", 1),
    }


# ---------------------------------------------------------------- office bearers told, not acknowledged
def approx_area(lat: float, lon: float, approx_km: float) -> tuple[float, float]:
    """The centre of the grid cell (about ``approx_km`` on a side) holding (lat, lon): every point
    in a cell maps to the same centre, so the answer says nothing finer than the cell."""
    step_lat = approx_km / KM_PER_DEGREE_LAT
    cell_lat = min(max((math.floor(lat / step_lat) + 0.5) * step_lat, -90.0), 90.0)
    step_lon = min(approx_km / (KM_PER_DEGREE_LAT * max(math.cos(math.radians(cell_lat)), MIN_COS_LAT)), 360.0)
    cell_lon = min(max((math.floor((lon + 180.0) / step_lon) + 0.5) * step_lon - 180.0, -180.0), 180.0)
    return round(cell_lat, AREA_DECIMALS), round(cell_lon, AREA_DECIMALS)


def limited_view(alert: Document, distance_km: float | None, *, approx_km: float = DEFAULT_APPROX_KM) -> LimitedView:
    """The alert for a dispatched office bearer who has not acknowledged it."""
    location = alert.get("location")
    person = alert.get("person") or {}
    area: ApproxAreaView = {"lat": None, "lon": None, "approx_km": None, "city": person.get("city"),
                            "country": person.get("country")}
    if location and approx_km > 0:
        area["lat"], area["lon"] = approx_area(location["lat"], location["lon"], approx_km)
        area["approx_km"] = approx_km
    return {
        "view": "limited",
        "id": alert["_id"],
        "category": alert["category"],
        "status": alert["status"],
        "created_at": iso(alert["created_at"]),
        "updated_at": iso(alert.get("updated_at")),
        "closed_at": iso(alert.get("closed_at")),
        "distance_km": None if distance_km is None else round(float(distance_km), 1),
        "location_known": bool(alert.get("location_known")),
        "area": area,
        "person": {"label": ANONYMOUS_LABEL, "city": person.get("city"), "country": person.get("country")},
        "version": alert.get("version", 1),
    }


# ---------------------------------------------------------------- timeline, track, audit, duty
def event_view(event: Document) -> EventView:
    actor = event.get("actor")
    return {"seq": event["seq"], "at": iso(event["at"]), "type": event["type"],
            "actor": None if not actor else {"id": actor["id"], "display_name": actor["display_name"],
                                             "role": actor["role"]},
            "note": event.get("note"), "data": _plain(event.get("data") or {})}


def track_view(point: Document) -> Document:
    return {"lat": point["lat"], "lon": point["lon"], "accuracy_m": point.get("accuracy_m"),
            "battery_pct": point.get("battery_pct"), "at": iso(point["at"])}


def audit_view(entry: Document) -> Document:
    viewer = entry["viewer"]
    return {"viewer": {"id": viewer["id"], "display_name": viewer["display_name"], "role": viewer["role"]},
            "action": entry["action"], "at": iso(entry["at"])}


def duty_view(doc: Document, connected: bool) -> DutyView:
    """``connected``: a live socket on any node; ``last_seen_at``: when their last socket closed
    (null while connected, or when no node saw it close)."""
    return {"id": doc["_id"], "display_name": doc.get("display_name"), "on_duty": bool(doc.get("on_duty")),
            "since": iso(doc.get("since")), "connected": connected,
            "last_seen_at": None if connected else iso(doc.get("last_seen_at"))}
