"""Web Push (VAPID, RFC 8291): subscriptions, per-user settings, and pushes through a durable outbox.

Public surface: :class:`PushService` (``running()`` runs the push senders; ``new_alert`` and
``new_message`` are called from the wiring in app.py), :func:`push_routes` and :data:`INDEXES`.
Wire protocol and payloads: ``docs/api.md``; what a push reveals: ``docs/security.md``.
"""

from __future__ import annotations

from hubchat.push.outbox import INDEXES as OUTBOX_INDEXES
from hubchat.push.repository import INDEXES as REPO_INDEXES
from hubchat.push.routes import push_routes
from hubchat.push.service import PushService

INDEXES = {**REPO_INDEXES, **OUTBOX_INDEXES}

__all__ = ["INDEXES", "PushService", "push_routes"]
