"""The Cell's reports: non-identifying statistics over a bounded date range, small counts suppressed.

Figures: alerts and cases per country and month, time to acknowledge (p50/p90 per month and
overall), escalation steps reached, and the outcomes of closed cases.  Everything is counted
over documents *created* in the range, read with one integer range query per collection on an
index of the created time (``alerts_created_ms``, ``cases_created_ms``), projected to the few
fields counted (no note, location or timeline is read; nothing identifying leaves the service).
The range is required and at most ``reports_max_months`` long; more than ``MAX_ROWS`` documents is refused
(``range_too_busy``) rather than read without bound.  Suppression: ``suppression.py``.
Duress is not reported (not even as a count): reports may be shared beyond the Cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field, model_validator

from hubchat.errors import Forbidden, ValidationFailed
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.reports.suppression import TOTAL, percentiles, suppress_list, suppress_table
from hubchat.schema import Payload
from hubchat.store import Document

MAX_ROWS = 200_000
UNKNOWN_COUNTRY = "unknown"
ESCALATION_STEPS: tuple[str, ...] = ("none", "t1", "t2")
OUTCOMES: tuple[str, ...] = ("safe", "repatriated", "legal_action", "referred_elsewhere", "no_contact",
                             "declined_help", "duplicate", "other")

# (from_ms, to_ms, limit, projection) -> documents created in [from_ms, to_ms)
CreatedBetween = Callable[[int, int, int, Document], Awaitable[list[Document]]]

# Top-level fields only: the embedded store does not project dotted paths (``person.country``).
ALERT_FIELDS = {"_id": 0, "created_at": 1, "person": 1, "acknowledged_by": 1, "escalation": 1}
CASE_FIELDS = {"_id": 0, "created_at": 1, "country": 1, "status": 1, "outcome": 1}


class SummaryQuery(Payload):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (both days included)."""

    from_: dt.date = Field(alias="from")
    to: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> SummaryQuery:
        if self.to < self.from_:
            raise ValueError("to: must not be before from")
        return self


def month_of(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m")


def months_between(start: dt.date, end: dt.date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _ms(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1000)


def summarize(alerts: list[Document], cases: list[Document], months: list[str], k: int) -> Document:
    """The report from projected alerts and cases (pure: unit-tested without a store)."""
    alert_counts: dict[tuple[str, str], int] = {}
    ack_secs: dict[str, list[float]] = {m: [] for m in months}
    steps: dict[str, int] = {}
    for alert in alerts:
        month = month_of(alert["created_at"])
        country = (alert.get("person") or {}).get("country") or UNKNOWN_COUNTRY
        alert_counts[(country, month)] = alert_counts.get((country, month), 0) + 1
        acked = (alert.get("acknowledged_by") or {}).get("at")
        if isinstance(acked, dt.datetime) and month in ack_secs:
            ack_secs[month].append(max(0.0, (acked - alert["created_at"]).total_seconds()))
        level = int((alert.get("escalation") or {}).get("level", 0) or 0)
        step = ESCALATION_STEPS[min(max(level, 0), len(ESCALATION_STEPS) - 1)]
        steps[step] = steps.get(step, 0) + 1
    case_counts: dict[tuple[str, str], int] = {}
    outcomes: dict[str, int] = {}
    for case in cases:
        month = month_of(case["created_at"])
        country = case.get("country") or UNKNOWN_COUNTRY
        case_counts[(country, month)] = case_counts.get((country, month), 0) + 1
        if case.get("status") == "closed" and case.get("outcome"):
            outcomes[case["outcome"]] = outcomes.get(case["outcome"], 0) + 1
    all_secs = [s for values in ack_secs.values() for s in values]
    shown_n = suppress_list({m: len(v) for m, v in ack_secs.items()}, months, k)
    return {
        "k": k, "months": months,
        "alerts": suppress_table(alert_counts, sorted({c for c, _ in alert_counts}), months, k),
        "cases": suppress_table(case_counts, sorted({c for c, _ in case_counts}), months, k),
        "time_to_acknowledge_secs": {
            "by_month": {m: {"n": shown_n[m], **percentiles(ack_secs[m], k)} for m in months},
            "overall": {"n": shown_n[TOTAL], **percentiles(all_secs, k)},
        },
        "escalations": suppress_list(steps, list(ESCALATION_STEPS), k),
        "outcomes": suppress_list(outcomes, list(OUTCOMES), k),
    }


def to_csv(report: Document) -> str:
    """One line per published figure: ``section,row,column,value`` (suppressed values as ``<k``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "row", "column", "value"])
    for section in ("alerts", "cases"):
        table = report[section]
        for row, cells in table["rows"].items():
            for col, value in cells.items():
                writer.writerow([section, row, col, value])
        for col, value in table["totals"].items():
            writer.writerow([section, TOTAL, col, value])
    tta = report["time_to_acknowledge_secs"]
    for month, figures in [*tta["by_month"].items(), (TOTAL, tta["overall"])]:
        for name, value in figures.items():
            writer.writerow(["time_to_acknowledge_secs", month, name, "" if value is None else value])
    for section in ("escalations", "outcomes"):
        for key, value in report[section].items():
            writer.writerow([section, key, "count", value])
    return out.getvalue()


class ReportService:
    def __init__(self, infra: Infra, alerts_between: CreatedBetween, cases_between: CreatedBetween):
        self.infra = infra
        self.alerts_between = alerts_between
        self.cases_between = cases_between

    async def summary(self, principal: Principal, query: SummaryQuery) -> Document:
        if not principal.is_officer:
            raise Forbidden("only Diaspora Cell officers may do this", code="not_allowed")
        settings = self.infra.settings
        await self.infra.limiter.hit(f"reports:{principal.user_id}", settings.cases_reads_per_minute, 60.0)
        months = months_between(query.from_, query.to)
        if len(months) > settings.reports_max_months:
            raise ValidationFailed(f"the range covers {len(months)} months; at most {settings.reports_max_months}",
                                   code="range_too_long")
        start, end = _ms(query.from_), _ms(query.to + dt.timedelta(days=1))
        alerts = await self.alerts_between(start, end, MAX_ROWS + 1, ALERT_FIELDS)
        cases = await self.cases_between(start, end, MAX_ROWS + 1, CASE_FIELDS)
        if len(alerts) > MAX_ROWS or len(cases) > MAX_ROWS:
            raise ValidationFailed("too many records in this range; ask for a shorter one", code="range_too_busy")
        report: dict[str, Any] = summarize(alerts, cases, months, settings.reports_min_count)
        return {"from": query.from_.isoformat(), "to": query.to.isoformat(), **report}
