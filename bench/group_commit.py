"""Would group commit pay? (issue #9, part 3): N message inserts into a fresh nx-27017 store, with
the messages collection's real indexes, sent as concurrent ``insert_one`` calls (what hubchat
does) or gathered into ``insert_many`` batches of B (what a group commit within a millisecond or
two would send).  Prints wall time per insert and nx-27017 CPU per insert for each.

    .venv/bin/python bench/group_commit.py [--count 2000] [--concurrency 16] [--batches 4,16]

Bounded: at most 20,000 inserts per variant, 127.0.0.1 only, a temporary directory removed after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from hubchat.channels.repository import INDEXES, MESSAGES
from hubchat.clock import utcnow
from hubchat.embedded_mongo import EmbeddedMongo
from hubchat.schema import new_id


def cpu_secs(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def message(channel: str, seq: int) -> dict[str, Any]:
    return {"_id": new_id(), "channel_id": channel, "seq": seq, "version": seq, "client_msg_id": new_id(),
            "sender_id": "u", "sender_name": "U", "body": "Chibai! " * 6, "body_digest": "d", "language": "lus",
            "created_at": utcnow(), "edited_at": None, "deleted": False, "deleted_at": None}


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="hubchat-group-commit-") as tmp:
        async with EmbeddedMongo(Path(tmp) / "store") as server:
            pid = server._process.pid if server._process else None  # the child's pid, for its CPU time
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri)
            try:
                db = client["bench"]
                await db[MESSAGES].create_indexes(INDEXES[MESSAGES])
                print(f"{args.count} inserts per variant, concurrency {args.concurrency}; "
                      f"load before: {os.getloadavg()[0]:.1f}")
                print("| variant | wall ms / insert | nx-27017 CPU ms / insert |")
                print("|---|---:|---:|")
                for variant in ["insert_one", *(f"insert_many/{b}" for b in args.batch_list)]:
                    channel = new_id()
                    docs = [message(channel, i + 1) for i in range(args.count)]
                    c0, t0 = cpu_secs(pid), time.perf_counter()
                    if variant == "insert_one":
                        limit = asyncio.Semaphore(args.concurrency)

                        async def one(doc: dict[str, Any], limit: asyncio.Semaphore = limit) -> None:
                            async with limit:
                                await db[MESSAGES].insert_one(doc)

                        await asyncio.gather(*(one(d) for d in docs))
                    else:
                        size = int(variant.split("/")[1])
                        limit = asyncio.Semaphore(max(1, args.concurrency // size))

                        async def many(batch: list[dict[str, Any]], limit: asyncio.Semaphore = limit) -> None:
                            async with limit:
                                await db[MESSAGES].insert_many(batch, ordered=False)

                        await asyncio.gather(*(many(docs[i:i + size]) for i in range(0, len(docs), size)))
                    wall, cpu = time.perf_counter() - t0, cpu_secs(pid) - c0
                    print(f"| {variant} | {wall * 1000 / args.count:.2f} | {cpu * 1000 / args.count:.2f} |")
            finally:
                await client.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--batches", default="4,16")
    args = p.parse_args()
    args.count = max(1, min(args.count, 20_000))
    args.batch_list = [max(1, int(b)) for b in args.batches.split(",") if b.strip()]
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
