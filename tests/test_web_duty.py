"""The officers' console shows who on duty is actually connected (as text only), and the browser
asks before an on-duty officer leaves the console (issue 10: the duty roster matches reality);
real Chromium against a real hubchat, the colleague a real Socket.IO client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.web_support import DESKTOP, ActorFactory

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(90)

COLLEAGUE = "Colleague <b id=pwn>Away</b>"


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def test_console_shows_who_is_connected_and_asks_before_leaving_on_duty(actors: ActorFactory,
                                                                              web_hub: HubClient) -> None:
    officer = await web_hub.officer(display_name="Duty Officer Lalthlamuana")
    colleague = await web_hub.officer(display_name=COLLEAGUE)
    cell = await actors("officer", viewport=DESKTOP)
    await cell.login(officer["email"], landing="#/console")
    page = cell.page
    duty = page.get_by_role("switch", name="On duty")
    await duty.click()
    await expect(duty).to_have_attribute("aria-checked", "true")

    sock = await web_hub.connect(colleague["access_token"])
    assert (await sock.call("duty:set", {"on_duty": True}))["duty"]["connected"] is True
    roster = page.locator("#duty-list")
    await expect(roster).to_contain_text(COLLEAGUE)
    await expect(page.locator("#duty-away")).to_be_hidden()

    await sock.disconnect()  # the colleague closed their console without going off duty
    await expect(roster).to_contain_text(f"{COLLEAGUE} (not connected since")
    await expect(page.locator("#duty-away")).to_be_visible()
    assert await page.locator("#pwn").count() == 0  # the name stays text

    await web_hub.connect(colleague["access_token"])
    await expect(page.locator("#duty-away")).to_be_hidden()
    await expect(roster).not_to_contain_text("not connected")

    # Reloading (or closing) the console while on duty: the browser's own confirm first.
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.type)
        asyncio.ensure_future(dialog.accept())

    page.on("dialog", on_dialog)
    await page.reload()
    assert dialogs == ["beforeunload"]
    await expect(duty).to_have_attribute("aria-checked", "true")  # still on duty after the reload

    # Off duty: leaving asks nothing.
    await duty.click()
    await expect(duty).to_have_attribute("aria-checked", "false")
    await page.reload()
    await expect(duty).to_have_attribute("aria-checked", "false")
    assert dialogs == ["beforeunload"]
    cell.assert_clean()
