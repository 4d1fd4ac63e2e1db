"""Nobody learns whether an email or a user id has an account (issue 8 item 13), and only approved
associations make their office bearers privileged for direct messages (item 12)."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import pytest

from hubchat.schema import new_id
from tests.support import DEFAULT_PASSWORD, HubClient
from tests.test_chat_support import Chat


def registration(email: str, name: str = "Someone") -> dict[str, Any]:
    return {"email": email, "password": DEFAULT_PASSWORD, "display_name": name, "country": "IN", "city": "Aizawl"}


def shape(value: Any) -> Any:
    """Keys and value types, recursively: what a client can compare between two answers."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


@pytest.fixture
def chat(hub: HubClient) -> Chat:
    return Chat(hub)


async def test_registering_a_taken_email_answers_like_a_new_one_and_tells_the_owner(hub: HubClient) -> None:
    owner = await hub.user(display_name="Owner")
    taken_secs, new_secs = [], []
    for _ in range(3):  # interleaved, compared by their medians: a busy machine's spikes do not decide
        started = time.monotonic()
        status_taken, taken = await hub.request("POST", "/api/auth/register",
                                                json=registration(owner["email"].upper(), "Intruder"))
        taken_secs.append(time.monotonic() - started)
        fresh_email = f"fresh-{uuid.uuid4().hex[:8]}@example.org"
        started = time.monotonic()
        status_new, new = await hub.request("POST", "/api/auth/register", json=registration(fresh_email, "Intruder"))
        new_secs.append(time.monotonic() - started)
        assert status_taken == status_new == 201
        assert shape(taken) == shape(new)
        assert taken["user"]["email"] == owner["email"] and taken["user"]["id"] != owner["id"]
        assert taken["user"]["verified"] is False and taken["user"]["display_name"] == "Intruder"
    # both hash the password (and PINs) before anything else: no timing tells a taken address apart
    assert abs(statistics.median(taken_secs) - statistics.median(new_secs)) < 0.5, (taken_secs, new_secs)
    # The owner is told instead, and the account is untouched.
    mails = await hub.smtp.wait_for(owner["email"], count=2)
    assert "tried to register" in mails[-1].get_payload(decode=True).decode()
    users = hub.services["accounts"].infra.store["users"]
    stored = await users.find_one({"email": owner["email"]})
    assert stored is not None and stored["display_name"] == "Owner" and stored["_id"] == owner["id"]
    await hub.login(owner["email"])


async def test_invitations_answer_alike_for_unknown_known_and_member_emails(hub: HubClient) -> None:
    founder, officer = await hub.user("Founder"), await hub.officer()
    invitee = await hub.user("Invitee")
    status, body = await hub.request("POST", "/api/associations", token=founder["access_token"], json={
        "name": f"Mizo Association {uuid.uuid4().hex[:6]}", "country": "GB", "city": "London",
        "contact_email": "contact@example.org"})
    assert status == 201, body
    aid = body["association"]["id"] if "association" in body else body["id"]
    status, _ = await hub.request("POST", f"/api/associations/{aid}/approve", token=officer["access_token"])
    assert status == 200
    url = f"/api/associations/{aid}/invitations"
    answers = [await hub.request("POST", url, token=founder["access_token"], json={"email": email})
               for email in ("nobody-here@example.org", invitee["email"], invitee["email"], founder["email"])]
    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0][0] == 202
    # The invitation is real: the invitee sees and can accept it.
    status, body = await hub.request("GET", "/api/me/associations", token=invitee["access_token"])
    assert [m["status"] for m in body["memberships"]] == ["invited"]
    # The inviter's member list shows no pending invitations (they would reveal the account).
    status, body = await hub.request("GET", f"/api/associations/{aid}/members", token=founder["access_token"])
    assert [m["user_id"] for m in body["members"]] == [founder["id"]]


async def test_invitations_are_rate_limited_before_any_lookup(hub: HubClient) -> None:
    founder = await hub.user("Founder")
    status, body = await hub.request("POST", "/api/associations", token=founder["access_token"], json={
        "name": f"Mizo Association {uuid.uuid4().hex[:6]}", "country": "GB", "city": "London",
        "contact_email": "contact@example.org"})
    aid = body["association"]["id"] if "association" in body else body["id"]
    url = f"/api/associations/{aid}/invitations"
    statuses = [(await hub.request("POST", url, token=founder["access_token"],
                                   json={"email": f"nobody-{i}@example.org"}))[0] for i in range(31)]
    assert statuses == [202] * 30 + [429]


async def test_dm_open_answers_alike_for_unknown_and_forbidden_users(chat: Chat) -> None:
    bob, carol = await chat.user("Bob"), await chat.user("Carol")
    bob_rec = await chat.connect(bob)
    forbidden = await bob_rec.call("dm:open", {"user_id": carol["id"]})
    unknown = await bob_rec.call("dm:open", {"user_id": new_id()})
    assert forbidden == unknown and forbidden["error"]["code"] == "dm_not_allowed"


@pytest.mark.parametrize("decision", ["pending", "rejected"])
async def test_bearers_of_unapproved_associations_are_not_privileged_for_dms(chat: Chat, decision: str) -> None:
    """Founding an association makes one its office bearer at once; until the Cell approves it,
    that must not open direct messages to every office bearer of every association."""
    founder, other_bearer = await chat.user("Founder"), await chat.user("Other Bearer")
    await chat.association(other_bearer)  # approved
    association_id = await chat.association(founder, approve=False)
    if decision == "rejected":
        reviewer = await chat.officer("Reviewer")
        status, body = await chat.hub.request("POST", f"/api/associations/{association_id}/reject",
                                              reviewer["access_token"], json={"reason": "not a Mizo association"})
        assert status == 200, body
    founder_rec, other_rec = await chat.connect(founder), await chat.connect(other_bearer)
    answer = await founder_rec.call("dm:open", {"user_id": other_bearer["id"]})
    assert answer.get("error", {}).get("code") == "dm_not_allowed", answer
    answer = await other_rec.call("dm:open", {"user_id": founder["id"]})
    assert answer.get("error", {}).get("code") == "dm_not_allowed", answer
    if decision == "pending":  # once approved, the founder is an office bearer like any other
        await chat.approve(association_id)
        answer = await founder_rec.call("dm:open", {"user_id": other_bearer["id"]})
        assert "channel" in answer, answer
