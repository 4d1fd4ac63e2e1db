"""Presence announcements: ``presence:updated`` to every peer when a user comes or goes.

A user goes online with their first live connection on any node and offline with their last
(:mod:`hubchat.presence` reports each transition once across nodes).  Each transition is sent
as one ``presence:updated`` {user_id, online} to the rooms of the user's channels (one emit: every
connected peer's sockets are in them and get it once; the user's own sockets on this node are
skipped), so announcing costs no read of member lists, however large the channel.  Announcements
are queued and sent by one worker, in order; those that queued up while it was busy are merged to
each user's last state (a user who came and went meanwhile is announced once, as gone), and a
burst of several users goes to each channel room as one ``presence:batch`` {updates: [...]} of
its members' transitions.  Presence is light work: while the node is under pressure
(hubchat/overload.py) the worker waits, and what queues meanwhile is merged into its next batch.

Heartbeat (in :meth:`PresenceAnnouncer.running`): every ``presence_ttl_secs / 3`` this node
refreshes its connections and sweeps connections whose node stopped refreshing (a dead node),
announcing those users offline.  On graceful shutdown this node's connections are removed first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from hubchat.auth.service import AccountService
from hubchat.background import cancel_and_wait
from hubchat.channels.access import AccessReader
from hubchat.channels.fanout import channel_room
from hubchat.infra import Infra
from hubchat.overload import Overloaded
from hubchat.principal import Principal
from hubchat.store import Document

log = logging.getLogger(__name__)

MIN_HEARTBEAT_SECS = 0.05
PRESSURE_WAIT_MAX_SECS = 30.0
ERROR_BACKOFF_MAX_SECS = 60.0
SHUTDOWN_DRAIN_SECS = 5.0


class PresenceAnnouncer:
    def __init__(self, infra: Infra, accounts: AccountService, access: AccessReader):
        self.infra = infra
        self.accounts = accounts
        self.access = access
        self._queue: asyncio.Queue[tuple[str, bool]] | None = None

    # ------------------------------------------------------------ hooks
    async def on_connect(self, principal: Principal, sid: str) -> None:
        if await self.infra.presence.connect(principal.user_id, self.infra.realtime.conn_id(sid)):
            await self._announce_soon(principal.user_id, True)

    async def on_disconnect(self, principal: Principal, sid: str) -> None:
        if await self.infra.presence.disconnect(principal.user_id, self.infra.realtime.conn_id(sid)):
            await self._announce_soon(principal.user_id, False)

    async def _announce_soon(self, user_id: str, online: bool) -> None:
        if self._queue is not None:
            self._queue.put_nowait((user_id, online))
        else:  # not running (start-up or shutdown): announce inline
            await self.announce(user_id, online)

    # ------------------------------------------------------------ queries
    async def presence_of(self, principal: Principal, user_ids: Sequence[str]) -> dict[str, bool]:
        """Online state of the asked users who share a channel with the caller (others omitted)."""
        wanted = set(user_ids)
        if not wanted:
            return {}
        peers = await self.access.peers_of(await self.access.of_principal(principal))
        visible = [u for u in dict.fromkeys(user_ids) if u in peers]
        return await self.infra.presence.online(visible) if visible else {}

    async def announce(self, user_id: str, online: bool) -> None:
        """One emit to the rooms of the user's channels: every connected peer's sockets are in
        them (each socket gets it once), so no member list is read however large the channel."""
        channels = await self._channels_of((await self.accounts.users_by_id([user_id])).get(user_id))
        if channels:
            realtime = self.infra.realtime
            await realtime.emit("presence:updated", {"user_id": user_id, "online": online},
                                to=[channel_room(channel["_id"]) for channel in channels],
                                skip_sid=sorted(realtime.local_sids(user_id)))

    async def announce_many(self, states: Mapping[str, bool]) -> None:
        """Several users' transitions at once: each channel room gets one ``presence:batch`` with
        the transitions of its members (``presence:updated`` when it has one), so a burst of N
        members of one channel coming back costs one delivery per socket, not N."""
        if len(states) == 1:
            ((user_id, online),) = states.items()
            await self.announce(user_id, online)
            return
        rooms: dict[str, list[dict[str, Any]]] = {}
        users = await self.accounts.users_by_id(list(states))
        for user_id, online in states.items():
            for channel in await self._channels_of(users.get(user_id)):
                rooms.setdefault(channel_room(channel["_id"]), []).append({"user_id": user_id, "online": online})
        realtime = self.infra.realtime
        for room, updates in rooms.items():
            if len(updates) == 1:
                await realtime.emit("presence:updated", updates[0], to=room,
                                    skip_sid=sorted(realtime.local_sids(updates[0]["user_id"])))
            else:
                await realtime.emit("presence:batch", {"updates": updates}, to=room)

    async def _channels_of(self, user: Mapping[str, Any] | None) -> list[Document]:
        if user is None:
            return []
        return await self.access.channels_of(await self.access.of_user(user))

    # ------------------------------------------------------------ loops
    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._queue = asyncio.Queue()
        worker = asyncio.create_task(self._work(self._queue), name="presence-announcer")
        heartbeat = asyncio.create_task(self._heartbeat(), name="presence-heartbeat")
        try:
            yield
        finally:
            await cancel_and_wait({heartbeat})  # a driver may absorb one cancellation
            await self._leave_node()
            queue, self._queue = self._queue, None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.join(), SHUTDOWN_DRAIN_SECS)
            await cancel_and_wait({worker})

    async def _work(self, queue: asyncio.Queue[tuple[str, bool]]) -> None:
        while True:
            taken = [await queue.get()]
            try:
                await self._while_under_pressure()
                while not queue.empty():  # what queued up meanwhile: each user's last state only
                    taken.append(queue.get_nowait())
                await self.announce_many(dict(taken))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("presence announcement failed", extra={"users": len(taken)})
            finally:
                for _ in taken:
                    queue.task_done()

    async def _while_under_pressure(self) -> None:
        """Presence is light work, shed first (hubchat/overload.py): while the node is under
        pressure the announcement waits (up to ``PRESSURE_WAIT_MAX_SECS``), and the transitions
        queued meanwhile go out with it, merged."""
        waited = 0.0
        while waited < PRESSURE_WAIT_MAX_SECS:
            try:
                self.infra.admission.check_light("presence")
                return
            except Overloaded as busy:
                pause = min(busy.retry_after_ms / 1000, PRESSURE_WAIT_MAX_SECS - waited)
                await asyncio.sleep(pause)
                waited += pause

    async def _heartbeat(self) -> None:
        interval = max(self.infra.settings.presence_ttl_secs / 3, MIN_HEARTBEAT_SECS)
        failures = 0
        while True:
            await asyncio.sleep(interval if failures == 0 else min(interval * 2 ** failures, ERROR_BACKOFF_MAX_SECS))
            try:
                await self.beat()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                log.exception("presence heartbeat failed", extra={"failures": failures})

    async def beat(self) -> None:
        """Refresh this node's connections; announce users whose connections expired elsewhere."""
        await self.infra.presence.refresh(self.infra.realtime.local_connections())
        for user_id in await self.infra.presence.sweep():
            await self._announce_soon(user_id, False)

    async def _leave_node(self) -> None:
        for user_id, conn_id in self.infra.realtime.local_connections():
            try:
                if await self.infra.presence.disconnect(user_id, conn_id):
                    await self._announce_soon(user_id, False)
            except Exception:
                log.exception("presence removal at shutdown failed", extra={"user_id": user_id})
