"""Loading an association for a caller, and the checks on who may act on it.

Authorization always comes from the Principal: cell officers by ``principal.is_officer``, office
bearers and members by their active membership — never from ids in a request body.
An association the caller may not see is reported as not found, so that pending registrations
do not leak to strangers.
"""

from __future__ import annotations

from typing import Any

from hubchat.directory.membership import Memberships
from hubchat.directory.views import Viewer
from hubchat.errors import Forbidden, NotFound
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.store import Document

ASSOCIATIONS = "associations"


class AssociationAccess:
    def __init__(self, infra: Infra, memberships: Memberships):
        self.infra = infra
        self.memberships = memberships

    @property
    def coll(self) -> Any:
        return self.infra.store[ASSOCIATIONS]

    async def load(self, association_id: str) -> Document:
        """The stored association, whoever asks (for internal use)."""
        doc: Document | None = await self.coll.find_one({"_id": association_id})
        if doc is None:
            raise NotFound("no such association", code="association_not_found")
        return doc

    async def viewer(self, principal: Principal, association_id: str) -> Viewer:
        role = await self.memberships.role_in(principal.user_id, association_id)
        return Viewer(user_id=principal.user_id, is_officer=principal.is_officer, role=role)

    async def visible(self, principal: Principal, association_id: str) -> tuple[Document, Viewer]:
        """The association and the caller's standing; NotFound when the caller may not see it."""
        doc = await self.load(association_id)
        viewer = await self.viewer(principal, association_id)
        if not viewer.may_see_association(doc):
            raise NotFound("no such association", code="association_not_found")
        return doc, viewer

    async def as_office_bearer(self, principal: Principal, association_id: str) -> tuple[Document, Viewer]:
        """The association when the caller is one of its active office bearers, else 403/404."""
        doc, viewer = await self.visible(principal, association_id)
        if not viewer.is_office_bearer:
            raise Forbidden("only this association's office bearers may do this", code="not_office_bearer")
        return doc, viewer
