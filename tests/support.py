"""Helpers for tests that drive a running hubchat over HTTP and Socket.IO (real TCP)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from hubchat.clock import Clock
from hubchat.config import Settings
from hubchat.embedded_mongo import free_loopback_port
from tests.conftest import SmtpSink
from tests.raw_socket import RawSocket

DEFAULT_PASSWORD = "correct horse battery"


class Recorder:
    """A python-socketio client that records every server event it receives."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self._changed = asyncio.Event()
        self.connect_error: Any = None

        @self.sio.on("*")  # type: ignore[misc]
        async def catch_all(event: str, data: Any = None) -> None:
            self.events[event].append(data)
            self._changed.set()

        @self.sio.event  # type: ignore[misc]
        async def connect_error(data: Any) -> None:
            self.connect_error = data

    async def call(self, event: str, data: Any = None, timeout: float = 10.0) -> Any:
        if data is None:
            return await self.sio.call(event, timeout=timeout)
        return await self.sio.call(event, data, timeout=timeout)

    async def wait_for(self, event: str, count: int = 1, timeout: float = 5.0,
                       where: Any = None) -> list[Any]:
        """Wait until ``count`` events named ``event`` (matching ``where``, if given) arrived."""
        def matching() -> list[Any]:
            items = self.events.get(event, [])
            return [e for e in items if where is None or where(e)]

        async def poll() -> list[Any]:
            while len(matching()) < count:
                self._changed.clear()
                await self._changed.wait()
            return matching()

        return await asyncio.wait_for(poll(), timeout)

    async def disconnect(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        else:  # the server dropped it (or never took it): close the client's HTTP session too
            await self.sio.eio.disconnect(abort=True)


class HubClient:
    """An HTTP client for one hubchat node plus helpers to make users and sockets."""

    def __init__(self, base_url: str, smtp: SmtpSink, services: dict[str, Any] | None = None):
        self.base_url = base_url.rstrip("/")
        self.smtp = smtp
        self.services = services or {}
        self.http = aiohttp.ClientSession()
        self.sockets: list[Recorder] = []
        self.ops_url = ""  # the ops listener (metrics, health details), where the test serves it

    async def close(self) -> None:
        for rec in self.sockets:
            await rec.disconnect()
        await self.http.close()

    async def request(self, method: str, path: str, token: str | None = None, json: Any = None,
                      **kwargs: Any) -> tuple[int, Any]:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, self.base_url + path, json=json, headers=headers, **kwargs) as resp:
            body: Any = None
            if resp.content_type == "application/json":
                body = await resp.json()
            elif resp.status != 204:
                body = await resp.text()
            return resp.status, body

    async def register(self, email: str | None = None, **fields: Any) -> dict[str, Any]:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.org"
        payload = {"email": email, "password": DEFAULT_PASSWORD, "display_name": fields.pop("display_name", "Tester"),
                   "language": "en", "country": "IN", "city": "Aizawl", **fields}
        status, body = await self.request("POST", "/api/auth/register", json=payload)
        assert status == 201, body
        return body["user"]  # type: ignore[no-any-return]

    async def verification_code(self, email: str, nth: int = 1) -> str:
        messages = await self.smtp.wait_for(email, count=nth)
        text = messages[nth - 1].get_payload(decode=True).decode()
        match = re.search(r"\b(\d{6})\b", text)
        assert match, text
        return match.group(1)

    async def login(self, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
        status, body = await self.request("POST", "/api/auth/login", json={"email": email, "password": password})
        assert status == 200, body
        return body  # type: ignore[no-any-return]

    async def user(self, display_name: str = "Tester", **fields: Any) -> dict[str, Any]:
        """A registered, verified, logged-in member: {"user", "access_token", "refresh_token", "email"}."""
        user = await self.register(display_name=display_name, **fields)
        code = await self.verification_code(user["email"])
        status, body = await self.request("POST", "/api/auth/verify", json={"email": user["email"], "code": code})
        assert status == 200, body
        session = await self.login(user["email"])
        return {**session, "email": user["email"], "id": user["id"]}

    async def officer(self, display_name: str = "Duty Officer", role: str = "officer") -> dict[str, Any]:
        email = f"officer-{uuid.uuid4().hex[:10]}@cell.example.org"
        created = await self.services["accounts"].create_staff(email, DEFAULT_PASSWORD, display_name, role=role)
        session = await self.login(email)
        return {**session, "email": email, "id": created["id"]}

    async def connect(self, token: str, base_url: str | None = None) -> Recorder:
        rec = Recorder()
        await rec.sio.connect(base_url or self.base_url, auth={"token": token}, transports=["websocket"],
                              wait_timeout=10)
        self.sockets.append(rec)
        return rec


async def settled(hub: HubClient, *recs: Recorder | RawSocket) -> None:
    """Everything this in-process node has sent so far has reached ``recs``: the work its
    services run after answering (chat fan-out, SOS dispatch, emails and announcements) has
    finished, then a marker emitted the way every event goes (through python-socketio's Redis
    manager, in order per node) has arrived at each socket.  What has not arrived by then was not
    sent, so "nothing more arrives" is checked without listening for a quiet period.  Not
    covered: the SOS escalation scheduler (see ``scheduler_passes``), presence announcements,
    other nodes."""
    backgrounds = [hub.services[name].fanout if name == "channels" else hub.services[name].rooms
                   for name in ("channels", "sos") if name in hub.services]
    while any(len(b._background) for b in backgrounds):  # work may start more work
        for background in backgrounds:
            await background.drain()
    sio = hub.services["accounts"].infra.realtime.sio
    for rec in recs:
        token = uuid.uuid4().hex
        marker = {"token": token}
        if isinstance(rec, RawSocket):
            await sio.emit("test:settled", marker, to=rec.sid)
            await rec.until(lambda: ("test:settled", marker) in rec.events)  # noqa: B023 (awaited here)
            rec.events.remove(("test:settled", marker))  # not one of the events a test looks at
            continue
        await sio.emit("test:settled", marker, to=rec.sio.get_sid())
        await rec.wait_for("test:settled", where=lambda e: e == marker)  # noqa: B023 (awaited here)
        del rec.events["test:settled"]


# ---------------------------------------------------------------- hubchat in this process
@contextlib.asynccontextmanager
async def running_hub(settings: Settings, smtp: SmtpSink, aiohttp_server: Any,
                      clock: Clock | None = None) -> AsyncIterator[HubClient]:
    """app.py's ``build_app(settings, clock)`` on a real TCP port, with a client helper for it."""
    from hubchat.app import OPS_APP, SERVICES, build_app

    app = build_app(settings, clock)
    server = await aiohttp_server(app)
    ops_server = await aiohttp_server(app[OPS_APP])
    client = HubClient(str(server.make_url("/")), smtp, app[SERVICES])  # type: ignore[arg-type]
    client.ops_url = str(ops_server.make_url("")).rstrip("/")
    try:
        yield client
    finally:
        await client.close()
        await server.close()
        await ops_server.close()


# ---------------------------------------------------------------- hubchat in processes of its own
def node_env(settings: Settings, port: int, **extra: str) -> dict[str, str]:
    """The environment of a ``hubchat serve`` process sharing these settings' stores."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBCHAT_")}
    env.update({
        "HUBCHAT_PORT": str(port), "HUBCHAT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HUBCHAT_MONGO_URI": settings.mongo_uri, "HUBCHAT_MONGO_DB": settings.mongo_db,
        "HUBCHAT_REDIS_URL": settings.redis_url, "HUBCHAT_REDIS_PREFIX": settings.redis_prefix,
        "HUBCHAT_JWT_SECRET": settings.jwt_secret, "HUBCHAT_DATA_DIR": settings.data_dir,
        "HUBCHAT_SMTP_HOST": settings.smtp_host, "HUBCHAT_SMTP_PORT": str(settings.smtp_port),
        "HUBCHAT_LOG_FORMAT": "text", "HUBCHAT_LOG_LEVEL": "WARNING", "HUBCHAT_OPS_PORT": "0",
        "HUBCHAT_OVERLOAD_LAG_MS": str(settings.overload_lag_ms),
        "HUBCHAT_CHAT_ADMISSION_WAIT_MS": str(settings.chat_admission_wait_ms), **extra,
    })
    return env


@contextlib.contextmanager
def serve_processes(settings: Settings, logs_dir: Path, names: tuple[str, ...] = ("a", "b"),
                    **extra_env: str) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """``hubchat serve`` processes on free ports: [(base url, process)]; stopped afterwards."""
    nodes = []
    try:
        for name in names:
            port = free_loopback_port()
            with open(logs_dir / f"node-{name}.log", "wb") as log:
                process = subprocess.Popen([sys.executable, "-m", "hubchat", "serve"],
                                           env=node_env(settings, port, **extra_env),
                                           stdout=log, stderr=subprocess.STDOUT)
            nodes.append((f"http://127.0.0.1:{port}", process))
        yield nodes
    finally:
        for _, process in nodes:
            process.terminate()
        for _, process in nodes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"node exited with {process.returncode}")
            try:
                async with http.get(base_url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError("node did not become ready")
