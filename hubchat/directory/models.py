"""Inbound payloads of the directory: association details, membership actions, search queries.

Bodies are strict (no coercion: a latitude must be a JSON number, never a string or a boolean);
query strings are validated laxly by ``read_query`` so that ``?lat=23.7`` becomes a number.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from hubchat.schema import CountryCode, Email, Id, Payload, body_text, text

MAX_GATHERING_PLACES = 20
MAX_OFFICE_BEARERS = 20
MAX_CONTACTS = 10
MAX_DESCRIPTION_CHARS = 2000
MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000
MAX_RADIUS_KM = 20_000.0
DEFAULT_RADIUS_KM = 50.0

_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _normalise_phone(value: Any) -> Any:
    """'+91 98765-43210' → '+919876543210'; anything else is left for the pattern to refuse."""
    return _PHONE_SEPARATORS.sub("", value) if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Phone = Annotated[str, BeforeValidator(_normalise_phone), StringConstraints(pattern=_E164.pattern)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
# Query strings only: "in" is accepted as "IN".
QueryCountry = Annotated[CountryCode, BeforeValidator(_upper)]

ContactKind = Literal["email", "phone", "whatsapp", "facebook", "other"]
Visibility = Literal["public", "members", "officers"]
MembershipRoleIn = Literal["office_bearer", "member"]

Name = text(2, 120)
City = text(1, 100)
Position = text(1, 80)
PersonName = text(1, 80)


class ContactIn(Payload):
    """How to reach an office bearer; ``visibility`` says who may see it (default: members)."""

    kind: ContactKind
    value: text(1, 200)  # type: ignore[valid-type]
    visibility: Visibility = "members"

    @model_validator(mode="after")
    def _value_fits_kind(self) -> ContactIn:
        if self.kind == "email" and not re.fullmatch(r"[^@\s$]+@[^@\s]+\.[^@\s]+", self.value):
            raise ValueError("value: not an email address")
        if self.kind in ("phone", "whatsapp"):
            number = _normalise_phone(self.value)
            if not _E164.fullmatch(number):
                raise ValueError("value: a phone number in international form, e.g. +919876543210")
            object.__setattr__(self, "value", number)
        if self.kind == "email":
            object.__setattr__(self, "value", self.value.lower())
        return self


class GatheringPlaceIn(Payload):
    """A place where the association meets; ``id`` keeps an existing place's id on edit."""

    id: Id | None = None
    name: text(1, 120)  # type: ignore[valid-type]
    address: text(1, 300)  # type: ignore[valid-type]
    lat: Latitude
    lon: Longitude
    schedule: text(1, 200) | None = None  # type: ignore[valid-type]


class OfficeBearerIn(Payload):
    """An office bearer as listed in the directory (listing only: rights come from memberships)."""

    id: Id | None = None
    name: PersonName  # type: ignore[valid-type]
    position: Position  # type: ignore[valid-type]
    user_id: Id | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=MAX_CONTACTS)


class AssociationIn(Payload):
    """POST /api/associations."""

    name: Name  # type: ignore[valid-type]
    country: CountryCode
    city: City  # type: ignore[valid-type]
    description: body_text(MAX_DESCRIPTION_CHARS) | None = None  # type: ignore[valid-type]
    contact_email: Email
    contact_phone: Phone | None = None
    gathering_places: list[GatheringPlaceIn] = Field(default_factory=list, max_length=MAX_GATHERING_PLACES)
    office_bearers: list[OfficeBearerIn] = Field(default_factory=list, max_length=MAX_OFFICE_BEARERS)
    my_position: Position = "President"  # type: ignore[valid-type]


_REQUIRED_ON_PATCH = frozenset({"name", "country", "city", "contact_email", "gathering_places",
                                "office_bearers"})


class AssociationPatch(Payload):
    """PATCH /api/associations/{id}: any subset of the registration fields.

    A field left out stays as it is; ``description`` and ``contact_phone`` may be set to null to
    clear them; lists replace the stored list as a whole.
    """

    name: Name | None = None  # type: ignore[valid-type]
    country: CountryCode | None = None
    city: City | None = None  # type: ignore[valid-type]
    description: body_text(MAX_DESCRIPTION_CHARS) | None = None  # type: ignore[valid-type]
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    gathering_places: list[GatheringPlaceIn] | None = Field(default=None, max_length=MAX_GATHERING_PLACES)
    office_bearers: list[OfficeBearerIn] | None = Field(default=None, max_length=MAX_OFFICE_BEARERS)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> AssociationPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nulled = sorted(f for f in self.model_fields_set & _REQUIRED_ON_PATCH if getattr(self, f) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)}: may not be null")
        return self


class RejectIn(Payload):
    reason: body_text(500)  # type: ignore[valid-type]


class Empty(Payload):
    """Actions without a body: an empty body or ``{}``; any field is refused."""


class InviteIn(Payload):
    email: Email


class MemberPatch(Payload):
    """PATCH /api/associations/{id}/members/{user_id}; ``position`` null clears it."""

    role: MembershipRoleIn | None = None
    position: Position | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _something(self) -> MemberPatch:
        if not self.model_fields_set:
            raise ValueError("give role and/or position")
        if "role" in self.model_fields_set and self.role is None:
            raise ValueError("role: may not be null")
        return self


class PageQuery(Payload):
    limit: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class SearchQuery(PageQuery):
    """GET /api/associations."""

    country: QueryCountry | None = None
    city: City | None = None  # type: ignore[valid-type]
    q: text(1, 100) | None = None  # type: ignore[valid-type]


class NearQuery(Payload):
    """GET /api/associations/near."""

    lat: Latitude
    lon: Longitude
    radius_km: float = Field(default=DEFAULT_RADIUS_KM, gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)
    limit: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)
