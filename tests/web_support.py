"""Browser-test support: hubchat on a real port (real Redis, the embedded MongoDB-wire server, the
aiosmtpd sink), Debian's Chromium driven by Playwright's async API, and helpers for the people in
the tests.

* ``web_hub`` — hubchat as app.py builds it (every capability the web client uses).
* ``browser`` — Chromium per test (Playwright binds to the running event loop, and the tests use
  function-scoped loops like the rest of the suite).
* ``Actor`` — one person in their own browser context (own storage, own geolocation).
* Screenshots go to ``artifacts/screenshots/`` at the repository root (git-ignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hubchat.app import SERVICES, build_app
from hubchat.config import Settings
from tests.conftest import SmtpSink
from tests.support import DEFAULT_PASSWORD, HubClient

CHROMIUM = os.environ.get("HUBCHAT_TEST_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-gpu", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
                 "--disable-features=Translate,MediaRouter", "--mute-audio"]
PHONE = {"width": 360, "height": 740}  # the small phone issue 12 names
DESKTOP = {"width": 1366, "height": 860}
AIZAWL = {"latitude": 23.7271, "longitude": 92.7176}
DUBAI = {"latitude": 25.2048, "longitude": 55.2708}
SOS_PIN = "2468"
DURESS_PIN = "1357"

# Counts oscillator starts, so a test can tell the console beeped (WebAudio, no sound asset).
AUDIO_PROBE = """
(() => {
  window.__beeps = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { window.__beeps += 1; return start.apply(this, args); };
})();
"""


def require_browser() -> None:
    """The browser tests run everywhere the suite runs (scripts/test.sh installs Chromium):
    a missing browser is a failure, not a skip."""
    assert Path(CHROMIUM).exists(), f"Chromium is missing at {CHROMIUM}: run scripts/ensure-chromium.sh"


# ---------------------------------------------------------------- the server
@pytest.fixture
def web_overrides() -> dict[str, Any]:
    """Settings a test changes for its server: ``@pytest.mark.parametrize("web_overrides", [{…}])``."""
    return {}


@pytest.fixture
async def web_hub(settings: Settings, smtp: SmtpSink, aiohttp_server: Any,
                  web_overrides: dict[str, Any]) -> AsyncIterator[HubClient]:
    """hubchat (app.py's build_app: accounts, directory, chat, SOS, translation) on a TCP port, and an
    HTTP/Socket.IO helper for it.  No translation model is installed (``translate_packages_dir`` is
    under the test's data_dir), so messages are translated by the phrasebook or marked unavailable."""
    fast = settings.replace(**{"sos_scheduler_interval_secs": 0.2, "sos_t1_secs": 600.0, "sos_t2_secs": 1200.0,
                               "translate_models_rescan_secs": 0.0, **web_overrides})
    app = build_app(fast)
    services = app[SERVICES]
    assert isinstance(services, dict) and {"sos", "translate"} <= services.keys(), services
    server = await aiohttp_server(app)
    client = HubClient(str(server.make_url("/")), smtp, services)
    try:
        yield client
    finally:
        await client.close()


# ---------------------------------------------------------------- the browser
@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    require_browser()
    manager = await async_playwright().start()
    try:
        chromium = await manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
    finally:
        await manager.stop()


class Actor:
    """One person: a browser context (storage, geolocation, viewport) and its page."""

    def __init__(self, hub: HubClient, context: Any, page: Any, name: str):
        self.hub = hub
        self.context = context
        self.page = page
        self.name = name
        self.errors: list[str] = []
        self.allowed: list[str] = []  # URL parts whose 4xx answers a test provokes on purpose
        self.email = ""
        self.user_id = ""
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            text = msg.text
            # Expected while a test cuts the network on purpose.
            if "ERR_INTERNET_DISCONNECTED" in text or "WebSocket" in text or "net::ERR" in text:
                return
            url = msg.location.get("url") or ""
            if "Failed to load resource" in text and any(part in url for part in self.allowed):
                return
            self.errors.append(f"console: {text} at {url}")

    @property
    def url(self) -> str:
        return self.hub.base_url

    async def goto(self, route: str = "") -> None:
        await self.page.goto(f"{self.url}/{route}")

    async def shot(self, name: str, full_page: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if full_page:  # a sticky header is drawn where the viewport was: start from the top
            await self.page.evaluate("window.scrollTo(0, 0)")
        await self.page.screenshot(path=str(path), full_page=full_page)
        return path

    async def login(self, email: str, password: str = DEFAULT_PASSWORD, landing: str = "#/chat") -> None:
        await self.goto("#/login")
        await self.page.get_by_label("Email").fill(email)
        await self.page.get_by_label("Password").fill(password)
        await self.page.get_by_role("button", name="Log in", exact=True).click()
        await self.page.wait_for_url(re.compile(re.escape(landing)))
        await self.wait_online()
        self.email = email

    async def wait_online(self, timeout: float = 10_000) -> None:
        await self.page.wait_for_function("() => window.hubchat && window.hubchat.connection.state === 'online'",
                                          timeout=timeout)

    async def eval(self, script: str, arg: Any = None) -> Any:
        return await self.page.evaluate(script, arg)

    def assert_clean(self) -> None:
        assert not self.errors, self.errors


ActorFactory = Callable[..., Awaitable[Actor]]


@pytest.fixture
async def actors(browser: Any, web_hub: HubClient) -> AsyncIterator[ActorFactory]:
    """actors(name, viewport=PHONE, geolocation=AIZAWL) -> Actor in a fresh browser context."""
    made: list[Actor] = []

    async def make(name: str, viewport: dict[str, int] | None = None, geolocation: dict[str, float] | None = None,
                   locale: str = "en-GB", service_workers: str = "block") -> Actor:
        # Service workers are blocked unless a test is about them: Playwright routes (the tests'
        # websocket switch) do not see a worker's requests.
        context = await browser.new_context(viewport=viewport or PHONE, geolocation=geolocation or AIZAWL,
                                            permissions=["geolocation", "notifications"], locale=locale,
                                            service_workers=service_workers, reduced_motion="reduce")
        await context.add_init_script(AUDIO_PROBE)
        context.set_default_timeout(10_000)
        page = await context.new_page()
        actor = Actor(web_hub, context, page, name)
        made.append(actor)
        return actor

    try:
        yield make
    finally:
        for actor in made:
            with contextlib.suppress(Exception):
                await actor.context.close()


# ---------------------------------------------------------------- people and places over HTTP
async def member(hub: HubClient, name: str, **fields: Any) -> dict[str, Any]:
    """A verified member made over HTTP (faster than the UI for secondary actors)."""
    return await hub.user(display_name=name, **fields)


async def association_with_members(hub: HubClient, officer: dict[str, Any], founder: dict[str, Any],
                                   joiners: list[dict[str, Any]], name: str | None = None,
                                   place: tuple[float, float] = (25.2048, 55.2708)) -> dict[str, Any]:
    """An approved association: ``founder`` registers it, the officer approves it, every joiner asks
    to join and the founder (its office bearer) accepts them.  Returns the association page."""
    name = name or f"Mizo Fellowship {uuid.uuid4().hex[:4]}"
    status, body = await hub.request("POST", "/api/associations", token=founder["access_token"], json={
        "name": name, "country": "AE", "city": "Dubai", "contact_email": founder["email"],
        "description": "Sunday fellowship and help desk for Mizo workers in Dubai.",
        "gathering_places": [{"name": "Community hall", "address": "Al Karama, Dubai", "lat": place[0],
                              "lon": place[1], "schedule": "Sundays 4 pm"}],
        "office_bearers": [{"name": "Founder", "position": "President", "user_id": founder["id"],
                            "contacts": [{"kind": "phone", "value": "+971501234567", "visibility": "public"}]}],
    })
    assert status == 201, body
    association = body["association"]
    status, body = await hub.request("POST", f"/api/associations/{association['id']}/approve",
                                     token=officer["access_token"])
    assert status == 200, body
    for joiner in joiners:
        status, body = await hub.request("POST", f"/api/associations/{association['id']}/join",
                                         token=joiner["access_token"])
        assert status == 201, body
        status, body = await hub.request(
            "POST", f"/api/associations/{association['id']}/requests/{joiner['id']}/approve",
            token=founder["access_token"])
        assert status == 200, body
    return association  # type: ignore[no-any-return]


async def channel_of(hub: HubClient, token: str, association_id: str, kind: str = "association",
                     timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, body = await hub.request("GET", "/api/channels", token=token)
        assert status == 200, body
        for channel in body["channels"]:
            if channel["kind"] == kind and channel["association_id"] == association_id:
                return channel  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {kind} channel for {association_id}: {body}")
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- accessibility checks (in the page)
A11Y_AUDIT = r"""
() => {
  const problems = [];
  const visible = (el) => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && (r.width > 0 || r.height > 0);
  };
  const describe = (el) => el.outerHTML.slice(0, 140);
  const nameOf = (el) => {
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label').trim();
    if (el.getAttribute('aria-labelledby')) {
      return el.getAttribute('aria-labelledby').split(/\s+/)
        .map((id) => document.getElementById(id)?.textContent || '').join(' ').trim();
    }
    if (el.labels && el.labels.length) return Array.from(el.labels).map((l) => l.textContent).join(' ').trim();
    if (el.getAttribute('title')) return el.getAttribute('title').trim();
    return '';
  };
  // 1. every form control has a label
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    if (!nameOf(el)) problems.push('input without label: ' + describe(el));
  }
  // 2. images have alt
  for (const el of document.querySelectorAll('img')) {
    const decorative = el.getAttribute('role') === 'presentation' || el.getAttribute('aria-hidden') === 'true';
    if (!el.hasAttribute('alt') && !decorative) {
      problems.push('img without alt: ' + describe(el));
    }
  }
  // 3. buttons and links have accessible names
  for (const el of document.querySelectorAll('button, a[href], [role=button], [role=switch]')) {
    if (!visible(el)) continue;
    const name = nameOf(el) || (el.textContent || '').trim();
    if (!name) problems.push('control without a name: ' + describe(el));
  }
  // 4. contrast of text (WCAG relative luminance), from computed styles
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const blend = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg.a > 0) { layers.push(bg); if (bg.a >= 1) break; }
    }
    let color = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) color = blend(layer, color);
    return color;
  };
  let checked = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const text = walker.currentNode;
    const el = text.parentElement;
    if (!el || seen.has(el) || !text.textContent.trim() || !visible(el)) continue;
    if (el.closest('.visually-hidden, .leaflet-container, noscript, [aria-hidden=true]')) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    if (!fg) continue;
    const bg = background(el);
    const fgFlat = blend(fg, bg);
    const [hi, lo] = [lum(fgFlat), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const opacity = Number(s.opacity);
    checked += 1;
    if (ratio < 4.5 && opacity > 0) {
      const where = `"${text.textContent.trim().slice(0, 40)}" ${s.color}`;
      problems.push(`contrast ${ratio.toFixed(2)} < 4.5: ${where} on rgb(${bg.r | 0},${bg.g | 0},${bg.b | 0})`);
    }
  }
  return { problems, checked };
}
"""


AXE_SOURCE = ROOT / "tests" / "data" / "axe-core" / "axe.min.js"  # axe-core from npm (MPL-2.0), see VERSION

# axe-core's rules (WCAG 2.x A/AA and best practice) on the whole page: serious and critical only.
AXE_RUN = r"""
async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ` + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '));
}
"""

# The floating SOS button sits above the page: no control may be left under it.  A control that is
# under it where the page is scrolled now counts only if scrolling it into view (which honours the
# page's scroll-padding, as keyboard focus does) does not bring it clear; scroll positions are
# restored afterwards.
FAB_COVERS = r"""
() => {
  const fab = document.querySelector('#sos-fab');
  if (!fab || fab.hidden) return [];
  const overlaps = (el) => {
    const f = fab.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return !(r.right <= f.left || r.left >= f.right || r.bottom <= f.top || r.top >= f.bottom);
  };
  const covered = [];
  const controls = 'button, a[href], input, select, textarea, [role=button], [role=switch]';
  for (const el of document.querySelectorAll(controls)) {
    if (el === fab || fab.contains(el) || el.contains(fab)) continue;
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (s.display === 'none' || s.visibility === 'hidden' || r.width === 0 || r.height === 0) continue;
    if (!overlaps(el)) continue;
    const scrolled = [];
    for (let node = el.parentElement; node; node = node.parentElement) {
      if (node.scrollHeight > node.clientHeight || node.scrollWidth > node.clientWidth) {
        scrolled.push([node, node.scrollTop, node.scrollLeft]);
      }
    }
    const [x, y] = [window.scrollX, window.scrollY];
    el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    if (overlaps(el)) covered.push(el.outerHTML.slice(0, 100));
    for (const [node, top, left] of scrolled) { node.scrollTop = top; node.scrollLeft = left; }
    window.scrollTo(x, y);
  }
  return covered;
}
"""


async def audit_accessibility(actor: Actor, where: str) -> int:
    """Runs the in-page checks (labels, names, contrast), axe-core's serious and critical rules,
    and checks that the SOS button covers no other control; fails with every problem found.
    Returns how many texts were checked."""
    result = await actor.eval(A11Y_AUDIT)
    problems = list(result["problems"])
    # evaluate, not a <script> tag: the page's CSP (script-src 'self') stays as it is in production.
    if not await actor.page.evaluate("() => typeof axe !== 'undefined'"):
        await actor.page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    problems += await actor.page.evaluate(AXE_RUN)
    problems += [f"the SOS button covers {html}" for html in await actor.page.evaluate(FAB_COVERS)]
    assert not problems, f"{where}: " + "\n".join(problems)
    return int(result["checked"])


async def tab_until(actor: Actor, selector: str, max_presses: int = 25) -> int:
    """Presses Tab from the top of the page (the skip link, the first stop) until ``selector`` has
    focus; returns the number of stops, the skip link being 1."""
    await actor.page.evaluate("window.scrollTo(0, 0)")
    await actor.page.focus(".skip-link")
    if await actor.page.evaluate("(sel) => document.activeElement.matches(sel)", selector):
        return 1
    for presses in range(2, max_presses + 1):
        await actor.page.keyboard.press("Tab")
        if await actor.page.evaluate("(sel) => document.activeElement?.matches(sel) ?? false", selector):
            return presses
    raise AssertionError(f"{selector} not reached with {max_presses} Tab presses")


__all__ = ["AIZAWL", "CHROMIUM", "DESKTOP", "DUBAI", "DURESS_PIN", "PHONE", "SCREENSHOTS", "SOS_PIN", "Actor",
           "ActorFactory", "actors", "association_with_members", "audit_accessibility", "browser", "channel_of",
           "member", "require_browser", "tab_until", "web_hub", "web_overrides"]
