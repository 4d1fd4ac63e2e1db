"""Room emits after a committed write, off the ack path, tracked so shutdown can wait for them.

Guarantee: at most once per socket (python-socketio rooms over AsyncRedisManager); nothing is
stored here, which is why every event also has a pull path (``message:history``, ``sync``).
A failing emit is logged and dropped: the write it announces has already succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from hubchat.background import BackgroundTasks
from hubchat.realtime import Realtime

log = logging.getLogger(__name__)


def channel_room(channel_id: str) -> str:
    return f"chan:{channel_id}"


class Fanout:
    def __init__(self, realtime: Realtime):
        self.realtime = realtime
        self._background = BackgroundTasks("fan-out")

    async def emit(self, event: str, data: dict[str, Any], *, to: str | Sequence[str],
                   skip_sid: str | None = None) -> None:
        """One emit to a room or to several rooms (each socket receives it once)."""
        if isinstance(to, str):
            await self.realtime.emit(event, data, room=to, skip_sid=skip_sid)
        elif to:
            # python-socketio deduplicates sockets across a list of rooms, on every node.
            await self.realtime.sio.emit(event, data, to=list(to), skip_sid=skip_sid)

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the current handler has answered (the ack goes first)."""
        self._background.spawn(work)

    def emit_later(self, event: str, data: dict[str, Any], *, to: str | Sequence[str],
                   skip_sid: str | None = None) -> None:
        self.later(self.emit(event, data, to=to, skip_sid=skip_sid))

    async def drain(self) -> None:
        """Wait for pending emits (graceful shutdown); cancel what is still running after a while."""
        await self._background.drain()
