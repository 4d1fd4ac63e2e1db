"""The safety profile (issue 14, item 1) against a real server, store, Redis and Socket.IO clients:
the person's view, edit, export, delete and share; the Cell's audited view only while an alert
(or a case, or a share) is open; encryption at rest and key rotation."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hubchat.clock import ManualClock
from hubchat.config import Settings
from hubchat.safety.crypto import FieldCipher, new_key_entry, parse_keys
from hubchat.safety.profile import rotate
from hubchat.safety.repository import PROFILES, SafetyRepository
from hubchat.safety.service import SafetyService
from tests.support import HubClient, node_env
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    DELHI,
    DURESS_PIN,
    GURUGRAM,
    SOS_PIN,
    account,
    bearer_at,
    dispatched,
    fast,
    hub,
    node_factory,
    officer_on_duty,
    person,
    sos_service,
    trigger,
)

PROFILE = {
    "emergency_contacts_home": [{"name": "Pi Zaii", "phone": "+91 98620 12345", "relation": "mother"}],
    "emergency_contacts_abroad": [{"name": "Mama Lal", "email": "lal@example.org"}],
    "employer": "Gulf Builders LLC",
    "workplace_address": "Plot 12, Industrial Area 4\nSharjah",
    "recruiting_agent": "Zonuam Manpower, Aizawl",
    "passport_status": "held_by_employer",
    "passport_held_by": "the site supervisor",
    "visa_status": "expiring",
    "visa_notes": "work visa, ends in March",
    "medical_notes": "Asthma; inhaler in the bag.",
    "languages": ["Mizo", "English", "Hindi"],
}


def safety(hub: HubClient) -> SafetyService:
    service: SafetyService = hub.services["safety"]
    return service


async def with_profile(hub: HubClient, name: str = "Profiled") -> dict[str, Any]:
    someone = await person(hub, name)
    status, body = await hub.request("PUT", "/api/me/safety-profile", token=someone["access_token"], json=PROFILE)
    assert status == 200, body
    return someone


async def test_the_person_views_edits_exports_and_deletes_it(hub: HubClient) -> None:
    someone = await person(hub)
    token = someone["access_token"]
    status, body = await hub.request("GET", "/api/me/safety-profile", token=token)
    assert status == 200 and body["profile"] is None and body["shared"] is False

    status, body = await hub.request("PUT", "/api/me/safety-profile", token=token, json=PROFILE)
    assert status == 200 and body["profile"] == PROFILE and body["updated_at"]
    status, body = await hub.request("PUT", "/api/me/safety-profile", token=token,
                                     json={**PROFILE, "medical_notes": None, "employer": "New Employer"})
    assert status == 200 and "medical_notes" not in body["profile"] and body["profile"]["employer"] == "New Employer"

    async with hub.http.get(hub.base_url + "/api/me/safety-profile/export",
                            headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
        exported = json.loads(await resp.text())
    assert exported["user_id"] == someone["id"] and exported["profile"]["employer"] == "New Employer"

    status, body = await hub.request("DELETE", "/api/me/safety-profile", token=token)
    assert status == 200 and body == {"deleted": True}
    assert await safety(hub).repo.coll(PROFILES).find_one({"_id": someone["id"]}) is None
    status, body = await hub.request("GET", "/api/me/safety-profile", token=token)
    assert body["profile"] is None


async def test_bad_input_is_refused_and_changes_nothing(hub: HubClient) -> None:
    someone = await with_profile(hub)
    token = someone["access_token"]
    for bad in ({"employer": {"$gt": ""}}, {"passport_status": "stolen_by_me"}, {"unknown": "x"},
                {"languages": ["x"] * 11}, {"employer": "$where"}, {"medical_notes": "a" * 1001},
                {"emergency_contacts_home": [{"name": "A", "email": "a@x.org,b@y.org"}]}):
        status, body = await hub.request("PUT", "/api/me/safety-profile", token=token, json=bad)
        assert status == 400 and body["error"]["code"] == "invalid_payload", (bad, body)
    status, body = await hub.request("GET", "/api/me/safety-profile", token=token)
    assert body["profile"] == PROFILE
    status, body = await hub.request("GET", "/api/me/safety-profile")
    assert status == 401


async def test_the_database_holds_ciphertext_only(hub: HubClient) -> None:
    someone = await with_profile(hub)
    raw = await safety(hub).repo.coll(PROFILES).find_one({"_id": someone["id"]})
    assert set(raw["fields"]) == set(PROFILE)
    for name, stored in raw["fields"].items():
        assert stored.startswith("pf1:"), name
        for plain in ("Gulf", "Asthma", "Pi Zaii", "held_by_employer", "Sharjah", "Hindi", "Zonuam"):
            assert plain not in stored
    assert "Gulf" not in json.dumps(raw, default=str)
    # a field copied onto another person's row does not decrypt there
    other = await with_profile(hub, "Other")
    await safety(hub).repo.coll(PROFILES).update_one(
        {"_id": other["id"]}, {"$set": {"fields": {**raw["fields"]}}})
    status, body = await hub.request("GET", "/api/me/safety-profile", token=other["access_token"])
    assert status == 500 and body["error"]["code"] == "profile_corrupt"


async def test_officers_see_it_only_while_an_alert_is_open_and_every_view_is_audited(hub: HubClient) -> None:
    officer, (officer_sock,) = await officer_on_duty(hub)
    bearer, (bearer_sock,), _ = await bearer_at(hub, officer, GURUGRAM, "Near Bearer")
    member = await account(hub, "Nosy Member")
    someone = await with_profile(hub)
    path = f"/api/people/{someone['id']}/safety-profile"

    # no alert, no case, not shared: refused, the same way as a person with no profile at all
    nobody = await person(hub, "No Profile")
    refused = []
    for who, where in ((officer, path), (officer, f"/api/people/{nobody['id']}/safety-profile"),
                       (member, path), (bearer, path)):
        refused.append(await hub.request("GET", where, token=who["access_token"]))
    assert {(s, b["error"]["code"]) for s, b in refused} == {(404, "safety_profile_unavailable")}

    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock)
    await dispatched(hub, alert["id"])
    await bearer_sock.wait_for("sos:new", where=lambda a: a["id"] == alert["id"])
    by_alert = f"/api/sos/alerts/{alert['id']}/safety-profile"
    # the bearer dispatched to the alert, a member, the person's own other token: never
    for who in (bearer, member):
        for where in (by_alert, path):
            status, body = await hub.request("GET", where, token=who["access_token"])
            assert (status, body["error"]["code"]) == (404, "safety_profile_unavailable")
    status, body = await hub.request("GET", by_alert, token=someone["access_token"])
    assert (status, body["error"]["code"]) == (404, "safety_profile_unavailable")
    # the bearer acknowledges (a responder now): still never
    ack = await bearer_sock.call("sos:transition", {"alert_id": alert["id"], "action": "acknowledge"})
    assert ack["alert"]["status"] == "acknowledged"
    status, body = await hub.request("GET", by_alert, token=bearer["access_token"])
    assert (status, body["error"]["code"]) == (404, "safety_profile_unavailable")

    for where in (by_alert, path):
        status, body = await hub.request("GET", where, token=officer["access_token"])
        assert status == 200 and body["profile"] == PROFILE and body["basis"] == "alert", body
        assert body["alert_id"] == alert["id"]
    audit = await sos_service(hub).repo.audit_entries(alert["id"])
    assert [(e["viewer"]["id"], e["action"]) for e in audit if e["action"] == "safety_profile"] == [
        (officer["id"], "safety_profile")] * 2
    own = await safety(hub).repo.audit_entries(someone["id"])
    assert [(e["viewer"]["id"], e["basis"]) for e in own] == [(officer["id"], "alert")] * 2
    status, body = await hub.request("GET", f"/api/sos/alerts/{alert['id']}/audit", token=officer["access_token"])
    assert status == 200 and "safety_profile" in json.dumps(body)
    status, body = await hub.request("GET", f"{path}/audit", token=officer["access_token"])
    assert status == 200 and [(e["viewer"]["id"], e["basis"], e["alert_id"]) for e in body["entries"]] == [
        (officer["id"], "alert", alert["id"])] * 2
    for who in (bearer, member, someone):
        status, body = await hub.request("GET", f"{path}/audit", token=who["access_token"])
        assert (status, body["error"]["code"]) == (404, "safety_profile_unavailable")
    # the person is not told who looked (that would reveal a duress "cancel" to whoever holds the phone)
    status, body = await hub.request("GET", "/api/me/safety-profile", token=someone["access_token"])
    assert officer["id"] not in json.dumps(body)

    status, body = await hub.request("POST", "/api/sos/cancel", token=someone["access_token"],
                                     json={"alert_id": alert["id"], "pin": SOS_PIN})
    assert status == 200, body
    for where in (by_alert, path):
        status, body = await hub.request("GET", where, token=officer["access_token"])
        assert (status, body["error"]["code"]) == (404, "safety_profile_unavailable")


async def test_a_duress_cancel_keeps_it_visible_to_the_cell(hub: HubClient) -> None:
    officer, _ = await officer_on_duty(hub)
    someone = await with_profile(hub)
    sock = await hub.connect(someone["access_token"])
    alert = await trigger(sock)
    await dispatched(hub, alert["id"])
    ack = await sock.call("sos:cancel", {"alert_id": alert["id"], "pin": DURESS_PIN})
    assert ack["alert"]["status"] == "cancelled"
    status, body = await hub.request("GET", f"/api/sos/alerts/{alert['id']}/safety-profile",
                                     token=officer["access_token"])
    assert status == 200 and body["profile"]["employer"] == PROFILE["employer"]
    # the person raises a new alert after the duress "cancel": both are open for the Cell
    again = await trigger(sock)
    assert again["id"] != alert["id"]
    for alert_id in (alert["id"], again["id"]):
        status, body = await hub.request("GET", f"/api/sos/alerts/{alert_id}/safety-profile",
                                         token=officer["access_token"])
        assert status == 200 and body["alert_id"] == alert_id, body
    status, body = await hub.request("GET", f"/api/people/{someone['id']}/safety-profile",
                                     token=officer["access_token"])
    assert status == 200 and body["alert_id"] == again["id"]


async def test_sharing_with_an_expiry(hub: HubClient, clock: ManualClock) -> None:
    officer = await account(hub, "Officer", role="officer")
    someone = await with_profile(hub)
    path = f"/api/people/{someone['id']}/safety-profile"
    status, body = await hub.request("PUT", "/api/me/safety-profile/share", token=someone["access_token"],
                                     json={"shared": True, "hours": 2})
    assert status == 200 and body["shared"] is True and body["share_until"]
    status, body = await hub.request("GET", path, token=officer["access_token"])
    assert status == 200 and body["basis"] == "shared" and body["alert_id"] is None
    clock.advance(2 * 3600 + 1)
    status, body = await hub.request("GET", path, token=officer["access_token"])
    assert (status, body["error"]["code"]) == (404, "safety_profile_unavailable")
    status, body = await hub.request("GET", "/api/me/safety-profile", token=someone["access_token"])
    assert body["shared"] is False

    status, body = await hub.request("PUT", "/api/me/safety-profile/share", token=someone["access_token"],
                                     json={"shared": False, "hours": 3})
    assert status == 400
    nobody = await person(hub, "No Profile")
    status, body = await hub.request("PUT", "/api/me/safety-profile/share", token=nobody["access_token"],
                                     json={"shared": True})
    assert (status, body["error"]["code"]) == (404, "safety_profile_not_found")


async def test_an_open_case_makes_it_visible(hub: HubClient) -> None:
    class Cases:
        def __init__(self, open_for: set[str]):
            self.open_for = open_for

        async def has_open_case(self, person_id: str) -> bool:
            return person_id in self.open_for

    officer = await account(hub, "Officer", role="officer")
    someone = await with_profile(hub)
    safety(hub).set_cases(Cases({someone["id"]}))
    status, body = await hub.request("GET", f"/api/people/{someone['id']}/safety-profile",
                                     token=officer["access_token"])
    assert status == 200 and body["basis"] == "case"


async def test_key_rotation(hub: HubClient) -> None:
    """Rows written under key A; rotate to B; A removed from the configuration: still readable.
    A row under a key nobody has answers a clear error."""
    someone = await with_profile(hub)
    service = safety(hub)
    repo = SafetyRepository(service.infra)
    key_a = new_key_entry("a")
    key_b = new_key_entry("b")
    service._cipher = FieldCipher(parse_keys(key_a, "test"))
    status, _ = await hub.request("PUT", "/api/me/safety-profile", token=someone["access_token"], json=PROFILE)
    assert status == 200
    raw = await repo.profile(someone["id"])
    assert raw is not None and {FieldCipher.key_id(v) for v in raw["fields"].values()} == {"a"}

    both = FieldCipher(parse_keys(f"{key_b},{key_a}", "test"))
    counts = await rotate(repo, both)
    assert counts["reencrypted"] >= 1
    raw = await repo.profile(someone["id"])
    assert raw is not None and {FieldCipher.key_id(v) for v in raw["fields"].values()} == {"b"}
    assert (await rotate(repo, both))["reencrypted"] == 0  # idempotent

    service._cipher = FieldCipher(parse_keys(key_b, "test"))  # A removed
    status, body = await hub.request("GET", "/api/me/safety-profile", token=someone["access_token"])
    assert status == 200 and body["profile"] == PROFILE

    service._cipher = FieldCipher(parse_keys(new_key_entry("c"), "test"))  # B lost too
    status, body = await hub.request("GET", "/api/me/safety-profile", token=someone["access_token"])
    assert status == 500 and body["error"]["code"] == "profile_key_unknown"
    assert PROFILE["employer"] not in json.dumps(body)


def admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = ("import faulthandler, sys; faulthandler.dump_traceback_later(30, exit=True); "
            "from hubchat.cli import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, "admin", *args], env=env, capture_output=True, text=True,
                          timeout=90)


async def test_rotate_profile_key_command(hub: HubClient) -> None:
    """``hubchat admin rotate-profile-key`` re-encrypts the rows written under the data_dir key."""
    someone = await with_profile(hub)
    service = safety(hub)
    settings = service.infra.settings
    old_entry = (Path(settings.data_dir) / "profile-key.key").read_text().strip()
    old_kid = old_entry.split(":")[0]
    loop = asyncio.get_running_loop()
    new_entry = (await loop.run_in_executor(None, admin, node_env(settings, 0), "new-profile-key")).stdout.strip()
    env = {**node_env(settings, 0), "HUBCHAT_PROFILE_KEYS": f"{new_entry},{old_entry}"}
    result = await loop.run_in_executor(None, admin, env, "rotate-profile-key")
    assert result.returncode == 0, result.stderr
    assert "1 re-encrypted" in result.stdout and old_entry.split(":")[1] not in result.stdout + result.stderr
    raw = await SafetyRepository(service.infra).profile(someone["id"])
    assert raw is not None and {FieldCipher.key_id(v) for v in raw["fields"].values()} == {new_entry.split(":")[0]}
    assert old_kid != new_entry.split(":")[0]

    service._cipher = FieldCipher(parse_keys(new_entry, "test"))  # the old key removed from the configuration
    status, body = await hub.request("GET", "/api/me/safety-profile", token=someone["access_token"])
    assert status == 200 and body["profile"] == PROFILE

    result = await loop.run_in_executor(None, admin, {**env, "HUBCHAT_PROFILE_KEYS": new_key_entry("z")},
                                        "rotate-profile-key")
    assert result.returncode == 1 and "profile_key_unknown" in result.stderr, result.stderr
    assert PROFILE["employer"] not in result.stderr + result.stdout


async def test_requests_are_rate_limited_per_user(settings: Settings, node_factory: Any) -> None:
    node = await node_factory(fast(settings, safety_requests_per_minute=3))
    client = node.client
    someone, other = await person(client), await person(client, "Other")
    answers = [(await client.request("GET", "/api/me/safety-profile", token=someone["access_token"]))[0]
               for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    status, body = await client.request("PUT", "/api/me/safety-profile", token=someone["access_token"],
                                        json={"employer": "X"})
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    status, _ = await client.request("GET", "/api/me/safety-profile", token=other["access_token"])
    assert status == 200  # per user
    status, body = await client.request("GET", "/api/me/safety-profile", token=someone["access_token"])
    assert body["error"]["code"] == "rate_limited"
