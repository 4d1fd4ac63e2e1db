"""`hubchat serve` with its embedded defaults starts, answers, and shuts down gracefully."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest

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
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        if resp.status == 200:
                            assert await resp.json() == {"ready": True}
                            break
                except aiohttp.ClientError:
                    pass
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                await asyncio.sleep(0.1)
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
        for _ in range(50):
            if not _alive(embedded_pid):
                break
            await asyncio.sleep(0.1)
        assert not _alive(embedded_pid), "the embedded MongoDB-wire server outlived hubchat"
        logs = (tmp_path / "serve.log").read_text()
        assert "hubchat listening" in logs and "stopped" in logs
        assert (tmp_path / "var" / "secret.key").read_text().strip() not in logs
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
