"""Work started after a handler has answered, tracked so that shutdown can wait for it.

Guarantee: none beyond "started"; a failure is logged and dropped (the write it follows has
already succeeded, and every consumer has a pull path).  ``drain`` waits a bounded time for what
is still running, then cancels it: shutdown never hangs on a slow SMTP server or emit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_SECS = 5.0


class BackgroundTasks:
    def __init__(self, what: str):
        self.what = what  # for logs: "fan-out", "sos", "translation", "mail"
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], name: str | None = None) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], name: str | None) -> None:
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
