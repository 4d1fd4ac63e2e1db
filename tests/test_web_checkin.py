"""The check-in timer in the browser (issue 14, item 2): a person sets a timer with a note and
their location, sees the countdown and checks in with the SOS PIN; a missed deadline reaches the
officers' console showing where it came from and the note.  Real Chromium against a real hubchat."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.web_support import DESKTOP, ActorFactory, audit_accessibility, member

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(120)

SOS_PIN = "2468"
DURESS_PIN = "1357"
DUBAI = {"latitude": 25.2048, "longitude": 55.2708, "accuracy": 30}


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def test_a_person_sets_a_timer_sees_the_countdown_and_checks_in(actors: ActorFactory,
                                                                      web_hub: HubClient) -> None:
    account = await member(web_hub, "Lalremsiami", sos_pin=SOS_PIN, duress_pin=DURESS_PIN, country="AE", city="Dubai")
    person = await actors("person", geolocation=DUBAI)
    await person.login(account["email"])
    page = person.page
    await page.locator("nav").get_by_role("link", name="Check-in").click()
    await expect(page.get_by_role("heading", name="Check-in timer")).to_be_visible()
    await audit_accessibility(person, "check-in set")
    await page.get_by_label("Check in within").select_option("30")
    await page.get_by_label("Note for the Cell (where, who)").fill("Meeting the agent at Deira\nBlue car")
    await page.get_by_label("Share my location with the timer").check()
    await person.shot("70-checkin-set")
    await page.get_by_role("button", name="Start the timer").click()

    await expect(page.locator("#checkin-countdown")).to_have_text(
        re.compile(r"^0:(29|30):\d\d$"))
    await expect(page.locator("#checkin-note-shown")).to_contain_text("Blue car")
    await expect(page.locator("#checkin-where")).to_have_text("Your location is attached.")
    status, body = await web_hub.request("GET", "/api/checkin", token=account["access_token"])
    assert status == 200 and body["checkin"]["status"] == "active"
    assert abs(body["checkin"]["location"]["lat"] - DUBAI["latitude"]) < 1e-6
    await audit_accessibility(person, "check-in running")
    await person.shot("71-checkin-running")

    # a wrong PIN keeps it running
    await page.get_by_label("SOS PIN").fill("9999")
    await page.get_by_role("button", name="Check in", exact=True).click()
    await expect(page.locator("#checkin-pin-form .error")).to_have_text("Wrong PIN.")
    await page.get_by_label("SOS PIN").fill(SOS_PIN)
    await page.get_by_role("button", name="Check in", exact=True).click()
    await expect(page.locator("#checkin-last")).to_contain_text("You checked in at")
    await expect(page.get_by_role("button", name="Start the timer")).to_be_visible()
    await person.shot("72-checkin-done")
    status, body = await web_hub.request("GET", "/api/checkin", token=account["access_token"])
    assert body["checkin"]["status"] == "checked_in"
    person.assert_clean()


@pytest.mark.parametrize("web_overrides", [{"checkin_min_secs": 1.0, "checkin_scan_interval_secs": 0.2}])
async def test_a_missed_check_in_reaches_the_console_with_its_origin_and_note(actors: ActorFactory,
                                                                              web_hub: HubClient) -> None:
    officer = await web_hub.officer(display_name="Duty Officer Lalmuanpuia")
    account = await member(web_hub, "Zonunmawii", sos_pin=SOS_PIN, duress_pin=DURESS_PIN, country="AE", city="Dubai")
    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    console = cell.page
    duty = console.get_by_role("switch", name="On duty")
    await duty.click()
    await expect(duty).to_have_attribute("aria-checked", "true")

    # the person's phone sets a timer that runs out in two seconds (a test setting allows it)
    rec = await web_hub.connect(account["access_token"])
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).isoformat(timespec="milliseconds")
    ack = await rec.call("checkin:set", {"client_id": f"ci-{uuid.uuid4().hex[:12]}", "due_at": due,
                                         "note": "New employer in Al Quoz, flat 12",
                                         "lat": DUBAI["latitude"], "lon": DUBAI["longitude"]})
    assert ack["checkin"]["status"] == "active", ack

    item = console.locator("#alert-list .alert-item").filter(has_text="Zonunmawii")
    await expect(item).to_be_visible(timeout=15_000)
    await expect(item.locator(".alert-origin")).to_contain_text("Missed check-in")
    await expect(item.locator(".alert-origin")).to_contain_text("New employer in Al Quoz, flat 12")
    await item.click()
    facts = console.locator("dl").filter(has_text="Origin")
    await expect(facts).to_contain_text("Missed check-in")
    await expect(facts).to_contain_text("New employer in Al Quoz, flat 12")
    await cell.shot("73-console-missed-checkin")
    cell.assert_clean()
