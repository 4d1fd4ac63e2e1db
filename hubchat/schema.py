"""Inbound payload validation shared by every socket event and HTTP route.

Models are strict: unknown fields are refused, types are never coerced, so a client value
such as ``{"$gt": ""}`` can never reach a MongoDB filter where a string is expected.
Identifiers are 24 lower-case hex characters (the text form of an ObjectId).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from bson import ObjectId
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from hubchat.errors import ValidationFailed

ID_PATTERN = r"^[0-9a-f]{24}$"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Single-line fields: no control character at all (CR, LF and TAB included), nor the Unicode
# line and paragraph separators, nor NEL.
_LINE_BREAKING_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class Payload(BaseModel):
    """Base of every inbound payload."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _no_control_chars(value: str) -> str:
    if _CONTROL_CHARS.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _single_line(value: str) -> str:
    if _LINE_BREAKING_CHARS.search(value):
        raise ValueError("control characters, line breaks and tabs are not allowed")
    return value


def valid_email(value: str) -> str:
    """One plain address (``email-validator``, no DNS look-up), lower-cased; else ValueError.

    Refuses lists (``a@x.org,b@y.org``), display names, quoted local parts, control characters
    and non-ASCII addresses, so an address can never become more than one SMTP recipient.
    """
    if _LINE_BREAKING_CHARS.search(value) or "$" in value:
        raise ValueError("not a valid email address")
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return str(checked.normalized).lower()


def _no_leading_dollar(value: str) -> str:
    if value.startswith("$"):
        raise ValueError("must not start with '$'")
    return value


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(valid_email),
]
Language = Annotated[str, StringConstraints(pattern=r"^(lus|en)$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


def text(min_length: int = 1, max_length: int = 200) -> Any:
    """A single-line user text: trimmed, bounded, no control characters (CR, LF, TAB included),
    no leading '$'."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_single_line),
        AfterValidator(_no_leading_dollar),
    ]


def body_text(max_length: int) -> Any:
    """A multi-line user text (newlines and tabs allowed), 1..max_length characters after trimming."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length),
        AfterValidator(_no_control_chars),
    ]


def new_id() -> str:
    return str(ObjectId())


M = TypeVar("M", bound=Payload)


def parse(model: type[M], data: Any, *, strict: bool = True) -> M:
    """Validate ``data`` against ``model`` or raise ValidationFailed naming the bad fields."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("payload must be a JSON object")
    try:
        return model.model_validate(data, strict=strict)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False, include_url=False)[:5]:
            where = ".".join(str(p) for p in err["loc"]) or "payload"
            problems.append(f"{where}: {err['msg']}")
        raise ValidationFailed("; ".join(problems), details={"fields": [p.split(":")[0] for p in problems]}) \
            from None
