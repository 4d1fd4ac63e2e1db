"""Work started after a handler has answered, tracked so that shutdown can wait for it.

Guarantee: none beyond "started"; a failure is logged and dropped (the write it follows has
already succeeded, and every consumer has a pull path).  ``drain`` waits a bounded time for what
is still running, then cancels it: shutdown never hangs on a slow SMTP server or emit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_SECS = 5.0
MAX_BACKOFF_SECS = 30.0  # the longest pause of a periodic pass that keeps failing


class BackgroundTasks:
    def __init__(self, what: str):
        self.what = what  # for logs: "fan-out", "sos", "translation", "mail"
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, object], name: str | None = None) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, object], name: str | None) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s background work failed", self.what, extra={"task": name or self.what})

    async def drain(self, timeout_secs: float = DRAIN_TIMEOUT_SECS) -> int:
        """Wait for pending work; cancel what still runs after ``timeout_secs``. Returns that count."""
        pending = set(self._tasks)
        if not pending:
            return 0
        _, late = await asyncio.wait(pending, timeout=timeout_secs)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)
        return len(late)


CANCEL_RETRY_SECS = 0.05


async def cancel_and_wait(tasks: set[asyncio.Task[Any]], timeout_secs: float = DRAIN_TIMEOUT_SECS) -> int:
    """Cancel ``tasks`` and wait until they end, cancelling again while one goes on.

    A single cancel() is not always enough: a library may turn the CancelledError it receives
    into an ordinary error and retry (seen with python-socketio's Redis listener over redis-py),
    and the task would then run forever.  The next cancel lands elsewhere (e.g. in its retry
    sleep) and ends it.  Returns how many tasks were still running after ``timeout_secs``.
    """
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_secs
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_RETRY_SECS)
    if pending:
        log.warning("%d task(s) did not stop after %.1f s of cancelling", len(pending), timeout_secs)
    return len(pending)


async def run_every(interval_secs: float, one_pass: Callable[[], Awaitable[None]], what: str) -> None:
    """Run ``one_pass`` every ``interval_secs`` (at least 10 ms) until cancelled; a pass that fails
    (the store is away) is logged and retried after a pause that doubles up to MAX_BACKOFF_SECS."""
    interval = max(interval_secs, 0.01)
    delay = interval
    while True:
        try:
            await one_pass()
            delay = interval
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying in %.1f s", what, delay)
            delay = min(max(delay, interval) * 2, MAX_BACKOFF_SECS)
        await asyncio.sleep(delay)
