"""What the SOS capability needs from the others, declared here and wired in ``app.py``.

SOS names no other capability's collection: it asks the accounts for people (the person's card,
PINs, which responders are staff now, emails for escalation), the directory for associations and
office bearers (who is near, who is an office bearer of what now), and translation for notes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Literal, Protocol

from hubchat.store import Document

PinCheck = Literal["cancel", "duress", "wrong"]


class Accounts(Protocol):
    """Implemented by ``hubchat.auth.AccountService``."""

    async def get_user(self, user_id: str) -> Document:
        """The user document (``user_not_found`` if none)."""
        ...

    async def check_sos_pin(self, user_id: str, pin: str) -> PinCheck:
        """Which PIN this is; both hashes are verified whatever the answer."""
        ...

    async def active_staff(self, user_ids: Iterable[str]) -> set[str]:
        """Which of these users are officers or admins now, and not disabled."""
        ...

    async def emails_of(self, user_ids: Iterable[str]) -> list[str]:
        """Emails (lower case, sorted) of these users, disabled accounts left out."""
        ...

    async def staff_emails(self) -> list[str]:
        """Emails (lower case, sorted) of every officer and admin not disabled."""
        ...


class Directory(Protocol):
    """Implemented by ``hubchat.directory.DirectoryService``."""

    async def near(self, lat: float, lon: float, radius_km: float, limit: int) -> list[Document]:
        """Approved associations near a point, nearest first: ``[{association_id, distance_km, …}]``."""
        ...

    async def association_ids_of(self, user_id: str) -> list[str]:
        """The associations the user is an active member of (any role, any status)."""
        ...

    async def approved_associations(self, *, ids: Sequence[str] = (), countries: Sequence[str] = (),
                                    limit: int = 0) -> list[Document]:
        """Approved associations among ``ids``, or in ``countries``: ``{_id, country, gathering_places}``."""
        ...

    async def office_bearers_by_association(self, association_ids: Sequence[str]) -> dict[str, list[str]]:
        """Active office bearers' ids (sorted) of each association (absent: none), in one read."""
        ...

    async def active_office_bearer_pairs(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (user id, association id) pairs are active office bearers now."""
        ...


class TranslatedNote(Protocol):
    """A note's translation (``hubchat.translate.TranslationResult``)."""

    @property
    def status(self) -> str: ...

    @property
    def text(self) -> str | None: ...

    @property
    def target_lang(self) -> str | None: ...

    @property
    def engine(self) -> str | None: ...

    @property
    def model_version(self) -> str | None: ...

    @property
    def unvetted(self) -> bool: ...  # an unreviewed phrasebook phrase was used

    @property
    def similar(self) -> bool: ...  # (part of) it is the translation memory's entry for a similar text


# (text, declared language or None: the detector decides) -> its translation, at SOS priority.
TranslateNote = Callable[[str, str | None], Awaitable[TranslatedNote]]
