"""The Cell's duty roster: which officers watch the live SOS feed now.

Collection ``duty``: {_id: officer user id, on_duty, since, display_name, last_seen_at?}, written
whole (``replace_one``) by ``duty:set``, so ``since`` stays a real datetime on every backend.
Going on duty moves every socket of the officer, on every node, into ``cell:feed``; going off duty
takes them out.  A reconnecting officer's sockets rejoin the feed in the connect hook
(``SosService.on_connect``).

The roster matches reality.  An on-duty officer is **connected** while they have a live socket on
any node (the shared presence in Redis, or a socket on this node); every socket of an on-duty
officer that closes stamps ``last_seen_at`` in the store, so the time survives node restarts.  An
officer is **reachable** live while connected, or for ``sos_duty_grace_secs`` after the later of
``last_seen_at`` and ``since`` (a page reload, a network blip).  A node killed without closing its
sockets stamps nothing: its officers count as connected until their presence expires
(``presence_ttl_secs``) and are unreachable from then on, unless they reconnect.  An SOS that finds
no reachable officer emails the Cell at once (``escalation``).  ``duty:updated`` tells the feed
when an on-duty officer's last socket closes and when one connects again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from hubchat.clock import utcnow
from hubchat.errors import Forbidden, HubchatError
from hubchat.presence import Presence
from hubchat.principal import Principal
from hubchat.sos.ports import Accounts
from hubchat.sos.repository import DUTY, AlertRepository
from hubchat.sos.rooms import FEED_ROOM, SosRooms
from hubchat.sos.views import DutyView, duty_view
from hubchat.store import Document

log = logging.getLogger(__name__)


def require_officer(principal: Principal) -> None:
    if not principal.is_officer:
        raise Forbidden("only Diaspora Cell officers may do this", code="not_allowed")


class DutyRoster:
    def __init__(self, repo: AlertRepository, accounts: Accounts, rooms: SosRooms,
                 presence: Callable[[], Presence] | None = None, grace_secs: float = 60.0):
        self.repo = repo
        self.accounts = accounts
        self.rooms = rooms
        self._presence = presence
        self.grace_secs = grace_secs

    @property
    def _coll(self) -> Any:
        return self.repo.coll(DUTY)

    async def on_duty(self) -> list[Document]:
        """Officers on duty now; an account no longer staff (or disabled) does not count."""
        roster = [doc async for doc in self._coll.find({"on_duty": True}).sort([("since", 1), ("_id", 1)])]
        if not roster:
            return []
        staff = await self.accounts.active_staff(d["_id"] for d in roster)
        return [doc for doc in roster if doc["_id"] in staff]

    async def on_duty_ids(self) -> list[str]:
        return [doc["_id"] for doc in await self.on_duty()]

    async def is_on_duty(self, user_id: str) -> bool:
        return await self._coll.find_one({"_id": user_id, "on_duty": True}, {"_id": 1}) is not None

    async def officers_view(self) -> list[DutyView]:
        roster = await self.on_duty()
        connected = await self.connected([doc["_id"] for doc in roster])
        return [duty_view(doc, connected[doc["_id"]]) for doc in roster]

    # ------------------------------------------------------------ who is actually there
    async def connected(self, user_ids: Sequence[str]) -> dict[str, bool]:
        """Whether each user has a live socket on any node.  Presence down: this node's sockets only
        (an SOS then errs towards emailing)."""
        ids = list(dict.fromkeys(user_ids))
        found = {uid: bool(self.rooms.realtime.local_sids(uid)) for uid in ids}
        if not ids or self._presence is None:
            return found
        try:
            online = await self._presence().online(ids)
        except (HubchatError, RuntimeError):
            log.warning("duty roster: presence unavailable; counting this node's sockets only")
            return found
        return {uid: found[uid] or bool(online.get(uid)) for uid in ids}

    def _within_grace(self, doc: Document, now: dt.datetime) -> bool:
        marks = [t for t in (doc.get("last_seen_at"), doc.get("since")) if isinstance(t, dt.datetime)]
        return bool(marks) and (now - max(marks)).total_seconds() <= self.grace_secs

    async def reachability(self, user_ids: Sequence[str] | None = None) -> tuple[list[Document], list[Document]]:
        """(reachable, unreachable) on-duty officers (of ``user_ids`` when given): reachable while
        connected or within the grace period after their last socket closed."""
        roster = await self.on_duty()
        if user_ids is not None:
            wanted = set(user_ids)
            roster = [doc for doc in roster if doc["_id"] in wanted]
        connected = await self.connected([doc["_id"] for doc in roster])
        now = utcnow()
        reachable: list[Document] = []
        unreachable: list[Document] = []
        for doc in roster:
            live = connected[doc["_id"]] or self._within_grace(doc, now)
            (reachable if live else unreachable).append(doc)
        return reachable, unreachable

    async def reachable_ids(self) -> list[str]:
        return [doc["_id"] for doc in (await self.reachability())[0]]

    def on_connect(self, sid: str) -> None:
        """An on-duty officer's socket ``sid`` connected (the caller joined it to the feed): the
        feed sees them connected again.  Sent after the connect handler has answered, and not to
        ``sid`` itself: nothing may reach a socket before its CONNECT answer."""
        self.rooms.spawn(self._announce(skip_sid=sid), "sos-duty-connected")

    async def _announce(self, skip_sid: str | None = None) -> None:
        try:
            officers = await self.officers_view()
        except Exception:
            log.exception("duty roster: duty:updated not sent")
            return
        await self.rooms.emit("duty:updated", {"officers": officers}, FEED_ROOM, skip_sid=skip_sid)

    async def on_disconnect(self, principal: Principal, sid: str) -> None:
        """Disconnect hook: stamp when an on-duty officer was last seen; tell the feed when it was
        their last socket.  Runs after the presence hook (registered earlier), so ``connected``
        no longer counts this socket."""
        if not principal.is_officer:
            return
        stamped = await self._coll.update_one({"_id": principal.user_id, "on_duty": True},
                                              {"$set": {"last_seen_at": utcnow()}})
        if stamped.matched_count and not (await self.connected([principal.user_id]))[principal.user_id]:
            await self._announce()

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
        connected = await self.connected([principal.user_id])
        return {"duty": duty_view(doc, connected[principal.user_id]), "officers": officers}

    async def list(self, principal: Principal) -> Document:
        require_officer(principal)
        return {"officers": await self.officers_view()}
