"""Accuracy of the Mizo/English detector (``hubchat/translate/detect.py``) by language and length.

Two labelled sets, both committed under ``tests/data``:

* GATITOS lexicon (``gatitos/lus_en.tsv``, Google Research, CC BY 4.0: see SOURCE.md and LICENSE
  beside it): each entry gives its Mizo side and its English side; entries identical in both
  languages (loanwords) are left out, duplicates counted once.  Mostly single words.
* Short chat messages (``chat/short_messages.tsv``, written for hubchat, MIT): 1-5-word messages
  with the shapes that fool a detector (see the file's header).

Each set is split by CRC32 of the text: even = "dev" (rules and weights were tuned looking at
these), odd = "test" (held out).  ``--before REV`` also scores the detector as it was at git
revision REV, for a before/after table.  Also reports speed.

Run:  .venv/bin/python bench/translate_detect.py [--before main] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import types
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hubchat.translate.detect import detect  # noqa: E402

GATITOS = ROOT / "tests" / "data" / "gatitos" / "lus_en.tsv"
CHAT = ROOT / "tests" / "data" / "chat" / "short_messages.tsv"
RESULTS = ROOT / "bench" / "RESULTS.md"
Detector = Callable[[str], object]


def gatitos() -> list[tuple[str, str]]:
    found = set()
    for line in GATITOS.read_text(encoding="utf-8").splitlines():
        lus, en = (cell.strip() for cell in line.split("\t"))
        if lus.casefold() != en.casefold():
            found.add((lus, "lus"))
            found.add((en, "en"))
    return sorted(found)


def chat() -> list[tuple[str, str]]:
    rows = []
    for line in CHAT.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and not line.startswith("text\t"):
            text, lang = line.split("\t")
            rows.append((text, lang))
    return rows


def half(text: str) -> str:
    return "dev" if zlib.crc32(text.encode()) % 2 == 0 else "test"


def length(text: str) -> str:
    words = len(text.split())
    return "1" if words == 1 else "2" if words == 2 else "3-5" if words <= 5 else "6+"


def detector_at(revision: str) -> Callable[[str], str | None]:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:hubchat/translate/detect.py"],
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("detect_before")
    module.__dict__["__name__"] = "detect_before"
    exec(compile(source, f"{revision}:detect.py", "exec"), module.__dict__)  # noqa: S102 (our own file)
    return lambda text: module.detect(text).lang


def score(items: list[tuple[str, str]], lang_of: Callable[[str], str | None]) -> dict[tuple[str, str, str], list[int]]:
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for text, lang in items:
        ok = int(lang_of(text) == lang)
        for key in ((half(text), lang, length(text)), (half(text), lang, "all"), (half(text), "both", "all")):
            counts[key][0] += ok
            counts[key][1] += 1
    return counts


def table(name: str, items: list[tuple[str, str]], before: Callable[[str], str | None] | None) -> str:
    after = score(items, lambda text: detect(text).lang)
    earlier = score(items, before) if before else None
    head = "| set | half | language | words | before | after | n |" if earlier else \
        "| set | half | language | words | accuracy | n |"
    rows = [head, "|" + "---|" * (7 if earlier else 6)]
    order = {"1": 0, "2": 1, "3-5": 2, "6+": 3, "all": 4}
    for key in sorted(after, key=lambda k: (k[0], k[1], order[k[2]])):
        right, total = after[key]
        cells = [name, *key]
        if earlier:
            cells.append(f"{earlier[key][0] / total:.3f}")
        rows.append("| " + " | ".join([*cells, f"{right / total:.3f}", str(total)]) + " |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description="detector accuracy by language and length")
    parser.add_argument("--before", metavar="REV", help="also score detect.py as it was at this git revision")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    before = detector_at(args.before) if args.before else None
    lexicon, messages = gatitos(), chat()
    started = time.perf_counter()
    for text, _ in lexicon + messages:
        detect(text)
    micros = (time.perf_counter() - started) / (len(lexicon) + len(messages)) * 1e6
    stamp = subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M UTC"], capture_output=True, text=True).stdout.strip()
    machine = f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.1f}"
    command = "python bench/translate_detect.py" + (f" --before {args.before}" if args.before else "")
    compared = f" \"before\" is detect.py at `{args.before}`." if args.before else ""
    section = (f"\n## Translation: language detector accuracy by language and length — {stamp}\n\n"
               f"Machine: {machine}. Command: `{command}`.{compared} "
               f"{len(lexicon)} labelled texts from the GATITOS lexicon "
               f"(loanwords identical in both languages left out, mostly single words) and {len(messages)} "
               f"short chat messages (tests/data/chat). dev = tuned on, test = held out (CRC32 of the text). "
               f"{micros:.0f} µs per text.\n\n" + table("gatitos", lexicon, before) + "\n\n"
               + table("chat", messages, before) + "\n")
    print(section)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
