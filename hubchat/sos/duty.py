"""The Cell's duty roster: which officers watch the live SOS feed now.

Collection ``duty``: {_id: officer user id, on_duty, since, display_name}, written whole
(``replace_one``), so ``since`` stays a real datetime on every backend.  Going on duty moves every
socket of the officer, on every node, into ``cell:feed``; going off duty takes them out.  A
reconnecting officer's sockets rejoin the feed in the connect hook (``SosService.on_connect``).
"""

from __future__ import annotations

from typing import Any

from hubchat.clock import utcnow
from hubchat.errors import Forbidden
from hubchat.principal import Principal
from hubchat.sos.repository import DUTY, AlertRepository
from hubchat.sos.rooms import FEED_ROOM, SosRooms
from hubchat.sos.views import duty_view

Document = dict[str, Any]

USERS = "users"  # the accounts collection: read for the role and the disabled flag
STAFF_ROLES = ("officer", "admin")


def require_officer(principal: Principal) -> None:
    if not principal.is_officer:
        raise Forbidden("only Diaspora Cell officers may do this", code="not_allowed")


class DutyRoster:
    def __init__(self, repo: AlertRepository, rooms: SosRooms):
        self.repo = repo
        self.rooms = rooms

    @property
    def _coll(self) -> Any:
        return self.repo.coll(DUTY)

    async def on_duty(self) -> list[Document]:
        """Officers on duty now; an account no longer staff (or disabled) does not count."""
        roster = [doc async for doc in self._coll.find({"on_duty": True}).sort([("since", 1), ("_id", 1)])]
        if not roster:
            return []
        cursor = self.repo.coll(USERS).find({"_id": {"$in": [d["_id"] for d in roster]}}, {"role": 1, "disabled": 1})
        staff = {u["_id"] async for u in cursor if u.get("role") in STAFF_ROLES and not u.get("disabled")}
        return [doc for doc in roster if doc["_id"] in staff]

    async def on_duty_ids(self) -> list[str]:
        return [doc["_id"] for doc in await self.on_duty()]

    async def is_on_duty(self, user_id: str) -> bool:
        return await self._coll.find_one({"_id": user_id, "on_duty": True}, {"_id": 1}) is not None

    async def officers_view(self) -> list[Document]:
        return [duty_view(doc) for doc in await self.on_duty()]

    async def set(self, principal: Principal, on_duty: bool) -> Document:
        require_officer(principal)
        doc = {"_id": principal.user_id, "on_duty": on_duty, "since": utcnow(), "display_name": principal.display_name}
        await self._coll.replace_one({"_id": principal.user_id}, doc, upsert=True)
        realtime = self.rooms.realtime
        if on_duty:
            await realtime.join(principal.user_id, [FEED_ROOM])
        else:
            await realtime.leave(principal.user_id, [FEED_ROOM])
        officers = await self.officers_view()
        await self.rooms.emit("duty:updated", {"officers": officers}, FEED_ROOM)
        return {"duty": duty_view(doc), "officers": officers}

    async def list(self, principal: Principal) -> Document:
        require_officer(principal)
        return {"officers": await self.officers_view()}
