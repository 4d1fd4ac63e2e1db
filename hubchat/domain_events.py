"""In-process domain events: the one way a capability tells the others that something happened.

The capability that owns the fact declares its event as a frozen dataclass and publishes it
once the write is committed; others subscribe to the event's type (in their constructor, or in
``app.py`` when the subscriber may not import the publisher).  One error policy for all:

* handlers run in the order they subscribed, one after the other, in the publisher's task;
* a handler that fails is logged and skipped: a publisher never fails because of a subscriber
  (its own write is committed by then);
* handlers that have slow work to do start it in the background and return.

Events are per process and at most once: what must survive a crash is in the store, and every
subscriber can rebuild from there (rooms on reconnect, ``hubchat translate backfill``).  The
socket connect/disconnect hooks of ``Realtime`` are not domain events: they are the edge's
lifecycle and run under the socket's handler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[E], Awaitable[None]]


class DomainEvents:
    def __init__(self) -> None:
        self._handlers: dict[type[Any], list[Handler[Any]]] = {}

    def subscribe(self, kind: type[E], handler: Handler[E]) -> None:
        """Call ``handler`` with every event of exactly this type published from now on."""
        self._handlers.setdefault(kind, []).append(handler)

    async def publish(self, event: object) -> None:
        """Run every handler of the event's type; failures are logged, never raised."""
        for handler in list(self._handlers.get(type(event), ())):
            try:
                await handler(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("domain event handler failed", extra={"event": type(event).__name__})
