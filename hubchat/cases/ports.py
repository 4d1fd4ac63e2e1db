"""What cases need from the other capabilities, declared here and wired in ``app.py``.

Cases name no other capability's collection: they ask SOS for an alert and for its export as a
partner agency may read it, the accounts for people and officers, and chat whether the officer can
read the message a case is opened from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hubchat.principal import Principal
from hubchat.store import Document


class Alerts(Protocol):
    """Implemented by ``hubchat.sos`` (wired in ``app.py``)."""

    async def find(self, alert_id: str) -> Document | None:
        """The stored alert, or None."""
        ...

    async def export_for_partner(self, principal: Principal, alert_id: str, fmt: str) -> tuple[str, str, str]:
        """(filename, content type, text) of the alert's JSON or CAP export as anyone outside the
        Cell may read it (never a duress flag), audited for ``principal``."""
        ...


class Accounts(Protocol):
    """Implemented by ``hubchat.auth.AccountService``."""

    async def get_user(self, user_id: str) -> Document: ...

    async def active_staff(self, user_ids: Iterable[str]) -> set[str]: ...

    async def emails_of(self, user_ids: Iterable[str]) -> list[str]: ...


class Chat(Protocol):
    """Implemented by ``hubchat.channels.ChannelService`` (wired in ``app.py``)."""

    async def can_read(self, principal: Principal, channel_id: str) -> bool: ...

    async def message(self, message_id: str) -> Document | None: ...
