"""Translation cache: model output per (model version, direction, sentence), shared by all nodes.

Contract (``TranslationCache``): best effort.  ``get_many`` answers a translation or None per
key; ``put_many`` stores.  A failing backend is logged, counted and treated as a miss — the
cache never fails a translation.  Entries expire after ``ttl_secs`` and at most about
``max_entries`` are kept; a hit refreshes an entry's age (approximate LRU).

Keys are sentences *after* span protection (``XZ0`` placeholders, numbered per sentence), so
one entry serves every "call me at <number>" and no link, email or phone number is ever
stored in the cache.  The text is only NFC-normalised with white space collapsed — not case-
folded — because the model's output depends on case and punctuation.

Implementations:

* ``RedisTranslationCache`` — one string per entry, ``{prefix}tr:{sha256(version|direction|text)}``
  with TTL, and one sorted set ``{prefix}tr:index`` (member: key, score: last use).  After each
  write a Lua script drops index members older than the TTL and evicts the least recently used
  keys beyond ``max_entries``.  The script names keys it was not given, so it needs a single
  Redis (not Cluster), which is what hubchat uses.
* ``MemoryTranslationCache`` — an in-process LRU for single-node deployments without Redis.
"""

from __future__ import annotations

import hashlib
import logging
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

DEFAULT_TTL_SECS = 30 * 24 * 3600
DEFAULT_MAX_ENTRIES = 200_000

_TRIM_SCRIPT = """
local index = KEYS[1]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', index, '-inf', now - ttl)
local excess = redis.call('ZCARD', index) - cap
if excess > 0 then
  local victims = redis.call('ZPOPMIN', index, excess)
  for i = 1, #victims, 2 do redis.call('DEL', victims[i]) end
end
return excess
"""


class CacheKey(NamedTuple):
    model_version: str
    direction: str  # "lus-en" | "en-lus"
    text: str


def cache_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def digest(key: CacheKey) -> str:
    material = f"{key.model_version}|{key.direction}|{cache_text(key.text)}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class TranslationCache(Protocol):
    async def get_many(self, keys: Sequence[CacheKey]) -> list[str | None]: ...

    async def put_many(self, items: Sequence[tuple[CacheKey, str]]) -> None: ...


OnError = Callable[[str], None]


def _ignore(_: str) -> None:
    return None


class RedisTranslationCache:
    def __init__(self, client: aioredis.Redis, prefix: str, *, ttl_secs: int = DEFAULT_TTL_SECS,
                 max_entries: int = DEFAULT_MAX_ENTRIES, on_error: OnError = _ignore):
        self.client = client
        self.prefix = prefix + "tr:"
        self.index = self.prefix + "index"
        self.ttl_secs = ttl_secs
        self.max_entries = max_entries
        self.on_error = on_error
        self._trim = client.register_script(_TRIM_SCRIPT)

    def _name(self, key: CacheKey) -> str:
        return self.prefix + digest(key)

    async def get_many(self, keys: Sequence[CacheKey]) -> list[str | None]:
        if not keys:
            return []
        names = [self._name(k) for k in keys]
        try:
            values = await self.client.mget(names)
            hits = [n for n, v in zip(names, values, strict=True) if v is not None]
            if hits:
                async with self.client.pipeline(transaction=False) as pipe:
                    pipe.zadd(self.index, {n: time.time() for n in hits}, xx=True)
                    for name in hits:
                        pipe.expire(name, self.ttl_secs)
                    await pipe.execute()
        except RedisError as exc:
            log.warning("translation cache read failed: %s", exc)
            self.on_error("get")
            return [None] * len(keys)
        return [None if v is None else (v.decode("utf-8") if isinstance(v, bytes) else str(v)) for v in values]

    async def put_many(self, items: Sequence[tuple[CacheKey, str]]) -> None:
        if not items:
            return
        now = time.time()
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, translation in items:
                    pipe.set(self._name(key), translation.encode("utf-8"), ex=self.ttl_secs)
                pipe.zadd(self.index, {self._name(k): now for k, _ in items})
                await pipe.execute()
            await self._trim(keys=[self.index], args=[now, self.ttl_secs, self.max_entries])
        except RedisError as exc:
            log.warning("translation cache write failed: %s", exc)
            self.on_error("put")


class MemoryTranslationCache:
    def __init__(self, *, ttl_secs: int = DEFAULT_TTL_SECS, max_entries: int = DEFAULT_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl_secs = ttl_secs
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get_many(self, keys: Sequence[CacheKey]) -> list[str | None]:
        now = self.clock()
        found: list[str | None] = []
        for key in keys:
            name = digest(key)
            entry = self._entries.get(name)
            if entry is None or now - entry[0] > self.ttl_secs:
                self._entries.pop(name, None)
                found.append(None)
                continue
            self._entries[name] = (now, entry[1])
            self._entries.move_to_end(name)
            found.append(entry[1])
        return found

    async def put_many(self, items: Sequence[tuple[CacheKey, str]]) -> None:
        now = self.clock()
        for key, translation in items:
            name = digest(key)
            self._entries[name] = (now, translation)
            self._entries.move_to_end(name)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
