"""A real Argos Translate package for tests (and the benchmark), built offline in milliseconds.

``build_package`` makes a CTranslate2 Transformer from deterministic numpy weights through the
model-spec API (``TransformerSpec`` filled by a ``Converter`` subclass), a SentencePiece model
(trained on a few Mizo and English lines, or — for realistic vocabulary sizes — grown to the
requested size by adding pieces to its model proto), and zips them in the Argos layout::

    translate-lus_en-<version>/
        metadata.json            {"package_version", "argos_version", "from_code", "to_code", …}
        sentencepiece.model
        model/                   model.bin, config.json, shared_vocabulary.json

The tiny model's output is gibberish, but it is deterministic — which is what the tests assert
(batched output equals one-by-one output, statuses, storage, events), never quality.

Fixtures (import them into a test module by name):

* ``argos_package_lus_en`` / ``argos_package_en_lus`` — session-scoped package files;
* ``translate_options`` — TranslateOptions with a fresh packages directory holding lus→en,
  installed through ``argostranslate.package.install_from_path``;
* ``empty_translate_options`` — the same with nothing installed.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sentencepiece
from ctranslate2.converters import Converter
from ctranslate2.specs import transformer_spec
from sentencepiece import sentencepiece_model_pb2

from hubchat.translate import packages
from hubchat.translate.options import TranslateOptions

__all__ = [  # the fixtures, for ``from tests.translate_fixtures import *`` in test modules
    "argos_build_dir", "argos_package_en_lus", "argos_package_lus_en", "empty_translate_options",
    "translate_options",
]

TRAINING_LINES = (
    "Chibai, engtin nge i awm? Ka dam tha e, ka lawm e.",
    "Min pui rawh, ka hliam. Police ko rawh!",
    "Khawiah nge i awm? Ka bo, kawng ka hre lo.",
    "Tui min pe rawh. Damdawiinah min hruai rawh.",
    "Kan inhmu leh ang. Naktukah inkhawmna a awm ang.",
    "Hello, how are you? I am fine, thank you.",
    "Help me, I am injured. Call the police!",
    "Where are you? I am lost and I do not know the way.",
    "Give me water please. Take me to the hospital.",
    "See you again tomorrow at the meeting, XZ0 XZ1 XZ2.",
)


@dataclasses.dataclass(frozen=True)
class ModelShape:
    layers: int = 2
    d_model: int = 32
    heads: int = 4
    ffn: int = 64
    vocab_size: int = 120  # SentencePiece target; the trained model may be a little smaller
    eos_bias: float = -2.0  # < 0 keeps the random model from stopping at once
    seed: int = 20240611


TINY = ModelShape()
REALISTIC = ModelShape(layers=6, d_model=512, heads=8, ffn=2048, vocab_size=32000, eos_bias=0.0)


class RandomTransformerConverter(Converter):  # type: ignore[misc]
    """A Transformer with deterministic random weights, through CTranslate2's converter API."""

    def __init__(self, vocabulary: Sequence[str], shape: ModelShape):
        self.vocabulary = list(vocabulary)
        self.shape = shape

    def _load(self) -> transformer_spec.TransformerSpec:
        shape, rng = self.shape, np.random.default_rng(self.shape.seed)
        d, ffn, vocab = shape.d_model, shape.ffn, len(self.vocabulary)

        def weight(rows: int, cols: int, scale: float | None = None) -> np.ndarray:
            std = scale if scale is not None else 1.0 / np.sqrt(cols)
            return (rng.standard_normal((rows, cols), dtype=np.float32) * std).astype(np.float32)

        def linear(spec: object, rows: int, cols: int) -> None:
            spec.weight = weight(rows, cols)  # type: ignore[attr-defined]
            spec.bias = np.zeros(rows, np.float32)  # type: ignore[attr-defined]

        def norm(spec: object) -> None:
            spec.gamma = np.ones(d, np.float32)  # type: ignore[attr-defined]
            spec.beta = np.zeros(d, np.float32)  # type: ignore[attr-defined]

        spec = transformer_spec.TransformerSpec.from_config((shape.layers, shape.layers), shape.heads)
        embeddings = weight(vocab, d, scale=1.0)
        spec.encoder.embeddings[0].weight = embeddings
        spec.decoder.embeddings.weight = embeddings
        for layer in spec.encoder.layer:
            norm(layer.self_attention.layer_norm)
            linear(layer.self_attention.linear[0], 3 * d, d)  # fused query/key/value
            linear(layer.self_attention.linear[1], d, d)
            norm(layer.ffn.layer_norm)
            linear(layer.ffn.linear_0, ffn, d)
            linear(layer.ffn.linear_1, d, ffn)
        norm(spec.encoder.layer_norm)
        for layer in spec.decoder.layer:
            norm(layer.self_attention.layer_norm)
            linear(layer.self_attention.linear[0], 3 * d, d)
            linear(layer.self_attention.linear[1], d, d)
            norm(layer.attention.layer_norm)
            linear(layer.attention.linear[0], d, d)  # query
            linear(layer.attention.linear[1], 2 * d, d)  # fused key/value over the encoder output
            linear(layer.attention.linear[2], d, d)
            norm(layer.ffn.layer_norm)
            linear(layer.ffn.linear_0, ffn, d)
            linear(layer.ffn.linear_1, d, ffn)
        norm(spec.decoder.layer_norm)
        spec.decoder.projection.weight = weight(vocab, d)
        bias = np.zeros(vocab, np.float32)
        bias[self.vocabulary.index("</s>")] = shape.eos_bias
        spec.decoder.projection.bias = bias
        spec.register_source_vocabulary(self.vocabulary)
        spec.register_target_vocabulary(self.vocabulary)
        return spec


def train_sentencepiece(vocab_size: int, lines: Sequence[str] = TRAINING_LINES) -> bytes:
    """A unigram SentencePiece model; above what the lines support, grown with synthetic pieces."""
    buffer = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(list(lines) * 4), model_writer=buffer, vocab_size=min(vocab_size, 150),
        hard_vocab_limit=False, model_type="unigram", character_coverage=1.0, num_threads=1,
        minloglevel=2, bos_id=1, eos_id=2, unk_id=0, pad_id=-1)
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(buffer.getvalue())
    if len(proto.pieces) < vocab_size:
        _grow(proto, vocab_size)
    return bytes(proto.SerializeToString())


def _grow(proto: Any, vocab_size: int) -> None:
    """Add word-like pieces (syllable pairs, with and without the word marker) up to vocab_size."""
    onsets = ["", "b", "ch", "d", "f", "g", "h", "hl", "hm", "k", "kh", "l", "m", "n", "ng", "p", "ph", "r",
              "s", "t", "th", "tl", "v", "w", "z", "st", "tr", "br", "sh", "wh"]
    vowels = ["a", "e", "i", "o", "u", "aw", "ai", "ea", "ou", "ee"]
    codas = ["", "k", "l", "m", "n", "ng", "r", "t", "h", "s", "d"]
    syllables = [o + v + c for o in onsets for v in vowels for c in codas]
    seen = {p.piece for p in proto.pieces}
    rng = np.random.default_rng(7)
    while len(proto.pieces) < vocab_size:
        first, second = rng.choice(syllables, 2)
        for candidate in ("\u2581" + first, "\u2581" + first + second, first + second):
            if candidate not in seen and len(proto.pieces) < vocab_size:
                piece = proto.pieces.add()
                piece.piece = candidate
                piece.score = float(-8.0 - len(candidate) * 0.1 - rng.random())
                seen.add(candidate)


def build_package(out_dir: Path, *, from_code: str = "lus", to_code: str = "en", version: str = "0.1.0",
                  shape: ModelShape = TINY, quantization: str | None = None) -> Path:
    """Write ``translate-{from}_{to}-{version}.argosmodel`` into ``out_dir`` and return its path
    (``quantization``: CTranslate2 weight type such as ``int8``, as Argos packages ship)."""
    name = f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"
    work = Path(tempfile.mkdtemp(prefix="argos-build-", dir=out_dir))
    try:
        top = work / name
        top.mkdir()
        sp_model = train_sentencepiece(shape.vocab_size)
        (top / "sentencepiece.model").write_bytes(sp_model)
        processor = sentencepiece.SentencePieceProcessor(model_proto=sp_model)
        vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        RandomTransformerConverter(vocabulary, shape).convert(str(top / "model"), quantization=quantization)
        (top / "metadata.json").write_text(json.dumps({
            "package_version": version, "argos_version": "1.9", "from_code": from_code,
            "from_name": "Mizo" if from_code == "lus" else "English", "to_code": to_code,
            "to_name": "English" if to_code == "en" else "Mizo", "type": "translate",
        }), encoding="utf-8")
        target = out_dir / f"{name}.argosmodel"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
            for file in sorted(top.rglob("*")):
                archive.write(file, file.relative_to(work).as_posix())
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def argos_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("argos-packages-built")


@pytest.fixture(scope="session")
def argos_package_lus_en(argos_build_dir: Path) -> Path:
    return build_package(argos_build_dir, from_code="lus", to_code="en", version="0.1.0")


@pytest.fixture(scope="session")
def argos_package_en_lus(argos_build_dir: Path) -> Path:
    return build_package(argos_build_dir, from_code="en", to_code="lus", version="0.1.0",
                         shape=dataclasses.replace(TINY, seed=TINY.seed + 1))


def options_for(packages_dir: Path, **changes: object) -> TranslateOptions:
    base = TranslateOptions(packages_dir=str(packages_dir), max_decoding_length=16, batch_window_ms=5.0,
                            models_rescan_secs=0)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def empty_translate_options(tmp_path: Path) -> TranslateOptions:
    packages_dir = tmp_path / "argos-packages"
    packages_dir.mkdir()
    return options_for(packages_dir)


@pytest.fixture
def translate_options(empty_translate_options: TranslateOptions,
                      argos_package_lus_en: Path) -> Iterator[TranslateOptions]:
    packages.install(argos_package_lus_en, empty_translate_options.packages_path)
    yield empty_translate_options
