"""axe-core (serious and critical rules) and the in-page checks on the pages issue 14 and Web Push
added — the safety page, the settings page's notifications card, the check-in screen, and the
officers' cases and reports — at 360 × 740 and at desktop size (issue 12, item 6: every page)."""

from __future__ import annotations

from typing import Any

import pytest

from tests import web_support
from tests.support import HubClient
from tests.test_web_flows import audit_both_sizes
from tests.web_support import DURESS_PIN, SOS_PIN, ActorFactory, member

actors = web_support.actors
browser = web_support.browser
web_hub = web_support.web_hub
web_overrides = web_support.web_overrides

pytestmark = pytest.mark.timeout(150)


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


async def test_the_persons_new_pages_pass_the_accessibility_checks(actors: ActorFactory, web_hub: HubClient) -> None:
    someone = await member(web_hub, "Lalrinmawii", sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    me = await actors("person")
    await me.login(someone["email"])
    page = me.page
    for route, heading in (("#/safety", "Safety profile"), ("#/settings", "Notifications"),
                           ("#/checkin", None)):
        await me.goto(route)
        if heading:
            await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        else:
            await expect(page.locator("main form").first).to_be_visible()
        await audit_both_sizes(me, route)
    me.assert_clean()


async def test_the_officers_cases_and_reports_pass_the_accessibility_checks(
        actors: ActorFactory, web_hub: HubClient) -> None:
    officer = await web_hub.officer()
    cell = await actors("officer")
    await cell.login(officer["email"], landing="#/console")
    page = cell.page
    await cell.goto("#/cases")
    await expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
    await audit_both_sizes(cell, "#/cases")
    await cell.goto("#/reports")
    await expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    await expect(page.locator("main canvas").first).to_be_visible()
    await audit_both_sizes(cell, "#/reports")
    cell.assert_clean()
