"""HTTP routes of the directory: thin — authenticate, validate, call the service, shape the reply.

Fixed paths (``pending``, ``near``) are registered before ``/api/associations/{id}``; any other
segment that is not a 24-hex id is answered 404 ``invalid_id``.
"""

from __future__ import annotations

from aiohttp import web

from hubchat.directory.models import (
    AssociationIn,
    AssociationPatch,
    Empty,
    InviteIn,
    MemberPatch,
    NearQuery,
    PageQuery,
    RejectIn,
    SearchQuery,
)
from hubchat.directory.service import DirectoryService
from hubchat.http_api import M, ok, path_id, principal_of, read_body, read_query
from hubchat.principal import Principal


def _member_id(request: web.Request, own_id: str) -> str:
    """``me`` stands for the caller."""
    return own_id if request.match_info.get("user_id") == "me" else path_id(request, "user_id")


def _no_content() -> web.Response:
    return web.Response(status=204)


async def _opening(request: web.Request, body: type[M]) -> tuple[Principal, str, M]:
    """A write on one association: the caller (401 first), the association id of the path
    (404 ``invalid_id``), then the body validated against ``body`` (400)."""
    principal = await principal_of(request)
    association_id = path_id(request, "id")
    return principal, association_id, await read_body(request, body)


async def _opening_get(request: web.Request) -> tuple[Principal, str]:
    """A read of one association: the caller, the association id of the path, no query parameters."""
    principal = await principal_of(request)
    association_id = path_id(request, "id")
    read_query(request, Empty)
    return principal, association_id


def association_routes(service: DirectoryService) -> list[web.RouteDef]:
    async def register(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        req = await read_body(request, AssociationIn)
        return ok({"association": await service.register(principal, req)}, status=201)

    async def search(request: web.Request) -> web.Response:
        await principal_of(request)
        return ok(await service.search(read_query(request, SearchQuery)))

    async def near(request: web.Request) -> web.Response:
        await principal_of(request)
        query = read_query(request, NearQuery)
        return ok({"associations": await service.search_near(query), "radius_km": query.radius_km})

    async def pending(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"associations": await service.pending(principal, read_query(request, PageQuery))})

    async def get(request: web.Request) -> web.Response:
        principal, association_id = await _opening_get(request)
        return ok({"association": await service.get(principal, association_id)})

    async def update(request: web.Request) -> web.Response:
        principal, association_id, patch = await _opening(request, AssociationPatch)
        return ok({"association": await service.update(principal, association_id, patch)})

    async def approve(request: web.Request) -> web.Response:
        principal, association_id, _ = await _opening(request, Empty)
        return ok({"association": await service.approve(principal, association_id)})

    async def reject(request: web.Request) -> web.Response:
        principal, association_id, req = await _opening(request, RejectIn)
        return ok({"association": await service.reject(principal, association_id, req.reason)})

    async def pending_changes(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"associations": await service.pending_changes(principal, read_query(request, PageQuery))})

    async def approve_changes(request: web.Request) -> web.Response:
        principal, association_id, _ = await _opening(request, Empty)
        return ok({"association": await service.approve_changes(principal, association_id)})

    async def reject_changes(request: web.Request) -> web.Response:
        principal, association_id, req = await _opening(request, RejectIn)
        return ok({"association": await service.reject_changes(principal, association_id, req.reason)})

    return [
        web.post("/api/associations", register),
        web.get("/api/associations/changes/pending", pending_changes),
        web.post("/api/associations/{id}/changes/approve", approve_changes),
        web.post("/api/associations/{id}/changes/reject", reject_changes),
        web.get("/api/associations", search),
        web.get("/api/associations/near", near),
        web.get("/api/associations/pending", pending),
        web.get("/api/associations/{id}", get),
        web.patch("/api/associations/{id}", update),
        web.post("/api/associations/{id}/approve", approve),
        web.post("/api/associations/{id}/reject", reject),
    ]


def membership_routes(service: DirectoryService) -> list[web.RouteDef]:
    members = service.members

    async def join(request: web.Request) -> web.Response:
        principal, association_id, _ = await _opening(request, Empty)
        return ok({"membership": await members.join(principal, association_id)}, status=201)

    async def approve_request(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        association_id, user_id = path_id(request, "id"), path_id(request, "user_id")
        await read_body(request, Empty)
        return ok({"membership": await members.approve_request(principal, association_id, user_id)})

    async def decline_request(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        association_id, user_id = path_id(request, "id"), path_id(request, "user_id")
        await read_body(request, Empty)
        await members.decline_request(principal, association_id, user_id)
        return _no_content()

    async def invite(request: web.Request) -> web.Response:
        principal, association_id, req = await _opening(request, InviteIn)
        await members.invite(principal, association_id, req.email)
        return ok({"status": "invited if the address has an account that is not in this association yet"},
                  status=202)

    async def accept_invitation(request: web.Request) -> web.Response:
        principal, association_id, _ = await _opening(request, Empty)
        return ok({"membership": await members.accept_invitation(principal, association_id)})

    async def decline_invitation(request: web.Request) -> web.Response:
        principal, association_id, _ = await _opening(request, Empty)
        await members.decline_invitation(principal, association_id)
        return _no_content()

    async def list_members(request: web.Request) -> web.Response:
        principal, association_id = await _opening_get(request)
        return ok({"members": await members.list_members(principal, association_id)})

    async def update_member(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        association_id = path_id(request, "id")
        user_id = _member_id(request, principal.user_id)
        patch = await read_body(request, MemberPatch)
        return ok({"membership": await members.update_member(principal, association_id, user_id, patch)})

    async def remove_member(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        association_id = path_id(request, "id")
        user_id = _member_id(request, principal.user_id)
        await read_body(request, Empty)
        await members.remove(principal, association_id, user_id)
        return _no_content()

    async def my_associations(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        read_query(request, Empty)
        return ok({"memberships": await members.of_user(principal)})

    base = "/api/associations/{id}"
    return [
        web.post(f"{base}/join", join),
        web.post(f"{base}/requests/{{user_id}}/approve", approve_request),
        web.post(f"{base}/requests/{{user_id}}/decline", decline_request),
        web.post(f"{base}/invitations", invite),
        web.post(f"{base}/invitation/accept", accept_invitation),
        web.post(f"{base}/invitation/decline", decline_invitation),
        web.get(f"{base}/members", list_members),
        web.patch(f"{base}/members/{{user_id}}", update_member),
        web.delete(f"{base}/members/{{user_id}}", remove_member),
        web.get("/api/me/associations", my_associations),
    ]


def directory_routes(service: DirectoryService) -> list[web.RouteDef]:
    return association_routes(service) + membership_routes(service)
