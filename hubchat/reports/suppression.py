"""Small-count suppression for the Cell's reports: no published figure may single a person out.

Rules, for a threshold ``k`` (``reports_min_count``, default 5):

* **primary**: a count from 1 to k-1 is shown as ``"<k"``; 0 and counts of k or more are shown;
* **complementary**: a table is published with its row and column totals, so a lone suppressed
  cell in a row (or column) could be recomputed as total minus the others.  Wherever a row or
  column holds exactly one suppressed value among its cells and its total, the smallest other
  non-zero cell (else the total) is suppressed as well; repeated until nothing changes, so every
  row and column has none or at least two suppressed entries;
* **percentiles** are published only over at least ``k`` values (else ``None``).

A total is a cell like any other here: a total of 1..k-1 is suppressed too.  Pure functions;
``hubchat/reports/service.py`` feeds them counts read from the store.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)

TOTAL = "total"
Shown = int | str  # a count, or "<k"


def hidden(k: int) -> str:
    return f"<{k}"


def is_small(count: int, k: int) -> bool:
    return 0 < count < k


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values`` by the nearest-rank method."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def percentiles(values: Sequence[float], k: int, qs: Iterable[int] = (50, 90)) -> dict[str, float | None]:
    """``{"p50": …, "p90": …}``, each None unless there are at least ``k`` values."""
    enough = len(values) >= k
    return {f"p{q}": (round(percentile(values, q), 3) if enough else None) for q in qs}


def _complement(lines: list[list[tuple[object, int]]], suppressed: set[object]) -> bool:
    """One pass over lines (each a list of (key, count), the total included): where exactly one
    key is suppressed, suppress the smallest other non-zero one (zeros only when none is left).
    Returns whether anything changed."""
    changed = False
    for line in lines:
        inside = [key for key, _ in line if key in suppressed]
        if len(inside) != 1:
            continue
        others = [(count == 0, count, str(key), key) for key, count in line if key not in suppressed]
        if not others:
            continue
        suppressed.add(min(others)[3])
        changed = True
    return changed


def suppress_table(counts: Mapping[tuple[R, C], int], rows: Sequence[R], cols: Sequence[C],
                   k: int) -> dict[str, object]:
    """A two-way table (rows × cols) with row totals, column totals and the grand total, safe to
    publish: ``{"rows": {row: {col: shown, "total": shown}}, "totals": {col: shown, "total": shown}}``."""
    row_totals = {r: sum(counts.get((r, c), 0) for c in cols) for r in rows}
    col_totals = {c: sum(counts.get((r, c), 0) for r in rows) for c in cols}
    grand = sum(row_totals.values())
    value: dict[object, int] = {}
    for r in rows:
        for c in cols:
            value[("cell", r, c)] = counts.get((r, c), 0)
        value[("row", r)] = row_totals[r]
    for c in cols:
        value[("col", c)] = col_totals[c]
    value[("grand",)] = grand
    suppressed = {key for key, count in value.items() if is_small(count, k)}
    # Each row: its cells and its total; each column: its cells and its total; the totals row:
    # the column totals and the grand total; the totals column: the row totals and the grand total.
    lines: list[list[tuple[object, int]]] = []
    for r in rows:
        keys: list[object] = [("cell", r, c) for c in cols] + [("row", r)]
        lines.append([(key, value[key]) for key in keys])
    for c in cols:
        keys = [("cell", r, c) for r in rows] + [("col", c)]
        lines.append([(key, value[key]) for key in keys])
    lines.append([(key, value[key]) for key in [*(("col", c) for c in cols), ("grand",)]])
    lines.append([(key, value[key]) for key in [*(("row", r) for r in rows), ("grand",)]])
    while _complement(lines, suppressed):
        pass

    def shown(key: object) -> Shown:
        return hidden(k) if key in suppressed else value[key]

    table_rows: dict[object, dict[object, Shown]] = {}
    for r in rows:
        table_rows[r] = {c: shown(("cell", r, c)) for c in cols}
        table_rows[r][TOTAL] = shown(("row", r))
    totals: dict[object, Shown] = {c: shown(("col", c)) for c in cols}
    totals[TOTAL] = shown(("grand",))
    return {"rows": table_rows, "totals": totals}


def suppress_list(counts: Mapping[str, int], keys: Sequence[str], k: int) -> dict[str, Shown]:
    """A one-way breakdown with its total (``{key: shown, …, "total": shown}``), safe to publish."""
    value: dict[object, int] = {key: counts.get(key, 0) for key in keys}
    value[(TOTAL,)] = sum(value.values())
    suppressed = {key for key, count in value.items() if is_small(count, k)}
    while _complement([[(key, count) for key, count in value.items()]], suppressed):
        pass
    out: dict[str, Shown] = {key: (hidden(k) if key in suppressed else value[key]) for key in keys}
    out[TOTAL] = hidden(k) if (TOTAL,) in suppressed else value[(TOTAL,)]
    return out
