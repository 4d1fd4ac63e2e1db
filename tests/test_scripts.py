"""scripts/ensure-redis.sh follows the configured redis_url (issue 10): it checks the Redis that
hubchat will use, starts a loopback redis-server only where the URL points at loopback, and
leaves any other URL alone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hubchat.embedded_mongo import free_loopback_port
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(60)


def ensure(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HUBCHAT_")}
    return subprocess.run(["bash", str(ROOT / "scripts" / "ensure-redis.sh")], env={**clean, **env},
                          capture_output=True, text=True, timeout=30)


def ping(port: int, password: str = "") -> bool:
    env = {**os.environ, "REDISCLI_AUTH": password} if password else None
    done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"], capture_output=True,
                          text=True, timeout=10, env=env)
    return done.stdout.strip() == "PONG"


def test_the_configured_redis_that_answers_is_left_alone() -> None:
    assert ensure(HUBCHAT_REDIS_URL=REDIS_URL).returncode == 0
    assert ensure(HUBCHAT_REDIS_URL="").returncode == 0  # single node: no Redis at all


def test_a_remote_url_is_checked_never_started() -> None:
    done = ensure(HUBCHAT_REDIS_URL="redis://:hunter2-secret@hubchat-redis.invalid:6390/0")
    assert done.returncode == 1 and "redis://hubchat-redis.invalid:6390 does not answer" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


@pytest.mark.parametrize("password", ["", "s3cret-pass"])
def test_a_loopback_url_from_the_config_file_gets_its_own_server(tmp_path: Path, password: str) -> None:
    port = free_loopback_port()
    auth = f":{password}@" if password else ""
    config = tmp_path / "hubchat.toml"
    config.write_text(f'[hubchat]\nredis_url = "redis://{auth}127.0.0.1:{port}/3"\n', encoding="utf-8")
    assert not ping(port)
    try:
        done = ensure(HUBCHAT_CONFIG=str(config))
        assert done.returncode == 0, done.stderr
        assert ping(port, password)
        if password:
            assert not ping(port)  # the password is required
        assert ensure(HUBCHAT_CONFIG=str(config)).returncode == 0  # answers now: nothing more started
    finally:
        env = {**os.environ, "REDISCLI_AUTH": password} if password else None
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "shutdown", "nosave"],
                       capture_output=True, timeout=10, env=env)
