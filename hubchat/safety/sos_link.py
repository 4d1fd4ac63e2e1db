"""The SOS capability as the safety capability reads it (``ports.Alerts`` and ``ports.AlertMoments``).

The one module of ``safety`` that knows SOS documents.  It reads through ``SosService.repo`` (the
owner's repository) and the SOS views' own rule of what outsiders may believe
(``views.apparent``, ``views.outsider_events``), so trusted contacts are told exactly what office
bearers are shown: a duress PIN accepted as a "cancel" is a cancel, at the same moment and with
the same content, and nothing after it; a duress PIN entered during a lockout tells them nothing.
"""

from __future__ import annotations

from hubchat.clock import iso
from hubchat.safety.ports import AlertMoment
from hubchat.sos import SosService
from hubchat.sos.models import CLOSED_STATUSES, OPEN_STATUSES
from hubchat.sos.views import apparent, covered, outsider_events
from hubchat.store import Document


class SosLink:
    def __init__(self, sos: SosService):
        self.repo = sos.repo

    async def open_alerts_of(self, person_id: str) -> list[Document]:
        """The person's alerts still open for the Cell (a covered duress alert included), newest first
        (a person may raise a new alert after a duress "cancel": both are open for the Cell)."""
        alerts = await self.repo.find_many({"user_id": person_id},
                                           projection={"_id": 1, "status": 1, "user_id": 1, "created_at": 1})
        open_ones = [a for a in alerts if a["status"] in OPEN_STATUSES]
        return sorted(open_ones, key=lambda a: (a["created_at"], a["_id"]), reverse=True)

    async def find(self, alert_id: str) -> Document | None:
        return await self.repo.find(alert_id)

    async def audit(self, alert_id: str, viewer: Document, action: str) -> None:
        await self.repo.audit(alert_id, viewer, action)

    async def moment(self, entry: Document) -> AlertMoment | None:
        alert = await self.repo.find(entry["alert_id"])
        if alert is None or alert.get("silent"):
            return None  # (a silent alert, the check-in's duress PIN: nobody outside the Cell hears of it)
        cover_moment = entry["type"] == "duress" and (entry.get("data") or {}).get("cover")
        if covered(alert) and not cover_moment:
            return None  # after a duress "cancel" nothing more reaches anyone outside the Cell
        shown = outsider_events(alert, [entry])
        if not shown:
            return None
        event, data = shown[0], shown[0].get("data") or {}
        if event["type"] == "created":
            kind, closed_as = "raised", None
        elif event["type"] == "status" and data.get("to") in CLOSED_STATUSES:
            kind, closed_as = "closed", str(data["to"])
        elif event["type"] == "status" and data.get("action") == "acknowledge" and data.get("by") == "cell":
            kind, closed_as = "acknowledged", None
        else:
            return None
        seen = apparent(alert)
        return AlertMoment(alert_id=alert["_id"], person_id=alert["user_id"],
                           person_name=str((seen.get("person") or {}).get("display_name") or ""),
                           kind=kind, closed_as=closed_as, at=iso(event["at"]) or "", location=seen.get("location"))
