"""Trusted contacts are told of an SOS: raised, acknowledged by the Cell, closed.

Started by the SOS capability's ``TimelineEntryStored`` domain event (after the entry and the
alert are committed; wired in ``app.py``).  The handler only starts the work in the background,
so an SOS never waits for a contact's email.  What a timeline entry means to outsiders comes from
the ``AlertMoments`` port (``sos_link.py``: the alert as office bearers may know it), so a duress
"cancel" sends exactly what a real cancel sends, from the same point in the code and at the same
moment, and nothing afterwards.

Each email is stored in the durable outbox under ``safety-contact:{alert}:{kind}:{contact}``
(a redone step mails nobody twice), only to confirmed contacts, the location only to contacts the
person allowed it, within a per-address budget of ``sos_email_budget_per_hour`` (every node
together; an email over the budget is dropped and logged, never queued for later; when the
limiter is down the email goes out).

Like every domain event this is at most once per process: a node killed between the SOS write and
the outbox write (milliseconds) leaves that moment's contact emails unsent; the SOS itself, its
escalation and the Cell's emails are unaffected.  A graceful stop drains SOS first, then this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hubchat.config import Settings
from hubchat.errors import Unavailable
from hubchat.outbox import Outbox
from hubchat.ratelimit import RateLimiter
from hubchat.safety.emails import alert_email
from hubchat.safety.ports import AlertMoment, AlertMoments
from hubchat.safety.repository import SafetyRepository
from hubchat.store import Document

log = logging.getLogger(__name__)

BUDGET_WINDOW_SECS = 3600.0
TAG_PREFIX = "safety-contact:"
# the timeline entries that can be a contact's moment (raise, a transition, the duress "cancel");
# the rest (notes, locations, dispatch, emails …) are not even looked at
MOMENT_KINDS = frozenset({"created", "status", "duress"})


class ContactNotifier:
    def __init__(self, settings: Settings, repo: SafetyRepository, moments: AlertMoments, outbox: Outbox,
                 limiter: Callable[[], RateLimiter]):
        self.settings = settings
        self.repo = repo
        self.moments = moments
        self.outbox = outbox
        self._limiter = limiter
        self._background: set[asyncio.Task[None]] = set()
        self._stopped = False

    async def on_entry(self, entry: Document) -> None:
        """Domain event handler: start the work, return at once."""
        if entry.get("type") not in MOMENT_KINDS:
            return
        if self._stopped:  # shutting down: the store is closing (contacts are told at most once anyway)
            log.warning("trusted contacts: not emailed, the node is stopping",
                        extra={"alert_id": entry.get("alert_id")})
            return
        task = asyncio.get_running_loop().create_task(self._notify(entry), name="safety-contacts")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, *, stop: bool = False) -> None:
        """Wait for the work started so far (``stop``: and take no more, at shutdown)."""
        self._stopped = self._stopped or stop
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _notify(self, entry: Document) -> None:
        try:
            moment = await self.moments.moment(entry)
            if moment is None:
                return
            contacts = [c for c in await self.repo.contacts_of(moment.person_id) if c.get("confirmed_at") is not None]
            for contact in contacts:
                await self._send(moment, contact)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("trusted contacts: could not store the emails", extra={"alert_id": entry.get("alert_id")})

    async def _within_budget(self, address: str) -> bool:
        try:
            wait = await self._limiter().allow(f"safety:contact-mail:{address}",
                                               self.settings.sos_email_budget_per_hour, BUDGET_WINDOW_SECS)
        except Unavailable:
            return True  # a limit never costs an SOS email
        return wait == 0

    async def _send(self, moment: AlertMoment, contact: Document) -> None:
        if not await self._within_budget(contact["email"]):
            log.warning("trusted contact over the email budget: not emailed",
                        extra={"alert_id": moment.alert_id, "contact_id": contact["_id"], "kind": moment.kind})
            return
        location = moment.location if contact.get("may_receive_location") else None
        email = alert_email(contact, moment.kind, moment.person_name, moment.at, moment.closed_as, location)
        key = f"{TAG_PREFIX}{moment.alert_id}:{moment.kind}:{contact['_id']}"
        await self.outbox.enqueue(email, key=key, tag=f"{TAG_PREFIX}{moment.kind}")
