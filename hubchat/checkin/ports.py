"""What check-in timers need from SOS, declared here and implemented by ``bridge.SosBridge``."""

from __future__ import annotations

from typing import Protocol

from hubchat.store import Document


class Alerts(Protocol):
    async def raise_missed(self, timer: Document, location: Document | None) -> Document:
        """An SOS for the person through the normal trigger path (idempotent per timer)."""
        ...

    async def raise_duress(self, timer: Document, location: Document | None) -> Document:
        """A silent duress alert to the Cell only (idempotent per timer)."""
        ...

    async def last_location(self, user_id: str) -> Document | None:
        """The person's last location the SOS capability knows ({lat, lon, accuracy_m, at})."""
        ...
