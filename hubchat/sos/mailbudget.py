"""A budget of SOS emails per recipient, so that no account can mail-bomb the Cell.

Every SOS email (``trigger``, ``t1``, ``t2``, ``duress``) to one address first asks the shared
limiter (every node together) for one of ``sos_email_budget_per_hour`` slots of that address.
Within the budget the email goes out as always.  Beyond it nothing is dropped: the alert and step
are queued for that address (collection ``sos_mail_digest``) and coalesced into one *digest*
email — "N more SOS alerts", each with its category, why, time, duress and link — sent at most
once every ``sos_email_digest_secs`` per address.  The first digest goes at once; later ones
gather what arrived meanwhile.  The escalation scheduler flushes due digests on every pass, on
every node: the node that gets the address's digest slot claims everything waiting for it (each
queued item is claimed by exactly one node, under one claim token) and hands the digest to the
durable mail outbox under the key ``sos-digest:{token}``, which sends it with retries and
backoff, across SMTP outages and restarts.  A node that dies between the claim and the hand-over
leaves its claim to go stale; any node then hands the same items over under the same token, and
the outbox's unique key stores that digest once.  When the outbox reports the digest sent (or
given up), its alerts' timelines say so and the items are deleted.

When the limiter is unavailable the email goes out directly: a limit must never cost an alert.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from pymongo import ReturnDocument

from hubchat.clock import iso, utcnow
from hubchat.config import Settings
from hubchat.errors import Unavailable
from hubchat.mail import Email
from hubchat.outbox import Outbox
from hubchat.ratelimit import RateLimiter
from hubchat.schema import new_id
from hubchat.sos.emails import STEP_REASONS, alert_link
from hubchat.sos.metrics import SosMetrics
from hubchat.sos.repository import MAIL_DIGEST as DIGEST
from hubchat.sos.repository import AlertRepository
from hubchat.store import Document

log = logging.getLogger(__name__)

BUDGET_WINDOW_SECS = 3600.0
MAX_DIGEST_ITEMS = 200  # per address and digest; the rest go in the next one
MAX_ADDRESSES_PER_PASS = 100
RECHECK_SECS = 5.0  # a digest not yet allowed: this node asks again this soon
STALE_CLAIM_SECS = 60.0  # a claim not handed to the outbox by then: its node died; hand it over again
DIGEST_TAG_PREFIX = "sos-digest:"  # outbox tag and key: sos-digest:{claim token}


def digest_email(address: str, items: list[Document], budget: int, digest_secs: float, public_url: str) -> Email:
    duress = sum(1 for i in items if i.get("duress"))
    subject = f"[SOS] {len(items)} more alert{'s' if len(items) != 1 else ''}" + (
        f" ({duress} DURESS)" if duress else "") + " — email limit reached"
    lines = [f"You have had the {budget} SOS emails allowed per hour. Further SOS emails are collected",
             f"here, at most one message every {int(digest_secs // 60) or 1} minute(s). Nothing is left out:",
             "every alert below is live in the hubchat console.", ""]
    for item in items:
        flag = " DURESS" if item.get("duress") else ""
        lines += [f"*{flag} {str(item.get('category', '?')).replace('_', ' ').upper()} alert raised "
                  f"{iso(item.get('raised_at'))} — {STEP_REASONS.get(item['step'], item['step'])}",
                  f"  {alert_link(public_url, item['alert_id'])}"]
    return Email(to=(address,), subject=subject, text="\n".join(lines) + "\n")


class MailBudget:
    def __init__(self, settings: Settings, repo: AlertRepository, limiter: Callable[[], RateLimiter],
                 outbox: Outbox, metrics: SosMetrics):
        self.settings = settings
        self.repo = repo
        self._limiter = limiter
        self.outbox = outbox
        self.metrics = metrics
        self._held: dict[str, float] = {}  # address -> when to ask for its digest slot again (this node)
        outbox.on_outcome(DIGEST_TAG_PREFIX, self.on_digest_outcome)

    async def _allow(self, key: str, limit: int, window_secs: float) -> bool:
        try:
            return await self._limiter().allow(key, limit, window_secs) == 0
        except Unavailable:
            self.metrics.limiter_down.inc()
            return True

    async def admit(self, address: str) -> bool:
        """One of this address's emails for the hour, or False: queue it for the digest."""
        return await self._allow(f"sos:mail:{address}", self.settings.sos_email_budget_per_hour, BUDGET_WINDOW_SECS)

    async def queue(self, alert: Document, step: str, addresses: list[str]) -> None:
        now = utcnow()
        for address in addresses:
            await self.repo.coll(DIGEST).insert_one({
                "_id": new_id(), "address": address, "alert_id": alert["_id"], "step": step,
                "category": alert.get("category"), "duress": bool(alert.get("duress")),
                "raised_at": alert.get("created_at"), "at": now, "due_at": now, "claim": None})
        self.metrics.emails.labels(step, "coalesced").inc(len(addresses))
        await self.repo.add(alert["_id"], "email_coalesced", None, data={"step": step, "recipients": len(addresses)})

    async def flush(self) -> None:
        """Hand every due digest to the outbox (each queued item by exactly one node), and hand over
        again the claims of a node that died before it could."""
        now = utcnow()
        await self._hand_over_stale(now)
        cursor = self.repo.coll(DIGEST).find({"claim": None, "due_at": {"$lte": now}}, {"address": 1})
        addresses: list[str] = []
        async for doc in cursor:
            if doc["address"] not in addresses:
                addresses.append(doc["address"])
            if len(addresses) >= MAX_ADDRESSES_PER_PASS:
                break
        for address in addresses:
            await self._flush_one(address, now)

    async def _flush_one(self, address: str, now: dt.datetime) -> None:
        """The digest slot first (shared by every node), then everything still waiting for this
        address: whoever holds the slot sends all of it, so nothing waits a whole interval more."""
        digest_secs = max(self.settings.sos_email_digest_secs, 1.0)
        if self._held.get(address, 0.0) > time.monotonic():
            return
        if not await self._allow(f"sos:mail-digest:{address}", 1, digest_secs):
            self._held[address] = time.monotonic() + RECHECK_SECS
            return
        self._held.pop(address, None)
        token = new_id()
        items: list[Document] = []
        for _ in range(MAX_DIGEST_ITEMS):
            item = await self.repo.coll(DIGEST).find_one_and_update(
                {"address": address, "claim": None}, {"$set": {"claim": token, "claimed_at": utcnow()}},
                return_document=ReturnDocument.AFTER)
            if item is None:
                break
            items.append(item)
        if items:
            await self._hand_over(address, token, items)

    async def _hand_over(self, address: str, token: str, items: list[Document]) -> None:
        """Store the digest of these claimed items in the outbox (once per token), then mark them."""
        items.sort(key=lambda i: (i["at"], i["_id"]))
        digest_secs = max(self.settings.sos_email_digest_secs, 1.0)
        email = digest_email(address, items, self.settings.sos_email_budget_per_hour, digest_secs,
                             self.settings.public_url)
        tag = f"{DIGEST_TAG_PREFIX}{token}"
        await self.outbox.enqueue(email, key=tag, tag=tag)
        await self.repo.coll(DIGEST).update_many({"claim": token}, {"$set": {"handed_at": utcnow()}})
        if self.outbox.keeps_locally:
            for alert_id in dict.fromkeys(i["alert_id"] for i in items):
                await self.repo.add(alert_id, "email_failed", None, data={
                    "step": "digest", "recipients": 1, "reason": "no smtp_host: kept in the local outbox"})
            await self.repo.coll(DIGEST).delete_many({"claim": token})

    async def _hand_over_stale(self, now: dt.datetime) -> None:
        stale_before = now - dt.timedelta(seconds=STALE_CLAIM_SECS)
        cursor = self.repo.coll(DIGEST).find({"claim": {"$ne": None}, "handed_at": None,
                                              "claimed_at": {"$lte": stale_before}})
        claims: dict[tuple[str, str], list[Document]] = {}
        async for item in cursor:
            claims.setdefault((item["address"], item["claim"]), []).append(item)
        for (address, token), items in claims.items():
            log.warning("sos digest claimed by a node that stopped: handed over again", extra={"claim": token})
            await self._hand_over(address, token, items)

    async def on_digest_outcome(self, doc: Document, outcome: str) -> None:
        """Outbox listener: a digest was delivered or given up; its alerts' timelines say so."""
        token = str(doc["tag"])[len(DIGEST_TAG_PREFIX):]
        self.metrics.emails.labels("digest", outcome).inc()
        kind = "email_sent" if outcome == "sent" else "email_failed"
        alert_ids = [item["alert_id"] async for item in self.repo.coll(DIGEST).find({"claim": token})]
        for alert_id in dict.fromkeys(alert_ids):
            await self.repo.add(alert_id, kind, None, data={"step": "digest", "recipients": 1})
        await self.repo.coll(DIGEST).delete_many({"claim": token})
