"""Associations, gathering places, office bearers, membership and proximity search.

Public surface for other capabilities:

* :class:`DirectoryService` — ``near(lat, lon, radius_km, limit)``, ``get_association(id)``,
  and ``memberships`` (the :class:`Memberships` read model with its change listeners);
* :data:`INDEXES` — the collections' indexes, created at start-up;
* :func:`directory_routes` — the HTTP routes (documented in ``docs/api.md``).
"""

from __future__ import annotations

from hubchat.directory.membership import (
    MEMBERSHIP_INDEXES,
    AssociationApproved,
    MembershipChange,
    Memberships,
)
from hubchat.directory.routes import directory_routes
from hubchat.directory.service import ASSOCIATION_INDEXES, DirectoryService

INDEXES = {**MEMBERSHIP_INDEXES, **ASSOCIATION_INDEXES}

__all__ = [
    "INDEXES",
    "AssociationApproved",
    "DirectoryService",
    "MembershipChange",
    "Memberships",
    "directory_routes",
]
