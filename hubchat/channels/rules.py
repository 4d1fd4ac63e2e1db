"""Who belongs to which channel and who may open a direct message with whom.

Pure functions of a channel document and an :class:`Access` (a user's role and active
association memberships), so that they can be tested without any store.  The service loads the
Access for every event (the roles through the node's access cache, as fresh as the store: see
``access_cache.py``); nothing here trusts client-supplied ids.

Kinds and members:

    association  the active members (any role) of ``association_id``
    cell         the office bearers of ``association_id`` and every cell officer
    inter        the office bearers of every association in ``association_ids``
                 (invited associations join when one of their office bearers accepts)
    dm           the two users in ``member_ids``

Direct messages: a plain member may open one with the office bearers of his own associations
and with cell officers; office bearers and officers ("privileged") may open one with each
other and with anyone who could open one with them.  The rule is symmetric.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from hubchat.directory.membership import MembershipRole

ChannelKind = Literal["association", "inter", "cell", "dm"]
KINDS: tuple[ChannelKind, ...] = ("association", "inter", "cell", "dm")
Channel = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Access:
    """What the store says about one user right now."""

    user_id: str
    is_officer: bool = False
    roles: Mapping[str, MembershipRole] = dataclasses.field(default_factory=dict)  # association_id -> role

    @property
    def association_ids(self) -> frozenset[str]:
        return frozenset(self.roles)

    @property
    def office_bearer_of(self) -> frozenset[str]:
        return frozenset(a for a, role in self.roles.items() if role == "office_bearer")

    @property
    def privileged(self) -> bool:
        return self.is_officer or bool(self.office_bearer_of)


def is_member(channel: Channel, access: Access) -> bool:
    kind = channel.get("kind")
    if kind == "association":
        return channel.get("association_id") in access.association_ids
    if kind == "cell":
        return access.is_officer or channel.get("association_id") in access.office_bearer_of
    if kind == "inter":
        return not access.office_bearer_of.isdisjoint(channel.get("association_ids", ()))
    if kind == "dm":
        return access.user_id in channel.get("member_ids", ())
    return False


def channels_filter(access: Access, *, direct: bool = True) -> dict[str, Any]:
    """A MongoDB filter matching exactly the channels :func:`is_member` admits (``direct=False``:
    all but the direct channels, which a user's channel list finds through their member rows)."""
    member_of = sorted(access.association_ids)
    bearer_of = sorted(access.office_bearer_of)
    cell: dict[str, Any] = {"kind": "cell"}
    if not access.is_officer:
        cell["association_id"] = {"$in": bearer_of}
    branches: list[dict[str, Any]] = [
        {"kind": "association", "association_id": {"$in": member_of}},
        cell,
        {"kind": "inter", "association_ids": {"$in": bearer_of}},
    ]
    if direct:
        branches.append({"kind": "dm", "member_ids": access.user_id})
    return {"$or": branches}


@dataclasses.dataclass(frozen=True)
class ChannelShape:
    """The fields of a channel that never change after it is created (its kind and, for
    association and cell channels, its association): safe to remember for as long as one likes."""

    kind: str
    association_id: str | None

    @classmethod
    def of(cls, channel: Channel) -> ChannelShape:
        return cls(str(channel.get("kind")), channel.get("association_id"))


def member_filter(shape: ChannelShape, access: Access) -> dict[str, Any] | None:
    """A MongoDB filter matching the one channel of this shape exactly when :func:`is_member`
    admits ``access`` to it (a plain conjunction the store serves from its indexes, unlike
    :func:`channels_filter`'s ``$or``); None when the shape alone already says no."""
    if shape.kind == "association":
        if shape.association_id not in access.association_ids:
            return None
        return {"kind": "association", "association_id": shape.association_id}
    if shape.kind == "cell":
        if not (access.is_officer or shape.association_id in access.office_bearer_of):
            return None
        return {"kind": "cell", "association_id": shape.association_id}
    if shape.kind == "inter":  # association_ids change (invitations, leaving): decided by the store
        if not access.office_bearer_of:
            return None
        return {"kind": "inter", "association_ids": {"$in": sorted(access.office_bearer_of)}}
    if shape.kind == "dm":
        return {"kind": "dm", "member_ids": access.user_id}
    return None


def _reaches(sender: Access, target: Access) -> bool:
    """A plain member's right: officers, and office bearers of the sender's associations."""
    return target.is_officer or not target.office_bearer_of.isdisjoint(sender.association_ids)


def may_dm(sender: Access, target: Access) -> bool:
    if sender.user_id == target.user_id:
        return False
    if _reaches(sender, target) or _reaches(target, sender):
        return True
    return sender.privileged and target.privileged


def dm_key(user_a: str, user_b: str) -> str:
    """The unique key of the one direct channel between two users (order does not matter)."""
    return "dm:" + ":".join(sorted((user_a, user_b)))


def association_key(association_id: str) -> str:
    return f"association:{association_id}"


def cell_key(association_id: str) -> str:
    return f"cell:{association_id}"


def inter_key(channel_id: str) -> str:
    return f"inter:{channel_id}"


def may_invite(channel: Channel, access: Access, association_id: str) -> bool:
    """An office bearer of a member association may invite another association to an inter channel."""
    return (channel.get("kind") == "inter" and is_member(channel, access)
            and association_id not in channel.get("association_ids", ()))


def may_accept(channel: Channel, access: Access, association_id: str) -> bool:
    return (channel.get("kind") == "inter" and association_id in access.office_bearer_of
            and association_id in channel.get("invited_association_ids", ()))
