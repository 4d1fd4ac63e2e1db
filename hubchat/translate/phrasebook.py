"""The curated phrasebook (``config/phrasebook/lus-en.tsv``): translations of common and
emergency phrases, used before the model and available even when no model is installed.

Each phrase carries a ``vetted`` flag: true only for rows a Mizo speaker reviewed.  A translation
that used an unvetted row says so (``TranslationResult.unvetted``) so clients can show it as such.

Pure after loading.  A text matches a phrase when both normalise to the same key: case folded,
accents and the Mizo dot below folded (``ṭ`` → ``t``, ``â`` → ``a``), punctuation removed, white
space collapsed.  File format and review status are described in the file's header.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from hubchat.translate.detect import Lang

log = logging.getLogger(__name__)

# A row without the column is unvetted: only a reviewer's explicit "yes" vets a phrase.
VETTED_VALUES = {"yes": True, "no": False, "": False}
DEFAULT_PHRASEBOOK_PATH = Path(__file__).resolve().parents[2] / "config" / "phrasebook" / "lus-en.tsv"


class Phrase(NamedTuple):
    lus: str
    en: str
    tags: tuple[str, ...]
    vetted: bool = False  # reviewed by a Mizo speaker


class Match(NamedTuple):
    text: str  # the translation
    vetted: bool


def phrase_key(text: str) -> str:
    """The normalised form two texts share when they are the same phrase."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":
            continue
        kept.append(" " if category.startswith("P") or char.isspace() else char)
    return " ".join("".join(kept).split())


class Phrasebook:
    def __init__(self, phrases: Iterable[Phrase], version: str = "inline"):
        self.phrases = tuple(phrases)
        self.version = version
        self._index: dict[Lang, dict[str, Match]] = {"lus": {}, "en": {}}
        for phrase in self.phrases:
            self._index["lus"].setdefault(phrase_key(phrase.lus), Match(phrase.en, phrase.vetted))
            self._index["en"].setdefault(phrase_key(phrase.en), Match(phrase.lus, phrase.vetted))
        self._index["lus"].pop("", None)
        self._index["en"].pop("", None)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PHRASEBOOK_PATH) -> Phrasebook:
        try:
            raw = Path(path).read_bytes()
        except FileNotFoundError:
            # Start anyway (the model still works), but loudly: emergency phrases are missing.
            log.error("phrasebook not found at %s (set translate_phrasebook_path)", path)
            return cls((), "phrasebook@missing")
        phrases = []
        for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#") or line.startswith("lus\t"):
                continue
            cells = line.split("\t")
            if len(cells) < 2 or not cells[0].strip() or not cells[1].strip():
                raise ValueError(f"{path}:{number}: expected 'lus<TAB>en[<TAB>tags[<TAB>vetted]]'")
            tags = tuple(t.strip() for t in cells[2].split(",") if t.strip()) if len(cells) > 2 else ()
            vetted = cells[3].strip().casefold() if len(cells) > 3 else "no"
            if vetted not in VETTED_VALUES:
                raise ValueError(f"{path}:{number}: vetted must be 'yes' or 'no', not {cells[3]!r}")
            phrases.append(Phrase(cells[0].strip(), cells[1].strip(), tags, VETTED_VALUES[vetted]))
        version = "phrasebook@" + hashlib.sha256(raw).hexdigest()[:12]
        return cls(phrases, version)

    def __len__(self) -> int:
        return len(self.phrases)

    def lookup(self, text: str, source: Lang) -> str | None:
        """The phrasebook's translation of ``text`` (in ``source``), or None."""
        found = self.find(text, source)
        return None if found is None else found.text

    def find(self, text: str, source: Lang) -> Match | None:
        """The translation of ``text`` (in ``source``) and whether it was vetted, or None."""
        return self._index[source].get(phrase_key(text))
