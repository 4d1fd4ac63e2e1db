"""The channels' work after a committed write, off the ack path (delivering a stored message,
telling the stored-message listeners), tracked so shutdown can wait for it.

Emits go through :class:`hubchat.realtime.Realtime` (``emit``/``emit_later``): at most once per
socket, a failure logged and dropped; every event also has a pull path (``message:history``,
``sync``).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from hubchat.background import BackgroundTasks

log = logging.getLogger(__name__)


def channel_room(channel_id: str) -> str:
    return f"chan:{channel_id}"


class Fanout:
    def __init__(self) -> None:
        self._background = BackgroundTasks("fan-out")

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the current handler has answered (the ack goes first)."""
        self._background.spawn(work)

    async def drain(self) -> None:
        """Wait for pending work (graceful shutdown); cancel what is still running after a while."""
        await self._background.drain()
