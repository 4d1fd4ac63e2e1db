"""Accuracy of the Mizo/English detector (``hubchat/translate/detect.py``) on the GATITOS lexicon.

Test data only, read from ``tests/data/gatitos/lus_en.tsv`` (GATITOS, Google Research, CC BY 4.0:
see SOURCE.md and LICENSE beside it).
Each lexicon entry gives two labelled texts: its Mizo side and its English side; entries that are
identical in both languages (loanwords) are left out, duplicates counted once.  The detector's
word lists and rules were written by hand; weights and shape rules were tuned looking at the
"dev" half (even CRC32 of the text) only, but the syllable inventory (onsets thl/ngh, codas lh/rh)
was completed after seeing which Mizo words of the whole lexicon failed to split — so the "test"
half is nearly, not fully, unseen.  Also reports speed.

Run:  .venv/bin/python bench/translate_detect.py [--no-record]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hubchat.translate.detect import detect  # noqa: E402

GATITOS = ROOT / "tests" / "data" / "gatitos" / "lus_en.tsv"
RESULTS = ROOT / "bench" / "RESULTS.md"


def entries() -> list[tuple[str, str]]:
    found = set()
    for line in GATITOS.read_text(encoding="utf-8").splitlines():
        lus, en = (cell.strip() for cell in line.split("\t"))
        if lus.casefold() != en.casefold():
            found.add((lus, "lus"))
            found.add((en, "en"))
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description="detector accuracy on GATITOS")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    items = entries()
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    started = time.perf_counter()
    for text, lang in items:
        ok = int(detect(text).lang == lang)
        half = "dev" if zlib.crc32(text.encode()) % 2 == 0 else "test"
        size = "≥2 words" if len(text.split()) >= 2 else "1 word"
        for key in ((half, lang, size), (half, lang, "all"), (half, "both", "all"), ("all", lang, "all"),
                    ("all", "both", "all"), ("all", "both", size), ("all", lang, size)):
            counts[key][0] += ok
            counts[key][1] += 1
    micros = (time.perf_counter() - started) / len(items) * 1e6
    rows = ["| half | language | entries | accuracy | n |", "|---|---|---|---|---|"]
    for key in sorted(counts):
        right, total = counts[key]
        rows.append(f"| {key[0]} | {key[1]} | {key[2]} | {right / total:.3f} | {total} |")
    stamp = subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M UTC"], capture_output=True, text=True).stdout.strip()
    section = (f"\n## Translation: language detector accuracy on GATITOS — {stamp}\n\n"
               f"Command: `python bench/translate_detect.py`. {len(items)} labelled texts from the lexicon "
               f"(loanwords identical in both languages left out), mostly single words — harder than chat "
               f"sentences. {micros:.0f} µs per text.\n\n" + "\n".join(rows) + "\n")
    print(section)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
