"""What the safety capability needs from the others, declared here and wired in ``app.py``."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from hubchat.store import Document


class OpenCases(Protocol):
    """The cases capability (collection ``cases``, owned there): does the person have a case the
    Cell is still working on (status open, in_progress or referred)?"""

    async def has_open_case(self, person_id: str) -> bool: ...


class NoOpenCases:
    """The default until the cases capability is wired: nobody has an open case."""

    async def has_open_case(self, person_id: str) -> bool:
        return False


class Alerts(Protocol):
    """The SOS capability, as the safety capability reads it."""

    async def open_alerts_of(self, person_id: str) -> list[Document]:
        """The person's alerts open for the Cell (a duress alert shown as cancelled included), newest first."""
        ...

    async def find(self, alert_id: str) -> Document | None:
        """The stored alert."""
        ...

    async def audit(self, alert_id: str, viewer: Document, action: str) -> None:
        """Record on the alert's audit log that ``viewer`` looked at something (``action``)."""
        ...


@dataclasses.dataclass(frozen=True)
class AlertMoment:
    """One moment of an alert as everyone outside the Cell may know it (what trusted contacts are
    told): ``kind`` raised | acknowledged | closed; ``closed_as`` cancelled | resolved |
    false_alarm; ``location`` the alert's last known location as outsiders know it, or None."""

    alert_id: str
    person_id: str
    person_name: str
    kind: str
    closed_as: str | None
    at: str
    location: Document | None


class AlertMoments(Protocol):
    async def moment(self, entry: Document) -> AlertMoment | None:
        """The outsiders' moment a stored timeline entry is, or None (nothing contacts hear of)."""
        ...
