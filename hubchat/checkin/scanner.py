"""The jobs a timer has after it is set, run by every node, each exactly once across nodes.

    remind  remind_ms passed, deadline not yet (a reminder after it is pointless), timer
            active: ``checkin:reminder`` to the person's sockets and an
            email (outbox key ``checkin-reminder:{id}``: stored once whoever sends it)
    fire    due_ms passed, timer still active: an SOS raised through the normal trigger path
            (``bridge.SosBridge.raise_missed``), then the timer is ``missed``
    duress  the duress PIN ended the timer (or was typed during a PIN lockout): the silent alert
            (``raise_duress``), then ``duress_state: raised``

Every node polls every ``checkin_scan_interval_secs``: equality reads on indexed fields (the
active, firing and duress-pending timers), the rules in Python, then each job is claimed with
one ``find_one_and_update`` conditioned on the state it was read in, setting a lease.  One node
wins; the others find the job taken.  A node that dies after claiming leaves the lease to run
out (``LEASE_MS`` on the injected clock) and another node claims the job again and redoes it:
the SOS trigger is idempotent on the ``client_sos_id`` derived from the timer, and the place it
reports is stored with the claim before the first attempt, so a redo answers the one alert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from hubchat.background import run_every
from hubchat.checkin.ports import Alerts
from hubchat.checkin.repository import CheckinRepository
from hubchat.clock import Clock
from hubchat.schema import new_id
from hubchat.store import Document

log = logging.getLogger(__name__)

LEASE_MS = 30_000

Remind = Callable[[Document], Awaitable[None]]
Fired = Callable[[Document], Awaitable[None]]


def ms(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


class CheckinScanner:
    def __init__(self, repo: CheckinRepository, alerts: Alerts, clock: Clock, node_id: str, interval_secs: float,
                 remind: Remind, fired: Fired):
        self.repo = repo
        self.alerts = alerts
        self.clock = clock
        self.node_id = node_id
        self.interval_secs = max(interval_secs, 0.01)
        self.remind = remind  # tells the person (sockets, email)
        self.fired = fired  # tells the person's sockets the timer is missed
        self.passes = 0  # finished passes on this node (a test waits on it, not on time)
        self.fired_here = 0

    async def run_forever(self) -> None:
        await run_every(self.interval_secs, self.run_due, "check-in scan")

    async def run_due(self) -> None:
        now = ms(self.clock)
        active = await self.repo.where("status", "active")
        firing = await self.repo.where("status", "firing")
        duress = [*await self.repo.where("duress_state", "pending"), *await self.repo.where("duress_state", "claimed")]
        for doc in duress:
            if doc["duress_state"] == "pending" or doc.get("duress_lease_ms", 0) <= now:
                await _logged(self.raise_duress(doc["_id"]), doc["_id"])
        for doc in active:
            if doc.get("remind_ms") is not None and doc["remind_ms"] <= now < doc["due_ms"] and doc.get(
                    "remind_state") in ("waiting", "claimed") and (doc["remind_state"] == "waiting"
                                                                   or doc.get("lease_ms", 0) <= now):
                await _logged(self.send_reminder(doc["_id"]), doc["_id"])
            if doc["due_ms"] <= now:
                await _logged(self.fire(doc["_id"]), doc["_id"])
        for doc in firing:
            if doc.get("lease_ms", 0) <= now:
                await _logged(self.fire(doc["_id"]), doc["_id"])
        self.passes += 1

    # ------------------------------------------------------------ a missed deadline
    async def fire(self, checkin_id: str) -> Document | None:
        """Claim the timer's deadline and raise its SOS; the timer after, or None (not ours)."""
        now = ms(self.clock)
        token = new_id()
        claimed = await self.repo.update(
            {"_id": checkin_id, "$or": [{"status": "active", "due_ms": {"$lte": now}},
                                        {"status": "firing", "lease_ms": {"$lte": now}}]},
            {"$set": {"status": "firing", "active_key": f"closed:{checkin_id}", "claim": token,
                      "lease_ms": now + LEASE_MS, "node": self.node_id}})
        if claimed is None:
            return None
        if "fire_location" not in claimed:
            # chosen once, before the first attempt: a redo must send the very same trigger
            location = claimed.get("location") or await self.alerts.last_location(claimed["user_id"])
            kept = await self.repo.update({"_id": checkin_id, "claim": token}, {"$set": {"fire_location": location}})
            if kept is None:
                return None
            claimed = kept
        log.warning("check-in deadline missed: raising an SOS", extra={"checkin_id": checkin_id})
        alert = await self.alerts.raise_missed(claimed, claimed["fire_location"])
        done = await self.repo.update({"_id": checkin_id, "claim": token, "status": "firing"},
                                      {"$set": {"status": "missed", "alert_id": alert["_id"],
                                                "ended_at": self.clock.now(), "lease_ms": 0}})
        if done is not None:
            self.fired_here += 1
            await self.fired(done)
        return done

    # ------------------------------------------------------------ the reminder
    async def send_reminder(self, checkin_id: str) -> None:
        now = ms(self.clock)
        token = new_id()
        claimed = await self.repo.update(
            {"_id": checkin_id, "status": "active", "remind_ms": {"$lte": now}, "due_ms": {"$gt": now},
             "$or": [{"remind_state": "waiting"}, {"remind_state": "claimed", "lease_ms": {"$lte": now}}]},
            {"$set": {"remind_state": "claimed", "claim": token, "lease_ms": now + LEASE_MS, "node": self.node_id}})
        if claimed is None:
            return
        await self.remind(claimed)
        await self.repo.update({"_id": checkin_id, "claim": token, "remind_state": "claimed"},
                               {"$set": {"remind_state": "sent", "lease_ms": 0}})

    # ------------------------------------------------------------ the duress PIN
    def kick_duress(self, checkin_id: str, spawn: Callable[[Coroutine[Any, Any, None], str], None]) -> None:
        async def run() -> None:
            await self.raise_duress(checkin_id)
        spawn(run(), "checkin-duress")

    async def raise_duress(self, checkin_id: str) -> Document | None:
        now = ms(self.clock)
        token = new_id()
        claimed = await self.repo.update(
            {"_id": checkin_id, "$or": [{"duress_state": "pending"},
                                        {"duress_state": "claimed", "duress_lease_ms": {"$lte": now}}]},
            {"$set": {"duress_state": "claimed", "duress_claim": token, "duress_lease_ms": now + LEASE_MS}})
        if claimed is None:
            return None
        if "duress_location" not in claimed:
            location = claimed.get("location") or await self.alerts.last_location(claimed["user_id"])
            kept = await self.repo.update({"_id": checkin_id, "duress_claim": token},
                                          {"$set": {"duress_location": location}})
            if kept is None:
                return None
            claimed = kept
        log.warning("check-in ended with the duress PIN: silent alert", extra={"checkin_id": checkin_id})
        alert = await self.alerts.raise_duress(claimed, claimed["duress_location"])
        return await self.repo.update({"_id": checkin_id, "duress_claim": token, "duress_state": "claimed"},
                                      {"$set": {"duress_state": "raised", "duress_alert_id": alert["_id"],
                                                "duress_lease_ms": 0}})


async def _logged(work: Coroutine[Any, Any, object], checkin_id: str) -> None:
    """One timer's failure must not hold up the others (its job is claimed again after the lease)."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("check-in job failed; it will be retried", extra={"checkin_id": checkin_id})
