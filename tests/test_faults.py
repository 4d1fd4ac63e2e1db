"""Faults injected into real ``hubchat serve`` processes, one at a time (scenarios in
tests/faults_support.py; bench/chaos.py runs the same ones longer and prints a table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubchat.config import Settings
from tests.conftest import SmtpSink
from tests.faults_support import (
    embedded_store_killed,
    node_killed,
    redis_restarted,
    slow_client,
    store_outage,
)

pytestmark = pytest.mark.timeout(150)


async def test_a_node_killed_mid_traffic_loses_nothing_and_the_survivor_escalates(
        settings: Settings, smtp: SmtpSink, tmp_path: Path) -> None:
    result = await node_killed(settings, smtp, tmp_path)
    assert result.acked > 0 and result.found == result.acked, result
    assert result.duplicated == 0, result
    assert result.recovery_secs < 30, result  # clients moved to node b and were answered there
    assert result.sos_delivered == 1, result
    # T1 (3 s after the trigger) was due after node a died: node b ran it and mailed the officer.
    assert result.emails_sent >= result.emails_due == 1, result


async def test_b_redis_restarted_nodes_reconnect_and_sos_is_never_refused(
        settings: Settings, smtp: SmtpSink, tmp_path: Path) -> None:
    result = await redis_restarted(settings, smtp, tmp_path)
    # Chat rate limits fail closed: a send while Redis is down answers `unavailable`.
    assert "chat send during the outage: unavailable" in result.notes, result
    assert result.sos_raised == 1 and result.sos_delivered == 1, result
    assert result.recovery_secs < 30, result  # cross-node delivery works again without a restart
    assert "ready after: a True, b True" in result.notes, result
    assert result.found == result.acked and result.duplicated == 0, result


async def test_c_store_killed_answers_unavailable_quickly_and_recovers(
        settings: Settings, smtp: SmtpSink, tmp_path: Path) -> None:
    result = await store_outage(settings, smtp, tmp_path)
    # A trigger the store cannot take fails loudly (socket and HTTP fallback), never a false ack.
    # (`unavailable`: the temporary 503 a client retries with the same id.)
    assert result.refused["sos:trigger unavailable"] == 1, result
    assert result.refused["POST /api/sos 503 unavailable"] == 1, result
    assert result.refused["unavailable"] >= 1 and result.refused["no_ack"] == 0, result
    # Before the fix a request waited PyMongo's 5 s server selection; now about 1.5 s.
    assert result.slowest_refusal_secs < 3.5, result
    assert "readyz during the outage: False" in result.notes, result
    assert result.found == result.acked and result.duplicated == 0, result
    assert result.sos_raised == result.sos_delivered == 1, result


async def test_c_embedded_store_killed_is_restarted_by_the_node(
        settings: Settings, smtp: SmtpSink, tmp_path: Path) -> None:
    result = await embedded_store_killed(settings, smtp, tmp_path)
    assert result.recovery_secs < 30, result
    old, new = result.notes[0].split(";")[0].removeprefix("store pid ").split(" -> ")
    assert old != new and result.notes[0].endswith("ready: True"), result
    assert result.refused["no_ack"] == 0 and result.refused["internal"] == 0, result
    assert result.found == result.acked and result.duplicated == 0, result
    assert result.sos_delivered == 1, result  # the alert raised before the kill is still open
    assert result.notes[1] == "SOS after recovery: retriggered", result


async def test_d_a_client_that_stops_reading_delays_nobody(
        settings: Settings, smtp: SmtpSink, tmp_path: Path) -> None:
    result = await slow_client(settings, smtp, tmp_path)
    assert result.found == result.acked, result
    held = int(result.notes[0].rsplit(" ", 1)[1])
    assert held > 0, result  # the stalled socket really pushed back on the server
