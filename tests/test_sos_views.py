"""Pure unit tests of SOS shaping: person/full/limited views (allow-lists), the approximate area,
the duress cover, escalation emails, trigger fingerprints, payload validation and feed order."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from hubchat.errors import ValidationFailed
from hubchat.schema import parse
from hubchat.sos.emails import alert_link, escalation_email, osm_link
from hubchat.sos.escalation import initial_state, is_due
from hubchat.sos.models import TriggerIn
from hubchat.sos.reads import urgency_key
from hubchat.sos.triggers import fingerprint
from hubchat.sos.views import (
    ANONYMOUS_LABEL,
    approx_area,
    cover_view,
    event_view,
    full_view,
    iso,
    limited_view,
    person_view,
)

T0 = dt.datetime(2025, 3, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
SECRET_FIELDS = ("Lalremruati", "+919812345678", "lal@example.org", "Locked in", "28.613", "77.209")


def stored(**changes: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "_id": "65f1c0ffee00000000000001", "user_id": "65f1c0ffee00000000000002", "client_sos_id": "sos-abc-123",
        "fingerprint": "f" * 64, "trigger_ids": ["sos-abc-123"], "triggers": ["sos-abc-123:" + "f" * 64],
        "open_key": "65f1c0ffee00000000000002",
        "person": {"id": "65f1c0ffee00000000000002", "display_name": "Lalremruati", "phone": "+919812345678",
                   "email": "lal@example.org", "country": "IN", "city": "Aizawl", "language": "lus",
                   "password_hash": "never shown"},
        "category": "violence", "note": "Locked in a room", "battery_pct": 12,
        "location": {"lat": 28.6139, "lon": 77.2090, "accuracy_m": 25.0, "at": T0}, "location_known": True,
        "location_logged_ts": T0.timestamp(), "status": "open", "duress": False, "cover": None,
        "created_at": T0, "updated_at": T0, "closed_at": None, "acknowledged_by": None, "responders": [],
        "dispatch": [{"user_id": "b1", "role": "office_bearer", "association_id": "a1", "distance_km": 24.5,
                      "round": 1, "at": T0}],
        "escalation": {"level": 0, "next_at": T0 + dt.timedelta(seconds=60), "done": True, "claim": "secret",
                       "claimed_at": T0, "node": "n1", "emailed_at": {}},
        "version": 3, "last_seq": 2, "internal_flag": "never shown",
    }
    alert.update(changes)
    return alert


# ---------------------------------------------------------------- views
def test_person_view_is_an_allow_list() -> None:
    view = person_view(stored())
    assert set(view) == {"view", "id", "client_sos_id", "status", "category", "note", "location", "location_known",
                         "battery_pct", "created_at", "updated_at", "closed_at", "acknowledged_by", "version"}
    assert view["created_at"] == "2025-03-01T10:00:00.123Z" and view["location"]["lat"] == 28.6139
    acked = person_view(stored(acknowledged_by={"id": "o1", "display_name": "Officer Mawii", "role": "officer",
                                                "at": T0}, status="acknowledged"))
    assert acked["acknowledged_by"] == {"display_name": "Officer Mawii", "role": "officer",
                                        "at": "2025-03-01T10:00:00.123Z"}
    assert "never shown" not in str(view) and "duress" not in view and "escalation" not in view


def test_duress_person_view_is_the_frozen_cover() -> None:
    closed_at = dt.datetime(2025, 3, 1, 10, 5, 0, 123000, tzinfo=dt.UTC)
    alert = stored()
    cover = cover_view({**alert, "version": 4}, closed_at)
    real_cancel = person_view(stored(status="cancelled", closed_at=closed_at, updated_at=closed_at, version=4))
    assert cover == real_cancel
    later = stored(duress=True, cover=cover, status="acknowledged", version=9,
                   acknowledged_by={"id": "o1", "display_name": "Officer", "role": "officer", "at": T0},
                   location={"lat": 1.0, "lon": 2.0, "accuracy_m": None, "at": T0})
    assert person_view(later) == real_cancel


def test_full_view_has_what_responders_need_and_nothing_internal() -> None:
    view = full_view(stored(duress=True))
    assert view["person"] == {"id": "65f1c0ffee00000000000002", "display_name": "Lalremruati",
                              "phone": "+919812345678", "email": "lal@example.org", "country": "IN",
                              "city": "Aizawl", "language": "lus"}
    assert (view["lat"], view["lon"], view["accuracy_m"]) == (28.6139, 77.209, 25.0)
    assert view["duress"] is True and view["dispatch"][0]["distance_km"] == 24.5
    assert view["escalation"] == {"level": 0, "next_at": "2025-03-01T10:01:00.123Z"}
    assert "never shown" not in str(view) and "secret" not in str(view) and "fingerprint" not in view
    unknown = full_view(stored(location=None, location_known=False))
    assert (unknown["lat"], unknown["lon"], unknown["accuracy_m"], unknown["location"]) == (None, None, None, None)


def test_limited_view_hides_who_and_where_exactly() -> None:
    view = limited_view(stored(duress=True), 24.46, approx_km=5.0)
    assert set(view) == {"view", "id", "category", "status", "created_at", "updated_at", "closed_at",
                         "distance_km", "location_known", "area", "person", "version"}
    assert view["person"] == {"label": ANONYMOUS_LABEL, "city": "Aizawl", "country": "IN"}
    assert view["distance_km"] == 24.5 and view["area"]["approx_km"] == 5.0
    for secret in SECRET_FIELDS:
        assert secret not in str(view), secret
    assert "duress" not in str(view)
    no_fix = limited_view(stored(location=None, location_known=False), None)
    assert no_fix["area"] == {"lat": None, "lon": None, "approx_km": None, "city": "Aizawl", "country": "IN"}


@pytest.mark.parametrize("lat, lon", [(28.6139, 77.2090), (-33.8688, 151.2093), (64.1466, -21.9426),
                                      (0.0, 0.0), (89.99, 179.99), (-89.99, -179.99), (51.5, -0.0001)])
def test_approx_area_is_a_grid_cell_centre(lat: float, lon: float) -> None:
    cell_lat, cell_lon = approx_area(lat, lon, 5.0)
    assert -90 <= cell_lat <= 90 and -180 <= cell_lon <= 180
    assert abs(cell_lat - lat) <= 5.0 / 111.32 / 2 + 1e-4
    # every point of the same cell maps to the same centre: nearby points cannot be told apart
    assert approx_area(cell_lat, cell_lon, 5.0) == (cell_lat, cell_lon)


def test_approx_area_does_not_follow_small_moves() -> None:
    centre = approx_area(28.6139, 77.2090, 5.0)
    assert approx_area(28.6140, 77.2091, 5.0) == centre
    assert approx_area(28.6139, 77.2090, 50.0) != centre


def test_event_view_and_iso() -> None:
    event = {"_id": "e1", "alert_id": "a1", "seq": 3, "at": T0, "type": "dispatch", "actor": None, "note": None,
             "data": {"round": 1, "office_bearers": [{"user_id": "b1", "at": T0}]}}
    assert event_view(event) == {"seq": 3, "at": "2025-03-01T10:00:00.123Z", "type": "dispatch", "actor": None,
                                 "note": None, "data": {"round": 1, "office_bearers": [
                                     {"user_id": "b1", "at": "2025-03-01T10:00:00.123Z"}]}}
    naive = dt.datetime(2025, 1, 1, 0, 0)
    assert iso(naive) == "2025-01-01T00:00:00.000Z" and iso(None) is None


# ---------------------------------------------------------------- emails
def test_escalation_email_body() -> None:
    email = escalation_email(stored(), "t1", ("officer@cell.example.org",), "https://hub.example/")
    assert email.to == ("officer@cell.example.org",)
    assert email.subject == "[SOS] VIOLENCE alert — not acknowledged (first escalation)"
    assert osm_link(28.6139, 77.209) in email.text
    assert osm_link(28.6139, 77.209) == \
        "https://www.openstreetmap.org/?mlat=28.613900&mlon=77.209000#map=15/28.613900/77.209000"
    for expected in ("Lalremruati", "+919812345678", "lal@example.org", "Locked in a room", "12%",
                     "https://hub.example/#/sos/65f1c0ffee00000000000001", "2025-03-01T10:00:00.123Z"):
        assert expected in email.text, expected
    assert alert_link("https://hub.example", "x") == "https://hub.example/#/sos/x"
    unknown = escalation_email(stored(location=None, duress=True), "t2", ("l@x.org",), "https://hub.example")
    assert "location unknown — registered city: Aizawl, IN" in unknown.text
    assert "openstreetmap" not in unknown.text
    assert unknown.subject.startswith("[SOS DURESS] VIOLENCE") and "DURESS" in unknown.text


# ---------------------------------------------------------------- trigger payloads
def trigger_in(**changes: Any) -> TriggerIn:
    return parse(TriggerIn, {"client_sos_id": "sos-abc-123", "category": "medical", "lat": 1.5, "lon": 2,
                             **changes})


def test_fingerprint_changes_with_any_content() -> None:
    base = fingerprint(trigger_in())
    assert base == fingerprint(trigger_in())
    assert base == fingerprint(trigger_in(lon=2.0))  # the same number
    for change in ({"lat": 1.6}, {"category": "other"}, {"note": "x"}, {"battery_pct": 5}, {"accuracy_m": 3}):
        assert fingerprint(trigger_in(**change)) != base, change


@pytest.mark.parametrize("bad", [{"lat": 90.01}, {"lon": -180.01}, {"lat": "1"}, {"lat": True}, {"lat": None},
                                 {"lat": float("nan")}, {"lat": float("inf")}, {"accuracy_m": -0.1},
                                 {"category": "fire"}, {"battery_pct": 1.0}, {"note": ""}, {"note": "a\x00b"},
                                 {"client_sos_id": "bad id!"}, {"x": 1}])
def test_trigger_payload_is_strict(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        trigger_in(**bad)


def test_trigger_payload_without_location() -> None:
    req = parse(TriggerIn, {"client_sos_id": "sos-abc-123", "category": "other"})
    assert req.lat is None and req.lon is None
    with pytest.raises(ValidationFailed):
        parse(TriggerIn, {"client_sos_id": "sos-abc-123", "category": "other", "accuracy_m": 5})


# ---------------------------------------------------------------- ordering and due steps
def test_feed_urgency_order() -> None:
    def alert(i: int, status: str, minutes: int, duress: bool = False) -> dict[str, Any]:
        return stored(_id=f"a{i}", status=status, duress=duress, created_at=T0 + dt.timedelta(minutes=minutes))

    alerts = [alert(1, "responding", 0), alert(2, "open", 5), alert(3, "acknowledged", 1), alert(4, "open", 2),
              alert(5, "acknowledged", 9, duress=True), alert(6, "open", 7, duress=True)]
    assert [a["_id"] for a in sorted(alerts, key=urgency_key)] == ["a6", "a5", "a4", "a2", "a3", "a1"]


def test_is_due() -> None:
    from hubchat.config import Settings

    state = initial_state(T0, Settings(sos_t1_secs=60), "n1")
    assert state["level"] == 0 and state["done"] is False and state["next_at"] == T0 + dt.timedelta(seconds=60)
    later = T0 + dt.timedelta(seconds=61)
    alert = stored(escalation={**state, "done": True})
    assert is_due(alert, later) and not is_due(alert, T0)
    assert not is_due(stored(escalation=state), later)  # level 0 still running
    cell = {"id": "o1", "display_name": "Officer", "role": "officer", "at": T0}
    # only the Cell's acknowledgement stops escalation; an association's ("acknowledged" by a bearer) does not
    assert not is_due(stored(escalation={**state, "done": True}, status="acknowledged", cell_acknowledged_by=cell),
                      later)
    assert is_due(stored(escalation={**state, "done": True}, status="acknowledged"), later)
    assert is_due(stored(escalation={**state, "done": True}, status="acknowledged", duress=True,
                         cover_alert={"status": "cancelled"}, cell_acknowledged_by=cell), later)
    assert not is_due(stored(escalation={**state, "done": True, "level": 2}), later)
    assert not is_due(stored(escalation={**state, "done": True}, status="resolved", duress=True), later)
    assert copy.deepcopy(state) == state
