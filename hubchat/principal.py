"""Who is acting: built on the server from a verified access token, never from client fields."""

from __future__ import annotations

import dataclasses
from typing import Literal

Role = Literal["member", "officer", "admin"]
ROLES: tuple[Role, ...] = ("member", "officer", "admin")
STAFF_ROLES: tuple[Role, ...] = ("officer", "admin")  # the Diaspora Cell: officers, and admins who can do the same


@dataclasses.dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    session_id: str
    display_name: str
    language: str = "en"

    @property
    def is_officer(self) -> bool:
        """Cell duty officers and admins (admins can do what officers do)."""
        return self.role in STAFF_ROLES
