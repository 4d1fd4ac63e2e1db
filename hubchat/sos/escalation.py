"""Escalation: what happens when nobody acknowledges an alert, run by every node, once per step.

State lives in the alert document, so any node can carry on after another stops:

    escalation: {level: 0|1|2,          steps claimed so far (0: the initial dispatch)
                 next_at: datetime|None, when the next step is due (None: no step left, or
                                         acknowledged)
                 done: bool,             the claimed level's work has finished
                 claim, claimed_at, node the claim token, when and by which node
                 emailed_at: {step: datetime}}

    level 0  at trigger: dispatch round 1; when no officer is reachable live (nobody on duty, or
             every on-duty officer without a connected socket for longer than
             ``sos_duty_grace_secs``, see ``duty``), email the escalation list and every officer at
             once (step ``trigger``; timeline ``no_officer_reachable`` says why)
    level 1  at created_at + sos_t1_secs, still open: email the on-duty officers (nobody on duty:
             every officer and the escalation list), dispatch round 2 (sos_escalation_radius_km)
    level 2  at created_at + sos_t2_secs, still open: email the escalation list (empty: every
             officer), dispatch round 3 (the whole country)

A duress PIN sends one ``duress`` email to the on-duty officers and the escalation list.  When it
was accepted as a "cancel" (``views.covered``) the remaining steps become due at once and reach
officers only: no office bearer is told anything more (to them the alert was cancelled).  A
duress PIN entered during a PIN lockout changes nothing anyone outside the Cell can see: the
steps keep their times and run as for any open alert.  Escalation stops once a Cell officer
acknowledges the alert or it is closed — an office bearer's acknowledgement ("association
responding") does not stop it; a covered duress alert keeps escalating until level 2 even if
acknowledged.

Due times and claims are read from the injected clock (``infra.clock``: the system clock, or a
test's ManualClock that makes a step due by advancing it); the scheduler's pace stays real time.

Exactly once: every node polls every ``sos_scheduler_interval_secs`` for due steps and claims one
with a single ``find_one_and_update`` conditioned on the alert's version and current level, so
one node wins and the others see the step taken.  A claim whose work has not finished after
``STEP_STALE_SECS`` (its node died) is claimed again and redone: dispatch tells only people not yet
told, so a redo after a crash can at worst repeat an email.  Emails go out in background tasks
with the mailer's retry and backoff; ``email_sent``/``email_failed`` land on the timeline.  Each
recipient has a budget of SOS emails per hour (``mailbudget``): beyond it the email is coalesced
into a digest (``email_coalesced`` on the timeline), never dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Coroutine
from typing import Any

from hubchat.background import run_every
from hubchat.clock import Clock, SystemClock
from hubchat.config import Settings
from hubchat.outbox import Outbox
from hubchat.schema import new_id
from hubchat.sos.dispatch import Dispatcher
from hubchat.sos.duty import DutyRoster
from hubchat.sos.emails import escalation_email
from hubchat.sos.mailbudget import MailBudget
from hubchat.sos.metrics import SosMetrics
from hubchat.sos.models import OPEN_STATUSES
from hubchat.sos.ports import Accounts
from hubchat.sos.repository import AlertRepository
from hubchat.sos.rooms import SosRooms
from hubchat.sos.views import covered
from hubchat.store import AGAIN, Again, Document, retry_on_conflict

log = logging.getLogger(__name__)

EMAIL_TAG_PREFIX = "sos-email:"  # outbox tag: sos-email:{alert_id}:{step}
# Why the ``trigger`` email went out (its subject and first line).
TRIGGER_REASONS = {"nobody_on_duty": "nobody is on duty", "none_connected": "no on-duty officer is connected"}

MAX_LEVEL = 2
STEP_NAMES = {1: "t1", 2: "t2"}
STEP_STALE_SECS = 10.0
DUE_BATCH = 100
OPEN_SCAN_LIMIT = 5000  # open alerts read per status and pass (far above any real emergency load)
CLAIM_ATTEMPTS = 10


def initial_state(now: dt.datetime, settings: Settings, node: str) -> Document:
    """The escalation state of a new alert: level 0 claimed by the node that stores it."""
    return {"level": 0, "next_at": now + dt.timedelta(seconds=settings.sos_t1_secs), "done": False,
            "claim": new_id(), "claimed_at": now, "node": node, "emailed_at": {}}


def escalating(alert: Document) -> bool:
    if alert["status"] not in OPEN_STATUSES:
        return False
    return covered(alert) or not alert.get("cell_acknowledged_by")


def is_due(alert: Document, now: dt.datetime) -> bool:
    esc = alert.get("escalation") or {}
    next_at = esc.get("next_at")
    return (escalating(alert) and bool(esc.get("done")) and esc.get("level", 0) < MAX_LEVEL
            and isinstance(next_at, dt.datetime) and next_at <= now)


def is_stale(alert: Document, now: dt.datetime) -> bool:
    esc = alert.get("escalation") or {}
    claimed_at = esc.get("claimed_at")
    return (alert["status"] in OPEN_STATUSES and not esc.get("done", True) and isinstance(claimed_at, dt.datetime)
            and claimed_at <= now - dt.timedelta(seconds=STEP_STALE_SECS))


class Escalator:
    def __init__(self, settings: Settings, repo: AlertRepository, accounts: Accounts, dispatcher: Dispatcher,
                 duty: DutyRoster, rooms: SosRooms, outbox: Outbox, node_id: str, metrics: SosMetrics,
                 budget: MailBudget, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or SystemClock()  # due times and claims; the loop's pace is real time
        self.repo = repo
        self.accounts = accounts
        self.dispatcher = dispatcher
        self.duty = duty
        self.rooms = rooms
        self.outbox = outbox
        outbox.on_outcome(EMAIL_TAG_PREFIX, self.on_email_outcome)
        self.node_id = node_id
        self.metrics = metrics
        self.budget = budget
        self.steps_run = 0
        self.passes = 0  # scheduler passes finished on this node (a test waits on it, not on time)

    # ------------------------------------------------------------ the loop
    async def run_forever(self) -> None:
        await run_every(self.settings.sos_scheduler_interval_secs, self.run_due, "sos escalation pass")

    async def run_due(self) -> None:
        """One pass: every due step and every stale claim, each taken by at most one node."""
        now = self.clock.now()
        # One equality query per open status (each an index search on both backends; the
        # embedded store cannot serve $in or a datetime range from an index), then the rules in
        # Python: the cost follows the open alerts, not the alerts ever stored.
        open_alerts: list[Document] = []
        for status in sorted(OPEN_STATUSES):
            open_alerts += await self.repo.find_many({"status": status}, limit=OPEN_SCAN_LIMIT)
        due = [a for a in open_alerts if is_due(a, now)][:DUE_BATCH]
        stale = [a for a in open_alerts if is_stale(a, now)][:DUE_BATCH]
        for doc in stale:
            await self._skip_on_error(self.recover(doc["_id"]), doc["_id"])
        for doc in due:
            await self._skip_on_error(self.process(doc["_id"]), doc["_id"])
        await self.budget.flush()
        self.passes += 1

    @staticmethod
    async def _skip_on_error(work: Coroutine[Any, Any, None], alert_id: str) -> None:
        """One alert's failure must not hold up the others' escalation (its step is retried)."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sos escalation failed for one alert; it will be retried", extra={"alert_id": alert_id})

    def kick(self, alert_id: str) -> None:
        """Run due steps of this alert now, off the caller's path (duress)."""
        self.rooms.spawn(self.process(alert_id), "sos-escalation-kick")

    # ------------------------------------------------------------ claims
    async def process(self, alert_id: str) -> None:
        """Claim and run this alert's due steps, one after the other, until none is due."""
        for _ in range(MAX_LEVEL):
            token = new_id()
            claimed = await self._claim(alert_id, token)
            if claimed is None:
                return
            await self._run(claimed, token)

    async def _claim(self, alert_id: str, token: str) -> Document | None:
        """The alert with its next step claimed for ``token``; None when no step is due (or other
        nodes kept writing the alert: the next pass tries again)."""

        async def attempt() -> Document | None | Again:
            alert = await self.repo.find(alert_id)
            now = self.clock.now()
            if alert is None or not is_due(alert, now):
                return None
            esc = alert["escalation"]
            level = esc["level"] + 1
            follow = None
            if level < MAX_LEVEL:
                t2 = alert["created_at"] + dt.timedelta(seconds=self.settings.sos_t2_secs)
                follow = now if covered(alert) else t2
            claimed = await self.repo.update(
                {"_id": alert_id, "version": alert["version"], "escalation.level": esc["level"],
                 "escalation.done": True},
                {"$set": _fields(level=level, next_at=follow, done=False, claim=token, claimed_at=now,
                                 node=self.node_id)})
            return AGAIN if claimed is None else claimed

        return await retry_on_conflict(attempt, attempts=CLAIM_ATTEMPTS)

    async def recover(self, alert_id: str) -> None:
        """Claim again a step whose node stopped before finishing it, and redo it."""
        token = new_id()
        now = self.clock.now()

        def reclaim(alert: Document) -> Document | None:
            if not is_stale(alert, now):
                return None
            return {"$set": _fields(claim=token, claimed_at=now, node=self.node_id)}

        written = await self.repo.mutate(alert_id, reclaim)
        if written is not None:
            log.warning("sos escalation: redoing a stale step", extra={"alert_id": alert_id})
            await self._run(written[1], token)

    async def _run(self, alert: Document, token: str) -> None:
        # A step that fails is not marked done: after STEP_STALE_SECS some node claims it again.
        level = alert["escalation"]["level"]
        if level == 0:
            await self._initial(alert)
        elif escalating(alert):
            await self._escalate(alert, level)
        await self._finish(alert["_id"], token)
        self.steps_run += 1
        self.metrics.steps.labels(str(level)).inc()

    async def _finish(self, alert_id: str, token: str) -> None:
        def done(alert: Document) -> Document | None:
            esc = alert.get("escalation") or {}
            if esc.get("claim") != token or esc.get("done"):
                return None
            return {"$set": _fields(done=True)}

        await self.repo.mutate(alert_id, done)

    async def complete_initial(self, alert: Document) -> None:
        """Level 0 on the node that stored the alert, right after the trigger was answered."""
        await self._run(alert, alert["escalation"]["claim"])

    # ------------------------------------------------------------ the steps
    async def _initial(self, alert: Document) -> None:
        result = await self.dispatcher.run_round(alert["_id"], 1)
        if result is None:
            return
        after = result[0]
        officers = [e["user_id"] for e in after.get("dispatch", []) if e["role"] == "officer"]
        reachable, unreachable = await self.duty.reachability(officers) if officers else ([], [])
        if reachable:
            return
        # Nobody on duty, or every on-duty officer gone past the grace period: nobody sees the
        # feed live, so the Cell is emailed at once, and the timeline says why.
        reason = "none_connected" if unreachable else "nobody_on_duty"
        self.send(after, "trigger", await self._recipients("trigger"), reason=TRIGGER_REASONS[reason])
        await self.repo.add(after["_id"], "no_officer_reachable", None, data={
            "reason": reason, "on_duty": len(unreachable), "grace_secs": self.duty.grace_secs,
            "unreachable": [{"id": d["_id"], "display_name": d.get("display_name"),
                             "last_seen_at": d.get("last_seen_at")} for d in unreachable]})

    async def _escalate(self, alert: Document, level: int) -> None:
        reason = "duress" if covered(alert) else STEP_NAMES[level]
        await self.repo.add(alert["_id"], "escalation", None, data={"level": level, "reason": reason})
        if not alert.get("duress"):  # a duress alert had its one email when the PIN was entered
            step = STEP_NAMES[level]
            self.send(alert, step, await self._recipients(step))
        result = await self.dispatcher.run_round(alert["_id"], level + 1)
        if result is not None:
            await self.rooms.updated(result[0], person=False, bearers=False)

    async def on_duress(self, alert: Document, *, email: bool = True, run_steps: bool = True) -> None:
        """The duress PIN was entered: email the Cell at once; when it was accepted as a cancel,
        run every step left now (officers only)."""
        if email:
            self.send(alert, "duress", await self._recipients("duress"))
        if run_steps:
            self.kick(alert["_id"])

    # ------------------------------------------------------------ email
    async def _recipients(self, step: str) -> tuple[str, ...]:
        listed = [e.lower() for e in self.settings.escalation_emails]
        if step == "t1":
            chosen = await self._on_duty_emails() or [*await self._all_officer_emails(), *listed]
        elif step == "t2":
            chosen = listed or await self._all_officer_emails()
        elif step == "duress":
            chosen = [*(await self._on_duty_emails() or await self._all_officer_emails()), *listed]
        else:  # trigger: nobody on duty
            chosen = [*listed, *await self._all_officer_emails()]
        return tuple(dict.fromkeys(chosen))

    async def _on_duty_emails(self) -> list[str]:
        ids = await self.duty.on_duty_ids()
        if not ids:
            return []
        return await self.accounts.emails_of(ids)

    async def _all_officer_emails(self) -> list[str]:
        return await self.accounts.staff_emails()

    def send(self, alert: Document, step: str, recipients: tuple[str, ...], reason: str | None = None) -> None:
        """Email each recipient in the background; the outcome lands on the timeline."""
        self.rooms.spawn(self._send(alert, step, recipients, reason), f"sos-email-{step}")

    async def _send(self, alert: Document, step: str, recipients: tuple[str, ...], reason: str | None = None) -> None:
        alert_id = alert["_id"]
        if not recipients:
            log.error("sos escalation email %s: no recipients configured", step, extra={"alert_id": alert_id})
            self.metrics.emails.labels(step, "no_recipients").inc()
            await self.repo.add(alert_id, "email_failed", None, data={"step": step, "recipients": 0,
                                                                     "reason": "no recipients"})
            return
        public_url = self.settings.public_url
        admitted = [await self.budget.admit(address) for address in recipients]
        over = [address for address, ok in zip(recipients, admitted, strict=True) if not ok]
        recipients = tuple(address for address, ok in zip(recipients, admitted, strict=True) if ok)
        if over:  # coalesced into a digest, never dropped
            await self.budget.queue(alert, step, over)
            self.rooms.spawn(self.budget.flush(), "sos-email-digest")
        if not recipients:
            return
        # Stored in the durable outbox before anything is sent: one email per recipient under the
        # key of this step, so a step redone (a node died, a restart) mails nobody twice, and an
        # SMTP outage only delays it.  The outcome reaches the timeline from the sending node.
        tag = f"{EMAIL_TAG_PREFIX}{alert_id}:{step}"
        for address in recipients:
            await self.outbox.enqueue(escalation_email(alert, step, (address,), public_url, reason), key=tag, tag=tag)
        if self.outbox.keeps_locally:
            await self.repo.add(alert_id, "email_failed", None, data={
                "step": step, "recipients": len(recipients), "reason": "no smtp_host: kept in the local outbox"})

    async def on_email_outcome(self, doc: Document, outcome: str) -> None:
        """Outbox listener: an escalation email was delivered or given up."""
        _, alert_id, step = str(doc["tag"]).split(":", 2)
        self.metrics.emails.labels(step, outcome).inc()
        kind = "email_sent" if outcome == "sent" else "email_failed"
        await self.repo.add(alert_id, kind, None, data={"step": step, "recipients": 1})
        if outcome == "sent":
            await self._mark_emailed(alert_id, step)

    async def _mark_emailed(self, alert_id: str, step: str) -> None:
        now = self.clock.now()

        def mark(alert: Document) -> Document | None:
            return {"$set": {f"escalation.emailed_at.{step}": now}}

        # quiet: an email (a duress one above all) must not show as a new version to anyone
        await self.repo.mutate(alert_id, mark, quiet=True)


def _fields(**values: Any) -> Document:
    """``$set`` of single fields of ``escalation``: a claim, a reclaim, a finish and an email's
    record each write only their own fields, so none overwrites another's (an email's
    ``emailed_at`` is written quietly, without a new version, and a claim that read the alert just
    before must not wipe it)."""
    return {f"escalation.{name}": value for name, value in values.items()}
