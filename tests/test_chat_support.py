"""Helpers for the chat tests (no tests here): quick users, associations through the directory's
HTTP routes, connected sockets, and store inspection.

Users are written straight into ``users``/``sessions`` with an access token minted by the
accounts service, which saves the password hashing and email round trip of a registration
(those are tested in test_auth.py); everything after that goes over the wire.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from hubchat.channels import ChannelService
from hubchat.schema import new_id
from tests.support import HubClient, Recorder, running_hub, settled  # noqa: F401 (running_hub: re-exported)

QUIET_SECS = 0.3  # how long to listen for an event that must not come


class Chat:
    def __init__(self, hub: HubClient):
        self.hub = hub
        self.service: ChannelService = hub.services["channels"]
        self.accounts = hub.services["accounts"]
        self._officer: dict[str, Any] | None = None

    @property
    def store(self) -> Any:
        return self.service.infra.store

    # ------------------------------------------------------------ users
    async def user(self, name: str = "Member", role: str = "member") -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        user_id, session_id = new_id(), new_id()
        await self.store["users"].insert_one({
            "_id": user_id, "email": f"{uuid.uuid4().hex[:10]}@example.org", "password_hash": "-",
            "display_name": name, "language": "lus", "country": "IN", "city": "Aizawl", "phone": None,
            "role": role, "verified": True, "created_at": now})
        await self.store["sessions"].insert_one({
            "_id": session_id, "user_id": user_id, "digest": "-", "used_digests": [], "created_at": now,
            "refreshed_at": now, "revoked_at": None, "expires_at": now + dt.timedelta(days=1)})
        token = self.accounts.signer.access_token(user_id, session_id, role)
        return {"id": user_id, "display_name": name, "access_token": token}

    async def officer(self, name: str = "Duty Officer") -> dict[str, Any]:
        return await self.user(name, role="officer")

    async def _reviewer(self) -> dict[str, Any]:
        if self._officer is None:
            self._officer = await self.officer("Reviewer")
        return self._officer

    # ------------------------------------------------------------ associations (directory HTTP routes)
    async def association(self, founder: dict[str, Any], *, bearers: tuple[dict[str, Any], ...] = (),
                          members: tuple[dict[str, Any], ...] = (), name: str | None = None,
                          approve: bool = True) -> str:
        """An association founded (as office bearer) by ``founder``, approved by an officer, with
        further office bearers and plain members who joined and were accepted."""
        body = {"name": name or f"Mizo Association {uuid.uuid4().hex[:6]}", "country": "GB", "city": "London",
                "contact_email": "contact@example.org"}
        status, created = await self.hub.request("POST", "/api/associations", founder["access_token"], json=body)
        assert status == 201, created
        association_id: str = created["association"]["id"] if "association" in created else created["id"]
        if approve:
            await self.approve(association_id)
        for person in (*bearers, *members):
            await self.join(association_id, person, founder)
        for person in bearers:
            await self.set_role(association_id, person, founder, "office_bearer")
        return association_id

    async def approve(self, association_id: str) -> None:
        reviewer = await self._reviewer()
        status, body = await self.hub.request("POST", f"/api/associations/{association_id}/approve",
                                              reviewer["access_token"])
        assert status == 200, body

    async def join(self, association_id: str, person: dict[str, Any], bearer: dict[str, Any]) -> None:
        base = f"/api/associations/{association_id}"
        status, body = await self.hub.request("POST", f"{base}/join", person["access_token"])
        assert status in (200, 201), body
        status, body = await self.hub.request("POST", f"{base}/requests/{person['id']}/approve",
                                              bearer["access_token"])
        assert status == 200, body

    async def set_role(self, association_id: str, person: dict[str, Any], bearer: dict[str, Any],
                       role: str) -> None:
        status, body = await self.hub.request(
            "PATCH", f"/api/associations/{association_id}/members/{person['id']}", bearer["access_token"],
            json={"role": role, "position": "Secretary" if role == "office_bearer" else None})
        assert status == 200, body

    async def remove(self, association_id: str, person: dict[str, Any], bearer: dict[str, Any]) -> None:
        status, body = await self.hub.request(
            "DELETE", f"/api/associations/{association_id}/members/{person['id']}", bearer["access_token"])
        assert status in (200, 204), body

    # ------------------------------------------------------------ channels
    async def connect(self, person: dict[str, Any]) -> Recorder:
        return await self.hub.connect(person["access_token"])

    async def channel(self, association_id: str, kind: str = "association") -> str:
        doc = await self.store["channels"].find_one({"key": f"{kind}:{association_id}"})
        assert doc is not None, (kind, association_id)
        return str(doc["_id"])

    async def count_messages(self, **query: Any) -> int:
        return int(await self.store["messages"].count_documents(query))


def client_id() -> str:
    return "c-" + uuid.uuid4().hex[:16]


async def send(rec: Recorder, channel_id: str, body: str, client_msg_id: str | None = None) -> Any:
    return await rec.call("message:send", {"channel_id": channel_id, "client_msg_id": client_msg_id or client_id(),
                                           "body": body})


async def settles_without(chat: Chat, rec: Recorder, event: str) -> bool:
    """True when no new ``event`` reached ``rec`` by the time the node has settled (everything it
    sent so far has arrived: ``tests.support.settled``)."""
    before = len(rec.events.get(event, []))
    await settled(chat.hub, rec)
    return len(rec.events.get(event, [])) == before


async def stays_quiet(rec: Recorder, event: str, secs: float = QUIET_SECS) -> bool:
    """True when ``event`` does not arrive at ``rec`` within ``secs`` (for what ``settled`` does
    not cover: a socket's disconnect is handled by the server after the client has returned)."""
    before = len(rec.events.get(event, []))
    await asyncio.sleep(secs)
    return len(rec.events.get(event, [])) == before
