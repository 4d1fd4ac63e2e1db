"""Everyday flows of the web client, part two (issue 12, item 1 and 4): channels between
associations (create, invite, accept, decline, leave), the person's own past alerts (a duress
"cancel" listed exactly like a real one, and hidden on request), gathering places edited and sent
for review, and the last conversations with no network (cached, and messages written offline sent
once, in order).  Real Chromium against a real hubchat; the other people are real Socket.IO
clients; axe-core on every new page, at 360 × 740 and at desktop size."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.web_support import (
    DESKTOP,
    DURESS_PIN,
    PHONE,
    SOS_PIN,
    Actor,
    ActorFactory,
    association_with_members,
    audit_accessibility,
    channel_of,
    member,
)

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(150)


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def audit_both_sizes(actor: Actor, where: str) -> None:
    """axe-core and the in-page checks at the phone size and at the desktop size."""
    size = actor.page.viewport_size
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await actor.page.set_viewport_size(viewport)
        await audit_accessibility(actor, f"{where} ({name})")
    await actor.page.set_viewport_size(size)


# ---------------------------------------------------------------- channels between associations
async def test_office_bearers_create_a_channel_invite_accept_decline_and_leave(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer()
    bearer_a = await member(web_hub, "Lalthangliana", country="AE", city="Dubai")
    bearer_b = await member(web_hub, "Zonunmawii", country="AE", city="Abu Dhabi")
    assoc_a = await association_with_members(web_hub, officer, bearer_a, [], name="Dubai Mizo Fellowship")
    assoc_b = await association_with_members(web_hub, officer, bearer_b, [], name="Abu Dhabi Mizo Kohhran",
                                             place=(24.4539, 54.3773))

    # A's office bearer, on a phone: the chat list offers a new channel between associations.
    a = await actors("bearer-a")
    await a.login(bearer_a["email"])
    await a.page.get_by_role("link", name="New channel between associations").click()
    await expect(a.page).to_have_url(re.compile(r"#/channels/new$"))
    await a.page.get_by_label("Channel name").fill("Gulf office bearers")
    await audit_both_sizes(a, "new channel")
    await a.page.get_by_role("button", name="Create the channel").click()
    await expect(a.page).to_have_url(re.compile(r"#/channels/[0-9a-f]{24}$"))
    channel_id = a.page.url.rsplit("/", 1)[1]
    await expect(a.page.locator("#channel-associations")).to_have_text("Dubai Mizo Fellowship")
    await a.page.get_by_label("Association name").fill("Abu Dhabi")
    await a.page.get_by_role("button", name="Search").click()
    await a.page.get_by_role("button", name="Invite Abu Dhabi Mizo Kohhran").click()
    await expect(a.page.locator("#channel-invited")).to_have_text("Abu Dhabi Mizo Kohhran")
    await audit_both_sizes(a, "manage channel")
    await a.shot("50-channel-invite-phone")
    # B's office bearer, on a desktop: the association page lists the invitation, and a second
    # one (sent over the socket: B will decline that one) appears while the page is open.
    b = await actors("bearer-b", viewport=DESKTOP)
    await b.login(bearer_b["email"])
    await b.goto(f"#/associations/{assoc_b['id']}")
    invitations = b.page.locator("#channel-invitations > li")
    await expect(invitations).to_have_count(1)
    sock_a = await web_hub.connect(bearer_a["access_token"])
    sports = (await sock_a.call("channel:create", {"kind": "inter", "name": "Sports day",
                                                   "association_id": assoc_a["id"]}))["channel"]
    assert "channel" in await sock_a.call("channel:invite", {"channel_id": sports["id"],
                                                             "association_id": assoc_b["id"]})
    await expect(invitations).to_have_count(2)
    await expect(invitations.first).to_contain_text("Gulf office bearers")
    await expect(invitations.first).to_contain_text("Invited by Dubai Mizo Fellowship")
    await audit_both_sizes(b, "channel invitations")
    await b.shot("51-channel-invitations-desktop")
    await b.page.get_by_role("button", name="Decline: Sports day").click()
    await expect(invitations).to_have_count(1)
    await b.page.get_by_role("button", name="Accept: Gulf office bearers").click()
    await expect(b.page.locator("#channel-invitations")).to_have_text("No invitations waiting.")
    await b.goto(f"#/chat/{channel_id}")
    await expect(b.page.get_by_role("heading", name="Gulf office bearers")).to_be_visible()
    status, body = await web_hub.request("GET", "/api/channels", token=bearer_a["access_token"])
    by_id = {c["id"]: c for c in body["channels"]}
    assert sorted(by_id[channel_id]["association_ids"]) == sorted([assoc_a["id"], assoc_b["id"]])
    assert by_id[sports["id"]]["invited_association_ids"] == []

    # B leaves the channel from its page ("Associations in this channel").
    await b.page.get_by_role("link", name="Associations in this channel").click()
    await expect(b.page).to_have_url(re.compile(f"#/channels/{channel_id}$"))
    b.page.once("dialog", lambda dialog: dialog.accept())
    await b.page.get_by_role("button", name="Leave for Abu Dhabi Mizo Kohhran").click()
    await expect(b.page).to_have_url(re.compile(r"#/chat$"))
    await expect(b.page.locator(".channel-list")).not_to_contain_text("Gulf office bearers")
    status, body = await web_hub.request("GET", "/api/channels", token=bearer_a["access_token"])
    assert [c["association_ids"] for c in body["channels"] if c["id"] == channel_id] == [[assoc_a["id"]]]
    for actor in (a, b):
        actor.assert_clean()


# ---------------------------------------------------------------- the person's past alerts
async def test_the_person_reads_their_past_alerts_where_duress_looks_like_a_cancel_and_hides_them(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer(display_name="Duty Officer Lalmuanpuia")
    cell = await web_hub.connect(officer["access_token"])
    account = await member(web_hub, "Lalrinpuii", sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    phone = await web_hub.connect(account["access_token"])

    async def alert(client_sos_id: str, ending: list[str], pin: str | None = None) -> str:
        ack = await phone.call("sos:trigger", {"client_sos_id": client_sos_id, "category": "violence",
                                               "lat": 25.2, "lon": 55.27})
        alert_id: str = ack["alert"]["id"]
        for action in ending:
            moved = await cell.call("sos:transition", {"alert_id": alert_id, "action": action})
            assert "alert" in moved, moved
        if pin:
            cancelled = await phone.call("sos:cancel", {"alert_id": alert_id, "pin": pin})
            assert cancelled["alert"]["status"] == "cancelled", cancelled
        return alert_id

    real = await alert("history-real-cancel", ["acknowledge"], SOS_PIN)
    resolved = await alert("history-resolved", ["acknowledge", "respond", "resolve"])
    duress = await alert("history-duress", ["acknowledge"], DURESS_PIN)
    assert (await cell.call("sos:get", {"alert_id": duress}))["alert"]["duress"] is True

    person = await actors("person")
    await person.login(account["email"])
    await person.page.locator("#sos-fab").click()
    await person.page.get_by_role("link", name="My past alerts").click()
    await expect(person.page).to_have_url(re.compile(r"#/sos/history$"))
    items = person.page.locator("#my-alerts > li")
    await expect(items).to_have_count(3)
    shown = {await items.nth(i).get_attribute("data-status"): i for i in range(3)}
    assert set(shown) == {"cancelled", "resolved"}
    await expect(items.nth(0)).to_contain_text("Violence · Cancelled")  # the duress one, newest
    await expect(items.nth(1)).to_contain_text("Violence · Resolved")
    await expect(items.nth(2)).to_contain_text("Violence · Cancelled")
    # The duress "cancel" and the real cancel: the same words, the same marks, in the same shape.
    duress_item, real_item = items.nth(0), items.nth(2)
    for part in ("strong", "span"):
        assert await duress_item.locator(part).all_inner_texts() == await real_item.locator(part).all_inner_texts()
    assert await duress_item.evaluate("(el) => el.outerHTML.replace(/<time[^>]*>.*?<\\/time>/, '')") == \
        await real_item.evaluate("(el) => el.outerHTML.replace(/<time[^>]*>.*?<\\/time>/, '')")
    await expect(duress_item).to_contain_text("Acknowledged by Duty Officer Lalmuanpuia")
    assert "duress" not in (await person.page.content()).lower()
    await audit_both_sizes(person, "my past alerts")
    await person.shot("52-my-past-alerts-phone")
    status, body = await web_hub.request("GET", "/api/me/sos/alerts", token=account["access_token"])
    assert [a["id"] for a in body["alerts"]] == [duress, resolved, real]

    # Hidden on request: gone from the person's list, still the Cell's.
    person.page.once("dialog", lambda dialog: dialog.accept())
    await person.page.get_by_role("button", name="Hide my past alerts").click()
    await expect(person.page.locator("#my-alerts-empty")).to_be_visible()
    await expect(items).to_have_count(0)
    status, body = await web_hub.request("GET", "/api/me/sos/alerts", token=account["access_token"])
    assert body["alerts"] == [] and body["hidden_before"], body
    assert (await cell.call("sos:get", {"alert_id": real}))["alert"]["status"] == "cancelled"
    person.assert_clean()


# ---------------------------------------------------------------- gathering places
async def test_an_office_bearer_adds_a_gathering_place_that_waits_for_review(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer()
    bearer = await member(web_hub, "Lalhriatpuii", country="AE", city="Dubai")
    association = await association_with_members(web_hub, officer, bearer, [], name="Karama Mizo Fellowship")
    pastor = await actors("bearer", viewport=DESKTOP)
    await pastor.login(bearer["email"])
    await pastor.goto(f"#/associations/{association['id']}")
    page = pastor.page
    await page.get_by_text("Edit the association").click()
    rows = page.locator("#places-edit > li")
    await expect(rows).to_have_count(1)
    await expect(rows.first.get_by_label("Place name")).to_have_value("Community hall")
    await page.get_by_role("button", name="Add a place").click()
    await expect(rows).to_have_count(2)
    new = rows.nth(1)
    await expect(new.get_by_label("Place name")).to_be_focused()
    await new.get_by_label("Place name").fill("Deira prayer room")
    await new.get_by_label("Address").fill("Al Rigga, Deira, Dubai")
    await new.get_by_label("When you meet").fill("Fridays 7 pm")
    await new.get_by_label("Latitude").fill("25.2654")
    await new.get_by_label("Longitude").fill("55.3152")
    await audit_both_sizes(pastor, "gathering places editor")
    await page.locator("#edit-association").get_by_role("button", name="Save changes").click()
    await expect(page.locator("#pending-changes")).to_be_visible()
    await pastor.shot("53-gathering-places-review")
    status, body = await web_hub.request("GET", f"/api/associations/{association['id']}",
                                         token=bearer["access_token"])
    page_now = body["association"]
    assert [p["name"] for p in page_now["gathering_places"]] == ["Community hall"]  # in force until reviewed
    assert [p["name"] for p in page_now["pending_changes"]["gathering_places"]] == ["Community hall",
                                                                                    "Deira prayer room"]
    assert page_now["pending_changes"]["gathering_places"][0]["id"] == page_now["gathering_places"][0]["id"]
    # The page still lists the places in force; the editor starts from the list under review.
    await page.reload()
    await expect(page.locator("ul.places > li")).to_have_count(1)
    await page.get_by_text("Edit the association").click()
    await expect(rows).to_have_count(2)
    # An incomplete place is refused in the page, before anything is sent.
    await rows.nth(1).get_by_label("Latitude").fill("")
    await page.locator("#edit-association").get_by_role("button", name="Save changes").click()
    await expect(page.locator("#edit-association .error")).to_contain_text("needs a name, an address")
    pastor.assert_clean()


# ---------------------------------------------------------------- conversations with no network
async def test_the_last_conversation_opens_with_no_network_and_offline_messages_go_out_once_in_order(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer()
    bearer = await member(web_hub, "Pastor Vanlalruata", country="AE", city="Dubai")
    account = await member(web_hub, "Lalremsiami", country="AE", city="Dubai")
    association = await association_with_members(web_hub, officer, bearer, [account])
    channel = await channel_of(web_hub, bearer["access_token"], association["id"])
    pastor = await web_hub.connect(bearer["access_token"])
    for n, text in enumerate(("Inkhawm kan nei ang", "Pathianni dar 4-ah")):
        ack = await pastor.call("message:send", {"channel_id": channel["id"], "client_msg_id": f"pastor-{n}-abcdef",
                                                 "body": text})
        assert "message" in ack, ack

    person = await actors("member", service_workers="allow")
    await person.login(account["email"])
    await person.goto(f"#/chat/{channel['id']}")
    page = person.page
    said = page.locator("li.msg p.body")
    await expect(said).to_have_text(["Inkhawm kan nei ang", "Pathianni dar 4-ah"])
    await person.eval("async () => { await navigator.serviceWorker.ready; }")
    await page.wait_for_function("""() => Object.keys(localStorage).some((k) => k.endsWith('.cache')
      && localStorage.getItem(k).includes('Pathianni dar 4-ah'))""")

    # No network: the page, the channel list and the conversation come from this device.
    await person.context.set_offline(True)
    response = await page.reload()
    assert response is not None and response.from_service_worker, response
    await expect(said).to_have_text(["Inkhawm kan nei ang", "Pathianni dar 4-ah"])
    await expect(page.locator("#conn-status")).not_to_have_text("Online")
    for text in ("Ka lo kal ang", "Ka nu nen kan kal ang", "Ka lawm e"):
        await page.get_by_label("Message", exact=True).fill(text)
        await page.get_by_label("Message", exact=True).press("Enter")
    pending = page.locator("li.msg.pending")
    await expect(pending).to_have_count(3)
    await expect(pending.first).to_contain_text("Waiting for connection")
    await audit_both_sizes(person, "conversation offline")
    await person.shot("54-chat-offline-cold-start")

    # The network returns: each goes out once, in the order written.
    await person.context.set_offline(False)
    await person.eval("() => window.dispatchEvent(new Event('online'))")
    await person.wait_online(timeout=20_000)
    await expect(pending).to_have_count(0, timeout=15_000)
    await expect(said).to_have_text(["Inkhawm kan nei ang", "Pathianni dar 4-ah", "Ka lo kal ang",
                                     "Ka nu nen kan kal ang", "Ka lawm e"])
    status, body = await web_hub.request("GET", f"/api/channels/{channel['id']}/messages",
                                         token=bearer["access_token"])
    assert [m["body"] for m in body["messages"]] == ["Inkhawm kan nei ang", "Pathianni dar 4-ah", "Ka lo kal ang",
                                                     "Ka nu nen kan kal ang", "Ka lawm e"]
    person.assert_clean()


# ---------------------------------------------------------------- contact the Cell
async def test_a_person_contacts_the_cell_and_reaches_the_officer_on_duty(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer(display_name="Duty Officer Rualchhingi")
    account = await member(web_hub, "Lalduhawmi")
    person = await actors("person")
    await person.login(account["email"])
    await person.goto("#/associations")
    contact = person.page.get_by_role("button", name="Contact the Diaspora Cell")
    await contact.click()  # nobody on duty yet: said plainly, with the way to SOS
    await expect(person.page.locator("#main .error").first).to_contain_text(
        "No Diaspora Cell officer is on duty right now. In danger, use the SOS button.")
    await audit_both_sizes(person, "directory with contact the Cell")

    cell = await web_hub.connect(officer["access_token"])
    assert (await cell.call("duty:set", {"on_duty": True}))["duty"]["on_duty"] is True
    await contact.click()
    await expect(person.page).to_have_url(re.compile(r"#/chat/[0-9a-f]{24}$"))
    await expect(person.page.get_by_role("heading", name="Duty Officer Rualchhingi")).to_be_visible()
    await person.page.get_by_label("Message", exact=True).fill("My passport was taken by my employer")
    await person.page.get_by_label("Message", exact=True).press("Enter")
    (said,) = await cell.wait_for("message:new", timeout=10)
    assert said["body"] == "My passport was taken by my employer"
    assert said["sender"]["id"] == account["id"]
    person.assert_clean()
