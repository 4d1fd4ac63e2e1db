"""SOS notes in the other language.

Every note a person writes (with the trigger, later, or with a transition) and every note of a
responder or officer is translated off the realtime path, at SOS priority, and the translation
is appended to the timeline as its own ``translation`` entry pointing at the note's ``seq`` —
the timeline stays append-only and the original stays what was written.  The team (officers and
acknowledged responders) gets it as ``sos:note_translated``.  Without a translation function
(or without a model and no phrasebook match) nothing is added.  It starts on the
``TimelineEntryStored`` domain event, which comes once the alert document exists.
"""

from __future__ import annotations

import logging

from hubchat.domain_events import DomainEvents
from hubchat.sos.ports import TranslateNote
from hubchat.sos.repository import AlertRepository, TimelineEntryStored
from hubchat.sos.rooms import SosRooms
from hubchat.sos.views import event_view
from hubchat.store import Document

log = logging.getLogger(__name__)

UNTRANSLATED_KINDS = frozenset({"translation"})


class NoteTranslator:
    def __init__(self, repo: AlertRepository, rooms: SosRooms, events: DomainEvents,
                 translate: TranslateNote | None = None):
        self.repo = repo
        self.rooms = rooms
        self.translate = translate
        if translate is not None:
            events.subscribe(TimelineEntryStored, self.on_entry)

    async def on_entry(self, stored: TimelineEntryStored) -> None:
        """Every stored timeline entry: the notes of people (not the system's) are translated in
        the background."""
        event = stored.entry
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
        alert = await self.repo.find(event["alert_id"])  # as it is now: its team may have changed
        if alert is None:
            log.warning("note translated for an alert that is gone", extra={"alert_id": event["alert_id"]})
            return
        entry = await self.repo.add(alert["_id"], "translation", None, note=result.text, data={
            "of_seq": event["seq"], "lang": result.target_lang, "engine": result.engine,
            "model_version": result.model_version, "unvetted": result.unvetted, "similar": result.similar})
        await self.rooms.to_team("sos:note_translated", {"alert_id": alert["_id"], "event": event_view(entry)}, alert)
