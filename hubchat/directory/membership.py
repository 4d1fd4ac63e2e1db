"""Who belongs to which association, and in what role: the read side other capabilities use.

Collection ``memberships``, one document per (association, user):

    {_id, association_id, user_id,
     role: "office_bearer" | "member",
     position: str | None,                # "President", "Secretary", … for office bearers
     status: "active" | "invited" | "requested",
     created_at, updated_at, invited_by | None}

Only ``active`` memberships grant anything.  Writes belong to the directory service; after every
committed change it calls ``notify``, which publishes a ``MembershipChange`` domain event (and
``notify_approved`` an ``AssociationApproved``) so that channels can move users between rooms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pymongo import IndexModel

from hubchat.infra import Infra

MEMBERSHIPS = "memberships"
MEMBERSHIP_INDEXES = {
    MEMBERSHIPS: [
        IndexModel([("association_id", 1), ("user_id", 1)], unique=True, name="memberships_assoc_user"),
        IndexModel([("user_id", 1), ("status", 1)], name="memberships_user_status"),
    ],
}

MembershipRole = Literal["office_bearer", "member"]


@dataclasses.dataclass(frozen=True)
class MembershipChange:
    """A committed change: ``before``/``after`` are the roles (None = not an active member)."""

    association_id: str
    user_id: str
    before: MembershipRole | None
    after: MembershipRole | None


@dataclasses.dataclass(frozen=True)
class AssociationApproved:
    association_id: str
    name: str


class Memberships:
    def __init__(self, infra: Infra):
        self.infra = infra

    @property
    def _coll(self) -> Any:
        return self.infra.store[MEMBERSHIPS]

    async def active_of_user(self, user_id: str) -> list[dict[str, Any]]:
        return [m async for m in self._coll.find({"user_id": user_id, "status": "active"})]

    async def role_in(self, user_id: str, association_id: str) -> MembershipRole | None:
        doc = await self._coll.find_one({"association_id": association_id, "user_id": user_id, "status": "active"},
                                        {"role": 1})
        return None if doc is None else doc["role"]

    async def member_ids(self, association_id: str) -> list[str]:
        cursor = self._coll.find({"association_id": association_id, "status": "active"}, {"user_id": 1})
        return [m["user_id"] async for m in cursor]

    async def office_bearer_ids(self, association_ids: list[str]) -> list[str]:
        cursor = self._coll.find({"association_id": {"$in": association_ids}, "status": "active",
                                  "role": "office_bearer"}, {"user_id": 1})
        return sorted({m["user_id"] async for m in cursor})

    async def office_bearers_by_association(self, association_ids: Sequence[str]) -> dict[str, list[str]]:
        """Active office bearers' ids (sorted) of each association that has any, in one read."""
        if not association_ids:
            return {}
        found: dict[str, set[str]] = {}
        cursor = self._coll.find({"association_id": {"$in": list(association_ids)}, "status": "active",
                                  "role": "office_bearer"}, {"user_id": 1, "association_id": 1})
        async for m in cursor:
            found.setdefault(m["association_id"], set()).add(m["user_id"])
        return {association_id: sorted(ids) for association_id, ids in found.items()}

    async def active_office_bearer_pairs(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (user id, association id) pairs are active office bearers now."""
        wanted = set(pairs)
        if not wanted:
            return set()
        users, associations = sorted({u for u, _ in wanted}), sorted({a for _, a in wanted})
        cursor = self._coll.find({"user_id": {"$in": users}, "association_id": {"$in": associations},
                                  "status": "active", "role": "office_bearer"}, {"user_id": 1, "association_id": 1})
        found = {(m["user_id"], m["association_id"]) async for m in cursor}
        return found & wanted

    async def notify(self, change: MembershipChange) -> None:
        """Called by the directory service after a committed membership change: publishes it
        when the active role changed."""
        if change.before != change.after:
            await self.infra.events.publish(change)

    async def notify_approved(self, event: AssociationApproved) -> None:
        """Called by the directory service once an association is approved."""
        await self.infra.events.publish(event)
