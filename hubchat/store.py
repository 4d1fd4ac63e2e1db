"""MongoDB access: one AsyncMongoClient, the database, and idempotent index creation.

Capabilities own their collections and declare their indexes (``INDEXES``); the store only
creates them.  Constraint for both backends (real MongoDB and embedded nx-27017): no geospatial
operators, and no compound index containing ``_id``.  Naming rule for the embedded backend (see
``hubchat/embedded_server.py``): a field that holds an array is named ``*_ids`` (``member_ids``,
``trigger_ids``), and no scalar field is; an equality on an indexed scalar field is then served by
its index, and an equality on an array field matches its elements.

Storage errors have one policy: code below the edges lets PyMongo's errors rise (it catches only
the ones it expects, such as ``DuplicateKeyError`` from a unique index), and the edges — the HTTP
error middleware, the Socket.IO event wrapper and the CLI — answer any other with
:func:`storage_unavailable` (``unavailable``, 503, temporary).  Optimistic writes conditioned on
what was read (a ``version``, a unique key) go through :func:`retry_on_conflict`.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, TypeVar, overload

import pymongo
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from hubchat.config import Settings
from hubchat.embedded_mongo import EmbeddedMongo, running_uri
from hubchat.errors import HubchatError, Unavailable

log = logging.getLogger(__name__)

Document = dict[str, Any]
IndexSpec = Mapping[str, Sequence[IndexModel]]
T = TypeVar("T")


def storage_unavailable(exc: PyMongoError) -> Unavailable:
    """The answer to a driver error that reached an edge: ``unavailable`` (temporary; the client
    retries with the same ids).  Logged here, once, with the driver's error type."""
    log.error("storage error: %s: %s", type(exc).__name__, exc)
    return Unavailable("storage is unavailable, retry")


class Retry(enum.Enum):
    """What one attempt of :func:`retry_on_conflict` returns when its write lost a race."""

    AGAIN = "again"


AGAIN: Final = Retry.AGAIN
Again = Literal[Retry.AGAIN]  # the type of AGAIN, for an attempt's return annotation
Attempt = Callable[[], Awaitable["T | Again"]]


@overload
async def retry_on_conflict(attempt: Attempt[T], *, attempts: int, exhausted: HubchatError) -> T: ...


@overload
async def retry_on_conflict(attempt: Attempt[T], *, attempts: int, exhausted: None = None) -> T | None: ...


async def retry_on_conflict(attempt: Attempt[T], *, attempts: int,
                            exhausted: HubchatError | None = None) -> T | None:
    """Run ``attempt`` (read, decide, write conditioned on what was read) until it returns anything
    but ``AGAIN`` (its write lost a race: someone wrote in between), at most ``attempts`` times.
    Then raise ``exhausted`` (for example ``sos_busy``), or return None when it is None."""
    for _ in range(attempts):
        result = await attempt()
        if result is not AGAIN:
            return result
    if exhausted is not None:
        raise exhausted
    return None


class Store:
    def __init__(self, client: AsyncMongoClient[Document], db_name: str):
        self.client = client
        self.db: AsyncDatabase[Document] = client[db_name]

    def __getitem__(self, name: str) -> AsyncCollection[Document]:
        return self.db[name]

    async def ensure_indexes(self, specs: Iterable[IndexSpec]) -> None:
        for spec in specs:
            for collection, models in spec.items():
                if models:
                    await self.db[collection].create_indexes(list(models))

    async def ping(self) -> bool:
        """True when the store answers within ``PING_TIMEOUT_SECS`` (a readiness probe's budget)."""
        try:
            with pymongo.timeout(PING_TIMEOUT_SECS):
                await self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False


PING_TIMEOUT_SECS = 1.0
DEFAULT_SELECT_TIMEOUT_MS = 1500


def make_client(uri: str, select_timeout_ms: int = DEFAULT_SELECT_TIMEOUT_MS) -> AsyncMongoClient[Document]:
    """A client whose operations wait at most ``select_timeout_ms`` for an unreachable store.

    With the store gone (killed, restarting, network cut) every operation then fails with a
    ``ServerSelectionTimeoutError`` after that long instead of PyMongo's 30 s default, and the
    adapters answer ``unavailable``; PyMongo's monitor finds the store again by itself once it
    answers, so nothing needs a restart.  ``connectTimeoutMS`` stays longer: it is also the
    monitor's own check timeout, and a busy (not dead) store must not be declared down.
    """
    return AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=select_timeout_ms, connectTimeoutMS=5000)


@contextlib.asynccontextmanager
async def open_store(settings: Settings, indexes: Iterable[IndexSpec] = (),
                     attach: bool = False) -> AsyncIterator[Store]:
    """The store for these settings; starts and stops the embedded server when no URI is set.

    ``attach`` (admin commands): use the embedded server of a hubchat already running on this
    ``data_dir`` when it answers, instead of starting one (which that server's files forbid).
    """
    async with contextlib.AsyncExitStack() as stack:
        uri = settings.mongo_uri
        running = await running_uri(settings.data_path) if not uri and attach else None
        if running:
            uri = running
            log.info("using the embedded MongoDB-wire server of the hubchat running on this data_dir")
        elif not uri:
            embedded = await stack.enter_async_context(EmbeddedMongo(settings.data_path, supervise=True))
            uri = embedded.uri
            log.info("no mongo_uri configured: using the embedded MongoDB-wire server")
        client = make_client(uri, settings.mongo_select_timeout_ms)
        stack.push_async_callback(client.close)
        store = Store(client, settings.mongo_db)
        try:
            await store.ensure_indexes(indexes)
        except PyMongoError as exc:
            raise Unavailable(f"MongoDB is not reachable: {type(exc).__name__}") from exc
        yield store
