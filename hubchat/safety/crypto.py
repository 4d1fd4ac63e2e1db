"""Field-by-field encryption of safety profiles at rest (AES-256-GCM, ``cryptography``).

Each stored field is ``pf1:{key id}:{base64url(nonce ‖ ciphertext ‖ tag)}``: a fresh random
96-bit nonce per field and per write, and associated data binding the ciphertext to (user id,
field name), so a value copied onto another person's profile, or into another field of the same
profile, fails to decrypt instead of being shown there.

Keys never come from the database.  They come from the ``profile_keys`` setting (a secret:
``kid:base64url-32-bytes`` entries separated by commas, the current key first), else from
``data_dir/profile-key.key`` (the same entries one per line, 0600, generated once on first
start like ``secret.key`` and ``pin-pepper.key``).  The current key encrypts every write; every
listed key decrypts; ``hubchat admin rotate-profile-key`` re-encrypts every row under the
current key, after which old keys can be removed.  A row under a key that is no longer listed
answers ``profile_key_unknown`` and is logged with its key id and owner, never its content.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hubchat.config import Settings
from hubchat.errors import ConfigError, HubchatError

log = logging.getLogger(__name__)

PREFIX = "pf1"
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_FILE = "profile-key.key"
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class ProfileKeyUnknown(HubchatError):
    """A stored field was encrypted under a key this server is not given (removed too early)."""

    code = "profile_key_unknown"
    status = 500


class ProfileCorrupt(HubchatError):
    """A stored field does not decrypt: tampered with, or moved from another person or field."""

    code = "profile_corrupt"
    status = 500


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key_entry(kid: str | None = None) -> str:
    """A fresh ``kid:key`` entry (what ``hubchat admin new-profile-key`` prints)."""
    return f"{kid or 'k' + secrets.token_hex(4)}:{_b64encode(AESGCM.generate_key(bit_length=256))}"


def parse_keys(text: str, where: str) -> list[tuple[str, bytes]]:
    """``kid:key`` entries separated by commas or lines; the first is the current key."""
    keys: list[tuple[str, bytes]] = []
    for raw in re.split(r"[,\n]", text):
        entry = raw.strip()
        if not entry:
            continue
        kid, sep, encoded = entry.partition(":")
        if not sep or not KID_PATTERN.match(kid):
            raise ConfigError(f"{where}: each entry is kid:base64url-key (kid: letters, digits, _ or -)")
        try:
            key = _b64decode(encoded.strip())
        except (binascii.Error, ValueError):
            raise ConfigError(f"{where}: key {kid!r} is not base64url") from None
        if len(key) != KEY_BYTES:
            raise ConfigError(f"{where}: key {kid!r} must be {KEY_BYTES} bytes")
        if any(kid == k for k, _ in keys):
            raise ConfigError(f"{where}: key id {kid!r} is listed twice")
        keys.append((kid, key))
    if not keys:
        raise ConfigError(f"{where}: no key")
    return keys


def resolve_profile_keys(settings: Settings) -> list[tuple[str, bytes]]:
    """The configured keys, or those of ``data_dir/profile-key.key`` (created once, 0600)."""
    if settings.profile_keys:
        return parse_keys(settings.profile_keys, "profile_keys")
    path = Path(settings.data_dir) / KEY_FILE
    try:
        return parse_keys(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    entry = new_key_entry()
    try:  # 0600 from the first byte; O_EXCL: a node starting at the same moment keeps its key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_keys(path.read_text(encoding="utf-8"), str(path))
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(entry + "\n")
    return parse_keys(entry, str(path))


def _aad(user_id: str, field: str) -> bytes:
    return f"hubchat-safety-profile\x00{user_id}\x00{field}".encode()


class FieldCipher:
    def __init__(self, keys: list[tuple[str, bytes]]):
        if not keys:
            raise ConfigError("profile_keys: no key")
        self.current_kid = keys[0][0]
        self._keys = {kid: AESGCM(key) for kid, key in keys}
        self._current = self._keys[self.current_kid]

    def encrypt(self, user_id: str, field: str, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, plaintext.encode(), _aad(user_id, field))
        return f"{PREFIX}:{self.current_kid}:{_b64encode(nonce + sealed)}"

    @staticmethod
    def key_id(stored: str) -> str | None:
        parts = stored.split(":", 2)
        return parts[1] if len(parts) == 3 and parts[0] == PREFIX else None

    def decrypt(self, user_id: str, field: str, stored: str) -> str:
        parts = stored.split(":", 2) if isinstance(stored, str) else []
        if len(parts) != 3 or parts[0] != PREFIX:
            log.error("safety profile field is not in the encrypted format", extra={"user_id": user_id, "field": field})
            raise ProfileCorrupt("a safety profile field cannot be read")
        kid = parts[1]
        aead = self._keys.get(kid)
        if aead is None:
            log.error("safety profile field under an unknown key", extra={"user_id": user_id, "field": field,
                                                                          "key_id": kid})
            raise ProfileKeyUnknown(f"the safety profile is encrypted under key {kid!r}, which this server "
                                    "is not given (see profile_keys)")
        try:
            raw = _b64decode(parts[2])
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(user_id, field)).decode()
        except (InvalidTag, binascii.Error, ValueError):
            log.error("safety profile field does not decrypt", extra={"user_id": user_id, "field": field,
                                                                      "key_id": kid})
            raise ProfileCorrupt("a safety profile field cannot be read") from None
