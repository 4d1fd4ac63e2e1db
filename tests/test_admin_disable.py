"""``hubchat admin disable-user`` / ``enable-user`` against a running ``hubchat serve`` (issue 8 item 14).

The CLI is a process of its own: it reaches the server's sockets through the Redis bus.  Server and
CLI share the test's MongoDB (``mongo_uri``) and Redis prefix.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from hubchat.config import Settings
from hubchat.store import Store
from tests.conftest import SmtpSink
from tests.support import DEFAULT_PASSWORD, HubClient, node_env, serve_processes, wait_ready

pytestmark = pytest.mark.timeout(120)


def admin(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    code = ("import faulthandler, sys; faulthandler.dump_traceback_later(15, exit=True); "
            "from hubchat.cli import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, "admin", *args], env=node_env(settings, 0),
                          capture_output=True, text=True, timeout=60)


async def test_disable_user_closes_sockets_on_a_running_server_and_enable_restores(
        settings: Settings, smtp: SmtpSink, store: Store, tmp_path: Path) -> None:
    with serve_processes(settings, tmp_path, names=("a",)) as nodes:
        (url, process), = nodes
        await wait_ready(url, process)
        hub = HubClient(url, smtp)
        try:
            person = await hub.user()
            rec = await hub.connect(person["access_token"])
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, admin, settings, "disable-user", "--email",
                                                person["email"].upper())
            assert result.returncode == 0, result.stderr
            assert "disabled" in result.stdout
            async with asyncio.timeout(10):
                while rec.sio.connected:
                    await asyncio.sleep(0.02)
            status, body = await hub.request("POST", "/api/auth/login",
                                             json={"email": person["email"], "password": DEFAULT_PASSWORD})
            assert status == 403 and body["error"]["code"] == "account_disabled"
            status, _ = await hub.request("POST", "/api/auth/refresh",
                                          json={"refresh_token": person["refresh_token"]})
            assert status == 401
            status, _ = await hub.request("GET", "/api/me", token=person["access_token"])
            assert status == 401

            result = await loop.run_in_executor(None, admin, settings, "enable-user", "--email", person["email"])
            assert result.returncode == 0, result.stderr
            session = await hub.login(person["email"])
            again = await hub.connect(session["access_token"])
            assert again.sio.connected

            result = await loop.run_in_executor(None, admin, settings, "disable-user", "--email",
                                                "nobody-at-all@example.org")
            assert result.returncode == 1 and "user_not_found" in result.stderr, result.stderr
        finally:
            await hub.close()
