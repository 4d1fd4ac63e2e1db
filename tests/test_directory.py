"""The directory through the wire: a real hubchat on a TCP port, the embedded MongoDB-wire server,
the aiosmtpd sink and Redis — registration and review, search, proximity, contact visibility,
membership, and refusals that change nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from hubchat.directory import AssociationApproved, MembershipChange

DELHI = (28.6139, 77.2090)
GURUGRAM = (28.4595, 77.0266)
BENGALURU = (12.9716, 77.5946)


# ---------------------------------------------------------------- helpers
def place(name: str, at: tuple[float, float], **extra: Any) -> dict[str, Any]:
    return {"name": name, "address": f"{name} road", "lat": at[0], "lon": at[1], **extra}


def association_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Mizo Welfare {uuid.uuid4().hex[:6]}",
        "country": "IN",
        "city": "New Delhi",
        "description": "Mizo people living in and around Delhi.",
        "contact_email": f"assoc-{uuid.uuid4().hex[:8]}@example.org",
        "contact_phone": "+91 98765 43210",
        "gathering_places": [place("Fellowship hall", DELHI, schedule="Sundays 10:00")],
    }
    body.update(overrides)
    return body


async def register(hub: Any, founder: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    status, body = await hub.request(
        "POST", "/api/associations", token=founder["access_token"], json=association_body(**overrides)
    )
    assert status == 201, body
    return body["association"]  # type: ignore[no-any-return]


async def approved(
    hub: Any, officer: dict[str, Any], founder: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    association = await register(hub, founder, **overrides)
    status, body = await hub.request(
        "POST", f"/api/associations/{association['id']}/approve", token=officer["access_token"]
    )
    assert status == 200, body
    return body["association"]  # type: ignore[no-any-return]


async def stored(hub: Any, association_id: str) -> dict[str, Any]:
    return await hub.services["directory"].get_association(association_id)  # type: ignore[no-any-return]


async def stored_memberships(hub: Any, association_id: str) -> list[dict[str, Any]]:
    coll = hub.services["directory"].infra.store["memberships"]
    return sorted([m async for m in coll.find({"association_id": association_id})], key=lambda m: m["_id"])


def assert_error(status: int, body: Any, expected_status: int, code: str | None = None) -> None:
    assert status == expected_status, body
    assert isinstance(body, dict) and "code" in body["error"], body
    if code is not None:
        assert body["error"]["code"] == code, body


def mail_text(message: Any) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[no-any-return]


def record_notifications(hub: Any) -> tuple[list[MembershipChange], list[AssociationApproved]]:
    changes: list[MembershipChange] = []
    approvals: list[AssociationApproved] = []
    events = hub.services["directory"].infra.events

    async def on_change(change: MembershipChange) -> None:
        changes.append(change)

    async def on_approval(event: AssociationApproved) -> None:
        approvals.append(event)

    events.subscribe(MembershipChange, on_change)
    events.subscribe(AssociationApproved, on_approval)
    return changes, approvals


async def search(hub: Any, token: str, query: str) -> list[str]:
    status, body = await hub.request("GET", f"/api/associations?{query}", token=token)
    assert status == 200, body
    return [a["name"] for a in body["associations"]]


# ---------------------------------------------------------------- registration and review
async def test_register_review_approve_then_listed_and_searchable(hub: Any) -> None:
    changes, approvals = record_notifications(hub)
    founder, officer, stranger = await hub.user("Founder"), await hub.officer(), await hub.user("Stranger")
    name = "Mizo (Delhi) Welfare. Assn"
    association = await register(hub, founder, name=name, my_position="General Secretary")
    aid = association["id"]
    assert association["status"] == "pending" and association["my_role"] == "office_bearer"
    assert association["contact_phone"] == "+919876543210"
    assert changes == [MembershipChange(aid, founder["id"], None, "office_bearer")]
    members = await stored_memberships(hub, aid)
    assert [(m["user_id"], m["role"], m["position"], m["status"]) for m in members] == [
        (founder["id"], "office_bearer", "General Secretary", "active")
    ]

    assert name not in await search(hub, stranger["access_token"], "country=IN")
    status, body = await hub.request("GET", f"/api/associations/{aid}", token=stranger["access_token"])
    assert_error(status, body, 404, "association_not_found")
    status, body = await hub.request("GET", "/api/associations/pending", token=officer["access_token"])
    assert status == 200 and aid in [a["id"] for a in body["associations"]]
    status, body = await hub.request("GET", "/api/associations/pending", token=founder["access_token"])
    assert_error(status, body, 403, "not_officer")

    before = await stored(hub, aid)
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/approve", token=founder["access_token"]
    )
    assert_error(status, body, 403, "not_officer")
    assert await stored(hub, aid) == before

    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/approve", token=officer["access_token"]
    )
    assert status == 200 and body["association"]["status"] == "approved", body
    assert body["association"]["decided_by"] == officer["id"]
    assert approvals == [AssociationApproved(aid, name)]
    mail = (await hub.smtp.wait_for(association["contact_email"]))[0]
    assert "approved" in mail["Subject"]
    await got_mail_titled(hub, founder["email"], mail["Subject"])  # one email per recipient (outbox)
    assert f"/#/associations/{aid}" in mail_text(mail)
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/approve", token=officer["access_token"]
    )
    assert_error(status, body, 409, "invalid_state")

    token = stranger["access_token"]
    status, body = await hub.request("GET", f"/api/associations/{aid}", token=token)
    assert (
        status == 200
        and body["association"]["name"] == name
        and "rejection_reason" not in body["association"]
    )
    assert name in await search(hub, token, "country=IN")
    assert name in await search(hub, token, "country=in&city=NEW%20DELHI")
    assert name not in await search(hub, token, "country=IN&city=Delhi")  # city is an exact match
    assert name not in await search(hub, token, "country=GB")
    assert await search(hub, token, "q=(delhi)%20welfare.") == [name]  # any case, specials literal
    assert await search(hub, token, "q=.*") == []
    assert await search(hub, token, "q=d.lhi") == []
    assert await search(hub, token, "q=%5E") == []  # "^"



async def got_mail_titled(hub: Any, address: str, subject: str, timeout: float = 10.0) -> None:
    """Wait until ``address`` received an email with this subject (others may come first)."""
    async with asyncio.timeout(timeout):
        while not any(m["Subject"] == subject for m in hub.smtp.to(address)):
            await asyncio.sleep(0.02)

async def test_reject_with_reason_emails_the_reason(hub: Any) -> None:
    founder, officer = await hub.user("Founder"), await hub.officer()
    association = await register(hub, founder)
    aid = association["id"]
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/reject", token=officer["access_token"], json={}
    )
    assert_error(status, body, 400, "invalid_payload")
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/reject", token=officer["access_token"], json={"reason": "x" * 501}
    )
    assert_error(status, body, 400, "invalid_payload")
    assert (await stored(hub, aid))["status"] == "pending"

    reason = "The contact email bounced; please give a working one."
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/reject", token=officer["access_token"], json={"reason": reason}
    )
    assert status == 200 and body["association"]["status"] == "rejected", body
    mail = (await hub.smtp.wait_for(association["contact_email"]))[0]
    await got_mail_titled(hub, founder["email"], mail["Subject"])  # one email per recipient (outbox)
    assert reason in mail_text(mail)
    status, body = await hub.request("GET", f"/api/associations/{aid}", token=founder["access_token"])
    assert status == 200 and body["association"]["rejection_reason"] == reason
    for action in ("approve", "reject"):
        status, body = await hub.request(
            "POST",
            f"/api/associations/{aid}/{action}",
            token=officer["access_token"],
            json={"reason": "again"} if action == "reject" else None,
        )
        assert_error(status, body, 409, "invalid_state")
    assert (await stored(hub, aid))["status"] == "rejected"


# ---------------------------------------------------------------- proximity
async def test_near_me_in_distance_order(hub: Any) -> None:
    founder, officer = await hub.user("Founder"), await hub.officer()
    token = founder["access_token"]
    delhi = await approved(
        hub,
        officer,
        founder,
        name="Delhi Mizo Fellowship",
        gathering_places=[place("Far hall", (28.9, 77.6)), place("Central hall", (28.62, 77.21))],
    )
    gurugram = await approved(
        hub,
        officer,
        founder,
        name="Gurugram Mizo Association",
        city="Gurugram",
        gathering_places=[place("Sector 29", GURUGRAM)],
    )
    bengaluru = await approved(
        hub,
        officer,
        founder,
        name="Bengaluru Mizo Welfare",
        city="Bengaluru",
        gathering_places=[place("Church hall", BENGALURU)],
    )
    await register(hub, founder, name="Pending in Delhi", gathering_places=[place("Hall", DELHI)])

    lat, lon = DELHI
    status, body = await hub.request(
        "GET", f"/api/associations/near?lat={lat}&lon={lon}&radius_km=50", token=token
    )
    assert status == 200, body
    found = body["associations"]
    assert [a["id"] for a in found] == [delhi["id"], gurugram["id"]]
    assert found[0]["nearest_place"]["name"] == "Central hall"
    assert found[0]["distance_km"] == 0.7
    assert found[1]["distance_km"] == 24.7
    status, default_radius = await hub.request(
        "GET", f"/api/associations/near?lat={lat}&lon={lon}", token=token
    )
    assert [a["id"] for a in default_radius["associations"]] == [delhi["id"], gurugram["id"]]

    status, body = await hub.request(
        "GET", f"/api/associations/near?lat={lat}&lon={lon}&radius_km=2000", token=token
    )
    assert [a["id"] for a in body["associations"]] == [delhi["id"], gurugram["id"], bengaluru["id"]]
    assert body["associations"][2]["distance_km"] == 1739.8

    nearest = await hub.services["directory"].near(lat, lon, 2000, 2)
    assert [(n["association_id"], n["distance_km"]) for n in nearest] == [
        (delhi["id"], 0.7),
        (gurugram["id"], 24.7),
    ]

    # Moving Gurugram's gathering place to Bengaluru waits for the Cell; once approved it takes
    # it out of reach at once.
    status, body = await hub.request(
        "PATCH",
        f"/api/associations/{gurugram['id']}",
        token=token,
        json={"gathering_places": [place("Moved", (12.98, 77.6))]},
    )
    assert status == 200, body
    assert body["association"]["pending_changes"]["gathering_places"][0]["name"] == "Moved"
    assert [n["association_id"] for n in await hub.services["directory"].near(lat, lon, 50, 10)] == [
        delhi["id"], gurugram["id"]
    ]
    status, body = await hub.request("POST", f"/api/associations/{gurugram['id']}/changes/approve",
                                     token=officer["access_token"])
    assert status == 200, body
    assert [n["association_id"] for n in await hub.services["directory"].near(lat, lon, 50, 10)] == [
        delhi["id"]
    ]


async def test_near_across_the_antimeridian(hub: Any) -> None:
    founder, officer = await hub.user("Founder"), await hub.officer()
    fiji = await approved(
        hub,
        officer,
        founder,
        name="Fiji Mizo",
        country="FJ",
        city="Taveuni",
        gathering_places=[place("Beach", (-16.8, 179.95))],
    )
    status, body = await hub.request(
        "GET", "/api/associations/near?lat=-16.8&lon=-179.95&radius_km=50", token=founder["access_token"]
    )
    assert status == 200, body
    assert [(a["id"], a["distance_km"]) for a in body["associations"]] == [(fiji["id"], 10.6)]


# ---------------------------------------------------------------- contact visibility
async def test_contact_visibility_for_stranger_member_officer(hub: Any) -> None:
    founder, officer = await hub.user("Founder"), await hub.officer()
    stranger, member = await hub.user("Stranger"), await hub.user("Member")
    bearer = {
        "name": "Lalremruata",
        "position": "President",
        "user_id": founder["id"],
        "contacts": [
            {"kind": "email", "value": "Pres@Example.org", "visibility": "public"},
            {"kind": "whatsapp", "value": "+44 7700 900123", "visibility": "members"},
            {"kind": "phone", "value": "+447700900999", "visibility": "officers"},
        ],
    }
    association = await approved(hub, officer, founder, office_bearers=[bearer])
    aid = association["id"]
    await hub.request("POST", f"/api/associations/{aid}/join", token=member["access_token"])
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/requests/{member['id']}/approve", token=founder["access_token"]
    )
    assert status == 200, body

    async def contacts_seen_by(user: dict[str, Any]) -> list[dict[str, Any]]:
        status, body = await hub.request("GET", f"/api/associations/{aid}", token=user["access_token"])
        assert status == 200, body
        assert body["association"]["contact_email"] == association["contact_email"]  # official: public
        return body["association"]["office_bearers"][0]["contacts"]  # type: ignore[no-any-return]

    public = {"kind": "email", "value": "pres@example.org", "visibility": "public"}
    members_only = {"kind": "whatsapp", "value": "+447700900123", "visibility": "members"}
    officers_only = {"kind": "phone", "value": "+447700900999", "visibility": "officers"}
    assert await contacts_seen_by(stranger) == [public]
    assert await contacts_seen_by(member) == [public, members_only]
    assert await contacts_seen_by(officer) == [public, members_only, officers_only]
    assert await contacts_seen_by(founder) == [public, members_only, officers_only]


# ---------------------------------------------------------------- membership
async def test_join_request_approve_decline_and_member_lists(hub: Any) -> None:
    changes, _ = record_notifications(hub)
    founder, officer = await hub.user("Founder"), await hub.officer()
    joiner, other, outsider = await hub.user("Joiner"), await hub.user("Other"), await hub.user("Outsider")
    association = await approved(hub, officer, founder)
    aid = association["id"]
    pending = await register(hub, founder)
    status, body = await hub.request(
        "POST", f"/api/associations/{pending['id']}/join", token=joiner["access_token"]
    )
    assert_error(status, body, 404, "association_not_found")

    status, body = await hub.request("POST", f"/api/associations/{aid}/join", token=joiner["access_token"])
    assert status == 201 and body["membership"]["status"] == "requested", body
    status, body = await hub.request("POST", f"/api/associations/{aid}/join", token=joiner["access_token"])
    assert_error(status, body, 409, "already_requested")
    await hub.request("POST", f"/api/associations/{aid}/join", token=other["access_token"])

    status, body = await hub.request(
        "GET", f"/api/associations/{aid}/members", token=outsider["access_token"]
    )
    assert_error(status, body, 403, "not_member")
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/requests/{joiner['id']}/approve", token=joiner["access_token"]
    )
    assert_error(status, body, 403, "not_office_bearer")
    status, body = await hub.request("GET", f"/api/associations/{aid}/members", token=founder["access_token"])
    assert [(m["display_name"], m["status"]) for m in body["members"]] == [
        ("Founder", "active"),
        ("Joiner", "requested"),
        ("Other", "requested"),
    ]

    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/requests/{joiner['id']}/approve", token=founder["access_token"]
    )
    assert (
        status == 200 and body["membership"]["status"] == "active" and body["membership"]["role"] == "member"
    )
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/requests/{other['id']}/decline", token=founder["access_token"]
    )
    assert status == 204, body
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/requests/{other['id']}/approve", token=founder["access_token"]
    )
    assert_error(status, body, 404, "request_not_found")
    status, body = await hub.request("POST", f"/api/associations/{aid}/join", token=joiner["access_token"])
    assert_error(status, body, 409, "already_member")

    status, body = await hub.request("GET", f"/api/associations/{aid}/members", token=joiner["access_token"])
    assert [(m["display_name"], m["role"]) for m in body["members"]] == [
        ("Founder", "office_bearer"),
        ("Joiner", "member"),
    ]
    status, body = await hub.request("GET", f"/api/associations/{aid}/members", token=officer["access_token"])
    assert status == 200 and len(body["members"]) == 2
    status, body = await hub.request("GET", "/api/me/associations", token=joiner["access_token"])
    assert [(m["association"]["id"], m["association"]["name"], m["status"]) for m in body["memberships"]] == [
        (aid, association["name"], "active")
    ]

    status, _ = await hub.request(
        "DELETE", f"/api/associations/{aid}/members/me", token=joiner["access_token"]
    )
    assert status == 204
    assert (await hub.services["directory"].memberships.role_in(joiner["id"], aid)) is None
    assert [c for c in changes if c.user_id == joiner["id"]] == [
        MembershipChange(aid, joiner["id"], None, "member"),
        MembershipChange(aid, joiner["id"], "member", None),
    ]
    assert not [c for c in changes if c.user_id == other["id"]]


async def test_invite_accept_roles_and_the_last_office_bearer(hub: Any) -> None:
    changes, _ = record_notifications(hub)
    founder, officer = await hub.user("Founder"), await hub.officer()
    invitee, declined = await hub.user("Invitee"), await hub.user("Declines")
    association = await approved(hub, officer, founder)
    aid = association["id"]
    url = f"/api/associations/{aid}"

    status, body = await hub.request(
        "POST", f"{url}/invitations", token=founder["access_token"], json={"email": "nobody-here@example.org"}
    )
    assert status == 202, body  # like any other invitation: no enumeration
    status, body = await hub.request(
        "POST", f"{url}/invitations", token=invitee["access_token"], json={"email": declined["email"]}
    )
    assert_error(status, body, 403, "not_office_bearer")
    status, body = await hub.request(
        "POST", f"{url}/invitations", token=founder["access_token"], json={"email": invitee["email"].upper()}
    )
    assert status == 202, body
    status, body = await hub.request(
        "POST", f"{url}/invitations", token=founder["access_token"], json={"email": invitee["email"]}
    )
    assert status == 202, body  # already invited: nothing changes, same answer
    invitation = await hub.smtp.wait_for(invitee["email"], count=2)  # after the verification code
    assert f"/#/associations/{aid}" in mail_text(invitation[-1])
    status, body = await hub.request("GET", "/api/me/associations", token=invitee["access_token"])
    assert [m["status"] for m in body["memberships"]] == ["invited"]

    await hub.request(
        "POST", f"{url}/invitations", token=founder["access_token"], json={"email": declined["email"]}
    )
    status, _ = await hub.request("POST", f"{url}/invitation/decline", token=declined["access_token"])
    assert status == 204
    status, body = await hub.request("POST", f"{url}/invitation/accept", token=declined["access_token"])
    assert_error(status, body, 404, "invitation_not_found")

    status, body = await hub.request("POST", f"{url}/invitation/accept", token=invitee["access_token"])
    assert status == 200 and body["membership"]["status"] == "active", body
    status, body = await hub.request(
        "PATCH", f"{url}/members/{founder['id']}", token=invitee["access_token"], json={"role": "member"}
    )
    assert_error(status, body, 403, "not_office_bearer")

    # Alone, the founder can neither step down nor leave.
    before = await stored_memberships(hub, aid)
    status, body = await hub.request(
        "PATCH", f"{url}/members/me", token=founder["access_token"], json={"role": "member"}
    )
    assert_error(status, body, 409, "last_office_bearer")
    status, body = await hub.request(
        "DELETE", f"{url}/members/{founder['id']}", token=founder["access_token"]
    )
    assert_error(status, body, 409, "last_office_bearer")
    assert await stored_memberships(hub, aid) == before

    status, body = await hub.request(
        "PATCH",
        f"{url}/members/{invitee['id']}",
        token=founder["access_token"],
        json={"role": "office_bearer", "position": "Secretary"},
    )
    assert status == 200, body
    assert (body["membership"]["role"], body["membership"]["position"]) == ("office_bearer", "Secretary")
    status, body = await hub.request(
        "DELETE", f"{url}/members/{founder['id']}", token=invitee["access_token"]
    )
    assert status == 204, body
    status, body = await hub.request("DELETE", f"{url}/members/me", token=invitee["access_token"])
    assert_error(status, body, 409, "last_office_bearer")
    status, body = await hub.request("GET", f"{url}/members", token=invitee["access_token"])
    assert [(m["user_id"], m["role"], m["position"]) for m in body["members"]] == [
        (invitee["id"], "office_bearer", "Secretary")
    ]
    assert [c for c in changes if c.association_id == aid][1:] == [
        MembershipChange(aid, invitee["id"], None, "member"),
        MembershipChange(aid, invitee["id"], "member", "office_bearer"),
        MembershipChange(aid, founder["id"], "office_bearer", None),
    ]


async def add_office_bearer(hub: Any, aid: str, by: dict[str, Any], user: dict[str, Any]) -> None:
    url = f"/api/associations/{aid}"
    await hub.request("POST", f"{url}/invitations", token=by["access_token"], json={"email": user["email"]})
    status, body = await hub.request("POST", f"{url}/invitation/accept", token=user["access_token"])
    assert status == 200, body
    status, body = await hub.request(
        "PATCH", f"{url}/members/{user['id']}", token=by["access_token"], json={"role": "office_bearer"}
    )
    assert status == 200, body


async def test_office_bearers_removing_each_other_at_once_keep_one(hub: Any) -> None:
    founder, officer, second = await hub.user("Founder"), await hub.officer(), await hub.user("Second")
    aid = (await approved(hub, officer, founder))["id"]
    await add_office_bearer(hub, aid, founder, second)
    memberships = hub.services["directory"].memberships
    pairs = ((founder, second), (second, founder))

    async def at_once(method: str, json: Any) -> list[tuple[int, Any]]:
        return list(
            await asyncio.gather(
                *[
                    hub.request(
                        method,
                        f"/api/associations/{aid}/members/{target['id']}",
                        token=actor["access_token"],
                        json=json,
                    )
                    for actor, target in pairs
                ]
            )
        )

    demoted = await at_once("PATCH", {"role": "member"})
    bearers = await memberships.office_bearer_ids([aid])
    assert len(bearers) == 2 - sum(status == 200 for status, _ in demoted) >= 1, demoted
    for status, body in demoted:
        assert status == 200 or body["error"]["code"] in ("last_office_bearer", "not_office_bearer"), body
    survivor = next(u for u in (founder, second) if u["id"] in bearers)
    for user in (founder, second):  # both office bearers again
        if user["id"] not in bearers:
            status, body = await hub.request(
                "PATCH",
                f"/api/associations/{aid}/members/{user['id']}",
                token=survivor["access_token"],
                json={"role": "office_bearer"},
            )
            assert status == 200, body

    removed = await at_once("DELETE", None)
    remaining = await memberships.office_bearer_ids([aid])
    assert len(remaining) == 2 - sum(status == 204 for status, _ in removed) >= 1, removed
    for status, body in removed:
        assert status == 204 or body["error"]["code"] in ("last_office_bearer", "not_office_bearer"), body


# ---------------------------------------------------------------- editing
async def test_office_bearers_edit_details(hub: Any) -> None:
    founder, officer, stranger = await hub.user("Founder"), await hub.officer(), await hub.user("Stranger")
    association = await approved(hub, officer, founder)
    aid = association["id"]
    place_id = association["gathering_places"][0]["id"]
    for user in (stranger, officer):
        status, body = await hub.request(
            "PATCH", f"/api/associations/{aid}", token=user["access_token"], json={"name": "Taken over"}
        )
        assert_error(status, body, 403, "not_office_bearer")
    status, body = await hub.request(
        "PATCH",
        f"/api/associations/{aid}",
        token=founder["access_token"],
        json={"office_bearers": [{"name": "X", "position": "Y", "user_id": stranger["id"]}]},
    )
    assert_error(status, body, 400, "user_not_member")

    kept = {**place("Fellowship hall", DELHI), "id": place_id, "schedule": "Saturdays"}
    status, body = await hub.request(
        "PATCH",
        f"/api/associations/{aid}",
        token=founder["access_token"],
        json={"name": "Delhi Mizo Zawlbuk", "city": "Noida", "description": None, "gathering_places": [kept]},
    )
    assert status == 200, body
    waiting = body["association"]
    # the name applies at once; where the association is waits for the Cell (test_association_review)
    assert (waiting["name"], waiting["city"]) == ("Delhi Mizo Zawlbuk", association["city"])
    assert waiting["pending_changes"]["city"] == "Noida"
    status, body = await hub.request("POST", f"/api/associations/{aid}/changes/approve",
                                     token=officer["access_token"])
    assert status == 200, body
    updated = body["association"]
    assert updated["pending_changes"] is None
    assert (updated["name"], updated["city"], updated["description"]) == ("Delhi Mizo Zawlbuk", "Noida", None)
    assert updated["gathering_places"][0]["id"] == place_id
    assert updated["gathering_places"][0]["schedule"] == "Saturdays"
    assert updated["contact_email"] == association["contact_email"]  # untouched
    doc = await stored(hub, aid)
    assert (doc["name_lower"], doc["city_lower"], doc["status"]) == (
        "delhi mizo zawlbuk",
        "noida",
        "approved",
    )
    assert await search(hub, stranger["access_token"], "city=noida&q=ZAWLBUK") == ["Delhi Mizo Zawlbuk"]


# ---------------------------------------------------------------- refusals change nothing
async def test_bad_inputs_are_refused_and_change_nothing(hub: Any) -> None:
    founder, officer = await hub.user("Founder"), await hub.officer()
    association = await approved(hub, officer, founder)
    aid = association["id"]
    token = founder["access_token"]
    coll = hub.services["directory"].infra.store["associations"]
    count = await coll.count_documents({})
    before = await stored(hub, aid)

    def with_place(**fields: Any) -> dict[str, Any]:
        return {"gathering_places": [{**place("Hall", DELHI), **fields}]}

    bad_bodies: list[dict[str, Any]] = [
        {"unknown": 1},
        with_place(lat="12"),
        with_place(lat=91),
        with_place(lon=-180.5),
        with_place(lat=True),
        {"name": {"$gt": ""}},
        {"country": {"$gt": ""}},
        {"country": "india"},
        {"name": "$where"},
        {"description": "x" * 2001},
        {"contact_email": "not-an-email"},
        {"contact_phone": "12345"},
        {"name": None},
        {"gathering_places": [place(f"Hall {i}", DELHI) for i in range(21)]},
        {
            "office_bearers": [
                {"name": "A", "position": "B", "contacts": [{"kind": "email", "value": "not-an-email"}]}
            ]
        },
    ]
    for bad in bad_bodies:
        status, body = await hub.request(
            "POST", "/api/associations", token=token, json=association_body(**bad)
        )
        assert_error(status, body, 400, "invalid_payload")
        status, body = await hub.request("PATCH", f"/api/associations/{aid}", token=token, json=bad)
        assert_error(status, body, 400, "invalid_payload")
    status, body = await hub.request("PATCH", f"/api/associations/{aid}", token=token, json={})
    assert_error(status, body, 400, "invalid_payload")
    status, body = await hub.request(
        "PATCH",
        f"/api/associations/{aid}",
        token=token,
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_error(status, body, 400, "invalid_payload")
    status, body = await hub.request(
        "POST", f"/api/associations/{aid}/join", token=token, json={"user_id": aid}
    )
    assert_error(status, body, 400, "invalid_payload")

    for method, path in [
        ("GET", "/api/associations/not-an-id"),
        ("PATCH", "/api/associations/ZZ"),
        ("POST", "/api/associations/%24gt/approve"),
        ("POST", f"/api/associations/{aid}/requests/nope/approve"),
        ("DELETE", f"/api/associations/{aid}/members/{aid.upper()}"),
    ]:
        status, body = await hub.request(method, path, token=officer["access_token"])
        assert_error(status, body, 404, "invalid_id")
    status, body = await hub.request("GET", f"/api/associations/{'0' * 24}", token=token)
    assert_error(status, body, 404, "association_not_found")
    status, body = await hub.request("GET", "/api/associations", token=None)
    assert_error(status, body, 401)

    for query in ["country[$gt]=", "q=a&q=b", "limit=1000", "limit=0", "offset=-1", "country=IND", "city="]:
        status, body = await hub.request("GET", f"/api/associations?{query}", token=token)
        assert_error(status, body, 400, "invalid_payload")
    for query in [
        "lat=abc&lon=77",
        "lat=91&lon=77",
        "lat=28&lon=181",
        "lat=28",
        "lat=28&lon=77&radius_km=0",
        "lat=28&lon=77&radius_km=20001",
        "lat=nan&lon=77",
        "lat=28&lon=77&radius_km=inf",
        "lat=28&lon=77&extra=1",
    ]:
        status, body = await hub.request("GET", f"/api/associations/near?{query}", token=token)
        assert_error(status, body, 400, "invalid_payload")

    assert await coll.count_documents({}) == count
    assert await stored(hub, aid) == before
