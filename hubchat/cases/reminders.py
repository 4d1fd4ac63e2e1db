"""Follow-up reminders: every node runs the loop, each reminder fires exactly once.

A node takes a due reminder with one atomic update (``pending`` → ``firing`` with a lease, see
``CaseRepository.claim_reminder``), tells the case's owner now (``case:reminder`` to their
sockets, on every node) and by email through the durable outbox (key ``case-reminder:{id}``: a
redo mails nobody twice), then marks it ``fired``.  A node that dies mid-way leaves the lease to
expire and another node redoes it: at worst the owner's sockets hear it twice, the email goes
once.  Due times are read from the injected clock (a test advances it); the loop's pace is real.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from hubchat.background import cancel_and_wait, run_every
from hubchat.cases.ports import Accounts
from hubchat.cases.repository import CaseRepository
from hubchat.cases.views import case_view
from hubchat.clock import iso
from hubchat.infra import Infra
from hubchat.mail import Email
from hubchat.realtime import user_room
from hubchat.store import Document

log = logging.getLogger(__name__)

LEASE_MS = 60_000
BATCH = 50


class ReminderScheduler:
    def __init__(self, infra: Infra, repo: CaseRepository, accounts: Accounts):
        self.infra = infra
        self.repo = repo
        self.accounts = accounts
        self.fired = 0
        self.passes = 0  # passes finished on this node (a test waits on it, not on time)

    def _now_ms(self) -> int:
        return int(self.infra.clock.now().timestamp() * 1000)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run_forever(), name="hubchat-case-reminders")
        try:
            yield
        finally:
            await cancel_and_wait({task})

    async def run_forever(self) -> None:
        await run_every(self.infra.settings.cases_reminder_interval_secs, self.run_due, "case reminders pass")

    async def run_due(self) -> None:
        node = self.infra.realtime.node_id
        for _ in range(BATCH):
            reminder = await self.repo.claim_reminder(self._now_ms(), LEASE_MS, node)
            if reminder is None:
                break
            await self.fire(reminder)
            await self.repo.finish_reminder(reminder["_id"], node, self._now_ms())
            self.fired += 1
        self.passes += 1

    async def fire(self, reminder: Document) -> None:
        case = await self.repo.find(reminder["case_id"])
        if case is None or case["status"] == "closed":
            return
        owner = case["owner_id"]
        payload = {"reminder": {"id": reminder["_id"], "due_at": iso(reminder["due_at"]), "note": reminder.get("note")},
                   "case": case_view(case)}
        await self.infra.realtime.emit("case:reminder", payload, to=user_room(owner))
        emails = await self.accounts.emails_of([owner])
        if emails:
            text = "\n".join([
                "A follow-up is due on a case you own.", "",
                f"Case: {case['_id']}", f"Person: {case.get('person_name') or '-'}",
                f"Due: {iso(reminder['due_at'])}", f"Note: {reminder.get('note') or '-'}", "",
                self.infra.settings.public_url])
            await self.infra.outbox.enqueue(Email(to=tuple(emails), subject="Case follow-up due", text=text),
                                            key=f"case-reminder:{reminder['_id']}", tag=f"case-reminder:{case['_id']}")
