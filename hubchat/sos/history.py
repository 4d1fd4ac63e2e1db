"""The person's own alert history: their closed alerts, each exactly as they saw it live.

Every alert is shaped by :func:`hubchat.sos.views.person_view` — the very view the person's
screens get — so a duress alert is its frozen "cancelled" cover here too.  Which alerts are
listed, their order and their pages are decided on those views alone (never on the stored
status, ``duress`` or ``open_key``; a *silent* alert, raised by a check-in's duress PIN, is
never the person's and never listed), so a duress-cancelled alert cannot be told from a real
cancel by its presence, its place in the list or a page boundary.  An alert still open for the
person is on the SOS screen, not here.

Hiding: the person may hide their history (``POST /api/me/sos/alerts/hide``): alerts closed (as
they saw it) up to that moment are no longer listed to them, on any device.  It cannot be
undone by the person; the Cell keeps every alert, timeline and audit entry as they were.

    sos_person_history  {_id: user id, hidden_before: datetime, updated_at}
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.clock import iso, utcnow
from hubchat.errors import Unavailable, ValidationFailed
from hubchat.principal import Principal
from hubchat.schema import Id, Payload
from hubchat.sos.repository import AlertRepository
from hubchat.sos.views import PersonView, person_view
from hubchat.store import AGAIN, Again, Document, retry_on_conflict

HISTORY = "sos_person_history"
CLOSED_AS_SEEN = ("resolved", "false_alarm", "cancelled")
DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_ALERTS_READ = 2000  # one person's alerts: far more than anyone raises


class MyAlertsQuery(Payload):
    """``GET /api/me/sos/alerts``: newest first; ``before`` is the last id of the previous page."""

    before: Id | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE


class HideIn(Payload):
    """``POST /api/me/sos/alerts/hide``: no fields (an empty body or ``{}``)."""


def _newest_first(view: PersonView) -> tuple[str, str]:
    return (view["created_at"] or "", view["id"])


class PersonHistory:
    def __init__(self, repo: AlertRepository):
        self.repo = repo

    @property
    def _coll(self) -> Any:
        return self.repo.coll(HISTORY)

    async def page(self, principal: Principal, query: MyAlertsQuery) -> Document:
        """``{alerts: [person view], next_before, hidden_before}``: the caller's alerts only."""
        stored = await self.repo.find_many({"user_id": principal.user_id}, limit=MAX_ALERTS_READ)
        hidden = await self._hidden_before(principal.user_id)
        # (a silent alert — the check-in's duress PIN — was never the person's to see)
        views = [view for view in map(person_view, (a for a in stored if not a.get("silent")))
                 if view["status"] in CLOSED_AS_SEEN and not (hidden and (view["closed_at"] or "") <= hidden)]
        views.sort(key=_newest_first, reverse=True)
        if query.before is not None:
            at = next((i for i, view in enumerate(views) if view["id"] == query.before), None)
            if at is None:
                raise ValidationFailed("before: no such alert in your history")
            views = views[at + 1:]
        shown = views[:query.limit]
        next_before = shown[-1]["id"] if len(views) > query.limit else None
        return {"alerts": shown, "next_before": next_before, "hidden_before": hidden}

    async def hide(self, principal: Principal) -> Document:
        """Hide every alert closed so far from the caller's own history (the Cell keeps them)."""
        now = utcnow()

        async def attempt() -> Document | Again:
            try:
                doc: Document = await self._coll.find_one_and_update(
                    {"_id": principal.user_id}, {"$set": {"hidden_before": now, "updated_at": now}},
                    upsert=True, return_document=ReturnDocument.AFTER)
                return doc
            except DuplicateKeyError:  # two first hides at once: the loser's upsert becomes an update
                return AGAIN

        await retry_on_conflict(attempt, attempts=2, exhausted=Unavailable("storage is unavailable, retry"))
        return {"hidden_before": iso(now)}

    async def _hidden_before(self, user_id: str) -> str | None:
        doc = await self._coll.find_one({"_id": user_id})
        return iso(doc.get("hidden_before")) if doc else None
