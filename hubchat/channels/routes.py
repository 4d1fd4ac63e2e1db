"""HTTP routes of the channels capability: thin — authenticate, validate, call the service."""

from __future__ import annotations

from aiohttp import web

from hubchat.channels.models import HistoryQuery
from hubchat.channels.service import ChannelService
from hubchat.http_api import ok, path_id, principal_of, read_query


def channel_routes(service: ChannelService) -> list[web.RouteDef]:
    async def list_channels(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"channels": await service.list_channels(principal)})

    async def history(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        channel_id = path_id(request, "channel_id")
        query = read_query(request, HistoryQuery)
        return ok(await service.messages.history(principal, channel_id, query))

    async def invitations(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await service.invitations(principal, path_id(request, "association_id")))

    return [
        web.get("/api/channels", list_channels),
        web.get("/api/associations/{association_id}/channel-invitations", invitations),
        web.get("/api/channels/{channel_id}/messages", history),
    ]
