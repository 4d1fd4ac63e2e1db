"""Packages, engine, worker, cache and pipeline against a real (tiny) Argos package and real Redis."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import re
import threading
import types
import zipfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from hubchat.channels.translations import MessageTranslations
from hubchat.translate import packages
from hubchat.translate.cache import CacheKey, MemoryTranslationCache, RedisTranslationCache, TranslationCache
from hubchat.translate.commands import add_commands, run_command
from hubchat.translate.engine import Engine, ModelUnavailable
from hubchat.translate.metrics import TranslateMetrics
from hubchat.translate.options import TranslateOptions
from hubchat.translate.phrasebook import Phrasebook
from hubchat.translate.pipeline import Pipeline
from hubchat.translate.worker import BatchWorker, Priority, Shed
from tests.translate_fixtures import *  # noqa: F403 (fixtures)
from tests.translate_fixtures import build_package

SENTENCES = [
    "Min pui rawh.", "Ka hliam tak XZ0.", "Chibai", "Police ko rawh! Tui min pe rawh.", "khawiah nge i awm",
    "Naktukah inkhawmna a awm ang, i lo kal ang em?", "Ka lawm e", "A", "Damdawiinah min hruai rawh XZ0 XZ1.",
    "Ka bo, kawng ka hre lo. Khawiah nge embassy a awm?", "Aw", "Kan inhmu leh ang.",
]


@contextlib.asynccontextmanager
async def running_pipeline(options: TranslateOptions, cache: TranslationCache | None = None,
                           metrics: TranslateMetrics | None = None) -> AsyncIterator[Pipeline]:
    engine = Engine(options)
    await asyncio.to_thread(engine.refresh)
    worker = BatchWorker(engine.translate, batch_max_sentences=options.batch_max_sentences,
                         batch_window_ms=options.batch_window_ms, queue_max=options.queue_max, metrics=metrics)
    async with worker.running():
        yield Pipeline(phrasebook=Phrasebook.load(), cache=cache or MemoryTranslationCache(), worker=worker,
                       model_version=engine.model_version)


def sample(metrics: TranslateMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


# ---------------------------------------------------------------- packages and CLI
def test_install_and_list(empty_translate_options: TranslateOptions, argos_package_lus_en: Path) -> None:
    packages_dir = empty_translate_options.packages_path
    assert packages.installed(packages_dir) == []
    info = packages.install(argos_package_lus_en, packages_dir)
    assert (info.direction, info.package_version, info.tokenizer) == ("lus-en", "0.1.0", "sentencepiece")
    assert info.model_version.startswith("lus-en@0.1.0+")
    assert (info.path / "model" / "model.bin").exists() and (info.path / "metadata.json").exists()
    assert [p.direction for p in packages.installed(packages_dir)] == ["lus-en"]


def test_upgrade_replaces_the_older_package(empty_translate_options: TranslateOptions, tmp_path: Path) -> None:
    packages_dir = empty_translate_options.packages_path
    packages.install(build_package(tmp_path, version="0.1.0"), packages_dir)
    newer = packages.install(build_package(tmp_path, version="0.2.0"), packages_dir)
    assert [p.model_version for p in packages.installed(packages_dir)] == [newer.model_version]
    assert len(list(packages_dir.iterdir())) == 1


def test_install_refuses_what_is_not_a_lus_en_package(empty_translate_options: TranslateOptions,
                                                      tmp_path: Path) -> None:
    not_zip = tmp_path / "x.argosmodel"
    not_zip.write_text("hello")
    with pytest.raises(packages.PackageError, match="not a zip"):
        packages.install(not_zip, empty_translate_options.packages_path)
    french = build_package(tmp_path, from_code="en", to_code="fr")
    with pytest.raises(packages.PackageError, match="lus→en and en→lus"):
        packages.install(french, empty_translate_options.packages_path)
    broken = tmp_path / "broken.argosmodel"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("pkg/metadata.json", '{"from_code": "lus", "to_code": "en"}')
    with pytest.raises(packages.PackageError, match="model.bin"):
        packages.install(broken, empty_translate_options.packages_path)


def test_models_commands(empty_translate_options: TranslateOptions, argos_package_lus_en: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="hubchat")
    add_commands(parser.add_subparsers(dest="command", required=True))
    settings = types.SimpleNamespace(translate_packages_dir=empty_translate_options.packages_dir)
    install = parser.parse_args(["models", "install", str(argos_package_lus_en)])
    assert run_command(install, settings, messages_for=MessageTranslations) == 0  # type: ignore[arg-type]
    assert "installed lus-en 0.1.0" in capsys.readouterr().out
    listed = parser.parse_args(["models", "list"])
    assert run_command(listed, settings, messages_for=MessageTranslations) == 0  # type: ignore[arg-type]
    listing = capsys.readouterr().out
    assert re.search(r"lus-en +0\.1\.0 +\d+\.\d (kB|MB) +lus-en@0\.1\.0\+[0-9a-f]{12}", listing)
    assert "en-lus   (not installed" in listing


# ---------------------------------------------------------------- engine
async def test_engine_lists_the_pair_and_batch_equals_one_by_one(translate_options: TranslateOptions) -> None:
    engine = Engine(translate_options)
    assert await asyncio.to_thread(engine.refresh)
    assert [p.direction for p in engine.packages()] == ["lus-en"]
    assert engine.model_version("en-lus") is None
    version, batched = await asyncio.to_thread(engine.translate, "lus-en", SENTENCES)
    assert version == engine.model_version("lus-en")
    one_by_one = [(await asyncio.to_thread(engine.translate, "lus-en", [s]))[1][0] for s in SENTENCES]
    assert batched == one_by_one
    assert all(isinstance(t, str) and t for t in batched)
    again = Engine(translate_options)
    await asyncio.to_thread(again.refresh)
    assert (await asyncio.to_thread(again.translate, "lus-en", SENTENCES))[1] == batched  # deterministic
    with pytest.raises(ModelUnavailable):
        engine.translate("en-lus", ["Help"])


async def test_engine_refresh_picks_up_a_new_package(empty_translate_options: TranslateOptions,
                                                     argos_package_en_lus: Path) -> None:
    engine = Engine(empty_translate_options)
    assert not await asyncio.to_thread(engine.refresh)
    packages.install(argos_package_en_lus, empty_translate_options.packages_path)
    assert await asyncio.to_thread(engine.refresh)
    assert engine.model_version("en-lus") is not None
    assert not await asyncio.to_thread(engine.refresh)  # nothing changed since


# ---------------------------------------------------------------- pipeline
async def test_concurrent_texts_are_batched_and_equal_to_one_by_one(translate_options: TranslateOptions) -> None:
    texts = [f"{a} {b}" for a, b in zip(SENTENCES, reversed(SENTENCES), strict=True)]
    alone = []
    async with running_pipeline(translate_options) as pipeline:
        for text in texts:
            alone.append(await pipeline.translate(text, "lus"))
    metrics = TranslateMetrics()
    async with running_pipeline(translate_options, metrics=metrics) as pipeline:
        together = await asyncio.gather(*(pipeline.translate(t, "lus") for t in texts))
    assert [r.text for r in together] == [r.text for r in alone]
    assert {r.status for r in together} == {"done"}
    batches = sample(metrics, "hubchat_translate_batch_sentences_count")
    assert 1 <= batches < len(texts)


async def test_spans_survive_the_model(translate_options: TranslateOptions) -> None:
    text = "Ka hliam, min pui rawh tunah. Ka phone chu +91 98765 43210 a ni. Map: https://maps.example/x?y=1 🙏"
    async with running_pipeline(translate_options) as pipeline:
        result = await pipeline.translate(text, "lus")
    assert result.status == "done" and result.engine == "model" and result.text
    for span in ("+91 98765 43210", "https://maps.example/x?y=1", "🙏"):
        assert result.text.count(span) == 1


async def test_phrasebook_first_and_mixed(translate_options: TranslateOptions) -> None:
    async with running_pipeline(translate_options) as pipeline:
        whole = await pipeline.translate("min pui rawh!!", "lus")
        mixed = await pipeline.translate("Ka hliam.\nNaktukah inkhawmna a awm ang.", "lus")
        with_emoji = await pipeline.translate("Police ko rawh 🙏", "lus")
    assert (whole.status, whole.engine, whole.text) == ("done", "phrasebook", "Help me")
    assert whole.unvetted and mixed.unvetted  # the phrasebook has no reviewed rows yet
    assert whole.model_version is not None and whole.model_version.startswith("phrasebook@")
    assert mixed.engine == "mixed" and mixed.text is not None
    assert mixed.text.startswith("I am injured\n")
    assert mixed.model_version is not None and mixed.model_version.startswith("lus-en@")
    assert (with_emoji.engine, with_emoji.text) == ("phrasebook", "Call the police 🙏")


async def test_missing_model_is_unavailable_but_phrasebook_still_works(
        empty_translate_options: TranslateOptions) -> None:
    async with running_pipeline(empty_translate_options) as pipeline:
        missing = await pipeline.translate("Naktukah inkhawmna a awm ang.", "lus")
        phrase = await pipeline.translate("Help me", "en")
        neutral = await pipeline.translate("👍 https://example.org 42", "en")
    assert (missing.status, missing.source_lang, missing.target_lang, missing.text) == \
        ("unavailable", "lus", "en", None)
    assert (phrase.status, phrase.engine, phrase.text) == ("done", "phrasebook", "Min pui rawh")
    assert (neutral.status, neutral.text) == ("same_language", "👍 https://example.org 42")


async def test_sentences_glued_without_a_space_translate_apart(
        empty_translate_options: TranslateOptions) -> None:
    async with running_pipeline(empty_translate_options) as pipeline:
        glued = await pipeline.translate("Ka hliam.Police ko rawh", "lus")
        particle = await pipeline.translate("Ka lawm e. Min pui rawh", "lus")
    assert (glued.status, glued.engine, glued.text) == ("done", "phrasebook", "I am injured Call the police")
    assert glued.unvetted
    assert (particle.status, particle.text) == ("done", "Thank you Help me")


async def test_only_unvetted_phrases_mark_the_result(translate_options: TranslateOptions, tmp_path: Path) -> None:
    book = tmp_path / "book.tsv"
    book.write_text("Min pui rawh\tHelp me\temergency\tyes\nKa hliam\tI am injured\temergency\tno\n",
                    encoding="utf-8")
    async with running_pipeline(translate_options) as pipeline:
        pipeline.phrasebook = Phrasebook.load(book)
        vetted = await pipeline.translate("Min pui rawh!", "lus")
        mixed = await pipeline.translate("Min pui rawh. Ka hliam.", "lus")
        model = await pipeline.translate("Min pui rawh. Naktukah inkhawmna a awm ang.", "lus")
    assert (vetted.engine, vetted.text, vetted.unvetted) == ("phrasebook", "Help me", False)
    assert (mixed.engine, mixed.text, mixed.unvetted) == ("phrasebook", "Help me I am injured", True)
    assert (model.engine, model.unvetted) == ("mixed", False)


# ---------------------------------------------------------------- cache across nodes (real Redis)
async def test_cache_is_shared_by_two_nodes(translate_options: TranslateOptions, redis_client: aioredis.Redis,
                                            redis_prefix: str) -> None:
    text = "Naktukah inkhawmna a awm ang, i lo kal ang em?"
    node_a, node_b = TranslateMetrics(), TranslateMetrics()
    async with running_pipeline(translate_options, RedisTranslationCache(redis_client, redis_prefix),
                                node_a) as pipeline:
        first = await pipeline.translate(text, "lus")
    async with running_pipeline(translate_options, RedisTranslationCache(redis_client, redis_prefix),
                                node_b) as pipeline:
        second = await pipeline.translate(text, "lus")
    assert (first.engine, second.engine) == ("model", "cache")
    assert first.text == second.text
    assert sample(node_b, "hubchat_translate_batch_sentences_count") == 0  # node B never ran the model
    assert await redis_client.zcard(redis_prefix + "tr:index") == 1


async def test_redis_cache_is_bounded_and_expires(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    cache = RedisTranslationCache(redis_client, redis_prefix, ttl_secs=60, max_entries=3)
    keys = [CacheKey("v1", "lus-en", f"sentence {i}") for i in range(5)]
    for key in keys:
        await cache.put_many([(key, key.text.upper())])
    assert await redis_client.zcard(redis_prefix + "tr:index") == 3
    assert await cache.get_many(keys) == [None, None, "SENTENCE 2", "SENTENCE 3", "SENTENCE 4"]
    ttl = await redis_client.ttl(cache._name(keys[4]))
    assert 0 < ttl <= 60


async def test_redis_cache_failure_is_a_miss(redis_prefix: str) -> None:
    errors: list[str] = []
    broken = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        cache = RedisTranslationCache(broken, redis_prefix, on_error=errors.append)
        key = CacheKey("v1", "lus-en", "x")
        assert await cache.get_many([key]) == [None]
        await cache.put_many([(key, "y")])
    finally:
        await broken.aclose()
    assert errors == ["get", "put"]


# ---------------------------------------------------------------- worker: priority and shedding
class GatedModel:
    """A fake batch translator that holds its first batch until released, and records batches."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.batches: list[list[str]] = []

    def __call__(self, direction: str, sentences: Sequence[str]) -> tuple[str, list[str]]:
        self.started.set()
        self.gate.wait(10)
        self.batches.append(list(sentences))
        return "fake@1", [s.upper() for s in sentences]


async def test_sos_goes_ahead_of_chat() -> None:
    model = GatedModel()
    worker = BatchWorker(model, batch_max_sentences=1, batch_window_ms=0, queue_max=10)
    async with worker.running():
        first = asyncio.ensure_future(worker.translate("lus-en", ["chat 0"], Priority.CHAT))
        await asyncio.to_thread(model.started.wait, 5)
        chats = [asyncio.ensure_future(worker.translate("lus-en", [f"chat {i}"], Priority.CHAT)) for i in (1, 2)]
        backfill = asyncio.ensure_future(worker.translate("lus-en", ["old"], Priority.BACKFILL))
        sos = asyncio.ensure_future(worker.translate("lus-en", ["sos"], Priority.SOS))
        await asyncio.sleep(0.05)
        model.gate.set()
        results = await asyncio.gather(first, *chats, backfill, sos)
    assert [b[0] for b in model.batches] == ["chat 0", "sos", "chat 1", "chat 2", "old"]
    assert results[-1] == ("fake@1", ["SOS"])


async def test_full_queue_sheds_chat_and_counts_it() -> None:
    model = GatedModel()
    metrics = TranslateMetrics()
    worker = BatchWorker(model, batch_max_sentences=1, batch_window_ms=0, queue_max=2, metrics=metrics)
    async with worker.running():
        running = asyncio.ensure_future(worker.translate("lus-en", ["busy"]))
        await asyncio.to_thread(model.started.wait, 5)
        queued = [asyncio.ensure_future(worker.translate("lus-en", [f"chat {i}"])) for i in (1, 2)]
        await asyncio.sleep(0)
        with pytest.raises(Shed):
            await worker.translate("lus-en", ["one too many"])
        assert sample(metrics, "hubchat_translate_shed_total", priority="chat") == 1
        sos = asyncio.ensure_future(worker.translate("lus-en", ["sos"], Priority.SOS))  # evicts newest chat
        await asyncio.sleep(0)
        with pytest.raises(Shed):
            await queued[1]
        assert sample(metrics, "hubchat_translate_shed_total", priority="chat") == 2
        model.gate.set()
        assert await sos == ("fake@1", ["SOS"])
        assert await queued[0] == ("fake@1", ["CHAT 1"])
        await running


async def test_shed_text_is_pending_backfill(translate_options: TranslateOptions) -> None:
    engine = Engine(translate_options)
    await asyncio.to_thread(engine.refresh)
    model = GatedModel()
    worker = BatchWorker(model, batch_max_sentences=1, batch_window_ms=0, queue_max=1)
    pipeline = Pipeline(phrasebook=Phrasebook.load(), cache=MemoryTranslationCache(), worker=worker,
                        model_version=engine.model_version)
    async with worker.running():
        busy = asyncio.ensure_future(pipeline.translate("Naktukah inkhawmna a awm ang", "lus"))
        await asyncio.to_thread(model.started.wait, 5)
        waiting = asyncio.ensure_future(pipeline.translate("Ka kal dawn e", "lus"))
        await asyncio.sleep(0.01)
        shed = await pipeline.translate("Thil dang a awm em", "lus")
        model.gate.set()
        await asyncio.gather(busy, waiting)
    assert (shed.status, shed.text) == ("pending_backfill", None)


async def test_window_collects_texts_into_one_batch() -> None:
    calls: list[int] = []

    def model(direction: str, sentences: Sequence[str]) -> tuple[str, list[str]]:
        calls.append(len(sentences))
        return "fake@1", list(sentences)

    worker = BatchWorker(model, batch_max_sentences=32, batch_window_ms=50, queue_max=100)
    async with worker.running():
        results = await asyncio.gather(*(worker.translate("lus-en", [f"s{i}", "same"]) for i in range(10)))
    assert calls == [11]  # one batch; the shared sentence translated once
    assert results[3] == ("fake@1", ["s3", "same"])


def test_options_from_settings_and_checks() -> None:
    settings = types.SimpleNamespace(translate_batch_max_sentences=8, translate_packages_dir="/x")
    options = TranslateOptions.from_settings(settings)
    assert (options.batch_max_sentences, options.packages_dir, options.queue_max) == (8, "/x", 1000)
    with pytest.raises(Exception, match="translate_queue_max"):
        dataclasses.replace(options, queue_max=0).check()
