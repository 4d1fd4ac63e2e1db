"""Soak: steady mixed chat and SOS against one ``hubchat serve`` for ``--minutes``, sampled over time.

Every ``--sample-secs`` it prints one line: the node's resident memory (RSS) and open file
descriptors, the same for the embedded store child (nx-27017), and, for that interval, the p50 /
p99 of chat send acks, of chat delivery to another member's socket, of SOS trigger acks and of
``sos:new`` at the on-duty officer, with counts and errors.  Growth should level off: the
report ends with the first and last thirds compared.

    .venv/bin/python bench/soak.py --minutes 10                     # 40 msg/s, one SOS every 5 s
    .venv/bin/python bench/soak.py --minutes 30 --chat-rate 60 --sos-every-secs 3

Load: ``--chat-rate`` messages per second in one association channel, sent by ``--senders``
sockets of the office bearer and of a member (the default 40 msg/s is about half of what the
last fan-out ladder sustained on this 2-CPU machine per channel of 20, for a channel of a few
members); every ``--sos-every-secs`` the member raises an SOS, the on-duty officer acknowledges,
responds and resolves it (so each trigger is a new alert and every alert is closed), plus one
``sos:location`` and one ``sos:note``.  The node runs with the embedded store in a temporary
data_dir, the machine's Redis under a prefix of its own (removed at the end), an in-process SMTP
sink, ``HUBCHAT_MESSAGE_RATE_LIMIT=0``, ``HUBCHAT_OPS_PORT=0``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis.asyncio as aioredis  # noqa: E402

from bench.chaos import Smtp  # noqa: E402
from hubchat.config import load_settings  # noqa: E402
from hubchat.embedded_mongo import PID_FILE  # noqa: E402
from tests.faults_support import build_world, nodes_up, on_duty_officer  # noqa: E402
from tests.support import HubClient, Recorder  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def proc_stats(pid: int) -> tuple[float, int]:
    """(RSS in MiB, open file descriptors) of a process, from /proc."""
    try:
        rss_kib = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                       if line.startswith("VmRSS:"))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return float("nan"), -1
    return rss_kib / 1024, fds


@dataclasses.dataclass
class Interval:
    send_ms: list[float] = dataclasses.field(default_factory=list)
    deliver_ms: list[float] = dataclasses.field(default_factory=list)
    sos_ack_ms: list[float] = dataclasses.field(default_factory=list)
    sos_new_ms: list[float] = dataclasses.field(default_factory=list)
    errors: dict[str, int] = dataclasses.field(default_factory=dict)

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


class Soak:
    def __init__(self, args: argparse.Namespace, hub: HubClient, world: Any, officer: Recorder):
        self.args, self.hub, self.world, self.officer = args, hub, world, officer
        self.now = Interval()
        self.sos_sent: dict[str, float] = {}  # client_sos_id → monotonic send time
        self.alert_of: dict[str, str] = {}
        self.stop = asyncio.Event()
        self.sent = 0

    def on_message(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(ValueError, IndexError):
            sent = float(message["body"].split(" ", 2)[1])
            self.now.deliver_ms.append((time.time() - sent) * 1000)

    def on_sos_new(self, alert: dict[str, Any]) -> None:
        sent = self.sos_sent.pop(alert.get("client_sos_id", ""), None)
        if sent is not None:
            self.now.sos_new_ms.append((time.monotonic() - sent) * 1000)

    async def sender(self, socket: Recorder, tag: str, interval_secs: float) -> None:
        n = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                ack = await socket.call("message:send", {"channel_id": self.world.channel_id,
                                                         "client_msg_id": f"{tag}-{n:08d}",
                                                         "body": f"{tag}-{n} {time.time():.6f} soak"}, timeout=10)
            except (TimeoutError, OSError) as exc:
                self.now.error(type(exc).__name__)
                ack = {}
            if "message" in ack:
                self.now.send_ms.append((time.monotonic() - started) * 1000)
                self.sent += 1
            elif "error" in ack:
                self.now.error(ack["error"]["code"])
            next_at += interval_secs
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def sos_loop(self, person: Recorder) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            cid = f"soak-{n:08d}"
            self.sos_sent[cid] = time.monotonic()
            started = time.monotonic()
            ack = await person.call("sos:trigger", {"client_sos_id": cid, "category": "medical",
                                                    "lat": 25.2, "lon": 55.3}, timeout=10)
            if "alert" not in ack:
                self.now.error("sos:" + ack["error"]["code"])
            else:
                self.now.sos_ack_ms.append((time.monotonic() - started) * 1000)
                alert_id = ack["alert"]["id"]
                await person.call("sos:location", {"alert_id": alert_id, "lat": 25.21, "lon": 55.31}, timeout=10)
                await person.call("sos:note", {"alert_id": alert_id, "body": "soak note"}, timeout=10)
                for action in ("acknowledge", "respond", "resolve"):
                    done = await self.officer.call("sos:transition", {"alert_id": alert_id, "action": action},
                                                   timeout=10)
                    if "alert" not in done:
                        self.now.error(f"{action}:{done['error']['code']}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.args.sos_every_secs)


async def amain(args: argparse.Namespace) -> int:
    run_id = uuid.uuid4().hex[:8]
    smtp = Smtp()
    smtp.start()
    rows: list[tuple[float, float, int, float, int, Interval]] = []
    with tempfile.TemporaryDirectory(prefix="hubchat-soak-") as tmp:
        root = Path(tmp)
        settings = load_settings(environ={}, mongo_uri="", redis_url=args.redis_url, redis_prefix=f"soak-{run_id}:",
                                 data_dir=str(root / "var"), jwt_secret=f"soak-secret-{uuid.uuid4().hex}",
                                 smtp_host="127.0.0.1", smtp_port=smtp.port, log_format="text")
        try:
            async with nodes_up(settings, smtp.sink, root, names=("a",), HUBCHAT_MESSAGE_RATE_LIMIT="0",
                                HUBCHAT_SOS_T1_SECS="3600", HUBCHAT_SOS_T2_SECS="7200",
                                HUBCHAT_SOS_ACTIONS_PER_MINUTE="0") as (nodes, (hub,)):
                node_pid = nodes[0][1].pid
                world = await build_world(hub, hub, settings)
                officer = await on_duty_officer(world, hub)
                listener = await hub.connect(world.member["access_token"])
                person = await hub.connect(world.member["access_token"])
                soak = Soak(args, hub, world, officer)
                listener.sio.on("message:new", soak.on_message)
                officer.sio.on("sos:new", soak.on_sos_new)
                senders = [await hub.connect(who["access_token"])
                           for who in (world.bearer, world.member) for _ in range(args.senders)]
                interval = len(senders) / args.chat_rate
                tasks = [asyncio.create_task(soak.sender(s, f"s{i}", interval)) for i, s in enumerate(senders)]
                tasks.append(asyncio.create_task(soak.sos_loop(person)))
                started = time.monotonic()
                print(f"{'min':>5} {'node MiB':>8} {'fds':>4} {'store MiB':>9} {'fds':>4} {'sent':>6} "
                      f"{'send p50/p99 ms':>16} {'deliver p50/p99':>16} {'sos ack p50/p99':>16} "
                      f"{'sos:new p50/p99':>16} errors", file=sys.stderr, flush=True)
                while time.monotonic() - started < args.minutes * 60:
                    await asyncio.sleep(args.sample_secs)
                    interval_now, soak.now = soak.now, Interval()
                    store_pid = int((root / "var" / PID_FILE).read_text().strip())
                    node_rss, node_fds = proc_stats(node_pid)
                    store_rss, store_fds = proc_stats(store_pid)
                    rows.append(((time.monotonic() - started) / 60, node_rss, node_fds, store_rss, store_fds,
                                 interval_now))
                    print(line(rows[-1], soak.sent), file=sys.stderr, flush=True)
                soak.stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            smtp.stop()
            client = aioredis.from_url(args.redis_url)
            keys = [key async for key in client.scan_iter(match=f"soak-{run_id}:*", count=500)]
            if keys:
                await client.delete(*keys)
            await client.aclose()
    report(args, rows)
    return 0


def pair(values: list[float]) -> str:
    return f"{percentile(values, 0.5):.0f} / {percentile(values, 0.99):.0f}"


def line(row: tuple[float, float, int, float, int, Interval], sent: int) -> str:
    minute, node_rss, node_fds, store_rss, store_fds, iv = row
    errors = ", ".join(f"{k} {v}" for k, v in sorted(iv.errors.items())) or "–"
    return (f"{minute:5.1f} {node_rss:8.1f} {node_fds:4d} {store_rss:9.1f} {store_fds:4d} {sent:6d} "
            f"{pair(iv.send_ms):>16} {pair(iv.deliver_ms):>16} {pair(iv.sos_ack_ms):>16} {pair(iv.sos_new_ms):>16} "
            f"{errors}")


def report(args: argparse.Namespace, rows: list[tuple[float, float, int, float, int, Interval]]) -> None:
    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"soak {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}: {cpus} CPUs, "
          f"load now {load}, "
          f"Python {platform.python_version()}")
    print(f"command: {shlex.join(['.venv/bin/python', 'bench/soak.py', *sys.argv[1:]])}\n")
    print("| minute | node RSS MiB | node fds | store RSS MiB | store fds | chat send ack p50 / p99 ms | "
          "delivery p50 / p99 ms | SOS ack p50 / p99 ms | sos:new p50 / p99 ms | msgs | SOS | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for minute, node_rss, node_fds, store_rss, store_fds, iv in rows:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(iv.errors.items())) or "–"
        print(f"| {minute:.1f} | {node_rss:.1f} | {node_fds} | {store_rss:.1f} | {store_fds} | {pair(iv.send_ms)} | "
              f"{pair(iv.deliver_ms)} | {pair(iv.sos_ack_ms)} | {pair(iv.sos_new_ms)} | {len(iv.send_ms)} | "
              f"{len(iv.sos_ack_ms)} | {errors} |")
    if len(rows) >= 3:
        third = len(rows) // 3
        first, last = rows[:third], rows[-third:]

        def avg(part: list[Any], i: int) -> float:
            return sum(r[i] for r in part) / len(part)

        print(f"\nfirst third vs last third: node RSS {avg(first, 1):.1f} → {avg(last, 1):.1f} MiB, "
              f"node fds {avg(first, 2):.0f} → {avg(last, 2):.0f}, store RSS {avg(first, 3):.1f} → "
              f"{avg(last, 3):.1f} MiB, store fds {avg(first, 4):.0f} → {avg(last, 4):.0f}; chat send p99 "
              f"{percentile([v for r in first for v in r[5].send_ms], 0.99):.0f} → "
              f"{percentile([v for r in last for v in r[5].send_ms], 0.99):.0f} ms")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sample-secs", type=float, default=30.0)
    parser.add_argument("--chat-rate", type=float, default=40.0, help="messages per second, all senders together")
    parser.add_argument("--senders", type=int, default=4, help="sockets per sending user (two users)")
    parser.add_argument("--sos-every-secs", type=float, default=5.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
