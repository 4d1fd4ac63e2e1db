"""What one store command of a chat send costs the embedded store (issue #9): nx-27017's CPU per
command for each command a send makes, with nx-27017 serving connections in its asyncio mode
(its default) and in its threaded mode (hubchat's choice, hubchat/embedded_mongo.py), and the
send's membership-filtered sequence take with few and with many channels stored (neosqlite reads
every row for such a filter unless hubchat/embedded_server.py narrows it by ``_id``).

    .venv/bin/python bench/store_commands.py [--count 1500] [--concurrency 8] [--channels 10,5000]

Commands, each ``--count`` times at ``--concurrency`` (what a busy node sends):
  ping      the wire round trip alone;
  find      a channel by ``_id``;
  take      the send's ``findAndModify`` on the channel with its general membership filter (``$or``);
  take known  the same with the plain filter a node uses once it knows the channel's shape;
  insert    one message (the messages collection's real indexes);
  receipt   the sender's read receipt (upsert with ``$max`` and a datetime);
  list      a user's channels as ``AccessReader.channels_of`` reads them (a connect, the channel
            list, a presence announcement): the membership ``$or`` without its ``dm`` branch,
            then the user's rows in ``dm_members`` (the DM channels have their member rows).
Bounded: 127.0.0.1 only, temporary directories removed after; about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, ReturnDocument

from hubchat.channels.repository import CHANNELS, DM_MEMBERS, INDEXES, MESSAGES, RECEIPTS
from hubchat.clock import utcnow
from hubchat.embedded_mongo import EmbeddedMongo
from hubchat.schema import new_id

KINDS = ("ping", "find", "take", "take known", "insert", "receipt", "list")


def cpu_secs(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def membership(user_id: str, association_ids: list[str]) -> dict[str, Any]:
    """The shape of hubchat.channels.rules.channels_filter for a member of these associations."""
    return {"$or": [{"kind": "association", "association_id": {"$in": association_ids}},
                    {"kind": "cell", "association_id": {"$in": association_ids}},
                    {"kind": "inter", "association_ids": {"$in": association_ids}},
                    {"kind": "dm", "member_ids": user_id}]}


async def measure(mode: str, channels: int, args: argparse.Namespace) -> dict[str, float]:
    """nx-27017 CPU ms per command, by command kind."""
    with tempfile.TemporaryDirectory(prefix="hubchat-store-commands-") as tmp:
        async with EmbeddedMongo(Path(tmp) / "store", server_mode=mode) as server:
            assert server._process is not None
            pid = server._process.pid
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri)
            try:
                db = client["bench"]
                for name in (CHANNELS, MESSAGES, RECEIPTS, DM_MEMBERS):
                    await db[name].create_indexes(INDEXES[name])
                others = [{"_id": new_id(), "key": new_id(), "kind": "dm", "member_ids": [new_id(), new_id()],
                           "last_seq": 0, "version": 0, "created_at": utcnow()} for _ in range(max(0, channels - 10))]
                rows = [{"_id": f"{member}:{dm['_id']}", "user_id": member, "channel_id": dm["_id"]}
                        for dm in others for member in dm["member_ids"]]
                for start in range(0, len(others), 1000):
                    await db[CHANNELS].insert_many(others[start:start + 1000])
                for start in range(0, len(rows), 1000):
                    await db[DM_MEMBERS].insert_many(rows[start:start + 1000])
                association = new_id()
                ours = [new_id() for _ in range(min(10, channels))]
                await db[CHANNELS].insert_many([{"_id": c, "key": c, "kind": "association",
                                                 "association_id": association, "association_ids": [association],
                                                 "last_seq": 0, "version": 0} for c in ours])
                user = new_id()
                allowed = membership(user, [association])

                async def command(kind: str, i: int) -> None:
                    channel = ours[i % len(ours)]
                    if kind == "ping":
                        await db.command("ping")
                    elif kind == "find":
                        await db[CHANNELS].find_one({"_id": channel})
                    elif kind.startswith("take"):
                        condition = allowed if kind == "take" else {"kind": "association",
                                                                    "association_id": association}
                        doc = await db[CHANNELS].find_one_and_update(
                            {**condition, "_id": channel}, {"$inc": {"last_seq": 1, "version": 1}},
                            projection={"kind": 1, "last_seq": 1, "version": 1},
                            return_document=ReturnDocument.AFTER)
                        assert doc is not None
                    elif kind == "insert":
                        await db[MESSAGES].insert_one({
                            "_id": new_id(), "channel_id": channel, "seq": i + 1, "version": i + 1,
                            "client_msg_id": new_id(), "sender_id": user, "sender_name": "Bench",
                            "body": "Chibai! Engtin nge i awm? " * 3, "body_digest": "-", "language": "lus",
                            "created_at": utcnow(), "edited_at": None, "deleted": False, "deleted_at": None})
                    elif kind == "list":  # as AccessReader.channels_of: the filter less its dm branch,
                        # then the direct channels through their member rows
                        found = [doc async for doc in db[CHANNELS].find({"$or": allowed["$or"][:3]})]
                        direct = [row["channel_id"] async for row in db[DM_MEMBERS].find({"user_id": user})]
                        if direct:
                            found += [doc async for doc in db[CHANNELS].find({"_id": {"$in": direct}})]
                        assert len(found) == len(ours)
                    else:
                        reader = f"u{i % 200}"
                        await db[RECEIPTS].find_one_and_update(
                            {"_id": f"{channel}:{reader}"},
                            {"$max": {"seq": i + 1},
                             "$set": {"channel_id": channel, "user_id": reader, "updated_at": utcnow()}},
                            upsert=True, projection={"seq": 1}, return_document=ReturnDocument.BEFORE)

                result: dict[str, float] = {}
                for kind in KINDS:
                    result[kind] = await per_command(pid, args, lambda i, kind=kind: command(kind, i))
                return result
            finally:
                await client.close()


async def per_command(pid: int, args: argparse.Namespace, one: Callable[[int], Awaitable[None]]) -> float:
    limit = asyncio.Semaphore(args.concurrency)

    async def bounded(i: int) -> None:
        async with limit:
            await one(i)

    before = cpu_secs(pid)
    await asyncio.gather(*(bounded(i) for i in range(args.count)))
    return (cpu_secs(pid) - before) / args.count * 1000


async def run(args: argparse.Namespace) -> None:
    print(f"# store_commands.py — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(f"- Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start")
    print(f"- Command: `.venv/bin/python bench/store_commands.py --count {args.count} "
          f"--concurrency {args.concurrency} --channels {args.channels}`")
    print(f"- {args.count} commands of each kind, {args.concurrency} in flight; nx-27017 CPU per command (ms)\n")
    print("| nx-27017 mode | channels stored | " + " | ".join(KINDS) + " |")
    print("|---|---:|" + "---:|" * len(KINDS))
    for channels in (int(n) for n in args.channels.split(",")):
        for mode in ("asyncio", "threaded"):
            row = await measure(mode, channels, args)
            print(f"| {mode} | {channels} | " + " | ".join(f"{row[k]:.3f}" for k in KINDS) + " |", flush=True)
    print(f"\nLoad average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--channels", default="10,5000", help="channels stored (comma-separated)")
    args = parser.parse_args()
    args.count = max(1, min(args.count, 20000))
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
