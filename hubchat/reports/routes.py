"""``GET /api/reports/summary`` (JSON) and ``GET /api/reports/summary.csv``: see ``docs/api.md``."""

from __future__ import annotations

from aiohttp import web

from hubchat.http_api import ok, principal_of, read_query
from hubchat.reports.service import ReportService, SummaryQuery, to_csv


def report_routes(service: ReportService) -> list[web.RouteDef]:
    async def summary(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await service.summary(principal, read_query(request, SummaryQuery)))

    async def summary_csv(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        query = read_query(request, SummaryQuery)
        report = await service.summary(principal, query)
        name = f"hubchat-report-{query.from_.isoformat()}-{query.to.isoformat()}.csv"
        return web.Response(text=to_csv(report), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return [web.get("/api/reports/summary", summary), web.get("/api/reports/summary.csv", summary_csv)]
