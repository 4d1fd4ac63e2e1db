"""Fan-out benchmark: hubchat against a bare python-socketio echo-to-room server.

What it measures (a benchmark, not a timed test):

* It starts, on free loopback ports, hubchat (``python -m hubchat serve``) and the baseline
  ``bench/echo_server.py``, one after the other, each on the same Redis.
* It builds ``--channels`` groups of ``--group-size`` (default 10 x 20 = 200) Socket.IO clients,
  all in this process, websocket transport.  For hubchat every client is a real, verified,
  logged-in user, and each group is an approved association whose channel (kind
  ``association``) is the channel of 20; for the echo server each group is a room.
* For each rate R of the ladder (total messages per second across all channels) it sends, for
  ``--duration-secs`` seconds, on an open-loop schedule (fixed intervals, never waiting for acks),
  one message from a random member of a random channel.  The body carries the *scheduled* send
  time (``time.perf_counter()``; sender and receivers are this process), so that a late sender
  does not hide queueing (no coordinated omission).  Every client records, for each
  ``message:new`` it receives, latency = receive time - scheduled send time.
* After the sending window it waits up to ``--straggler-secs`` for the rest; what has not
  arrived then is counted lost.  Per rate it reports messages sent, deliveries per second,
  p50/p99/max delivery latency, lost deliveries, the senders' own lag and the CPU used by the
  server, this client process and Redis.
* The ladder stops after the second rate whose p99 exceeds ``--p99-ms`` (100 ms) or at the first
  rate that loses deliveries (or gets error acks).  "Highest rate with p99 under 100 ms" is the
  highest rate that passed.
* It prints Markdown and appends a dated section to ``bench/RESULTS.md`` (``--no-record`` not).

Everything is bounded: a fixed ladder, a fixed duration per rate, and a global deadline
(``--max-minutes``).  All subprocesses are stopped and this run's Redis keys removed at the end,
also on Ctrl-C, SIGTERM and errors.

Run:  ``.venv/bin/python bench/fanout.py [--channels N] [--rates 20,50,100] [--duration-secs S] [--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import functools
import os
import platform
import random
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
import socketio

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
DEFAULT_RESULTS = BENCH_DIR / "RESULTS.md"
DEFAULT_RATES = "20,50,100,200,300,400,600,800,1200,1600,2400,3200"
QUICK_RATES = "20,100,400"
PASSWORD = "bench-password-" + secrets.token_hex(6)

perf = time.perf_counter


# ====================================================================== small utilities
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100); NaN when empty."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Child:
    """A server subprocess in its own session (Ctrl-C reaches us, we stop it in order)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def start(self) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, cwd=str(ROOT), stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)

    async def run_to_end(self, timeout: float) -> int:
        await self.start()
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        finally:
            await self.stop()

    async def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except (TimeoutError, asyncio.CancelledError):
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            log(f"{self.name}: exited with {proc.returncode}")
        if getattr(self, "_log", None):
            self._log.close()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


async def wait_http_ok(url: str, timeout: float, child: Child | None = None) -> None:
    deadline = perf() + timeout
    async with aiohttp.ClientSession() as http:
        while perf() < deadline:
            if child is not None and (child.proc is None or child.proc.returncode is not None):
                raise RuntimeError(f"{child.name} exited during start-up:\n{child.tail()}")
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s"
                       + (f"\n{child.tail()}" if child else ""))


class CpuMeter:
    """CPU time of named processes (utime+stime from /proc), as % of one core over an interval."""

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}
        self._tick = os.sysconf("SC_CLK_TCK")

    def _ticks(self, pid: int) -> int | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            return None

    @staticmethod
    def _busy_ticks() -> int | None:
        """CPU time used by everything on the machine (all cores; /proc/stat minus idle and iowait)."""
        try:
            values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        except (OSError, IndexError, ValueError):
            return None
        return sum(values) - values[3] - values[4]

    def snapshot(self) -> tuple[float, dict[str, int | None]]:
        ticks = {name: self._ticks(pid) for name, pid in self.pids.items()}
        ticks[" machine"] = self._busy_ticks()
        return perf(), ticks

    def since(self, snap: tuple[float, dict[str, int | None]]) -> dict[str, float]:
        """% of one core per named process, and "others": the rest of the machine's busy time."""
        t0, before = snap
        t1, after = self.snapshot()
        used: dict[str, int] = {}
        for name, ticks in after.items():
            start = before.get(name)
            if ticks is not None and start is not None:
                used[name] = ticks - start
        scale = 100.0 / self._tick / max(t1 - t0, 1e-9)
        out = {name: ticks * scale for name, ticks in used.items() if name != " machine"}
        if " machine" in used:
            out["others"] = max(0.0, used[" machine"] - sum(v for k, v in used.items() if k != " machine")) * scale
        return out


# ====================================================================== SMTP sink
class SmtpSink:
    """aiosmtpd handler collecting verification emails (runs in the Controller's thread)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    async def code_for(self, address: str, timeout: float = 30.0) -> str:
        deadline = perf() + timeout
        while perf() < deadline:
            for msg in list(self.messages):
                if address.lower() in str(msg["To"]).lower():
                    payload = msg.get_payload(decode=True) if not msg.is_multipart() else \
                        msg.get_payload(0).get_payload(decode=True)  # type: ignore[union-attr]
                    text = payload.decode(errors="replace") if isinstance(payload, bytes) else str(payload)
                    match = re.search(r"\b(\d{6})\b", text)
                    if match:
                        return match.group(1)
            await asyncio.sleep(0.05)
        raise RuntimeError(f"no verification email for {address} within {timeout:.0f} s")


# ====================================================================== delivery bookkeeping
class Collector:
    """Counts and times every ``message:new`` received by every client of the current step."""

    def __init__(self) -> None:
        self.expected: dict[int, int] = {}  # seq -> deliveries still expected
        self.latencies: list[float] = []
        self.delivered = 0
        self.duplicates = 0
        self.stale = 0  # deliveries of earlier steps' (or foreign) messages
        self.last_rx = 0.0
        self.outstanding = 0
        self.ack_ok = 0
        self.ack_errors: dict[str, int] = {}
        self.ack_ms: list[float] = []  # emit -> ack (ok or error), per answered send
        self.acked_seqs: set[int] = set()  # sends acknowledged as stored
        self.send_lags: list[float] = []
        self.probe: dict[int, list[Any]] = {}  # seq -> receiving clients (probe mode)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def expect(self, seq: int, count: int) -> None:
        self.expected[seq] = count
        self.outstanding += count

    def on_body(self, body: Any, client: Any) -> None:
        now = perf()
        try:
            _, seq_text, t_text, _ = str(body).split(":", 3)
            seq, sent = int(seq_text), float(t_text)
        except ValueError:
            self.stale += 1
            return
        if seq in self.probe:
            self.probe[seq].append(client)
            return
        left = self.expected.get(seq)
        if left is None:
            self.stale += 1
            return
        if left <= 0:
            self.duplicates += 1
            return
        self.expected[seq] = left - 1
        self.outstanding -= 1
        self.delivered += 1
        self.latencies.append(now - sent)
        self.last_rx = now

    def on_ack(self, data: Any = None) -> None:
        if isinstance(data, dict) and "error" in data:
            err = data["error"]
            code = str(err.get("code", "error")) if isinstance(err, dict) else str(err)
            self.ack_errors[code] = self.ack_errors.get(code, 0) + 1
        else:
            self.ack_ok += 1

    def on_ack_of(self, seq: int, emitted: float, data: Any = None) -> None:
        """An answered send: its time, and whether its deliveries are still expected."""
        self.ack_ms.append((perf() - emitted) * 1000)
        self.on_ack(data)
        if isinstance(data, dict) and "error" in data:
            left = self.expected.pop(seq, 0)  # refused (e.g. overloaded): nothing to deliver
            self.outstanding -= max(0, left)
        else:
            self.acked_seqs.add(seq)

    def acked_missing(self) -> int:
        """Deliveries still missing of messages whose sender was told they were stored."""
        return sum(max(0, self.expected.get(seq, 0)) for seq in self.acked_seqs)


_SEQ = iter(range(1, 1 << 62))


def make_body(seq: int, t: float, pad: int) -> str:
    return f"fanout:{seq}:{t!r}:" + "x" * pad


# ====================================================================== clients and targets
class Client:
    """One Socket.IO client (websocket transport) that feeds ``message:new`` to the collector."""

    def __init__(self, collector: Collector, extract: Callable[[Any], Any], name: str):
        self.name = name
        # handle_sigint=False: python-socketio's own SIGINT handler would cancel every task,
        # cleanup included; Ctrl-C is handled by amain() instead.
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.disconnected = False

        async def on_new(data: Any = None) -> None:
            collector.on_body(extract(data), self)

        async def on_disconnect(*_: Any) -> None:
            self.disconnected = True

        self.sio.on("message:new", on_new)
        self.sio.on("disconnect", on_disconnect)

    async def connect(self, url: str, auth: Any = None) -> None:
        await self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=20)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.sio.connected:
                await asyncio.wait_for(self.sio.disconnect(), 5)


@dataclass
class Group:
    room: str  # the echo room or the hubchat channel id
    members: list[Client]
    senders: list[Client] = field(default_factory=list)  # who may send in run_step (empty: any member)


class Target:
    """A server under test: start it, build the groups, say how to send, stop it."""

    name = "target"
    send_event = ""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self.children: list[Child] = []
        self.clients: list[Client] = []
        self.groups: list[Group] = []

    @property
    def server_pid(self) -> int | None:
        return self.children[0].pid if self.children else None

    def extract(self, data: Any) -> Any:
        return data.get("body") if isinstance(data, dict) else None

    def payload(self, group: Group, body: str) -> dict[str, Any]:
        raise NotImplementedError

    async def start(self) -> None:
        raise NotImplementedError

    async def setup(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        clients, self.clients = self.clients, []
        for chunk in range(0, len(clients), 50):
            await asyncio.gather(*(c.close() for c in clients[chunk:chunk + 50]))
        for child in reversed(self.children):
            await child.stop()

    async def connect_all(self, url: str, auths: list[Any]) -> list[Client]:
        sem = asyncio.Semaphore(16)

        async def one(i: int, auth: Any) -> Client:
            client = Client(self.ctx.collector, self.extract, f"{self.name}-{i}")
            self.clients.append(client)
            async with sem:
                await client.connect(url, auth)
            return client

        return list(await asyncio.gather(*(one(i, a) for i, a in enumerate(auths))))


class EchoTarget(Target):
    name = "echo"
    send_event = "send"

    def __init__(self, ctx: RunContext, skip_sender: bool):
        super().__init__(ctx)
        self.skip_sender = skip_sender

    async def start(self) -> None:
        self.port = free_port()
        child = Child("echo", [sys.executable, str(BENCH_DIR / "echo_server.py"), "--port", str(self.port),
                               "--redis-url", self.ctx.redis_url, "--channel", self.ctx.prefix + "echo:socketio"],
                      dict(os.environ), self.ctx.tmp / "echo.log")
        self.children.append(child)
        await child.start()
        await wait_http_ok(f"http://127.0.0.1:{self.port}/healthz", 30, child)
        self.url = f"http://127.0.0.1:{self.port}"

    async def setup(self) -> None:
        n, size = self.ctx.args.channels, self.ctx.args.group_size
        clients = await self.connect_all(self.url, [None] * (n * size))
        for g in range(n):
            members = clients[g * size:(g + 1) * size]
            room = f"room-{g}"
            acks = await asyncio.gather(*(c.sio.call("join", {"room": room}, timeout=20) for c in members))
            bad = [a for a in acks if not (isinstance(a, dict) and a.get("ok"))]
            if bad:
                raise RuntimeError(f"echo join failed: {bad[:3]}")
            self.groups.append(Group(room, members))

    def payload(self, group: Group, body: str) -> dict[str, Any]:
        return {"room": group.room, "body": body, "t": 0, "skip_sender": self.skip_sender}


class HubchatTarget(Target):
    name = "hubchat"
    send_event = "message:send"

    def extract(self, data: Any) -> Any:
        if isinstance(data, dict):
            msg = data.get("message")
            if isinstance(msg, dict):
                return msg.get("body")
            return data.get("body")
        return None

    def env(self) -> dict[str, str]:
        ctx = self.ctx
        env = dict(os.environ)
        for key in [k for k in env if k.startswith("HUBCHAT_")]:
            del env[key]
        env.update({
            "HUBCHAT_REDIS_URL": ctx.redis_url,
            "HUBCHAT_REDIS_PREFIX": ctx.prefix,
            "HUBCHAT_DATA_DIR": str(ctx.tmp / "hubchat-data"),
            "HUBCHAT_MONGO_URI": ctx.mongo_uri,
            "HUBCHAT_MONGO_DB": "hubchat_bench",
            "HUBCHAT_JWT_SECRET": ctx.jwt_secret,
            "HUBCHAT_SMTP_HOST": "127.0.0.1",
            "HUBCHAT_SMTP_PORT": str(ctx.smtp_port),
            "HUBCHAT_MESSAGE_RATE_LIMIT": "0",
            "HUBCHAT_AUTH_RATE_LIMIT": "0",
            # every benchmark client comes from 127.0.0.1: per-address limits and caps are off
            "HUBCHAT_AUTH_CLIENT_RATE_LIMIT": "0",
            "HUBCHAT_AUTH_EMAIL_RATE_LIMIT": "0",
            "HUBCHAT_REGISTER_RATE_LIMIT": "0",
            "HUBCHAT_MAX_SOCKETS_PER_ADDRESS": "0",
            "HUBCHAT_OPS_PORT": "0",
            "HUBCHAT_LOG_LEVEL": "WARNING",
            "HUBCHAT_LOG_FORMAT": "text",
            "HUBCHAT_ACCESS_TOKEN_TTL_SECS": "7200",
            "HUBCHAT_MAIL_RETRY_BASE_DELAY_SECS": "0.2",
        })
        for pair in getattr(ctx.args, "server_env", None) or []:  # --server-env NAME=VALUE
            name, _, value = pair.partition("=")
            env[name] = value
        return env

    async def start(self) -> None:
        env = self.env()
        self.officer_email = f"officer-{uuid.uuid4().hex[:8]}@bench.example.org"
        officer = Child("create-officer", [sys.executable, "-m", "hubchat", "admin", "create-officer",
                                           "--email", self.officer_email, "--name", "Bench Officer"],
                        {**env, "HUBCHAT_OFFICER_PASSWORD": PASSWORD}, self.ctx.tmp / "create-officer.log")
        rc = await officer.run_to_end(60)
        if rc != 0:
            raise RuntimeError(f"create-officer failed ({rc}):\n{officer.tail()}")
        self.port = free_port()
        child = Child("hubchat", [sys.executable, "-m", "hubchat", "serve", "--port", str(self.port)], env,
                      self.ctx.tmp / "hubchat.log")
        self.children.append(child)
        await child.start()
        self.url = f"http://127.0.0.1:{self.port}"
        await wait_http_ok(self.url + "/readyz", 60, child)

    # ---------------------------------------------------------------- HTTP helpers
    async def api(self, method: str, path: str, token: str | None = None, json: Any = None,
                  expect: tuple[int, ...] = (200, 201)) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.url + path, json=json, headers=headers) as resp:
            body = await resp.json() if resp.content_type == "application/json" else await resp.text()
            if resp.status not in expect:
                raise RuntimeError(f"{method} {path} -> {resp.status}: {body}")
            return body

    async def login(self, email: str) -> dict[str, Any]:
        return await self.api("POST", "/api/auth/login", json={"email": email, "password": PASSWORD})  # type: ignore[no-any-return]

    async def new_user(self, g: int, i: int) -> dict[str, Any]:
        email = f"bench-{self.ctx.run_id}-{g}-{i}@bench.example.org"
        await self.api("POST", "/api/auth/register", json={
            "email": email, "password": PASSWORD, "display_name": f"Bench {g}.{i}", "language": "en",
            "country": "IN", "city": "Aizawl"})
        code = await self.ctx.smtp.code_for(email)
        await self.api("POST", "/api/auth/verify", json={"email": email, "code": code})
        session = await self.login(email)
        return {**session, "email": email}

    async def setup(self) -> None:
        """Users, one approved association per group (user 0 its office bearer), sockets, channel ids."""
        n, size = self.ctx.args.channels, self.ctx.args.group_size
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        officer = await self.login(self.officer_email)
        sem = asyncio.Semaphore(8)

        async def user(g: int, i: int) -> dict[str, Any]:
            async with sem:
                return await self.new_user(g, i)

        users = await asyncio.gather(*(user(g, i) for g in range(n) for i in range(size)))
        groups_users = [users[g * size:(g + 1) * size] for g in range(n)]
        log(f"hubchat: {len(users)} users registered, verified and logged in")

        async def association(g: int) -> str:
            bearer, rest = groups_users[g][0], groups_users[g][1:]
            created = await self.api("POST", "/api/associations", bearer["access_token"], json={
                "name": f"Bench {self.ctx.run_id} group {g}", "country": "IN", "city": "Aizawl",
                "contact_email": bearer["email"], "my_position": "President"})
            association_id = created["association"]["id"]
            await self.api("POST", f"/api/associations/{association_id}/approve", officer["access_token"], json={})
            for member in rest:
                await self.api("POST", f"/api/associations/{association_id}/join", member["access_token"], json={})
                await self.api("POST", f"/api/associations/{association_id}/requests/{member['user']['id']}/approve",
                               bearer["access_token"], json={})
            return str(association_id)

        association_ids = list(await asyncio.gather(*(association(g) for g in range(n))))
        log(f"hubchat: {n} associations approved with {size} active members each")
        clients = await self.connect_all(self.url, [{"token": u["access_token"]} for u in users])
        for g, association_id in enumerate(association_ids):
            members = clients[g * size:(g + 1) * size]
            ack = await members[0].sio.call("channel:list", timeout=20)
            if not isinstance(ack, dict) or "channels" not in ack:
                raise RuntimeError(f"channel:list failed: {ack}")
            found = [c for c in ack["channels"]
                     if c.get("kind") == "association" and c.get("association_id") == association_id]
            if len(found) != 1:
                raise RuntimeError(f"no association channel for {association_id} in {ack['channels']}")
            self.groups.append(Group(found[0]["id"], members))

    async def stop(self) -> None:
        http = getattr(self, "http", None)
        if http is not None:
            await http.close()  # no idle keep-alive connection delays the server's shutdown
        await super().stop()

    def payload(self, group: Group, body: str) -> dict[str, Any]:
        return {"channel_id": group.room, "client_msg_id": uuid.uuid4().hex, "body": body}


# ====================================================================== the run
@dataclass
class StepResult:
    rate: int
    duration: float
    sent: int = 0
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicates: int = 0
    stale: int = 0
    ack_ok: int = 0
    ack_errors: dict[str, int] = field(default_factory=dict)
    unanswered: int = 0  # sends with no ack at the end of the step
    answered_1s: int = 0  # sends answered (stored or refused) within 1 s
    ack_p99_ms: float = float("nan")
    acked_lost: int = 0  # deliveries missing of acknowledged messages
    deliveries_per_s: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    max_ms: float = float("nan")
    send_lag_p99_ms: float = float("nan")
    cpu: dict[str, float] = field(default_factory=dict)
    cpu_secs: float = 0.0  # the interval the cpu % are over
    passed: bool = False

    def cpu_us_per_delivery(self, name: str) -> float:
        """CPU time (µs) the named process spent per delivered message in this step."""
        if name not in self.cpu or not self.delivered:
            return float("nan")
        return self.cpu[name] / 100.0 * self.cpu_secs / self.delivered * 1e6


@dataclass
class TargetResult:
    name: str
    clients: int
    per_message: int  # deliveries expected per message
    setup_secs: float
    settle_secs: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    stop_reason: str = ""

    @property
    def best_rate(self) -> int | None:
        passing = [s.rate for s in self.steps if s.passed]
        return max(passing) if passing else None


@dataclass
class RunContext:
    args: argparse.Namespace
    run_id: str
    prefix: str
    redis_url: str
    tmp: Path
    collector: Collector
    cpu: CpuMeter
    smtp: SmtpSink
    smtp_port: int = 0
    mongo_uri: str = ""
    jwt_secret: str = ""
    redis_version: str = "?"
    mongo_pid: int | None = None
    deadline: float = 0.0


async def probe_fanout(ctx: RunContext, target: Target) -> int:
    """Send one message per group, and learn how many of its members receive it (19 or 20)."""
    col = ctx.collector
    col.reset()
    counts = []
    for group in target.groups:
        seq = next(_SEQ)
        col.probe[seq] = []
        sender = group.members[0]
        ack = await sender.sio.call(target.send_event, target.payload(group, make_body(seq, perf(), 0)), timeout=20)
        if isinstance(ack, dict) and "error" in ack:
            raise RuntimeError(f"{target.name}: probe send refused: {ack}")
        deadline = perf() + 5
        while perf() < deadline and len(col.probe[seq]) < len(group.members):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        receivers = col.probe[seq]
        outsiders = [c for c in receivers if c not in group.members]
        if outsiders:
            raise RuntimeError(f"{target.name}: a message reached clients outside its channel")
        counts.append((len(set(receivers)), sender in receivers))
    sizes = {c for c, _ in counts}
    if len(sizes) != 1 or 0 in sizes:
        raise RuntimeError(f"{target.name}: uneven fan-out in the probe: {counts}")
    col.reset()
    return sizes.pop()


async def run_step(ctx: RunContext, target: Target, rate: int, per_message: int) -> StepResult:
    args = ctx.args
    col = ctx.collector
    col.reset()
    duration = args.duration_secs
    count = max(1, round(rate * duration))
    result = StepResult(rate=rate, duration=duration)
    groups = target.groups
    rng = random.Random(rate)
    cpu_snap = ctx.cpu.snapshot()
    t0 = perf() + 0.05
    for i in range(count):
        due = t0 + i / rate
        delay = due - perf()
        if delay > 0:
            await asyncio.sleep(delay)
        elif i % 16 == 0:
            await asyncio.sleep(0)  # behind schedule: still let receivers run now and then
        group = groups[rng.randrange(len(groups))]
        pool = group.senders or group.members
        sender = pool[rng.randrange(len(pool))]
        seq = next(_SEQ)
        col.expect(seq, per_message)
        col.send_lags.append(perf() - due)
        await sender.sio.emit(target.send_event, target.payload(group, make_body(seq, due, args.body_pad)),
                              callback=functools.partial(col.on_ack_of, seq, perf()))
        result.sent += 1
    end_send = perf()
    while col.outstanding > 0 and perf() < end_send + args.straggler_secs:
        await asyncio.sleep(0.02)
    result.cpu = ctx.cpu.since(cpu_snap)
    result.cpu_secs = perf() - cpu_snap[0]
    result.expected = count * per_message
    result.delivered = col.delivered
    result.lost = col.outstanding
    result.duplicates = col.duplicates
    result.stale = col.stale
    result.ack_ok = col.ack_ok
    result.ack_errors = dict(col.ack_errors)
    result.unanswered = result.sent - len(col.ack_ms)
    result.answered_1s = sum(1 for ms in col.ack_ms if ms <= 1000)
    if col.ack_ms:
        result.ack_p99_ms = percentile(sorted(col.ack_ms), 99)
    result.acked_lost = col.acked_missing()
    if col.delivered:
        result.deliveries_per_s = col.delivered / max(col.last_rx - t0, duration)
        lat = sorted(col.latencies)
        result.p50_ms = percentile(lat, 50) * 1000
        result.p99_ms = percentile(lat, 99) * 1000
        result.max_ms = lat[-1] * 1000
    lags = sorted(col.send_lags)
    result.send_lag_p99_ms = max(0.0, percentile(lags, 99) * 1000)
    result.passed = (result.lost == 0 and not result.ack_errors and result.p99_ms <= args.p99_ms)
    # quiesce: let late acks/deliveries drain so they do not count against the next rate
    quiet_deadline = perf() + 5
    last = (col.delivered, col.stale, col.duplicates, col.ack_ok)
    while perf() < quiet_deadline:
        await asyncio.sleep(0.3)
        now = (col.delivered, col.stale, col.duplicates, col.ack_ok)
        if now == last:
            break
        last = now
    return result


SETTLE_CPU_PCT = 15.0  # the server is quiet below this % of one core over a second
SETTLE_MAX_SECS = 180.0


async def settle(ctx: RunContext) -> float:
    """Wait until the server uses less than SETTLE_CPU_PCT of a core over one second (the work
    its setup left behind, such as presence announcements to everyone who connected, would
    otherwise be measured as the ladder's); returns how long that took (at most SETTLE_MAX_SECS)."""
    started = perf()
    while perf() - started < SETTLE_MAX_SECS:
        snap = ctx.cpu.snapshot()
        await asyncio.sleep(1.0)
        if ctx.cpu.since(snap).get("server", 0.0) < SETTLE_CPU_PCT:
            break
    return perf() - started


async def run_target(ctx: RunContext, target: Target) -> TargetResult:
    args = ctx.args
    log(f"{target.name}: starting")
    await target.start()
    ctx.cpu.pids["server"] = target.server_pid  # type: ignore[assignment]
    if isinstance(target, HubchatTarget) and ctx.mongo_pid:
        ctx.cpu.pids["mongo"] = ctx.mongo_pid
    t_setup = perf()
    log(f"{target.name}: setting up {args.channels} x {args.group_size} clients")
    await target.setup()
    setup_secs = perf() - t_setup
    per_message = await probe_fanout(ctx, target)
    log(f"{target.name}: ready in {setup_secs:.1f} s; each message reaches {per_message} clients")
    settle_secs = await settle(ctx)
    log(f"{target.name}: server quiet after {settle_secs:.1f} s (work left from the setup, e.g. presence)")
    res = TargetResult(target.name, len(target.clients), per_message, setup_secs, settle_secs=settle_secs)
    failures = 0
    for rate in args.rate_list:
        if perf() > ctx.deadline:
            res.stop_reason = "global deadline reached"
            break
        step = await run_step(ctx, target, rate, per_message)
        res.steps.append(step)
        log(f"{target.name}: rate {rate}/s sent {step.sent} deliveries/s {step.deliveries_per_s:.0f} "
            f"p50 {step.p50_ms:.1f} ms p99 {step.p99_ms:.1f} ms max {step.max_ms:.1f} ms lost {step.lost}"
            f"{' errors ' + str(step.ack_errors) if step.ack_errors else ''} "
            f"cpu {', '.join(f'{k} {v:.0f}%' for k, v in step.cpu.items())}")
        dead = [c.name for c in target.clients if c.disconnected]
        if dead:
            res.stop_reason = f"{len(dead)} clients were disconnected"
            break
        if step.lost or step.ack_errors:
            res.stop_reason = f"rate {rate}: " + ("deliveries lost" if step.lost else f"error acks {step.ack_errors}")
            break
        if not step.passed:
            failures += 1
            if failures >= 2:
                res.stop_reason = f"p99 over {args.p99_ms:g} ms twice"
                break
    else:
        res.stop_reason = res.stop_reason or "end of the ladder"
    return res


# ====================================================================== reporting
def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN -> "-"


PER_DELIVERY = ("server", "mongo", "redis")  # CPU per delivered message, µs (issue #9)
CPU_COLUMNS = (("server", "CPU server"), ("mongo", "CPU nx-27017"), ("redis", "CPU redis"),
               ("clients", "CPU clients"), ("others", "CPU others"))


def target_table(res: TargetResult) -> str:
    cols = [(key, title) for key, title in CPU_COLUMNS if any(key in s.cpu for s in res.steps)]
    lines = [
        f"**{res.name}** — {res.clients} clients, each message delivered to {res.per_message}; "
        f"setup {res.setup_secs:.0f} s, then quiet after {res.settle_secs:.0f} s; stopped: {res.stop_reason}",
        "",
        "| rate (msg/s) | sent | deliveries/s | p50 ms | p99 ms | max ms | lost | send lag p99 ms | "
        + "".join(f"{title} | " for _, title in cols)
        + "".join(f"{title} µs/delivery | " for key, title in cols if key in PER_DELIVERY) + "pass |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(cols)
        + "---:|" * sum(key in PER_DELIVERY for key, _ in cols) + ":---:|",
    ]
    for s in res.steps:
        cpu = "".join(f"{fmt(s.cpu[k], 0)}% | " if k in s.cpu else "- | " for k, _ in cols)
        cpu += "".join(f"{fmt(s.cpu_us_per_delivery(k), 0)} | " for k, _ in cols if k in PER_DELIVERY)
        lost = str(s.lost) + (f" (+error acks {s.ack_errors})" if s.ack_errors else "")
        lines.append(f"| {s.rate} | {s.sent} | {s.deliveries_per_s:.0f} | {fmt(s.p50_ms)} | {fmt(s.p99_ms)} | "
                     f"{fmt(s.max_ms)} | {lost} | {fmt(s.send_lag_p99_ms)} | {cpu}{'yes' if s.passed else 'no'} |")
    return "\n".join(lines)


def comparison(results: dict[str, TargetResult], p99_ms: float) -> str:
    hub, echo = results.get("hubchat"), results.get("echo")
    if not hub or not echo:
        return ""
    lines = [
        "| rate (msg/s) | hubchat deliveries/s | hubchat p50 / p99 ms | echo deliveries/s | echo p50 / p99 ms |",
        "|---:|---:|---:|---:|---:|",
    ]
    echo_by_rate = {s.rate: s for s in echo.steps}
    hub_by_rate = {s.rate: s for s in hub.steps}
    for rate in sorted(set(echo_by_rate) | set(hub_by_rate)):
        h, e = hub_by_rate.get(rate), echo_by_rate.get(rate)
        hs = f"{h.deliveries_per_s:.0f} | {fmt(h.p50_ms)} / {fmt(h.p99_ms)}" if h else "- | -"
        es = f"{e.deliveries_per_s:.0f} | {fmt(e.p50_ms)} / {fmt(e.p99_ms)}" if e else "- | -"
        lines.append(f"| {rate} | {hs} | {es} |")
    hb, eb = hub.best_rate, echo.best_rate
    lines.append("")
    lines.append(f"- Highest rate with p99 < {p99_ms:g} ms: hubchat **{hb if hb else 'none'}** msg/s "
                 f"({hb * hub.per_message if hb else 0} deliveries/s), echo baseline **{eb if eb else 'none'}** msg/s "
                 f"({eb * echo.per_message if eb else 0} deliveries/s)"
                 + (f"; ratio hubchat/echo = **{hb / eb:.2f}**" if hb and eb else "") + ".")
    common = sorted(r for r in set(echo_by_rate) & set(hub_by_rate)
                    if hub_by_rate[r].passed and echo_by_rate[r].passed)
    if not common:
        common = sorted(set(echo_by_rate) & set(hub_by_rate))[:1]
    if common:
        r = common[-1]
        h, e = hub_by_rate[r], echo_by_rate[r]
        ratio = h.p50_ms / e.p50_ms if e.p50_ms == e.p50_ms and e.p50_ms > 0 else float("nan")
        lines.append(f"- p50 at {r} msg/s (highest rate both passed): hubchat {fmt(h.p50_ms)} ms vs echo "
                     f"{fmt(e.p50_ms)} ms; ratio hubchat/echo = **{fmt(ratio, 2)}** "
                     f"(p99 {fmt(h.p99_ms)} vs {fmt(e.p99_ms)} ms).")
        lowest = min(set(echo_by_rate) & set(hub_by_rate))
        h, e = hub_by_rate[lowest], echo_by_rate[lowest]
        if lowest != r and e.p50_ms > 0:
            lines.append(f"- p50 at {lowest} msg/s (lightest load): hubchat {fmt(h.p50_ms)} ms vs echo "
                         f"{fmt(e.p50_ms)} ms; ratio = **{fmt(h.p50_ms / e.p50_ms, 2)}**.")
    return "\n".join(lines)


def load_now() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine_info() -> dict[str, str]:
    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    for line in run(["free", "-g"]).splitlines():
        if line.startswith("Mem:"):
            mem = line.split()[1] + " GiB"
    load = load_now()
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for dist in ("python-socketio", "python-engineio", "aiohttp", "redis"):
        with contextlib.suppress(PackageNotFoundError):
            versions.append(f"{dist} {version(dist)}")
    return {"date": run(["date", "-u"]), "nproc": run(["nproc"]), "model": model, "mem": mem, "load": load,
            "python": platform.python_version(), "versions": ", ".join(versions), "kernel": platform.release()}


def report(ctx: RunContext, results: dict[str, TargetResult], info: dict[str, str], command: str) -> str:
    a = ctx.args
    parts = [
        f"## {info['date']} — fan-out, {a.channels} channels x {a.group_size} clients",
        "",
        f"- Machine: {info['nproc']} CPUs ({info['model']}), {info['mem']} RAM, Linux {info['kernel']}; "
        f"load average {info['load']} at start, {load_now()} at the end",
        f"- Software: Python {info['python']}; {info['versions']}; Redis {ctx.redis_version} on 127.0.0.1",
        f"- Command: `{command}`",
        f"- Load: rate = messages/s in total across all channels, open loop (fixed intervals, acks not "
        f"awaited), {a.duration_secs:g} s per rate, each from a random member of a random channel, body of "
        f"~{a.body_pad + 30} characters. Latency = receive time - scheduled send time, all measured in the one "
        f"client process. lost = deliveries not received within {a.straggler_secs:g} s after the last send. "
        f"pass = p99 < {a.p99_ms:g} ms, nothing lost, no error acks; the ladder stops at the first loss or "
        f"the second failed p99. send lag = how late the sender itself was against its schedule "
        f"(a high value means the client process was saturated). CPU = % of one core over the step, "
        f"per process; \"others\" = everything else on the machine (other users' load: noise).",
        f"- hubchat: HUBCHAT_MESSAGE_RATE_LIMIT=0, log level WARNING, embedded nx-27017 MongoDB-wire server "
        f"(started by the benchmark), Redis manager and bus on the same Redis; each group is an approved "
        f"association whose association channel has {a.group_size} active members. echo: "
        f"bench/echo_server.py (socketio.AsyncServer + AsyncRedisManager on the same Redis, no auth, no "
        f"storage).",
        "",
    ]
    for res in results.values():
        parts += [target_table(res), ""]
    comp = comparison(results, a.p99_ms)
    if comp:
        parts += ["**hubchat vs echo baseline**", "", comp, ""]
    parts += [
        f"Caveats: all {a.channels * a.group_size} clients run in this one Python process, so the "
        "benchmark's own CPU (\"CPU clients\") is part of what is measured; on a machine with few cores the "
        "clients, the server, nx-27017 and Redis compete for the same cores. Single run on a shared "
        "machine: expect noise of a few ms on p50 and more on p99.",
        "",
    ]
    return "\n".join(parts)


# ====================================================================== main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Fan-out benchmark: hubchat vs a bare python-socketio echo server.")
    p.add_argument("--channels", type=int, default=None, help="channels (groups) (default 10; --quick 3)")
    p.add_argument("--group-size", type=int, default=20, help="clients per channel (default 20)")
    p.add_argument("--rates", default=None, help=f"messages/s ladder (default {DEFAULT_RATES}; --quick {QUICK_RATES})")
    p.add_argument("--duration-secs", type=float, default=None, help="seconds per rate (default 5; --quick 3)")
    p.add_argument("--straggler-secs", type=float, default=2.0)
    p.add_argument("--p99-ms", type=float, default=100.0)
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for hubchat serve (repeatable), e.g. HUBCHAT_CHAT_MAX_INFLIGHT=4")
    p.add_argument("--body-pad", type=int, default=40, help="filler characters in each body")
    p.add_argument("--targets", default="hubchat,echo", help="which servers, in order (hubchat,echo)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--results", default=str(DEFAULT_RESULTS), help="Markdown file to append to")
    p.add_argument("--no-record", action="store_true", help="print only; do not append to the results file")
    p.add_argument("--max-minutes", type=float, default=25.0, help="hard limit for the whole run")
    p.add_argument("--quick", action="store_true", help="about a minute: 3 channels, rates 20,100,400, 3 s each")
    p.add_argument("--keep-tmp", metavar="DIR", default=None,
                   help="keep server logs and data in DIR instead of a temporary directory")
    p.add_argument("--nodes", type=int, choices=(1, 2), default=1,
                   help="2: each server's ladder on one node, then on two nodes (senders on node a, receivers "
                        "split across a and b); see run_two_nodes")
    args = p.parse_args(argv)
    args.channels = args.channels or (3 if args.quick else 10)
    args.rates = args.rates or (QUICK_RATES if args.quick else DEFAULT_RATES)
    args.duration_secs = args.duration_secs or (3.0 if args.quick else 5.0)
    args.rate_list = [int(r) for r in args.rates.split(",") if r.strip()]
    if not args.rate_list or min(args.rate_list) <= 0 or max(args.rate_list) > 20000:
        p.error("--rates: positive integers up to 20000")
    if args.channels < 1 or args.group_size < 2 or args.channels * args.group_size > 1000:
        p.error("--channels/--group-size: at least 1 x 2 and at most 1000 clients")
    if not 0.5 <= args.duration_secs <= 60:
        p.error("--duration-secs: between 0.5 and 60")
    args.target_list = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not args.target_list or set(args.target_list) - {"hubchat", "echo"}:
        p.error("--targets: hubchat and/or echo")
    return args


async def start_mongo(ctx: RunContext) -> Child:
    """The nx-27017 MongoDB-wire server, as hubchat.embedded_mongo starts it, but in its own
    session (a Ctrl-C in the terminal must not stop it before hubchat) and shared with
    ``hubchat admin create-officer``."""
    from pymongo import AsyncMongoClient
    from pymongo.errors import PyMongoError

    data = ctx.tmp / "mongo"
    (data / "store").mkdir(parents=True, exist_ok=True)
    port = free_port()
    # The same child hubchat starts (with its store fixes, in the same server mode).
    from hubchat.embedded_mongo import LAUNCH_VARIANTS, SERVER_MODES

    child = Child("nx-27017", [sys.executable, "-c", LAUNCH_VARIANTS["hubchat"],
                               "--data-dir", str(data / "store"), "--host", "127.0.0.1", "--port", str(port),
                               "--log-file", str(data / "nx-27017.log"), "--pid-file", str(data / "nx-27017.pid"),
                               *SERVER_MODES["threaded"]],
                  dict(os.environ), data / "stdout.log")
    await child.start()
    ctx.mongo_uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    ctx.mongo_pid = child.pid
    deadline = perf() + 30
    while True:
        if child.proc is None or child.proc.returncode is not None:
            raise RuntimeError(f"nx-27017 exited during start-up:\n{child.tail()}")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(ctx.mongo_uri, serverSelectionTimeoutMS=300)
        try:
            await client.admin.command("ping")
            return child
        except PyMongoError:
            if perf() > deadline:
                await child.stop()
                raise RuntimeError("nx-27017 did not answer within 30 s") from None
            await asyncio.sleep(0.1)
        finally:
            await client.close()


@contextlib.asynccontextmanager
async def infrastructure(ctx: RunContext) -> AsyncIterator[None]:
    """SMTP sink, embedded MongoDB-wire server (hubchat only) and Redis cleanup, torn down in reverse."""
    from aiosmtpd.controller import Controller

    redis = aioredis.from_url(ctx.redis_url)
    try:
        await redis.ping()
    except Exception as exc:
        raise SystemExit(f"Redis is not reachable at {ctx.redis_url}: {exc} (try scripts/ensure-redis.sh)") from exc
    server_info = await redis.info("server")
    ctx.redis_version = str(server_info.get("redis_version", "?"))
    if server_info.get("process_id"):
        ctx.cpu.pids["redis"] = int(server_info["process_id"])
    ctx.cpu.pids["clients"] = os.getpid()
    controller = None
    mongo = None
    try:
        if "hubchat" in ctx.args.target_list:
            ctx.smtp_port = free_port()
            controller = Controller(ctx.smtp, hostname="127.0.0.1", port=ctx.smtp_port)
            controller.start()
            mongo = await start_mongo(ctx)
        yield
    finally:
        if mongo is not None:
            await mongo.stop()
        if controller is not None:
            controller.stop()
        with contextlib.suppress(Exception):
            keys = [k async for k in redis.scan_iter(match=ctx.prefix + "*", count=1000)]
            for i in range(0, len(keys), 500):
                await redis.delete(*keys[i:i + 500])
            if keys:
                log(f"removed {len(keys)} Redis keys under {ctx.prefix}")
        await redis.aclose()


def cancel_on_signals(what: str) -> None:
    """SIGINT/SIGTERM cancel the running task once (its cleanup then runs); later signals only log."""
    task = asyncio.current_task()
    assert task is not None
    signals: list[str] = []

    def on_signal(name: str) -> None:
        if signals:
            log(f"{name}: already stopping, please wait for the cleanup (bounded)")
            return
        signals.append(name)
        log(f"{name}: {what}, then cleaning up")
        task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig.name)


def run_main(amain: Callable[[argparse.Namespace, str], Coroutine[Any, Any, int]], args: argparse.Namespace) -> int:
    """Run a benchmark's ``amain(args, command)``; the exact command line goes into the results."""
    exe = os.path.relpath(sys.executable, os.getcwd()) if sys.executable.startswith(os.getcwd()) else sys.executable
    command = " ".join(shlex.quote(x) for x in [exe, *sys.argv])
    try:
        return asyncio.run(amain(args, command))
    except KeyboardInterrupt:
        log("interrupted; cleaned up")
        return 130
    except asyncio.CancelledError:
        log("stopped by a signal; cleaned up")
        return 130


async def amain(args: argparse.Namespace, command: str) -> int:
    cancel_on_signals("stopping the load")
    info = machine_info()
    run_id = uuid.uuid4().hex[:8]
    results: dict[str, TargetResult] = {}
    with tempfile.TemporaryDirectory(prefix="hubchat-bench-") as tmp_dir:
        tmp = args.keep_tmp or tmp_dir
        if args.keep_tmp:
            Path(tmp).mkdir(parents=True, exist_ok=True)
            log(f"server logs and data under {tmp}")
        ctx = RunContext(args=args, run_id=run_id, prefix=f"bench-{run_id}:", redis_url=args.redis_url,
                         tmp=Path(tmp), collector=Collector(), cpu=CpuMeter(), smtp=SmtpSink(),
                         jwt_secret=secrets.token_urlsafe(36)[:48])
        ctx.deadline = perf() + args.max_minutes * 60
        try:
            async with asyncio.timeout(args.max_minutes * 60 + 60), infrastructure(ctx):
                skip_sender = False
                for name in args.target_list:
                    target: Target = HubchatTarget(ctx) if name == "hubchat" else EchoTarget(ctx, skip_sender)
                    try:
                        res = await run_target(ctx, target)
                    finally:
                        log(f"{name}: stopping")
                        await target.stop()
                        ctx.cpu.pids.pop("server", None)
                        ctx.cpu.pids.pop("mongo", None)
                    results[name] = res
                    if name == "hubchat":
                        skip_sender = res.per_message == args.group_size - 1
        finally:
            if results:
                text = report(ctx, results, info, command)
                print(text)
                if not args.no_record and len(results) == len(args.target_list):
                    path = Path(args.results)
                    if not path.exists():
                        path.write_text("# Benchmark results\n\nNewest last. Written by the scripts in bench/ "
                                        "(see bench/README.md).\n\n")
                    with path.open("a") as fh:
                        fh.write("\n" + text)
                    log(f"appended to {path}")
    return 0


# ====================================================================== two nodes (--nodes 2)
# Each server runs its ladder twice in one run: first on one node (every client on node a), then
# on two (a second process on the same store and Redis; the odd-numbered members of every group
# reconnect to node b).  In both, only the even-numbered members (on node a) send, so in the
# second ladder every delivery to node b crossed Redis between the nodes.  For the echo baseline
# the second node is a second echo_server.py on the same Redis channel.
class NodeCollector(Collector):
    """A Collector that also keeps each delivery's latency by the receiving client's node."""

    def __init__(self) -> None:
        super().__init__()
        self.by_node: dict[str, list[float]] = {}

    def on_body(self, body: Any, client: Any) -> None:
        before = self.delivered
        super().on_body(body, client)
        if self.delivered > before:
            self.by_node.setdefault(getattr(client, "node", "a"), []).append(self.latencies[-1])


@dataclass
class NodesResult:
    target: str
    nodes: int
    res: TargetResult
    by_node: dict[int, dict[str, list[float]]] = field(default_factory=dict)  # rate -> node -> sorted latencies


async def start_node_b(target: Target) -> str:
    """A second server process of the same kind on the same store and Redis; its URL."""
    ctx = target.ctx
    port = free_port()
    if isinstance(target, HubchatTarget):
        argv, env, ready = [sys.executable, "-m", "hubchat", "serve", "--port", str(port)], target.env(), "/readyz"
    else:
        argv = [sys.executable, str(BENCH_DIR / "echo_server.py"), "--port", str(port), "--redis-url",
                ctx.redis_url, "--channel", ctx.prefix + "echo:socketio"]
        env, ready = dict(os.environ), "/healthz"
    child = Child(f"{target.name}-b", argv, env, ctx.tmp / f"{target.name}-b.log")
    target.children.append(child)
    await child.start()
    url = f"http://127.0.0.1:{port}"
    await wait_http_ok(url + ready, 60, child)
    ctx.cpu.pids["server b"] = child.pid  # type: ignore[assignment]
    return url


async def move_half_to(target: Target, url_b: str) -> None:
    """The odd-numbered members of every group close their socket on node a and connect to node b
    with the same credentials (hubchat: the same token; the node's connect hook joins the rooms)."""
    sem = asyncio.Semaphore(16)

    async def move(group: Group, index: int) -> None:
        old = group.members[index]
        auth = old.sio.connection_auth
        await old.close()
        client = Client(target.ctx.collector, target.extract, old.name + "-b")
        client.node = "b"  # type: ignore[attr-defined]
        async with sem:
            await client.connect(url_b, auth)
            if isinstance(target, EchoTarget):
                ack = await client.sio.call("join", {"room": group.room}, timeout=20)
                if not (isinstance(ack, dict) and ack.get("ok")):
                    raise RuntimeError(f"echo join on node b failed: {ack}")
        target.clients[target.clients.index(old)] = client
        group.members[index] = client

    await asyncio.gather(*(move(g, i) for g in target.groups for i in range(1, len(g.members), 2)))
    await asyncio.sleep(1.0)  # let rooms settle on both nodes before the probe


async def node_ladder(ctx: RunContext, target: Target, nodes: int) -> NodesResult:
    for group in target.groups:
        group.senders = group.members[0::2]  # on node a in both ladders
    per_message = await probe_fanout(ctx, target)
    out = NodesResult(target.name, nodes, TargetResult(f"{target.name}, {nodes} node{'s' if nodes > 1 else ''}",
                                                       len(target.clients), per_message, 0.0))
    res = out.res
    failures = 0
    for rate in ctx.args.rate_list:
        if perf() > ctx.deadline:
            res.stop_reason = "global deadline reached"
            break
        step = await run_step(ctx, target, rate, per_message)
        res.steps.append(step)
        collector = ctx.collector
        out.by_node[rate] = {node: sorted(v) for node, v in getattr(collector, "by_node", {}).items()}
        log(f"{res.name}: rate {rate}/s deliveries/s {step.deliveries_per_s:.0f} p50 {step.p50_ms:.1f} "
            f"p99 {step.p99_ms:.1f} ms lost {step.lost} cpu {', '.join(f'{k} {v:.0f}%' for k, v in step.cpu.items())}")
        if [c for c in target.clients if c.disconnected]:
            res.stop_reason = "clients were disconnected"
            break
        if step.lost or step.ack_errors:
            res.stop_reason = f"rate {rate}: " + ("deliveries lost" if step.lost else f"error acks {step.ack_errors}")
            break
        if not step.passed:
            failures += 1
            if failures >= 2:
                res.stop_reason = f"p99 over {ctx.args.p99_ms:g} ms twice"
                break
    else:
        res.stop_reason = res.stop_reason or "end of the ladder"
    return out


def nodes_table(results: list[NodesResult]) -> str:
    keys = ["server", "server b", "mongo", "redis", "clients", "others"]
    lines = ["| server | nodes | rate (msg/s) | deliveries/s | p50 / p99 ms | on node a: p50 / p99 ms | "
             "on node b: p50 / p99 ms | lost | " + " | ".join(f"CPU {k}" for k in keys) + " | pass |",
             "|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(keys) + ":---:|"]
    for r in results:
        for s in r.res.steps:
            per = []
            for node in ("a", "b"):
                lat = r.by_node.get(s.rate, {}).get(node, [])
                per.append(f"{fmt(percentile(lat, 50) * 1000)} / {fmt(percentile(lat, 99) * 1000)}" if lat else "-")
            cpu = " | ".join(f"{fmt(s.cpu[k], 0)}%" if k in s.cpu else "-" for k in keys)
            lines.append(f"| {r.target} | {r.nodes} | {s.rate} | {s.deliveries_per_s:.0f} | {fmt(s.p50_ms)} / "
                         f"{fmt(s.p99_ms)} | {per[0]} | {per[1]} | {s.lost} | {cpu} | {'yes' if s.passed else 'no'} |")
    lines.append("")
    for r in results:
        best = r.res.best_rate
        lines.append(f"- {r.res.name}: highest rate with p99 < {100:g} ms **{best or 'none'}** msg/s "
                     f"({(best or 0) * r.res.per_message} deliveries/s); stopped: {r.res.stop_reason}.")
    return "\n".join(lines)


async def amain_nodes(args: argparse.Namespace, command: str) -> int:
    cancel_on_signals("stopping the load")
    info = machine_info()
    run_id = uuid.uuid4().hex[:8]
    results: list[NodesResult] = []
    with tempfile.TemporaryDirectory(prefix="hubchat-bench-") as tmp_dir:
        tmp = args.keep_tmp or tmp_dir
        if args.keep_tmp:
            Path(tmp).mkdir(parents=True, exist_ok=True)
        ctx = RunContext(args=args, run_id=run_id, prefix=f"bench-{run_id}:", redis_url=args.redis_url,
                         tmp=Path(tmp), collector=NodeCollector(), cpu=CpuMeter(), smtp=SmtpSink(),
                         jwt_secret=secrets.token_urlsafe(36)[:48])
        ctx.deadline = perf() + args.max_minutes * 60
        try:
            async with asyncio.timeout(args.max_minutes * 60 + 60), infrastructure(ctx):
                skip_sender = False
                for name in args.target_list:
                    target: Target = HubchatTarget(ctx) if name == "hubchat" else EchoTarget(ctx, skip_sender)
                    try:
                        log(f"{name}: starting node a")
                        await target.start()
                        ctx.cpu.pids["server"] = target.server_pid  # type: ignore[assignment]
                        if isinstance(target, HubchatTarget) and ctx.mongo_pid:
                            ctx.cpu.pids["mongo"] = ctx.mongo_pid
                        await target.setup()
                        results.append(await node_ladder(ctx, target, 1))
                        if name == "hubchat":
                            skip_sender = results[-1].res.per_message == args.group_size - 1
                        log(f"{name}: starting node b; moving half of every group to it")
                        await move_half_to(target, await start_node_b(target))
                        results.append(await node_ladder(ctx, target, 2))
                    finally:
                        log(f"{name}: stopping")
                        await target.stop()
                        for key in ("server", "server b", "mongo"):
                            ctx.cpu.pids.pop(key, None)
        finally:
            if results:
                text = "\n".join([
                    f"## {info['date']} — fan-out on one node and on two nodes, {args.channels} channels x "
                    f"{args.group_size} clients",
                    "",
                    f"- Machine: {info['nproc']} CPUs ({info['model']}), {info['mem']} RAM, Linux {info['kernel']}; "
                    f"load average {info['load']} at start, {load_now()} at the end",
                    f"- Software: Python {info['python']}; {info['versions']}; Redis {ctx.redis_version} on 127.0.0.1",
                    f"- Command: `{command}`",
                    "- Each server: its ladder on one node (all clients on node a), then a second process of the "
                    "same server on the same store and Redis, the odd-numbered members of every group "
                    "reconnected to it, and the ladder again. In both ladders only the even-numbered members "
                    "(on node a) send, so on two nodes every delivery to node b crossed Redis pub/sub "
                    "(python-socketio's AsyncRedisManager) from node a. Latency and pass as in fanout.py; "
                    "\"on node a/b\": deliveries to clients on that node. CPU: % of one core per process.",
                    "",
                    nodes_table(results),
                    "",
                    f"Caveats: all clients, both nodes, the store and Redis share this machine's {info['nproc']} "
                    "cores with other users' work (CPU others); see the notes below the table.",
                    "",
                ])
                print(text)
                if not args.no_record:
                    with Path(args.results).open("a") as fh:
                        fh.write("\n" + text)
                    log(f"appended to {args.results}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(amain_nodes if args.nodes == 2 else amain, args)


if __name__ == "__main__":
    sys.exit(main())
