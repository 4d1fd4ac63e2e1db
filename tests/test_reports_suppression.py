"""Unit tests of small-count suppression (hubchat/reports/suppression.py) and the report's shape."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hubchat.reports.service import months_between, summarize, to_csv
from hubchat.reports.suppression import percentile, percentiles, suppress_list, suppress_table

K = 5


def _lines(table: dict[str, Any], rows: list[str], cols: list[str]) -> list[list[Any]]:
    """Every row and column with its total (what an attacker could difference)."""
    lines = [[table["rows"][r][c] for c in cols] + [table["rows"][r]["total"]] for r in rows]
    lines += [[table["rows"][r][c] for r in rows] + [table["totals"][c]] for c in cols]
    lines.append([table["totals"][c] for c in cols] + [table["totals"]["total"]])
    lines.append([table["rows"][r]["total"] for r in rows] + [table["totals"]["total"]])
    return lines


def test_small_counts_are_hidden_zero_and_large_shown() -> None:
    shown = suppress_list({"a": 0, "b": 7, "c": 12}, ["a", "b", "c"], K)
    assert shown == {"a": 0, "b": 7, "c": 12, "total": 19}
    shown = suppress_list({"a": 3, "b": 7, "c": 12}, ["a", "b", "c"], K)
    # 3 is hidden, and so is the next smallest, else 22 - 7 - 12 would give it back
    assert shown == {"a": "<5", "b": "<5", "c": 12, "total": 22}


def test_a_lone_suppressed_cell_in_a_row_or_column_takes_a_complement() -> None:
    rows, cols = ["AE", "SA"], ["2026-01", "2026-02", "2026-03"]
    counts = {("AE", "2026-01"): 2, ("AE", "2026-02"): 9, ("AE", "2026-03"): 11,
              ("SA", "2026-01"): 8, ("SA", "2026-02"): 6, ("SA", "2026-03"): 20}
    table = suppress_table(counts, rows, cols, K)
    assert table["rows"]["AE"]["2026-01"] == "<5"
    for line in _lines(table, rows, cols):
        assert sum(1 for v in line if v == "<5") != 1, line


def test_no_line_ever_has_exactly_one_hidden_value_on_many_tables() -> None:
    rows, cols = ["AE", "QA", "SA"], ["m1", "m2", "m3"]
    for values in itertools.islice(itertools.product([0, 1, 4, 5, 9], repeat=9), 0, None, 97):
        counts = {(r, c): values[i * 3 + j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
        table = suppress_table(counts, rows, cols, K)
        for line in _lines(table, rows, cols):
            hidden = [v for v in line if v == "<5"]
            assert len(hidden) != 1, (counts, table)
        for (r, c), value in counts.items():
            if 0 < value < K:
                assert table["rows"][r][c] == "<5"


def test_percentiles_only_over_k_values() -> None:
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([5, 1, 3, 2, 4], 90) == 5
    assert percentiles([1.0, 2.0, 3.0, 4.0], K) == {"p50": None, "p90": None}
    assert percentiles([1.0, 2.0, 3.0, 4.0, 10.0], K) == {"p50": 3.0, "p90": 10.0}


def test_summary_counts_suppresses_and_writes_csv() -> None:
    t0 = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    alerts = [{"created_at": t0, "person": {"country": "AE"}, "escalation": {"level": 0},
               "acknowledged_by": {"at": t0 + dt.timedelta(seconds=30 + i)}} for i in range(6)]
    alerts.append({"created_at": t0, "person": {"country": "QA"}, "escalation": {"level": 2}, "acknowledged_by": None})
    cases = [{"created_at": t0, "country": "AE", "status": "closed", "outcome": "safe"} for _ in range(5)]
    months = months_between(dt.date(2026, 2, 1), dt.date(2026, 3, 31))
    report = summarize(alerts, cases, months, K)
    assert months == ["2026-02", "2026-03"]
    assert report["alerts"]["rows"]["QA"]["2026-03"] == "<5"
    assert report["alerts"]["rows"]["AE"]["2026-03"] == "<5"  # the complement in the month's column
    assert report["alerts"]["totals"]["total"] == 7
    tta = report["time_to_acknowledge_secs"]
    assert tta["by_month"]["2026-03"] == {"n": 6, "p50": 32.0, "p90": 35.0}
    assert tta["by_month"]["2026-02"] == {"n": 0, "p50": None, "p90": None}
    # t2 (1) is hidden, and the smallest other non-zero figure with it, else 7 - 6 gives it back
    assert report["escalations"] == {"none": "<5", "t1": 0, "t2": "<5", "total": 7}
    assert report["outcomes"]["safe"] == 5 and report["outcomes"]["total"] == 5
    csv = to_csv(report)
    assert csv.splitlines()[0] == "section,row,column,value"
    assert "alerts,QA,2026-03,<5" in csv and "outcomes,safe,count,5" in csv


def test_months_between_crosses_years() -> None:
    assert months_between(dt.date(2025, 11, 15), dt.date(2026, 2, 1)) == ["2025-11", "2025-12", "2026-01", "2026-02"]
