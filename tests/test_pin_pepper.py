"""SOS and duress PIN hashes are peppered with a secret kept outside the database (issue 8 item 15)."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from hubchat.auth.passwords import Hashing
from hubchat.config import Settings
from tests.support import DEFAULT_PASSWORD, HubClient

SOS_PIN, DURESS_PIN = "2468", "1357"


def cracks(stored: str, pin: str) -> bool:
    """What an attacker with only the database can do: argon2-verify candidate PINs."""
    for candidate in (stored, stored.partition("$")[2] if stored.startswith("p1$") else stored):
        try:
            if PasswordHasher().verify(candidate, pin):
                return True
        except (VerificationError, ValueError, Exception):  # noqa: B014 (any refusal means: not cracked)
            continue
    return False


async def test_a_pin_hash_copied_from_the_database_does_not_verify_without_the_pepper(
        hub: HubClient, settings: Settings) -> None:
    email = f"pins-{uuid.uuid4().hex[:8]}@example.org"
    await hub.register(email, sos_pin=SOS_PIN, duress_pin=DURESS_PIN)
    users = hub.services["accounts"].infra.store["users"]
    stored = await users.find_one({"email": email})
    assert stored is not None
    for field, pin in (("sos_pin_hash", SOS_PIN), ("duress_pin_hash", DURESS_PIN)):
        assert not cracks(stored[field], pin)
        assert not await Hashing(1, b"some other pepper").verify_pin(stored[field], pin)
        assert await hub.services["accounts"].hashing.verify_pin(stored[field], pin)
    pepper_file = Path(settings.data_dir) / "pin-pepper.key"
    assert stat.S_IMODE(pepper_file.stat().st_mode) == 0o600
    assert pepper_file.read_text().strip().encode() not in repr(stored).encode()


async def test_unpeppered_pin_hashes_keep_working_until_the_next_change(hub: HubClient) -> None:
    session = await hub.user()
    users = hub.services["accounts"].infra.store["users"]
    legacy = {"sos_pin_hash": PasswordHasher().hash(SOS_PIN), "duress_pin_hash": PasswordHasher().hash(DURESS_PIN)}
    await users.update_one({"_id": session["id"]}, {"$set": legacy})
    accounts = hub.services["accounts"]
    assert await accounts.check_sos_pin(session["id"], SOS_PIN) == "cancel"
    assert await accounts.check_sos_pin(session["id"], DURESS_PIN) == "duress"
    assert await accounts.check_sos_pin(session["id"], "0000") == "wrong"
    status, body = await hub.request("PUT", "/api/me/sos-pins", token=session["access_token"],
                                     json={"password": DEFAULT_PASSWORD, "sos_pin": SOS_PIN, "duress_pin": DURESS_PIN})
    assert status == 200, body
    stored = await users.find_one({"_id": session["id"]})
    assert stored is not None and stored["sos_pin_hash"].startswith("p1$") and not cracks(stored["sos_pin_hash"],
                                                                                         SOS_PIN)
    assert await accounts.check_sos_pin(session["id"], SOS_PIN) == "cancel"
    assert await accounts.check_sos_pin(session["id"], DURESS_PIN) == "duress"


async def test_a_configured_pepper_is_used_and_never_written_to_disk(settings: Settings, tmp_path: Path) -> None:
    configured = settings.replace(pin_pepper="configured-pepper-" + uuid.uuid4().hex, data_dir=str(tmp_path / "d"))
    hashing = Hashing.from_settings(configured)
    stored = await hashing.hash_pin(SOS_PIN)
    assert await Hashing.from_settings(configured).verify_pin(stored, SOS_PIN)
    assert not (tmp_path / "d" / "pin-pepper.key").exists()
    assert "configured-pepper" not in repr(configured)
