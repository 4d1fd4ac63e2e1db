"""argon2id password and PIN hashing on a small bounded pool of threads.

* Hashing runs in a dedicated pool of ``settings.password_hash_concurrency`` threads (0: half
  the CPUs, at least one), so a flood of logins can neither starve the event loop nor the
  default executor.  Calls made for an unauthenticated client (login, registration, reset) are
  *shed*: when ``WAITING_PER_THREAD`` calls per thread already wait, they answer
  ``rate_limited`` at once instead of queueing.  Calls for a signed-in person's SOS PIN always queue.
* PINs are peppered: the stored hash is ``argon2id(HMAC-SHA256(pepper, pin))`` marked with the
  prefix ``p1$``; the pepper (``settings.pin_pepper``, else ``data_dir/pin-pepper.key``, mode
  0600) never enters the database, so a copied database alone cannot be searched for the
  10^4..10^8 possible PINs.  Hashes without the prefix (stored before peppering) still verify
  against the bare PIN until the person next sets their PINs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hubchat.config import Settings
from hubchat.errors import RateLimited

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# Verified against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
PEPPERED_PREFIX = "p1$"
SHED_RETRY_AFTER_SECS = 1.0
WAITING_PER_THREAD = 8

T = TypeVar("T")


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def resolve_pin_pepper(settings: Settings) -> bytes:
    """The configured pepper, or one generated once into ``data_dir/pin-pepper.key`` (mode 0600)."""
    if settings.pin_pepper:
        return settings.pin_pepper.encode()
    path = Path(settings.data_dir) / "pin-pepper.key"
    try:
        return path.read_text(encoding="utf-8").strip().encode()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    pepper = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return path.read_text(encoding="utf-8").strip().encode()
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(pepper)
    return pepper.encode()


_POOLS: dict[int, concurrent.futures.ThreadPoolExecutor] = {}


def _pool(threads: int) -> concurrent.futures.ThreadPoolExecutor:
    """One pool per size for the process (a node builds one AccountService; tests build many)."""
    if threads not in _POOLS:
        _POOLS[threads] = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="hubchat-argon2")
    return _POOLS[threads]


def default_concurrency() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class Hashing:
    """argon2id for passwords and peppered PINs, on a bounded pool (see the module docstring)."""

    def __init__(self, concurrency: int, pin_pepper: bytes) -> None:
        self.concurrency = concurrency if concurrency > 0 else default_concurrency()
        self._pepper = pin_pepper
        self._pool = _pool(self.concurrency)
        self.max_busy = self.concurrency * (1 + WAITING_PER_THREAD)
        self._busy = 0  # calls running or waiting in the pool
        self.shed = 0  # calls refused because the pool was full

    @classmethod
    def from_settings(cls, settings: Settings) -> Hashing:
        return cls(settings.password_hash_concurrency, resolve_pin_pepper(settings))

    async def _run(self, shed: bool, func: Callable[..., T], *args: object) -> T:
        if shed and self._busy >= self.max_busy:
            self.shed += 1
            raise RateLimited("the server is busy checking passwords; retry in a moment",
                              retry_after_secs=SHED_RETRY_AFTER_SECS)
        self._busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)
        finally:
            self._busy -= 1

    # ------------------------------------------------------------ passwords
    async def hash_password(self, password: str, *, shed: bool = True) -> str:
        return await self._run(shed, _hasher.hash, password)

    async def verify_password(self, stored_hash: str | None, password: str, *, shed: bool = True) -> bool:
        return await self._run(shed, _verify, stored_hash, password)

    # ------------------------------------------------------------ PINs
    def _peppered(self, pin: str) -> str:
        return hmac.new(self._pepper, pin.encode(), hashlib.sha256).hexdigest()

    async def hash_pin(self, pin: str, *, shed: bool = True) -> str:
        return PEPPERED_PREFIX + await self._run(shed, _hasher.hash, self._peppered(pin))

    async def verify_pin(self, stored_hash: str | None, pin: str) -> bool:
        """Never shed: the person cancelling an alert must get an answer."""
        if stored_hash is not None and stored_hash.startswith(PEPPERED_PREFIX):
            return await self._run(False, _verify, stored_hash[len(PEPPERED_PREFIX):], self._peppered(pin))
        return await self._run(False, _verify, stored_hash, pin)  # unpeppered (older) hash, or none


# Module-level helpers (default executor, never shed) for code outside the request path.
async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, _hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(None, _verify, stored_hash, password)
