"""Time as hubchat reads, stores and shows it.

Read: from a :class:`Clock`, injected through ``Infra`` (``infra.clock``) into every rule that
time decides — rate-limit windows, presence expiry, the SOS location throttle, escalation due
times.  Production runs on :class:`SystemClock`; tests run on a :class:`ManualClock` and
``advance()`` it instead of sleeping.  Time never goes back: a clock only ever runs ahead of the
system clock, by :meth:`Clock.ahead_secs`.

Shared stores that judge time themselves (the Redis Lua scripts of the limiter and of presence)
keep the Redis server's clock as the one clock of every node and add ``ahead_secs`` to it: in
production that is 0, so nodes whose clocks disagree still share one window; in tests the window
moves when the test advances the clock.

Stored: timezone-aware UTC, cut to the millisecond (what BSON keeps), so an answer given from
memory equals a later read of the same document.  Shown: ISO 8601 in UTC with milliseconds and
a ``Z`` (``2026-11-25T18:12:41.123Z``), one format for every event and route.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "iso", "to_millis", "utcnow"]


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


class Clock(Protocol):
    """Wall time and monotonic time, both running at least as far as the system clock."""

    def now(self) -> dt.datetime:
        """Wall time: aware UTC, cut to the millisecond (as stored)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations and expiries in memory)."""
        ...

    def ahead_secs(self) -> float:
        """How far this clock runs ahead of the system clock (0 in production; never negative)."""
        ...


class SystemClock:
    """The system's clocks: what every node runs on."""

    def now(self) -> dt.datetime:
        return utcnow()

    def monotonic(self) -> float:
        return time.monotonic()

    def ahead_secs(self) -> float:
        return 0.0


class ManualClock:
    """The system's clocks plus however far a test has ``advance``d it.

    Time keeps flowing (a real server, store and sockets take real time), and a test skips the
    rest: ``advance(60)`` makes a one-minute window pass, a T1 step fall due, a presence TTL run
    out, at once, for every part that reads this clock.
    """

    def __init__(self) -> None:
        self._ahead_secs = 0.0

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock never goes back")
        self._ahead_secs += seconds

    def now(self) -> dt.datetime:
        return to_millis(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self._ahead_secs))

    def monotonic(self) -> float:
        return time.monotonic() + self._ahead_secs

    def ahead_secs(self) -> float:
        return self._ahead_secs
