"""Admission of chat work by this node's own load, so that an SOS never queues behind chat.

Signals, both local to the node (each node protects itself):

* **event-loop lag**: a probe sleeps ``LAG_PROBE_INTERVAL_SECS`` and records how late it woke,
  smoothed over the last few samples (``LAG_SMOOTHING``), so one slow tick (a GC pause) is not
  overload while a saturated loop shows within a few ticks.
* **chat sends in flight**: a send holds a slot from admission until its fan-out has been handed
  to the socket layer, so the slots bound both the chat operations queued at the store and the
  chat emits queued on the way out.

Policy (SOS work never passes through here: triggers, SOS actions and the officers' feed are
always admitted and find at most ``chat_max_inflight`` chat operations ahead of them):

* light chat work (typing, presence announcements, read receipts) is shed first: refused as soon
  as the lag passes half of ``overload_lag_ms`` or every send slot is taken;
* a send waits at most ``chat_admission_wait_ms`` for a slot, and is refused at once while the
  lag is above ``overload_lag_ms``; a refusal is ``overloaded`` with ``retry_after_ms``, answered
  promptly (never queued for seconds, never left to time out).  The client retries with the same
  ``client_msg_id``, so nothing is duplicated.
* while SOS work is running (:meth:`Admission.urgent`: a trigger until its answer, then the
  first dispatch round that tells the officers) no slot is handed out: the chat already in flight
  finishes, new sends wait (within their own limit) and light work is refused, so each of the
  SOS's store round trips queues behind at most the sends admitted before it, not behind the
  ones arriving meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator

from hubchat.errors import Unavailable

log = logging.getLogger(__name__)

LAG_PROBE_INTERVAL_SECS = 0.02
LAG_SMOOTHING = 0.25  # weight of each new probe sample: a saturated loop shows within a few ticks
RETRY_AFTER_MIN_MS = 100
RETRY_AFTER_MAX_MS = 5000


class Overloaded(Unavailable):
    """The node sheds this chat work to keep SOS instant; retry after ``retry_after_ms``."""

    code = "overloaded"

    def __init__(self, message: str, *, retry_after_ms: int):
        super().__init__(message, details={"retry_after_ms": retry_after_ms})
        self.retry_after_ms = retry_after_ms


class Admission:
    """Counts chat sends in flight and watches the loop's lag; refuses chat work when busy."""

    def __init__(self, max_inflight: int, wait_ms: float, lag_limit_ms: float) -> None:
        if max_inflight <= 0:
            raise ValueError("max_inflight must be positive")
        self.max_inflight = max_inflight
        self.wait_secs = max(0.0, wait_ms / 1000)
        self.lag_limit_secs = max(0.001, lag_limit_ms / 1000)
        self.inflight = 0
        self.urgent_inflight = 0  # SOS work running now: no chat slot is handed out meanwhile
        self.shed: dict[str, int] = {}
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._lag_secs = 0.0

    # ------------------------------------------------------------ signals
    @property
    def lag_secs(self) -> float:
        """The event-loop lag, smoothed over the last few probes (one slow tick is not overload)."""
        return self._lag_secs

    def observe_lag(self, lag_secs: float) -> None:
        """Set the current figure (the probe smooths its samples through :meth:`record_lag`)."""
        self._lag_secs = max(0.0, lag_secs)

    def record_lag(self, sample_secs: float) -> None:
        self._lag_secs += LAG_SMOOTHING * (max(0.0, sample_secs) - self._lag_secs)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The lag probe, for the node's lifetime."""
        probe = asyncio.get_running_loop().create_task(self._probe(), name="overload-lag-probe")
        try:
            yield
        finally:
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)

    async def _probe(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(LAG_PROBE_INTERVAL_SECS)
            self.record_lag(time.monotonic() - before - LAG_PROBE_INTERVAL_SECS)

    # ------------------------------------------------------------ decisions
    def retry_after_ms(self) -> int:
        backlog = 1 + len(self._waiters) / self.max_inflight
        wanted = (self.lag_secs * 1000 * 2 + 100) * backlog
        jitter = random.uniform(1.0, 1.5)  # spreads the retries; not a secret
        return int(min(RETRY_AFTER_MAX_MS, max(RETRY_AFTER_MIN_MS, wanted * jitter)))

    def _refuse(self, what: str) -> Overloaded:
        self.shed[what] = self.shed.get(what, 0) + 1
        return Overloaded("the server is busy; retry shortly", retry_after_ms=self.retry_after_ms())

    def check_light(self, what: str) -> None:
        """Typing, presence, receipts: refused first, while anything is under pressure."""
        if self.lag_secs > self.lag_limit_secs / 2 or self.inflight >= self.max_inflight or self.urgent_inflight:
            raise self._refuse(what)

    @contextlib.asynccontextmanager
    async def send_slot(self, what: str = "send") -> AsyncIterator[None]:
        """Hold one chat slot for the body of the ``async with``; raise Overloaded if none comes."""
        await self.acquire(what)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, what: str = "send") -> None:
        if self.lag_secs > self.lag_limit_secs:
            raise self._refuse(what)
        if self.inflight < self.max_inflight and not self._waiters and not self.urgent_inflight:
            self.inflight += 1
            return
        if self.wait_secs <= 0:
            raise self._refuse(what)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.wait_secs):  # cancels the waiter when it runs out
                await waiter
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return  # the slot was handed over just as the wait ran out: keep it
            raise self._refuse(what) from None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot while being cancelled: pass it on
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def release(self) -> None:
        """Hand the slot to the oldest waiter, or free it (always free it while SOS work runs)."""
        while self._waiters and not self.urgent_inflight:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on: inflight is unchanged
                return
        self.inflight = max(0, self.inflight - 1)

    def _grant_free_slots(self) -> None:
        """After SOS work: the slots freed meanwhile go to the oldest waiters."""
        while self._waiters and self.inflight < self.max_inflight and not self.urgent_inflight:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.inflight += 1
                waiter.set_result(None)

    @contextlib.asynccontextmanager
    async def urgent(self) -> AsyncIterator[None]:
        """SOS work for the body of the ``async with``: always admitted, and no chat slot is handed
        out until it (and any other SOS work) is done."""
        self.urgent_inflight += 1
        try:
            yield
        finally:
            self.urgent_inflight -= 1
            self._grant_free_slots()
