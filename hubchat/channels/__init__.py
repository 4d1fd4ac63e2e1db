"""Channels, direct messages, messages, receipts, typing and presence.

Public surface: ``ChannelService`` (``running()``, ``messages`` for message reads,
``messages.stored_listeners`` for work after a message is stored, ``translations`` for the
translation capability, ``can_read``),
``channel_routes``, ``register_events`` and ``INDEXES``.  Wire protocol: ``docs/api.md``.
"""

from __future__ import annotations

from hubchat.channels.events import register_events
from hubchat.channels.repository import INDEXES
from hubchat.channels.routes import channel_routes
from hubchat.channels.service import ChannelService

__all__ = ["INDEXES", "ChannelService", "channel_routes", "register_events"]
