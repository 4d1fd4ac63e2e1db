"""Reading alerts: the officers' feed, closed-alert pages, details, timelines, exports and audit.

Urgency order of the feed (``sos:feed``): duress alerts first, then by status — ``open`` (nobody
has acknowledged yet) before ``acknowledged`` before ``responding`` — and within each group the
oldest first (the longest wait is the most urgent).

Every look at an alert's details by an officer or a responder (``sos:get``, the detail route, the
timeline, both exports) is written to ``alert_audit`` before the answer goes out.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

from hubchat.config import Settings
from hubchat.errors import Forbidden, Unavailable, ValidationFailed
from hubchat.principal import Principal
from hubchat.sos.access import load, standing_of, view_for, viewer
from hubchat.sos.duty import DutyRoster, require_officer
from hubchat.sos.lifecycle import Standing, may_see_full
from hubchat.sos.models import CLOSED_STATUSES, OPEN_STATUSES, AlertsQuery, FeedIn
from hubchat.sos.ports import Directory
from hubchat.sos.repository import AlertRepository
from hubchat.sos.rooms import FEED_ROOM, SosRooms
from hubchat.sos.views import (
    AlertView,
    apparent,
    audit_view,
    covered,
    event_view,
    full_view,
    outsider_events,
    person_view,
    track_view,
)
from hubchat.store import Document

STATUS_URGENCY = {"open": 0, "acknowledged": 1, "responding": 2}
MAX_FEED_ALERTS = 1000


def urgency_key(alert: Document) -> tuple[int, int, dt.datetime, str]:
    return (0 if alert.get("duress") else 1, STATUS_URGENCY.get(alert["status"], 3), alert["created_at"],
            alert["_id"])


def _filters(category: str | None, country: str | None) -> Document:
    query: Document = {}
    if category:
        query["category"] = category
    if country:
        query["person.country"] = country
    return query


class AlertReads:
    def __init__(self, settings: Settings, repo: AlertRepository, directory: Directory, duty: DutyRoster,
                 rooms: SosRooms):
        self.settings = settings
        self.repo = repo
        self.directory = directory
        self.duty = duty
        self.rooms = rooms

    # ------------------------------------------------------------ officers' feed
    async def feed(self, principal: Principal, req: FeedIn, sid: str | None = None) -> Document:
        """Snapshot of every open alert, most urgent first, and who is on duty; an on-duty
        officer's socket is (re)joined to the live feed."""
        require_officer(principal)
        statuses = [req.status] if req.status else list(OPEN_STATUSES)
        alerts = await self.repo.find_many({"status": {"$in": statuses}, **_filters(req.category, req.country)},
                                           limit=MAX_FEED_ALERTS)
        alerts.sort(key=urgency_key)
        live = await self.duty.is_on_duty(principal.user_id)
        if live and sid is not None:
            await self.rooms.realtime.enter_room(sid, FEED_ROOM)
        return {"alerts": [full_view(a) for a in alerts], "on_duty": await self.duty.officers_view(), "live": live}

    async def closed_page(self, principal: Principal, query: AlertsQuery) -> Document:
        """Alerts newest first (closed ones unless ``status`` says otherwise), a page at a time."""
        require_officer(principal)
        statuses = [query.status] if query.status else list(CLOSED_STATUSES)
        filters: Document = {"status": {"$in": statuses}, **_filters(query.category, query.country)}
        raised: Document = {}
        if query.since:
            raised["$gte"] = dt.datetime.combine(query.since, dt.time(), dt.UTC)
        if query.until:
            raised["$lt"] = dt.datetime.combine(query.until + dt.timedelta(days=1), dt.time(), dt.UTC)
        if raised:
            filters["created_at"] = raised
        if query.before:
            cursor_alert = await self.repo.find(query.before)
            if cursor_alert is None:
                raise ValidationFailed("before: no such alert")
            at = cursor_alert["created_at"]
            filters["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": query.before}}]
        alerts = await self.repo.find_many(filters, sort=[("created_at", -1), ("_id", -1)], limit=query.limit)
        next_before = alerts[-1]["_id"] if len(alerts) == query.limit else None
        return {"alerts": [full_view(a) for a in alerts], "next_before": next_before}

    # ------------------------------------------------------------ one alert
    async def mine(self, principal: Principal) -> Document:
        """The caller's own open alert (person view), or None: what a reconnecting person needs."""
        alert = await self.repo.open_of(principal.user_id)
        return {"alert": person_view(alert) if alert else None}

    async def get(self, principal: Principal, alert_id: str) -> AlertView:
        alert, standing = await load(self.repo, self.directory, principal, alert_id)
        if may_see_full(standing):
            await self._audit(alert, principal, standing, "view")
        return view_for(alert, principal, standing, self.rooms.approx_km)

    async def _full(self, principal: Principal, alert_id: str, action: str | None) -> tuple[Document, Standing]:
        """The stored alert for an officer or responder; audited under ``action`` unless None."""
        alert, standing = await load(self.repo, self.directory, principal, alert_id)
        if not may_see_full(standing):
            raise Forbidden("only officers and the alert's responders may see this", code="not_allowed")
        if action is not None:
            await self._audit(alert, principal, standing, action)
        return alert, standing

    async def _events(self, alert: Document, standing: Standing) -> list[Document]:
        """The timeline as this caller may read it (outside the Cell: ``views.outsider_events``)."""
        events = await self.repo.timeline(alert["_id"])
        return events if standing.is_officer else outsider_events(alert, events)

    async def _track(self, alert: Document, standing: Standing) -> list[Document]:
        points = await self.repo.track(alert["_id"])
        if standing.is_officer or not covered(alert):
            return points
        until = apparent(alert)["closed_at"]
        return [p for p in points if p["at"] <= until]

    async def timeline(self, principal: Principal, alert_id: str) -> Document:
        alert, standing = await self._full(principal, alert_id, "timeline")
        return {"alert_id": alert_id, "events": [event_view(e) for e in await self._events(alert, standing)]}

    async def export_json(self, principal: Principal, alert_id: str) -> Document:
        alert, standing = await self._full(principal, alert_id, "export_json")
        shown = alert if standing.is_officer else apparent(alert)
        return {"alert": full_view(shown), "timeline": [event_view(e) for e in await self._events(alert, standing)],
                "track": [track_view(p) for p in await self._track(alert, standing)]}

    async def export_cap(self, principal: Principal, alert_id: str) -> str:
        alert, standing = await self._full(principal, alert_id, None)
        try:
            from hubchat.sos.cap import alert_to_cap
        except ImportError as exc:
            raise Unavailable("CAP export is not available on this server", code="cap_unavailable") from exc
        await self._audit(alert, principal, standing, "export_cap")
        events = await self._events(alert, standing)
        shown = alert if standing.is_officer else apparent(alert)
        host = urlsplit(self.settings.public_url).hostname or "hubchat.local"
        xml: str = alert_to_cap(shown, events, sender=f"hubchat@{host}", web_url=self.settings.public_url)
        return xml

    async def export_for_partner(self, principal: Principal, alert_id: str, fmt: str) -> tuple[str, str, str]:
        """(filename, content type, text) of the JSON or CAP export a Cell officer sends to a partner
        agency with a case referral: the alert as anyone outside the Cell may read it (no duress,
        no PIN attempts), audited as ``referral_json`` / ``referral_cap`` for the officer."""
        require_officer(principal)
        alert = await self.repo.get(alert_id)
        outside = Standing()
        shown = apparent(alert)
        events = await self._events(alert, outside)
        await self.repo.audit(alert_id, viewer(principal, standing_of(alert, principal)), f"referral_{fmt}")
        if fmt == "cap":
            from hubchat.sos.cap import alert_to_cap

            host = urlsplit(self.settings.public_url).hostname or "hubchat.local"
            xml: str = alert_to_cap(shown, events, sender=f"hubchat@{host}", web_url=self.settings.public_url)
            return f"sos-{alert_id}.cap.xml", "application/cap+xml", xml
        alert_view = {k: v for k, v in full_view(shown).items() if not k.startswith("duress")}
        body = {"alert": alert_view, "timeline": [event_view(e) for e in events],
                "track": [track_view(p) for p in await self._track(alert, outside)]}
        return f"sos-{alert_id}.json", "application/json", json.dumps(body, ensure_ascii=False, indent=1)

    async def audit(self, principal: Principal, alert_id: str) -> Document:
        require_officer(principal)
        await load(self.repo, self.directory, principal, alert_id)
        return {"alert_id": alert_id, "entries": [audit_view(e) for e in await self.repo.audit_entries(alert_id)]}

    async def _audit(self, alert: Document, principal: Principal, standing: Standing, action: str) -> None:
        await self.repo.audit(alert["_id"], viewer(principal, standing), action)
