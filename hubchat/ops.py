"""Operations routes: liveness, readiness (MongoDB and Redis reachable) and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web

from hubchat.infra import Infra


def ops_routes(infra: Infra) -> list[web.RouteDef]:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "node": infra.realtime.node_id})

    async def readyz(request: web.Request) -> web.Response:
        try:
            checks = await infra.ready()
        except RuntimeError:
            checks = {"mongodb": False}
        ready = all(checks.values())
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=infra.metrics.render(), content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)]
