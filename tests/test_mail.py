"""Mailer against a real in-process SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import logging
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

import hubchat.mail as mail_module
from hubchat.config import Settings
from hubchat.embedded_mongo import free_loopback_port
from hubchat.errors import Unavailable
from hubchat.mail import Attachment, Email, Mailer


def mail_settings(port: int, **changes: Any) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout_secs=5.0,
        mail_from="hubchat <no-reply@hubchat.test>",
        mail_retry_base_delay_secs=0.05,
    ).replace(**changes)


@pytest.fixture
def smtp_port(smtp_server: tuple[Any, int]) -> int:
    return smtp_server[1]


class RefusingSink:
    """An SMTP server that refuses some recipients, permanently or for now."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.rcpt_attempts = 0
        self.received: list[Envelope] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        self.rcpt_attempts += 1
        if address.startswith("refused"):
            return f"{self.code} no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"


class StartedLater:
    """An aiosmtpd server started and stopped off the event loop's thread."""

    def __init__(self, handler: Any, port: int) -> None:
        self.controller = Controller(handler, hostname="127.0.0.1", port=port)

    async def start(self) -> None:
        await asyncio.to_thread(self.controller.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self.controller.stop)


def body(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


async def test_delivers_text_and_html(smtp: Any, smtp_port: int) -> None:
    mailer = Mailer(mail_settings(smtp_port))

    await mailer.send(
        Email(
            to=("ruth@example.org", "zara@example.org"),
            subject="Your code: 123456 — Kan lo lawm",
            text="Your verification code is 123456.",
            html="<p>Your verification code is <b>123456</b>.</p>",
        )
    )

    [message] = await smtp.wait_for("ruth@example.org")
    assert str(make_header(decode_header(message["Subject"]))) == "Your code: 123456 — Kan lo lawm"
    assert message["From"] == "hubchat <no-reply@hubchat.test>"
    assert message["To"] == "ruth@example.org, zara@example.org"
    assert message["Message-ID"].endswith("@hubchat.test>")
    assert "123456" in body(message, "plain")
    assert "<b>123456</b>" in body(message, "html")
    assert mailer.sent == 1 and mailer.failed == 0
    await mailer.close()


async def test_text_only(smtp: Any, smtp_port: int) -> None:
    mailer = Mailer(mail_settings(smtp_port))

    await mailer.send(Email(to=("ruth@example.org",), subject="Hi", text="Plain only."))

    [message] = await smtp.wait_for("ruth@example.org")
    assert not message.is_multipart()
    assert body(message, "plain").strip() == "Plain only."


async def test_attachments_arrive_as_mime_attachments(smtp: Any, smtp_port: int) -> None:
    mailer = Mailer(mail_settings(smtp_port))
    export = '{"alert": {"id": "x", "note": "Mizo: Ka ṭhian"}}'
    await mailer.send(Email(to=("desk@example.org",), subject="Referral", text="See attached.",
                            attachments=(Attachment("sos-x.json", "application/json", export),)))

    [message] = await smtp.wait_for("desk@example.org")
    assert body(message, "plain").strip() == "See attached."
    [part] = [p for p in message.walk() if p.get_content_disposition() == "attachment"]
    assert part.get_filename() == "sos-x.json" and part.get_content_type() == "application/json"
    assert part.get_payload(decode=True).decode("utf-8") == export


async def test_retries_until_the_server_comes_up(caplog: pytest.LogCaptureFixture) -> None:
    sink = RefusingSink("550")
    port = free_loopback_port()
    server = StartedLater(sink, port)
    mailer = Mailer(mail_settings(port, mail_retry_attempts=6, mail_retry_base_delay_secs=0.05))

    async def start_soon() -> None:
        await asyncio.sleep(0.1)
        await server.start()

    starter = asyncio.create_task(start_soon())
    try:
        with caplog.at_level(logging.WARNING, logger="hubchat.mail"):
            await mailer.send(Email(to=("ruth@example.org",), subject="Hi", text="eventually"))
    finally:
        await starter
        await server.stop()

    assert [e.rcpt_tos for e in sink.received] == [["ruth@example.org"]]
    assert mailer.sent == 1
    assert "retry 1/6" in caplog.text  # the first attempt did fail


async def test_gives_up_when_nobody_listens(caplog: pytest.LogCaptureFixture) -> None:
    mailer = Mailer(
        mail_settings(
            free_loopback_port(),
            mail_retry_attempts=2,
            mail_retry_base_delay_secs=0.01,
            smtp_password="hunter2-secret",
        )
    )

    with caplog.at_level(logging.DEBUG, logger="hubchat.mail"), pytest.raises(Unavailable) as caught:
        await mailer.send(Email(to=("ruth@example.org",), subject="Hi", text="never"))

    assert caught.value.error_code == "mail_failed"
    assert caught.value.status == 503
    assert mailer.failed == 1 and mailer.sent == 0
    assert "retry 2/2" in caplog.text and "retry 3" not in caplog.text
    assert "hunter2-secret" not in caplog.text
    assert "ruth@example.org" not in caplog.text


@pytest.mark.parametrize(("code", "attempts"), [("550", 1), ("450", 3)])
async def test_refused_recipient_is_retried_only_when_temporary(code: str, attempts: int) -> None:
    sink = RefusingSink(code)
    server = StartedLater(sink, free_loopback_port())
    await server.start()
    try:
        port = server.controller.port
        mailer = Mailer(mail_settings(port, mail_retry_attempts=2, mail_retry_base_delay_secs=0.01))
        with pytest.raises(Unavailable) as caught:
            await mailer.send(Email(to=("refused@example.org",), subject="Hi", text="no"))
    finally:
        await server.stop()

    assert caught.value.error_code == "mail_failed"
    assert sink.rcpt_attempts == attempts
    assert sink.received == []


async def test_send_later_and_close(smtp: Any, smtp_port: int) -> None:
    mailer = Mailer(mail_settings(smtp_port))

    for n in range(3):
        mailer.send_later(Email(to=(f"user{n}@example.org",), subject=f"n{n}", text="later"))
    await mailer.close()

    assert sorted(str(m["Subject"]) for m in smtp.messages) == ["n0", "n1", "n2"]
    assert mailer.sent == 3
    mailer.send_later(Email(to=("late@example.org",), subject="after close", text="dropped"))
    assert mailer.failed == 1


async def test_send_later_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    mailer = Mailer(mail_settings(free_loopback_port(), mail_retry_attempts=0))

    with caplog.at_level(logging.ERROR, logger="hubchat.mail"):
        mailer.send_later(Email(to=("a@example.org", "b@example.org"), subject="Hi", text="x"))
        await mailer.close()

    assert mailer.failed == 1
    assert "mail to 2 recipient(s) given up after 1 attempt(s)" in caplog.text


async def test_close_cancels_what_is_still_retrying(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail_module, "CLOSE_WAIT_SECS", 0.1)
    mailer = Mailer(
        mail_settings(free_loopback_port(), mail_retry_attempts=10, mail_retry_base_delay_secs=30)
    )
    mailer.send_later(Email(to=("a@example.org",), subject="Hi", text="x"))
    await asyncio.sleep(0.05)

    async with asyncio.timeout(2):
        await mailer.close()

    assert mailer.sent == 0
