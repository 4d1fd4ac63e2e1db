"""The translation settings, read from the one Settings object (with defaults until the
``translate_*`` fields exist there; an empty ``translate_packages_dir`` means
``{data_dir}/argos-packages``).  Units are in the names."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from hubchat.errors import ConfigError
from hubchat.translate.cache import DEFAULT_MAX_ENTRIES, DEFAULT_TTL_SECS
from hubchat.translate.phrasebook import DEFAULT_PHRASEBOOK_PATH


@dataclasses.dataclass(frozen=True)
class TranslateOptions:
    packages_dir: str = "./var/argos-packages"  # installed Argos packages; from settings: {data_dir}/argos-packages
    phrasebook_path: str = str(DEFAULT_PHRASEBOOK_PATH)
    batch_max_sentences: int = 32  # a batch is run when it holds this many sentences …
    batch_window_ms: float = 15.0  # … or when its first text has waited this long
    queue_max: int = 1000  # texts waiting for the model; beyond this chat is shed to backfill
    max_decoding_length: int = 256  # tokens per translated sentence
    beam_size: int = 1
    threads: int = 1  # CTranslate2 intra_threads per batch
    compute_type: str = "default"  # CTranslate2 compute type ("default" keeps the model's; "int8" …)
    cache_ttl_secs: int = DEFAULT_TTL_SECS
    cache_max_entries: int = DEFAULT_MAX_ENTRIES
    detect_override_confidence: float = 0.98  # the detector overrides a declared language above this
    models_rescan_secs: float = 60.0  # how often a node looks for newly installed packages; 0: never
    memory_fuzzy_threshold: float = 88.0  # rapidfuzz ratio a similar sentence needs in the translation memory
    eval_pairs_path: str = ""  # reference pairs `models install` scores a package on (empty: none)
    min_chrf: float = 0.0  # `models install` refuses a package below this chrF on those pairs (0: no floor)

    @classmethod
    def from_settings(cls, settings: Any) -> TranslateOptions:
        values: dict[str, Any] = {}
        data_dir = getattr(settings, "data_dir", None)
        if data_dir:
            values["packages_dir"] = str(Path(data_dir) / "argos-packages")
        for field in dataclasses.fields(cls):
            name = "translate_" + field.name
            value = getattr(settings, name, None)
            if value is not None and value != "":
                values[field.name] = value
        options = cls(**values)
        options.check()
        return options

    def check(self) -> None:
        positive = ("batch_max_sentences", "queue_max", "max_decoding_length", "beam_size", "threads",
                    "cache_ttl_secs", "cache_max_entries")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"translate_{name}: must be at least 1")
        if self.batch_window_ms < 0 or self.models_rescan_secs < 0:
            raise ConfigError("translate_batch_window_ms and translate_models_rescan_secs must not be negative")
        if not 0.0 <= self.min_chrf <= 100.0:
            raise ConfigError("translate_min_chrf: expected 0 .. 100")
        if not 50.0 <= self.memory_fuzzy_threshold <= 100.0:
            raise ConfigError("translate_memory_fuzzy_threshold: expected 50 .. 100")
        if not 0.5 <= self.detect_override_confidence <= 1.0:
            raise ConfigError("translate_detect_override_confidence: expected 0.5 .. 1.0")

    @property
    def packages_path(self) -> Path:
        return Path(self.packages_dir)
