"""Inbound payloads of the SOS capability, and the vocabulary they share with the stored documents.

Bodies are strict (no coercion): a coordinate must be a JSON number — never a string, a boolean,
NaN or an infinity — so ``{"$gt": ""}`` or ``"12.3"`` is refused before any rule runs.  Query
strings (``GET /api/sos/alerts``) are validated laxly by ``read_query`` so ``?limit=20`` is a number.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from hubchat.schema import ClientId, CountryCode, Id, Payload, body_text

Category = Literal["medical", "violence", "exploitation", "detention", "stranded", "other"]
Status = Literal["open", "acknowledged", "responding", "resolved", "false_alarm", "cancelled"]
OpenStatus = Literal["open", "acknowledged", "responding"]
Action = Literal["acknowledge", "respond", "resolve", "false_alarm"]

CATEGORIES: tuple[str, ...] = ("medical", "violence", "exploitation", "detention", "stranded", "other")
OPEN_STATUSES: tuple[str, ...] = ("open", "acknowledged", "responding")
CLOSED_STATUSES: tuple[str, ...] = ("resolved", "false_alarm", "cancelled")

MAX_TRIGGER_NOTE_CHARS = 500
MAX_NOTE_CHARS = 1000
MAX_ACCURACY_M = 100_000.0
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
AccuracyM = Annotated[float, Field(ge=0, le=MAX_ACCURACY_M, allow_inf_nan=False)]
BatteryPct = Annotated[int, Field(ge=0, le=100)]
Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$")]
TriggerNote = body_text(MAX_TRIGGER_NOTE_CHARS)
Note = body_text(MAX_NOTE_CHARS)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


QueryCountry = Annotated[CountryCode, BeforeValidator(_upper)]


class TriggerIn(Payload):
    """``sos:trigger`` and ``POST /api/sos``: lat and lon together or not at all."""

    client_sos_id: ClientId
    category: Category
    lat: Latitude | None = None
    lon: Longitude | None = None
    accuracy_m: AccuracyM | None = None
    note: TriggerNote | None = None  # type: ignore[valid-type]
    battery_pct: BatteryPct | None = None

    @model_validator(mode="after")
    def _coordinates_together(self) -> TriggerIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give lat and lon together, or neither")
        if self.accuracy_m is not None and self.lat is None:
            raise ValueError("accuracy_m needs lat and lon")
        return self


class AlertRef(Payload):
    alert_id: Id


class TransitionIn(Payload):
    alert_id: Id
    action: Action
    note: TriggerNote | None = None  # type: ignore[valid-type]


class NoteIn(Payload):
    """``sos:note`` and ``POST /api/sos/note``; ``client_id`` (optional, chosen by the client and
    reused on every retry) makes a retry answer the stored note instead of adding another."""

    alert_id: Id
    body: Note  # type: ignore[valid-type]
    client_id: ClientId | None = None


class LocationIn(Payload):
    """``sos:location`` and ``POST /api/sos/location``; ``client_id`` as for notes."""

    alert_id: Id
    lat: Latitude
    lon: Longitude
    accuracy_m: AccuracyM | None = None
    battery_pct: BatteryPct | None = None
    client_id: ClientId | None = None


class CancelIn(Payload):
    """``sos:cancel`` and ``POST /api/sos/cancel``."""

    alert_id: Id
    pin: Pin


class FeedIn(Payload):
    """``sos:feed`` filters; every one optional.  Only open statuses make sense in the live feed."""

    status: OpenStatus | None = None
    category: Category | None = None
    country: CountryCode | None = None


class DutyIn(Payload):
    on_duty: bool


class AlertsQuery(Payload):
    """``GET /api/sos/alerts``: closed alerts by default, newest first; ``before`` is the last
    alert id of the previous page."""

    status: Status | None = None
    category: Category | None = None
    country: QueryCountry | None = None
    since: dt.date | None = None  # raised on or after this day (UTC)
    until: dt.date | None = None  # raised on or before this day (UTC)
    before: Id | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE

    @model_validator(mode="after")
    def _days_in_order(self) -> AlertsQuery:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since: must not be after until")
        return self
