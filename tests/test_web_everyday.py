"""Everyday flows of the web client (issue 12): a member writes to an office bearer straight from
the association's page, the office bearer writes to a member from the member list, and someone
outside the association is offered no such button.  Real Chromium against a real hubchat; the
other side is a real Socket.IO client or a second browser."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.web_support import DESKTOP, ActorFactory, association_with_members, audit_accessibility, member

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(120)


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


def message(actor: Any, text: str) -> Any:
    return actor.page.locator("li.msg").filter(has=actor.page.locator("p.body", has_text=re.compile(
        f"^{re.escape(text)}$")))


async def test_a_member_and_an_office_bearer_write_to_each_other_from_the_directory(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer()
    bearer = await member(web_hub, "Pastor Lalrinawma", country="AE", city="Dubai")
    joiner = await member(web_hub, "Lalnghakliana", country="AE", city="Dubai")
    outsider = await member(web_hub, "Vanlalhruaia", country="AE", city="Dubai")
    association = await association_with_members(web_hub, officer, bearer, [joiner], name="Dubai Mizo Fellowship")
    page_url = f"#/associations/{association['id']}"

    # The member: "Message" beside the office bearer opens their conversation.
    person = await actors("member")
    await person.login(joiner["email"])
    await person.goto(page_url)
    await person.page.get_by_role("button", name="Message Founder").click()
    await expect(person.page).to_have_url(re.compile(r"#/chat/[0-9a-f]{24}$"))
    await expect(person.page.get_by_role("heading", name="Pastor Lalrinawma")).to_be_visible()
    dm_id = person.page.url.rsplit("/", 1)[1]
    await person.page.get_by_label("Message", exact=True).fill("When is the Sunday service?")
    await person.page.get_by_label("Message", exact=True).press("Enter")
    await expect(message(person, "When is the Sunday service?")).to_be_visible()
    await audit_accessibility(person, "direct conversation")

    # The office bearer, in the browser: the member list offers "Message" too, to the same conversation.
    pastor = await actors("bearer", viewport=DESKTOP)
    await pastor.login(bearer["email"])
    await pastor.goto(page_url)
    await pastor.page.get_by_role("button", name="Message Lalnghakliana").click()
    await expect(pastor.page).to_have_url(re.compile(f"#/chat/{dm_id}$"))
    await expect(message(pastor, "When is the Sunday service?")).to_be_visible()
    await pastor.page.get_by_label("Message", exact=True).fill("Sundays at 4 pm, in the community hall")
    await pastor.page.get_by_label("Message", exact=True).press("Enter")
    await expect(message(person, "Sundays at 4 pm, in the community hall")).to_be_visible()
    await audit_accessibility(pastor, "association page, office bearer")

    # Someone outside the association sees the listing but is offered no button (and the server
    # would refuse: dm_not_allowed).
    stranger = await actors("outsider")
    await stranger.login(outsider["email"])
    await stranger.goto(page_url)
    await expect(stranger.page.get_by_role("heading", name="Dubai Mizo Fellowship")).to_be_visible()
    await expect(stranger.page.locator(".bearers > li")).to_have_count(1)
    await expect(stranger.page.locator(".dm-button")).to_have_count(0)
    sock = await web_hub.connect(outsider["access_token"])
    refused = await sock.call("dm:open", {"user_id": bearer["id"]})
    assert refused["error"]["code"] == "dm_not_allowed", refused
    for actor in (person, pastor, stranger):
        actor.assert_clean()


async def test_an_officer_finds_closed_alerts_by_filter_and_reads_who_saw_them(
        actors: ActorFactory, web_hub: HubClient) -> None:
    import datetime as dt

    officer = await web_hub.officer(display_name="Duty Officer Lalremsiami")
    sock = await web_hub.connect(officer["access_token"])
    closed = {}
    for name, category, last in (("Hmingthanpuii", "medical", "resolve"), ("Rohmingliana", "violence", "false_alarm")):
        person = await member(web_hub, name, sos_pin="2468", duress_pin="1357")
        status, body = await web_hub.request("POST", "/api/sos", token=person["access_token"], json={
            "client_sos_id": f"history-{name}", "category": category, "lat": 25.2, "lon": 55.27})
        assert status == 201, body
        for action in ("acknowledge", "respond", last):
            moved = await sock.call("sos:transition", {"alert_id": body["alert"]["id"], "action": action})
            assert "alert" in moved, moved
        closed[name] = body["alert"]["id"]

    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    page = cell.page
    history = page.locator("#history")
    await history.get_by_label("Status").select_option("resolved")
    await history.get_by_role("button", name="Show").click()
    items = page.locator("#history-list .history-item")
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("Hmingthanpuii · Medical · Resolved")
    await audit_accessibility(cell, "console history")

    # Opening it shows the detail pane, and its audit log names who saw it (this officer, now).
    await items.first.click()
    await expect(page.locator("#alert-detail h2")).to_have_text("Hmingthanpuii")
    await expect(page.locator("#audit-log")).to_contain_text("Duty Officer Lalremsiami (officer)")
    await expect(page).to_have_url(re.compile(f"#/console/{closed['Hmingthanpuii']}$"))

    # Every closed one, then a day with none.
    await history.get_by_label("Status").select_option("")
    await history.get_by_role("button", name="Show").click()
    await expect(items).to_have_count(2)
    await expect(items.first).to_contain_text("Rohmingliana · Violence · False alarm")
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    await history.get_by_label("From (day)").fill(tomorrow)
    await history.get_by_role("button", name="Show").click()
    await expect(page.locator("#history-list")).to_contain_text("No closed alert matches.")
    cell.assert_clean()


async def _tab_to(page: Any, selector: str, key: str = "Tab", limit: int = 30) -> int:
    """Presses ``key`` until ``selector`` has focus; returns the presses."""
    for presses in range(1, limit + 1):
        await page.keyboard.press(key)
        if await page.evaluate("(sel) => document.activeElement?.matches(sel) ?? false", selector):
            return presses
    raise AssertionError(f"{selector} not reached with {limit} presses of {key}")


async def test_an_officer_handles_an_alert_with_the_keyboard_only(actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer(display_name="Duty Officer Zonunsanga")
    person = await member(web_hub, "Lalbiakzuali", sos_pin="2468", duress_pin="1357")
    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    page = cell.page
    await page.locator(".skip-link").focus()
    await _tab_to(page, "#duty-switch")
    await page.keyboard.press("Enter")
    await expect(page.locator("#duty-switch")).to_have_attribute("aria-checked", "true")
    status, body = await web_hub.request("POST", "/api/sos", token=person["access_token"], json={
        "client_sos_id": "keyboard-1", "category": "exploitation", "lat": 25.2, "lon": 55.27})
    assert status == 201, body
    alert_id = body["alert"]["id"]
    await expect(page.locator("#alert-list .alert-item")).to_have_count(1, timeout=15_000)

    # Into the list, open the alert: focus moves to its heading; on to "Acknowledge".
    presses = await _tab_to(page, "#alert-list .alert-item", limit=60)
    await page.keyboard.press("Enter")
    await expect(page.locator("#alert-detail h2")).to_be_focused()
    assert presses <= 20, presses
    await _tab_to(page, "button[data-action=acknowledge]")
    await page.keyboard.press("Enter")
    # Each step leaves the focus on the next one.
    await expect(page.locator("button[data-action=respond]")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("button[data-action=resolve]")).to_be_focused()
    # A note, typed and sent from the keyboard.
    await _tab_to(page, "#note-input")
    await page.keyboard.type("Spoke to her employer; she is at the embassy now")
    await _tab_to(page, "#note-form button[type=submit]")
    await page.keyboard.press("Enter")
    await expect(page.locator("#timeline")).to_contain_text("Spoke to her employer; she is at the embassy now")
    await _tab_to(page, "button[data-action=resolve]", key="Shift+Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#alert-detail h2")).to_be_focused()
    sock = await web_hub.connect(officer["access_token"])
    got = await sock.call("sos:get", {"alert_id": alert_id})
    assert got["alert"]["status"] == "resolved", got
    cell.assert_clean()


async def test_an_office_bearer_manages_members_and_a_member_leaves(actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer()
    bearer = await member(web_hub, "Lalthangliana", country="AE", city="Dubai")
    secretary = await member(web_hub, "Ramengmawii", country="AE", city="Dubai")
    removed = await member(web_hub, "Zodinpuia", country="AE", city="Dubai")
    leaver = await member(web_hub, "Vanlalpeka", country="AE", city="Dubai")
    association = await association_with_members(web_hub, officer, bearer, [secretary, removed, leaver])
    page_url = f"#/associations/{association['id']}"

    async def memberships() -> dict[str, tuple[str, str | None]]:
        status, body = await web_hub.request("GET", f"/api/associations/{association['id']}/members",
                                             token=bearer["access_token"])
        assert status == 200, body
        return {m["display_name"]: (m["role"], m["position"]) for m in body["members"] if m["status"] == "active"}

    pastor = await actors("bearer", viewport=DESKTOP)
    await pastor.login(bearer["email"])
    await pastor.goto(page_url)
    page = pastor.page
    # A member becomes an office bearer with a position.
    await page.get_by_label("Role of Ramengmawii").select_option("office_bearer")
    await page.get_by_label("Position of Ramengmawii").fill("Secretary")
    await page.get_by_role("button", name="Save: Ramengmawii").click()
    await expect(page.get_by_label("Position of Ramengmawii")).to_have_value("Secretary")
    assert (await memberships())["Ramengmawii"] == ("office_bearer", "Secretary")
    # A member removed (after the browser's confirmation).
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Remove: Zodinpuia").click()
    await expect(page.locator(".members > li", has_text="Zodinpuia")).to_have_count(0)
    assert "Zodinpuia" not in await memberships()
    await audit_accessibility(pastor, "association members")

    # A member leaves by themself.
    person = await actors("member")
    await person.login(leaver["email"])
    await person.goto(page_url)
    person.page.once("dialog", lambda dialog: dialog.accept())
    await person.page.get_by_role("button", name="Leave the association").click()
    await expect(person.page).to_have_url(re.compile(r"#/associations$"))
    assert "Vanlalpeka" not in await memberships()
    for actor in (pastor, person):
        actor.assert_clean()


async def test_an_office_bearer_edits_the_association_and_a_new_city_waits_for_review(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer()
    bearer = await member(web_hub, "Lalramliana", country="AE", city="Dubai")
    association = await association_with_members(web_hub, officer, bearer, [], name="Sharjah Mizo Welfare")
    pastor = await actors("bearer", viewport=DESKTOP)
    await pastor.login(bearer["email"])
    await pastor.goto(f"#/associations/{association['id']}")
    page = pastor.page
    await page.get_by_text("Edit the association").click()
    form = page.locator("#edit-association")
    await form.get_by_label("Description (optional)").fill("Help desk every Friday after prayers.")
    await form.get_by_label("City").fill("Sharjah")
    await form.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#pending-changes")).to_contain_text("Waiting for the Diaspora Cell's review: Sharjah")
    await audit_accessibility(pastor, "edit association")

    status, body = await web_hub.request("GET", f"/api/associations/{association['id']}", token=bearer["access_token"])
    assert status == 200, body
    page_now = body["association"]
    assert page_now["description"] == "Help desk every Friday after prayers."  # applied at once
    assert page_now["city"] == "Dubai" and page_now["pending_changes"]["city"] == "Sharjah"  # reviewed first
    status, body = await web_hub.request("POST", f"/api/associations/{association['id']}/changes/approve",
                                         token=officer["access_token"])
    assert status == 200 and body["association"]["city"] == "Sharjah", body
    await page.reload()
    await expect(page.get_by_role("heading", name="Sharjah Mizo Welfare")).to_be_visible()
    await expect(page.locator("#pending-changes")).to_be_hidden()
    pastor.assert_clean()
