"""Shared infrastructure of one node, opened in order and closed in reverse.

Services are built before start-up with a reference to this object and reach the store, Redis,
the bus and the mailer through it at call time; using them before ``running()`` is a bug and
raises RuntimeError.  ``clock`` is the one source of time for rules (hubchat/clock.py): the
system clock unless a test passes a ManualClock.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hubchat.bus import Bus, open_bus
from hubchat.clock import Clock, SystemClock
from hubchat.config import Settings, redact_url
from hubchat.domain_events import DomainEvents
from hubchat.errors import Unavailable
from hubchat.mail import Mailer
from hubchat.metrics import Metrics
from hubchat.outbox import INDEXES as OUTBOX_INDEXES
from hubchat.outbox import Outbox
from hubchat.overload import Admission
from hubchat.presence import MemoryPresence, Presence, RedisPresence
from hubchat.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from hubchat.realtime import Realtime
from hubchat.socket_slots import MemorySocketSlots, RedisSocketSlots
from hubchat.store import IndexSpec, Store, open_store

log = logging.getLogger(__name__)


class Infra:
    def __init__(self, settings: Settings, metrics: Metrics | None = None, attach_store: bool = False,
                 clock: Clock | None = None):
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.attach_store = attach_store  # admin commands: use a running server's embedded store
        self.metrics = metrics or Metrics()
        # Admin commands have no sockets: their emits reach the serving nodes through Redis.
        self.realtime = Realtime(settings, self.metrics, write_only=attach_store, clock=self.clock)
        # Chat work is admitted by this node's load; SOS work never asks (see hubchat/overload.py).
        self.admission = Admission(settings.chat_max_inflight, settings.chat_admission_wait_ms,
                                   settings.overload_lag_ms)
        # In-process domain events between capabilities (after commit; see hubchat/domain_events.py).
        self.events = DomainEvents()
        self._store: Store | None = None
        self._redis: aioredis.Redis | None = None
        self._bus: Bus | None = None
        self._mailer: Mailer | None = None
        # Built now so capabilities can listen to outcomes; it reaches the store and the
        # mailer only while running.
        self._outbox = Outbox(settings, lambda: self.store, lambda: self.mailer, self.realtime.node_id)
        self._limiter: RateLimiter | None = None
        self._presence: Presence | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("infrastructure is not running")
        return self._store

    @property
    def redis(self) -> aioredis.Redis | None:
        return self._redis

    @property
    def bus(self) -> Bus:
        if self._bus is None:
            raise RuntimeError("infrastructure is not running")
        return self._bus

    @property
    def mailer(self) -> Mailer:
        if self._mailer is None:
            raise RuntimeError("infrastructure is not running")
        return self._mailer

    @property
    def outbox(self) -> Outbox:
        """Durable email: every email hubchat sends goes through here (see hubchat/outbox.py)."""
        return self._outbox

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            raise RuntimeError("infrastructure is not running")
        return self._limiter

    @property
    def presence(self) -> Presence:
        if self._presence is None:
            raise RuntimeError("infrastructure is not running")
        return self._presence

    def key(self, suffix: str) -> str:
        """A Redis key (or in-process key) under this deployment's prefix."""
        return self.settings.redis_prefix + suffix

    @contextlib.asynccontextmanager
    async def running(self, indexes: Iterable[IndexSpec] = ()) -> AsyncIterator[Infra]:
        settings = self.settings
        async with contextlib.AsyncExitStack() as stack:
            if settings.redis_url:
                # One immediate retry on a connection error: after a Redis restart each pooled
                # connection fails once on first use (its socket was closed meanwhile); the retry
                # reconnects, so no request and no readiness probe sees that.  With Redis down the
                # retry is refused at once too: callers still fail fast.
                client = aioredis.from_url(settings.redis_url, retry=Retry(NoBackoff(), 1))
                stack.push_async_callback(client.aclose)
                try:
                    await client.ping()
                except RedisError as exc:
                    raise Unavailable(f"Redis is not reachable at {redact_url(settings.redis_url)}: "
                                      f"{type(exc).__name__}: {redact_url(str(exc))}") from exc
                self._redis = client
                self._limiter = RedisRateLimiter(client, settings.redis_prefix, self.clock)
                self._presence = RedisPresence(client, settings.redis_prefix, settings.presence_ttl_secs, self.clock)
            else:
                log.info("no redis_url: single node with in-process bus, presence and rate limits")
                self._limiter = MemoryRateLimiter(self.clock)
                self._presence = MemoryPresence(settings.presence_ttl_secs, self.clock)
            await stack.enter_async_context(self.admission.running())
            self._store = await stack.enter_async_context(open_store(settings, [*indexes, OUTBOX_INDEXES],
                                                                     attach=self.attach_store))
            self._bus = await stack.enter_async_context(open_bus(settings, self._redis))
            self.realtime.bind_bus(self._bus)
            self.realtime.bind_slots(RedisSocketSlots(self._redis, settings.redis_prefix, settings.presence_ttl_secs)
                                     if self._redis is not None else MemorySocketSlots(settings.presence_ttl_secs))
            await self.realtime.start()
            stack.push_async_callback(self.realtime.stop)
            self._mailer = Mailer(settings)
            stack.push_async_callback(self._mailer.close)
            self._mailer.bind_outbox(self._outbox.enqueue)
            # Only serving nodes send; an admin command that exits mid-send would hold a lease.
            senders = contextlib.nullcontext() if self.attach_store else self._outbox.running()
            try:
                async with senders:
                    yield self
                    await self._mailer.close()  # hand-overs to the outbox still need the store
            finally:
                self._store = self._bus = self._mailer = None
                self._redis = None

    async def ready(self) -> dict[str, bool]:
        checks = {"mongodb": self._store is not None and await self._store.ping()}
        if self.settings.redis_url:
            try:
                checks["redis"] = self._redis is not None and bool(await self._redis.ping())
            except RedisError:
                checks["redis"] = False
        return checks
