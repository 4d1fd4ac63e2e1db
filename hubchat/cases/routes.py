"""HTTP routes of cases and partner agencies: thin — authenticate, validate, call the service.
See ``docs/api.md`` (Cases)."""

from __future__ import annotations

from aiohttp import web

from hubchat.cases.models import (
    AgencyIn,
    AgencyUpdateIn,
    CasesQuery,
    CloseCaseIn,
    FromAlertIn,
    NoteIn,
    OpenCaseIn,
    ReferralIn,
    ReminderIn,
    UpdateCaseIn,
)
from hubchat.cases.service import CaseService
from hubchat.http_api import ok, path_id, principal_of, read_body, read_query


def case_routes(service: CaseService) -> list[web.RouteDef]:
    async def listing(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await service.list(principal, read_query(request, CasesQuery)))

    async def open_case(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"case": await service.open(principal, await read_body(request, OpenCaseIn))}, status=201)

    async def from_alert(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        case, created = await service.from_alert(principal, await read_body(request, FromAlertIn))
        return ok({"case": case, "created": created}, status=201 if created else 200)

    async def mine(request: web.Request) -> web.Response:
        return ok(await service.mine(await principal_of(request)))

    async def detail(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await service.get(principal, path_id(request, "case_id")))

    async def update(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        case_id = path_id(request, "case_id")
        return ok({"case": await service.update(principal, case_id, await read_body(request, UpdateCaseIn))})

    async def close(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        case_id = path_id(request, "case_id")
        return ok({"case": await service.close(principal, case_id, await read_body(request, CloseCaseIn))})

    async def note(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        case_id = path_id(request, "case_id")
        return ok({"note": await service.add_note(principal, case_id, await read_body(request, NoteIn))}, status=201)

    async def reminder(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        case_id = path_id(request, "case_id")
        body = await read_body(request, ReminderIn)
        return ok({"reminder": await service.add_reminder(principal, case_id, body)}, status=201)

    async def referral(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        case_id = path_id(request, "case_id")
        body = await read_body(request, ReferralIn)
        return ok({"referral": await service.refer(principal, case_id, body)}, status=201)

    async def audit(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await service.audit(principal, path_id(request, "case_id")))

    async def agencies(request: web.Request) -> web.Response:
        return ok(await service.agencies(await principal_of(request)))

    async def add_agency(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"agency": await service.add_agency(principal, await read_body(request, AgencyIn))}, status=201)

    async def update_agency(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        agency_id = path_id(request, "agency_id")
        body = await read_body(request, AgencyUpdateIn)
        return ok({"agency": await service.update_agency(principal, agency_id, body)})

    base = "/api/cases/{case_id}"
    return [
        web.get("/api/cases", listing),
        web.post("/api/cases", open_case),
        web.post("/api/cases/from-alert", from_alert),
        web.get("/api/cases/mine", mine),
        web.get("/api/partner-agencies", agencies),
        web.post("/api/partner-agencies", add_agency),
        web.patch("/api/partner-agencies/{agency_id}", update_agency),
        web.get(base, detail),
        web.patch(base, update),
        web.post(f"{base}/close", close),
        web.post(f"{base}/notes", note),
        web.post(f"{base}/reminders", reminder),
        web.post(f"{base}/referrals", referral),
        web.get(f"{base}/audit", audit),
    ]
