"""CaseService: the Cell's follow-up of a person after (or without) an alert.

Rules:

* Only Cell officers (officer and admin roles) read or change cases.  Anyone else asking for one
  case is answered 404 ``case_not_found`` whether it exists or not; collection routes answer 403
  ``not_allowed``.  The person reads only the status of their own cases (``mine``), and not even
  that for a case made from a duress alert (the phone may be in someone else's hands).
* One case per alert (``alert_key``, unique): turning an alert into a case again returns the
  case already made.  A case opened from a chat request names a message the officer can read,
  sent by the person.
* Every read and change of a case is written to ``case_audit`` before the answer goes out.
* Changes are conditioned on the case not being closed; a closed case is read-only
  (``case_closed``).  Owners must be active Cell officers now (``invalid_owner``).
* A referral is stored, then its email (with the alert's JSON or CAP export as anyone outside the
  Cell may read it: never a duress flag) is handed to the durable outbox under the key
  ``case-referral:{referral id}``; the case becomes ``referred``.
* Officers following the cases are told of changes with ``case:changed`` on the officers' room
  (after the write).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterable
from typing import Any

from hubchat.cases.models import (
    MAX_REMINDER_DAYS,
    AgencyIn,
    AgencyUpdateIn,
    CasesQuery,
    CloseCaseIn,
    FromAlertIn,
    NoteIn,
    OpenCaseIn,
    ReferralIn,
    ReminderIn,
    UpdateCaseIn,
)
from hubchat.cases.ports import Accounts, Alerts, Chat
from hubchat.cases.reminders import ReminderScheduler
from hubchat.cases.repository import (
    AGENCIES,
    CASE_AUDIT,
    CASE_NOTES,
    CASE_REFERRALS,
    CASE_REMINDERS,
    CaseRepository,
)
from hubchat.cases.views import (
    agency_view,
    audit_view,
    case_view,
    note_view,
    person_case_view,
    referral_view,
    reminder_view,
)
from hubchat.clock import iso, to_millis
from hubchat.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hubchat.infra import Infra
from hubchat.mail import Attachment, Email
from hubchat.principal import Principal
from hubchat.schema import new_id
from hubchat.store import Document

log = logging.getLogger(__name__)

REFERRAL_TAG_PREFIX = "case-referral:"
MINE_LIMIT = 20


def not_found() -> NotFound:
    return NotFound("no such case", code="case_not_found")


def ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def actor(principal: Principal) -> Document:
    return {"id": principal.user_id, "display_name": principal.display_name, "role": principal.role}


class CaseService:
    def __init__(self, infra: Infra, accounts: Accounts, alerts: Alerts, chat: Chat, officers_room: str):
        """``officers_room``: the room of the officers following live (the SOS feed room)."""
        self.infra = infra
        self.settings = infra.settings
        self.repo = CaseRepository(infra)
        self.accounts = accounts
        self.alerts = alerts
        self.chat = chat
        self.officers_room = officers_room
        self.reminders = ReminderScheduler(infra, self.repo, accounts)
        infra.outbox.on_outcome(REFERRAL_TAG_PREFIX, self._on_referral_mail)

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The follow-up reminder loop on this node."""
        return self.reminders.running()

    # ------------------------------------------------------------ helpers
    def _now(self) -> dt.datetime:
        return to_millis(self.infra.clock.now())

    async def _limit_reads(self, principal: Principal) -> None:
        await self.infra.limiter.hit(f"cases:read:{principal.user_id}", self.settings.cases_reads_per_minute, 60.0)

    async def _limit_writes(self, principal: Principal) -> None:
        await self.infra.limiter.hit(f"cases:write:{principal.user_id}", self.settings.cases_writes_per_minute, 60.0)

    @staticmethod
    def _require_officer(principal: Principal) -> None:
        if not principal.is_officer:
            raise Forbidden("only Diaspora Cell officers may do this", code="not_allowed")

    async def _audit(self, case_id: str, principal: Principal, action: str) -> None:
        now = self._now()
        await self.repo.add(CASE_AUDIT, {"case_id": case_id, "actor": actor(principal), "action": action,
                                         "at": now, "at_ms": ms(now)})

    async def _load(self, principal: Principal, case_id: str) -> Document:
        """The case for an officer; anyone else: ``case_not_found``, whether it exists or not."""
        if not principal.is_officer:
            raise not_found()
        case = await self.repo.find(case_id)
        if case is None:
            raise not_found()
        return case

    async def _tell_officers(self, case: Document, change: str) -> None:
        await self.infra.realtime.emit("case:changed", {"case": case_view(case), "change": change},
                                       to=self.officers_room)

    async def _change(self, principal: Principal, case: Document, sets: Document, action: str) -> Document:
        """Write ``sets`` unless the case was closed meanwhile; audited and announced."""
        now = self._now()
        after = await self.repo.update({"_id": case["_id"], "status": {"$ne": "closed"}},
                                       {**sets, "updated_at": now, "updated_ms": ms(now)})
        if after is None:
            raise Conflict("the case is closed", code="case_closed")
        await self._audit(case["_id"], principal, action)
        await self._tell_officers(after, action)
        return after

    # ------------------------------------------------------------ the contract others rely on
    async def has_open_case(self, person_id: str) -> bool:
        """Whether the person has a case that is not closed (one indexed equality)."""
        return await self.repo.open_of(person_id) is not None

    # ------------------------------------------------------------ opening
    def _new_case(self, principal: Principal, person: Document, *, alert_id: str | None, source: Document,
                  country: str | None, summary: str | None) -> Document:
        now = self._now()
        case_id = new_id()
        name = person.get("display_name") or ""
        return {
            "_id": case_id, "person_id": person["_id"], "person_name": name, "person_name_lc": name.lower(),
            "country": country, "alert_id": alert_id,
            "alert_key": f"alert:{alert_id}" if alert_id else f"case:{case_id}", "source": source,
            "owner_id": principal.user_id, "owner_name": principal.display_name, "status": "open",
            "outcome": None, "outcome_note": None, "summary": summary, "open_key": person["_id"],
            "created_at": now, "created_ms": ms(now), "updated_at": now, "updated_ms": ms(now),
            "closed_at": None, "closed_ms": None, "version": 1,
        }

    async def from_alert(self, principal: Principal, req: FromAlertIn) -> tuple[Document, bool]:
        """The alert's case, made now unless it exists: (case view, created)."""
        self._require_officer(principal)
        await self._limit_writes(principal)
        existing = await self.repo.by_alert(req.alert_id)
        if existing is None:
            alert = await self.alerts.find(req.alert_id)
            if alert is None:
                raise NotFound("no such alert", code="alert_not_found")
            person = alert.get("person") or {}
            user = {"_id": alert["user_id"], "display_name": person.get("display_name")}
            case = self._new_case(principal, user, alert_id=req.alert_id,
                                  source={"kind": "alert", "alert_id": req.alert_id},
                                  country=person.get("country"), summary=None)
            stored = await self.repo.insert(case)
            if stored is not None:
                await self._audit(case["_id"], principal, "open")
                await self._tell_officers(case, "open")
                return case_view(case), True
            existing = await self.repo.by_alert(req.alert_id)  # another node made it first
            if existing is None:
                raise Conflict("the alert's case is being made, retry", code="case_busy")
        await self._audit(existing["_id"], principal, "view")
        return case_view(existing), False

    async def open(self, principal: Principal, req: OpenCaseIn) -> Document:
        """A case from a chat request (a message the officer can read, sent by the person) or about a person."""
        self._require_officer(principal)
        await self._limit_writes(principal)
        source: Document = {"kind": "person"}
        if req.channel_id and req.message_id:
            message = await self.chat.message(req.message_id)
            readable = message is not None and await self.chat.can_read(principal, req.channel_id)
            if (not readable or message is None or message.get("channel_id") != req.channel_id
                    or message.get("sender_id") != req.person_id or message.get("deleted")):
                raise NotFound("no such message from this person", code="message_not_found")
            source = {"kind": "chat", "channel_id": req.channel_id, "message_id": req.message_id}
        try:
            user = await self.accounts.get_user(req.person_id)
        except NotFound:
            raise NotFound("no such person", code="person_not_found") from None
        case = self._new_case(principal, user, alert_id=None, source=source, country=user.get("country"),
                              summary=req.summary)
        await self.repo.insert(case)
        await self._audit(case["_id"], principal, "open")
        await self._tell_officers(case, "open")
        return case_view(case)

    # ------------------------------------------------------------ reading
    async def list(self, principal: Principal, query: CasesQuery) -> Document:
        """Newest first, a page at a time (``next_before``), filtered; each filter is an indexed
        equality (or the created-time range) on both backends."""
        self._require_officer(principal)
        await self._limit_reads(principal)
        filters: Document = {}
        if query.status:
            filters["status"] = query.status
        if query.owner_id:
            filters["owner_id"] = query.owner_id
        if query.country:
            filters["country"] = query.country
        created: Document = {}
        if query.since:
            created["$gte"] = ms(dt.datetime.combine(query.since, dt.time(), dt.UTC))
        if query.until:
            created["$lt"] = ms(dt.datetime.combine(query.until + dt.timedelta(days=1), dt.time(), dt.UTC))
        before_id = None
        if query.before:
            before_ms, _, before_id = query.before.partition(":")
            created["$lte"] = min(int(before_ms), created.get("$lte", int(before_ms)))
        if created:
            filters["created_ms"] = created
        if query.q:
            filters["person_name_lc"] = {"$regex": "^" + re.escape(query.q.strip().lower())}
        # Ties on the cursor's millisecond: read a few more and drop the ones already shown.
        extra = 20 if before_id else 0
        found = await self.repo.page(filters, query.limit + extra)
        if before_id:
            cut = int(query.before.partition(":")[0]) if query.before else 0
            found = [c for c in found if not (c["created_ms"] == cut and c["_id"] >= before_id)]
        page = found[:query.limit]
        next_before = f"{page[-1]['created_ms']}:{page[-1]['_id']}" if len(page) == query.limit else None
        await self._audit_many((c["_id"] for c in page), principal, "list")
        return {"cases": [case_view(c) for c in page], "next_before": next_before}

    async def _audit_many(self, case_ids: Iterable[str], principal: Principal, action: str) -> None:
        for case_id in case_ids:
            await self._audit(case_id, principal, action)

    async def get(self, principal: Principal, case_id: str) -> Document:
        """The case with its notes, reminders and referrals (audited ``view``)."""
        case = await self._load(principal, case_id)
        await self._limit_reads(principal)
        await self._audit(case_id, principal, "view")
        notes = await self.repo.of_case(CASE_NOTES, case_id)
        reminders = await self.repo.of_case(CASE_REMINDERS, case_id, order="due_ms")
        referrals = await self.repo.of_case(CASE_REFERRALS, case_id)
        return {"case": case_view(case), "notes": [note_view(n) for n in notes],
                "reminders": [reminder_view(r) for r in reminders],
                "referrals": [referral_view(r) for r in referrals]}

    async def audit(self, principal: Principal, case_id: str) -> Document:
        await self._load(principal, case_id)
        await self._limit_reads(principal)
        entries = await self.repo.of_case(CASE_AUDIT, case_id)
        return {"case_id": case_id, "entries": [audit_view(e) for e in entries]}

    async def mine(self, principal: Principal) -> Document:
        """The caller's own cases, status only; a case made from a duress alert is never listed."""
        await self._limit_reads(principal)
        shown = []
        for case in await self.repo.of_person(principal.user_id, MINE_LIMIT):
            if case.get("alert_id"):
                alert = await self.alerts.find(case["alert_id"])
                if alert is None or alert.get("duress"):
                    continue
            shown.append(person_case_view(case))
        return {"cases": shown}

    # ------------------------------------------------------------ changing
    async def update(self, principal: Principal, case_id: str, req: UpdateCaseIn) -> Document:
        case = await self._load(principal, case_id)
        await self._limit_writes(principal)
        sets: Document = {}
        if req.owner_id is not None:
            if not await self.accounts.active_staff([req.owner_id]):
                raise ValidationFailed("owner_id: not an active Cell officer", code="invalid_owner")
            owner = await self.accounts.get_user(req.owner_id)
            sets.update(owner_id=req.owner_id, owner_name=owner.get("display_name"))
        if req.status is not None:
            sets["status"] = req.status
        action = "reassign" if req.status is None else ("status" if req.owner_id is None else "reassign_status")
        return case_view(await self._change(principal, case, sets, action))

    async def close(self, principal: Principal, case_id: str, req: CloseCaseIn) -> Document:
        case = await self._load(principal, case_id)
        await self._limit_writes(principal)
        now = self._now()
        after = await self._change(principal, case, {
            "status": "closed", "outcome": req.outcome, "outcome_note": req.note, "open_key": f"closed:{case_id}",
            "closed_at": now, "closed_ms": ms(now)}, "close")
        await self.repo.cancel_reminders(case_id)
        return case_view(after)

    async def add_note(self, principal: Principal, case_id: str, req: NoteIn) -> Document:
        case = await self._load(principal, case_id)
        await self._limit_writes(principal)
        if case["status"] == "closed":
            raise Conflict("the case is closed", code="case_closed")
        now = self._now()
        note = await self.repo.add(CASE_NOTES, {"case_id": case_id, "kind": req.kind, "body": req.body,
                                                "author": actor(principal), "at": now, "at_ms": ms(now)})
        await self._change(principal, case, {}, "note")
        return note_view(note)

    async def add_reminder(self, principal: Principal, case_id: str, req: ReminderIn) -> Document:
        case = await self._load(principal, case_id)
        await self._limit_writes(principal)
        if case["status"] == "closed":
            raise Conflict("the case is closed", code="case_closed")
        now = self._now()
        due = to_millis(req.due_at.astimezone(dt.UTC))
        if due <= now or due > now + dt.timedelta(days=MAX_REMINDER_DAYS):
            raise ValidationFailed("due_at: must be in the future, within a year", code="invalid_due_at")
        reminder = await self.repo.add(CASE_REMINDERS, {
            "case_id": case_id, "due_at": due, "due_ms": ms(due), "note": req.note, "created_by": actor(principal),
            "state": "pending", "lease_ms": 0, "claimed_by": None, "fired_ms": None})
        await self._change(principal, case, {}, "reminder")
        return reminder_view(reminder)

    # ------------------------------------------------------------ referrals
    async def refer(self, principal: Principal, case_id: str, req: ReferralIn) -> Document:
        case = await self._load(principal, case_id)
        await self._limit_writes(principal)
        await self.infra.limiter.hit(f"cases:referral:{principal.user_id}", self.settings.cases_referrals_per_hour,
                                     3600.0, "referrals")
        if case["status"] == "closed":
            raise Conflict("the case is closed", code="case_closed")
        agency = await self.repo.agency(req.agency_id)
        if agency is None or not agency.get("active", True):
            raise NotFound("no such partner agency", code="agency_not_found")
        attachments: tuple[Attachment, ...] = ()
        if req.attach != "none":
            if not case.get("alert_id"):
                raise ValidationFailed("attach: this case has no alert to attach; use none", code="no_alert")
            filename, content_type, content = await self.alerts.export_for_partner(principal, case["alert_id"],
                                                                                   req.attach)
            attachments = (Attachment(filename, content_type, content),)
        now = self._now()
        referral_id = new_id()
        shown_agency = {"id": agency["_id"], "name": agency["name"], "kind": agency["kind"],
                        "email": agency["email"], "country": agency["country"]}
        referral: Document = {"_id": referral_id, "case_id": case_id, "agency": shown_agency, "attach": req.attach,
                              "note": req.note, "by": actor(principal), "at": now, "at_ms": ms(now),
                              "outbox_key": f"case-referral:{referral_id}"}
        # Stored first, then the email: the outbox key makes a redo mail nobody twice.
        await self.repo.coll(CASE_REFERRALS).insert_one(referral)
        await self.infra.outbox.enqueue(self._referral_email(case, agency, req, principal, attachments),
                                        key=referral["outbox_key"], tag=f"{REFERRAL_TAG_PREFIX}{case_id}")
        await self._change(principal, case, {"status": "referred"}, "refer")
        return referral_view(referral)

    def _referral_email(self, case: Document, agency: Document, req: ReferralIn, principal: Principal,
                        attachments: tuple[Attachment, ...]) -> Email:
        lines = [f"Dear {agency['name']},", "",
                 "The Diaspora Cell refers the following case to you for assistance.", "",
                 f"Case: {case['_id']}", f"Person: {case.get('person_name') or '-'}",
                 f"Country: {case.get('country') or '-'}", f"Opened: {iso(case.get('created_at'))}",
                 f"Referred by: {principal.display_name}, Diaspora Cell"]
        if req.note:
            lines += ["", req.note]
        if attachments:
            lines += ["", f"The alert's record is attached ({attachments[0].filename})."]
        lines += ["", "Please reply to this address to reach the Cell.", "", self.settings.public_url]
        return Email(to=(agency["email"],), subject=f"Referral from the Diaspora Cell: case {case['_id'][-8:]}",
                     text="\n".join(lines), attachments=attachments)

    async def _on_referral_mail(self, doc: Document, outcome: str) -> None:
        """The outbox delivered (``sent``) or gave up on (``failed``) a referral's email: recorded
        on the referral (the officer sees it on the case)."""
        referral_id = str(doc.get("key", "")).partition("|")[0].removeprefix("case-referral:")
        await self.repo.coll(CASE_REFERRALS).update_one({"_id": referral_id}, {"$set": {"email_state": outcome}})

    # ------------------------------------------------------------ partner agencies
    async def agencies(self, principal: Principal) -> Document:
        self._require_officer(principal)
        await self._limit_reads(principal)
        return {"agencies": [agency_view(a) for a in await self.repo.agencies()]}

    async def add_agency(self, principal: Principal, req: AgencyIn) -> Document:
        self._require_officer(principal)
        await self._limit_writes(principal)
        agency = {"_id": new_id(), "name": req.name, "kind": req.kind, "email": req.email, "country": req.country,
                  "active": True, "created_at": self._now(), "created_by": actor(principal)}
        await self.repo.coll(AGENCIES).insert_one(agency)
        return agency_view(agency)

    async def update_agency(self, principal: Principal, agency_id: str, req: AgencyUpdateIn) -> Document:
        self._require_officer(principal)
        await self._limit_writes(principal)
        sets: dict[str, Any] = {k: v for k, v in req.model_dump().items() if v is not None}
        if not sets:
            raise ValidationFailed("nothing to change")
        agency = await self.repo.update_agency(agency_id, sets)
        if agency is None:
            raise NotFound("no such partner agency", code="agency_not_found")
        return agency_view(agency)
