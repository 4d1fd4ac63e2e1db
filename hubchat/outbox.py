"""The durable mail outbox: an email is stored before it is sent, and sent by one node.

Guarantees:

* ``enqueue`` returns once the email is stored, one document per recipient under a key the
  caller chooses (``sos:{alert}:{step}`` …), unique: enqueueing the same key again for the same
  recipient stores nothing, so a step redone after a crash or on another node mails nobody twice.
* Every node runs the sender.  A node claims a due email with one atomic update that sets a
  lease; a node that dies mid-send leaves the lease to expire and another node takes the email
  over.  Delivery is at least once to the SMTP server: the one window for a second copy is a
  crash after the server accepted the message and before the outbox marked it sent.
* Temporary failures (connection refused, timeouts, 4xx) are retried with exponential backoff and
  jitter up to ``mail_outbox_max_attempts``; permanent ones (5xx) end as ``failed``.  Nothing is
  dropped at shutdown: what is not sent stays ``pending`` for the next node or start.
* With ``smtp_host`` empty (a newcomer's machine) nothing is sent: emails are ``kept`` in the
  outbox and ``hubchat mail list`` shows them (verification codes included).

States: ``pending`` → ``sending`` → ``sent`` | ``pending`` (retry) | ``failed``; or ``kept``.
Times are epoch milliseconds (integers survive every backend's update paths alike).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiosmtplib
from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.config import Settings
from hubchat.mail import Attachment, Email, Mailer, is_temporary
from hubchat.schema import new_id
from hubchat.senders import Senders
from hubchat.store import Document, Store

log = logging.getLogger(__name__)

OUTBOX = "mail_outbox"
INDEXES = {OUTBOX: [IndexModel([("key", 1)], unique=True, name="outbox_key"),
                    IndexModel([("state", 1), ("due_ms", 1)], name="outbox_due"),
                    IndexModel([("tag", 1)], name="outbox_tag")]}
LEASE_MS = 60_000
POLL_SECS = 1.0
SENDERS = 4
STOP_WAIT_SECS = 5.0
MAX_BACKOFF_MS = 10 * 60_000

StoreGetter = Callable[[], Store]
MailerGetter = Callable[[], Mailer]
# Called on the node that delivered (or gave up on) an email whose tag starts with a prefix.
OutcomeListener = Callable[[Document, str], Awaitable[None]]


def now_ms() -> int:
    return int(time.time() * 1000)


def backoff_ms(attempts: int, base_ms: float) -> int:
    """Exponential with a quarter of jitter, capped at ``MAX_BACKOFF_MS``."""
    delay = min(base_ms * 2.0 ** max(0, attempts - 1), MAX_BACKOFF_MS)
    return int(delay + random.uniform(0, delay / 4))


def outbox_view(doc: Document) -> dict[str, Any]:
    """What officers and the CLI see of one email (never the SMTP password, which is not here)."""
    return {"id": doc["_id"], "to": doc["to"], "subject": doc["subject"], "state": doc["state"],
            "attempts": doc.get("attempts", 0), "tag": doc.get("tag"), "created_ms": doc.get("created_ms"),
            "sent_ms": doc.get("sent_ms"), "last_error": doc.get("last_error")}


class Outbox:
    def __init__(self, settings: Settings, store: StoreGetter, mailer: MailerGetter, node_id: str) -> None:
        self.settings = settings
        self._store = store
        self._mailer = mailer
        self.node_id = node_id
        self._listeners: list[tuple[str, OutcomeListener]] = []
        self._senders = Senders("mail outbox", self._claim, self._deliver, count=SENDERS, poll_secs=POLL_SECS,
                                stop_wait_secs=STOP_WAIT_SECS)
        self.sent = 0
        self.failed = 0

    def on_outcome(self, tag_prefix: str, listener: OutcomeListener) -> None:
        """Call ``listener(doc, "sent" | "failed")`` once an email tagged ``tag_prefix…`` is
        delivered or given up (on the node that did it; failures of the listener are logged)."""
        self._listeners.append((tag_prefix, listener))

    async def _notify(self, doc: Document, outcome: str) -> None:
        tag = str(doc.get("tag") or "")
        for prefix, listener in self._listeners:
            if tag.startswith(prefix):
                try:
                    await listener(doc, outcome)
                except Exception:
                    log.exception("mail outbox listener failed", extra={"outbox_id": doc["_id"], "tag": tag})

    @property
    def keeps_locally(self) -> bool:
        return not self.settings.smtp_host

    def _coll(self) -> Any:
        return self._store()[OUTBOX]

    # ------------------------------------------------------------ enqueue
    async def enqueue(self, email: Email, *, key: str | None = None, tag: str | None = None) -> int:
        """Store one email per recipient; returns how many were new (0 for a repeated key)."""
        key = key or new_id()
        created = now_ms()
        state = "kept" if self.keeps_locally else "pending"
        stored = 0
        for address in email.to:
            doc = {"_id": new_id(), "key": f"{key}|{address.lower()}", "to": address, "subject": email.subject,
                   "text": email.text, "html": email.html, "attachments": [
                       {"filename": a.filename, "content_type": a.content_type, "content": a.content}
                       for a in email.attachments], "state": state, "attempts": 0, "tag": tag,
                   "due_ms": created, "created_ms": created, "lease_ms": 0, "claimed_by": None}
            try:
                await self._coll().insert_one(doc)
            except DuplicateKeyError:
                continue
            stored += 1
        if stored and self.keeps_locally:
            log.warning("no smtp_host configured: %d email(s) kept in the local outbox; read them with "
                        "`hubchat mail list`", stored)
        if stored:
            self._senders.wake()
        return stored

    async def list(self, *, tag: str | None = None, limit: int = 50) -> list[Document]:
        query: Document = {} if tag is None else {"tag": tag}
        cursor = self._coll().find(query).sort("created_ms", -1).limit(limit)
        return [doc async for doc in cursor]

    async def counts(self, tag: str) -> Mapping[str, int]:
        counts: dict[str, int] = {}
        async for doc in self._coll().find({"tag": tag}, {"state": 1}):
            counts[doc["state"]] = counts.get(doc["state"], 0) + 1
        return counts

    # ------------------------------------------------------------ sending
    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self.keeps_locally:
            yield
            return
        async with self._senders.running():
            yield

    async def _claim(self) -> Document | None:
        now = now_ms()
        due = {"$or": [{"state": "pending", "due_ms": {"$lte": now}},
                       {"state": "sending", "lease_ms": {"$lte": now}}]}
        doc: Document | None = await self._coll().find_one_and_update(
            due, {"$set": {"state": "sending", "lease_ms": now + LEASE_MS, "claimed_by": self.node_id},
                  "$inc": {"attempts": 1}},
            sort=[("due_ms", 1)], return_document=ReturnDocument.AFTER)
        return doc

    async def _deliver(self, doc: Document) -> None:
        attachments = tuple(Attachment(a["filename"], a["content_type"], a["content"])
                            for a in doc.get("attachments") or [])
        email = Email(to=(doc["to"],), subject=doc["subject"], text=doc["text"], html=doc.get("html"),
                      attachments=attachments)
        mine = {"_id": doc["_id"], "claimed_by": self.node_id, "state": "sending"}
        try:
            await self._mailer().send_once(email)
        except asyncio.CancelledError:
            raise
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            attempts = int(doc.get("attempts", 1))
            give_up = not is_temporary(exc) or attempts >= self.settings.mail_outbox_max_attempts
            change: Document = {"state": "failed" if give_up else "pending",
                                "last_error": f"{type(exc).__name__}"[:200], "lease_ms": 0}
            if not give_up:
                change["due_ms"] = now_ms() + backoff_ms(attempts, self.settings.mail_retry_base_delay_secs * 1000)
            await self._coll().update_one(mine, {"$set": change})
            if give_up:
                self.failed += 1
                await self._notify(doc, "failed")
                log.error("mail outbox: gave up on an email after %d attempt(s) (%s)", attempts, type(exc).__name__,
                          extra={"outbox_id": doc["_id"], "tag": doc.get("tag")})
            else:
                log.warning("mail outbox: attempt %d failed (%s); retrying", attempts, type(exc).__name__,
                            extra={"outbox_id": doc["_id"]})
            return
        await self._coll().update_one(mine, {"$set": {"state": "sent", "sent_ms": now_ms(), "lease_ms": 0}})
        self.sent += 1
        await self._notify(doc, "sent")
