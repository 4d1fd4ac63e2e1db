"""HTTP routes of the SOS capability: thin — authenticate, validate, call the service.

``POST /api/sos`` and the person's ``POST /api/sos/location``, ``/note`` and ``/cancel`` are the
fallbacks for networks where a socket will not stay up: the same bodies as the Socket.IO events,
the same service methods, so the same rules, limits, idempotency and duress cover, and the ack as
the JSON body (errors with their HTTP status).  The rest serve the Cell (pages of closed alerts,
details, timeline, exports, audit).  See ``docs/api.md``.
"""

from __future__ import annotations

from aiohttp import web

from hubchat.http_api import ok, path_id, principal_of, read_body, read_query
from hubchat.sos.history import HideIn, MyAlertsQuery
from hubchat.sos.models import AlertsQuery, CancelIn, LocationIn, NoteIn, TriggerIn
from hubchat.sos.service import SosService
from hubchat.sos.views import person_view


def sos_routes(service: SosService) -> list[web.RouteDef]:
    reads = service.reads

    async def trigger(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        req = await read_body(request, TriggerIn)
        alert, outcome = await service.triggers.trigger(principal, req)
        return ok({"alert": person_view(alert), "outcome": outcome}, status=201 if outcome == "created" else 200)

    async def location(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        alert, point = await service.actions.location(principal, await read_body(request, LocationIn))
        return ok({"alert_id": alert["_id"], "location": point})

    async def note(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"event": await service.actions.note(principal, await read_body(request, NoteIn))})

    async def cancel(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"alert": await service.actions.cancel(principal, await read_body(request, CancelIn))})

    async def mine(request: web.Request) -> web.Response:
        return ok(await reads.mine(await principal_of(request)))

    async def alerts(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await reads.closed_page(principal, read_query(request, AlertsQuery)))

    async def detail(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"alert": await reads.get(principal, path_id(request, "alert_id"))})

    async def timeline(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await reads.timeline(principal, path_id(request, "alert_id")))

    async def export_json(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        alert_id = path_id(request, "alert_id")
        response = ok(await reads.export_json(principal, alert_id))
        response.headers["Content-Disposition"] = f'attachment; filename="sos-{alert_id}.json"'
        return response

    async def export_cap(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        alert_id = path_id(request, "alert_id")
        xml = await reads.export_cap(principal, alert_id)
        return web.Response(text=xml, content_type="application/cap+xml", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="sos-{alert_id}.cap.xml"'})

    async def audit(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await reads.audit(principal, path_id(request, "alert_id")))

    async def my_alerts(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await service.history.page(principal, read_query(request, MyAlertsQuery)))

    async def hide_my_alerts(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        await read_body(request, HideIn)
        return ok(await service.history.hide(principal))

    base = "/api/sos/alerts/{alert_id}"
    return [
        web.post("/api/sos", trigger),
        web.post("/api/sos/location", location),
        web.post("/api/sos/note", note),
        web.post("/api/sos/cancel", cancel),
        web.get("/api/sos/mine", mine),
        web.get("/api/sos/alerts", alerts),
        web.get(base, detail),
        web.get(f"{base}/timeline", timeline),
        web.get(f"{base}/export.json", export_json),
        web.get(f"{base}/export.cap", export_cap),
        web.get(f"{base}/audit", audit),
        web.get("/api/me/sos/alerts", my_alerts),
        web.post("/api/me/sos/alerts/hide", hide_my_alerts),
    ]
