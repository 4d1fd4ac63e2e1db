"""What the channels capability needs from the directory, wired in ``app.py`` (the accounts are
used through ``hubchat.auth.AccountService`` itself)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from hubchat.directory.membership import Memberships


class Directory(Protocol):
    """Implemented by ``hubchat.directory.DirectoryService``."""

    @property
    def memberships(self) -> Memberships:
        """The membership read model (and its change listeners)."""
        ...

    async def approved_ids(self, association_ids: Iterable[str]) -> set[str]:
        """Which of these associations are approved."""
        ...


# The Cell officers who can answer a direct message now, best first (on duty and connected, or
# within the grace period): given by the SOS capability's duty roster, wired in ``app.py``.
CellDesk = Callable[[], Awaitable[list[str]]]
