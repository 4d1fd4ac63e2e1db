"""Channels, direct messages, messages, receipts, typing and presence."""
# Not built yet.
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from hubchat.infra import Infra
from hubchat.realtime import Realtime

INDEXES: dict[str, list[Any]] = {}


class ChannelService:
    def __init__(self, infra: Infra, accounts: Any, directory: Any):
        self.infra = infra

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        yield


def channel_routes(service: ChannelService) -> list[web.RouteDef]:
    return []


def register_events(realtime: Realtime, service: ChannelService) -> None:
    return None


__all__ = ["INDEXES", "ChannelService", "channel_routes", "register_events"]
