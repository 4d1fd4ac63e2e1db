"""VAPID (RFC 8292): the server's P-256 key pair and the ``Authorization`` header of each push.

The private key is ``settings.vapid_private_key`` (PEM, or the base64url 32-byte scalar that
web-push tools print), else one generated once into ``data_dir/vapid-private.pem`` (mode 0600,
created exclusively so two nodes starting together keep one key).  It is never logged.  The
public key (base64url, uncompressed point) is the ``applicationServerKey`` browsers subscribe
with; changing the private key invalidates every subscription.
"""

from __future__ import annotations

import os
import time
from email.utils import parseaddr
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hubchat.config import Settings
from hubchat.errors import ConfigError
from hubchat.push.crypto import b64url, b64url_decode

KEY_FILE = "vapid-private.pem"
JWT_LIFETIME_SECS = 12 * 3600  # at most 24 h (RFC 8292 §2)


def _from_setting(value: str) -> ec.EllipticCurvePrivateKey:
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = ec.derive_private_key(int.from_bytes(b64url_decode(text), "big"), ec.SECP256R1())
    except ValueError:
        raise ConfigError("vapid_private_key: expected a PEM P-256 key or a base64url 32-byte scalar") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError("vapid_private_key: must be a P-256 (prime256v1) key")
    return key


def resolve_vapid_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The configured key, or the one kept beside the embedded data (made on first use)."""
    if settings.vapid_private_key:
        return _from_setting(settings.vapid_private_key)
    path = settings.data_path / KEY_FILE
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:  # 0600 from the first byte
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            return key
    return _from_setting(path.read_text(encoding="ascii"))


def default_subject(settings: Settings) -> str:
    if settings.vapid_subject:
        return settings.vapid_subject
    address = parseaddr(settings.mail_from)[1]
    return f"mailto:{address}" if "@" in address else settings.public_url


class Vapid:
    def __init__(self, key: ec.EllipticCurvePrivateKey, subject: str):
        self._key = key
        self.subject = subject
        self.public_key = b64url(key.public_key().public_bytes(serialization.Encoding.X962,
                                                               serialization.PublicFormat.UncompressedPoint))

    @classmethod
    def from_settings(cls, settings: Settings) -> Vapid:
        return cls(resolve_vapid_key(settings), default_subject(settings))

    def __repr__(self) -> str:  # never the private key
        return f"Vapid(public_key={self.public_key!r})"

    def authorization(self, endpoint: str, now: float | None = None) -> str:
        """``vapid t=<ES256 JWT>, k=<public key>`` for a push to ``endpoint``."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        claims = {"aud": audience, "exp": int((now or time.time()) + JWT_LIFETIME_SECS), "sub": self.subject}
        token = jwt.encode(claims, self._key, algorithm="ES256", headers={"typ": "JWT"})
        return f"vapid t={token}, k={self.public_key}"
