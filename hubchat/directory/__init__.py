"""Associations, gathering places, office bearers, membership and proximity search."""
# Not built yet: only the membership read model exists.
from __future__ import annotations

from typing import Any

from aiohttp import web

from hubchat.directory.membership import MEMBERSHIP_INDEXES, Memberships
from hubchat.infra import Infra

INDEXES = MEMBERSHIP_INDEXES


class DirectoryService:
    def __init__(self, infra: Infra, accounts: Any):
        self.infra = infra
        self.accounts = accounts
        self.memberships = Memberships(infra)


def directory_routes(service: DirectoryService) -> list[web.RouteDef]:
    return []


__all__ = ["INDEXES", "DirectoryService", "directory_routes"]
