"""Channels, direct messages, messages, receipts, typing and presence.

Public surface: ``ChannelService`` (``running()``, ``messages`` for message reads,
``translations`` for the translation capability, ``can_read``), the domain event
``MessageStored`` (on ``Infra.events``, for work after a message is stored),
``channel_routes``, ``register_events`` and ``INDEXES``.  Wire protocol: ``docs/api.md``.
"""

from __future__ import annotations

from hubchat.channels.events import register_events
from hubchat.channels.messages import MessageStored
from hubchat.channels.repository import INDEXES
from hubchat.channels.routes import channel_routes
from hubchat.channels.service import ChannelService

__all__ = ["INDEXES", "ChannelService", "MessageStored", "channel_routes", "register_events"]
