"""The durable mail outbox against the real store and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller

from hubchat.config import Settings
from hubchat.embedded_mongo import free_loopback_port
from hubchat.mail import Email, Mailer
from hubchat.outbox import INDEXES, OUTBOX, Outbox
from hubchat.store import Store
from tests.conftest import SmtpSink


def outbox_settings(port: int, **changes: Any) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_secs=2.0,
                    mail_retry_base_delay_secs=0.05, mail_outbox_max_attempts=50).replace(**changes)


async def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


async def states(store: Store) -> list[str]:
    return sorted([doc["state"] async for doc in store[OUTBOX].find({})])


async def test_mail_queued_while_smtp_is_down_is_sent_once_when_it_returns(store: Store) -> None:
    await store.ensure_indexes([INDEXES])
    port = free_loopback_port()  # nothing listens here yet: SMTP is down
    settings = outbox_settings(port)
    mailer = Mailer(settings)
    outbox = Outbox(settings, lambda: store, lambda: mailer, "node-a")
    email = Email(to=("duty@example.org", "chief@example.org"), subject="SOS", text="help")
    assert await outbox.enqueue(email, key="sos:1:t1", tag="sos:1") == 2
    assert await outbox.enqueue(email, key="sos:1:t1", tag="sos:1") == 0  # the step redone: nothing new
    sink = SmtpSink()
    async with outbox.running():
        await wait_until(lambda: _attempted(store), timeout=5)
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            await wait_until(lambda: _all_sent(store, 2))
        finally:
            controller.stop()
    assert sorted(addr for m in sink.messages for addr in [m["To"]]) == ["chief@example.org", "duty@example.org"]
    assert await outbox.counts("sos:1") == {"sent": 2}


async def _attempted(store: Store) -> bool:
    return await store[OUTBOX].count_documents({"attempts": {"$gte": 1}}) >= 1


async def _all_sent(store: Store, count: int) -> bool:
    return await store[OUTBOX].count_documents({"state": "sent"}) == count


async def test_a_node_that_dies_mid_send_leaves_the_email_to_another(store: Store,
                                                                      smtp_server: tuple[SmtpSink, int]) -> None:
    await store.ensure_indexes([INDEXES])
    sink, port = smtp_server
    before = len(sink.messages)
    settings = outbox_settings(port)
    await store[OUTBOX].insert_one({  # claimed by a node that died: its lease has run out
        "_id": "a" * 24, "key": "k|x@example.org", "to": "x@example.org", "subject": "left behind", "text": "t",
        "html": None, "state": "sending", "attempts": 1, "tag": None, "due_ms": 0, "created_ms": 0,
        "lease_ms": 1, "claimed_by": "dead-node"})
    mailer = Mailer(settings)
    survivor = Outbox(settings, lambda: store, lambda: mailer, "node-b")
    async with survivor.running():
        await wait_until(lambda: _all_sent(store, 1))
    subjects = [m["Subject"] for m in sink.messages[before:]]
    assert subjects.count("left behind") == 1


async def test_a_permanent_refusal_ends_as_failed_without_retries(store: Store) -> None:
    await store.ensure_indexes([INDEXES])
    port = free_loopback_port()

    class Refusing(SmtpSink):
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                              rcpt_options: list[str]) -> str:
            return "550 no such user"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = outbox_settings(port)
        mailer = Mailer(settings)
        outbox = Outbox(settings, lambda: store, lambda: mailer, "node-a")
        await outbox.enqueue(Email(to=("gone@example.org",), subject="s", text="t"), key="k")
        async with outbox.running():
            await wait_until(lambda: _failed(store))
    finally:
        controller.stop()
    doc = await store[OUTBOX].find_one({})
    assert doc is not None and doc["state"] == "failed" and doc["attempts"] == 1


async def _failed(store: Store) -> bool:
    return await store[OUTBOX].count_documents({"state": "failed"}) == 1


async def test_without_smtp_mail_is_kept_locally_for_a_newcomer_to_read(store: Store) -> None:
    await store.ensure_indexes([INDEXES])
    settings = outbox_settings(0, smtp_host="")
    mailer = Mailer(settings)
    outbox = Outbox(settings, lambda: store, lambda: mailer, "node-a")
    await outbox.enqueue(Email(to=("new@example.org",), subject="Your code", text="123456"))
    async with outbox.running():
        await asyncio.sleep(0.05)
    assert await states(store) == ["kept"]
    listed = await outbox.list()
    assert listed[0]["to"] == "new@example.org" and listed[0]["text"] == "123456"
