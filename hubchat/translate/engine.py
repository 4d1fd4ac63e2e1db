"""The model engine: installed Argos packages loaded as CTranslate2 translators, translating
whole batches of sentences at once.

Blocking and thread-safe: call it from a worker thread (CTranslate2 releases the GIL while it
computes).  argostranslate's own ``translate()`` is not used — it handles one text at a time
and its sentence splitter downloads a model — only its package format and metadata are.

``refresh()`` rescans the packages directory and (re)loads what changed; readers see either the
old or the new set of models, never a half-built one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import ctranslate2
import sentencepiece

from hubchat.errors import Unavailable
from hubchat.translate.options import TranslateOptions
from hubchat.translate.packages import PackageInfo, installed, signature

log = logging.getLogger(__name__)

UNKNOWN_MARK = "\u2047"  # what SentencePiece decodes <unk> to


class ModelUnavailable(Unavailable):
    """No installed model for this direction."""

    def __init__(self, direction: str):
        super().__init__(f"no translation model for {direction}", code="model_unavailable")
        self.direction = direction


class Tokenizer(Protocol):
    def encode(self, sentences: Sequence[str]) -> list[list[str]]: ...

    def decode(self, tokens: list[str]) -> str: ...


class SentencePieceTokenizer:
    def __init__(self, model_file: Path):
        self.processor = sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    def encode(self, sentences: Sequence[str]) -> list[list[str]]:
        encoded: list[list[str]] = self.processor.encode(list(sentences), out_type=str)
        return encoded

    def decode(self, tokens: list[str]) -> str:
        text: str = self.processor.decode_pieces(tokens)
        return text


class BPETokenizer:
    """Moses tokenisation + BPE, as argostranslate does it for ``bpe.model`` packages."""

    def __init__(self, model_file: Path, from_code: str, to_code: str):
        from argostranslate.tokenizer import BPETokenizer as ArgosBPE

        self.inner = ArgosBPE(model_file, from_code, to_code)

    def encode(self, sentences: Sequence[str]) -> list[list[str]]:
        return [list(self.inner.encode(s)) for s in sentences]

    def decode(self, tokens: list[str]) -> str:
        return str(self.inner.decode(tokens))


class LoadedModel:
    def __init__(self, info: PackageInfo, options: TranslateOptions):
        self.info = info
        self.options = options
        self.translator = ctranslate2.Translator(
            str(info.path / "model"), device="cpu", compute_type=options.compute_type,
            inter_threads=1, intra_threads=options.threads)
        self.tokenizer: Tokenizer
        if info.tokenizer == "sentencepiece":
            self.tokenizer = SentencePieceTokenizer(info.path / "sentencepiece.model")
        else:
            self.tokenizer = BPETokenizer(info.path / "bpe.model", info.from_code, info.to_code)

    def translate(self, sentences: Sequence[str]) -> list[str]:
        if not sentences:
            return []
        tokens = self.tokenizer.encode(sentences)
        prefix = self.info.target_prefix
        results = self.translator.translate_batch(
            tokens,
            target_prefix=[[prefix]] * len(tokens) if prefix else None,
            max_batch_size=self.options.batch_max_sentences,
            beam_size=self.options.beam_size,
            max_decoding_length=self.options.max_decoding_length,
            replace_unknowns=True,
        )
        return [self._text(r.hypotheses[0]) for r in results]

    def _text(self, tokens: list[str]) -> str:
        prefix = self.info.target_prefix
        if prefix and tokens[:1] == [prefix]:
            tokens = tokens[1:]
        text = self.tokenizer.decode(tokens).replace(UNKNOWN_MARK, " ")
        return " ".join(text.split())


class Engine:
    def __init__(self, options: TranslateOptions):
        self.options = options
        self.packages_dir = options.packages_path
        self._models: dict[str, LoadedModel] = {}
        self._signature: Any = None
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Load new or changed packages, drop removed ones; True when the set changed."""
        with self._lock:
            mark = signature(self.packages_dir)
            if mark == self._signature:
                return False
            current = {m.info.direction: m for m in self._models.values()}
            models: dict[str, LoadedModel] = {}
            for info in installed(self.packages_dir):
                loaded = current.get(info.direction)
                if loaded is not None and loaded.info.model_version == info.model_version:
                    models[info.direction] = loaded
                    continue
                try:
                    models[info.direction] = LoadedModel(info, self.options)
                except Exception:
                    log.exception("could not load translation model", extra={"path": str(info.path)})
            changed = {d: m.info.model_version for d, m in models.items()} != \
                {d: m.info.model_version for d, m in self._models.items()}
            self._models = models
            self._signature = mark
            return changed

    def packages(self) -> list[PackageInfo]:
        return [m.info for m in self._models.values()]

    def model_version(self, direction: str) -> str | None:
        model = self._models.get(direction)
        return None if model is None else model.info.model_version

    def translate(self, direction: str, sentences: Sequence[str]) -> tuple[str, list[str]]:
        """(model version, translations) for a batch of sentences in one direction."""
        model = self._models.get(direction)
        if model is None:
            raise ModelUnavailable(direction)
        return model.info.model_version, model.translate(sentences)
