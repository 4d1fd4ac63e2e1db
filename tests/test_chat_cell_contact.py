""""Contact the Cell" (issue 12, item 1): ``dm:cell`` opens a direct channel with a Cell officer
who is on duty and reachable now, reusing one the caller already has; nobody on duty answers
``no_officer_on_duty``.  It widens nothing: anyone may already message an officer.  Real hubchat
on TCP, real Redis, the embedded store, python-socketio clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubchat.config import Settings
from tests.conftest import SmtpSink
from tests.test_chat import error_code
from tests.test_chat_support import Chat, running_hub


@pytest.fixture
async def chat(settings: Settings, smtp: SmtpSink, aiohttp_server: Any) -> AsyncIterator[Chat]:
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        yield Chat(hub)


async def test_contact_the_cell_reaches_an_officer_on_duty(chat: Chat) -> None:
    person = await chat.user("Lalchhanhimi")
    first, second = await chat.officer("Officer Off Duty"), await chat.officer("Officer On Duty")
    person_rec, first_rec, second_rec = (await chat.connect(person), await chat.connect(first),
                                         await chat.connect(second))
    assert error_code(await person_rec.call("dm:cell")) == "no_officer_on_duty"
    assert error_code(await person_rec.call("dm:cell", {"user_id": first["id"]})) == "invalid_payload"

    assert (await second_rec.call("duty:set", {"on_duty": True}))["duty"]["connected"] is True
    opened = await person_rec.call("dm:cell")
    channel = opened["channel"]
    assert channel["kind"] == "dm" and [m["id"] for m in channel["members"]] == [second["id"]], opened
    (added,) = await second_rec.wait_for("channel:added")
    assert added["channel"]["id"] == channel["id"]

    # A second officer goes on duty: the person keeps writing to the one they already know.
    assert "duty" in await first_rec.call("duty:set", {"on_duty": True})
    again = await person_rec.call("dm:cell")
    assert again["channel"]["id"] == channel["id"], again
    # The officer they know goes off duty: the one on duty now.
    assert "duty" in await second_rec.call("duty:set", {"on_duty": False})
    other = await person_rec.call("dm:cell")
    assert [m["id"] for m in other["channel"]["members"]] == [first["id"]], other
    # An officer on duty contacting the Cell gets a colleague, never themself.
    assert "duty" in await second_rec.call("duty:set", {"on_duty": True})
    colleague = await first_rec.call("dm:cell")
    assert [m["id"] for m in colleague["channel"]["members"]] == [second["id"]], colleague
