"""Pure logic of Web Push: encryption against the tests' own RFC 8291 decryption, VAPID keys,
which endpoints the server may call, mention detection and what each push says."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hubchat.config import load_settings
from hubchat.errors import ConfigError
from hubchat.push import notify
from hubchat.push.crypto import MAX_PLAINTEXT, encrypt
from hubchat.push.service import endpoint_allowed
from hubchat.push.vapid import KEY_FILE, Vapid, resolve_vapid_key
from tests.test_push_support import BrowserSubscription, b64u, unb64u

HOSTS = ["fcm.googleapis.com", "push.apple.com"]


def test_encrypted_payload_decrypts_with_the_subscription_keys_and_never_repeats() -> None:
    browser = BrowserSubscription("https://fcm.googleapis.com/fcm/send/x")
    text = "Ka lawm e — thank you".encode()
    first = encrypt(text, browser.p256dh, browser.auth)
    second = encrypt(text, browser.p256dh, browser.auth)
    assert browser.decrypt(first) == text and browser.decrypt(second) == text
    assert first != second and first[:16] != second[:16] and first[21:86] != second[21:86]
    other = BrowserSubscription("https://fcm.googleapis.com/fcm/send/y")
    with pytest.raises(Exception):  # noqa: B017 (InvalidTag: another browser's keys)
        other.decrypt(first)
    assert len(encrypt(b"x" * MAX_PLAINTEXT, browser.p256dh, browser.auth)) <= 4096
    with pytest.raises(ValueError):
        encrypt(b"x" * (MAX_PLAINTEXT + 1), browser.p256dh, browser.auth)


def test_vapid_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=str(tmp_path / "var"))
    key = resolve_vapid_key(settings)
    path = tmp_path / "var" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = resolve_vapid_key(settings)
    assert again.private_numbers() == key.private_numbers()
    vapid = Vapid.from_settings(settings)
    assert vapid.subject == "mailto:no-reply@hubchat.local"
    assert "PRIVATE" not in repr(vapid) and str(key.private_numbers().private_value) not in repr(vapid)

    header = vapid.authorization("https://fcm.googleapis.com/fcm/send/abc?x=1", now=1_000_000.0)
    token = header.split("t=")[1].split(",")[0]
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(vapid.public_key))
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="https://fcm.googleapis.com",
                        options={"verify_exp": False})
    assert claims["exp"] == 1_000_000 + 12 * 3600 and header.endswith(f"k={vapid.public_key}")


def test_configured_vapid_key_in_either_form(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    raw = b64u(key.private_numbers().private_value.to_bytes(32, "big"))
    for value in (pem, raw):
        settings = load_settings(environ={}, data_dir=str(tmp_path), vapid_private_key=value,
                                 vapid_subject="https://cell.example.org")
        assert resolve_vapid_key(settings).private_numbers() == key.private_numbers()
        assert value not in repr(settings)
    assert not (tmp_path / KEY_FILE).exists()
    for bad in ("not a key", b64u(b"\x00" * 40)):
        with pytest.raises(ConfigError):
            resolve_vapid_key(load_settings(environ={}, data_dir=str(tmp_path), vapid_private_key=bad))


@pytest.mark.parametrize(("endpoint", "allowed"), [
    ("https://fcm.googleapis.com/fcm/send/abc", True),
    ("https://web.push.apple.com/QGx", True),
    ("https://FCM.googleapis.com:443/fcm/send/abc", True),
    ("http://fcm.googleapis.com/fcm/send/abc", False),
    ("https://fcm.googleapis.com:8443/x", False),
    ("https://fcm.googleapis.com.example.org/x", False),
    ("https://xfcm.googleapis.com/x", False),
    ("https://user@fcm.googleapis.com/x", False),
    ("https://10.0.0.1/x", False),
    ("https://[::1]/x", False),
    ("https://fcm.googleapis.com:99999/x", False),
    ("http://127.0.0.1:8999/push/1", True),  # the configured extra origin, exactly
    ("http://127.0.0.1:8998/push/1", False),
    ("javascript:alert(1)", False),
])
def test_endpoint_allow_list(endpoint: str, allowed: bool) -> None:
    assert endpoint_allowed(endpoint, HOSTS, ["http://127.0.0.1:8999"]) is allowed


def test_mentions_are_at_display_names_not_inside_words() -> None:
    members = [("a", "Pu Thanga"), ("b", "Mami"), ("c", "Mam"), ("d", "")]
    assert notify.mentioned("@pu thanga hello", members) == ["a"]
    assert notify.mentioned("hi @Mami!", members) == ["b"]
    assert notify.mentioned("hi @Mamis", members) == []
    assert notify.mentioned("mail pu@thanga.org or pu@Mami", members) == []
    assert notify.mentioned("no at sign Mami", members) == []
    assert notify.mentioned(None, members) == []


def test_what_each_push_says() -> None:
    sos = json.loads(notify.sos_payload("a" * 24, "GB"))
    assert sos == {"v": 1, "kind": "sos", "title": "New SOS alert", "body": "GB", "tag": "sos-" + "a" * 24,
                   "url": "/#/console/" + "a" * 24}
    dm = json.loads(notify.dm_payload("c" * 24, "Mami", "secret plans", previews=False))
    assert "secret" not in json.dumps(dm) and dm["title"] == "Mami"
    shown = json.loads(notify.dm_payload("c" * 24, "Mami", "x" * 500, previews=True))
    assert len(shown["body"]) == notify.PREVIEW_CHARS
