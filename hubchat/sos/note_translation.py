"""SOS notes in the other language.

Every note a person writes (with the trigger, later, or with a transition) and every note of a
responder or officer is translated off the realtime path, at SOS priority, and the translation
is appended to the timeline as its own ``translation`` entry pointing at the note's ``seq`` —
the timeline stays append-only and the original stays what was written.  The team (officers and
acknowledged responders) gets it as ``sos:note_translated``.  Without a translation function
(or without a model and no phrasebook match) nothing is added.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hubchat.sos.repository import AlertRepository
from hubchat.sos.rooms import SosRooms
from hubchat.sos.views import event_view
from hubchat.store import Document

log = logging.getLogger(__name__)

# (text, declared language or None: the detector decides) -> a result with status, text,
# target_lang, engine, model_version, unvetted and similar (hubchat.translate.models.TranslationResult).
TranslateText = Callable[[str, str | None], Awaitable[Any]]
UNTRANSLATED_KINDS = frozenset({"translation"})
ALERT_WAIT_TRIES = 50
ALERT_WAIT_STEP_SECS = 0.1


class NoteTranslator:
    def __init__(self, repo: AlertRepository, rooms: SosRooms):
        self.repo = repo
        self.rooms = rooms
        self.translate: TranslateText | None = None
        repo.event_listeners.append(self.submit)

    def submit(self, event: Document) -> None:
        """Called for every stored timeline entry; translates the notes of people (not the system's)."""
        if self.translate is None or not event.get("note") or event.get("actor") is None:
            return
        if event["type"] in UNTRANSLATED_KINDS:
            return
        self.rooms.spawn(self._translate(event), "sos-note-translation")

    async def _translate(self, event: Document) -> None:
        assert self.translate is not None
        result = await self.translate(event["note"], None)
        if result.status != "done":
            return
        alert = await self._alert(event["alert_id"])
        if alert is None:
            log.warning("note translated for an alert that was never stored", extra={"alert_id": event["alert_id"]})
            return
        entry = await self.repo.add(alert["_id"], "translation", None, note=result.text, data={
            "of_seq": event["seq"], "lang": result.target_lang, "engine": result.engine,
            "model_version": result.model_version, "unvetted": result.unvetted, "similar": result.similar})
        await self.rooms.to_team("sos:note_translated", {"alert_id": alert["_id"], "event": event_view(entry)}, alert)

    async def _alert(self, alert_id: str) -> Document | None:
        # A trigger writes its first timeline entry just before the alert document itself.
        for _ in range(ALERT_WAIT_TRIES):
            alert = await self.repo.find(alert_id)
            if alert is not None:
                return alert
            await asyncio.sleep(ALERT_WAIT_STEP_SECS)
        return None
