"""Shaping stored association and membership documents for one viewer.

Who sees what (the viewer's standing is computed from the Principal and the memberships):

    contact visibility  public   members                       officers
    seen by             anyone   active members, cell officers  cell officers, this association's
                        signed in                               office bearers

Hidden contacts are left out of the reply, not nulled.  The association's own ``contact_email``
and ``contact_phone`` are its official public contacts and are shown to anyone who may see the
association.  Review fields (``created_by``, ``decided_by``, ``rejection_reason``) are shown to
cell officers and the association's office bearers only.
"""

from __future__ import annotations

import dataclasses

from hubchat.clock import iso
from hubchat.directory.membership import MembershipRole
from hubchat.store import Document


@dataclasses.dataclass(frozen=True)
class Viewer:
    """The caller as seen from one association."""

    user_id: str
    is_officer: bool
    role: MembershipRole | None  # active role in this association, None when not an active member

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def is_office_bearer(self) -> bool:
        return self.role == "office_bearer"

    @property
    def reviews(self) -> bool:
        """May see review details and non-public associations."""
        return self.is_officer or self.is_office_bearer

    def may_see_contact(self, visibility: str) -> bool:
        if visibility == "public":
            return True
        if visibility == "members":
            return self.is_member or self.is_officer
        return self.reviews  # "officers"

    def may_see_association(self, doc: Document) -> bool:
        return doc["status"] == "approved" or self.reviews


def place_view(place: Document) -> Document:
    return {k: place.get(k) for k in ("id", "name", "address", "lat", "lon", "schedule")}


def _office_bearer_view(bearer: Document, viewer: Viewer) -> Document:
    contacts = [{"kind": c["kind"], "value": c["value"], "visibility": c["visibility"]}
                for c in bearer.get("contacts", []) if viewer.may_see_contact(c["visibility"])]
    return {"id": bearer["id"], "name": bearer["name"], "position": bearer["position"],
            "user_id": bearer.get("user_id"), "contacts": contacts}


def summary_view(doc: Document) -> Document:
    """What a search result shows: public facts only."""
    return {
        "id": doc["_id"], "name": doc["name"], "country": doc["country"], "city": doc["city"],
        "description": doc.get("description"), "contact_email": doc["contact_email"],
        "contact_phone": doc.get("contact_phone"), "status": doc["status"],
        "gathering_places": [place_view(p) for p in doc.get("gathering_places", [])],
    }


def association_view(doc: Document, viewer: Viewer) -> Document:
    """The association page as ``viewer`` may see it."""
    view = {
        **summary_view(doc),
        "office_bearers": [_office_bearer_view(b, viewer) for b in doc.get("office_bearers", [])],
        "created_at": iso(doc.get("created_at")), "updated_at": iso(doc.get("updated_at")),
        "my_role": viewer.role,
    }
    if viewer.reviews:
        view.update(created_by=doc.get("created_by"), decided_by=doc.get("decided_by"),
                    decided_at=iso(doc.get("decided_at")), rejection_reason=doc.get("rejection_reason"),
                    pending_changes=_pending_view(doc.get("pending_changes")),
                    changes_rejection_reason=doc.get("changes_rejection_reason"))
    return view


def _pending_view(pending: Document | None) -> Document | None:
    """Location changes waiting for the Cell (only the fields that were changed)."""
    if not pending:
        return None
    view: Document = {k: pending[k] for k in ("country", "city") if k in pending}
    if "gathering_places" in pending:
        view["gathering_places"] = [place_view(p) for p in pending["gathering_places"]]
    view.update(requested_by=pending.get("requested_by"), requested_at=iso(pending.get("requested_at")))
    return view


def membership_view(membership: Document, user: Document | None) -> Document:
    return {
        "user_id": membership["user_id"],
        "display_name": user["display_name"] if user else None,
        "role": membership["role"], "position": membership.get("position"), "status": membership["status"],
        "since": iso(membership.get("created_at")), "updated_at": iso(membership.get("updated_at")),
    }


def my_membership_view(membership: Document, association: Document) -> Document:
    return {
        "association": {"id": association["_id"], "name": association["name"],
                        "country": association["country"], "city": association["city"],
                        "status": association["status"]},
        "role": membership["role"], "position": membership.get("position"), "status": membership["status"],
        "since": iso(membership.get("created_at")),
    }
