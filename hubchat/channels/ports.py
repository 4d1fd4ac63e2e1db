"""What the channels capability needs from the directory, wired in ``app.py`` (the accounts are
used through ``hubchat.auth.AccountService`` itself)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

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

# The translation capability's answer for a new message, known at once with no I/O: the
# ``translation`` sub-document to store in the insert (and carry in ``message:new``), or None
# when only the translation worker can tell (body, language, version) -> fields.
# Implemented by ``hubchat.translate.TranslationService.settled_fields``; wired in ``app.py``.
SettleTranslation = Callable[[str, "str | None", int], "dict[str, Any] | None"]
