"""Who hears what of one alert, decided from who they are *now* (``SosRooms`` with that check).

    Cell officers        ``cell:feed``, and the ``user:{id}`` room of every responder whose account
                         is an officer's (or an admin's) now: the alert as stored, duress included.
    office bearers       the ``user:{id}`` room of each responder and each dispatched bearer who is
                         still an active office bearer of the association they were told through:
                         the alert as they may believe it (``views.apparent``).  A bearer removed
                         from the association, or demoted, hears nothing more.
    the person           ``sos:{id}``: the person view, never anything after an accepted duress PIN.

A duress PIN that was accepted as a "cancel" (``covered``) reaches office bearers exactly once, at
that moment, as the cancel it pretends to be — the same event, view and timing a real cancel
gives them — and nothing reaches them about that alert afterwards, as after a real cancel.
"""

from __future__ import annotations

from hubchat.realtime import Realtime, user_room
from hubchat.sos.ports import Accounts, Directory
from hubchat.sos.rooms import FEED_ROOM, SosEvent, SosPayload, SosRooms, alert_room
from hubchat.sos.views import apparent, covered, full_view, limited_view, person_view
from hubchat.store import Document


class AudienceRooms(SosRooms):
    def __init__(self, realtime: Realtime, approx_km: float, accounts: Accounts, directory: Directory):
        super().__init__(realtime, approx_km)
        self.accounts = accounts
        self.directory = directory

    async def audience(self, alert: Document) -> tuple[list[str], list[str], list[Document]]:
        """(officer rooms, responder bearers' ids, dispatch entries of bearers told but not responders),
        each checked against the accounts and memberships now."""
        responders = list(alert.get("responders", []))
        staff = await self.accounts.active_staff(responders)
        bearer_entries = [e for e in alert.get("dispatch", [])
                          if e["role"] == "office_bearer" and e["user_id"] not in staff and e.get("association_id")]
        still = await self.directory.active_office_bearer_pairs(
            [(e["user_id"], e["association_id"]) for e in bearer_entries])
        allowed = {uid for uid, _ in still}
        bearer_responders = sorted(uid for uid in responders if uid not in staff and uid in allowed)
        told: list[Document] = []
        seen: set[str] = set()
        for entry in bearer_entries:
            uid = entry["user_id"]
            if uid in responders or uid in seen or (uid, entry["association_id"]) not in still:
                continue
            seen.add(uid)
            told.append(entry)
        return [FEED_ROOM, *(user_room(uid) for uid in sorted(staff))], bearer_responders, told

    async def to_team(self, event: SosEvent, data: SosPayload, alert: Document) -> None:
        """Officers and responders; office bearers among them only while they still are office
        bearers and never once a duress PIN made the alert look cancelled."""
        officers, bearer_responders, _ = await self.audience(alert)
        rooms = officers if covered(alert) else [*officers, *(user_room(uid) for uid in bearer_responders)]
        await self.emit(event, data, rooms)

    async def to_officers(self, alert: Document) -> None:
        """``sos:updated`` (full view) to the Cell only: a change nobody else may notice."""
        officers, _, _ = await self.audience(alert)
        await self.emit("sos:updated", full_view(alert), officers)

    async def updated(self, alert: Document, *, person: bool = True, bearers: bool = True,
                      cover_moment: bool = False) -> None:
        """``sos:updated`` to everyone who follows the alert, each in the view they may see.
        ``cover_moment``: the duress PIN was just accepted, the one time the cover goes out."""
        officers, bearer_responders, told = await self.audience(alert)
        outside = covered(alert) and not cover_moment
        seen = apparent(alert)
        if person and not outside:
            await self.emit("sos:updated", person_view(alert), alert_room(alert["_id"]))
        await self.emit("sos:updated", full_view(alert), officers)
        if outside:
            return
        if bearer_responders:
            await self.emit("sos:updated", full_view(seen), [user_room(uid) for uid in bearer_responders])
        if bearers:
            for entry in told:
                await self.emit("sos:updated", limited_view(seen, entry.get("distance_km"), approx_km=self.approx_km),
                                user_room(entry["user_id"]))
