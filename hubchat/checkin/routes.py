"""HTTP fallbacks of check-in timers: the same bodies, service methods and answers as the events."""

from __future__ import annotations

from aiohttp import web

from hubchat.checkin.models import CheckInIn, LocationIn, SetIn
from hubchat.checkin.service import CheckinService
from hubchat.http_api import ok, principal_of, read_body


def checkin_routes(service: CheckinService) -> list[web.RouteDef]:
    async def set_timer(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"checkin": await service.set(principal, await read_body(request, SetIn))}, status=201)

    async def mine(request: web.Request) -> web.Response:
        return ok(await service.mine(await principal_of(request)))

    async def location(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"checkin": await service.location(principal, await read_body(request, LocationIn))})

    async def check_in(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"checkin": await service.check_in(principal, await read_body(request, CheckInIn))})

    return [
        web.post("/api/checkin", set_timer),
        web.get("/api/checkin", mine),
        web.post("/api/checkin/location", location),
        web.post("/api/checkin/check-in", check_in),
    ]
