"""The safety page (profile: edit, export, delete; trusted contacts) and the console's safety
profile section, in Debian's Chromium against a real hubchat (issue 14, items 1 and 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.web_support import DESKTOP, DURESS_PIN, SOS_PIN, ActorFactory, member

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(120)


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def test_the_person_edits_exports_and_deletes_the_profile_and_adds_a_contact(
        actors: ActorFactory, web_hub: HubClient) -> None:
    someone = await member(web_hub, "Lalrinmawii", sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    me = await actors("person")
    await me.login(someone["email"])
    page = me.page
    await page.get_by_role("link", name="Safety").click()
    await expect(page.get_by_role("heading", name="Safety profile", exact=True)).to_be_visible()

    await page.get_by_label("Employer").fill("Gulf Builders LLC")
    await page.get_by_label("Emergency contacts at home").fill("Pi Zaii, +91 98620 12345, mother")
    await page.get_by_label("Passport", exact=True).select_option("held_by_employer")
    await page.get_by_label("Medical notes").fill("Asthma")
    await page.get_by_label("Languages you speak").fill("Mizo, English")
    await page.get_by_role("button", name="Save safety profile").click()
    await expect(page.locator("#safety-saved")).to_have_text("Your safety profile is saved.")
    status, body = await web_hub.request("GET", "/api/me/safety-profile", token=someone["access_token"])
    assert body["profile"]["employer"] == "Gulf Builders LLC"
    assert body["profile"]["passport_status"] == "held_by_employer"
    assert body["profile"]["emergency_contacts_home"] == [
        {"name": "Pi Zaii", "phone": "+91 98620 12345", "relation": "mother"}]
    assert body["profile"]["languages"] == ["Mizo", "English"]

    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download my profile (JSON)").click()
    download = await info.value
    exported = json.loads(Path(await download.path()).read_text(encoding="utf-8"))
    assert exported["profile"]["medical_notes"] == "Asthma" and download.suggested_filename == "safety-profile.json"

    # a trusted contact: added, emailed a link, shown as waiting
    await page.get_by_label("Name", exact=True).fill("Pi Zaii")
    await page.get_by_label("Email", exact=True).fill("pizaii@family.example.org")
    await page.get_by_label("May receive my location").check()
    await page.get_by_role("button", name="Add contact").click()
    row = page.locator("#contact-list li").filter(has_text="pizaii@family.example.org")
    await expect(row).to_contain_text("Waiting for confirmation")
    await expect(row.get_by_role("button", name="Location: shared")).to_be_visible()
    await web_hub.smtp.wait_for("pizaii@family.example.org")
    await me.shot("safety-profile-phone", full_page=True)
    assert "null" not in await page.locator("main").inner_text()

    await page.get_by_role("button", name="Delete my profile").click()
    await page.get_by_role("button", name="Yes, delete it").click()
    await expect(page.locator("#safety-saved")).to_have_text("Your safety profile is deleted.")
    await expect(page.get_by_label("Employer")).to_have_value("")
    assert "null" not in await page.locator("main").inner_text()
    status, body = await web_hub.request("GET", "/api/me/safety-profile", token=someone["access_token"])
    assert body["profile"] is None
    me.assert_clean()


async def test_the_console_shows_the_profile_only_when_asked_and_records_it(actors: ActorFactory,
                                                                         web_hub: HubClient) -> None:
    officer = await web_hub.officer(display_name="Duty Officer Zothanpuii")
    someone = await member(web_hub, "Vanlalruata", sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    status, _ = await web_hub.request("PUT", "/api/me/safety-profile", token=someone["access_token"], json={
        "employer": "Kuala Palms Sdn Bhd", "passport_status": "held_by_agent", "medical_notes": "Diabetic"})
    assert status == 200
    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    page = cell.page
    duty = page.get_by_role("switch", name="On duty")
    await duty.click()
    await expect(duty).to_have_attribute("aria-checked", "true")
    status, body = await web_hub.request("POST", "/api/sos", token=someone["access_token"], json={
        "client_sos_id": f"safety-{someone['id']}", "category": "exploitation", "lat": 3.139, "lon": 101.6869})
    assert status == 201, body
    alert_id = body["alert"]["id"]
    await page.locator("#alert-list .alert-item").filter(has_text="Vanlalruata").click()
    button = page.get_by_role("button", name="Show safety profile")
    await expect(button).to_be_visible()
    sos = web_hub.services["sos"]
    assert [e for e in await sos.repo.audit_entries(alert_id) if e["action"] == "safety_profile"] == []

    await button.click()
    facts = page.locator("#safety-facts")
    await expect(facts).to_contain_text("Kuala Palms Sdn Bhd")
    await expect(facts).to_contain_text("Held by the agent")
    await expect(facts).to_contain_text("Diabetic")
    viewed = [e for e in await sos.repo.audit_entries(alert_id) if e["action"] == "safety_profile"]
    assert [e["viewer"]["id"] for e in viewed] == [officer["id"]]
    await cell.shot("console-safety-profile")

    # once the alert is closed the same button answers that nothing is available
    sock = await web_hub.connect(officer["access_token"])
    for action in ("acknowledge", "respond", "resolve"):
        ack = await sock.call("sos:transition", {"alert_id": alert_id, "action": action})
        assert "alert" in ack, ack
    status, body = await web_hub.request("GET", f"/api/sos/alerts/{alert_id}/safety-profile",
                                         token=officer["access_token"])
    assert (status, body["error"]["code"]) == (404, "safety_profile_unavailable")
    cell.assert_clean()
