"""Inbound payloads of check-in timers (strict, like every payload: no coercion)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from hubchat.schema import ClientId, Id, Payload, body_text
from hubchat.sos.models import AccuracyM, Latitude, Longitude, Pin

MAX_NOTE_CHARS = 500  # the SOS trigger note's bound: the note becomes the alert's note
MAX_MINUTES = 72 * 60
MAX_REMIND_MINUTES = 24 * 60
CheckinNote = body_text(MAX_NOTE_CHARS)


def _instant(value: str) -> str:
    """An ISO 8601 instant with its offset (``2026-12-01T21:30:00Z``); the offset is required."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("due_at: use ISO 8601 with an offset, e.g. 2026-12-01T21:30:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError("due_at: give the offset (Z or +05:30)")
    return value


Instant = Annotated[str, Field(max_length=40), AfterValidator(_instant)]


def parse_instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


class SetIn(Payload):
    """``checkin:set`` / ``POST /api/checkin``: ``minutes`` from now or an absolute ``due_at``
    (one of them); the note, a reminder lead and the person's location are optional.  The
    deadline's bounds are settings (``checkin_min_secs``..``checkin_max_secs``)."""

    client_id: ClientId
    minutes: Annotated[int, Field(ge=1, le=MAX_MINUTES)] | None = None
    due_at: Instant | None = None
    note: CheckinNote | None = None  # type: ignore[valid-type]
    remind_before_minutes: Annotated[int, Field(ge=1, le=MAX_REMIND_MINUTES)] | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    accuracy_m: AccuracyM | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SetIn:
        if (self.minutes is None) == (self.due_at is None):
            raise ValueError("give minutes or due_at (one of them)")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give lat and lon together, or neither")
        if self.accuracy_m is not None and self.lat is None:
            raise ValueError("accuracy_m needs lat and lon")
        return self


class LocationIn(Payload):
    """``checkin:location`` / ``POST /api/checkin/location``: the person's current place."""

    checkin_id: Id
    lat: Latitude
    lon: Longitude
    accuracy_m: AccuracyM | None = None


class CheckInIn(Payload):
    """``checkin:check_in`` / ``POST /api/checkin/check-in``: ends the timer with the SOS PIN."""

    checkin_id: Id
    pin: Pin
