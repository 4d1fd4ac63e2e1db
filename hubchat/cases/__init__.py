"""Cases: the Cell's follow-up of a person (from an alert or a chat request), with notes,
reminders and referrals to partner agencies.

Public surface: :class:`CaseService` (``has_open_case`` is the contract other capabilities use),
:class:`ReminderScheduler`, :func:`case_routes` and :data:`INDEXES`.  Wire protocol: ``docs/api.md``.
"""

from __future__ import annotations

from hubchat.cases.reminders import ReminderScheduler
from hubchat.cases.repository import INDEXES
from hubchat.cases.routes import case_routes
from hubchat.cases.service import CaseService

__all__ = ["INDEXES", "CaseService", "ReminderScheduler", "case_routes"]
