"""Sentence splitting for chat text in Mizo or English (Latin script, ordinary punctuation).

Pure.  ``split`` returns pieces whose ``text + sep`` concatenate back to the input exactly, so
a translation can be reassembled with the original line breaks and spacing.  A sentence ends at
a line break, or at ``. ! ? …`` (with any closing quotes or brackets) followed by white space —
except after a known abbreviation or a one-letter initial.  Decimal numbers, times and links
have no space after their dots and are never cut (links are placeholders by then anyway).
Sentences longer than ``max_chars`` are cut at the last comma/semicolon, else the last space,
before the limit: translation models degrade (and cost grows quadratically) on very long input.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_SENTENCE_CHARS = 300

ABBREVIATIONS = frozenset("""
mr mrs ms dr prof st sr jr mt rev fr capt lt col gen gov govt dept approx est fig vs etc eg ie
no nos vol pp ph pu pi tel ext jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu
fri sat sun a.m p.m e.g i.e u.s u.k
""".split())

_BOUNDARY = re.compile(r"(?:[.!?…]+[\"'”’)\]]*)(?P<sep>[ \t]*\n[\s]*|[ \t]+|$)|(?P<nl>[ \t]*\n\s*)")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


class Piece(NamedTuple):
    text: str
    sep: str  # white space that followed it in the input


def split(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[Piece]:
    pieces: list[Piece] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        sep = match.group("nl") if match.group("nl") is not None else match.group("sep")
        end = match.end() - len(sep)
        if match.group("nl") is None and _is_abbreviation(text[start:end]) and match.end() < len(text):
            continue
        if end > start or sep:
            pieces.extend(_cap(text[start:end], sep, max_chars))
        start = match.end()
    if start < len(text):
        pieces.extend(_cap(text[start:], "", max_chars))
    return pieces


def join(pieces: list[Piece]) -> str:
    return "".join(p.text + p.sep for p in pieces)


def _is_abbreviation(sentence: str) -> bool:
    if not sentence.endswith("."):
        return False
    match = _WORD_BEFORE.search(sentence)
    if match is None:
        return False
    word = match.group(1).casefold()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _cap(sentence: str, sep: str, max_chars: int) -> list[Piece]:
    pieces: list[Piece] = []
    while len(sentence) > max_chars:
        window = sentence[:max_chars]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(": "))
        cut = cut + 1 if cut > max_chars // 3 else window.rfind(" ")
        if cut <= 0:
            cut = max_chars
        head, rest = sentence[:cut], sentence[cut:]
        stripped = rest.lstrip()
        pieces.append(Piece(head, rest[: len(rest) - len(stripped)]))
        sentence = stripped
    pieces.append(Piece(sentence, sep))
    return pieces
