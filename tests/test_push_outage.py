"""A push that could not go out yet waits in the push outbox, in the store: a push service that
is down and then a store outage both only delay it, and it arrives once, readable, afterwards."""

# ruff: noqa: F811  (fixtures imported from the helper modules are parameters here)
from __future__ import annotations

from pathlib import Path
from typing import Any

from hubchat.clock import ManualClock
from hubchat.config import Settings
from hubchat.embedded_mongo import EmbeddedMongo
from tests.conftest import SmtpSink
from tests.support import running_hub
from tests.test_push import dm, quiet
from tests.test_push_support import PushServiceSink, decrypted, outbox_states, push_settings, push_sink, subscribe
from tests.test_sos_helpers import account, wait_until

_ = push_sink  # fixture


async def test_a_pending_push_survives_a_store_outage_and_is_sent_once_after(
        settings: Settings, smtp: SmtpSink, aiohttp_server: Any, tmp_path: Path, clock: ManualClock,
        push_sink: PushServiceSink, caplog: Any) -> None:
    store = EmbeddedMongo(tmp_path / "store")
    await store.start()
    try:
        async with running_hub(push_settings(settings, push_sink, mongo_uri=store.uri), smtp, aiohttp_server,
                               clock) as hub:
            officer = await account(hub, "Officer", role="officer")
            sock = await hub.connect(officer["access_token"])
            member = await account(hub, "Member")
            phone = push_sink.subscription()
            await subscribe(hub, member["access_token"], phone)
            push_sink.answers = [503]
            await dm(hub, officer, sock, member, "are you safe?")
            await push_sink.wait_for(phone, 1)

            async def pending() -> bool:
                return await outbox_states(hub) == ["pending"]
            await wait_until(pending)
            outbox = hub.services["push"].outbox

            await store.stop()
            clock.advance(120)  # the retry is due while the store is away: it cannot be claimed
            outbox.wake()
            failed_before = outbox.failed

            async def claim_failed() -> bool:
                return any("push outbox: cannot claim" in r.getMessage() for r in caplog.records)
            await wait_until(claim_failed, timeout=15.0)
            assert push_sink.to(phone)[1:] == []
            await store.start()
            outbox.wake()
            arrivals = await push_sink.wait_for(phone, 2, timeout=20.0)
            await quiet(hub, sock)
            assert await outbox_states(hub) == ["sent"] and outbox.failed == failed_before
            assert len(push_sink.to(phone)) == 2
            assert decrypted(phone, arrivals[1])["kind"] == "dm"
    finally:
        await store.stop()
