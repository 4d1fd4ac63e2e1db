"""HTTP routes of Web Push: thin — validate, call the service, shape the reply (docs/api.md)."""

from __future__ import annotations

from aiohttp import web

from hubchat.http_api import ok, principal_of, read_body
from hubchat.push.models import EndpointIn, PushSettingsIn, SubscriptionIn
from hubchat.push.service import PushService


def push_routes(push: PushService) -> list[web.RouteDef]:
    async def key(request: web.Request) -> web.Response:
        return ok({"public_key": push.vapid.public_key})

    async def subscribe(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        req = await read_body(request, SubscriptionIn)
        return ok({"subscription": await push.subscribe(principal, req)}, status=201)

    async def unsubscribe(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        req = await read_body(request, EndpointIn)
        return ok({"removed": await push.unsubscribe(principal, req.endpoint)})

    async def mine(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"subscriptions": await push.subscriptions(principal)})

    async def get_settings(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"settings": await push.get_settings(principal)})

    async def put_settings(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        req = await read_body(request, PushSettingsIn)
        return ok({"settings": await push.put_settings(principal, req)})

    return [
        web.get("/api/push/key", key),
        web.post("/api/push/subscriptions", subscribe),
        web.delete("/api/push/subscriptions", unsubscribe),
        web.get("/api/push/subscriptions", mine),
        web.get("/api/me/push-settings", get_settings),
        web.put("/api/me/push-settings", put_settings),
    ]
