"""Spans that must come out of translation untouched: links, emails, @mentions, phone numbers,
numbers and emoji.  Pure functions.

``protect`` swaps each span for a placeholder ``XZ<n>`` (n counted from 0 in order of
appearance), a shape that SentencePiece splits into ordinary Latin pieces and that translation
models tend to copy like an acronym.  Text that already looks like a placeholder is protected
as well, so every text round-trips exactly.

``restore`` puts the originals back.  A model may drop, repeat, re-case or space out a
placeholder: matching ignores case and one space inside; a repeated placeholder is restored
once and its copies removed; an index that was never issued is removed; and a span the
translation lost is appended at the end, so no link, number or phone number is ever lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

PLACEHOLDER = "XZ{}"
_PLACEHOLDER_OUT = re.compile(r"X ?Z ?(\d{1,4})", re.IGNORECASE)

_EMOJI_CHAR = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21aa\u231a-\u23ff\u24c2\u25aa-\u27bf\u2934\u2935"
    "\u2b00-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_EMOJI_MOD = "\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_EMOJI = (
    rf"(?:[\U0001f1e6-\U0001f1ff]{{2}}|[#*0-9]\ufe0f?\u20e3|[{_EMOJI_CHAR}][{_EMOJI_MOD}]*"
    rf"(?:\u200d[{_EMOJI_CHAR}][{_EMOJI_MOD}]*)*)"
)
_SPAN_PATTERNS = (
    ("url", r"(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]}'’”]"),
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}"),
    ("mention", r"(?<![\w@])@[\w][\w.-]*[\w]|(?<![\w@])@\w"),
    ("placeholder", r"(?i:X ?Z ?\d{1,4})"),
    ("emoji", rf"{_EMOJI}(?:\s?{_EMOJI})*"),
    ("phone", r"(?<![\w+])\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,5}\)?){2,5}(?![\w])"),
    ("number", r"(?<![\w.])[-+]?\d+(?:[.,:/]\d+)*%?(?![\w])"),
)
_SPANS = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _SPAN_PATTERNS))


class Span(NamedTuple):
    kind: str
    text: str


class Protected(NamedTuple):
    text: str  # with placeholders
    spans: tuple[Span, ...]  # spans[i] is behind PLACEHOLDER.format(i)


class Restored(NamedTuple):
    text: str
    lost: tuple[int, ...]  # indices the translation dropped (appended at the end)


def protect(text: str) -> Protected:
    spans: list[Span] = []

    def swap(match: re.Match[str]) -> str:
        spans.append(Span(match.lastgroup or "span", match.group(0)))
        return PLACEHOLDER.format(len(spans) - 1)

    return Protected(_SPANS.sub(swap, text), tuple(spans))


def unprotect(protected: Protected) -> str:
    """The original text (exact inverse of :func:`protect`)."""
    return restore(protected.text, protected.spans).text


def reveal(text: str, spans: Sequence[Span]) -> str:
    """Put back the spans whose placeholders are in ``text`` (a piece of a protected text)."""
    def put_back(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return spans[index].text if index < len(spans) else match.group(0)

    return _PLACEHOLDER_OUT.sub(put_back, text)


def strip_placeholders(protected_text: str) -> str:
    return " ".join(_PLACEHOLDER_OUT.sub(" ", protected_text).split())


def without_spans(text: str) -> str:
    """The text with every span removed (what a language detector should look at)."""
    return _SPANS.sub(" ", text)


def has_words(protected_text: str) -> bool:
    """Whether anything is left to translate once placeholders are set aside."""
    return any(c.isalpha() for c in _PLACEHOLDER_OUT.sub(" ", protected_text))


def restore(translated: str, spans: Sequence[Span]) -> Restored:
    used: set[int] = set()

    def put_back(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(spans) or index in used:
            return ""
        used.add(index)
        return spans[index].text

    text = _PLACEHOLDER_OUT.sub(put_back, translated)
    lost = tuple(i for i in range(len(spans)) if i not in used)
    if lost:
        text = text.rstrip() + " " + " ".join(spans[i].text for i in lost)
    if len(used) < len(spans) or _PLACEHOLDER_OUT.search(translated):
        text = re.sub(r"[ \t]{2,}", " ", text).strip(" \t")
    return Restored(text, lost)
