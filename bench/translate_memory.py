"""Translation memory look-up cost as the memory grows (``hubchat/translate/memory.py``).

Loads N entries into the embedded store (nx-27017, hubchat's real index declarations) — sentences
of 4-9 words drawn from the Mizo side of the GATITOS lexicon (tests/data/gatitos, CC BY 4.0), so
content words repeat like in real text — then times ``TranslationMemory.find`` for one text:
an exact hit, a similar hit (one word changed) and a miss (similar look-up over the bounded
candidate set, nothing above the threshold).  Median and p90 per kind and size.

    .venv/bin/python bench/translate_memory.py                      # 1k, 10k, 50k entries
    .venv/bin/python bench/translate_memory.py --sizes 1000 --no-record
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hubchat.config import load_settings  # noqa: E402
from hubchat.infra import Infra  # noqa: E402
from hubchat.schema import new_id  # noqa: E402
from hubchat.translate.memory import (  # noqa: E402
    INDEXES,
    MEMORY,
    WORDS,
    TranslationMemory,
    content_tokens,
    memory_key,
)

GATITOS = ROOT / "tests" / "data" / "gatitos" / "lus_en.tsv"
RESULTS = ROOT / "bench" / "RESULTS.md"
LOOKUPS = 60


def vocabulary() -> list[str]:
    words = set()
    for line in GATITOS.read_text(encoding="utf-8").splitlines():
        words.update(line.split("\t")[0].strip().split())
    return sorted(words)


def sentence(rng: random.Random, words: list[str]) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(4, 9)))


async def measure(size: int, redis_url: str, work: Path, rng: random.Random) -> dict[str, list[float]]:
    settings = load_settings(environ={}, mongo_uri="", data_dir=str(work / f"var-{size}"), redis_url=redis_url,
                             redis_prefix=f"bench-{secrets.token_hex(4)}:", log_level="WARNING",
                             log_format="text", jwt_secret="bench-" + secrets.token_hex(24))
    words = vocabulary()
    infra = Infra(settings)
    timings: dict[str, list[float]] = {"exact": [], "similar": [], "miss": []}
    async with infra.running([INDEXES]):
        memory = TranslationMemory(infra)
        sources = [sentence(rng, words) for _ in range(size)]
        now = dt.datetime.now(dt.UTC)
        docs, postings = [], []
        for index, text in enumerate(sources):  # what TranslationMemory.add writes, in bulk
            key, entry_id = memory_key(text), new_id()
            docs.append({"_id": entry_id, "direction": "lus-en", "key": key, "target_key": f"t {index}",
                         "source_text": text, "target_text": f"t {index}", "origin": "import", "approved": False,
                         "count": 1, "created_at": now, "updated_at": now})
            postings.extend({"_id": new_id(), "direction": "lus-en", "word": word, "entry_id": entry_id, "key": key}
                            for word in content_tokens(key))
        for start in range(0, len(docs), 1000):
            await infra.store[MEMORY].insert_many(docs[start:start + 1000])
        for start in range(0, len(postings), 5000):
            await infra.store[WORDS].insert_many(postings[start:start + 5000])
        for _ in range(LOOKUPS):
            source = rng.choice(sources)
            changed = source.split()
            changed[rng.randrange(len(changed))] = rng.choice(words)
            for kind, text in (("exact", source), ("similar", " ".join(changed) + " e"),
                               ("miss", sentence(rng, words))):
                started = time.perf_counter()
                await memory.find("lus-en", [text])
                timings[kind].append((time.perf_counter() - started) * 1000.0)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description="translation memory look-up cost by memory size")
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--redis-url", default=os.environ.get("HUBCHAT_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    rng = random.Random(20261201)
    rows = ["| entries | look-up | median ms | p90 ms |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="hubchat-memory-bench-") as work:
        for size in (int(s) for s in args.sizes.split(",")):
            timings = asyncio.run(measure(size, args.redis_url, Path(work), rng))
            for kind, values in timings.items():
                values.sort()
                rows.append(f"| {size} | {kind} | {statistics.median(values):.2f} | "
                            f"{values[int(len(values) * 0.9) - 1]:.2f} |")
                print(rows[-1], flush=True)
    stamp = subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M UTC"], capture_output=True, text=True).stdout.strip()
    machine = f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.1f}"
    section = (f"\n## Translation memory look-up cost by size — {stamp}\n\n"
               f"Machine: {machine}. Command: `python bench/translate_memory.py --sizes {args.sizes}`. "
               f"Embedded store (nx-27017); {LOOKUPS} look-ups of one text per kind and size; entries are "
               f"4-9-word sentences of GATITOS Mizo words. exact = the text is in the memory; similar = one "
               f"word changed; miss = a new sentence (the similar look-up runs and finds nothing).\n\n"
               + "\n".join(rows) + "\n")
    print(section)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
