"""Inbound payload validation shared by every socket event and HTTP route.

Models are strict: unknown fields are refused, types are never coerced, so a client value
such as ``{"$gt": ""}`` can never reach a MongoDB filter where a string is expected.
Identifiers are 24 lower-case hex characters (the text form of an ObjectId).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from bson import ObjectId
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from hubchat.errors import ValidationFailed

ID_PATTERN = r"^[0-9a-f]{24}$"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Payload(BaseModel):
    """Base of every inbound payload."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _no_control_chars(value: str) -> str:
    if _CONTROL_CHARS.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _no_leading_dollar(value: str) -> str:
    if value.startswith("$"):
        raise ValueError("must not start with '$'")
    return value


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=254,
                      pattern=r"^[^@\s$]+@[^@\s]+\.[^@\s]+$"),
]
Language = Annotated[str, StringConstraints(pattern=r"^(lus|en)$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


def text(min_length: int = 1, max_length: int = 200) -> Any:
    """A single-line-safe user text: trimmed, bounded, no control characters, no leading '$'."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_no_control_chars),
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
