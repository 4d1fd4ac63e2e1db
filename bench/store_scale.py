"""Store cost per operation as data grows: the chat send path and the SOS trigger path.

Runs the exact store operations of ``ChannelService.send`` (channel lookup, idempotency lookup on
(channel, sender, client_msg_id), seq ``$inc``, insert, own read receipt upsert), of history/sync
(channel + seq range, channel + version) and of the SOS trigger (idempotency on (person,
client_sos_id), open alert per person, alert insert, timeline seq + append, officers on duty) against
a store preloaded with N messages and A alerts, with hubchat's real index declarations.  Reports the
median and p90 per operation and per path, for each N, plus the old behaviour (nx-27017 with
neosqlite's ``set_force_fallback(True)``) at small sizes as a baseline in the same run.

    .venv/bin/python bench/store_scale.py                        # 1k, 100k, 1M messages; 100k alerts
    .venv/bin/python bench/store_scale.py --sizes 1000,100000 --alerts 20000 --no-record
    .venv/bin/python bench/store_scale.py --mongo-uri mongodb://127.0.0.1:27017   # also a real MongoDB

Bounded: ``--max-minutes`` (default 25) stops loading larger sizes once the budget is spent and
says so in the report.  All traffic stays on 127.0.0.1; temporary data is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pymongo import ReturnDocument  # noqa: E402
from pymongo.asynchronous.database import AsyncDatabase  # noqa: E402

from hubchat.channels.repository import INDEXES as CHANNEL_INDEXES  # noqa: E402
from hubchat.embedded_mongo import EmbeddedMongo  # noqa: E402
from hubchat.sos.repository import INDEXES as SOS_INDEXES  # noqa: E402
from hubchat.store import Store, make_client  # noqa: E402

CHANNELS = 50
USERS = 1000
BATCH = 5000
Doc = dict[str, Any]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def message(i: int) -> Doc:
    channel = f"ch{i % CHANNELS}"
    seq = i // CHANNELS + 1
    return {"_id": f"m{i:08d}", "channel_id": channel, "seq": seq, "version": seq, "client_msg_id": f"c{i:08d}",
            "sender_id": f"u{i % USERS}", "sender_name": "Someone", "body": "Chibai! " * 8, "deleted": False,
            "created_at": now(), "translation": {"status": "none"}}


def alert(i: int) -> Doc:
    user = f"p{i}"
    t = now()
    return {"_id": f"a{i:08d}", "user_id": user, "client_sos_id": f"s{i}", "trigger_ids": [f"s{i}"],
            "open_key": f"closed:a{i:08d}", "status": "resolved", "version": 3, "last_seq": 3,
            "created_at": t, "updated_at": t, "person": {"country": "IN"},
            "escalation": {"level": 0, "next_at": None, "done": True}}


async def load(db: AsyncDatabase[Doc], name: str, make: Callable[[int], Doc], start: int, stop: int) -> None:
    for lo in range(start, stop, BATCH):
        await db[name].insert_many([make(i) for i in range(lo, min(stop, lo + BATCH))], ordered=False)


async def timed(samples: dict[str, list[float]], name: str, call: Awaitable[Any]) -> Any:
    t0 = time.perf_counter()
    result = await call
    samples.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
    return result


async def send_path(db: AsyncDatabase[Doc], samples: dict[str, list[float]], n: int, tag: str) -> None:
    channel, sender = f"ch{n % CHANNELS}", f"u{n % USERS}"
    client_msg_id = f"bench-{tag}-{n}"
    t0 = time.perf_counter()
    await timed(samples, "send: channel by _id", db["channels"].find_one({"_id": channel}))
    await timed(samples, "send: idempotency (channel, sender, client_msg_id)", db["messages"].find_one(
        {"channel_id": channel, "sender_id": sender, "client_msg_id": client_msg_id}))
    doc = await timed(samples, "send: seq $inc on channel", db["channels"].find_one_and_update(
        {"_id": channel}, {"$inc": {"last_seq": 1, "version": 1}}, projection={"last_seq": 1, "version": 1},
        return_document=ReturnDocument.AFTER))
    msg = {**message(0), "_id": f"x{tag}{n}", "channel_id": channel, "seq": doc["last_seq"],
           "version": doc["version"], "client_msg_id": client_msg_id, "sender_id": sender}
    await timed(samples, "send: insert", db["messages"].insert_one(msg))
    await timed(samples, "send: own receipt upsert ($max, $set datetime)", db["receipts"].find_one_and_update(
        {"_id": f"{channel}:{sender}"}, {"$max": {"seq": doc["last_seq"]},
                                         "$set": {"channel_id": channel, "user_id": sender, "updated_at": now()}},
        upsert=True, projection={"seq": 1}, return_document=ReturnDocument.BEFORE))
    samples.setdefault("SEND PATH (sum)", []).append((time.perf_counter() - t0) * 1000)
    top = doc["last_seq"]
    await timed(samples, "sync: channel + seq range", db["messages"].find(
        {"channel_id": channel, "seq": {"$gt": max(0, top - 50), "$lte": top}}).sort("seq", 1).limit(50).to_list())
    await timed(samples, "sync: channel + version", db["messages"].find(
        {"channel_id": channel, "version": {"$gt": max(0, top - 20)}}).sort("version", 1).limit(50).to_list())


async def sos_path(db: AsyncDatabase[Doc], samples: dict[str, list[float]], n: int, tag: str) -> None:
    user, sos_id = f"bench-{tag}-{n}", f"sos-{tag}-{n}"
    t0 = time.perf_counter()
    await timed(samples, "sos: idempotency (user, trigger_ids)", db["alerts"].find_one(
        {"user_id": user, "trigger_ids": sos_id}))
    await timed(samples, "sos: open alert by open_key", db["alerts"].find_one({"open_key": user}))
    alert_id = f"b{tag}{n}"
    doc = {**alert(0), "_id": alert_id, "user_id": user, "client_sos_id": sos_id, "trigger_ids": [sos_id],
           "open_key": user, "status": "open", "version": 1, "last_seq": 0,
           "escalation": {"level": 0, "next_at": now() + dt.timedelta(seconds=60), "done": True}}
    await timed(samples, "sos: alert insert", db["alerts"].insert_one(doc))
    seq = await timed(samples, "sos: timeline seq $inc", db["alerts"].find_one_and_update(
        {"_id": alert_id}, {"$inc": {"last_seq": 1}}, projection={"last_seq": 1},
        return_document=ReturnDocument.AFTER))
    await timed(samples, "sos: timeline append", db["alert_events"].insert_one(
        {"_id": f"e{tag}{n}", "alert_id": alert_id, "seq": seq["last_seq"], "at": now(), "type": "triggered"}))
    await timed(samples, "sos: officers on duty", db["duty"].find({"on_duty": True}).sort(
        [("since", 1), ("_id", 1)]).to_list())
    samples.setdefault("SOS TRIGGER PATH (sum)", []).append((time.perf_counter() - t0) * 1000)
    # The escalation scheduler's pass, run by every node every second: the query before this
    # change ($in on status + a datetime range) and the one it makes now (one equality per status).
    open_statuses = ["acknowledged", "open", "responding"]
    await timed(samples, "poll (every s): before, $in + next_at range", db["alerts"].find(
        {"status": {"$in": open_statuses}, "escalation.done": True, "escalation.next_at": {"$lte": now()}},
        {"_id": 1}).limit(100).to_list())

    async def per_status() -> list[Doc]:
        found: list[Doc] = []
        for status in open_statuses:
            found += await db["alerts"].find({"status": status}).limit(5000).to_list()
        return found
    await timed(samples, "poll (every s): now, equality per open status", per_status())
    # Close it again, so "one open alert per person" stays true and the next run finds it closed.
    await db["alerts"].update_one({"_id": alert_id}, {"$set": {"open_key": f"closed:{alert_id}", "status": "resolved"},
                                                      "$currentDate": {"updated_at": True}})


async def measure(db: AsyncDatabase[Doc], ops: int, tag: str) -> dict[str, tuple[float, float]]:
    samples: dict[str, list[float]] = {}
    for n in range(5):  # warm-up, not recorded
        await send_path(db, {}, n, f"{tag}w")
        await sos_path(db, {}, n, f"{tag}w")
    for n in range(ops):
        await send_path(db, samples, n, tag)
        await sos_path(db, samples, n, tag)
    return {name: (statistics.median(v), statistics.quantiles(v, n=10)[-1]) for name, v in samples.items()}


async def prepare(db: AsyncDatabase[Doc], store: Store) -> None:
    await store.ensure_indexes([CHANNEL_INDEXES, SOS_INDEXES])
    await db["channels"].insert_many([{"_id": f"ch{c}", "key": f"bench:{c}", "kind": "association",
                                       "member_ids": [f"u{u}" for u in range(c, USERS, CHANNELS)],
                                       "last_seq": 10**9, "version": 10**9, "created_at": now()}
                                      for c in range(CHANNELS)])
    await db["duty"].insert_many([{"_id": f"o{i}", "on_duty": i < 2, "since": now()} for i in range(5)])


async def run_variant(label: str, uri: str, sizes: list[int], alerts: Callable[[int], int], ops: int,
                      deadline: float, notes: list[str]) -> list[tuple[str, int, int, dict[str, tuple[float, float]]]]:
    client = make_client(uri)
    db_name = f"bench_scale_{uuid.uuid4().hex[:8]}"
    store = Store(client, db_name)
    db = store.db
    rows = []
    try:
        await prepare(db, store)
        have_m = have_a = 0
        last_rate = 0.0  # seconds per loaded document, from the previous size
        for size in sizes:
            want_a = alerts(size)
            t0 = time.perf_counter()
            todo = (size - have_m) + max(0, want_a - have_a)
            if time.monotonic() + todo * last_rate > deadline:
                notes.append(f"{label}: skipped {size:,} messages (loading would exceed --max-minutes)")
                break
            have_m_before, have_a_before = have_m, have_a
            await load(db, "messages", message, have_m, size)
            await load(db, "alerts", alert, have_a, want_a)
            have_m, have_a = size, max(have_a, want_a)
            load_s = time.perf_counter() - t0
            last_rate = load_s / max(1, size - have_m_before + max(0, want_a - have_a_before))
            print(f"{label}: loaded {size:,} messages / {have_a:,} alerts in {load_s:.0f} s", flush=True)
            result = await measure(db, ops, f"{label[:1]}{size}")
            rows.append((label, size, have_a, result))
            print(f"{label}: {size:,} send {result['SEND PATH (sum)'][0]:.2f} ms, "
                  f"sos {result['SOS TRIGGER PATH (sum)'][0]:.2f} ms", flush=True)
    finally:
        await client.drop_database(db_name)
        await client.close()
    return rows


def report(rows: list[tuple[str, int, int, dict[str, tuple[float, float]]]], args: argparse.Namespace,
           notes: list[str], started: float) -> str:
    load1, load5, _ = os.getloadavg()
    lines = [f"## store_scale.py — {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "",
             f"Machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
             f"{platform.platform()}; load average at the end {load1:.1f} / {load5:.1f} (1/5 min) — other "
             f"processes share the CPUs, so compare the ratios within this run.",
             f"Command: `{' '.join(['.venv/bin/python', 'bench/store_scale.py', *sys.argv[1:]])}` "
             f"({args.ops} operations per path and size, after 5 warm-up ones; "
             f"run took {(time.monotonic() - started) / 60:.1f} min).", ""]
    ops = list(rows[0][3]) if rows else []
    header = " | ".join(f"{label} {size:,} msgs / {alerts:,} alerts" for label, size, alerts, _ in rows)
    lines += ["Median (p90) ms per operation:", "", f"| operation | {header} |",
              "|---|" + "---|" * len(rows)]
    for op in ops:
        cells = " | ".join(f"{r[3][op][0]:.2f} ({r[3][op][1]:.2f})" for r in rows)
        lines.append(f"| {op} | {cells} |")
    lines.append("")
    for label in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == label]
        if len(mine) >= 2:
            first, last = mine[0], mine[-1]
            for path in ("SEND PATH (sum)", "SOS TRIGGER PATH (sum)"):
                ratio = last[3][path][0] / first[3][path][0]
                lines.append(f"- {label}: {path} at {last[1]:,} messages / {first[1]:,} messages = {ratio:.2f}x")
    lines += [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,100000,1000000", help="stored messages (ascending)")
    p.add_argument("--alerts", type=int, default=100000, help="stored alerts from the second size on")
    p.add_argument("--baseline-sizes", default="1000,10000",
                   help="sizes for the old fallback-on store (messages = alerts = size); empty: none")
    p.add_argument("--ops", type=int, default=100)
    p.add_argument("--mongo-uri", default="", help="also measure this MongoDB")
    p.add_argument("--max-minutes", type=float, default=25)
    p.add_argument("--no-record", action="store_true")
    p.add_argument("--results", default=str(Path(__file__).with_name("RESULTS.md")))
    args = p.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    base = sorted(int(s) for s in args.baseline_sizes.split(",") if s)
    if not sizes or sizes[-1] > 2_000_000 or args.alerts > 1_000_000 or not 10 <= args.ops <= 10000:
        p.error("sizes up to 2,000,000, alerts up to 1,000,000, ops 10..10000")
    started = time.monotonic()
    deadline = started + args.max_minutes * 60
    notes: list[str] = []
    rows = []

    def alerts_for(size: int) -> int:
        return min(size, 1000) if size == sizes[0] else args.alerts

    with tempfile.TemporaryDirectory(prefix="hubchat-bench-scale-") as tmp:
        for label, variant, these, alerts in (("fallback on (old)", "fallback", base, lambda s: s),
                                              ("embedded", "hubchat", sizes, alerts_for)):
            if not these:
                continue
            async with EmbeddedMongo(Path(tmp) / variant, variant=variant) as server:
                rows += await run_variant(label, server.uri, these, alerts, args.ops, deadline, notes)
        if args.mongo_uri:
            rows += await run_variant("mongodb", args.mongo_uri, sizes, alerts_for, args.ops, deadline, notes)
    text = report(rows, args, notes, started)
    print(text)
    if not args.no_record:
        with open(args.results, "a", encoding="utf-8") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    asyncio.run(main())
