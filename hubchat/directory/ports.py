"""What the directory capability needs from the accounts, wired in ``app.py``."""

from __future__ import annotations

from typing import Any, Protocol


class Accounts(Protocol):
    """Implemented by ``hubchat.auth.AccountService``."""

    async def users_by_id(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The user documents of these ids (unknown ids are absent)."""
        ...

    async def find_by_email(self, email: str) -> dict[str, Any] | None:
        """``{_id, email}`` of the account with this email, or None."""
        ...
