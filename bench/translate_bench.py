"""Translation benchmark: the batched pipeline against one translation call per message.

Model: a random-weight Transformer of realistic size in the Argos package layout — 6 encoder + 6
decoder layers, d_model 512, 8 heads, FFN 2048, a 32,000-piece SentencePiece vocabulary, weights
quantised to int8 as Argos packages ship — built by ``tests/translate_fixtures.py`` (the
SentencePiece model is trained on a few lines, then grown to 32k pieces by adding pieces to its
model proto: training a real 32k vocabulary needs a large corpus).  It is installed with the
real ``hubchat models install`` code and run through the real engine.  Random weights never
choose end-of-sentence, so every sentence decodes exactly ``--max-decoding-length`` tokens (the
same cap for both sides; a real model stops earlier).

Mode ``pipeline`` (default), same messages, same model, same threads, same process:

* batched — all messages submitted at once to the pipeline (micro-batching worker, batch of
  ``--batch`` sentences or ``--window-ms``): throughput and per-message latency (submit → result);
* paced — the messages arrive at a fixed rate (``--rates``, messages/s, open loop): per-message
  latency under a steady chat load, batched pipeline vs. one call per message;
* one call per message — how a LibreTranslate request is served: the message's sentences in one
  CTranslate2 call, messages one after another: throughput and per-message latency.

Mode ``events`` (needs the translation capability wired into ``hubchat.app``): runs hubchat in
this process (embedded MongoDB-wire server, Redis on ``--redis-url``), opens ``--pairs`` direct
channels between two users, sends Mizo messages at each rate of ``--rates`` for
``--duration-secs`` and measures, at the receiver, send → ``message:new`` and send →
``message:translated``.  Clients and server share this machine's cores.

The translation cache is off and the phrasebook empty in ``pipeline`` mode, so every sentence
goes to the model.  Results are appended to ``bench/RESULTS.md`` unless ``--no-record``.

Run:  .venv/bin/python bench/translate_bench.py [--messages 120] [--max-decoding-length 64]
      .venv/bin/python bench/translate_bench.py --mode events [--rates 2,5,10] [--duration-secs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import platform
import random
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hubchat.translate import packages  # noqa: E402
from hubchat.translate.cache import CacheKey  # noqa: E402
from hubchat.translate.detect import MIZO_WORDS  # noqa: E402
from hubchat.translate.engine import Engine  # noqa: E402
from hubchat.translate.options import TranslateOptions  # noqa: E402
from hubchat.translate.phrasebook import Phrasebook  # noqa: E402
from hubchat.translate.pipeline import Pipeline  # noqa: E402
from hubchat.translate.sentences import split  # noqa: E402
from hubchat.translate.worker import BatchWorker  # noqa: E402
from tests.translate_fixtures import REALISTIC, build_package  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"


# ---------------------------------------------------------------- inputs
def chat_messages(count: int, seed: int = 11) -> list[str]:
    """Distinct Mizo-looking chat messages of 1–3 sentences of 5–14 words."""
    rng = random.Random(seed)
    words = sorted(MIZO_WORDS)
    messages: list[str] = []
    seen: set[str] = set()
    while len(messages) < count:
        sentences = []
        for _ in range(rng.choices((1, 2, 3), weights=(50, 35, 15))[0]):
            sentence = " ".join(rng.choice(words) for _ in range(rng.randint(5, 14)))
            sentences.append(sentence[0].upper() + sentence[1:] + rng.choice((".", ".", "?", "!")))
        text = " ".join(sentences)
        if text not in seen:
            seen.add(text)
            messages.append(text)
    return messages


class NoCache:
    async def get_many(self, keys: Sequence[CacheKey]) -> list[str | None]:
        return [None] * len(keys)

    async def put_many(self, items: Sequence[tuple[CacheKey, str]]) -> None:
        return None


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[index]


@dataclasses.dataclass
class Run:
    name: str
    messages: int
    sentences: int
    wall_secs: float
    latencies_ms: list[float]

    @property
    def msgs_per_sec(self) -> float:
        return self.messages / self.wall_secs

    def row(self) -> str:
        lat = self.latencies_ms
        return (f"| {self.name} | {self.messages} | {self.sentences} | {self.wall_secs:.1f} | "
                f"{self.msgs_per_sec:.2f} | {self.sentences / self.wall_secs:.1f} | "
                f"{percentile(lat, 50):.0f} | {percentile(lat, 99):.0f} | {max(lat):.0f} |")


# ---------------------------------------------------------------- pipeline mode
async def batched_burst(pipeline: Pipeline, messages: list[str]) -> tuple[float, list[float]]:
    async def one(text: str) -> float:
        started = time.perf_counter()
        result = await pipeline.translate(text, "lus")
        assert result.status == "done", result
        return (time.perf_counter() - started) * 1000.0

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(m) for m in messages))
    return time.perf_counter() - started, list(latencies)


async def batched_paced(pipeline: Pipeline, messages: list[str], rate: float) -> tuple[float, list[float]]:
    loop = asyncio.get_running_loop()
    begin = loop.time()

    async def one(index: int, text: str) -> float:
        due = begin + index / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        result = await pipeline.translate(text, "lus")
        assert result.status == "done", result
        return (loop.time() - due) * 1000.0  # from the scheduled arrival: no coordinated omission

    latencies = await asyncio.gather(*(one(i, m) for i, m in enumerate(messages)))
    return loop.time() - begin, list(latencies)


def one_call_per_message(engine: Engine, messages: list[str], rate: float | None) -> tuple[float, list[float]]:
    """LibreTranslate-style: each message is one request (its sentences in one call), served in order."""
    begin = time.perf_counter()
    latencies = []
    for index, text in enumerate(messages):
        due = begin if rate is None else begin + index / rate
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        engine.translate("lus-en", [p.text for p in split(text) if p.text.strip()])
        latencies.append((time.perf_counter() - due) * 1000.0)
    return time.perf_counter() - begin, latencies


async def pipeline_mode(args: argparse.Namespace, work: Path) -> str:
    options = TranslateOptions(packages_dir=str(work / "packages"), batch_max_sentences=args.batch,
                               batch_window_ms=args.window_ms, queue_max=100_000,
                               max_decoding_length=args.max_decoding_length, beam_size=1, threads=args.threads,
                               models_rescan_secs=0)
    started = time.perf_counter()
    package = build_package(work, shape=REALISTIC, quantization="int8")
    info = packages.install(package, options.packages_path)
    build_secs = time.perf_counter() - started
    engine = Engine(options)
    engine.refresh()
    messages = chat_messages(args.messages)
    sentences = sum(len([p for p in split(m) if p.text.strip()]) for m in messages)
    engine.translate("lus-en", ["Chibai, engtin nge i awm?"])  # warm up

    runs: list[Run] = []
    worker = BatchWorker(engine.translate, batch_max_sentences=args.batch, batch_window_ms=args.window_ms,
                         queue_max=100_000)
    pipeline = Pipeline(phrasebook=Phrasebook(()), cache=NoCache(), worker=worker,
                        model_version=engine.model_version)
    async with worker.running():
        wall, lat = await batched_burst(pipeline, messages)
        runs.append(Run("batched pipeline, all at once", len(messages), sentences, wall, lat))
    wall, lat = await asyncio.to_thread(one_call_per_message, engine, messages, None)
    runs.append(Run("one call per message, all at once", len(messages), sentences, wall, lat))
    for rate in args.rates:
        async with worker.running():
            wall, lat = await batched_paced(pipeline, messages, rate)
        runs.append(Run(f"batched pipeline, {rate:g} msg/s", len(messages), sentences, wall, lat))
        wall, lat = await asyncio.to_thread(one_call_per_message, engine, messages, rate)
        runs.append(Run(f"one call per message, {rate:g} msg/s", len(messages), sentences, wall, lat))

    batched, single = runs[0], runs[1]
    lines = [
        f"Model: {info.model_version}, {info.size_bytes / 1e6:.0f} MB (int8), 6+6 layers, d_model 512, 8 heads, "
        f"FFN 2048, vocab 32000; built and installed in {build_secs:.1f} s. Decoding capped at "
        f"{args.max_decoding_length} tokens (random weights always reach the cap), beam 1, "
        f"CTranslate2 intra_threads {args.threads}, batch {args.batch} sentences / {args.window_ms:g} ms window. "
        f"{len(messages)} distinct messages, {sentences} sentences; cache off, phrasebook empty.",
        "",
        "| run | messages | sentences | wall s | msgs/s | sentences/s | latency p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|",
        *[r.row() for r in runs],
        "",
        f"Throughput, batched / one call per message: **{batched.msgs_per_sec / single.msgs_per_sec:.1f}x** "
        f"({batched.msgs_per_sec:.2f} vs {single.msgs_per_sec:.2f} msgs/s). Latency is measured from each "
        "message's (scheduled) arrival to its translation, queueing included.",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- events mode
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def running_server(args: argparse.Namespace, work: Path) -> AsyncIterator[tuple[str, Any]]:
    from aiohttp import web

    from hubchat.config import load_settings

    module_name, _, function = args.app.partition(":")
    build_app = getattr(__import__(module_name, fromlist=[function]), function)
    from hubchat.app import SERVICES

    settings = load_settings(
        environ={}, mongo_uri="", data_dir=str(work / "var"), redis_url=args.redis_url,
        redis_prefix=f"bench-{secrets.token_hex(4)}:", message_rate_limit=0, log_level="WARNING",
        log_format="text", jwt_secret="bench-" + secrets.token_hex(24),
        translate_max_decoding_length=args.max_decoding_length, translate_threads=args.threads,
        translate_batch_max_sentences=args.batch, translate_batch_window_ms=args.window_ms)
    package = build_package(work, shape=REALISTIC, quantization="int8")
    packages.install(package, Path(settings.data_dir) / "argos-packages")
    app = build_app(settings)
    services = app[SERVICES]
    if "translate" not in services:
        raise SystemExit("events mode: the translation capability is not wired into hubchat.app yet")
    assert services["translate"].options.max_decoding_length == args.max_decoding_length
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", services
    finally:
        await runner.cleanup()
        import redis.asyncio as aioredis

        client = aioredis.from_url(args.redis_url)
        keys = [k async for k in client.scan_iter(match=settings.redis_prefix + "*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def quick_user(services: Any, name: str, language: str) -> dict[str, Any]:
    accounts = services["accounts"]
    store = accounts.infra.store
    now = dt.datetime.now(dt.UTC)
    user_id, session_id = uuid.uuid4().hex[:24], uuid.uuid4().hex[:24]
    await store["users"].insert_one({
        "_id": user_id, "email": f"{uuid.uuid4().hex[:10]}@bench.example.org", "password_hash": "-",
        "display_name": name, "language": language, "country": "IN", "city": "Aizawl", "phone": None,
        "role": "officer", "verified": True, "created_at": now})
    await store["sessions"].insert_one({
        "_id": session_id, "user_id": user_id, "digest": "-", "used_digests": [], "created_at": now,
        "refreshed_at": now, "revoked_at": None, "expires_at": now + dt.timedelta(days=1)})
    return {"id": user_id, "token": accounts.signer.access_token(user_id, session_id, "officer")}


async def events_mode(args: argparse.Namespace, work: Path) -> str:
    import socketio

    async with running_server(args, work) as (url, services):
        sent: dict[str, float] = {}  # client_msg_id -> scheduled send time
        ids: dict[str, str] = {}  # message id -> client_msg_id
        new_at: dict[str, float] = {}
        translated_at: dict[str, float] = {}
        clients = []
        pairs = []
        for index in range(args.pairs):
            sender_user = await quick_user(services, f"Sender {index}", "lus")
            reader_user = await quick_user(services, f"Reader {index}", "en")
            sender, reader = socketio.AsyncClient(reconnection=False), socketio.AsyncClient(reconnection=False)

            @reader.on("message:new")  # type: ignore[untyped-decorator,misc,unused-ignore]
            async def on_new(data: dict[str, Any]) -> None:
                ids[data["id"]] = data["client_msg_id"]
                new_at[data["client_msg_id"]] = time.perf_counter()

            @reader.on("message:translated")  # type: ignore[untyped-decorator,misc,unused-ignore]
            async def on_translated(data: dict[str, Any]) -> None:
                translated_at[data["message_id"]] = time.perf_counter()

            for client, user in ((sender, sender_user), (reader, reader_user)):
                await client.connect(url, auth={"token": user["token"]}, transports=["websocket"], wait_timeout=10)
                clients.append(client)
            opened = await sender.call("dm:open", {"user_id": reader_user["id"]}, timeout=10)
            pairs.append((sender, opened["channel"]["id"]))
        await asyncio.sleep(0.5)
        texts = chat_messages(100_000, seed=23)
        rows = []
        cursor = 0
        for rate in args.rates:
            loop_begin = time.perf_counter()
            total = int(rate * args.duration_secs)
            batch_ids = []

            async def send(index: int, text: str, loop_begin: float = loop_begin, rate: float = rate,
                           batch_ids: list[str] = batch_ids) -> None:
                due = loop_begin + index / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                sender, channel_id = pairs[index % len(pairs)]
                client_id = uuid.uuid4().hex
                sent[client_id] = due
                batch_ids.append(client_id)
                await sender.call("message:send", {"channel_id": channel_id, "client_msg_id": client_id,
                                                   "body": text}, timeout=30)

            await asyncio.gather(*(send(i, texts[cursor + i]) for i in range(total)))
            cursor += total
            deadline = time.perf_counter() + args.straggler_secs
            while time.perf_counter() < deadline:
                done = {ids.get(m) for m in translated_at}
                if all(c in done for c in batch_ids):
                    break
                await asyncio.sleep(0.05)
            by_client = {c: m for m, c in ids.items()}
            deliver = [(new_at[c] - sent[c]) * 1000 for c in batch_ids if c in new_at]
            translate = [(translated_at[by_client[c]] - sent[c]) * 1000 for c in batch_ids
                         if c in by_client and by_client[c] in translated_at]
            rows.append(f"| {rate:g} | {total} | {percentile(deliver, 50):.0f} | {percentile(deliver, 99):.0f} | "
                        f"{percentile(translate, 50):.0f} | {percentile(translate, 99):.0f} | "
                        f"{total - len(translate)} |")
        for client in clients:
            await client.disconnect()
    return "\n".join([
        f"hubchat in this process (embedded MongoDB-wire server, Redis), {args.pairs} direct channels, "
        f"{args.duration_secs:g} s per rate, Mizo messages of 1–3 sentences, model as above (int8, decoding capped "
        f"at {args.max_decoding_length}), intra_threads {args.threads}; clients share the machine.",
        "",
        "| rate msg/s | messages | send→message:new p50 ms | p99 ms | send→message:translated p50 ms | p99 ms "
        "| not translated in time |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])


# ---------------------------------------------------------------- main
def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} " \
           f"usable), {model}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("pipeline", "events"), default="pipeline")
    parser.add_argument("--messages", type=int, default=120)
    parser.add_argument("--max-decoding-length", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32, help="batch_max_sentences")
    parser.add_argument("--window-ms", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CTranslate2 intra_threads")
    parser.add_argument("--rates", default=None,
                        help="messages/s, comma separated (pipeline default 2,6; events default 2,5,10)")
    parser.add_argument("--duration-secs", type=float, default=10.0)
    parser.add_argument("--straggler-secs", type=float, default=60.0)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--app", default="hubchat.app:build_app", help="module:function building the app")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    default_rates = "2,6" if args.mode == "pipeline" else "2,5,10"
    args.rates = [float(r) for r in (args.rates or default_rates).split(",") if r]
    command = "python bench/translate_bench.py " + shlex.join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="hubchat-translate-bench-") as tmp:
        work = Path(tmp)
        body = asyncio.run(pipeline_mode(args, work) if args.mode == "pipeline" else events_mode(args, work))
    stamp = subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M UTC"], capture_output=True, text=True).stdout.strip()
    section = (f"\n## Translation, {args.mode} mode — {stamp}\n\nMachine: {machine()}.  \n"
               f"Command: `{command}`\n\n{body}\n")
    print(section)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
