"""Check-in timers (issue 14, item 2): a deadline the person sets before a risky moment.

Checking in with the SOS PIN ends it; the duress PIN ends it identically on the person's
screens and raises a silent alert to the Cell; a missed deadline raises an SOS with the last
known location and the note.  Timers live in the store and fire exactly once across nodes
(``scanner``).  Public surface: :class:`CheckinService`, :class:`SosBridge`,
:func:`checkin_routes`, :func:`register_events`, :data:`INDEXES`.  Wire protocol: ``docs/api.md``.
"""

from __future__ import annotations

from hubchat.checkin.bridge import SosBridge
from hubchat.checkin.events import register_events
from hubchat.checkin.repository import INDEXES
from hubchat.checkin.routes import checkin_routes
from hubchat.checkin.service import CheckinService

__all__ = ["INDEXES", "CheckinService", "SosBridge", "checkin_routes", "register_events"]
