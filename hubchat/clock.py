"""Time as hubchat stores and shows it.

Stored: timezone-aware UTC, cut to the millisecond (what BSON keeps), so an answer given from
memory equals a later read of the same document.  Shown: ISO 8601 in UTC with milliseconds and
a ``Z`` (``2026-11-25T18:12:41.123Z``), one format for every event and route.
"""

from __future__ import annotations

import datetime as dt


def to_millis(value: dt.datetime) -> dt.datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def utcnow() -> dt.datetime:
    return to_millis(dt.datetime.now(dt.UTC))


def iso(value: dt.datetime | str | None) -> str | None:
    """The display form; ``None`` stays ``None`` and an already shaped string passes through."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
