"""SosService: the SOS capability's one entry point, composed of small parts.

    triggers    raise an alert (idempotent, one open alert per person, stored first)
    actions     transitions, notes, live location, cancel and duress
    dispatch    who is told, round by round
    escalation  the scheduler every node runs; emails
    duty        the duty roster and the live feed room
    reads       feed, pages, details, timeline, exports, audit
    history     the person's own closed alerts (person views only)

Socket handlers (``events``) and HTTP routes (``routes``) call only the methods here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from hubchat.background import cancel_and_wait
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.sos.actions import AlertActions
from hubchat.sos.audience import AudienceRooms
from hubchat.sos.dispatch import Dispatcher
from hubchat.sos.duty import DutyRoster
from hubchat.sos.escalation import Escalator
from hubchat.sos.history import PersonHistory
from hubchat.sos.mailbudget import MailBudget
from hubchat.sos.metrics import SosMetrics
from hubchat.sos.note_translation import NoteTranslator
from hubchat.sos.ports import Accounts, Directory, TranslateNote
from hubchat.sos.reads import AlertReads
from hubchat.sos.repository import AlertRepository
from hubchat.sos.rooms import FEED_ROOM, alert_room
from hubchat.sos.triggers import TriggerHandler

log = logging.getLogger(__name__)


class SosService:
    def __init__(self, infra: Infra, accounts: Accounts, directory: Directory,
                 translate_note: TranslateNote | None = None):
        """``translate_note``: translates people's notes onto the timeline (none: notes stay as written)."""
        self.infra = infra
        settings = infra.settings
        self.repo = AlertRepository(infra)
        self.metrics = SosMetrics(infra.metrics.registry)
        self.rooms = AudienceRooms(infra.realtime, settings.sos_approx_area_km, accounts, directory)
        self.duty = DutyRoster(self.repo, accounts, self.rooms, lambda: infra.presence, settings.sos_duty_grace_secs)
        self.dispatcher = Dispatcher(settings, self.repo, directory, self.duty, self.rooms, self.metrics)
        self.mail_budget = MailBudget(settings, self.repo, lambda: infra.limiter, infra.outbox, self.metrics)
        self.escalator = Escalator(settings, self.repo, accounts, self.dispatcher, self.duty, self.rooms,
                                   infra.outbox, infra.realtime.node_id, self.metrics, self.mail_budget,
                                   clock=infra.clock)
        self.actions = AlertActions(settings, self.repo, accounts, directory, lambda: infra.limiter, self.rooms,
                                    self.escalator, self.metrics)
        self.triggers = TriggerHandler(settings, self.repo, accounts, infra.realtime, self.rooms, self.escalator,
                                       self.metrics, lambda: infra.limiter, coalesce=self.actions.coalesced,
                                       urgent=infra.admission.urgent)
        self.reads = AlertReads(settings, self.repo, directory, self.duty, self.rooms)
        self.history = PersonHistory(self.repo)  # the person's own closed alerts, as they saw them
        self.notes = NoteTranslator(self.repo, self.rooms, infra.events, translate_note)
        infra.realtime.connect_hooks.append(self.on_connect)
        infra.realtime.disconnect_hooks.append(self.duty.on_disconnect)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The escalation scheduler on this node; on exit, pending dispatches and emails are drained."""
        scheduler = asyncio.create_task(self.escalator.run_forever(), name="hubchat-sos-escalation")
        try:
            yield
        finally:
            await cancel_and_wait({scheduler})  # a driver may absorb one cancellation
            await self.rooms.drain()

    async def on_connect(self, principal: Principal, sid: str) -> None:
        """Connect hook: on-duty officers' sockets join the live feed (which is then told they are
        connected); a person with an open alert rejoins its room (a duress alert whose PIN was
        accepted is not open for the person)."""
        realtime = self.infra.realtime
        on_duty = principal.is_officer and await self.duty.is_on_duty(principal.user_id)
        if on_duty:
            await realtime.enter_room(sid, FEED_ROOM)
        alert = await self.repo.open_of(principal.user_id)
        if alert is not None:
            await realtime.enter_room(sid, alert_room(alert["_id"]))
        if on_duty:
            self.duty.on_connect(sid)
