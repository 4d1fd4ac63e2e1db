"""Operations routes: liveness, readiness (MongoDB and Redis reachable) and Prometheus metrics.

Two surfaces:

* the public port answers ``GET /healthz`` (``{"status": "ok"}``) and ``GET /readyz``
  (``{"ready": bool}``, 200 or 503) and nothing more: no node id, no dependency names, no metrics;
* the ops listener (:func:`build_ops_app`, served by ``hubchat serve`` on ``ops_host:ops_port``,
  loopback by default) answers ``/healthz`` with the node id, ``/readyz`` with each check, and
  ``/metrics``.  With ``ops_token`` set, every request to it needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from hubchat.http_api import Handler
from hubchat.infra import Infra


def ops_routes(infra: Infra) -> list[web.RouteDef]:
    """The public port's health routes: a yes or no, nothing an outsider could learn from."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        ready = all((await _checks(infra)).values())
        return web.json_response({"ready": ready}, status=200 if ready else 503)

    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]


async def _checks(infra: Infra) -> dict[str, bool]:
    try:
        return await infra.ready()
    except RuntimeError:
        return {"mongodb": False}


def build_ops_app(infra: Infra) -> web.Application:
    """The ops listener's application: details for the operator, never on the public port."""
    token = infra.settings.ops_token

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return web.json_response(
                    {"error": {"code": "token_invalid", "message": "the ops listener needs its bearer token"}},
                    status=401, headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "node": infra.realtime.node_id})

    async def readyz(request: web.Request) -> web.Response:
        checks = await _checks(infra)
        ready = all(checks.values())
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=infra.metrics.render(), content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})

    app = web.Application(middlewares=[require_token])
    app.add_routes([web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)])
    return app
