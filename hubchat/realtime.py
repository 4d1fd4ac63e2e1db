"""The Socket.IO edge: authenticated connections, validated events, rooms that follow users.

* A connection must present ``{"token": <access token>}`` as its auth payload; otherwise it is
  refused with ``connect_error`` data ``{"message", "data": {"code", "message"}}``.
* Every event handler is registered with a payload schema; the wrapper validates, calls the
  handler with the server-side Principal, and answers the ack with the handler's result or
  ``{"error": {"code", "message"}}``.  Handlers never see unvalidated data.
* Rooms: ``user:{id}`` for all sockets of one user; capabilities add their own.  A user's
  sockets may live on several nodes, so ``join``/``leave`` apply locally at once and are
  published on the bus for the other nodes (at most once: a reconnect rebuilds rooms anyway).
* With a Redis URL, python-socketio's AsyncRedisManager carries room emits between nodes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import socketio
from aiohttp import web

from hubchat.config import Settings
from hubchat.errors import INTERNAL_ERROR, HubchatError, Unauthenticated, ValidationFailed
from hubchat.metrics import Metrics
from hubchat.principal import Principal
from hubchat.schema import Payload, parse

if TYPE_CHECKING:
    from hubchat.bus import Bus

log = logging.getLogger(__name__)

Authenticator = Callable[[Any], Awaitable[Principal]]
EventHandler = Callable[[Principal, Any, str], Awaitable[dict[str, Any]]]
ConnectionHook = Callable[[Principal, str], Awaitable[None]]

MANAGER_START_TIMEOUT_SECS = 5.0
ROOMS_TOPIC = "realtime.rooms"
SESSIONS_TOPIC = "realtime.sessions"
USERS_TOPIC = "realtime.users"


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


class Realtime:
    def __init__(self, settings: Settings, metrics: Metrics):
        self.settings = settings
        self.metrics = metrics
        self.node_id = settings.node_id or uuid.uuid4().hex[:12]
        manager = None
        if settings.redis_url:
            manager = socketio.AsyncRedisManager(settings.redis_url, channel=settings.redis_prefix + "socketio")
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            client_manager=manager,
            max_http_buffer_size=settings.max_payload_bytes,
            cors_allowed_origins=settings.cors_origins or None,
            logger=False,
            engineio_logger=False,
        )
        self._authenticate: Authenticator | None = None
        self._bus: Bus | None = None
        self._principals: dict[str, Principal] = {}
        self._user_sids: dict[str, set[str]] = {}
        self.connect_hooks: list[ConnectionHook] = []
        self.disconnect_hooks: list[ConnectionHook] = []
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)

    # ------------------------------------------------------------ wiring
    def attach(self, app: web.Application) -> None:
        self.sio.attach(app)

    def set_authenticator(self, authenticate: Authenticator) -> None:
        self._authenticate = authenticate

    def bind_bus(self, bus: Bus) -> None:
        self._bus = bus
        bus.subscribe(ROOMS_TOPIC, self._on_rooms_event)
        bus.subscribe(SESSIONS_TOPIC, self._on_sessions_event)
        bus.subscribe(USERS_TOPIC, self._on_users_event)

    def event(self, name: str, schema: type[Payload] | None = None) -> Callable[[EventHandler], EventHandler]:
        """Register ``handler(principal, payload, sid) -> ack dict`` for the event ``name``."""

        def register(handler: EventHandler) -> EventHandler:
            async def dispatch(sid: str, *args: Any) -> dict[str, Any]:
                return await self._dispatch(name, schema, handler, sid, args)

            self.sio.on(name, dispatch)
            return handler

        return register

    # ------------------------------------------------------------ connections
    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if self._authenticate is None:
            not_ready = {"code": "unavailable", "message": "not ready"}
            raise socketio.exceptions.ConnectionRefusedError("not ready", not_ready)
        try:
            principal = await self._authenticate(auth)
        except HubchatError as exc:
            self.metrics.connect_refused.labels(exc.error_code).inc()
            raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.to_dict()["error"]) from None
        self._principals[sid] = principal
        self._user_sids.setdefault(principal.user_id, set()).add(sid)
        await self.sio.enter_room(sid, user_room(principal.user_id))
        self.metrics.connections.inc()
        for hook in self.connect_hooks:
            try:
                await hook(principal, sid)
            except Exception:
                log.exception("connect hook failed", extra={"hook": getattr(hook, "__qualname__", str(hook))})

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        principal = self._principals.pop(sid, None)
        if principal is None:
            return
        sids = self._user_sids.get(principal.user_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._user_sids[principal.user_id]
        self.metrics.connections.dec()
        for hook in self.disconnect_hooks:
            try:
                await hook(principal, sid)
            except Exception:
                log.exception("disconnect hook failed", extra={"hook": getattr(hook, "__qualname__", str(hook))})

    def principal_of(self, sid: str) -> Principal | None:
        return self._principals.get(sid)

    def local_sids(self, user_id: str) -> set[str]:
        return set(self._user_sids.get(user_id, ()))

    def local_connections(self) -> list[tuple[str, str]]:
        """(user_id, conn_id) of every socket on this node; conn_id is ``{node_id}:{sid}``."""
        return [(p.user_id, self.conn_id(sid)) for sid, p in self._principals.items()]

    def conn_id(self, sid: str) -> str:
        return f"{self.node_id}:{sid}"

    # ------------------------------------------------------------ events
    async def _dispatch(self, name: str, schema: type[Payload] | None, handler: EventHandler,
                        sid: str, args: Sequence[Any]) -> dict[str, Any]:
        principal = self._principals.get(sid)
        try:
            if principal is None:
                raise Unauthenticated("connection is not authenticated")
            if len(args) > 1:
                raise ValidationFailed("send one payload object")
            data = args[0] if args else None
            payload = parse(schema, data) if schema is not None else None
            if schema is None and data not in (None, {}):
                raise ValidationFailed("this event takes no payload")
            result = await handler(principal, payload, sid)
        except HubchatError as exc:
            self.metrics.events.labels(name, "error").inc()
            self.metrics.errors.labels(exc.error_code).inc()
            return exc.to_dict()
        except Exception:
            log.exception("event handler failed", extra={"event": name})
            self.metrics.events.labels(name, "error").inc()
            self.metrics.errors.labels("internal").inc()
            return INTERNAL_ERROR
        self.metrics.events.labels(name, "ok").inc()
        return result

    async def emit(self, event: str, data: dict[str, Any], *, room: str, skip_sid: str | None = None) -> None:
        await self.sio.emit(event, data, room=room, skip_sid=skip_sid)

    # ------------------------------------------------------------ rooms across nodes
    async def join(self, user_id: str, rooms: Iterable[str]) -> None:
        await self._change_rooms(user_id, list(rooms), [])

    async def leave(self, user_id: str, rooms: Iterable[str]) -> None:
        await self._change_rooms(user_id, [], list(rooms))

    async def _change_rooms(self, user_id: str, join: list[str], leave: list[str]) -> None:
        await self._apply_rooms(user_id, join, leave)
        if self._bus is not None:
            await self._bus.publish(ROOMS_TOPIC, {"node": self.node_id, "user_id": user_id,
                                                  "join": join, "leave": leave})

    async def _apply_rooms(self, user_id: str, join: list[str], leave: list[str]) -> None:
        for sid in self.local_sids(user_id):
            for room in join:
                await self.sio.enter_room(sid, room)
            for room in leave:
                await self.sio.leave_room(sid, room)

    async def _on_rooms_event(self, event: dict[str, Any]) -> None:
        if event.get("node") == self.node_id:
            return
        await self._apply_rooms(str(event["user_id"]), list(event.get("join", [])), list(event.get("leave", [])))

    async def disconnect_session(self, session_id: str) -> None:
        """Close every socket opened with tokens of this session, on every node (logout)."""
        await self._disconnect_local(session_id)
        if self._bus is not None:
            await self._bus.publish(SESSIONS_TOPIC, {"node": self.node_id, "session_id": session_id})

    async def _disconnect_local(self, session_id: str) -> None:
        for sid, principal in list(self._principals.items()):
            if principal.session_id == session_id:
                await self.sio.disconnect(sid)

    async def _on_sessions_event(self, event: dict[str, Any]) -> None:
        if event.get("node") != self.node_id:
            await self._disconnect_local(str(event["session_id"]))

    async def disconnect_user(self, user_id: str) -> None:
        """Close every socket of this user, on every node (password reset, account disabled)."""
        await self._disconnect_user_local(user_id)
        if self._bus is not None:
            await self._bus.publish(USERS_TOPIC, {"node": self.node_id, "user_id": user_id})

    async def _disconnect_user_local(self, user_id: str) -> None:
        for sid in self.local_sids(user_id):
            await self.sio.disconnect(sid)

    async def _on_users_event(self, event: dict[str, Any]) -> None:
        if event.get("node") != self.node_id:
            await self._disconnect_user_local(str(event["user_id"]))

    async def start(self) -> None:
        """Start the cross-node manager now rather than at the first socket.

        python-socketio starts its Redis listener lazily and, when it does, replaces the Redis
        client an earlier emit (e.g. at an approval) opened, leaking that connection.  Starting
        it here, and waiting until it is connected, gives one client for the node's lifetime.
        """
        manager = self.sio.manager
        if self.sio.manager_initialized:
            return
        self.sio.manager_initialized = True
        manager.initialize()
        if isinstance(manager, socketio.AsyncRedisManager):
            async with asyncio.timeout(MANAGER_START_TIMEOUT_SECS):
                while not manager.connected:
                    await asyncio.sleep(0.005)

    async def close(self) -> None:
        """Close every socket on this node cleanly (first step of a graceful shutdown)."""
        for sid in list(self._principals):
            try:
                await self.sio.disconnect(sid)
            except Exception:
                log.debug("socket already gone", extra={"sid": sid})
        await self.sio.shutdown()

    async def stop(self) -> None:
        """Stop the cross-node manager's listener and close its Redis connections."""
        manager = self.sio.manager
        listener = getattr(manager, "thread", None)
        if isinstance(listener, asyncio.Task):
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        for resource in (getattr(manager, "pubsub", None), getattr(manager, "redis", None)):
            if resource is not None:
                await resource.aclose()
