"""A bare python-socketio echo-to-room server: the baseline for ``bench/fanout.py``.

It does the least a chat server must do to fan a message out, with the same stack as hubchat
(aiohttp + ``socketio.AsyncServer`` + ``socketio.AsyncRedisManager`` on the same Redis), and
nothing else: no authentication, no validation, no database, no rate limits.

Events (each answers its ack):

* ``join`` ``{"room": str}`` → the socket enters the room; ack ``{"ok": true}``.
* ``send`` ``{"room": str, "body": str, "t": float, "skip_sender": bool = false}`` →
  ``message:new`` ``{"room", "body", "t"}`` is emitted to the room (through the Redis manager,
  like hubchat's room emits); ack ``{"ok": true}``.

HTTP: ``GET /healthz`` → 200 once listening.

Run: ``python bench/echo_server.py --port 8765 [--redis-url redis://127.0.0.1:6379/0]
[--channel bench-xyz:echo-socketio]``.  An empty ``--redis-url`` uses the in-process manager.
Stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

import socketio
from aiohttp import web


def build_app(redis_url: str, channel: str) -> web.Application:
    manager = socketio.AsyncRedisManager(redis_url, channel=channel) if redis_url else None
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager, logger=False,
                               engineio_logger=False)
    app = web.Application()
    sio.attach(app)

    @sio.on("join")  # type: ignore[misc]
    async def join(sid: str, data: Any = None) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("room"), str):
            return {"error": {"code": "validation_failed", "message": "room: required"}}
        await sio.enter_room(sid, data["room"])
        return {"ok": True}

    @sio.on("send")  # type: ignore[misc]
    async def send(sid: str, data: Any = None) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("room"), str):
            return {"error": {"code": "validation_failed", "message": "room: required"}}
        room = data["room"]
        await sio.emit("message:new", {"room": room, "body": data.get("body"), "t": data.get("t")},
                       room=room, skip_sid=sid if data.get("skip_sender") else None)
        return {"ok": True}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)

    async def shutdown(app: web.Application) -> None:
        await sio.shutdown()

    app.on_shutdown.append(shutdown)
    return app


async def serve(host: str, port: int, redis_url: str, channel: str) -> None:
    runner = web.AppRunner(build_app(redis_url, channel), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--channel", default="bench-echo:socketio", help="Redis pub/sub channel of the manager")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.redis_url, args.channel))


if __name__ == "__main__":
    main()
