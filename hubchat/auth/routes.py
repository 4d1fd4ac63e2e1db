"""HTTP routes of accounts: thin — validate, call the service, shape the reply."""

from __future__ import annotations

from aiohttp import web

from hubchat.auth.models import (
    EmailOnly,
    LoginRequest,
    LogoutRequest,
    PasswordResetRequest,
    ProfileUpdate,
    RefreshRequest,
    RegisterRequest,
    SosPinsRequest,
    VerifyRequest,
)
from hubchat.auth.service import AccountService, own_user
from hubchat.client_address import client_address_from_request
from hubchat.http_api import ok, principal_of, read_body


def auth_routes(accounts: AccountService) -> list[web.RouteDef]:
    def client(request: web.Request) -> str:
        return client_address_from_request(request, accounts.infra.settings)

    async def register(request: web.Request) -> web.Response:
        req = await read_body(request, RegisterRequest)
        return ok({"user": await accounts.register(req, client(request))}, status=201)

    async def verify(request: web.Request) -> web.Response:
        req = await read_body(request, VerifyRequest)
        return ok({"user": await accounts.verify_email(req.email, req.code, client(request))})

    async def resend(request: web.Request) -> web.Response:
        req = await read_body(request, EmailOnly)
        await accounts.resend_code(req.email)
        return ok({"status": "sent if the account exists and is not verified"}, status=202)

    async def request_reset(request: web.Request) -> web.Response:
        req = await read_body(request, EmailOnly)
        await accounts.request_password_reset(req.email, client(request))
        return ok({"status": "sent if the account exists"}, status=202)

    async def reset(request: web.Request) -> web.Response:
        req = await read_body(request, PasswordResetRequest)
        await accounts.reset_password(req.email, req.code, req.password, client(request))
        return web.Response(status=204)

    async def login(request: web.Request) -> web.Response:
        req = await read_body(request, LoginRequest)
        return ok(await accounts.login(req.email, req.password, client(request)))

    async def refresh(request: web.Request) -> web.Response:
        req = await read_body(request, RefreshRequest)
        return ok(await accounts.refresh(req.refresh_token))

    async def logout(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        await read_body(request, LogoutRequest)
        await accounts.logout(principal)
        return web.Response(status=204)

    async def me(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"user": own_user(await accounts.get_user(principal.user_id))})

    async def update_me(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        changes = await read_body(request, ProfileUpdate)
        return ok({"user": await accounts.update_profile(principal, changes)})

    async def set_pins(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        req = await read_body(request, SosPinsRequest)
        return ok({"user": await accounts.set_sos_pins(principal, req, client(request))})

    return [
        web.post("/api/auth/register", register),
        web.post("/api/auth/verify", verify),
        web.post("/api/auth/resend-code", resend),
        web.post("/api/auth/password-reset", request_reset),
        web.post("/api/auth/password-reset/confirm", reset),
        web.post("/api/auth/login", login),
        web.post("/api/auth/refresh", refresh),
        web.post("/api/auth/logout", logout),
        web.get("/api/me", me),
        web.patch("/api/me", update_me),
        web.put("/api/me/sos-pins", set_pins),
    ]
