"""Outgoing email over SMTP (aiosmtplib), retried while the failure is temporary.

Delivery guarantee: at least once to the SMTP server when :meth:`Mailer.send` returns (a lost
reply after the server accepted the message may cause a second copy on retry); when it cannot
deliver it raises :class:`Unavailable` with code ``mail_failed``.  Temporary failures are
connection errors, timeouts, disconnects and SMTP 4xx replies; they are retried
``settings.mail_retry_attempts`` times, waiting ``mail_retry_base_delay_secs * 2**n`` (capped at
``MAX_RETRY_DELAY_SECS``) plus up to a quarter of that as jitter.  Permanent failures (5xx:
recipient, sender or data refused, authentication failed) are not retried.
:meth:`Mailer.send_later` sends in a tracked background task; its failures are logged, not
raised.  Logs name the recipient count, never addresses, and never the SMTP password.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from hubchat.background import BackgroundTasks
from hubchat.config import Settings
from hubchat.errors import Unavailable

__all__ = ["Attachment", "Email", "Mailer", "is_temporary"]

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_SECS = 60.0
CLOSE_WAIT_SECS = 5.0


@dataclass(frozen=True)
class Attachment:
    """A text file attached to an email (a JSON or CAP export): ``content_type`` is ``type/subtype``."""

    filename: str
    content_type: str
    content: str


@dataclass(frozen=True)
class Email:
    """One message to one or more recipients; ``html`` adds an HTML alternative to ``text``;
    ``attachments`` are added as MIME attachments (UTF-8)."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()


# One bare address, ASCII only: no list, display name, quotes, spaces or control characters.
# (Inbound addresses are checked strictly by hubchat.schema.Email; this also guards configured
# ones such as the escalation list, which may use private domains like ``.local``.)
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _plain_address(address: str) -> bool:
    return len(address) <= 254 and _PLAIN_ADDRESS.fullmatch(address) is not None


def _is_temporary(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(400 <= refused.code < 500 for refused in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    return isinstance(exc, OSError)  # connect errors, timeouts, disconnects


is_temporary = _is_temporary


class Mailer:
    """Sends :class:`Email` through the SMTP server named in the settings.

    ``sent`` and ``failed`` count emails (not attempts) delivered and given up.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._background = BackgroundTasks("mail")
        self._closed = False
        self._enqueue: Callable[[Email], Awaitable[int]] | None = None
        self.sent = 0
        self.failed = 0

    def build(self, email: Email) -> EmailMessage:
        """The MIME message for ``email``: text, plus an HTML alternative when given."""
        if not email.to:
            raise ValueError("an email needs at least one recipient")
        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = ", ".join(email.to)
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False)
        domain = parseaddr(self._settings.mail_from)[1].rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(email.text)
        if email.html is not None:
            message.add_alternative(email.html, subtype="html")
        for attachment in email.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(attachment.content.encode("utf-8"), maintype=maintype, subtype=subtype,
                                   filename=attachment.filename)
        return message

    async def send(self, email: Email) -> None:
        """Deliver now, retrying temporary failures; raises Unavailable(code="mail_failed").

        Each recipient must be one plain address: a malformed one (a list, control characters,
        a display name) is dropped and logged; with none left nothing is sent (``mail_failed``).
        """
        good = tuple(to for to in email.to if _plain_address(to))
        if len(good) < len(email.to):
            log.warning("mail: refused %d malformed recipient address(es)", len(email.to) - len(good))
        if not good:
            self.failed += 1
            raise Unavailable("no valid recipient address", code="mail_failed")
        message = self.build(dataclasses.replace(email, to=good))
        retries = max(0, self._settings.mail_retry_attempts)
        for attempt in range(retries + 1):
            try:
                await self._send_once(message)
            except (aiosmtplib.SMTPException, OSError) as exc:
                if attempt < retries and _is_temporary(exc):
                    delay = self._delay(attempt)
                    log.warning(
                        "mail to %d recipient(s) failed (%s: %s); retry %d/%d in %.2f s",
                        len(email.to),
                        type(exc).__name__,
                        exc,
                        attempt + 1,
                        retries,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                self.failed += 1
                kind = "temporary" if _is_temporary(exc) else "permanent"
                log.error(
                    "mail to %d recipient(s) given up after %d attempt(s), %s failure: %s: %s",
                    len(email.to),
                    attempt + 1,
                    kind,
                    type(exc).__name__,
                    exc,
                )
                raise Unavailable("could not send the email", code="mail_failed") from exc
            self.sent += 1
            return

    async def send_once(self, email: Email) -> None:
        """One attempt, errors raised as they come (the durable outbox schedules the retries)."""
        await self._send_once(self.build(email))

    def bind_outbox(self, enqueue: Callable[[Email], Awaitable[int]]) -> None:
        """From now on ``send_later`` stores the email in the durable outbox, which sends it."""
        self._enqueue = enqueue

    def send_later(self, email: Email) -> None:
        """Hand the email to the durable outbox (or, without one, send it in a background task);
        failures are logged with the recipient count, not raised."""
        if self._closed:
            self.failed += 1
            log.warning("mailer closed: dropped a mail to %d recipient(s)", len(email.to))
            return
        if self._enqueue is not None:
            self._background.spawn(self._enqueue_logged(self._enqueue, email), "hubchat-mail-enqueue")
            return
        self._background.spawn(self._send_logged(email), "hubchat-mail")

    async def _enqueue_logged(self, enqueue: Callable[[Email], Awaitable[int]], email: Email) -> None:
        try:
            await enqueue(email)
        except Exception:
            self.failed += 1
            log.exception("could not store a mail to %d recipient(s) in the outbox", len(email.to))

    async def close(self) -> None:
        """Wait up to ``CLOSE_WAIT_SECS`` for background sends, then cancel the rest."""
        self._closed = True
        cancelled = await self._background.drain(CLOSE_WAIT_SECS)
        if cancelled:
            log.warning("mailer closing: cancelled %d unsent mail(s)", cancelled)

    async def _send_logged(self, email: Email) -> None:
        try:
            await self.send(email)
        except Unavailable:
            pass  # already logged by send()
        except Exception:
            self.failed += 1
            log.exception("background mail to %d recipient(s) failed", len(email.to))

    async def _send_once(self, message: EmailMessage) -> None:
        s = self._settings
        errors, _ = await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user or None,
            password=s.smtp_password or None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_secs,
        )
        if errors:
            log.warning("mail accepted for some recipients; %d refused", len(errors))

    def _delay(self, attempt: int) -> float:
        base = min(self._settings.mail_retry_base_delay_secs * 2.0**attempt, MAX_RETRY_DELAY_SECS)
        return base + random.uniform(0, base / 4)
