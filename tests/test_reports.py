"""The Cell's reports against a real server and store: officers only, bounded range, suppression."""

from __future__ import annotations

import datetime as dt

from tests import test_sos_helpers
from tests.support import HubClient
from tests.test_sos_helpers import (
    account,
    person,
    trigger,
)

# the SOS tests' fixtures: hubchat with SOS wired, escalation far away
hub = test_sos_helpers.hub
node_factory = test_sos_helpers.node_factory


async def test_summary_counts_real_alerts_and_cases_and_suppresses_small_ones(hub: HubClient) -> None:
    officer = await account(hub, "Report Officer", role="officer")
    token = officer["access_token"]
    alerts = []
    for i in range(6):
        someone = await person(hub, f"Person {i}", country="AE" if i < 5 else "QA")
        sock = await hub.connect(someone["access_token"])
        alerts.append(await trigger(sock))
    status, body = await hub.request("POST", "/api/cases/from-alert", token=token, json={"alert_id": alerts[0]["id"]})
    assert status == 201
    today = dt.datetime.now(dt.UTC).date()
    month = today.strftime("%Y-%m")
    query = f"from={(today - dt.timedelta(days=40)).isoformat()}&to={today.isoformat()}"
    status, report = await hub.request("GET", f"/api/reports/summary?{query}", token=token)
    assert status == 200, report
    assert report["k"] == 5 and month in report["months"]
    assert report["alerts"]["rows"]["QA"][month] == "<5"
    # 5 is not small, but the month's total (6) minus it would give QA's 1 back: hidden too
    assert report["alerts"]["rows"]["AE"][month] == "<5" and report["alerts"]["rows"]["AE"]["total"] == "<5"
    assert report["alerts"]["totals"][month] == 6 and report["alerts"]["totals"]["total"] == 6
    assert report["cases"]["totals"]["total"] == "<5"
    assert "Person" not in str(report)  # nothing identifying
    status, csv = await hub.request("GET", f"/api/reports/summary.csv?{query}", token=token)
    assert status == 200 and f"alerts,QA,{month},<5" in csv and f"alerts,total,{month},6" in csv


async def test_summary_refuses_outsiders_and_unbounded_ranges(hub: HubClient) -> None:
    officer = await account(hub, "Range Officer", role="officer")
    member = await account(hub, "Curious Member")
    today = dt.date.today().isoformat()
    status, body = await hub.request("GET", f"/api/reports/summary?from={today}&to={today}",
                                     token=member["access_token"])
    assert status == 403 and body["error"]["code"] == "not_allowed"
    status, body = await hub.request("GET", f"/api/reports/summary.csv?from={today}&to={today}",
                                     token=member["access_token"])
    assert status == 403
    token = officer["access_token"]
    for query, code in (("", "invalid_payload"), (f"from={today}", "invalid_payload"),
                        ("from=2020-01-01&to=2026-01-01", "range_too_long"),
                        ("from=2026-02-01&to=2026-01-01", "invalid_payload"),
                        ("from[$gt]=x&to=2026-01-01", "invalid_payload")):
        status, body = await hub.request("GET", f"/api/reports/summary?{query}", token=token)
        assert status == 400 and body["error"]["code"] == code, (query, body)
