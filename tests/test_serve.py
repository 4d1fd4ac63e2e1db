"""`hubchat serve` with its embedded defaults starts, answers, and shuts down gracefully."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest
import socketio

from hubchat.embedded_mongo import free_loopback_port
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.timeout(90)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_serve_with_embedded_defaults_then_sigterm(tmp_path: Path) -> None:
    port, ops_port = free_loopback_port(), free_loopback_port()
    prefix = f"hubchat-test:{uuid.uuid4().hex[:12]}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBCHAT_")}
    # Only what a test must isolate: no MongoDB URI (so the embedded server starts), its own
    # data dir, port and Redis key prefix.
    env.update({"HUBCHAT_PORT": str(port), "HUBCHAT_OPS_PORT": str(ops_port), "HUBCHAT_DATA_DIR": str(tmp_path / "var"),
                "HUBCHAT_REDIS_URL": REDIS_URL, "HUBCHAT_REDIS_PREFIX": prefix})
    log = open(tmp_path / "serve.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "hubchat", "serve"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    log.close()
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        if resp.status == 200:
                            assert await resp.json() == {"ready": True}
                            break
                except aiohttp.ClientError:
                    pass
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                await asyncio.sleep(0.05)
            else:
                pytest.fail("hubchat did not become ready")
            # Details and metrics on the ops listener (loopback), not on the public port.
            async with http.get(f"http://127.0.0.1:{ops_port}/readyz") as resp:
                assert (await resp.json())["checks"] == {"mongodb": True, "redis": True}
            async with http.get(f"http://127.0.0.1:{ops_port}/metrics") as resp:
                assert resp.status == 200 and "hubchat_socket_connections" in await resp.text()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 404
        embedded_pid = int((tmp_path / "var" / "nx-27017.pid").read_text().strip())
        assert _alive(embedded_pid)
        assert (tmp_path / "var" / "secret.key").exists()

        process.send_signal(signal.SIGTERM)
        assert await asyncio.get_running_loop().run_in_executor(None, process.wait, 20) == 0
        for _ in range(100):
            if not _alive(embedded_pid):
                break
            await asyncio.sleep(0.05)
        assert not _alive(embedded_pid), "the embedded MongoDB-wire server outlived hubchat"
        logs = (tmp_path / "serve.log").read_text()
        assert "hubchat listening" in logs and "stopped" in logs
        assert (tmp_path / "var" / "secret.key").read_text().strip() not in logs
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- admin commands, restart, file modes
def _serve(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "hubchat", "serve"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)


async def _ready(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert process.poll() is None, log_path.read_text()
            await asyncio.sleep(0.05)
    pytest.fail("hubchat did not become ready")


def _admin(env: dict[str, str], email: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hubchat", "admin", "create-officer", "--email", email,
                           "--name", "Duty Officer"], env={**env, "HUBCHAT_OFFICER_PASSWORD": "a long password 1"},
                          capture_output=True, text=True, timeout=60)


async def _login(port: int, email: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/api/auth/login",
                             json={"email": email, "password": "a long password 1"}) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()  # type: ignore[no-any-return]


async def test_admin_works_while_serving_and_a_restart_follows_a_prompt_stop(tmp_path: Path) -> None:
    port = free_loopback_port()
    data_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBCHAT_")}
    env.update({"HUBCHAT_PORT": str(port), "HUBCHAT_OPS_PORT": "0", "HUBCHAT_DATA_DIR": str(data_dir),
                "HUBCHAT_REDIS_URL": REDIS_URL, "HUBCHAT_REDIS_PREFIX": f"hubchat-test:{uuid.uuid4().hex[:12]}:",
                "HUBCHAT_LOG_FORMAT": "text", "HUBCHAT_LOG_LEVEL": "INFO"})
    log_path = tmp_path / "serve.log"
    process = _serve(env, log_path)
    try:
        await _ready(port, process, log_path)
        # Only the owner can read the store, the token key and the running store's address.
        address = data_dir / "embedded-store.uri"
        assert address.exists()
        for path in [data_dir, data_dir / "mongo", *data_dir.iterdir(), *(data_dir / "mongo").iterdir()]:
            mode = path.stat().st_mode & 0o777
            assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
        store_port = address.read_text().split(":")[2].split("/")[0]
        assert f"port={store_port}" not in log_path.read_text() and f":{store_port}" not in log_path.read_text()

        # The README's admin command, while the server runs, on the running server's store.
        done = _admin(env, "officer-while-serving@cell.example.org")
        assert done.returncode == 0, done.stderr
        assert "created officer officer-while-serving@cell.example.org" in done.stdout
        await _login(port, "officer-while-serving@cell.example.org")

        # No SMTP configured (a newcomer's machine): the verification code is kept in the outbox
        # and `hubchat mail list` shows it, while the server runs.
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/api/auth/register", json={
                    "email": "newcomer@example.org", "password": "a long password 1", "display_name": "Newcomer",
                    "country": "IN", "city": "Aizawl"}) as resp:
                assert resp.status in (200, 201), await resp.text()
        listed = ""
        for _ in range(100):
            done = subprocess.run([sys.executable, "-m", "hubchat", "mail", "list"], env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            listed = done.stdout
            if "newcomer@example.org" in listed:
                break
            await asyncio.sleep(0.05)
        assert "kept · to newcomer@example.org" in listed and re.search(r"\b\d{6}\b", listed), listed

        # A second server on the same data_dir says why it cannot start.
        second = subprocess.run([sys.executable, "-m", "hubchat", "serve"],
                                env={**env, "HUBCHAT_PORT": str(free_loopback_port())},
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "in use by another hubchat process" in second.stderr, second.stderr
        assert process.poll() is None

        # SIGTERM with a client connected: a prompt stop, and a start at once on the same data_dir.
        session = await _login(port, "officer-while-serving@cell.example.org")
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(f"http://127.0.0.1:{port}", auth={"token": session["access_token"]},
                             transports=["websocket"])
        loop = asyncio.get_running_loop()
        started = loop.time()
        process.send_signal(signal.SIGTERM)
        assert await loop.run_in_executor(None, process.wait, 20) == 0
        stopped_in = loop.time() - started
        await client.disconnect()
        assert stopped_in < 8.0, log_path.read_text()
        assert not address.exists()
        process = _serve(env, log_path)
        await _ready(port, process, log_path)
        await _login(port, "officer-while-serving@cell.example.org")
        process.send_signal(signal.SIGTERM)
        assert await loop.run_in_executor(None, process.wait, 20) == 0

        # With no server running, the command starts its own embedded server, as before.
        done = _admin(env, "officer-offline@cell.example.org")
        assert done.returncode == 0, done.stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_freezing_the_start_up_objects_takes_them_out_of_the_collectors_generations() -> None:
    """What `hubchat serve` does once it listens (setting gc_freeze): after it, the objects alive
    then are in the permanent generation, which full collections no longer walk."""
    import gc

    from hubchat.cli import freeze_startup_objects

    before = gc.get_freeze_count()
    freeze_startup_objects()
    try:
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
