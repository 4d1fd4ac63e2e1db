"""Server memory per idle authenticated socket: hubchat against the bare python-socketio echo server.

What it measures (a benchmark, not a timed test):

* It starts, like ``bench/fanout.py`` (whose helpers it imports), an SMTP sink, the embedded
  nx-27017 MongoDB-wire server and ``python -m hubchat serve`` (``HUBCHAT_OPS_PORT=0``, auth and
  registration limits off, ``HUBCHAT_MAX_SOCKETS_PER_USER=0`` and
  ``HUBCHAT_MAX_SOCKETS_PER_ADDRESS=0``: every socket comes from 127.0.0.1 and a few users hold
  them all), then builds through the public API one approved association of ``--users`` verified
  members (fanout.py's setup: registration, email code, login, join, approval), so that every
  socket joins a real association channel room as well as its user's room.
* It connects ``--counts`` (1,000 then 5,000 in all) sockets, spread round-robin over the users'
  access tokens, with a raw Engine.IO v4 / Socket.IO v5 websocket client on aiohttp (open packet,
  then ``40{"token": ...}`` exactly as the web client's socket.io-client sends its ``auth``; an
  answer other than ``40{"sid": ...}`` is a failure).  Each client socket answers the server's
  pings and nothing else: an idle socket.  (A raw client is far lighter than
  ``socketio.AsyncClient`` in this process; the server cannot tell the difference.)
* After each count it waits ``--idle-secs`` (default 30: at least one ping round of the 25 s
  interval) and reads the server's resident memory (``VmRSS`` in ``/proc/PID/status``).
  KB per socket = (RSS now - RSS before the first benchmark socket) / sockets.
* Then the same against ``bench/echo_server.py`` (no authentication, no storage; each socket also
  joins one room, like the association channel above) in the same run: the baseline.

It prints Markdown and appends a dated section to ``bench/RESULTS.md`` (``--no-record``: not).
Bounded (at most 10,000 sockets, ``--max-minutes``); processes, this run's Redis keys and the
temporary directory are removed at the end, also on Ctrl-C, SIGTERM and errors.

Run:  ``.venv/bin/python bench/socket_memory.py [--counts 1000,5000] [--users 20] [--no-record]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import secrets
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import fanout  # noqa: E402  (bench/ is not a package)
from fanout import (  # noqa: E402
    Collector,
    CpuMeter,
    EchoTarget,
    HubchatTarget,
    RunContext,
    SmtpSink,
    infrastructure,
    load_now,
    log,
    machine_info,
    perf,
)

DEFAULT_RESULTS = BENCH_DIR / "RESULTS.md"
MAX_SOCKETS = 10_000


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


class RawSocket:
    """One idle Socket.IO client over a raw Engine.IO v4 websocket: connects, authenticates,
    answers pings (``2`` → ``3``) and drops everything else."""

    def __init__(self, http: aiohttp.ClientSession, url: str):
        self.http = http
        self.url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.closed_by_server = False

    async def connect(self, auth: dict[str, Any] | None, join_room: str | None = None) -> None:
        ws = await self.http.ws_connect(self.url, autoping=True, max_msg_size=1 << 20)
        self.ws = ws
        opened = await ws.receive_str(timeout=20)
        if not opened.startswith("0{"):
            raise RuntimeError(f"no Engine.IO open packet: {opened[:80]!r}")
        await ws.send_str("40" + (json.dumps(auth, separators=(",", ":")) if auth is not None else ""))
        while True:
            answer = await ws.receive_str(timeout=30)
            if answer == "2":
                await ws.send_str("3")
                continue
            if answer.startswith("40{"):
                break
            raise RuntimeError(f"Socket.IO connect refused: {answer[:200]!r}")
        if join_room is not None:  # the echo server's join, with an ack id
            await ws.send_str("420" + json.dumps(["join", {"room": join_room}]))
            while True:
                answer = await ws.receive_str(timeout=30)
                if answer == "2":
                    await ws.send_str("3")
                    continue
                if answer.startswith("430"):
                    break
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "2":
                await self.ws.send_str("3")
        self.closed_by_server = True

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)


@dataclass
class Sample:
    sockets: int
    rss_kib: int
    threads: int


@dataclass
class MemoryResult:
    name: str
    base_kib: int = 0
    base_sockets: int = 0  # sockets the setup left open (hubchat: one per member)
    samples: list[Sample] = field(default_factory=list)
    connect_secs: dict[int, float] = field(default_factory=dict)
    failures: int = 0
    dropped: int = 0
    others_pct: float = float("nan")  # CPU of other processes on the machine, % of one core


async def settle(idle_secs: float) -> None:
    await asyncio.sleep(idle_secs)


async def measure(ctx: RunContext, name: str, pid: int, url: str, auths: list[dict[str, Any] | None],
                  join_room: str | None, base_sockets: int) -> MemoryResult:
    a = ctx.args
    res = MemoryResult(name, base_sockets=base_sockets)
    await settle(a.settle_secs)
    res.base_kib = rss_kib(pid)
    ctx.cpu.pids["server"] = pid
    cpu_snap = ctx.cpu.snapshot()
    log(f"{name}: RSS {res.base_kib / 1024:.1f} MiB before the benchmark sockets ({base_sockets} open)")
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    sockets: list[RawSocket] = []
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as http:
        try:
            sem = asyncio.Semaphore(a.concurrency)

            async def one(i: int) -> None:
                sock = RawSocket(http, url)
                sockets.append(sock)
                async with sem:
                    try:
                        await sock.connect(auths[i % len(auths)], join_room)
                    except Exception as exc:  # counted; the run goes on
                        res.failures += 1
                        if res.failures <= 3:
                            log(f"{name}: socket {i} failed: {exc!r}")

            done = 0
            for count in a.count_list:
                if perf() > ctx.deadline:
                    log(f"{name}: global deadline reached before {count} sockets")
                    break
                t0 = perf()
                await asyncio.gather(*(one(i) for i in range(done, count)))
                res.connect_secs[count] = perf() - t0
                done = count
                log(f"{name}: {count} sockets connected in {res.connect_secs[count]:.1f} s "
                    f"({res.failures} failures); idle {a.idle_secs:g} s")
                await settle(a.idle_secs)
                gc.collect()
                res.samples.append(Sample(count, rss_kib(pid), threads_of(pid)))
                log(f"{name}: RSS {res.samples[-1].rss_kib / 1024:.1f} MiB with {count} sockets: "
                    f"{(res.samples[-1].rss_kib - res.base_kib) / max(1, count):.1f} KiB per socket")
            res.dropped = sum(1 for s in sockets if s.closed_by_server)
            res.others_pct = ctx.cpu.since(cpu_snap).get("others", float("nan"))
        finally:
            for chunk in range(0, len(sockets), 500):
                await asyncio.gather(*(s.close() for s in sockets[chunk:chunk + 500]))
    return res


async def run_hubchat(ctx: RunContext) -> MemoryResult:
    target = HubchatTarget(ctx)
    try:
        await target.start()
        await target.setup()  # one association of --users members, one socketio client each
        tokens = [{"token": c.sio.connection_auth["token"]} for c in target.clients]
        assert target.server_pid is not None
        if ctx.mongo_pid:
            ctx.cpu.pids["mongo"] = ctx.mongo_pid
        return await measure(ctx, "hubchat", target.server_pid, target.url, tokens, None,
                             len(target.clients))
    finally:
        log("hubchat: stopping")
        ctx.cpu.pids.pop("server", None)
        await target.stop()


async def run_echo(ctx: RunContext) -> MemoryResult:
    target = EchoTarget(ctx, skip_sender=False)
    try:
        await target.start()
        assert target.server_pid is not None
        return await measure(ctx, "echo", target.server_pid, target.url, [None], "room-0", 0)
    finally:
        log("echo: stopping")
        ctx.cpu.pids.pop("server", None)
        await target.stop()


def report(ctx: RunContext, results: list[MemoryResult], info: dict[str, str], command: str) -> str:
    a = ctx.args
    lines = [
        f"## {info['date']} — RSS per idle authenticated socket (socket_memory.py)",
        "",
        f"- Machine: {info['nproc']} CPUs ({info['model']}), {info['mem']} RAM, Linux {info['kernel']}; "
        f"load average {info['load']} at start, {load_now()} at the end; CPU of other processes "
        f"(other engineers' tests and builds) while measuring: "
        + ", ".join(f"{r.name} {r.others_pct:.0f} %" for r in results) + " of one core",
        f"- Software: Python {info['python']}; {info['versions']}; Redis {ctx.redis_version} on 127.0.0.1",
        f"- Command: `{command}`",
        f"- Sockets: raw Engine.IO v4 websocket clients in the benchmark process, idle (they answer pings); "
        f"hubchat: authenticated with `{{\"token\": <access token>}}` round-robin over {a.users} members of one "
        f"approved association (each socket in its user room and the association channel room), "
        f"HUBCHAT_MAX_SOCKETS_PER_USER=0; echo: `bench/echo_server.py`, each socket joins one room. "
        f"RSS = VmRSS of the server process after {a.idle_secs:g} s idle at each count.",
        "",
        "| server | sockets | RSS MiB | growth MiB | KiB per socket | threads | connect s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.name} | 0 (+{r.base_sockets} setup) | {r.base_kib / 1024:.1f} | – | – | – | – |")
        for s in r.samples:
            growth = s.rss_kib - r.base_kib
            lines.append(f"| {r.name} | {s.sockets} | {s.rss_kib / 1024:.1f} | {growth / 1024:.1f} | "
                         f"**{growth / s.sockets:.1f}** | {s.threads} | {r.connect_secs.get(s.sockets, 0):.1f} |")
    lines.append("")
    for r in results:
        parts = [f"{r.failures} sockets failed to connect" if r.failures else "every socket connected",
                 f"{r.dropped} closed by the server during the run" if r.dropped else "none closed by the server"]
        if len(r.samples) >= 2:
            lo, hi = r.samples[0], r.samples[-1]
            marginal = (hi.rss_kib - lo.rss_kib) / max(1, hi.sockets - lo.sockets)
            parts.append(f"marginal {lo.sockets}→{hi.sockets}: {marginal:.1f} KiB per socket")
        lines.append(f"- {r.name}: " + "; ".join(parts) + ".")
    lines.append("")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Server RSS per idle authenticated socket: hubchat vs echo.")
    p.add_argument("--counts", default="1000,5000", help="socket counts, ascending (default 1000,5000)")
    p.add_argument("--users", type=int, default=20, help="members whose tokens the sockets use (default 20)")
    p.add_argument("--idle-secs", type=float, default=30.0, help="idle wait before each reading (default 30)")
    p.add_argument("--settle-secs", type=float, default=5.0, help="wait before the baseline reading")
    p.add_argument("--concurrency", type=int, default=32, help="connects in flight (default 32)")
    p.add_argument("--targets", default="hubchat,echo", help="which servers, in order (hubchat,echo)")
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for hubchat serve (repeatable)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--results", default=str(DEFAULT_RESULTS), help="Markdown file to append to")
    p.add_argument("--no-record", action="store_true", help="print only; do not append to the results file")
    p.add_argument("--max-minutes", type=float, default=15.0, help="hard limit for the whole run")
    p.add_argument("--keep-tmp", metavar="DIR", default=None, help="keep server logs and data in DIR")
    args = p.parse_args(argv)
    args.count_list = [int(c) for c in args.counts.split(",") if c.strip()]
    if not args.count_list or args.count_list != sorted(args.count_list) or min(args.count_list) <= 0 \
            or max(args.count_list) > MAX_SOCKETS:
        p.error(f"--counts: ascending positive integers up to {MAX_SOCKETS}")
    if not 1 <= args.users <= 200:
        p.error("--users: 1..200")
    if not 0 <= args.idle_secs <= 120 or not 0 <= args.settle_secs <= 60:
        p.error("--idle-secs 0..120, --settle-secs 0..60")
    args.target_list = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not args.target_list or set(args.target_list) - {"hubchat", "echo"}:
        p.error("--targets: hubchat and/or echo")
    # what fanout.py's HubchatTarget reads: one association channel of --users members
    args.channels = 1
    args.group_size = args.users
    args.server_env = ["HUBCHAT_MAX_SOCKETS_PER_USER=0", "HUBCHAT_MAX_SOCKETS_PER_ADDRESS=0", *args.server_env]
    return args


async def amain(args: argparse.Namespace, command: str) -> int:
    fanout.cancel_on_signals("stopping")
    info = machine_info()
    run_id = uuid.uuid4().hex[:8]
    results: list[MemoryResult] = []
    with tempfile.TemporaryDirectory(prefix="hubchat-mem-bench-") as tmp_dir:
        tmp = args.keep_tmp or tmp_dir
        if args.keep_tmp:
            Path(tmp).mkdir(parents=True, exist_ok=True)
        ctx = RunContext(args=args, run_id=run_id, prefix=f"bench-{run_id}:", redis_url=args.redis_url,
                         tmp=Path(tmp), collector=Collector(), cpu=CpuMeter(), smtp=SmtpSink(),
                         jwt_secret=secrets.token_urlsafe(36)[:48])
        ctx.deadline = perf() + args.max_minutes * 60
        async with asyncio.timeout(args.max_minutes * 60 + 60), infrastructure(ctx):
            for name in args.target_list:
                results.append(await (run_hubchat(ctx) if name == "hubchat" else run_echo(ctx)))
        text = report(ctx, results, info, command)
    print(text)
    if not args.no_record:
        with Path(args.results).open("a") as fh:
            fh.write("\n" + text)
        log(f"appended to {args.results}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return fanout.run_main(amain, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
