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
* Client packets may only name events registered with :meth:`Realtime.event`.  The lifecycle
  names (``connect``, ``disconnect``, ``connect_error``) and unknown names run nothing; with an
  ack id they are answered ``{"error": {"code": "unknown_event"}}`` (see :class:`HubSocketServer`).
* Revocation reaches every socket of a user on every node: ``disconnect_session`` (logout,
  revoked session) and ``disconnect_user`` (role change, account disabled) close them; room
  changes (off duty, membership lost) go through ``leave``.
* The one way out to clients: :meth:`Realtime.emit` (or :meth:`Realtime.emit_later`, after the
  handler has answered).  Capabilities call it after the write an event announces has committed;
  delivery is at most once per socket, and a failed emit is logged and dropped, never raised to
  the caller (the write stands, and every event has a pull path).  Rooms change only through
  :meth:`enter_room` (one local socket) and :meth:`join`/:meth:`leave` (every socket of a user,
  every node).  Nothing outside this module touches the python-socketio server.
* Storage errors: a PyMongo error that reaches an event handler is answered ``unavailable``
  (``hubchat.store.storage_unavailable``), as the HTTP edge answers it 503.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import socketio
from aiohttp import web
from pymongo.errors import PyMongoError

from hubchat.background import BackgroundTasks, cancel_and_wait
from hubchat.client_address import address_key, environ_client_address
from hubchat.clock import Clock, SystemClock
from hubchat.config import Settings
from hubchat.errors import INTERNAL_ERROR, HubchatError, Unauthenticated, ValidationFailed
from hubchat.metrics import Metrics
from hubchat.principal import Principal
from hubchat.schema import Payload, parse
from hubchat.socket_slots import SocketSlots
from hubchat.store import storage_unavailable

if TYPE_CHECKING:
    from hubchat.bus import Bus

log = logging.getLogger(__name__)

Authenticator = Callable[[Any], Awaitable[Principal]]
Revalidator = Callable[[Principal], Awaitable[Principal | None]]
# Many at once (the idle sweep): (session id, user id) -> the current Principal, or None when no
# longer valid.
BatchRevalidator = Callable[[Sequence[Principal]], Awaitable[Mapping[tuple[str, str], Principal | None]]]
EventHandler = Callable[[Principal, Any, str], Awaitable[dict[str, Any]]]
ConnectionHook = Callable[[Principal, str], Awaitable[None]]

MANAGER_START_TIMEOUT_SECS = 5.0
# A socket's Principal is read again from the store at its first event after this long, in case
# a revocation published on the bus (at most once) did not reach this node; a socket that sends
# nothing is read again by the node's sweep, which looks every PRINCIPAL_SWEEP_SECS (real time).
PRINCIPAL_RECHECK_SECS = 30.0
PRINCIPAL_SWEEP_SECS = 5.0
ROOMS_TOPIC = "realtime.rooms"
SESSIONS_TOPIC = "realtime.sessions"
# Names python-socketio gives its own lifecycle handlers; a client packet naming one runs nothing.
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error", "message", "*"})
UNKNOWN_EVENT = {"error": {"code": "unknown_event", "message": "no such event"}}
TOO_MANY_CONNECTIONS = {"code": "too_many_connections", "message": "too many connections; close another first"}


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


class HubSocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server, except that client EVENT packets reach registered handlers only.

    python-socketio dispatches a client's ``42["disconnect"]`` to the server's own
    ``disconnect`` handler (and ``42["connect", …]`` to ``connect``) while the socket stays
    open.  Here an event packet whose name is reserved, not a string, or has no registered
    handler runs nothing; if it carries an ack id it is answered with ``UNKNOWN_EVENT``.  A frame
    nested too deeply to decode is dropped.
    The lifecycle handlers still run for the real CONNECT/DISCONNECT packets, which do not
    pass through here.
    """

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except RecursionError:
            # A frame nested too deeply to decode (e.g. 30,000 '['): dropped; the socket carries on.
            log.info("socket frame nested too deeply: dropped")

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        namespace = namespace or "/"
        name = data[0] if isinstance(data, list) and data else None
        if isinstance(name, str) and name not in RESERVED_EVENTS and name in self.handlers.get(namespace, {}):
            await super()._handle_event(eio_sid, namespace, id, data)
            return
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if id is not None and sid is not None and self.manager.is_connected(sid, namespace):
            await self._send_packet(eio_sid, self.packet_class(socketio.packet.ACK, namespace=namespace, id=id,
                                                               data=[UNKNOWN_EVENT]))


class Realtime:
    def __init__(self, settings: Settings, metrics: Metrics, *, write_only: bool = False,
                 clock: Clock | None = None):
        """``write_only``: a process without sockets (admin commands) whose emits reach the
        serving nodes' sockets through Redis.  ``clock``: when a socket's Principal is read again."""
        self.settings = settings
        self.metrics = metrics
        self._clock = clock or SystemClock()  # when a socket's Principal is read again
        self.node_id = settings.node_id or uuid.uuid4().hex[:12]
        manager = None
        if settings.redis_url:
            manager = socketio.AsyncRedisManager(settings.redis_url, channel=settings.channel_prefix + "socketio",
                                                 write_only=write_only)
        self.sio = HubSocketServer(
            async_mode="aiohttp",
            client_manager=manager,
            max_http_buffer_size=settings.max_payload_bytes,
            cors_allowed_origins=settings.cors_origins or None,
            logger=False,
            engineio_logger=False,
        )
        self._authenticate: Authenticator | None = None
        self._revalidate: Revalidator | None = None
        self._revalidate_many: BatchRevalidator | None = None
        self._checked_at: dict[str, float] = {}  # sid -> monotonic time its Principal was read
        self._closing: set[asyncio.Task[None]] = set()
        self._bus: Bus | None = None
        self._principals: dict[str, Principal] = {}
        self._user_sids: dict[str, set[str]] = {}
        self._slots: SocketSlots | None = None
        self._held: dict[str, list[str]] = {}  # sid -> the slot keys its socket holds
        self._slots_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        self.sweeps = 0  # passes of the idle-socket sweep (tests wait on it)
        self._emits = BackgroundTasks("emit")
        self.connect_hooks: list[ConnectionHook] = []
        self.disconnect_hooks: list[ConnectionHook] = []
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)

    # ------------------------------------------------------------ wiring
    def attach(self, app: web.Application) -> None:
        self.sio.attach(app)

    def set_authenticator(self, authenticate: Authenticator, revalidate: Revalidator | None = None,
                          revalidate_many: BatchRevalidator | None = None) -> None:
        """``revalidate(principal)`` reads the account and session again: the current Principal,
        or None when the session or account is no longer valid.  ``revalidate_many`` does it for
        many sessions in a few reads (the idle sweep; without it the sweep reads one by one)."""
        self._authenticate = authenticate
        self._revalidate = revalidate
        self._revalidate_many = revalidate_many

    def bind_bus(self, bus: Bus) -> None:
        self._bus = bus
        bus.subscribe(ROOMS_TOPIC, self._on_rooms_event)
        bus.subscribe(SESSIONS_TOPIC, self._on_sessions_event)

    def bind_slots(self, slots: SocketSlots) -> None:
        """Where concurrent sockets per user and per client address are counted (all nodes)."""
        self._slots = slots

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
            if not await self._take_slots(sid, principal, environ):
                self.metrics.connect_refused.labels("too_many_connections").inc()
                raise socketio.exceptions.ConnectionRefusedError(TOO_MANY_CONNECTIONS["message"],
                                                                 TOO_MANY_CONNECTIONS)
        except PyMongoError as exc:
            refused = storage_unavailable(exc)
            self.metrics.connect_refused.labels(refused.error_code).inc()
            raise socketio.exceptions.ConnectionRefusedError(refused.message, refused.to_dict()["error"]) from None
        except HubchatError as exc:
            self.metrics.connect_refused.labels(exc.error_code).inc()
            raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.to_dict()["error"]) from None
        self._principals[sid] = principal
        self._checked_at[sid] = self._clock.monotonic()
        self._user_sids.setdefault(principal.user_id, set()).add(sid)
        await self.enter_room(sid, user_room(principal.user_id))
        self.metrics.connections.inc()
        for hook in self.connect_hooks:
            try:
                await hook(principal, sid)
            except Exception:
                log.exception("connect hook failed", extra={"hook": getattr(hook, "__qualname__", str(hook))})

    async def _take_slots(self, sid: str, principal: Principal, environ: dict[str, Any]) -> bool:
        """Count this socket against its user's and its address's caps; False when one is full."""
        if self._slots is None:
            return True
        settings = self.settings
        address = environ_client_address(environ, settings.trusted_proxy_header)
        limits = [(f"user:{principal.user_id}", settings.max_sockets_per_user),
                  (f"addr:{address_key(address)}", settings.max_sockets_per_address)]
        if await self._slots.acquire(limits, self.conn_id(sid)) is not None:
            return False
        self._held[sid] = [key for key, limit in limits if limit > 0]
        return True

    async def _release_slots(self, sid: str) -> None:
        keys = self._held.pop(sid, None)
        if keys and self._slots is not None:
            try:
                await self._slots.release(keys, self.conn_id(sid))
            except HubchatError:
                log.warning("socket slots not released; they expire", extra={"sid": sid})

    async def _refresh_slots_forever(self) -> None:
        interval = max(0.05, self.settings.presence_ttl_secs / 3)
        while True:
            await asyncio.sleep(interval)
            if self._slots is None:
                continue
            held = [(key, self.conn_id(sid)) for sid, keys in list(self._held.items()) for key in keys]
            try:
                await self._slots.refresh(held)
            except HubchatError:
                log.warning("socket slots not refreshed", extra={"sockets": len(self._held)})

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(PRINCIPAL_SWEEP_SECS)
            try:
                await self.sweep_idle()
            except Exception:  # a store outage: the next pass tries again
                log.warning("idle sockets not read again", exc_info=True)

    async def sweep_idle(self) -> None:
        """Read again the Principal of every socket not read for PRINCIPAL_RECHECK_SECS (a socket
        that only listens would otherwise keep the rights of a revocation the bus lost).  One read
        per session, not per socket; a revoked session, disabled account or changed role closes
        its sockets."""
        if self._revalidate is None:
            return
        now = self._clock.monotonic()
        due: dict[tuple[str, str, str], list[str]] = {}
        for sid, principal in list(self._principals.items()):
            if now - self._checked_at.get(sid, 0.0) >= PRINCIPAL_RECHECK_SECS:
                due.setdefault((principal.user_id, principal.session_id, principal.role), []).append(sid)
        firsts = [p for p in (self._principals.get(sids[0]) for sids in due.values()) if p is not None]
        known: Mapping[tuple[str, str], Principal | None] = {}
        if self._revalidate_many is not None and firsts:
            # A few reads for every due session: all the sockets of a busy node fall due together
            # (they connected together), and one read each would hold the store for all of them.
            known = await self._revalidate_many(firsts)
        for sids in due.values():
            first = self._principals.get(sids[0])
            if first is None:
                continue
            key = (first.session_id, first.user_id)
            fresh = known[key] if key in known else await self._revalidate(first)
            for sid in sids:
                if sid not in self._principals:
                    continue
                if fresh is None or fresh.role != first.role:
                    await self.sio.disconnect(sid)
                else:
                    self._checked_at[sid] = self._clock.monotonic()
                    self._principals[sid] = fresh
        self.sweeps += 1

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        await self._release_slots(sid)
        self._checked_at.pop(sid, None)
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
            principal = await self._current(sid, principal)
            if len(args) > 1:
                raise ValidationFailed("send one payload object")
            data = args[0] if args else None
            payload = parse(schema, data) if schema is not None else None
            if schema is None and data not in (None, {}):
                raise ValidationFailed("this event takes no payload")
            result = await handler(principal, payload, sid)
        except PyMongoError as exc:
            error = storage_unavailable(exc)
            self.metrics.events.labels(name, "error").inc()
            self.metrics.errors.labels(error.error_code).inc()
            return error.to_dict()
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

    async def _current(self, sid: str, principal: Principal) -> Principal:
        """The socket's Principal, read again when it is older than PRINCIPAL_RECHECK_SECS; a
        session or account no longer valid, or a changed role, closes the socket."""
        age_secs = self._clock.monotonic() - self._checked_at.get(sid, 0.0)
        if self._revalidate is None or age_secs < PRINCIPAL_RECHECK_SECS:
            return principal
        fresh = await self._revalidate(principal)
        if fresh is None or fresh.role != principal.role:
            # Every further event of this socket is read again (and refused) until it has closed.
            closing = asyncio.create_task(self.sio.disconnect(sid))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            raise Unauthenticated("session has ended; connect again", code="session_revoked")
        self._checked_at[sid] = self._clock.monotonic()
        self._principals[sid] = fresh
        return fresh

    # ------------------------------------------------------------ the one way out
    async def emit(self, event: str, data: Mapping[str, Any], *, to: str | Sequence[str],
                   skip_sid: str | Sequence[str] | None = None) -> None:
        """Send ``event`` to a room (``user_room(id)`` for every socket of a user; a socket's sid
        is a room too) or to several rooms at once, each socket once (python-socketio deduplicates
        sockets across the rooms of one emit, on every node).  Call it after the write the event
        announces has committed.  At most once; a failure is logged and dropped, never raised."""
        rooms: str | list[str] = to if isinstance(to, str) else list(to)
        if not rooms:
            return
        skip: str | list[str] | None = skip_sid if skip_sid is None or isinstance(skip_sid, str) else list(skip_sid)
        try:
            await self.sio.emit(event, data, to=rooms, skip_sid=skip)
        except Exception:
            log.exception("emit failed; the write it announces stands", extra={"event": event})

    def emit_later(self, event: str, data: Mapping[str, Any], *, to: str | Sequence[str],
                   skip_sid: str | None = None) -> None:
        """:meth:`emit` after the current handler has answered (the ack goes first); tracked, so
        that shutdown waits for it (:meth:`stop`)."""
        self._emits.spawn(self.emit(event, data, to=to, skip_sid=skip_sid), "emit")

    async def enter_room(self, sid: str, *rooms: str) -> None:
        """This node's socket ``sid`` joins ``rooms`` (connect hooks, a socket that asks to follow)."""
        for room in rooms:
            await self.sio.enter_room(sid, room)

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
            await self.enter_room(sid, *join)
            for room in leave:
                await self.sio.leave_room(sid, room)

    async def _on_rooms_event(self, event: dict[str, Any]) -> None:
        if event.get("node") == self.node_id:
            return
        await self._apply_rooms(str(event["user_id"]), list(event.get("join", [])), list(event.get("leave", [])))

    async def disconnect_session(self, session_id: str) -> None:
        """Close every socket opened with tokens of this session, on every node (logout)."""
        await self._disconnect_local(session_id=session_id)
        if self._bus is not None:
            await self._bus.publish(SESSIONS_TOPIC, {"node": self.node_id, "session_id": session_id})

    async def disconnect_user(self, user_id: str) -> None:
        """Close every socket of this user, on every node (role changed, account disabled).

        The client reconnects with its token and gets a Principal read afresh (new role, rooms
        rebuilt), or is refused if the account or session is no longer valid.
        """
        await self._disconnect_local(user_id=user_id)
        if self._bus is not None:
            await self._bus.publish(SESSIONS_TOPIC, {"node": self.node_id, "user_id": user_id})

    async def _disconnect_local(self, session_id: str | None = None, user_id: str | None = None) -> None:
        for sid, principal in list(self._principals.items()):
            if (session_id is not None and principal.session_id == session_id) or \
                    (user_id is not None and principal.user_id == user_id):
                await self.sio.disconnect(sid)

    async def _on_sessions_event(self, event: dict[str, Any]) -> None:
        if event.get("node") == self.node_id:
            return
        if "session_id" in event:
            await self._disconnect_local(session_id=str(event["session_id"]))
        if "user_id" in event:
            await self._disconnect_local(user_id=str(event["user_id"]))

    async def start(self) -> None:
        """Start the cross-node manager now rather than at the first socket.

        python-socketio starts its Redis listener lazily and, when it does, replaces the Redis
        client an earlier emit (e.g. at an approval) opened, leaking that connection.  Starting
        it here, and waiting until it is connected, gives one client for the node's lifetime.
        """
        if self._slots_task is None:
            self._slots_task = asyncio.create_task(self._refresh_slots_forever(), name="hubchat-socket-slots")
        if self._sweep_task is None and self._revalidate is not None:
            self._sweep_task = asyncio.create_task(self._sweep_forever(), name="hubchat-principal-sweep")
        manager = self.sio.manager
        if self.sio.manager_initialized:
            return
        self.sio.manager_initialized = True
        manager.initialize()
        if isinstance(manager, socketio.AsyncRedisManager) and not manager.write_only:
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
        """Send the emits still pending, stop the cross-node manager's listener and close its
        Redis connections."""
        await self._emits.drain()
        for task in (self._slots_task, self._sweep_task):
            if task is not None:
                await cancel_and_wait({task})
        self._slots_task = self._sweep_task = None
        manager = self.sio.manager
        listener = getattr(manager, "thread", None)
        if isinstance(listener, asyncio.Task):
            # python-socketio's listener can absorb one cancellation (redis-py turns it into a
            # connection error, which the listener retries): cancel until it has ended.
            await cancel_and_wait({listener})
        for resource in (getattr(manager, "pubsub", None), getattr(manager, "redis", None)):
            if resource is not None:
                await resource.aclose()
