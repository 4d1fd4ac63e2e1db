"""The web client as an installable app that opens with no network (issue 12, offline-first):
real Chromium with its service worker against a real hubchat.  After one visit, a reload with
the network gone is answered by the service worker from its cache, the app starts, the SOS
button works, and the queued alert goes out once the network returns."""

from __future__ import annotations

from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.web_support import DUBAI, DURESS_PIN, SOS_PIN, ActorFactory, member

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(90)

SW_READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const cached = await (await caches.open((await caches.keys()).find((k) => k.startsWith('hubchat-')))).keys();
  return { active: Boolean(registration.active), cached: cached.map((r) => new URL(r.url).pathname) };
}"""


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def test_the_app_opens_with_no_network_and_its_sos_goes_out_when_the_network_returns(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer()
    account = await member(web_hub, "Lalrinpuii", sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    watcher = await web_hub.connect(officer["access_token"])
    assert (await watcher.call("duty:set", {"on_duty": True}))["duty"]["on_duty"] is True

    person = await actors("person", geolocation=DUBAI, service_workers="allow")
    await person.login(account["email"])
    page = person.page
    ready = await person.eval(SW_READY)
    assert ready["active"], ready
    assert "/" in ready["cached"] and "/config.json" in ready["cached"], ready["cached"]
    assert any(path.endswith("/app.js") for path in ready["cached"]), ready["cached"]

    # No network at all: the page comes from the service worker, the app starts, signed in.
    await person.context.set_offline(True)
    response = await page.reload()
    assert response is not None and response.from_service_worker, response
    await expect(page.locator("#sos-fab")).to_be_visible()
    await expect(page.locator("#conn-status")).not_to_have_text("Online")
    assert await person.eval("() => fetch('/api/me').then(() => 'reached', () => 'offline')") == "offline"

    await page.locator("#sos-fab").click()
    box = await page.locator("#sos-hold").bounding_box()
    assert box
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await page.wait_for_timeout(1150)
    await page.mouse.up()
    await expect(page.locator("#sos-sending")).to_be_visible()
    await person.shot("37-offline-app-sos-queued")

    # The network returns: the alert goes out once, and the screen follows it.
    await person.context.set_offline(False)
    await person.eval("() => window.dispatchEvent(new Event('online'))")
    got = await watcher.wait_for("sos:new", timeout=20)
    assert got[0]["person"]["display_name"] == "Lalrinpuii"
    assert got[0]["lat"] == pytest.approx(DUBAI["latitude"])
    await expect(page.locator("#sos-status")).to_have_text("Received. Waiting for an officer.", timeout=15_000)
    feed = await watcher.call("sos:feed", {})
    assert [a["person"]["display_name"] for a in feed["alerts"]] == ["Lalrinpuii"]
    person.assert_clean()
