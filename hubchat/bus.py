"""Publish/subscribe of domain events between hubchat nodes.

The contract is :class:`Bus`; :class:`InProcessBus` serves a single node and :class:`RedisBus`
spreads events over Redis pub/sub to every node on the same channel prefix (``Settings.channel_prefix``:
the key prefix plus the deployment name or Redis database number).  :func:`open_bus` picks
one from the configuration.

Guarantees (both implementations):

* **At most once.**  An event reaches each subscribed handler of each live node once or not at
  all: nothing is stored, a node that is disconnected from Redis misses what is published
  meanwhile, and a ``publish`` that cannot reach Redis is logged and dropped, never raised (the
  caller's write has already happened; what must not be lost lives in the database).
* **Ordered per publisher and topic.**  Events one node publishes on one topic are handed to
  each handler in publish order.  Nothing is promised across topics or across publishers.
* **Payloads are JSON objects.**  ``publish`` raises ``TypeError``/``ValueError`` for anything
  else; each handler receives its own freshly decoded ``dict``.
* **Handlers are awaited one at a time** by one listener task, never re-entrantly from inside
  ``publish``; a handler that raises is logged and skipped.  Handlers should be quick and hand
  long work to a task of their own, since they hold up the events behind them.
* The publishing node's own handlers receive its events too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from hubchat.background import cancel_and_wait
from hubchat.config import Settings
from hubchat.errors import Unavailable

__all__ = ["Bus", "Handler", "InProcessBus", "RedisBus", "open_bus"]

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]

RECONNECT_FIRST_DELAY_SECS = 0.5
RECONNECT_MAX_DELAY_SECS = 60.0
SUBSCRIBE_ACK_TIMEOUT_SECS = 10.0
PING_AFTER_IDLE_SECS = 30.0  # a silent pub/sub connection is probed, and dropped if it stays silent
CLOSE_DRAIN_SECS = 5.0
IN_PROCESS_QUEUE_SIZE = 10_000


class Bus(Protocol):
    """Domain events between nodes: at most once, ordered per publisher and topic, JSON objects.

    ``subscribe`` may be called before or after ``start``; once ``start`` (or, after start, the
    next ``publish`` on this node) returns, events published on the topic reach the handler.
    After ``close`` this node receives nothing more; a later ``publish`` is dropped by the
    in-process bus and still goes to the other nodes over Redis.  ``close`` is idempotent.
    """

    def subscribe(self, topic: str, handler: Handler) -> None: ...

    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def _encode(event: dict[str, Any]) -> str:
    if not isinstance(event, dict):
        raise TypeError(f"bus events are JSON objects, not {type(event).__name__}")
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _decode(raw: str | bytes) -> dict[str, Any]:
    event = json.loads(raw)
    if not isinstance(event, dict):
        raise TypeError(f"expected a JSON object, got {type(event).__name__}")
    return event


async def _cancel_and_wait(tasks: set[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait until they have finished; a failure among them is logged."""
    if not tasks:
        return
    await cancel_and_wait(tasks)  # cancels again if redis-py absorbed a cancellation
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("bus: task %s had failed", task.get_name(), exc_info=task.exception())


class _Dispatcher:
    """The handler table and the log-and-skip delivery shared by both buses."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self.published = 0  # events this node handed to the transport
        self.delivered = 0  # handler calls that returned normally
        self.failed = 0  # handler calls that raised
        self.dropped = 0  # events lost: undecodable, queue full, closed, or transport down

    def _add_handler(self, topic: str, handler: Handler) -> bool:
        """Register ``handler``; True when ``topic`` had no handler before."""
        if not topic:
            raise ValueError("topic must not be empty")
        handlers = self._handlers.setdefault(topic, [])
        handlers.append(handler)
        return len(handlers) == 1

    async def _deliver(self, topic: str, raw: str | bytes) -> None:
        try:
            first = _decode(raw)
        except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
            self.dropped += 1
            log.warning("bus: skipped an undecodable event on topic %r: %s", topic, exc)
            return
        for index, handler in enumerate(list(self._handlers.get(topic, ()))):
            event = first if index == 0 else _decode(raw)
            try:
                await handler(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failed += 1
                log.exception("bus: handler %r failed on topic %r", handler, topic)
            else:
                self.delivered += 1


class InProcessBus(_Dispatcher):
    """One node only: events go through a local queue to a single dispatch task.

    Events published before ``start`` wait in the queue; ``close`` delivers what is already
    queued (for at most ``CLOSE_DRAIN_SECS``) and drops what is published afterwards.  When the
    queue is full the event is dropped and logged.
    """

    def __init__(self, max_queue: int = IN_PROCESS_QUEUE_SIZE) -> None:
        super().__init__()
        self._queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._add_handler(topic, handler)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        raw = _encode(event)
        if self._closed:
            self.dropped += 1
            log.debug("bus: closed, dropped an event on topic %r", topic)
            return
        try:
            self._queue.put_nowait((topic, raw))
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("bus: queue full, dropped an event on topic %r", topic)
            return
        self.published += 1

    async def start(self) -> None:
        if self._closed:
            raise RuntimeError("bus is closed")
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hubchat-bus-dispatch")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            task.cancel()
        done, _ = await asyncio.wait({task}, timeout=CLOSE_DRAIN_SECS)
        if not done:
            log.warning("bus: dispatch still busy after %.0f s, cancelling", CLOSE_DRAIN_SECS)
        await _cancel_and_wait({task})

    async def _run(self) -> None:
        while (item := await self._queue.get()) is not None:
            await self._deliver(*item)


class RedisBus(_Dispatcher):
    """Events over Redis pub/sub; channel ``prefix + "bus:" + topic``, JSON text payloads.

    One listener task owns one pub/sub connection.  ``start`` returns once every channel
    subscribed so far is confirmed by Redis, so an event published right after is received.
    A topic subscribed after start is confirmed before this node's next ``publish`` goes out.
    If the connection drops, the listener reconnects with exponential backoff capped at
    ``RECONNECT_MAX_DELAY_SECS`` and re-subscribes; events published meanwhile are missed.
    The Redis client is borrowed, not closed.
    """

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        super().__init__()
        self._redis = redis
        self._channel_prefix = prefix + "bus:"
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._late_subscriptions: set[asyncio.Task[None]] = set()
        self._closed = False
        self.reconnects = 0

    # ------------------------------------------------------------ contract
    def subscribe(self, topic: str, handler: Handler) -> None:
        if self._add_handler(topic, handler) and self._task is not None:
            task = asyncio.create_task(self._subscribe_late(self._channel(topic)))
            self._late_subscriptions.add(task)
            task.add_done_callback(self._late_subscriptions.discard)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        raw = _encode(event)
        if self._late_subscriptions:
            await asyncio.wait(set(self._late_subscriptions), timeout=SUBSCRIBE_ACK_TIMEOUT_SECS)
        try:
            await self._redis.publish(self._channel(topic), raw)
        except RedisError as exc:
            self.dropped += 1
            log.warning("bus: could not publish on topic %r, dropped: %s", topic, exc)
            return
        self.published += 1

    async def start(self) -> None:
        if self._closed:
            raise RuntimeError("bus is closed")
        if self._task is not None:
            return
        try:
            self._pubsub = await self._open()
        except (RedisError, OSError, TimeoutError) as exc:
            raise Unavailable(f"event bus: cannot subscribe on redis: {exc}") from exc
        self._task = asyncio.create_task(self._listen(), name="hubchat-bus-listener")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        pending = {*self._late_subscriptions, *([self._task] if self._task else [])}
        self._task = None
        await _cancel_and_wait(pending)
        await self._drop_connection()

    # ------------------------------------------------------------ internals
    def _channel(self, topic: str) -> str:
        return self._channel_prefix + topic

    def _topic(self, channel: str | bytes) -> str:
        name = channel.decode() if isinstance(channel, bytes) else channel
        return name[len(self._channel_prefix) :]

    def _ack_future(self, channel: str) -> asyncio.Future[None]:
        future = self._acks.get(channel)
        if future is None or future.done():
            future = self._acks[channel] = asyncio.get_running_loop().create_future()
        return future

    async def _open(self) -> PubSub:
        """A connected pub/sub with every known channel subscribed and confirmed.

        Topics subscribed while this runs are picked up before it returns; the caller stores
        the result without awaiting in between, so none falls through the gap.
        """
        pubsub = self._redis.pubsub()
        subscribed: set[str] = set()
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]
            async with asyncio.timeout(SUBSCRIBE_ACK_TIMEOUT_SECS):
                while missing := [c for c in map(self._channel, self._handlers) if c not in subscribed]:
                    waiting = [self._ack_future(channel) for channel in missing]
                    await pubsub.subscribe(*missing)
                    while not all(future.done() for future in waiting):
                        await self._handle(await pubsub.get_message(timeout=None))
                    subscribed.update(missing)
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        return pubsub

    async def _subscribe_late(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # reconnecting: _open() subscribes every known channel
        ack = self._ack_future(channel)
        try:
            await pubsub.subscribe(channel)
            await asyncio.wait_for(asyncio.shield(ack), SUBSCRIBE_ACK_TIMEOUT_SECS)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("bus: subscribing %r not confirmed yet (%s); the listener will retry", channel, exc)

    async def _listen(self) -> None:
        delay = RECONNECT_FIRST_DELAY_SECS
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._open()
                    self.reconnects += 1
                    log.info("bus: reconnected to redis")
                    delay = RECONNECT_FIRST_DELAY_SECS
                await self._read(self._pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (whatever broke the connection: start afresh)
                log.warning("bus: redis listener lost its connection (%s); retry in %.1f s", exc, delay)
                await self._drop_connection()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY_SECS)

    async def _read(self, pubsub: PubSub) -> None:
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=PING_AFTER_IDLE_SECS)
            if message is None:
                if pinged:
                    raise ConnectionError(f"no answer from redis for {PING_AFTER_IDLE_SECS * 2:.0f} s")
                await pubsub.ping()
                pinged = True
                continue
            pinged = False
            await self._handle(message)

    async def _handle(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        kind = message.get("type")
        if kind == "message":
            await self._deliver(self._topic(message["channel"]), message["data"])
        elif kind == "subscribe":
            channel = message["channel"]
            future = self._acks.pop(channel.decode() if isinstance(channel, bytes) else channel, None)
            if future is not None and not future.done():
                future.set_result(None)

    async def _drop_connection(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            except Exception as exc:  # noqa: BLE001 (a broken connection may fail to close; it is gone either way)
                log.debug("bus: closing the old pub/sub connection failed: %s", exc)


@contextlib.asynccontextmanager
async def open_bus(settings: Settings, redis: aioredis.Redis | None) -> AsyncIterator[Bus]:
    """A started bus for the node's lifetime: Redis when a client is given, else in-process."""
    bus: Bus
    if redis is None:
        log.info("no redis_url: single node, in-process bus")
        bus = InProcessBus()
    else:
        bus = RedisBus(redis, settings.channel_prefix)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()
