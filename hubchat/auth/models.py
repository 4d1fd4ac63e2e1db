"""Inbound payloads of the auth capability."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from hubchat.schema import CountryCode, Email, Language, Payload, text

Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$")]
RefreshToken = Annotated[
    str, StringConstraints(min_length=30, max_length=200, pattern=r"^[0-9a-f]{24}\.[A-Za-z0-9_-]+$")
]


class RegisterRequest(Payload):
    email: Email
    password: Password
    display_name: text(1, 80)  # type: ignore[valid-type]
    language: Language = "en"
    country: CountryCode
    city: text(1, 100)  # type: ignore[valid-type]
    phone: Phone | None = None
    sos_pin: Pin | None = None
    duress_pin: Pin | None = None


class VerifyRequest(Payload):
    email: Email
    code: Code


class EmailOnly(Payload):
    email: Email


class PasswordResetRequest(Payload):
    email: Email
    code: Code
    password: Password


class LoginRequest(Payload):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RefreshRequest(Payload):
    refresh_token: RefreshToken


class LogoutRequest(Payload):
    pass


class ProfileUpdate(Payload):
    display_name: text(1, 80) | None = None  # type: ignore[valid-type]
    language: Language | None = None
    country: CountryCode | None = None
    city: text(1, 100) | None = None  # type: ignore[valid-type]
    phone: Phone | None = None


class SosPinsRequest(Payload):
    """Both PINs at once; they must differ. The password proves it is the account holder."""

    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    sos_pin: Pin
    duress_pin: Pin
