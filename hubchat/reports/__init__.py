"""The Cell's reports: non-identifying statistics with small counts suppressed (``suppression``)."""

from __future__ import annotations

from hubchat.reports.routes import report_routes
from hubchat.reports.service import ReportService

__all__ = ["ReportService", "report_routes"]
