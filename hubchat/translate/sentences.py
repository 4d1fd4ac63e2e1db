"""Sentence splitting for chat text in Mizo or English (Latin script, ordinary punctuation).

Pure.  ``split`` returns pieces whose ``text + sep`` concatenate back to the input exactly, so
a translation can be reassembled with the original line breaks and spacing.  A sentence ends at
a line break, or at ``. ! ? …`` (with any closing quotes or brackets) followed by white space —
except after a known abbreviation or a one-letter initial.  The Mizo clause-final particles
``a``, ``e`` and ``i`` (``... a ni ang a.``, ``Ka lawm e.``) end sentences: a one-letter initial
is a capital, or a lower-case letter other than those three.  Chat often leaves out the space
after a full stop (``... a ni.Chu ...``): a word of letters, the stop and a capitalised word of
letters are two sentences too, unless the word is an abbreviation or an initial (``Dr.Lala``,
``J.Smith``) or the token is a link or an e-mail address.  Decimal numbers and times have digits
around their dots and are never cut (links and e-mail addresses are placeholders by then in the
pipeline anyway).
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

# Mizo particles that end a clause: never initials.
CLAUSE_FINAL = frozenset("aei")

_BOUNDARY = re.compile(
    r"(?:[.!?…]+[\"'”’)\]]*)(?P<sep>[ \t]*\n[\s]*|[ \t]+|$)"
    r"|(?P<nl>[ \t]*\n\s*)"
    r"|(?<=[^\W\d_])(?P<glued>[.!?…]+)(?=[^\W\d_]{2})")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")
_LETTERS_BEFORE = re.compile(r"(?:^|[^\w.])([^\W\d_]+)$")
_NOT_A_SENTENCE_END = re.compile(r"://|www\.|@", re.IGNORECASE)


class Piece(NamedTuple):
    text: str
    sep: str  # white space that followed it in the input


def split(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[Piece]:
    pieces: list[Piece] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group("glued") is not None:
            if not _is_glued_boundary(text, match.start(), match.end()):
                continue
            sep = ""
        else:
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
    word = match.group(1)
    if len(word) == 1:
        return word.isalpha() and word not in CLAUSE_FINAL
    return word.casefold() in ABBREVIATIONS


def _is_glued_boundary(text: str, stop: int, after: int) -> bool:
    """``ni.Chu``: a stop with letters on both sides and no space ends a sentence when the word
    after is capitalised and the token is not a link or an e-mail address (abbreviations and
    initials are left to ``_is_abbreviation``)."""
    following = text[after:after + 2]
    if not (following[0].isupper() and following[1].islower()):
        return False
    if _LETTERS_BEFORE.search(text, 0, stop) is None:  # a.b.Chu, v2.Chu: a domain or a version
        return False
    token_start = max(text.rfind(" ", 0, stop), text.rfind("\n", 0, stop), text.rfind("\t", 0, stop)) + 1
    token_end = len(text)
    for space in (" ", "\n", "\t"):
        found = text.find(space, after)
        if found != -1:
            token_end = min(token_end, found)
    return _NOT_A_SENTENCE_END.search(text, token_start, token_end) is None


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
