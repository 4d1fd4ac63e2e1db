"""An officer whose console tab is in the background still learns of a new SOS (issue 12): a
desktop notification, a title that counts the alerts waiting, and an alarm that repeats until the
alert is acknowledged or the tab is seen; real Chromium against a real hubchat.  The tab is put in
the background by making the page's ``document.hidden`` true (a headless browser has no window to
hide); everything else is the real console."""

from __future__ import annotations

from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.web_support import DESKTOP, DURESS_PIN, SOS_PIN, ActorFactory, member

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(90)

HIDE = """() => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
  delete document.hidden;
  delete document.visibilityState;
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def test_a_console_in_the_background_notifies_and_repeats_the_alarm_until_acknowledged(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer(display_name="Duty Officer Vanlalruati")
    person = await member(web_hub, "Lalmuanpuii", sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    page = cell.page
    duty = page.get_by_role("switch", name="On duty")
    await duty.click()
    await expect(duty).to_have_attribute("aria-checked", "true")
    assert await cell.eval("() => Notification.permission") == "granted"
    await expect(page).to_have_title("Duty console · hubchat")
    title = await page.title()
    await cell.eval("() => { window.hubchat.alarmRepeatMs = 300; }")
    await cell.eval(HIDE)

    status, body = await web_hub.request("POST", "/api/sos", token=person["access_token"], json={
        "client_sos_id": "background-1", "category": "detention", "lat": 25.2048, "lon": 55.2708})
    assert status in (200, 201), body
    alert_id = body["alert"]["id"]
    await page.wait_for_function("() => (window.hubchat.notified || 0) === 1")
    await expect(page).to_have_title("(1) SOS waiting — hubchat")
    first = await cell.eval("() => window.__beeps")
    await page.wait_for_function(f"() => window.__beeps >= {first + 2}")  # the alarm repeats

    # Acknowledged (here by a colleague's client): nothing waits, the alarm and the count stop.
    colleague = await web_hub.officer(display_name="Duty Officer Colleague")
    sock = await web_hub.connect(colleague["access_token"])
    moved = await sock.call("sos:transition", {"alert_id": alert_id, "action": "acknowledge"})
    assert moved["alert"]["status"] == "acknowledged", moved
    await expect(page).to_have_title(title)
    stopped = await cell.eval("() => window.__beeps")
    await page.wait_for_timeout(900)  # three repeat intervals: no beep
    assert await cell.eval("() => window.__beeps") == stopped

    # A second alert while hidden, then the officer comes back to the tab: the title is restored.
    other = await member(web_hub, "Zothansangi", sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    status, body = await web_hub.request("POST", "/api/sos", token=other["access_token"], json={
        "client_sos_id": "background-2", "category": "medical", "lat": 25.2, "lon": 55.3})
    assert status in (200, 201), body
    await page.wait_for_function("() => window.hubchat.notified === 2")
    await expect(page).to_have_title("(1) SOS waiting — hubchat")
    await cell.eval(SHOW)
    await expect(page).to_have_title(title)
    cell.assert_clean()
