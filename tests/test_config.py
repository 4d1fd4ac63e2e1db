"""Settings: defaults, file, environment, errors that name the key, secrets kept out of repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubchat.config import load_settings, resolve_jwt_secret
from hubchat.errors import ConfigError


def test_defaults_need_no_configuration() -> None:
    settings = load_settings(environ={})
    assert settings.mongo_uri == "" and settings.port == 8080 and settings.redis_url.startswith("redis://")


def test_environment_beats_file_and_casts(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text('[hubchat]\nport = 9000\nlog_format = "text"\nsmtp_starttls = true\n')
    settings = load_settings(file, environ={"HUBCHAT_PORT": "9100", "HUBCHAT_MESSAGE_RATE_LIMIT": "5"})
    assert settings.port == 9100 and settings.log_format == "text" and settings.smtp_starttls is True
    assert settings.message_rate_limit == 5


@pytest.mark.parametrize("environ, key", [
    ({"HUBCHAT_PORT": "eighty"}, "HUBCHAT_PORT"),
    ({"HUBCHAT_SMTP_STARTTLS": "maybe"}, "HUBCHAT_SMTP_STARTTLS"),
    ({"HUBCHAT_LOG_FORMAT": "xml"}, "log_format"),
    ({"HUBCHAT_JWT_SECRET": "short"}, "jwt_secret"),
    ({"HUBCHAT_CELL_PHONE": "0389 2334567"}, "cell_phone"),
    ({"HUBCHAT_CELL_PHONE": "+91 389 2334567"}, "cell_phone"),
])
def test_bad_values_name_the_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_settings(environ=environ)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text('[hubchat]\nprot = 9000\n')
    with pytest.raises(ConfigError, match="prot"):
        load_settings(file, environ={})


def test_example_file_is_valid() -> None:
    example = Path(__file__).parent.parent / "config" / "hubchat.example.toml"
    assert load_settings(example, environ={}) == load_settings(environ={})


def test_secrets_are_not_in_repr() -> None:
    settings = load_settings(environ={"HUBCHAT_JWT_SECRET": "s" * 40, "HUBCHAT_SMTP_PASSWORD": "hunter2-hunter2"})
    assert "s" * 40 not in repr(settings) and "hunter2" not in repr(settings)


def test_generated_secret_is_kept_in_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=str(tmp_path))
    first = resolve_jwt_secret(settings)
    assert len(first) >= 32 and resolve_jwt_secret(settings) == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
