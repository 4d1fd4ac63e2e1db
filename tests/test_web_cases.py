"""Cases and reports in the officers' console, and the person's case status on the SOS screen:
real Chromium against a real hubchat (real Redis, store, aiosmtpd), people's phones as real
Socket.IO clients.  alert → case → note → referral (the email with its attachment arrives in
aiosmtpd) → close; the reports page draws its charts (canvas) and shows a suppressed cell."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.test_sos_helpers import account, trigger
from tests.web_support import DESKTOP, PHONE, ActorFactory

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(120)

AGENCY_EMAIL = "welfare@mission.example.org"


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def test_alert_to_case_note_referral_and_close_and_the_person_sees_the_status(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await account(web_hub, "Officer Lalthlamuana", role="officer")
    someone = await account(web_hub, "Lalrinawmi <b id=pwn>x</b>", country="AE")
    phone = await web_hub.connect(someone["access_token"])
    alert = await trigger(phone)

    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    page = cell.page
    await cell.goto(f"#/console/{alert['id']}")
    await page.locator("#open-case").click()
    await page.wait_for_url("**/#/cases/*")
    await expect(page.locator("#case-status")).to_have_text("Open")
    assert await page.locator("#pwn").count() == 0  # the person's name stays text

    note = page.locator("#case-note-form")
    await note.get_by_label("Kind").select_option("call")
    await note.get_by_label("Note").fill("Called her: she is at a friend's flat in Deira.")
    await note.get_by_role("button", name="Add note").click()
    await expect(page.locator("#case-notes")).to_contain_text("a friend's flat in Deira")

    await page.get_by_text("New partner agency").click()
    agency = page.locator("#agency-form")
    await agency.get_by_label("Name").fill("Embassy of India, Abu Dhabi")
    await agency.get_by_label("Email").fill(AGENCY_EMAIL)
    await agency.get_by_role("button", name="Add agency").click()
    referral = page.locator("#case-referral-form")
    await expect(referral).to_be_visible()
    await referral.get_by_label("Attach").select_option("json")
    await referral.get_by_label("Message to the agency").fill("Please help with her passport.")
    await cell.shot("cases-01-detail", full_page=True)
    await referral.get_by_role("button", name="Send referral").click()
    await expect(page.locator("#case-referrals")).to_contain_text("Embassy of India, Abu Dhabi")
    await expect(page.locator("#case-status")).to_have_text("Referred")

    [mail] = await web_hub.smtp.wait_for(AGENCY_EMAIL)
    attachments = [p for p in mail.walk() if p.get_content_disposition() == "attachment"]
    assert [p.get_filename() for p in attachments] == [f"sos-{alert['id']}.json"]
    payload = attachments[0].get_payload(decode=True)
    assert isinstance(payload, bytes) and json.loads(payload)["alert"]["id"] == alert["id"]

    close = page.locator("#case-close-form")
    await close.get_by_label("Outcome").select_option("safe")
    await close.get_by_role("button", name="Close the case").click()
    await expect(page.locator("#case-status")).to_have_text("Closed")
    await cell.shot("cases-02-closed", full_page=True)

    await cell.goto("#/cases")
    await expect(page.locator("#cases-rows")).to_contain_text("Closed")
    await cell.shot("cases-03-list")
    cell.assert_clean()

    person = await actors("person", viewport=PHONE)
    await person.login(someone["email"], landing="#/chat")
    await person.goto("#/sos")
    assert await person.page.locator("#my-case").count() == 0  # not on the SOS screen: only on request
    await person.goto("#/sos/history")
    await expect(person.page.locator("#my-case")).to_have_text("Your case with the Diaspora Cell: Closed")
    assert "Deira" not in await person.page.content()
    await person.shot("cases-04-person-status")
    person.assert_clean()


async def test_reports_page_draws_charts_and_shows_a_suppressed_cell(actors: ActorFactory,
                                                                    web_hub: HubClient) -> None:
    officer = await account(web_hub, "Report Officer", role="officer")
    for i in range(6):
        someone = await account(web_hub, f"Person {i}", country="AE" if i < 5 else "QA")
        await trigger(await web_hub.connect(someone["access_token"]))
    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    page = cell.page
    await page.get_by_role("link", name="Reports").click()
    await expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    await expect(page.locator("canvas#chart-alerts")).to_be_visible()
    await expect(page.locator("canvas#chart-ack")).to_be_attached()
    assert await page.evaluate("() => Boolean(window.Chart && window.Chart.getChart('chart-alerts'))")
    table = page.locator("#report-alerts")
    await expect(table.locator("td.suppressed").first).to_have_text("<5")
    await expect(table).to_contain_text("Qatar")
    await expect(table.locator("tr.total td").last).to_have_text("6")
    await cell.shot("reports-01", full_page=True)
    cell.assert_clean()
