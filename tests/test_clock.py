"""One time format for everything hubchat stores and shows."""

from __future__ import annotations

import datetime as dt

from hubchat.clock import iso, to_millis, utcnow


def test_utcnow_is_aware_and_cut_to_the_millisecond() -> None:
    now = utcnow()
    assert now.tzinfo is not None and now.microsecond % 1000 == 0


def test_iso_is_utc_with_milliseconds_and_z() -> None:
    plus_five = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert iso(dt.datetime(2026, 11, 25, 23, 42, 41, 123456, tzinfo=plus_five)) == "2026-11-25T18:12:41.123Z"
    assert iso(dt.datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000Z"  # naive means UTC
    assert iso(None) is None and iso("2026-01-01T00:00:00.000Z") == "2026-01-01T00:00:00.000Z"
    assert to_millis(dt.datetime(2026, 1, 1, 0, 0, 0, 999999)).microsecond == 999000
