"""Field encryption of safety profiles (pure: no server)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hubchat.config import load_settings
from hubchat.errors import ConfigError
from hubchat.safety.crypto import (
    FieldCipher,
    ProfileCorrupt,
    ProfileKeyUnknown,
    new_key_entry,
    parse_keys,
    resolve_profile_keys,
)

KEY_A = new_key_entry("a")
KEY_B = new_key_entry("b")


def test_round_trip_with_a_fresh_nonce_and_the_key_id() -> None:
    cipher = FieldCipher(parse_keys(KEY_A, "test"))
    one, two = cipher.encrypt("u1", "medical_notes", "asthma"), cipher.encrypt("u1", "medical_notes", "asthma")
    assert one != two and one.startswith("pf1:a:") and "asthma" not in one
    assert cipher.decrypt("u1", "medical_notes", one) == "asthma"


@pytest.mark.parametrize(("user", "field"), [("u2", "medical_notes"), ("u1", "employer")])
def test_a_ciphertext_moved_to_another_person_or_field_does_not_decrypt(user: str, field: str) -> None:
    cipher = FieldCipher(parse_keys(KEY_A, "test"))
    stored = cipher.encrypt("u1", "medical_notes", "asthma")
    with pytest.raises(ProfileCorrupt):
        cipher.decrypt(user, field, stored)


def test_a_tampered_ciphertext_does_not_decrypt() -> None:
    cipher = FieldCipher(parse_keys(KEY_A, "test"))
    stored = cipher.encrypt("u1", "employer", "Gulf Builders LLC")
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(ProfileCorrupt):
        cipher.decrypt("u1", "employer", flipped)


def test_old_keys_decrypt_and_new_writes_use_the_current_key(caplog: pytest.LogCaptureFixture) -> None:
    old = FieldCipher(parse_keys(KEY_A, "test"))
    stored = old.encrypt("u1", "employer", "secret employer")
    rotated = FieldCipher(parse_keys(f"{KEY_B},{KEY_A}", "test"))
    assert rotated.decrypt("u1", "employer", stored) == "secret employer"
    assert FieldCipher.key_id(rotated.encrypt("u1", "employer", "x")) == "b"
    only_new = FieldCipher(parse_keys(KEY_B, "test"))
    with caplog.at_level(logging.ERROR), pytest.raises(ProfileKeyUnknown) as raised:
        only_new.decrypt("u1", "employer", stored)
    assert raised.value.error_code == "profile_key_unknown" and "'a'" in raised.value.message
    assert "secret employer" not in caplog.text and caplog.records
    assert all("secret employer" not in str(r.__dict__) for r in caplog.records)


@pytest.mark.parametrize("bad", ["", "nokey", "a:short", "a b:" + KEY_A.split(":")[1], f"{KEY_A},{KEY_A}"])
def test_bad_key_settings_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_keys(bad, "profile_keys")


def test_key_file_is_created_once_owner_only(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=str(tmp_path / "var"))
    first = resolve_profile_keys(settings)
    assert resolve_profile_keys(settings) == first and len(first) == 1 and len(first[0][1]) == 32
    assert (tmp_path / "var" / "profile-key.key").stat().st_mode & 0o077 == 0


def test_configured_keys_win_over_the_file_and_stay_secret(tmp_path: Path) -> None:
    settings = load_settings(environ={"HUBCHAT_PROFILE_KEYS": f"{KEY_B},{KEY_A}"}, data_dir=str(tmp_path))
    assert [kid for kid, _ in resolve_profile_keys(settings)] == ["b", "a"]
    assert not (tmp_path / "profile-key.key").exists()
    assert KEY_B.split(":")[1] not in repr(settings)
