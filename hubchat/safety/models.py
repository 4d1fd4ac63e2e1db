"""Inbound payloads of the safety capability (strict: unknown fields refused, nothing coerced)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from hubchat.schema import Email, Language, Payload, body_text, text

Name = text(1, 120)
Line = text(1, 200)
Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{4,24}$")]
LongText = body_text(1000)
Address = body_text(500)
SpokenLanguage = text(1, 40)

PassportStatus = Literal["with_me", "held_by_employer", "held_by_agent", "held_by_other", "lost", "unknown"]
VisaStatus = Literal["valid", "expiring", "expired", "none", "unknown"]

MAX_EMERGENCY_CONTACTS = 5
MAX_LANGUAGES = 10
MAX_SHARE_HOURS = 24 * 30


class EmergencyContact(Payload):
    name: Name  # type: ignore[valid-type]
    phone: Phone | None = None
    email: Email | None = None
    relation: Line | None = None  # type: ignore[valid-type]


class ProfileIn(Payload):
    """``PUT /api/me/safety-profile``: the whole profile; a field left out or null is not kept."""

    emergency_contacts_home: list[EmergencyContact] | None = Field(None, max_length=MAX_EMERGENCY_CONTACTS)
    emergency_contacts_abroad: list[EmergencyContact] | None = Field(None, max_length=MAX_EMERGENCY_CONTACTS)
    employer: Line | None = None  # type: ignore[valid-type]
    workplace_address: Address | None = None  # type: ignore[valid-type]
    recruiting_agent: Address | None = None  # type: ignore[valid-type]
    passport_status: PassportStatus | None = None
    passport_held_by: Line | None = None  # type: ignore[valid-type]
    visa_status: VisaStatus | None = None
    visa_notes: Line | None = None  # type: ignore[valid-type]
    medical_notes: LongText | None = None  # type: ignore[valid-type]
    languages: list[SpokenLanguage] | None = Field(None, max_length=MAX_LANGUAGES)  # type: ignore[valid-type]


FIELDS: tuple[str, ...] = tuple(ProfileIn.model_fields)


class ShareIn(Payload):
    """``PUT /api/me/safety-profile/share``: shared with Cell officers (for ``hours``, or until
    turned off), or not."""

    shared: bool
    hours: int | None = Field(None, ge=1, le=MAX_SHARE_HOURS)

    @model_validator(mode="after")
    def _hours_only_when_shared(self) -> ShareIn:
        if self.hours is not None and not self.shared:
            raise ValueError("hours: only with shared=true")
        return self


class ContactIn(Payload):
    """``POST /api/trusted-contacts``."""

    name: Name  # type: ignore[valid-type]
    email: Email
    relation: Line | None = None  # type: ignore[valid-type]
    language: Language = "en"
    may_receive_location: bool = False


class ContactPatch(Payload):
    """``PATCH /api/trusted-contacts/{contact_id}``: only the location flag and the language change."""

    may_receive_location: bool | None = None
    language: Language | None = None


class ConfirmIn(Payload):
    """``POST /api/trusted-contacts/confirm``: the token from the emailed link."""

    token: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{20,100}$")]
