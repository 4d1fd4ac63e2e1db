"""The one error tree of hubchat.

    HubchatError                 code        HTTP  temporary
    ├── ConfigError              config      500   no   (start-up only)
    ├── BadRequest               bad_request 400   no
    │   └── ValidationFailed     invalid_payload 400
    ├── Unauthenticated          unauthenticated 401
    ├── Forbidden                forbidden   403
    ├── NotFound                 not_found   404
    ├── Conflict                 conflict    409
    ├── PayloadTooLarge          payload_too_large 413
    ├── RateLimited              rate_limited 429  yes
    └── Unavailable              unavailable 503   yes

Every instance may carry a more specific stable ``code`` (``invalid_credentials``,
``not_member`` …) while keeping its class's HTTP status.  Clients see ``{"error": {"code",
"message"}}`` and never a traceback.  Redis and SMTP errors are mapped to ``Unavailable`` at
their adapters (rate limiter, presence, bus, mailer); PyMongo errors rise to the edges (HTTP
middleware, Socket.IO event wrapper, CLI), which answer them ``unavailable`` in one place
(``hubchat.store.storage_unavailable``).
"""

from __future__ import annotations

from typing import Any, ClassVar


class HubchatError(Exception):
    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    temporary: ClassVar[bool] = False

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.error_code = code or type(self).code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.error_code, "message": self.message}
        if self.temporary:
            body["temporary"] = True
        body.update(self.details)
        return {"error": body}


class ConfigError(HubchatError):
    code = "config"


class BadRequest(HubchatError):
    code = "bad_request"
    status = 400


class ValidationFailed(BadRequest):
    code = "invalid_payload"


class Unauthenticated(HubchatError):
    code = "unauthenticated"
    status = 401


class Forbidden(HubchatError):
    code = "forbidden"
    status = 403


class NotFound(HubchatError):
    code = "not_found"
    status = 404


class Conflict(HubchatError):
    code = "conflict"
    status = 409


class PayloadTooLarge(HubchatError):
    code = "payload_too_large"
    status = 413


class RateLimited(HubchatError):
    code = "rate_limited"
    status = 429
    temporary = True

    def __init__(self, message: str, *, retry_after_secs: float, code: str | None = None):
        super().__init__(message, code=code, details={"retry_after_secs": round(retry_after_secs, 3)})
        self.retry_after_secs = retry_after_secs


class Unavailable(HubchatError):
    code = "unavailable"
    status = 503
    temporary = True


INTERNAL_ERROR = {"error": {"code": "internal", "message": "internal error"}}
