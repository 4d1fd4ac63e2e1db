"""Helpers for the Web Push tests (no tests here): a push service on a real TCP port that checks
each request as a real one would, and a browser-side subscription that decrypts what arrives.

The decryption is written here from RFC 8291 / RFC 8188 with ``cryptography``'s primitives
(ECDH, HMAC-based HKDF extract and expand, AES-GCM), independently of hubchat/push/crypto.py.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import struct
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from hubchat.config import Settings
from tests.support import HubClient


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    return HKDFExpand(hashes.SHA256(), length, info).derive(prk)


@dataclass
class BrowserSubscription:
    """What a browser makes on ``pushManager.subscribe``: an ECDH key pair and an auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                          serialization.PublicFormat.UncompressedPoint)

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64u(self.p256dh), "auth": b64u(self.auth)}}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 §3.4 + RFC 8188 §2: one aes128gcm record, padding delimiter removed."""
        salt, (rs, idlen) = body[:16], struct.unpack("!IB", body[16:21])
        keyid = body[21:21 + idlen]
        ciphertext = body[21 + idlen:]
        assert idlen == 65 and len(ciphertext) <= rs, (idlen, rs, len(ciphertext))
        as_public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), keyid)
        shared = self.private_key.exchange(ec.ECDH(), as_public)
        ikm = _expand(_extract(self.auth, shared), b"WebPush: info\x00" + self.p256dh + keyid, 32)
        prk = _extract(salt, ikm)
        cek = _expand(prk, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _expand(prk, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        unpadded = padded.rstrip(b"\x00")
        assert unpadded.endswith(b"\x02"), "last record must end with the 0x02 delimiter"
        return unpadded[:-1]


@dataclass
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any]
    vapid_key: str


class PushServiceSink:
    """A push service: POST /push/{token} with VAPID and aes128gcm, answered from ``answers`` (a
    queue of statuses, 201 when empty).  Every request whose VAPID is right is kept in ``arrivals``
    (bad ones are answered 401/400 and kept in ``refused``)."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.refused: list[str] = []
        self.answers: list[int] = []
        self.origin = ""
        self._changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        auth = request.headers.get("Authorization", "")
        try:
            scheme, _, params = auth.partition(" ")
            assert scheme == "vapid", "scheme"
            fields = dict(part.strip().split("=", 1) for part in params.split(","))
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(fields["k"]))
            claims = jwt.decode(fields["t"], key, algorithms=["ES256"], audience=self.origin,
                                options={"require": ["aud", "exp", "sub"]})
            assert claims["exp"] <= time.time() + 24 * 3600 + 3600, "exp more than 24 h ahead"
            assert str(claims["sub"]).startswith(("mailto:", "https:"))
            assert request.headers.get("Content-Encoding") == "aes128gcm"
            assert request.headers.get("TTL", "").isdigit()
        except (AssertionError, KeyError, ValueError, jwt.PyJWTError) as exc:
            self.refused.append(f"{type(exc).__name__}: {exc}")
            self._changed.set()
            return web.Response(status=401)
        status = self.answers.pop(0) if self.answers else 201
        self.arrivals.append(Arrival(request.path, dict(request.headers), body, claims, fields["k"]))
        self._changed.set()
        return web.Response(status=status)

    def subscription(self) -> BrowserSubscription:
        return BrowserSubscription(f"{self.origin}/push/{uuid.uuid4().hex}")

    def to(self, sub: BrowserSubscription) -> list[Arrival]:
        path = sub.endpoint[len(self.origin):]
        return [a for a in self.arrivals if a.path == path]

    async def wait_for(self, sub: BrowserSubscription, count: int = 1, timeout: float = 10.0) -> list[Arrival]:
        async def poll() -> list[Arrival]:
            while len(self.to(sub)) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.to(sub)
        return await asyncio.wait_for(poll(), timeout)


@pytest.fixture
async def push_sink(aiohttp_server: Any) -> AsyncIterator[PushServiceSink]:
    sink = PushServiceSink()
    app = web.Application()
    app.router.add_post("/push/{token}", sink.handle)
    server = await aiohttp_server(app)
    sink.origin = str(server.make_url("")).rstrip("/")
    yield sink


def push_settings(settings: Settings, sink: PushServiceSink, **overrides: Any) -> Settings:
    return settings.replace(push_extra_origins=sink.origin, **overrides)


def decrypted(sub: BrowserSubscription, arrival: Arrival) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(sub.decrypt(arrival.body))
    return payload


async def subscribe(hub: HubClient, token: str, sub: BrowserSubscription) -> dict[str, Any]:
    status, body = await hub.request("POST", "/api/push/subscriptions", token, json=sub.to_json())
    assert status == 201, body
    return body["subscription"]  # type: ignore[no-any-return]


async def outbox_states(hub: HubClient) -> list[str]:
    return [d["state"] for d in await hub.services["push"].outbox.list()]
