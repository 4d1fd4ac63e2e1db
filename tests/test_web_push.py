"""Web Push in Debian's Chromium (issue 12, item 5), against a real hubchat.

What Chromium can do here and what it cannot: Chromium's push service is Google's (FCM), out of
reach here.  In a Playwright context (an incognito-like profile) ``pushManager.subscribe`` is
refused at once ("Registration failed - permission denied", Chromium logs that it has no Push API
in incognito) even with the notifications permission granted; in a persistent profile it never
settles (checked by hand: no answer within 20 s).  So no real subscription can reach the server
from the browser here; the route it would call is tested with browser-shaped subscriptions in
tests/test_push*.py.  Tested here instead, each for real:

* the settings card: permission asked, the refusal shown, no subscription stored; the choices
  read and written through ``/api/me/push-settings`` (officers also see "every new SOS");
* the service worker's ``push`` handler: a push delivered to the registered worker through the
  DevTools protocol (``ServiceWorker.deliverPushMessage``, what DevTools' "Push" button does)
  carrying exactly what the server pushed for a real SOS (decrypted by the tests' push service),
  shown as a notification with that title, body and tag;
* the ``notificationclick`` handler: run in the worker on that notification, it brings the open
  tab to the console view of the alert.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.test_push_support import PushServiceSink, decrypted, push_sink, subscribe
from tests.web_support import ActorFactory, member

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides
_ = push_sink  # fixture

pytestmark = pytest.mark.timeout(90)


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture
def push_origin(push_sink: PushServiceSink) -> str:
    return push_sink.origin


@pytest.fixture
def web_overrides(push_origin: str) -> dict[str, Any]:  # noqa: F811 (overrides web_support's)
    return {"push_extra_origins": push_origin}


NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
  .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data, sticky: n.requireInteraction }))"""


async def test_settings_card_asks_permission_and_saves_the_choices(actors: ActorFactory, web_hub: HubClient) -> None:
    account = await member(web_hub, "Lalremsiami")
    person = await actors("member", service_workers="allow")
    await person.login(account["email"])
    await person.goto("#/settings")
    page = person.page
    card = page.locator("#push-card")
    await expect(card.get_by_role("heading", name="Notifications")).to_be_visible()
    await expect(page.locator("#push-state")).to_have_text("Notifications are off for this device.")
    await expect(page.locator("#push-dms")).to_be_checked()
    await expect(page.locator("#push-previews")).not_to_be_checked()
    assert await page.locator("#push-sos").count() == 0  # officers only

    await page.get_by_label("Show the message text on the lock screen").check()
    await expect(page.locator("#live-polite")).to_have_text("Saved.")
    status, body = await web_hub.request("GET", "/api/me/push-settings", account["access_token"])
    assert status == 200 and body["settings"]["previews"] is True

    # Chromium here has no push service: the permission is granted, the subscription refused.
    await page.get_by_role("button", name="Turn on notifications on this device").click()
    await expect(card.get_by_role("alert")).to_have_text(
        "This browser could not reach its push service. Try again later.")
    assert await person.eval("() => Notification.permission") == "granted"
    status, body = await web_hub.request("GET", "/api/push/subscriptions", account["access_token"])
    assert status == 200 and body["subscriptions"] == []
    await person.shot("push-settings-member")
    # Chromium's own console line about its Push API here is expected; nothing else may be logged.
    person.errors = [e for e in person.errors if "does not support the Push API" not in e]
    person.assert_clean()


async def test_the_service_worker_shows_the_sos_push_the_server_sent_and_a_click_opens_the_console(
        actors: ActorFactory, web_hub: HubClient, push_sink: PushServiceSink) -> None:
    officer = await web_hub.officer("Officer Mapuii")
    watcher = await web_hub.connect(officer["access_token"])
    assert (await watcher.call("duty:set", {"on_duty": True}))["duty"]["on_duty"] is True
    phone = push_sink.subscription()  # the officer's phone, subscribed with its own keys
    await subscribe(web_hub, officer["access_token"], phone)

    desk = await actors("officer", viewport=web_support.DESKTOP, service_workers="allow")
    await desk.login(officer["email"], landing="#/console")
    await desk.goto("#/settings")
    await expect(desk.page.locator("#push-sos")).to_be_checked()  # on by default for officers
    await desk.shot("push-settings-officer")
    await desk.goto("#/chat")
    await desk.eval("() => navigator.serviceWorker.ready")

    someone = await member(web_hub, "Lalremruati")
    sock = await web_hub.connect(someone["access_token"])
    ack = await sock.call("sos:trigger", {"client_sos_id": "web-push-sos-1", "category": "medical",
                                          "lat": 25.2048, "lon": 55.2708, "accuracy_m": 20.0})
    alert_id = ack["alert"]["id"]
    [arrival] = await push_sink.wait_for(phone)
    pushed = decrypted(phone, arrival)

    cdp = await desk.context.new_cdp_session(desk.page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    await cdp.send("ServiceWorker.enable")
    await desk.page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    for _ in range(50):
        if any(not r["isDeleted"] for r in registrations):
            break
        await desk.page.wait_for_timeout(100)
    registration = next(r for r in registrations if not r["isDeleted"])
    await cdp.send("ServiceWorker.deliverPushMessage", {"origin": web_hub.base_url.rstrip("/"),
                                                         "registrationId": registration["registrationId"],
                                                         "data": json.dumps(pushed)})
    # (polled here: wait_for_function takes an async function's promise as already truthy)
    notifications: list[dict[str, Any]] = []
    for _ in range(100):
        notifications = await desk.eval(NOTIFICATIONS)
        if notifications:
            break
        await desk.page.wait_for_timeout(100)
    [shown] = notifications
    assert shown == {"title": "New SOS alert", "body": "IN", "tag": f"sos-{alert_id}",
                     "data": {"url": f"/#/console/{alert_id}", "kind": "sos"}, "sticky": True}
    assert "Lalremruati" not in json.dumps(shown)

    # The click: the worker's own notificationclick handler, run on that notification (a
    # headless browser cannot click a system notification); the open tab goes to the alert.
    workers = desk.context.service_workers or [await desk.context.wait_for_event("serviceworker")]
    worker = workers[0]
    await worker.evaluate("""async () => {
      const [n] = await self.registration.getNotifications();
      try { self.dispatchEvent(new NotificationEvent("notificationclick", { notification: n })); }
      catch (e) { /* waitUntil refuses an untrusted event: the handler's work has started */ }
    }""")
    await desk.page.wait_for_function("(id) => location.hash === `#/console/${id}`", arg=alert_id)
    await expect(desk.page.get_by_text("Lalremruati").first).to_be_visible()
    await desk.shot("push-click-opened-console", full_page=False)
