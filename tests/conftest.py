"""Fixtures over real services: Redis on loopback, the embedded MongoDB-wire server (or a real
MongoDB when HUBCHAT_TEST_MONGO_URI is set), an in-process aiosmtpd SMTP server, and hubchat
itself on a real TCP port.

Isolation: each test gets its own MongoDB database and its own Redis key prefix (in Redis
database HUBCHAT_TEST_REDIS_DB, default 9), and both are removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiosmtpd.controller import Controller

from hubchat.clock import ManualClock
from hubchat.config import Settings, load_settings
from hubchat.embedded_mongo import EmbeddedMongo, free_loopback_port
from hubchat.store import Store, make_client

REDIS_HOST = os.environ.get("HUBCHAT_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("HUBCHAT_TEST_REDIS_PORT", "6379"))
REDIS_DB = int(os.environ.get("HUBCHAT_TEST_REDIS_DB", "9"))
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"


# ---------------------------------------------------------------- MongoDB
@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    """A real MongoDB from HUBCHAT_TEST_MONGO_URI, else one embedded server for the whole run."""
    real = os.environ.get("HUBCHAT_TEST_MONGO_URI")
    if real:
        yield real
        return
    tmp = tempfile.TemporaryDirectory(prefix="hubchat-test-mongo-")
    server = EmbeddedMongo(Path(tmp.name))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.start())
    try:
        yield server.uri
    finally:
        loop.run_until_complete(server.stop())
        loop.close()
        tmp.cleanup()


@pytest.fixture
def mongo_db_name() -> str:
    return f"hubchat_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def store(mongo_uri: str, mongo_db_name: str) -> AsyncIterator[Store]:
    """A Store on a fresh database (indexes not created: the app or the test does that)."""
    client = make_client(mongo_uri)
    try:
        yield Store(client, mongo_db_name)
    finally:
        await client.drop_database(mongo_db_name)
        await client.close()


# ---------------------------------------------------------------- time
@pytest.fixture
def clock() -> ManualClock:
    """The test's clock: ``advance`` it instead of sleeping (hubchat/clock.py)."""
    return ManualClock()


# ---------------------------------------------------------------- Redis
@pytest.fixture
def redis_prefix() -> str:
    return f"hubchat-test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def redis_client(redis_prefix: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL, decode_responses=False)
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=redis_prefix + "*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


# ---------------------------------------------------------------- SMTP
class SmtpSink:
    """Collects every message an in-process aiosmtpd server receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[Message]:
        async def poll() -> list[Message]:
            while len(self.to(address)) < count:
                await asyncio.sleep(0.02)
            return self.to(address)
        return await asyncio.wait_for(poll(), timeout)


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_loopback_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server: tuple[SmtpSink, int]) -> SmtpSink:
    return smtp_server[0]


# ---------------------------------------------------------------- settings
@pytest.fixture
def settings(mongo_uri: str, mongo_db_name: str, redis_prefix: str, smtp_server: tuple[SmtpSink, int],
             tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        mongo_uri=mongo_uri,
        mongo_db=mongo_db_name,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        data_dir=str(tmp_path / "var"),
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        mail_retry_base_delay_secs=0.05,
        log_format="text",
        # The suite shares two cores with the embedded store, browsers and server processes: chat
        # is not shed for event-loop lag or a short admission wait here.  Shedding has its own
        # tests (tests/test_overload*.py), which set these limits explicitly.
        overload_lag_ms=5000.0,
        chat_admission_wait_ms=10000.0,
    )


# ---------------------------------------------------------------- hubchat on a real port
@pytest.fixture
async def hub(settings: Settings, smtp: SmtpSink, aiohttp_server: Any, clock: ManualClock) -> AsyncIterator[Any]:
    """hubchat running on a TCP port, with an HTTP/Socket.IO client helper (tests.support.HubClient);
    its time is the test's ``clock``."""
    from tests.support import running_hub

    async with running_hub(settings, smtp, aiohttp_server, clock) as client:
        yield client
