"""Faults injected into real ``hubchat serve`` processes, shared by tests/test_faults.py (small
counts, assertions) and bench/chaos.py (longer traffic, a report).  No test lives here.

Each scenario starts its own nodes on the given settings (shared store and Redis, an SMTP sink),
builds a small world (an approved association with an office bearer, a member, an on-duty
officer), runs chat and SOS traffic with clients that behave like the real ones (retry with the
same ``client_msg_id`` / ``client_sos_id``, reconnect to another node, ``sync`` afterwards),
injects one fault, and returns what it counted in a :class:`FaultResult`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from hubchat.config import Settings
from hubchat.embedded_mongo import PID_FILE, free_loopback_port
from tests.conftest import SmtpSink
from tests.support import HubClient, Recorder, serve_processes, wait_ready
from tests.test_two_nodes import approved_association_with_members

Node = tuple[str, subprocess.Popen[bytes]]

# Short timers so that a test sees an escalation step: T1 after 3 s, polled every 0.2 s.
FAULT_ENV = {"HUBCHAT_SOS_T1_SECS": "3", "HUBCHAT_SOS_T2_SECS": "3600", "HUBCHAT_SOS_SCHEDULER_INTERVAL_SECS": "0.2",
             "HUBCHAT_MAIL_RETRY_BASE_DELAY_SECS": "0.1", "HUBCHAT_AUTH_RATE_LIMIT": "0",
             "HUBCHAT_REGISTER_RATE_LIMIT": "0", "HUBCHAT_AUTH_CLIENT_RATE_LIMIT": "0"}
CALL_TIMEOUT_SECS = 3.0


@dataclasses.dataclass
class FaultResult:
    fault: str
    acked: int = 0  # chat messages acknowledged to their sender
    found: int = 0  # of those, found afterwards (history)
    duplicated: int = 0  # client_msg_ids stored more than once
    refused: Counter[str] = dataclasses.field(default_factory=Counter)  # error codes answered during the fault
    sos_raised: int = 0  # SOS triggers acknowledged
    sos_delivered: int = 0  # of those, seen by the officer afterwards (live or feed)
    emails_due: int = 0
    emails_sent: int = 0
    recovery_secs: float = 0.0  # fault injected → the first acknowledged send after it
    slowest_refusal_secs: float = 0.0  # the slowest `unavailable` answer during the fault
    notes: list[str] = dataclasses.field(default_factory=list)


# ---------------------------------------------------------------- clients
class ChatSender:
    """Sends numbered messages like the web client: an unacknowledged one is retried with the same
    ``client_msg_id``, on this node or, once it is gone, on the next node that accepts a socket."""

    def __init__(self, hub: HubClient, token: str, urls: list[str], channel_id: str, tag: str):
        self.hub, self.token, self.urls, self.channel_id, self.tag = hub, token, urls, channel_id, tag
        self.socket: Recorder | None = None
        self.acked: dict[str, int] = {}  # client_msg_id → seq
        self.refused: Counter[str] = Counter()
        self.refusal_secs: list[float] = []
        self.acked_at: list[float] = []  # monotonic times of acknowledgements
        self._n = 0
        self._pending: str | None = None
        self._body = ""

    async def connect(self) -> bool:
        if self.socket is not None:
            await self.socket.disconnect()
        for url in self.urls:
            socket = Recorder()
            try:
                await socket.sio.connect(url, auth={"token": self.token}, transports=["websocket"], wait_timeout=10)
            except (socketio.exceptions.ConnectionError, OSError, TimeoutError):
                await socket.disconnect()
                continue
            self.hub.sockets.append(socket)
            self.socket = socket
            return True
        return False

    async def send_one(self) -> dict[str, Any] | None:
        """One attempt for the current message; its ack, or None (no socket, timeout)."""
        if self._pending is None:
            self._n += 1
            self._pending = f"{self.tag}-{self._n:06d}"
            self._body = f"{self._pending} at {time.time():.3f}"  # a retry sends the same body
        if self.socket is None or not self.socket.sio.connected:
            if not await self.connect():
                self.refused["no_node"] += 1
                return None
        assert self.socket is not None
        started = time.monotonic()
        try:
            ack: dict[str, Any] = await self.socket.call("message:send", {
                "channel_id": self.channel_id, "client_msg_id": self._pending,
                "body": self._body}, timeout=CALL_TIMEOUT_SECS)
        except (TimeoutError, socketio.exceptions.SocketIOError):
            self.refused["no_ack"] += 1
            return None
        if "message" in ack:
            self.acked[self._pending] = ack["message"]["seq"]
            self.acked_at.append(time.monotonic())
            self._pending = None
        else:
            self.refused[ack["error"]["code"]] += 1
            if ack["error"]["code"] == "unavailable":
                self.refusal_secs.append(time.monotonic() - started)
        return ack

    async def run(self, stop: asyncio.Event, interval_secs: float) -> None:
        while not stop.is_set():
            ack = await self.send_one()
            await asyncio.sleep(interval_secs if ack and "message" in ack else max(interval_secs, 0.1))

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.disconnect()


async def stored_messages(socket: Recorder, channel_id: str) -> list[dict[str, Any]]:
    """Every message of the channel, through ``message:history`` pages (what ``sync`` reads)."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await socket.call("message:history", {"channel_id": channel_id, "after_seq": after, "limit": 100},
                                 timeout=15)
        found += page["messages"]
        if not page["messages"] or not page["has_more"]:
            return found
        after = page["messages"][-1]["seq"]


def count_messages(result: FaultResult, senders: list[ChatSender], stored: list[dict[str, Any]]) -> None:
    ids = Counter(m["client_msg_id"] for m in stored)
    result.duplicated = sum(1 for n in ids.values() if n > 1)
    for sender in senders:
        result.acked += len(sender.acked)
        result.found += sum(1 for cid in sender.acked if ids[cid] >= 1)
        result.refused.update(sender.refused)
        result.slowest_refusal_secs = max([result.slowest_refusal_secs, *sender.refusal_secs])


# ---------------------------------------------------------------- the world
@dataclasses.dataclass
class World:
    a: HubClient
    b: HubClient
    bearer: dict[str, Any]
    member: dict[str, Any]
    officer: dict[str, Any]
    channel_id: str


async def build_world(a: HubClient, b: HubClient, settings: Settings) -> World:
    made = await approved_association_with_members(a, b, settings)
    probe = await a.connect(made["bearer"]["access_token"])
    listed = await probe.call("channel:list")
    await probe.disconnect()
    channel = next(c for c in listed["channels"] if c["kind"] == "association")
    return World(a, b, made["bearer"], made["member"], made["officer"], channel["id"])


async def on_duty_officer(world: World, hub: HubClient, url: str | None = None) -> Recorder:
    officer = await hub.connect(world.officer["access_token"], base_url=url)
    ack = await officer.call("duty:set", {"on_duty": True})
    assert "duty" in ack, ack
    return officer


def officer_email(world: World) -> str:
    return str(world.officer["user"]["email"])


async def trigger(person: Recorder, client_sos_id: str) -> dict[str, Any]:
    try:
        ack: dict[str, Any] = await person.call("sos:trigger", {
            "client_sos_id": client_sos_id, "category": "medical", "lat": 25.2, "lon": 55.3},
            timeout=10)
    except (TimeoutError, socketio.exceptions.SocketIOError):
        return {"error": {"code": "no_ack"}}
    return ack


async def feed_ids(officer: Recorder) -> set[str]:
    ack = await officer.call("sos:feed", {}, timeout=15)
    return {alert["id"] for alert in ack["alerts"]}


@contextlib.asynccontextmanager
async def nodes_up(settings: Settings, smtp: SmtpSink, logs: Path, names: tuple[str, ...] = ("a", "b"),
                   **env: str) -> AsyncIterator[tuple[list[Node], list[HubClient]]]:
    with serve_processes(settings, logs, names, **{**FAULT_ENV, **env}) as nodes:
        for url, process in nodes:
            await wait_ready(url, process, timeout=60)
        hubs = [HubClient(url, smtp) for url, _ in nodes]
        try:
            yield nodes, hubs
        finally:
            for hub in hubs:
                await hub.close()


async def until(condition: Any, timeout: float, step: float = 0.05) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await condition():
            return True
        await asyncio.sleep(step)
    return False


async def ready(url: str) -> bool:
    async with aiohttp.ClientSession() as http:
        try:
            async with http.get(url + "/readyz", timeout=aiohttp.ClientTimeout(total=3)) as resp:
                return resp.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False


# ---------------------------------------------------------------- a: a node killed
async def node_killed(settings: Settings, smtp: SmtpSink, logs: Path, traffic_secs: float = 2.0,
                      senders_per_node: int = 1) -> FaultResult:
    """Node a is SIGKILLed mid-traffic, right after an SOS it took: clients move to node b."""
    result = FaultResult("node killed (SIGKILL)")
    async with nodes_up(settings, smtp, logs, HUBCHAT_MESSAGE_RATE_LIMIT="0") as (nodes, (a, b)):
        world = await build_world(a, b, settings)
        officer = await on_duty_officer(world, b)
        person = await a.connect(world.member["access_token"])
        urls = [a.base_url, b.base_url]
        senders = [ChatSender(a, who["access_token"], urls, world.channel_id, f"kill{n}{i}")
                   for i in range(senders_per_node) for n, who in enumerate((world.bearer, world.member))]
        stop = asyncio.Event()
        running = [asyncio.create_task(s.run(stop, 0.02)) for s in senders]
        await asyncio.sleep(traffic_secs / 2)
        ack = await trigger(person, "kill-sos-0001")
        assert "alert" in ack, ack
        alert_id = ack["alert"]["id"]
        result.sos_raised = 1
        await officer.wait_for("sos:new", where=lambda e: e["id"] == alert_id, timeout=10)
        killed_at = time.monotonic()
        nodes[0][1].send_signal(signal.SIGKILL)
        nodes[0][1].wait()

        async def every_sender_answered_again() -> bool:
            return all(any(t > killed_at for t in s.acked_at) for s in senders)

        await until(every_sender_answered_again, timeout=30, step=0.1)
        await asyncio.sleep(traffic_secs / 2)
        stop.set()
        await asyncio.gather(*running)
        # Recovery: until every sender had a message acknowledged again (by node b); a send in
        # flight at the kill waits for its ack until the client's timeout (CALL_TIMEOUT_SECS).
        firsts = [min([t for t in s.acked_at if t > killed_at], default=float("inf")) for s in senders]
        result.recovery_secs = max(firsts) - killed_at
        # The person's app reconnects to b and finds its alert; T1 (3 s) is run by b.
        person = await b.connect(world.member["access_token"])
        mine = await person.call("sos:mine")
        result.notes.append(f"person after reconnect: alert {mine['alert']['status'] if mine['alert'] else None}")
        result.sos_delivered = int(alert_id in await feed_ids(officer))
        result.emails_due = 1  # T1 to the one on-duty officer
        escalated = await until(lambda: escalation_level(officer, alert_id, 1), timeout=15, step=0.2)
        if escalated:
            with contextlib.suppress(asyncio.TimeoutError):
                await smtp.wait_for(officer_email(world), timeout=10)
        result.emails_sent = len([m for m in smtp.to(officer_email(world)) if "SOS" in str(m["Subject"])])
        stored = await stored_messages(person, world.channel_id)
        count_messages(result, senders, stored)
        for sender in senders:
            await sender.close()
    return result


async def escalation_level(officer: Recorder, alert_id: str, level: int) -> bool:
    ack = await officer.call("sos:get", {"alert_id": alert_id})
    return bool(ack["alert"]["escalation"]["level"] >= level)


# ---------------------------------------------------------------- b: Redis restarted
class RedisServer:
    """A ``redis-server`` of the test's own on a free port (never the machine's shared one)."""

    def __init__(self, workdir: Path):
        self.port = free_loopback_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(self.workdir)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            process.wait(10)

    @contextlib.contextmanager
    def running(self) -> Iterator[RedisServer]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


async def redis_restarted(settings: Settings, smtp: SmtpSink, logs: Path, outage_secs: float = 2.0) -> FaultResult:
    """The nodes' Redis is stopped for ``outage_secs`` and started again (empty: no persistence)."""
    result = FaultResult("Redis restarted")
    redis = RedisServer(logs / "redis")
    with redis.running():
        mine = dataclasses.replace(settings, redis_url=redis.url)
        async with nodes_up(mine, smtp, logs) as (nodes, (a, b)):
            world = await build_world(a, b, mine)
            officer = await on_duty_officer(world, b)
            person = await a.connect(world.member["access_token"])
            sender = ChatSender(a, world.bearer["access_token"], [a.base_url], world.channel_id, "redis")
            listener = await b.connect(world.member["access_token"])
            assert "message" in (await sender.send_one() or {})
            # Steady traffic on node b through the whole outage, retried like the web client.
            steady = ChatSender(b, world.member["access_token"], [b.base_url], world.channel_id, "steady")
            stop = asyncio.Event()
            steady_task = asyncio.create_task(steady.run(stop, 0.05))
            await asyncio.sleep(0.5)
            redis.stop()
            stopped_at = time.monotonic()
            # Chat limits fail closed (unavailable); an SOS is never refused because Redis is down.
            during = await sender.send_one() or {"error": {"code": "no_ack"}}
            result.notes.append(f"chat send during the outage: {during.get('error', {}).get('code', 'accepted')}")
            ack = await trigger(person, "redis-sos-0001")
            result.notes.append(f"SOS during the outage: {'stored' if 'alert' in ack else ack}")
            alert_id = ack.get("alert", {}).get("id")
            result.sos_raised = int(alert_id is not None)
            await asyncio.sleep(max(0.0, outage_secs - (time.monotonic() - stopped_at)))
            redis.start()
            started_at = time.monotonic()
            # The nodes find Redis again by themselves: a send on a reaches b's socket live.
            recovered = await until(lambda: delivered_across(sender, listener), timeout=30, step=0.2)
            result.recovery_secs = time.monotonic() - started_at if recovered else float("inf")
            await until(lambda: accepted_after(steady, started_at), timeout=30, step=0.1)
            stop.set()
            await steady_task
            result.notes.append(f"ready after: a {await ready(a.base_url)}, b {await ready(b.base_url)}")
            live = any(e["id"] == alert_id for e in officer.events.get("sos:new", []))
            result.sos_delivered = int(alert_id is not None and (live or alert_id in await feed_ids(officer)))
            result.notes.append(f"SOS reached the officer {'live' if live else 'through sos:feed'}")
            stored = await stored_messages(listener, world.channel_id)
            count_messages(result, [sender, steady], stored)
            await sender.close()
            await steady.close()
    return result


async def accepted_after(sender: ChatSender, since: float) -> bool:
    return any(t > since for t in sender.acked_at)


async def delivered_across(sender: ChatSender, listener: Recorder) -> bool:
    ack = await sender.send_one()
    if not ack or "message" not in ack:
        return False
    seq = ack["message"]["seq"]
    with contextlib.suppress(asyncio.TimeoutError):
        await listener.wait_for("message:new", where=lambda m: m["seq"] == seq, timeout=2)
        return True
    return False


# ---------------------------------------------------------------- c: the store killed
def kill_embedded_store(data_dir: Path) -> int:
    pid = int((data_dir / PID_FILE).read_text().strip())
    os.kill(pid, signal.SIGKILL)
    return pid


async def embedded_store_killed(settings: Settings, smtp: SmtpSink, logs: Path,
                                traffic_secs: float = 2.0) -> FaultResult:
    """The node's own embedded store (its nx-27017 child) is SIGKILLed: the node starts it again on
    the same files, and sends meanwhile answer (stored, or refused `unavailable`) without hanging."""
    result = FaultResult("embedded store killed")
    mine = dataclasses.replace(settings, mongo_uri="")
    data_dir = Path(mine.data_dir)
    async with nodes_up(mine, smtp, logs, names=("a",), HUBCHAT_MESSAGE_RATE_LIMIT="0") as (_, (a,)):
        world = await build_world(a, a, mine)
        officer = await on_duty_officer(world, a)
        person = await a.connect(world.member["access_token"])
        sender = ChatSender(a, world.bearer["access_token"], [a.base_url], world.channel_id, "embedded")
        for _ in range(5):
            assert "message" in (await sender.send_one() or {})
        before = await trigger(person, "embedded-sos-0001")
        assert "alert" in before, before
        result.sos_raised = 1
        stop = asyncio.Event()
        steady = asyncio.create_task(sender.run(stop, 0.02))  # traffic through the kill
        await asyncio.sleep(traffic_secs / 2)
        old_pid = kill_embedded_store(data_dir)
        killed_at = time.monotonic()
        recovered = await until(lambda: accepted_after(sender, killed_at), timeout=30, step=0.05)
        after = [t for t in sender.acked_at if t > killed_at]
        result.recovery_secs = min(after) - killed_at if recovered else float("inf")
        await asyncio.sleep(traffic_secs / 2)
        stop.set()
        await steady
        new_pid = int((data_dir / PID_FILE).read_text().strip())
        result.notes.append(f"store pid {old_pid} -> {new_pid}; ready: {await ready(a.base_url)}")
        result.sos_delivered = int(before["alert"]["id"] in await feed_ids(officer))
        after = await trigger(person, "embedded-sos-0002")  # a retrigger of the open alert
        result.notes.append(f"SOS after recovery: {after.get('outcome', after)}")
        stored = await stored_messages(person, world.channel_id)
        count_messages(result, [sender], stored)
        await sender.close()
    return result


async def store_outage(settings: Settings, smtp: SmtpSink, logs: Path, outage_secs: float = 3.0) -> FaultResult:
    """The nodes' store (an nx-27017 the scenario runs itself) is SIGKILLed and started again on the
    same port and files ``outage_secs`` later: sends and triggers meanwhile answer quickly."""
    from hubchat.embedded_mongo import EmbeddedMongo

    result = FaultResult("store killed (external)")
    server = EmbeddedMongo(logs / "store")
    await server.start()
    try:
        mine = dataclasses.replace(settings, mongo_uri=server.uri)
        async with nodes_up(mine, smtp, logs, names=("a",)) as ((node,), (a,)):
            world = await build_world(a, a, mine)
            officer = await on_duty_officer(world, a)
            person = await a.connect(world.member["access_token"])
            sender = ChatSender(a, world.bearer["access_token"], [a.base_url], world.channel_id, "store")
            for _ in range(5):
                assert "message" in (await sender.send_one() or {})
            killed_at = time.monotonic()
            kill_embedded_store(server.data_dir)
            await server.stop()  # reaps it
            started = time.monotonic()
            ack = await trigger(person, "store-sos-0001")
            result.slowest_refusal_secs = time.monotonic() - started
            result.refused["sos:trigger " + ack.get("error", {}).get("code", "stored")] += 1
            started = time.monotonic()
            status, body = await person_http_trigger(a, world.member["access_token"], "store-sos-0002")
            result.slowest_refusal_secs = max(result.slowest_refusal_secs, time.monotonic() - started)
            result.refused[f"POST /api/sos {status} {body.get('error', {}).get('code')}"] += 1
            result.notes.append(f"readyz during the outage: {await ready(a.base_url)}")
            await sender.send_one()
            while time.monotonic() - killed_at < outage_secs:
                await sender.send_one()
            server = EmbeddedMongo(server.data_dir, port=server.port)
            await server.start()
            back_at = time.monotonic()
            result.notes.append(f"store down {back_at - killed_at:.1f} s")
            recovered = await until(lambda: accepted(sender), timeout=30, step=0.1)
            result.recovery_secs = time.monotonic() - back_at if recovered else float("inf")
            ack = await trigger(person, "store-sos-0003")
            result.sos_raised = int("alert" in ack)
            if "alert" in ack:
                with contextlib.suppress(asyncio.TimeoutError):
                    await officer.wait_for("sos:new", where=lambda e: e["id"] == ack["alert"]["id"], timeout=10)
                result.sos_delivered = int(ack["alert"]["id"] in await feed_ids(officer))
            stored = await stored_messages(person, world.channel_id)
            count_messages(result, [sender], stored)
            await sender.close()
            assert node[1].poll() is None, "the node must survive its store"
    finally:
        await server.stop()
    return result


async def accepted(sender: ChatSender) -> bool:
    ack = await sender.send_one()
    return bool(ack and "message" in ack)


async def person_http_trigger(hub: HubClient, token: str, client_sos_id: str) -> tuple[int, dict[str, Any]]:
    try:
        status, body = await hub.request("POST", "/api/sos", token=token, json={
            "client_sos_id": client_sos_id, "category": "medical"}, timeout=aiohttp.ClientTimeout(total=10))
    except (TimeoutError, aiohttp.ClientError):
        return 0, {"error": {"code": "no_answer"}}
    return status, body if isinstance(body, dict) else {}


# ---------------------------------------------------------------- e: SMTP down
async def smtp_outage(settings: Settings, smtp: SmtpSink, logs: Path, stop_smtp: Callable[[], None],
                      start_smtp: Callable[[], None], outage_secs: float = 8.0) -> FaultResult:
    """SMTP is down while two alerts reach T1: their emails wait in the outbox and each is
    delivered once after SMTP returns (``stop_smtp``/``start_smtp`` control the sink's server)."""
    result = FaultResult("SMTP down")
    async with nodes_up(settings, smtp, logs) as (_, (a, b)):
        world = await build_world(a, b, settings)
        officer = await on_duty_officer(world, b)
        persons = [await a.connect(world.member["access_token"]), await b.connect(world.bearer["access_token"])]
        stop_smtp()
        down_at = time.monotonic()
        alert_ids = []
        for n, person in enumerate(persons):
            ack = await trigger(person, f"smtp-sos-{n:04d}")
            assert "alert" in ack, ack
            alert_ids.append(ack["alert"]["id"])
        result.sos_raised = len(alert_ids)
        result.emails_due = len(alert_ids)  # T1: one email per alert to the one on-duty officer
        await asyncio.sleep(max(0.0, outage_secs - (time.monotonic() - down_at)))
        start_smtp()
        up_at = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await smtp.wait_for(officer_email(world), count=len(alert_ids), timeout=120)
        result.recovery_secs = time.monotonic() - up_at
        await asyncio.sleep(3)  # a second copy would have come by now
        result.emails_sent = len([m for m in smtp.to(officer_email(world)) if "SOS" in str(m["Subject"])])
        result.sos_delivered = len(set(alert_ids) & await feed_ids(officer))
    return result


# ---------------------------------------------------------------- d: a slow client
def _ws_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    size = len(payload)
    header = bytes([0x81]) + (bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big"))
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


async def stalled_socket(base_url: str, token: str, receive_buffer_bytes: int = 4096) -> socket.socket:
    """A Socket.IO websocket, connected and authenticated by hand, whose owner never reads again."""
    loop = asyncio.get_running_loop()
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer_bytes)
    sock.setblocking(False)
    await loop.sock_connect(sock, (host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    seen = b""
    while b'0{"sid"' not in seen:
        seen += await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)
    await loop.sock_sendall(sock, _ws_frame("40" + json.dumps({"token": token})))
    while b'40{"sid"' not in seen:
        seen += await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)
    return sock


def queued_bytes(local_port: int, peer_port: int) -> int:
    """Bytes the server has not yet been able to send on its side of this loopback connection
    (``tx_queue`` of /proc/net/tcp for the server's end)."""
    with open("/proc/net/tcp", encoding="ascii") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == peer_port and int(remote.split(":")[1], 16) == local_port:
                return int(fields[4].split(":")[0], 16)
    return 0


async def slow_client(settings: Settings, smtp: SmtpSink, logs: Path, messages: int = 40,
                      body_chars: int = 3800, stall: bool = True) -> FaultResult:
    """A member's socket that never reads while the channel is flooded; another member measures."""
    result = FaultResult("slow client")
    # Load shedding is not what this measures (a busy test machine would trigger it): lag 2 s.
    async with nodes_up(settings, smtp, logs, names=("a",), HUBCHAT_MESSAGE_RATE_LIMIT="0",
                        HUBCHAT_OVERLOAD_LAG_MS="2000") as (_, (a,)):
        world = await build_world(a, a, settings)
        stalled = await stalled_socket(a.base_url, world.member["access_token"]) if stall else socket.socket()
        try:
            watcher = await a.connect(world.member["access_token"])
            sender = await a.connect(world.bearer["access_token"])
            body = "x" * body_chars
            sent_at: dict[int, float] = {}
            for i in range(messages):
                while True:  # as the web client does: `overloaded` is retried after retry_after_ms
                    ack = await sender.call("message:send", {"channel_id": world.channel_id,
                                                             "client_msg_id": f"slow-{i:06d}", "body": body})
                    if ack.get("error", {}).get("code") != "overloaded":
                        break
                    result.refused["overloaded"] += 1
                    await asyncio.sleep(ack["error"]["retry_after_ms"] / 1000)
                assert "message" in ack, ack
                sent_at[ack["message"]["seq"]] = time.monotonic()
                result.acked += 1
            got = await watcher.wait_for("message:new", count=messages, timeout=30)
            result.found = len({m["seq"] for m in got})
            result.notes.append(f"bytes the server holds for the stalled socket: "
                                f"{queued_bytes(stalled.getsockname()[1], int(a.base_url.rsplit(':', 1)[1]))}")
        finally:
            stalled.close()
    return result


