"""SOS: alerts, the lifecycle state machine, dispatch (who is told), escalation, the live feed.

Public surface: :class:`SosService` (``running()`` runs the escalation scheduler),
:func:`sos_routes`, :func:`register_events` and :data:`INDEXES`.  Wire protocol: ``docs/api.md``.
"""

from __future__ import annotations

from hubchat.sos.events import register_events
from hubchat.sos.repository import INDEXES, TimelineEntryStored
from hubchat.sos.rooms import FEED_ROOM
from hubchat.sos.routes import sos_routes
from hubchat.sos.service import SosService

__all__ = ["FEED_ROOM", "INDEXES", "SosService", "TimelineEntryStored", "register_events", "sos_routes"]
