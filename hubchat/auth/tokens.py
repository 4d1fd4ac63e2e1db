"""Short-lived signed access tokens (JWT, HS256) and opaque rotating refresh tokens."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import time
from typing import Any

import jwt

from hubchat.errors import Unauthenticated

ALGORITHM = "HS256"
LEEWAY_SECS = 5


@dataclasses.dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str
    role: str


class TokenSigner:
    def __init__(self, secret: str, access_ttl_secs: int):
        self._secret = secret
        self.access_ttl_secs = access_ttl_secs

    def access_token(self, user_id: str, session_id: str, role: str) -> str:
        now = int(time.time())
        claims = {"sub": user_id, "sid": session_id, "role": role, "typ": "access",
                  "iat": now, "exp": now + self.access_ttl_secs}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read_access_token(self, token: Any) -> AccessClaims:
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise Unauthenticated("access token missing or malformed", code="token_invalid")
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], leeway=LEEWAY_SECS,
                                options={"require": ["exp", "iat", "sub", "sid"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("access token expired", code="token_expired") from None
        except jwt.PyJWTError:
            raise Unauthenticated("access token invalid", code="token_invalid") from None
        if claims.get("typ") != "access":
            raise Unauthenticated("not an access token", code="token_invalid")
        return AccessClaims(str(claims["sub"]), str(claims["sid"]), str(claims.get("role", "")))

    def digest(self, value: str) -> str:
        """Keyed digest for values stored at rest (refresh tokens, verification codes)."""
        return hmac.new(self._secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_refresh_token(session_id: str) -> str:
    return f"{session_id}.{secrets.token_urlsafe(32)}"


def session_of_refresh_token(token: str) -> str:
    session_id, dot, rest = token.partition(".")
    if not dot or not rest:
        raise Unauthenticated("refresh token malformed", code="refresh_invalid")
    return session_id


def new_verification_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"
