"""Safety: the person's encrypted safety profile and their trusted contacts (issue 14, items 1 and 3).

Public surface: :class:`SafetyService`, :func:`safety_routes`, :data:`INDEXES`, the ports
(:class:`OpenCases`) and :class:`SosLink` (the SOS capability as this one reads it).
"""

from __future__ import annotations

from hubchat.safety.ports import NoOpenCases, OpenCases
from hubchat.safety.repository import INDEXES
from hubchat.safety.routes import safety_routes
from hubchat.safety.service import SafetyService
from hubchat.safety.sos_link import SosLink

__all__ = ["INDEXES", "NoOpenCases", "OpenCases", "SafetyService", "SosLink", "safety_routes"]
