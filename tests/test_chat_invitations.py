"""Inter-association channel invitations (issue 12, item 1): an association's office bearers list
its pending invitations (``GET /api/associations/{id}/channel-invitations``), decline one
(``channel:decline``) or accept it, and the association leaves a channel (``channel:leave``).
Outsiders, plain members and office bearers of another association are refused uniformly.
Real hubchat on TCP, real Redis, the embedded store, python-socketio clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubchat.config import Settings
from hubchat.schema import new_id
from tests.conftest import SmtpSink
from tests.test_chat import association_with, error_code
from tests.test_chat_support import Chat, running_hub, send, settles_without


@pytest.fixture
async def chat(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> AsyncIterator[Chat]:
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        yield Chat(hub)


async def invitations(chat: Chat, person: dict[str, Any], association_id: str) -> tuple[int, Any]:
    return await chat.hub.request("GET", f"/api/associations/{association_id}/channel-invitations",
                                  token=person["access_token"])


async def test_bearers_list_decline_accept_and_leave(chat: Chat) -> None:
    alice, zara, yuri = await chat.user("Alice"), await chat.user("Zara"), await chat.user("Yuri")
    carl, outsider = await chat.user("Carl"), await chat.user("Outsider")
    officer = await chat.officer()
    assoc_a, _ = await association_with(chat, founder=(alice,))
    assoc_b, _ = await association_with(chat, founder=(zara,), members=(yuri,))
    assoc_c, _ = await association_with(chat, founder=(carl,))
    alice_rec, zara_rec, carl_rec = await chat.connect(alice), await chat.connect(zara), await chat.connect(carl)
    europe = (await alice_rec.call("channel:create",
                                   {"kind": "inter", "name": "Europe", "association_id": assoc_a}))["channel"]
    gulf = (await alice_rec.call("channel:create",
                                 {"kind": "inter", "name": "Gulf", "association_id": assoc_a}))["channel"]
    for channel in (europe, gulf):
        invited = await alice_rec.call("channel:invite", {"channel_id": channel["id"], "association_id": assoc_b})
        assert "channel" in invited, invited

    status, body = await invitations(chat, zara, assoc_b)
    assert status == 200, body
    assert [(i["channel"]["name"], i["association_id"]) for i in body["invitations"]] == [
        ("Europe", assoc_b), ("Gulf", assoc_b)]
    assert body["invitations"][0]["channel"]["association_ids"] == [assoc_a]

    # Refused uniformly: a plain member, a bearer of another association, an outsider, an officer,
    # an association that does not exist; a malformed id; no token.
    for person, association_id in ((yuri, assoc_b), (carl, assoc_b), (outsider, assoc_b), (officer, assoc_b),
                                   (zara, new_id())):
        status, body = await invitations(chat, person, association_id)
        assert (status, body["error"]["code"]) == (403, "not_office_bearer"), (person["display_name"], body)
    status, body = await chat.hub.request("GET", "/api/associations/$gt/channel-invitations",
                                          token=zara["access_token"])
    assert (status, body["error"]["code"]) == (404, "invalid_id")
    status, body = await chat.hub.request("GET", f"/api/associations/{assoc_b}/channel-invitations")
    assert status == 401, body

    # Decline: only B's bearers; afterwards the invitation is gone and A's members see the change.
    decline = {"channel_id": gulf["id"], "association_id": assoc_b}
    assert error_code(await carl_rec.call("channel:decline", decline)) == "not_office_bearer"
    assert error_code(await alice_rec.call("channel:decline", decline)) == "not_office_bearer"
    declined = await zara_rec.call("channel:decline", decline)
    assert declined == {"channel_id": gulf["id"], "association_id": assoc_b, "declined": True}, declined
    await alice_rec.wait_for("channel:updated", where=lambda e: e["channel"]["id"] == gulf["id"]
                             and e["channel"]["invited_association_ids"] == [])
    assert error_code(await zara_rec.call("channel:decline", decline)) == "invitation_not_found"
    assert error_code(await zara_rec.call("channel:accept", decline)) == "invitation_not_found"
    assert error_code(await zara_rec.call("channel:decline", {**decline, "association_id": {"$ne": ""}})) \
        == "invalid_payload"
    status, body = await invitations(chat, zara, assoc_b)
    assert [i["channel"]["name"] for i in body["invitations"]] == ["Europe"]

    # Accept Europe, then leave it: B's bearers lose the channel, A keeps it.
    accepted = await zara_rec.call("channel:accept", {"channel_id": europe["id"], "association_id": assoc_b})
    assert sorted(accepted["channel"]["association_ids"]) == sorted([assoc_a, assoc_b])
    assert (await invitations(chat, zara, assoc_b))[1]["invitations"] == []
    leave = {"channel_id": europe["id"], "association_id": assoc_b}
    assert error_code(await carl_rec.call("channel:leave", leave)) == "not_office_bearer"
    assert error_code(await carl_rec.call("channel:leave", {**leave, "association_id": assoc_c})) == "not_member"
    left = await zara_rec.call("channel:leave", leave)
    assert left == {"channel_id": europe["id"], "association_id": assoc_b, "left": True}, left
    (removed,) = await zara_rec.wait_for("channel:removed")
    assert removed == {"channel_id": europe["id"]}
    assert error_code(await send(zara_rec, europe["id"], "still here?")) == "not_member"
    message = (await send(alice_rec, europe["id"], "after B left"))["message"]
    await alice_rec.wait_for("message:new", where=lambda m: m["id"] == message["id"])
    assert await settles_without(chat, zara_rec, "message:new")
    assert error_code(await zara_rec.call("channel:leave", leave)) == "not_member"
    # An association channel is no inter channel: nobody leaves it this way.
    own = await chat.channel(assoc_b)
    assert error_code(await zara_rec.call("channel:leave", {"channel_id": own, "association_id": assoc_b})) \
        == "not_member"
