"""Quality of an installed model on reference pairs: ``hubchat translate evaluate --pairs FILE.tsv``.

Each source text goes through the pipeline as a chat message would — spans protected, sentences
split, the model, spans restored — but with no phrasebook, translation memory or cache, so the
score is the package's own.  The declared language is the pair's source language (the detector
never overrides it here).  Scores per direction, with sacrebleu: corpus chrF (the primary metric
for a morphologically rich, low-resource language such as Mizo) and BLEU, both 0..100.

``hubchat models install`` uses the same scoring as a quality gate (:func:`quality_gate`): when
``translate_eval_pairs_path`` is set, the package is installed into a temporary directory and
scored on the pairs of its direction first; below ``translate_min_chrf`` it is refused unless
forced.

The pairs file is a TSV with a header naming ``source_lang``, ``target_lang``, ``source_text`` and
``target_text`` (or ``corrected_text``: the corrections export and the translation memory export
are evaluation files as they are); escapes as in those exports.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hubchat.translate import packages
from hubchat.translate.cache import MemoryTranslationCache
from hubchat.translate.engine import Engine
from hubchat.translate.memory import DIRECTIONS, pair_rows
from hubchat.translate.options import TranslateOptions
from hubchat.translate.phrasebook import Phrasebook
from hubchat.translate.pipeline import Pipeline
from hubchat.translate.worker import BatchWorker, Priority

NEVER_OVERRIDE = 1.01  # above any detector confidence


@dataclasses.dataclass(frozen=True)
class Score:
    direction: str
    pairs: int
    model_version: str | None  # None: no package installed for the direction
    chrf: float | None = None
    bleu: float | None = None
    failed: int = 0  # texts the model did not translate

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def read_pairs(lines: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """(source, reference) pairs per direction."""
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in pair_rows(lines, "--pairs"):
        source, reference = row.source.strip(), row.target.strip()
        if source and reference:
            pairs[row.direction].append((source, reference))
    return dict(pairs)


def score(direction: str, hypotheses: Sequence[str], references: Sequence[str], model_version: str) -> Score:
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    chrf = CHRF().corpus_score(list(hypotheses), [list(references)]).score
    bleu = BLEU().corpus_score(list(hypotheses), [list(references)]).score
    return Score(direction, len(references), model_version, round(chrf, 2), round(bleu, 2))


async def evaluate(options: TranslateOptions, pairs: dict[str, list[tuple[str, str]]]) -> list[Score]:
    engine = Engine(options)
    await asyncio.to_thread(engine.refresh)
    worker = BatchWorker(engine.translate, batch_max_sentences=options.batch_max_sentences,
                         batch_window_ms=options.batch_window_ms, queue_max=max(options.queue_max, 100_000))
    scores = []
    async with worker.running():
        pipeline = Pipeline(phrasebook=Phrasebook(()), cache=MemoryTranslationCache(), worker=worker,
                            model_version=engine.model_version, override_confidence=NEVER_OVERRIDE)
        for direction in DIRECTIONS:
            if direction not in pairs:
                continue
            version = engine.model_version(direction)
            if version is None:
                scores.append(Score(direction, len(pairs[direction]), None))
                continue
            source_lang = direction.split("-")[0]
            hypotheses, failed = [], 0
            for source, _ in pairs[direction]:
                result = await pipeline.translate(source, source_lang, Priority.BACKFILL)
                if result.status not in ("done", "same_language"):
                    failed += 1
                hypotheses.append(result.text or "")
            found = score(direction, hypotheses, [ref for _, ref in pairs[direction]], version)
            scores.append(dataclasses.replace(found, failed=failed))
    return scores


def quality_gate(options: TranslateOptions, archive: Path) -> Score | None:
    """The package's score on ``options.eval_pairs_path`` for its direction, before it is
    installed (None when no pairs file is set or it has no pairs of that direction)."""
    if not options.eval_pairs_path:
        return None
    metadata = packages.check_archive(archive)
    direction = f"{metadata['from_code']}-{metadata['to_code']}"
    with open(options.eval_pairs_path, encoding="utf-8", newline="") as handle:
        pairs = read_pairs(handle).get(direction)
    if not pairs:
        return None
    with tempfile.TemporaryDirectory(prefix="hubchat-eval-") as scratch:
        packages.install(archive, Path(scratch))
        trial = dataclasses.replace(options, packages_dir=scratch, models_rescan_secs=0)
        [found] = asyncio.run(evaluate(trial, {direction: pairs}))
    return found
