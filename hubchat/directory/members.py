"""Membership writes: join requests, invitations, roles, leaving — the rules and their checks.

The read side other capabilities use is :class:`~hubchat.directory.membership.Memberships`.
After every committed change this service calls ``memberships.notify`` with the active role
before and after (None when not active); the notification is sent whatever the association's
status, and subscribers that only care about approved associations check that themselves.

An association always keeps at least one active office bearer.  Demotions and removals check
that before writing and check again after (two office bearers removing each other at the same
moment both see the other one); when the second check finds none left, the write is undone and
the request refused with ``last_office_bearer``, so a refused request leaves the data as it was.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.clock import utcnow
from hubchat.directory.access import AssociationAccess
from hubchat.directory.membership import MEMBERSHIPS, MembershipChange, MembershipRole, Memberships
from hubchat.directory.models import MemberPatch
from hubchat.directory.notices import invitation_email
from hubchat.directory.ports import Accounts
from hubchat.directory.timestamps import stamp
from hubchat.directory.views import membership_view, my_membership_view
from hubchat.errors import Conflict, Forbidden, NotFound
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.schema import new_id
from hubchat.store import Document

log = logging.getLogger(__name__)

INVITE_LIMIT = 30  # invitations per office bearer per window
INVITE_WINDOW_SECS = 3600
JOIN_LIMIT = 20  # join requests per user per window
JOIN_WINDOW_SECS = 3600


_EXISTING = {
    "active": ("already a member of this association", "already_member"),
    "requested": ("a request to join is already waiting", "already_requested"),
    "invited": ("already invited: accept or decline the invitation", "already_invited"),
}


def _active_role(membership: Document | None) -> MembershipRole | None:
    if membership is None or membership["status"] != "active":
        return None
    role: MembershipRole = membership["role"]
    return role


class MemberService:
    def __init__(self, infra: Infra, accounts: Accounts, memberships: Memberships, access: AssociationAccess):
        self.infra = infra
        self.accounts = accounts
        self.memberships = memberships
        self.access = access

    @property
    def _coll(self) -> Any:
        return self.infra.store[MEMBERSHIPS]

    # ------------------------------------------------------------ writes
    async def add_founder(self, association_id: str, user_id: str, position: str) -> None:
        """The registering user becomes the first active office bearer (the caller notifies)."""
        await self._insert(association_id, user_id, status="active", role="office_bearer", position=position)

    async def join(self, principal: Principal, association_id: str) -> Document:
        """Ask to join an approved association (status ``requested``)."""
        doc, _ = await self.access.visible(principal, association_id)
        if doc["status"] != "approved":
            raise Conflict("only approved associations take join requests", code="invalid_state")
        await self._refuse_existing(association_id, principal.user_id)
        await self.infra.limiter.hit(f"directory:join:{principal.user_id}", JOIN_LIMIT, JOIN_WINDOW_SECS,
                                     "join requests")
        membership = await self._insert(association_id, principal.user_id, status="requested", role="member")
        return await self._view(membership)

    async def approve_request(self, principal: Principal, association_id: str, user_id: str) -> Document:
        await self.access.as_office_bearer(principal, association_id)
        membership = await self._coll.find_one_and_update(
            {"association_id": association_id, "user_id": user_id, "status": "requested"},
            {"$set": {"status": "active", "role": "member"}, **stamp("updated_at")},
            return_document=ReturnDocument.AFTER)
        if membership is None:
            raise NotFound("no such join request", code="request_not_found")
        await self._notify(association_id, user_id, None, "member")
        return await self._view(membership)

    async def decline_request(self, principal: Principal, association_id: str, user_id: str) -> None:
        await self.access.as_office_bearer(principal, association_id)
        result = await self._coll.delete_one(
            {"association_id": association_id, "user_id": user_id, "status": "requested"})
        if result.deleted_count == 0:
            raise NotFound("no such join request", code="request_not_found")

    async def invite(self, principal: Principal, association_id: str, email: str) -> None:
        """Invite a user by email (status ``invited``); they are told by email.

        The answer is the same whether the email has an account, is already a member, has asked
        to join or is already invited (then nothing changes), so invitations cannot be used to
        find out who has an account; the limit is counted before anything is looked up.
        """
        doc, _ = await self.access.as_office_bearer(principal, association_id)
        await self.infra.limiter.hit(f"directory:invite:{principal.user_id}", INVITE_LIMIT,
                                     INVITE_WINDOW_SECS, "invitations")
        user = await self.accounts.find_by_email(email)
        if user is None:
            return
        try:
            await self._insert(association_id, user["_id"], status="invited", role="member",
                               invited_by=principal.user_id)
        except Conflict:
            return
        self.infra.mailer.send_later(
            invitation_email(user["email"], doc, principal.display_name, self.infra.settings.public_url))

    async def accept_invitation(self, principal: Principal, association_id: str) -> Document:
        membership = await self._coll.find_one_and_update(
            {"association_id": association_id, "user_id": principal.user_id, "status": "invited"},
            {"$set": {"status": "active"}, **stamp("updated_at")},
            return_document=ReturnDocument.AFTER)
        if membership is None:
            raise NotFound("no invitation to this association", code="invitation_not_found")
        await self._notify(association_id, principal.user_id, None, membership["role"])
        association = await self.access.load(association_id)
        return my_membership_view(membership, association)

    async def decline_invitation(self, principal: Principal, association_id: str) -> None:
        result = await self._coll.delete_one(
            {"association_id": association_id, "user_id": principal.user_id, "status": "invited"})
        if result.deleted_count == 0:
            raise NotFound("no invitation to this association", code="invitation_not_found")

    async def update_member(self, principal: Principal, association_id: str, user_id: str,
                            patch: MemberPatch) -> Document:
        """Set an active member's role and/or position (office bearers only)."""
        await self.access.as_office_bearer(principal, association_id)
        current = await self._coll.find_one({"association_id": association_id, "user_id": user_id,
                                             "status": "active"})
        if current is None:
            raise NotFound("no such member", code="member_not_found")
        before: MembershipRole = current["role"]
        after: MembershipRole = patch.role or before
        changes: Document = {"role": after}
        if "position" in patch.model_fields_set:
            changes["position"] = patch.position
        elif after == "member" and before == "office_bearer":
            changes["position"] = None  # the office held goes with the role
        demoting = before == "office_bearer" and after == "member"
        if demoting:
            await self._require_other_office_bearer(association_id, user_id)
        updated = await self._coll.find_one_and_update(
            {"_id": current["_id"], "status": "active", "role": before},
            {"$set": changes, **stamp("updated_at")},
            return_document=ReturnDocument.AFTER)
        if updated is None:
            raise Conflict("the membership changed meanwhile; reload and retry", code="concurrent_change")
        if demoting and await self._office_bearer_count(association_id) == 0:
            await self._coll.replace_one({"_id": current["_id"]}, current)
            raise Conflict("an association must keep at least one office bearer", code="last_office_bearer")
        await self._notify(association_id, user_id, before, after)
        return await self._view(updated)

    async def remove(self, principal: Principal, association_id: str, user_id: str) -> None:
        """Leave (your own id) or remove someone (office bearers); also withdraws requests/invitations."""
        if user_id != principal.user_id:
            await self.access.as_office_bearer(principal, association_id)
        current = await self._coll.find_one({"association_id": association_id, "user_id": user_id})
        if current is None:
            raise NotFound("no such member", code="member_not_found")
        before = _active_role(current)
        if before == "office_bearer":
            await self._require_other_office_bearer(association_id, user_id)
        result = await self._coll.delete_one({"_id": current["_id"], "status": current["status"],
                                              "role": current["role"]})
        if result.deleted_count == 0:
            raise Conflict("the membership changed meanwhile; reload and retry", code="concurrent_change")
        if before == "office_bearer" and await self._office_bearer_count(association_id) == 0:
            await self._coll.insert_one(current)
            raise Conflict("an association must keep at least one office bearer", code="last_office_bearer")
        await self._notify(association_id, user_id, before, None)

    # ------------------------------------------------------------ reads
    async def list_members(self, principal: Principal, association_id: str) -> list[Document]:
        """Active members for members and officers; office bearers also see requests and invitations."""
        _, viewer = await self.access.visible(principal, association_id)
        if not (viewer.is_member or viewer.is_officer):
            raise Forbidden("only members and cell officers see the members", code="not_member")
        # Office bearers see join requests too, but never pending invitations: which of the
        # emails they invited have an account shows only when the invitee accepts.
        statuses = ["active", "requested"] if viewer.is_office_bearer else ["active"]
        query: Document = {"association_id": association_id, "status": {"$in": statuses}}
        memberships = [m async for m in self._coll.find(query)]
        users = await self.accounts.users_by_id([m["user_id"] for m in memberships])
        views = [membership_view(m, users.get(m["user_id"])) for m in memberships]
        order = {"active": 0, "requested": 1, "invited": 2}
        views.sort(key=lambda v: (order[v["status"]], v["role"] != "office_bearer",
                                  (v["display_name"] or "").lower(), v["user_id"]))
        return views

    async def of_user(self, principal: Principal) -> list[Document]:
        """The caller's memberships (active, requested, invited) with each association's name and status."""
        memberships = [m async for m in self._coll.find({"user_id": principal.user_id})]
        ids = [m["association_id"] for m in memberships]
        associations = {a["_id"]: a async for a in self.access.coll.find({"_id": {"$in": ids}})}
        views = [my_membership_view(m, associations[m["association_id"]])
                 for m in memberships if m["association_id"] in associations]
        views.sort(key=lambda v: (v["association"]["name"].lower(), v["association"]["id"]))
        return views

    # ------------------------------------------------------------ helpers
    async def _insert(self, association_id: str, user_id: str, *, status: str, role: MembershipRole,
                      position: str | None = None, invited_by: str | None = None) -> Document:
        now = utcnow()
        membership = {"_id": new_id(), "association_id": association_id, "user_id": user_id, "role": role,
                      "position": position, "status": status, "created_at": now, "updated_at": now,
                      "invited_by": invited_by}
        try:
            await self._coll.insert_one(membership)
        except DuplicateKeyError:
            await self._refuse_existing(association_id, user_id)
            raise Conflict("the membership changed meanwhile; reload and retry", code="concurrent_change") \
                from None
        return membership

    async def _refuse_existing(self, association_id: str, user_id: str) -> None:
        existing = await self._coll.find_one({"association_id": association_id, "user_id": user_id},
                                             {"status": 1})
        if existing is not None:
            message, code = _EXISTING[existing["status"]]
            raise Conflict(message, code=code)

    async def _office_bearer_count(self, association_id: str) -> int:
        count: int = await self._coll.count_documents(
            {"association_id": association_id, "status": "active", "role": "office_bearer"})
        return count

    async def _require_other_office_bearer(self, association_id: str, user_id: str) -> None:
        others = await self._coll.count_documents({"association_id": association_id, "status": "active",
                                                   "role": "office_bearer", "user_id": {"$ne": user_id}})
        if others == 0:
            raise Conflict("an association must keep at least one office bearer", code="last_office_bearer")

    async def _notify(self, association_id: str, user_id: str, before: MembershipRole | None,
                      after: MembershipRole | None) -> None:
        await self.memberships.notify(MembershipChange(association_id, user_id, before, after))

    async def _view(self, membership: Document) -> Document:
        users = await self.accounts.users_by_id([membership["user_id"]])
        return membership_view(membership, users.get(membership["user_id"]))
