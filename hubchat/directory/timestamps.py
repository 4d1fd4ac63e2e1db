"""Timestamps of directory documents.

Inserts carry application-clock datetimes.  Updates stamp times with ``$currentDate`` (the
database server's clock), so several nodes with skewed clocks still order decisions and edits
the way the store saw them.
"""

from __future__ import annotations

from typing import Any


def stamp(*fields: str) -> dict[str, Any]:
    """The update operator that sets each of ``fields`` to the server's current time."""
    return {"$currentDate": {field: True for field in fields}}
