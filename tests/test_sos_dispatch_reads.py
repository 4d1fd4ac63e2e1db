"""SOS dispatch reads the alert once per round (issue #9: the alert is passed along, not read
again before its dispatch is recorded), through a real hubchat; the semantics are unchanged
(test_sos*.py)."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

from pymongo import monitoring

from tests.support import HubClient
from tests.test_chat_send_path import COMMANDS
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    bearer_at,
    dispatched,
    hub,
    node_factory,
    officer_on_duty,
    person,
    sos_service,
    trigger,
)

assert isinstance(COMMANDS, monitoring.CommandListener)  # registered before any store client exists


async def test_a_round_with_someone_new_reads_the_alert_once(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    someone = await person(hub)
    person_sock = await hub.connect(someone["access_token"])
    alert = await trigger(person_sock)
    await dispatched(hub, alert["id"])
    bearer, (bearer_sock,), _ = await bearer_at(hub, officer, DELHI, "Delhi Bearer")  # after round 1

    with COMMANDS.recording() as seen:
        result = await sos_service(hub).dispatcher.run_round(alert["id"], 2)
    assert result is not None
    after, fresh = result
    assert [(r.user_id, r.role) for r in fresh] == [(bearer["id"], "office_bearer")]
    assert [e["user_id"] for e in after["dispatch"]] == [officer["id"], bearer["id"]]
    reads = [c for c in COMMANDS.raw if c[:2] == ("find", "alerts") and c[2] == {"_id": alert["id"]}]
    assert len(reads) == 1, seen  # was 2: once to reach, once more to record (the scheduler's scans aside)
    [told] = await bearer_sock.wait_for("sos:new")
    assert told["id"] == alert["id"] and told["view"] == "limited"
