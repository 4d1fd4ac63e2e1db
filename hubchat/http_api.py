"""The HTTP edge: JSON errors for everything, validated bodies and queries, bearer authentication.

A PyMongo error that reaches a handler is answered 503 ``unavailable`` here
(``hubchat.store.storage_unavailable``), whichever capability it came from.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pymongo.errors import PyMongoError

from hubchat.errors import (
    INTERNAL_ERROR,
    HubchatError,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    ValidationFailed,
)
from hubchat.metrics import Metrics
from hubchat.principal import Principal
from hubchat.schema import ID_PATTERN, Payload, parse
from hubchat.store import storage_unavailable

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BearerAuthenticator = Callable[[str], Awaitable[Principal]]
M = TypeVar("M", bound=Payload)

AUTHENTICATOR = web.AppKey("authenticator", object)
METRICS = web.AppKey("metrics", Metrics)


def error_response(exc: HubchatError) -> web.Response:
    headers = {}
    if exc.error_code == "rate_limited":
        headers["Retry-After"] = str(max(1, round(float(exc.details.get("retry_after_secs", 1)))))
    return web.json_response(exc.to_dict(), status=exc.status, headers=headers)


def _status_code(exc: web.HTTPException) -> str:
    return {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(exc.status, "http_error")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    metrics = request.app.get(METRICS)
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    try:
        response = await handler(request)
    except (HubchatError, PyMongoError) as exc:
        error = storage_unavailable(exc) if isinstance(exc, PyMongoError) else exc
        response = error_response(error)
        if metrics:
            metrics.errors.labels(error.error_code).inc()
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        response = web.json_response({"error": {"code": _status_code(exc), "message": exc.reason}},
                                     status=exc.status)
    except Exception:
        log.exception("request failed", extra={"path": request.path, "method": request.method})
        response = web.json_response(INTERNAL_ERROR, status=500)
        if metrics:
            metrics.errors.labels("internal").inc()
    if metrics:
        metrics.http_requests.labels(request.method, route, str(response.status)).inc()
    return response


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body validated against ``model``; 400 for bad JSON, 413 when too large."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge("request body is too large") from None
    if not raw:
        return parse(model, {})
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("body is not valid JSON") from None
    except RecursionError:
        raise ValidationFailed("body is nested too deeply") from None
    return parse(model, data)


def read_query(request: web.Request, model: type[M]) -> M:
    """The query string validated against ``model`` (numbers in the query are converted)."""
    data: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        if len(values) > 1:
            raise ValidationFailed(f"{key}: give it once")
        data[key] = values[0]
    return parse(model, data, strict=False)


def path_id(request: web.Request, name: str) -> str:
    value = request.match_info.get(name, "")
    if not re.fullmatch(ID_PATTERN, value):
        raise NotFound(f"{name}: not a valid id", code="invalid_id")
    return value


async def principal_of(request: web.Request) -> Principal:
    """The caller, from ``Authorization: Bearer <access token>``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token", code="token_missing")
    authenticate: BearerAuthenticator = request.app[AUTHENTICATOR]  # type: ignore[assignment]
    return await authenticate(token.strip())


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)
