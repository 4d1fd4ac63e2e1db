"""Inbound payloads of cases and partner agencies, and the vocabulary stored documents share.

Strict bodies (no coercion, unknown fields refused); queries validated laxly by ``read_query`` so
``?limit=20`` is a number.  Client-supplied owners and statuses are checked here (vocabulary) and
in the service (an owner must be an active Cell officer now).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from hubchat.schema import CountryCode, Email, Id, Payload, body_text, text

Status = Literal["open", "in_progress", "referred", "closed"]
OpenStatus = Literal["open", "in_progress", "referred"]
NoteKind = Literal["call", "visit", "referral", "other"]
Outcome = Literal["safe", "repatriated", "legal_action", "referred_elsewhere", "no_contact", "declined_help",
                  "duplicate", "other"]
AgencyKind = Literal["mission", "police", "ngo", "other"]
AttachFormat = Literal["json", "cap", "none"]

STATUSES: tuple[str, ...] = ("open", "in_progress", "referred", "closed")
OPEN_STATUSES: tuple[str, ...] = ("open", "in_progress", "referred")
OUTCOMES: tuple[str, ...] = ("safe", "repatriated", "legal_action", "referred_elsewhere", "no_contact",
                             "declined_help", "duplicate", "other")

MAX_NOTE_CHARS = 4000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
MAX_REMINDER_DAYS = 366

CaseNote = body_text(MAX_NOTE_CHARS)
ShortText = text(1, 200)


class FromAlertIn(Payload):
    """``POST /api/cases/from-alert``: one case per alert (idempotent)."""

    alert_id: Id


class OpenCaseIn(Payload):
    """``POST /api/cases``: a case from a chat request (a message the officer can read) or about a person."""

    person_id: Id
    channel_id: Id | None = None
    message_id: Id | None = None
    summary: ShortText | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _message_in_channel(self) -> OpenCaseIn:
        if (self.channel_id is None) != (self.message_id is None):
            raise ValueError("channel_id and message_id go together")
        return self


class UpdateCaseIn(Payload):
    """``PATCH /api/cases/{id}``: reassign and/or move between the open statuses."""

    owner_id: Id | None = None
    status: OpenStatus | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateCaseIn:
        if self.owner_id is None and self.status is None:
            raise ValueError("give owner_id or status")
        return self


class CloseCaseIn(Payload):
    outcome: Outcome
    note: CaseNote | None = None  # type: ignore[valid-type]


class NoteIn(Payload):
    kind: NoteKind
    body: CaseNote  # type: ignore[valid-type]


class ReminderIn(Payload):
    """A follow-up: ``due_at`` (ISO 8601 with a zone, in the future, within a year) and a note."""

    due_at: dt.datetime
    note: ShortText | None = None  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _parse_time(cls, data: object) -> object:
        # Strict models take no string for a datetime: parse ISO 8601 here, nothing else.
        if isinstance(data, dict) and isinstance(data.get("due_at"), str):
            try:
                data = {**data, "due_at": dt.datetime.fromisoformat(data["due_at"].replace("Z", "+00:00"))}
            except ValueError:
                raise ValueError("due_at: not an ISO 8601 time") from None
        return data

    @model_validator(mode="after")
    def _zoned(self) -> ReminderIn:
        if self.due_at.tzinfo is None:
            raise ValueError("due_at: give a time zone (e.g. Z)")
        return self


class ReferralIn(Payload):
    agency_id: Id
    attach: AttachFormat = "json"
    note: CaseNote | None = None  # type: ignore[valid-type]


class AgencyIn(Payload):
    name: ShortText  # type: ignore[valid-type]
    kind: AgencyKind
    email: Email
    country: CountryCode


class AgencyUpdateIn(Payload):
    name: ShortText | None = None  # type: ignore[valid-type]
    kind: AgencyKind | None = None
    email: Email | None = None
    country: CountryCode | None = None
    active: bool | None = None


class CasesQuery(Payload):
    status: Status | None = None
    owner_id: Id | None = None
    country: CountryCode | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    q: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f$]+$")] | None = None
    before: Annotated[str, Field(pattern=r"^[0-9]{1,16}:[0-9a-f]{24}$")] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
