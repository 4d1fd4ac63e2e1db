"""The durable push outbox: a push is stored before it is sent, and sent by one node.

The same guarantees as the mail outbox (hubchat/outbox.py), for Web Push:

* ``enqueue`` stores one document per (event, subscription) under a unique key
  (``sos:{alert}|{subscription}``, ``msg:{message}|{subscription}``): storing it again stores
  nothing, so an event handled twice (a retried dispatch round, two nodes) pushes once.
* Every node runs senders; a sender claims a due push with one atomic update that sets a lease;
  a node that dies mid-send leaves the lease to expire and another node sends it.  Delivery is at
  least once to the push service: the one window for a second copy is a crash after the push
  service accepted it and before the outbox marked it sent.
* The push service answers: 2xx → ``sent``; 404/410 → ``gone`` and the subscription is removed;
  429, 5xx, timeouts and connection errors → retried with backoff (``Retry-After`` honoured, capped)
  up to ``push_max_attempts``; any other answer → ``failed``.  A push whose subscription was
  removed meanwhile (unsubscribed, signed out) is dropped, not sent.
* The payload is encrypted at each attempt (RFC 8291; hubchat/push/crypto.py) with VAPID
  (hubchat/push/vapid.py); requests never follow redirects.

States: ``pending`` → ``sending`` → ``sent`` | ``pending`` (retry) | ``gone`` | ``failed`` |
``dropped``; a push in a final state keeps neither its payload (a DM preview) nor the
subscription's keys.  Times are epoch milliseconds of the injected clock.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp
from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.infra import Infra
from hubchat.outbox import backoff_ms
from hubchat.push.crypto import b64url_decode, encrypt
from hubchat.push.repository import SUBSCRIPTIONS
from hubchat.push.vapid import Vapid
from hubchat.schema import new_id
from hubchat.senders import Senders
from hubchat.store import Document

log = logging.getLogger(__name__)

PUSH_OUTBOX = "push_outbox"
INDEXES = {PUSH_OUTBOX: [IndexModel([("key", 1)], unique=True, name="push_outbox_key"),
                         IndexModel([("state", 1), ("due_ms", 1)], name="push_outbox_due")]}
LEASE_MS = 60_000
POLL_SECS = 1.0
SENDERS = 2
STOP_WAIT_SECS = 5.0
REQUEST_TIMEOUT_SECS = 15.0
MAX_RETRY_AFTER_MS = 30 * 60_000
RETRY_BASE_MS = 2_000


class PushOutbox:
    def __init__(self, infra: Infra, vapid: Vapid):
        self.infra = infra
        self.vapid = vapid
        self._senders = Senders("push outbox", self._claim, self._deliver, count=SENDERS, poll_secs=POLL_SECS,
                                stop_wait_secs=STOP_WAIT_SECS)
        self._http: aiohttp.ClientSession | None = None
        self.sent = 0
        self.failed = 0

    def _coll(self) -> Any:
        return self.infra.store[PUSH_OUTBOX]

    def now_ms(self) -> int:
        return int(self.infra.clock.now().timestamp() * 1000)

    def wake(self) -> None:
        """Look for due pushes now (a test that advanced the clock; a new push)."""
        self._senders.wake()

    # ------------------------------------------------------------ enqueue
    async def enqueue(self, key: str, subscriptions: Iterable[Document], payload: str, *, urgency: str,
                      ttl: int) -> int:
        """Store one push per subscription; how many were new (0 when the key was seen before)."""
        created = self.now_ms()
        stored = 0
        for sub in subscriptions:
            doc = {"_id": new_id(), "key": f"{key}|{sub['_id']}", "user_id": sub["user_id"], "sub_id": sub["_id"],
                   "endpoint": sub["endpoint"], "p256dh": sub["p256dh"], "auth": sub["auth"], "payload": payload,
                   "urgency": urgency, "ttl": ttl, "state": "pending", "attempts": 0, "due_ms": created,
                   "created_ms": created, "lease_ms": 0, "claimed_by": None}
            try:
                await self._coll().insert_one(doc)
            except DuplicateKeyError:
                continue
            stored += 1
        if stored:
            self._senders.wake()
        return stored

    async def list(self, limit: int = 50) -> list[Document]:
        return [d async for d in self._coll().find({}).sort("created_ms", -1).limit(limit)]

    # ------------------------------------------------------------ sending
    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECS))
        try:
            async with self._senders.running():
                yield
        finally:
            await self._http.close()
            self._http = None

    async def _claim(self) -> Document | None:
        now = self.now_ms()
        due = {"$or": [{"state": "pending", "due_ms": {"$lte": now}},
                       {"state": "sending", "lease_ms": {"$lte": now}}]}
        doc: Document | None = await self._coll().find_one_and_update(
            due, {"$set": {"state": "sending", "lease_ms": now + LEASE_MS, "claimed_by": self.infra.realtime.node_id},
                  "$inc": {"attempts": 1}},
            sort=[("due_ms", 1)], return_document=ReturnDocument.AFTER)
        return doc

    async def _set(self, doc: Document, change: Document) -> None:
        """Record an attempt's outcome; a push that is done keeps no payload and no keys."""
        mine = {"_id": doc["_id"], "claimed_by": self.infra.realtime.node_id, "state": "sending"}
        if change["state"] != "pending":
            change = {**change, "payload": None, "p256dh": None, "auth": None}
        await self._coll().update_one(mine, {"$set": {**change, "lease_ms": 0}})

    async def _deliver(self, doc: Document) -> None:
        subs = self.infra.store[SUBSCRIPTIONS]
        if await subs.find_one({"_id": doc["sub_id"], "endpoint": doc["endpoint"]}, {"_id": 1}) is None:
            await self._set(doc, {"state": "dropped"})
            return
        status, retry_after = await self._post(doc)
        attempts = int(doc.get("attempts", 1))
        if status is not None and 200 <= status < 300:
            await self._set(doc, {"state": "sent", "sent_ms": self.now_ms(), "last_status": status})
            self.sent += 1
            return
        if status in (404, 410):
            await subs.delete_many({"_id": doc["sub_id"], "endpoint": doc["endpoint"]})
            await self._set(doc, {"state": "gone", "last_status": status})
            log.info("push outbox: subscription gone (%d), removed", status, extra={"push_id": doc["_id"]})
            return
        temporary = status is None or status == 429 or status >= 500
        if not temporary or attempts >= self.infra.settings.push_max_attempts:
            await self._set(doc, {"state": "failed", "last_status": status})
            self.failed += 1
            log.error("push outbox: gave up on a push after %d attempt(s) (status %s)", attempts, status,
                      extra={"push_id": doc["_id"]})
            return
        delay = backoff_ms(attempts, RETRY_BASE_MS)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_MS))
        await self._set(doc, {"state": "pending", "due_ms": self.now_ms() + delay, "last_status": status})
        log.warning("push outbox: attempt %d failed (status %s); retrying", attempts, status,
                    extra={"push_id": doc["_id"]})

    async def _post(self, doc: Document) -> tuple[int | None, int | None]:
        """(HTTP status or None for no answer, Retry-After in ms if given)."""
        assert self._http is not None
        endpoint = doc["endpoint"]
        body = encrypt(doc["payload"].encode("utf-8"), b64url_decode(doc["p256dh"]), b64url_decode(doc["auth"]))
        headers = {"Authorization": self.vapid.authorization(endpoint, self.infra.clock.now().timestamp()),
                   "TTL": str(int(doc["ttl"])), "Urgency": doc["urgency"], "Content-Encoding": "aes128gcm",
                   "Content-Type": "application/octet-stream"}
        try:
            async with self._http.post(endpoint, data=body, headers=headers, allow_redirects=False) as resp:
                await resp.read()
                retry_after = resp.headers.get("Retry-After", "")
                return resp.status, int(retry_after) * 1000 if retry_after.isdigit() else None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("push outbox: push service not reached (%s)", type(exc).__name__)
            return None, None
