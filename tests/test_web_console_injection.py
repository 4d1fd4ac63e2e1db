"""The officers' console never turns a person's text into markup (issue 8 item 5), with real
Chromium against a real hubchat: display names carrying ``<img onerror>`` and
``<meta http-equiv=refresh>`` show as text in the alert list and in the map's tooltips, inject no
element, and do not navigate the console away.  Also: the page's Content-Security-Policy limits
``connect-src`` to the page's own origin (and its ws/wss equivalents)."""

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

IMG_NAME = '<img src=x id=pwn-img onerror="window.__pwned=1">'
META_NAME = "<meta http-equiv=refresh content=0;url=/config.json>"

# Every element in the document that a display name above would have created if parsed as HTML.
INJECTED = """() => Array.from(document.querySelectorAll('#pwn-img, img[src="x"], body meta, .leaflet-tooltip *'))
  .filter((el) => el.tagName !== 'SPAN').map((el) => el.outerHTML)"""


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def test_display_names_reach_the_console_as_text_only(actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer(display_name="Duty Officer Ngurthansanga")
    img_person = await member(web_hub, IMG_NAME, sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    meta_person = await member(web_hub, META_NAME, sos_pin=SOS_PIN, duress_pin=DURESS_PIN)

    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    console = cell.page
    navigations: list[str] = []
    console.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == console.main_frame else None)
    duty = console.get_by_role("switch", name="On duty")
    await duty.click()
    await expect(duty).to_have_attribute("aria-checked", "true")
    await expect(console.locator(".leaflet-container")).to_be_visible()

    # Two places ~5 km apart: both markers stay in the map's first view.
    for person, (lat, lon) in ((img_person, (25.2048, 55.2708)), (meta_person, (25.2048, 55.3208))):
        status, body = await web_hub.request("POST", "/api/sos", token=person["access_token"], json={
            "client_sos_id": f"xss-{person['id']}", "category": "violence", "lat": lat, "lon": lon})
        assert status in (200, 201), body

    names = console.locator("#alert-list .alert-name")
    await expect(names).to_have_count(2)
    assert sorted(await names.all_text_contents()) == sorted([IMG_NAME, META_NAME])
    markers = console.locator("path.alert-marker")
    await expect(markers).to_have_count(2)
    # Leaflet renders a tooltip's content when it opens: hover each marker.
    seen = []
    for index in range(2):
        await markers.nth(index).hover(force=True)
        tooltip = console.locator(".leaflet-tooltip")
        await expect(tooltip).to_have_count(1)
        seen.append(await tooltip.text_content())
        await console.mouse.move(2, 2)
        await expect(tooltip).to_have_count(0)
    assert sorted(text.split(" · ")[0] for text in seen) == sorted([IMG_NAME, META_NAME]), seen

    # The selected alert's heading and detail pane show the name as text too.
    await console.locator("#alert-list .alert-item").filter(has_text=META_NAME).click()
    await expect(console.locator("#alert-detail h2")).to_have_text(META_NAME)

    assert await cell.eval(INJECTED) == []
    assert await cell.eval("() => window.__pwned === undefined")
    assert "/config.json" not in console.url and console.url.startswith(web_hub.base_url + "/#/console")
    assert all(url.startswith(web_hub.base_url + "/#") for url in navigations), navigations
    cell.assert_clean()


async def test_connect_src_is_the_pages_own_origin(web_hub: HubClient) -> None:
    host = web_hub.base_url.split("://", 1)[1]
    async with web_hub.http.get(web_hub.base_url + "/") as resp:
        csp = resp.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert directives["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"], csp
    # A Host header that is not a plain host[:port] adds nothing (no directive can be smuggled in).
    async with web_hub.http.get(web_hub.base_url + "/", headers={"Host": "evil.example; script-src *"}) as resp:
        csp = resp.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert directives["connect-src"] == ["'self'"], csp
    assert directives["script-src"] == ["'self'"], csp
