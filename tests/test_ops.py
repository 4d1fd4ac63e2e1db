"""Operations surfaces over real HTTP (issue 8 item 4): the public port says only "ok"/"ready";
node ids, dependency checks and Prometheus metrics live on the ops listener (loopback by default,
optionally behind a bearer token), and no metric tells a duress "cancel" from a real one."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hubchat.config import load_settings
from hubchat.errors import ConfigError
from tests import test_sos_helpers
from tests.conftest import SmtpSink
from tests.support import HubClient, running_hub
from tests.test_sos_helpers import DURESS_PIN, SOS_PIN, dispatched, officer_on_duty, person, stored_alert, trigger

# Fixtures: hubchat with SOS wired (tests/test_sos_helpers.py), with its ops listener served.
hub = test_sos_helpers.hub
node_factory = test_sos_helpers.node_factory

pytestmark = pytest.mark.timeout(60)


async def test_public_port_answers_health_without_details_or_metrics(hub: HubClient) -> None:
    async with hub.http.get(hub.ops_url + "/healthz") as resp:
        node = (await resp.json())["node"]
    for path, expected in (("/healthz", {"status": "ok"}), ("/readyz", {"ready": True})):
        async with hub.http.get(hub.base_url + path) as resp:
            assert resp.status == 200 and await resp.json() == expected, path
            assert node not in await resp.text()
    async with hub.http.get(hub.base_url + "/metrics") as resp:
        assert resp.status == 404
        assert "hubchat_" not in await resp.text()
    # The operator's view, on the ops listener.
    async with hub.http.get(hub.ops_url + "/readyz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"ready": True, "checks": {"mongodb": True, "redis": True}}
    async with hub.http.get(hub.ops_url + "/metrics") as resp:
        assert resp.status == 200 and "hubchat_sos_triggers_total" in await resp.text()


def _cancels(metrics: str) -> float:
    match = re.search(r'^hubchat_sos_transitions_total\{action="cancel"\} ([0-9.]+)$', metrics, re.M)
    return float(match.group(1)) if match else 0.0


async def test_metrics_count_a_duress_cancel_as_a_cancel(hub: HubClient) -> None:
    await officer_on_duty(hub)
    someone = await person(hub)
    sock = await hub.connect(someone["access_token"])

    async def metrics() -> str:
        async with hub.http.get(hub.ops_url + "/metrics") as resp:
            assert resp.status == 200
            return await resp.text()

    real = await trigger(sock)
    await dispatched(hub, real["id"])
    before = await metrics()
    assert "error" not in await sock.call("sos:cancel", {"alert_id": real["id"], "pin": SOS_PIN})
    after_real = await metrics()

    forced = await trigger(sock)
    await dispatched(hub, forced["id"])
    assert "error" not in await sock.call("sos:cancel", {"alert_id": forced["id"], "pin": DURESS_PIN})
    assert (await stored_alert(hub, forced["id"]))["duress"] is True
    after_duress = await metrics()

    assert _cancels(after_real) - _cancels(before) == 1
    assert _cancels(after_duress) - _cancels(after_real) == 1
    assert "duress" not in after_duress.lower()


@pytest.mark.parametrize("token", ["ops-" + "x" * 40])
async def test_ops_listener_with_a_token_refuses_requests_without_it(settings: Any, smtp: SmtpSink,
                                                                    aiohttp_server: Any, token: str) -> None:
    async with running_hub(settings.replace(ops_token=token), smtp, aiohttp_server) as client:
        for path in ("/metrics", "/healthz", "/readyz"):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
                async with client.http.get(client.ops_url + path, headers=headers) as resp:
                    assert resp.status == 401, (path, headers)
                    assert (await resp.json())["error"]["code"] == "token_invalid"
            async with client.http.get(client.ops_url + path, headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 200, path
    assert token not in repr(settings.replace(ops_token=token))


def test_ops_listener_off_loopback_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="ops_host"):
        load_settings(environ={}, ops_host="0.0.0.0")
    with pytest.raises(ConfigError, match="ops_host"):
        load_settings(environ={"HUBCHAT_OPS_HOST": "10.0.0.5"})
    assert load_settings(environ={}, ops_host="0.0.0.0", ops_token="t" * 32).ops_host == "0.0.0.0"
    assert load_settings(environ={}, ops_host="0.0.0.0", ops_port=0).ops_port == 0  # no listener at all
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert load_settings(environ={}, ops_host=host).ops_host == host
    defaults = load_settings(environ={})
    assert (defaults.ops_host, defaults.ops_port, defaults.ops_token) == ("127.0.0.1", 9090, "")
