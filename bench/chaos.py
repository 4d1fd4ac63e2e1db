"""Chaos: the faults of tests/test_faults.py, run longer, counted and printed as one table.

Per fault: chat messages acknowledged vs found afterwards (and duplicates), SOS raised vs
delivered to the on-duty officer (live or through ``sos:feed``), escalation emails due vs sent,
and the recovery time.  Every fault runs real ``hubchat serve`` processes (two where the fault
needs a survivor) on one store (an embedded nx-27017 this script starts) and one Redis, with real
Socket.IO clients that behave like the web client (retry with the same ids, reconnect to another
node).  Scenarios live in ``tests/faults_support.py``.

    .venv/bin/python bench/chaos.py                       # every fault
    .venv/bin/python bench/chaos.py --faults node,store --traffic-secs 20

Faults: ``node`` (SIGKILL of one of two nodes mid-traffic, SOS raised on it just before; T1 due
after its death), ``redis`` (the nodes' own redis-server stopped for ``--outage-secs`` and
started again, empty), ``store`` (an external store SIGKILLed and started again after
``--outage-secs``), ``embedded`` (a node's own nx-27017 child SIGKILLed: the node restarts it),
``smtp`` (SMTP down for ``--smtp-outage-secs`` while two alerts reach T1), ``slow`` (a socket that
never reads while its channel is flooded).  Recovery: node — until every sender was answered
again; redis — Redis back → a send on node a is delivered live on node b; store — kill → the
first acknowledged send; embedded — kill → the first acknowledged send; smtp — SMTP back → every
due email received.  The machine's Redis (``--redis-url``) is used with a key prefix of its own
for every fault but ``redis``; keys and databases are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis.asyncio as aioredis  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from hubchat.config import Settings, load_settings  # noqa: E402
from hubchat.embedded_mongo import EmbeddedMongo, free_loopback_port  # noqa: E402
from hubchat.store import make_client  # noqa: E402
from tests.conftest import SmtpSink  # noqa: E402
from tests.faults_support import (  # noqa: E402
    FaultResult,
    embedded_store_killed,
    node_killed,
    redis_restarted,
    slow_client,
    smtp_outage,
    store_outage,
)

FAULTS = ("node", "redis", "store", "embedded", "smtp", "slow")
Scenario = Callable[[Settings, SmtpSink, Path], Awaitable[FaultResult]]


class Smtp:
    """An aiosmtpd server on a fixed port that can be stopped and started again."""

    def __init__(self) -> None:
        self.sink = SmtpSink()
        self.port = free_loopback_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()


def scenarios(args: argparse.Namespace, smtp: Smtp) -> dict[str, Scenario]:
    return {
        "node": functools.partial(node_killed, traffic_secs=args.traffic_secs, senders_per_node=args.senders),
        "redis": functools.partial(redis_restarted, outage_secs=args.outage_secs),
        "store": functools.partial(store_outage, outage_secs=args.outage_secs),
        "embedded": functools.partial(embedded_store_killed, traffic_secs=args.traffic_secs),
        "smtp": functools.partial(smtp_outage, stop_smtp=smtp.stop, start_smtp=smtp.start,
                                  outage_secs=args.smtp_outage_secs),
        "slow": functools.partial(slow_client, messages=args.slow_messages),
    }


def settings_for(name: str, run_id: str, root: Path, store_uri: str, smtp: Smtp, redis_url: str) -> Settings:
    return load_settings(environ={}, mongo_uri=store_uri, mongo_db=f"chaos_{run_id}_{name}", redis_url=redis_url,
                         redis_prefix=f"chaos-{run_id}-{name}:", data_dir=str(root / name / "var"),
                         jwt_secret=f"chaos-secret-{uuid.uuid4().hex}", smtp_host="127.0.0.1", smtp_port=smtp.port,
                         mail_retry_base_delay_secs=0.1, log_format="text")


def row(result: FaultResult, wall_secs: float) -> str:
    refused = ", ".join(f"{code} {n}" for code, n in sorted(result.refused.items())) or "–"
    recovery = "–" if result.recovery_secs == 0 else (
        "never" if result.recovery_secs == float("inf") else f"{result.recovery_secs:.1f} s")
    slowest = f"{result.slowest_refusal_secs:.2f} s" if result.slowest_refusal_secs else "–"
    return (f"| {result.fault} | {result.acked} / {result.found} | {result.duplicated} | "
            f"{result.sos_raised} / {result.sos_delivered} | {result.emails_due} / {result.emails_sent} | "
            f"{recovery} | {slowest} | {refused} | {'; '.join(result.notes) or '–'} | {wall_secs:.0f} s |")


HEADER = ("| fault | msgs acked / found | dup | SOS raised / delivered | emails due / sent | recovery | "
          "slowest `unavailable` | answers during the fault | notes | wall |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


async def cleanup(redis_url: str, run_id: str, store_uri: str, names: list[str]) -> None:
    client = aioredis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"chaos-{run_id}-*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
    mongo = make_client(store_uri)
    try:
        for name in names:
            await mongo.drop_database(f"chaos_{run_id}_{name}")
    finally:
        await mongo.close()


async def amain(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.faults.split(",") if n.strip()]
    unknown = set(names) - set(FAULTS)
    if unknown:
        raise SystemExit(f"unknown faults {sorted(unknown)}; choose from {', '.join(FAULTS)}")
    run_id = uuid.uuid4().hex[:8]
    smtp = Smtp()
    smtp.start()
    rows = []
    with tempfile.TemporaryDirectory(prefix="hubchat-chaos-") as tmp:
        root = Path(tmp)
        store = EmbeddedMongo(root / "shared-store")
        await store.start()
        try:
            runs = scenarios(args, smtp)
            for name in names:
                (root / name).mkdir()
                settings = settings_for(name, run_id, root, store.uri, smtp, args.redis_url)
                print(f"# {name} …", file=sys.stderr, flush=True)
                started = time.monotonic()
                result = await runs[name](settings, smtp.sink, root / name)
                rows.append(row(result, time.monotonic() - started))
                print(rows[-1], file=sys.stderr, flush=True)
            await cleanup(args.redis_url, run_id, store.uri, names)
        finally:
            await store.stop()
            smtp.stop()
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print(f"chaos {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}: {cpus} CPUs, "
          f"load {' '.join(load)}, Python {platform.python_version()}")
    print(f"command: {shlex.join(['.venv/bin/python', 'bench/chaos.py', *sys.argv[1:]])}\n")
    print(HEADER)
    print("\n".join(rows))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma separated, of {', '.join(FAULTS)}")
    parser.add_argument("--traffic-secs", type=float, default=10.0, help="node: chat traffic around the kill")
    parser.add_argument("--senders", type=int, default=3, help="node: senders per user (two users)")
    parser.add_argument("--outage-secs", type=float, default=5.0, help="redis, store: how long it stays down")
    parser.add_argument("--smtp-outage-secs", type=float, default=20.0)
    parser.add_argument("--slow-messages", type=int, default=200, help="slow: 3800-character messages flooded")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
