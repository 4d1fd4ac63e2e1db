"""``hubchat translate evaluate``: chrF and BLEU (sacrebleu) of the installed models on reference
pairs, per direction, through the pipeline without phrasebook, memory or cache — against a real
(tiny, deterministic) Argos package."""

from __future__ import annotations

import argparse
import io
import json
import re
import types
from pathlib import Path

import pytest

from hubchat.channels.translations import MessageTranslations
from hubchat.config import Settings
from hubchat.errors import BadRequest
from hubchat.translate import add_commands, packages, run_command
from hubchat.translate.evaluate import evaluate, read_pairs
from hubchat.translate.options import TranslateOptions
from tests.translate_fixtures import *  # noqa: F403 (fixtures)

HEADER = "source_lang\ttarget_lang\tsource_text\ttarget_text\n"
MIZO = ["Naktukah inkhawmna a awm ang.", "Min pui rawh, ka hliam.", "Khawiah nge i awm?"]


def test_read_pairs_accepts_the_exports() -> None:
    pairs = read_pairs(io.StringIO(HEADER + "lus\ten\tKa lo kal ang\tI will come\n\nen\tlus\tHello\tChibai\n"))
    assert pairs == {"lus-en": [("Ka lo kal ang", "I will come")], "en-lus": [("Hello", "Chibai")]}
    corrections = ("source_lang\ttarget_lang\tsource_text\tmachine_translation\tcorrected_text\tauthor_id\tat\n"
                   "lus\ten\tKa hliam\t\tI am hurt\\nbadly\tu1\t2025-01-01T00:00:00Z\n")
    assert read_pairs(io.StringIO(corrections)) == {"lus-en": [("Ka hliam", "I am hurt\nbadly")]}
    with pytest.raises(BadRequest, match="lacks target_text"):
        read_pairs(io.StringIO("source_lang\ttarget_lang\tsource_text\n"))
    with pytest.raises(BadRequest, match="line 2"):
        read_pairs(io.StringIO(HEADER + "lus\tfr\tKa lo kal ang\tJe viens\n"))


async def test_scores_are_the_models_own(translate_options: TranslateOptions) -> None:
    # The tiny model's output is gibberish but deterministic: as its own reference it scores 100,
    # against the real English far less.
    first = await evaluate(translate_options, {"lus-en": [(text, "x") for text in MIZO]})
    assert first[0].model_version is not None and first[0].chrf is not None and first[0].chrf < 10
    from hubchat.translate.cache import MemoryTranslationCache
    from hubchat.translate.engine import Engine
    from hubchat.translate.phrasebook import Phrasebook
    from hubchat.translate.pipeline import Pipeline
    from hubchat.translate.worker import BatchWorker

    engine = Engine(translate_options)
    engine.refresh()
    worker = BatchWorker(engine.translate)
    async with worker.running():
        pipeline = Pipeline(phrasebook=Phrasebook(()), cache=MemoryTranslationCache(), worker=worker,
                            model_version=engine.model_version, override_confidence=1.01)
        own = [(await pipeline.translate(text, "lus")).text or "" for text in MIZO]
    english = ["There is a meeting tomorrow.", "Help me, I am injured.", "Where are you?"]
    [perfect] = await evaluate(translate_options, {"lus-en": list(zip(MIZO, own, strict=True))})
    real, missing = await evaluate(translate_options, {"lus-en": list(zip(MIZO, english, strict=True)),
                                                        "en-lus": [("Help me", "Min pui rawh")]})
    assert (perfect.chrf, perfect.bleu, perfect.pairs, perfect.failed) == (100.0, 100.0, 3, 0)
    assert real.chrf is not None and real.chrf < 50.0
    assert (missing.direction, missing.model_version, missing.chrf) == ("en-lus", None, None)


def test_evaluate_command(settings: Settings, argos_package_lus_en: Path, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    def hubchat(*argv: str) -> int:
        parser = argparse.ArgumentParser(prog="hubchat")
        add_commands(parser.add_subparsers(dest="command", required=True))
        return run_command(parser.parse_args(list(argv)), settings, messages_for=MessageTranslations)

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(HEADER + "lus\ten\tMin pui rawh\tHelp me\nen\tlus\tHelp me\tMin pui rawh\n", encoding="utf-8")
    assert hubchat("translate", "evaluate", "--pairs", str(pairs)) == 0
    assert "no model installed" in capsys.readouterr().out  # neither direction yet
    packages.install(argos_package_lus_en, Path(settings.data_dir) / "argos-packages")
    assert hubchat("translate", "evaluate", "--pairs", str(pairs), "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["direction"], r["pairs"]) for r in rows] == [("lus-en", 1), ("en-lus", 1)]
    assert rows[0]["model_version"].startswith("lus-en@") and 0.0 <= rows[0]["chrf"] <= 100.0
    assert rows[1]["model_version"] is None and rows[1]["chrf"] is None


def test_models_install_scores_and_refuses_below_the_floor(tmp_path: Path, argos_package_lus_en: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    pairs = tmp_path / "heldout.tsv"
    pairs.write_text(HEADER + "".join(f"lus\ten\t{text}\t{english}\n" for text, english in zip(
        MIZO, ["There is a meeting tomorrow.", "Help me, I am injured.", "Where are you?"], strict=True)),
        encoding="utf-8")
    packages_dir = tmp_path / "argos-packages"

    def install(*flags: str, min_chrf: float) -> int:
        parser = argparse.ArgumentParser(prog="hubchat")
        add_commands(parser.add_subparsers(dest="command", required=True))
        settings = types.SimpleNamespace(translate_packages_dir=str(packages_dir), translate_min_chrf=min_chrf,
                                         translate_eval_pairs_path=str(pairs))
        return run_command(parser.parse_args(["models", "install", str(argos_package_lus_en), *flags]),
                           settings, messages_for=MessageTranslations)  # type: ignore[arg-type]

    assert install(min_chrf=90.0) == 1  # the gibberish model scores far below
    out, err = capsys.readouterr()
    assert re.search(r"lus-en: chrF +\d+\.\d\d +BLEU +\d+\.\d\d on 3 pairs", out) and "refused" in err
    assert packages.installed(packages_dir) == []
    assert install("--force", min_chrf=90.0) == 0
    assert "installing anyway" in capsys.readouterr().err
    assert [p.direction for p in packages.installed(packages_dir)] == ["lus-en"]
    assert install(min_chrf=0.0) == 0  # no floor: the score is shown, the package installed
    assert "installed lus-en 0.1.0" in capsys.readouterr().out
