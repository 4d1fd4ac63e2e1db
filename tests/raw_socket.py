"""A raw Engine.IO v4 / Socket.IO v5 websocket client for tests that send frames no official
client would (``42["disconnect"]``, deep nesting, huge integers).  No test lives here."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp


class RawSocket:
    """One websocket to ``/socket.io/``; records events, acks and whether the server closed it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.events: list[tuple[str, Any]] = []
        self.acks: dict[int, Any] = {}
        self.frames: list[str] = []
        self.closed = False  # Socket.IO DISCONNECT from the server, or the websocket closed
        self.sid: str | None = None  # the server's id of this socket, once connected
        self._next_id = 100
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, base_url: str, auth: Any,
                   headers: dict[str, str] | None = None) -> tuple[RawSocket, Any]:
        """Open and send CONNECT with ``auth``: (socket, the CONNECT or CONNECT_ERROR payload)."""
        url = base_url.rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        ws = await http.ws_connect(url, headers=headers or {})
        opened = await ws.receive_str(timeout=5)
        assert opened.startswith("0"), opened
        await ws.send_str("40" + json.dumps(auth))
        reply = await ws.receive_str(timeout=5)
        sock = cls(ws)
        sock._reader = asyncio.create_task(sock._read())
        if reply.startswith("44"):
            return sock, {"connect_error": json.loads(reply[2:])}
        assert reply.startswith("40"), reply
        connected = json.loads(reply[2:])
        sock.sid = connected.get("sid")
        return sock, connected

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                frame = msg.data
                self.frames.append(frame)
                if frame == "2":
                    await self.ws.send_str("3")
                elif frame.startswith("42"):
                    name, *args = json.loads(frame[2:])
                    self.events.append((name, args[0] if args else None))
                elif frame.startswith("43"):
                    digits = ""
                    rest = frame[2:]
                    while rest and rest[0].isdigit():
                        digits, rest = digits + rest[0], rest[1:]
                    self.acks[int(digits)] = json.loads(rest)
                elif frame.startswith("41") or frame == "1":
                    self.closed = True
                self._changed.set()
        finally:
            self.closed = True
            self._changed.set()

    async def send(self, frame: str) -> None:
        await self.ws.send_str(frame)

    async def emit(self, event: str, *args: Any) -> None:
        await self.send("42" + json.dumps([event, *args]))

    async def call(self, event: str, *args: Any, timeout: float = 5.0) -> Any:
        """Send with an ack id and return the ack's arguments (a list)."""
        self._next_id += 1
        ack_id = self._next_id
        await self.send(f"42{ack_id}" + json.dumps([event, *args]))
        await self.until(lambda: ack_id in self.acks or self.closed, timeout)
        assert ack_id in self.acks, f"no ack for {event}; closed={self.closed}"
        return self.acks[ack_id]

    def got(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    async def until(self, condition: Any, timeout: float = 5.0) -> None:
        async def poll() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(poll(), timeout)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self.ws.close()
