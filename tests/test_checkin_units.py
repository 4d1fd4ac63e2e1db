"""Pure logic of check-in timers: payload rules and what the person and the Cell are shown."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from hubchat.checkin.models import CheckInIn, SetIn, parse_instant
from hubchat.checkin.views import checkin_view
from hubchat.sos.views import full_view

NOW = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)


def timer(**fields: Any) -> dict[str, Any]:
    doc = {"_id": "a" * 24, "user_id": "b" * 24, "status": "checked_in", "note": "n", "location": None,
           "set_at": NOW, "due_at": NOW + dt.timedelta(hours=1), "remind_at": None, "ended_at": NOW,
           "alert_id": None, "duress": False, "duress_state": None}
    doc.update(fields)
    return doc


def test_a_duress_check_in_shows_exactly_as_a_real_one() -> None:
    real = checkin_view(timer())
    duress = checkin_view(timer(duress=True, duress_state="raised", duress_alert_id="c" * 24,
                                duress_location={"lat": 1.0, "lon": 2.0}))
    assert real == duress and "duress" not in str(duress)
    assert checkin_view(timer(status="firing"))["status"] == "missed"


@pytest.mark.parametrize("body", [
    {"client_id": "ci-12345678"},
    {"client_id": "ci-12345678", "minutes": 0},
    {"client_id": "ci-12345678", "minutes": 30, "due_at": "2026-12-01T21:00:00Z"},
    {"client_id": "ci-12345678", "due_at": "tomorrow"},
    {"client_id": "ci-12345678", "due_at": "2026-12-01T21:00:00"},
    {"client_id": "ci-12345678", "minutes": 30, "lon": 10.0},
    {"client_id": "ci-12345678", "minutes": 30, "accuracy_m": 10.0},
    {"client_id": "ci-12345678", "minutes": 30, "note": "   "},
    {"client_id": "ci-12345678", "minutes": 30, "remind_before_minutes": 0},
    {"client_id": "short", "minutes": 30},
    {"client_id": "ci-12345678", "minutes": 30.5},
    {"client_id": "ci-12345678", "minutes": True},
])
def test_set_payloads_that_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SetIn.model_validate(body)


def test_set_payloads_that_are_accepted() -> None:
    req = SetIn.model_validate({"client_id": "ci-12345678", "due_at": "2026-12-01T21:30:00+05:30",
                                "note": "Line one\nLine two", "lat": 1.5, "lon": 2.5})
    assert parse_instant(req.due_at or "") == dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
    assert SetIn.model_validate({"client_id": "ci-12345678", "minutes": 4320}).minutes == 4320
    with pytest.raises(ValidationError):
        CheckInIn.model_validate({"checkin_id": "a" * 24, "pin": "12"})


def test_the_cell_sees_where_an_alert_came_from() -> None:
    alert: dict[str, Any] = {
        "_id": "d" * 24, "client_sos_id": "checkin-" + "a" * 24, "category": "other", "note": "n",
        "status": "open", "duress": True, "cover_alert": {"status": "cancelled"}, "source": "checkin",
        "checkin": {"id": "a" * 24, "reason": "duress", "due_at": NOW, "note": "n", "location_from": "set"},
        "person": {"id": "b" * 24, "display_name": "P", "city": "Dubai", "country": "AE"},
        "created_at": NOW, "location": None}
    view = full_view(alert)
    assert view["duress_person_sees"] == "checked_in" and view["source"] == "checkin"
    assert view["checkin"] == {"id": "a" * 24, "reason": "duress", "due_at": "2026-12-01T20:00:00.000Z",
                               "note": "n", "location_from": "set"}
    plain = full_view({**alert, "duress": False, "source": None, "checkin": None})
    assert plain["checkin"] is None and plain["duress_person_sees"] is None and plain["source"] == "person"
    assert full_view({k: v for k, v in alert.items() if k not in ("source", "checkin")})["source"] == "person"
