"""One time format for everything hubchat stores and shows; the clocks time is read from."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from hubchat.clock import ManualClock, SystemClock, iso, to_millis, utcnow


def test_utcnow_is_aware_and_cut_to_the_millisecond() -> None:
    now = utcnow()
    assert now.tzinfo is not None and now.microsecond % 1000 == 0


def test_iso_is_utc_with_milliseconds_and_z() -> None:
    plus_five = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert iso(dt.datetime(2026, 11, 25, 23, 42, 41, 123456, tzinfo=plus_five)) == "2026-11-25T18:12:41.123Z"
    assert iso(dt.datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000Z"  # naive means UTC
    assert iso(None) is None and iso("2026-01-01T00:00:00.000Z") == "2026-01-01T00:00:00.000Z"
    assert to_millis(dt.datetime(2026, 1, 1, 0, 0, 0, 999999)).microsecond == 999000


def test_the_system_clock_is_the_system_time_and_never_ahead() -> None:
    clock = SystemClock()
    before = utcnow()
    now = clock.now()
    assert before <= now <= utcnow() and now.tzinfo is not None and now.microsecond % 1000 == 0
    assert clock.ahead_secs() == 0.0
    assert abs(clock.monotonic() - time.monotonic()) < 1.0


def test_a_manual_clock_runs_with_the_system_and_jumps_when_advanced() -> None:
    clock = ManualClock()
    assert clock.ahead_secs() == 0.0
    clock.advance(90.0)
    clock.advance(30.0)
    assert clock.ahead_secs() == 120.0
    lead = (clock.now() - utcnow()).total_seconds()
    assert 119.0 < lead <= 120.0
    assert 119.0 < clock.monotonic() - time.monotonic() <= 120.0
    assert clock.now().microsecond % 1000 == 0 and clock.now().tzinfo is not None


def test_a_manual_clock_never_goes_back() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError):
        clock.advance(-1.0)
    assert clock.ahead_secs() == 0.0
