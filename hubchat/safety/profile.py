"""The person's safety profile: view, edit, export, delete, share; and the Cell's audited view.

Who sees a profile: the person (their own, always), and Cell officers (account role officer or
admin) only while the person has an alert open for the Cell (a duress alert shown to the person
as cancelled included), or a case the Cell is still working on (``OpenCases`` port), or while the
person shares it (a toggle with an optional expiry, read on the injected clock).  Every officer
view is written to ``safety_profile_audit`` and, when an alert is open, to that alert's audit log
(``alert_audit``, action ``safety_profile``).  Everyone else — office bearers dispatched to the
alert, other members, officers when none of the three holds, unknown people — gets the same
``404 safety_profile_unavailable``, so the answer tells nothing about whether a profile exists.

The person is never shown who viewed their profile: on a phone held by someone else after a
duress "cancel", "an officer looked at your profile just now" would reveal the duress.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from hubchat.clock import Clock, iso, utcnow
from hubchat.config import Settings
from hubchat.errors import NotFound
from hubchat.principal import Principal
from hubchat.ratelimit import RateLimiter
from hubchat.safety.crypto import FieldCipher
from hubchat.safety.models import FIELDS, ProfileIn, ShareIn
from hubchat.safety.ports import Alerts, OpenCases
from hubchat.safety.repository import SafetyRepository
from hubchat.store import Document

log = logging.getLogger(__name__)


def unavailable() -> NotFound:
    return NotFound("no safety profile is available to you", code="safety_profile_unavailable")


def share_active(doc: Document | None, now: dt.datetime) -> bool:
    if not doc or not doc.get("shared"):
        return False
    until = doc.get("share_until")
    if until is None:
        return True
    if until.tzinfo is None:
        until = until.replace(tzinfo=dt.UTC)
    return bool(until > now)


class SafetyProfiles:
    def __init__(self, settings: Settings, repo: SafetyRepository, cipher: Callable[[], FieldCipher],
                 alerts: Alerts, cases: OpenCases, limiter: Callable[[], RateLimiter], clock: Clock):
        self.settings = settings
        self.repo = repo
        self._cipher = cipher
        self.alerts = alerts
        self.cases = cases
        self._limiter = limiter
        self.clock = clock

    @property
    def cipher(self) -> FieldCipher:
        return self._cipher()

    async def hit(self, principal: Principal) -> None:
        await self._limiter().hit(f"safety:{principal.user_id}", self.settings.safety_requests_per_minute, 60.0,
                                  "safety profile requests")

    # ------------------------------------------------------------ the person
    def _decrypt(self, user_id: str, doc: Document) -> dict[str, Any]:
        stored = doc.get("fields") or {}
        return {name: json.loads(self.cipher.decrypt(user_id, name, stored[name])) for name in FIELDS
                if name in stored}

    def _view(self, user_id: str, doc: Document | None) -> dict[str, Any]:
        if doc is None:
            return {"profile": None, "shared": False, "share_until": None, "updated_at": None}
        return {"profile": self._decrypt(user_id, doc), "shared": share_active(doc, self.clock.now()),
                "share_until": iso(doc.get("share_until")) if doc.get("shared") else None,
                "updated_at": iso(doc.get("updated_at"))}

    async def mine(self, principal: Principal) -> dict[str, Any]:
        await self.hit(principal)
        return self._view(principal.user_id, await self.repo.profile(principal.user_id))

    async def save(self, principal: Principal, req: ProfileIn) -> dict[str, Any]:
        await self.hit(principal)
        uid = principal.user_id
        values = req.model_dump(mode="json", exclude_none=True)
        fields = {name: self.cipher.encrypt(uid, name, json.dumps(value, ensure_ascii=False, sort_keys=True))
                  for name, value in values.items() if value not in ([], "")}
        doc = await self.repo.save_fields(uid, fields)
        log.info("safety profile saved", extra={"user_id": uid, "fields": len(fields)})
        return self._view(uid, doc)

    async def delete(self, principal: Principal) -> dict[str, Any]:
        await self.hit(principal)
        deleted = await self.repo.delete_profile(principal.user_id)
        log.info("safety profile deleted", extra={"user_id": principal.user_id})
        return {"deleted": deleted}

    async def share(self, principal: Principal, req: ShareIn) -> dict[str, Any]:
        await self.hit(principal)
        until = None
        if req.shared and req.hours is not None:
            until = self.clock.now() + dt.timedelta(hours=req.hours)
        doc = await self.repo.set_share(principal.user_id, req.shared, until)
        if doc is None:
            raise NotFound("you have no safety profile to share", code="safety_profile_not_found")
        return self._view(principal.user_id, doc)

    async def export(self, principal: Principal) -> dict[str, Any]:
        view = await self.mine(principal)
        return {"exported_at": iso(utcnow()), "user_id": principal.user_id, **view}

    # ------------------------------------------------------------ the Cell
    async def for_alert(self, principal: Principal, alert_id: str) -> dict[str, Any]:
        """An officer, from an alert's detail pane: the person of an alert open for the Cell."""
        await self.hit(principal)
        if not principal.is_officer:
            raise unavailable()
        alert = await self.alerts.find(alert_id)
        open_ids = [a["_id"] for a in await self.alerts.open_alerts_of(alert["user_id"])] if alert is not None else []
        if alert is None or alert["_id"] not in open_ids:
            raise unavailable()
        return await self._shown(principal, alert["user_id"], "alert", alert["_id"])

    async def for_person(self, principal: Principal, person_id: str) -> dict[str, Any]:
        """An officer, by person: while an alert or a case is open, or the person shares it."""
        await self.hit(principal)
        if not principal.is_officer or person_id == principal.user_id:
            raise unavailable()
        open_alerts = await self.alerts.open_alerts_of(person_id)
        if open_alerts:
            return await self._shown(principal, person_id, "alert", open_alerts[0]["_id"])
        if await self.cases.has_open_case(person_id):
            return await self._shown(principal, person_id, "case", None)
        if share_active(await self.repo.profile(person_id), self.clock.now()):
            return await self._shown(principal, person_id, "shared", None)
        raise unavailable()

    async def views_of(self, principal: Principal, person_id: str) -> dict[str, Any]:
        """Officers: who was shown this person's profile, when and why (``safety_profile_audit``)."""
        await self.hit(principal)
        if not principal.is_officer:
            raise unavailable()
        return {"entries": [{"viewer": e["viewer"], "basis": e["basis"], "alert_id": e.get("alert_id"),
                             "at": iso(e["at"])} for e in await self.repo.audit_entries(person_id)]}

    async def _shown(self, principal: Principal, person_id: str, basis: str, alert_id: str | None) -> dict[str, Any]:
        doc = await self.repo.profile(person_id)
        if doc is None:
            raise unavailable()
        viewer = {"id": principal.user_id, "display_name": principal.display_name, "role": principal.role}
        # audited before anything is shown: a view that cannot be recorded is not given
        await self.repo.audit_view(person_id, viewer, basis, alert_id)
        if alert_id is not None:
            await self.alerts.audit(alert_id, viewer, "safety_profile")
        log.info("safety profile shown to an officer", extra={"person_id": person_id, "viewer_id": principal.user_id,
                                                               "basis": basis})
        return {"person_id": person_id, "basis": basis, "alert_id": alert_id,
                "profile": self._decrypt(person_id, doc), "updated_at": iso(doc.get("updated_at"))}


async def rotate(repo: SafetyRepository, cipher: FieldCipher) -> dict[str, int]:
    """Re-encrypt every profile under the current key (``hubchat admin rotate-profile-key``).

    Each row is rewritten only if nobody wrote it meanwhile (its ``version``); a row written
    meanwhile was written under the current key already.  A row under a key not given stops the
    command with ``profile_key_unknown`` (logged with the key id, never the content)."""
    done = unchanged = 0
    async for doc in await repo.all_profiles():
        stored = doc.get("fields") or {}
        if all(FieldCipher.key_id(v) == cipher.current_kid for v in stored.values()):
            unchanged += 1
            continue
        fresh = {name: cipher.encrypt(doc["_id"], name, cipher.decrypt(doc["_id"], name, value))
                 for name, value in stored.items()}
        if await repo.reencrypt(doc["_id"], doc["version"], fresh):
            done += 1
        else:
            unchanged += 1
    return {"reencrypted": done, "unchanged": unchanged}
