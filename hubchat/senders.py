"""Tasks that claim due work from the store and deliver it, until stopped (the durable outboxes:
mail in ``hubchat/outbox.py``, Web Push in ``hubchat/push/outbox.py``).

Each sender claims one job (``claim``: an atomic update that sets a lease, so a node that dies
mid-delivery hands the job on), delivers it, and sleeps up to ``poll_secs`` when nothing is due
(``wake()`` cuts the sleep short: new work, a test that advanced the clock).  Stopping is a flag,
not only ``cancel()``: a delivery under way finishes (a cancelled SMTP or HTTP call would leave
its connection open and might be repeated), and a cancellation that lands inside a driver call
can be absorbed there (seen with PyMongo).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from hubchat.store import Document

log = logging.getLogger(__name__)


class Senders:
    def __init__(self, name: str, claim: Callable[[], Awaitable[Document | None]],
                 deliver: Callable[[Document], Awaitable[None]], *, count: int, poll_secs: float,
                 stop_wait_secs: float):
        self.name = name
        self._claim = claim
        self._deliver = deliver
        self.count = count
        self.poll_secs = poll_secs
        self.stop_wait_secs = stop_wait_secs
        self._stopping = False
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._stopping = False
        senders = [asyncio.get_running_loop().create_task(self._sender(), name=f"{self.name}-sender-{i}")
                   for i in range(self.count)]
        try:
            yield
        finally:
            self._stopping = True
            self._wake.set()
            _, late = await asyncio.wait(senders, timeout=self.stop_wait_secs)
            for task in late:
                task.cancel()
            if late:
                log.warning("%s: %d sender(s) did not stop in time", self.name, len(late))
                await asyncio.wait(late, timeout=1.0)

    async def _sender(self) -> None:
        while not self._stopping:
            try:
                doc = await self._claim()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is away: try again shortly
                log.warning("%s: cannot claim (%s)", self.name, type(exc).__name__)
                doc = None
            if doc is None:
                if self._stopping:
                    return
                self._wake.clear()
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
                # that arrives as the event fires, and the sender would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_secs):
                        await self._wake.wait()
                continue
            try:
                await self._deliver(doc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store failed while recording: the lease hands it on
                log.warning("%s: could not record a delivery (%s)", self.name, type(exc).__name__)
