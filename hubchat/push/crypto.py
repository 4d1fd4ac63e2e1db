"""Web Push message encryption (RFC 8291, ``aes128gcm`` content coding of RFC 8188).

One record per message: ``salt(16) | rs(4) | idlen(1) | keyid(65: the server's ephemeral public
key) | AES-128-GCM(plaintext | 0x02)``.  The keys come from the subscription: ``p256dh`` (the
browser's P-256 public key, 65 bytes uncompressed) and ``auth`` (its 16-byte secret).  A fresh
ephemeral key pair and salt are made for every message, so two pushes never share a key.
"""

from __future__ import annotations

import base64
import os
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RECORD_SIZE = 4096
MAX_PLAINTEXT = RECORD_SIZE - 16 - 1 - 86  # tag, delimiter, header: what one record of 4096 holds
P256DH_BYTES = 65
AUTH_BYTES = 16


def b64url_decode(value: str) -> bytes:
    """base64url with or without padding; ValueError for anything else."""
    if not value or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=" for c in value):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_p256dh(raw: bytes) -> ec.EllipticCurvePublicKey:
    """The browser's public key; ValueError unless it is an uncompressed point on P-256."""
    if len(raw) != P256DH_BYTES or raw[0] != 4:
        raise ValueError("p256dh must be an uncompressed P-256 point (65 bytes)")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def encrypt(plaintext: bytes, p256dh: bytes, auth: bytes, *, salt: bytes | None = None,
            server_key: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    """The request body of one push message to the subscription (p256dh, auth)."""
    if len(plaintext) > MAX_PLAINTEXT:
        raise ValueError("push payload too large")
    if len(auth) != AUTH_BYTES:
        raise ValueError("auth must be 16 bytes")
    ua_public = load_p256dh(p256dh)
    server_key = server_key or ec.generate_private_key(ec.SECP256R1())
    as_public = server_key.public_key().public_bytes(serialization.Encoding.X962,
                                                     serialization.PublicFormat.UncompressedPoint)
    shared = server_key.exchange(ec.ECDH(), ua_public)
    ikm = _hkdf(auth, shared, b"WebPush: info\x00" + p256dh + as_public, 32)
    salt = salt or os.urandom(16)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public
    return header + ciphertext
