"""Store access of the push capability.

Collections (owned here)::

    push_subscriptions {_id, user_id, session_id, endpoint (unique), p256dh, auth, created_at}
    push_settings      {_id: user id, dms, mentions, previews, sos, updated_at}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from hubchat.clock import iso, utcnow
from hubchat.errors import Unavailable
from hubchat.infra import Infra
from hubchat.schema import new_id
from hubchat.store import Document

SUBSCRIPTIONS = "push_subscriptions"
SETTINGS = "push_settings"
SAVE_ATTEMPTS = 3
DEFAULTS = {"dms": True, "mentions": True, "previews": False, "sos": True}

INDEXES = {
    SUBSCRIPTIONS: [IndexModel([("endpoint", ASCENDING)], unique=True, name="push_endpoint_unique"),
                    IndexModel([("user_id", ASCENDING), ("created_at", ASCENDING)], name="push_user")],
    SETTINGS: [],
}


def subscription_view(doc: Document) -> dict[str, Any]:
    """What the owner sees of a subscription (never the keys)."""
    return {"id": doc["_id"], "endpoint": doc["endpoint"], "created_at": iso(doc.get("created_at"))}


class PushRepository:
    def __init__(self, infra: Infra):
        self.infra = infra

    def _subs(self) -> Any:
        return self.infra.store[SUBSCRIPTIONS]

    def _settings(self) -> Any:
        return self.infra.store[SETTINGS]

    async def save(self, user_id: str, session_id: str, endpoint: str, p256dh: str, auth: str,
                   limit: int) -> Document:
        """Store (or take over) the subscription of ``endpoint`` for this user; beyond ``limit``
        subscriptions the user's oldest ones are removed."""
        doc: Document = {"_id": new_id(), "user_id": user_id, "session_id": session_id, "endpoint": endpoint,
                         "p256dh": p256dh, "auth": auth, "created_at": utcnow()}
        # One endpoint is one browser profile: whoever subscribes it last receives its pushes.
        # (Replaced whole: the embedded store ignores $setOnInsert in upserts.)  Two subscribes of
        # one endpoint at once: the loser's insert meets the unique index and goes round again.
        for attempt in range(SAVE_ATTEMPTS):
            await self._subs().delete_many({"endpoint": endpoint})
            try:
                await self._subs().insert_one(doc)
                break
            except DuplicateKeyError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise Unavailable("the subscription is changing, retry", code="push_busy") from None
        mine = [d async for d in self._subs().find({"user_id": user_id}, {"_id": 1}).sort("created_at", -1)]
        extra = [d["_id"] for d in mine[max(limit, 1):]]
        if extra:
            await self._subs().delete_many({"_id": {"$in": extra}, "user_id": user_id})
        return doc

    async def of_user(self, user_id: str) -> list[Document]:
        return [d async for d in self._subs().find({"user_id": user_id}).sort("created_at", 1)]

    async def of_users(self, user_ids: Iterable[str]) -> list[Document]:
        ids = sorted(set(user_ids))
        if not ids:
            return []
        return [d async for d in self._subs().find({"user_id": {"$in": ids}})]

    async def remove(self, user_id: str, *, endpoint: str | None = None, sub_id: str | None = None) -> int:
        query: Document = {"user_id": user_id}
        if endpoint is not None:
            query["endpoint"] = endpoint
        if sub_id is not None:
            query["_id"] = sub_id
        result = await self._subs().delete_many(query)
        return int(result.deleted_count)

    async def remove_ids(self, sub_ids: Iterable[str]) -> None:
        ids = list(sub_ids)
        if ids:
            await self._subs().delete_many({"_id": {"$in": ids}})

    async def remove_gone(self, sub_id: str, endpoint: str) -> None:
        """The push service said the subscription is gone (404/410)."""
        await self._subs().delete_many({"_id": sub_id, "endpoint": endpoint})

    # ------------------------------------------------------------ settings
    async def settings_of(self, user_id: str) -> dict[str, bool]:
        doc = await self._settings().find_one({"_id": user_id})
        return {key: bool((doc or {}).get(key, default)) for key, default in DEFAULTS.items()}

    async def settings_of_users(self, user_ids: Iterable[str]) -> dict[str, dict[str, bool]]:
        ids = sorted(set(user_ids))
        found = {d["_id"]: d async for d in self._settings().find({"_id": {"$in": ids}})} if ids else {}
        return {uid: {key: bool(found.get(uid, {}).get(key, default)) for key, default in DEFAULTS.items()}
                for uid in ids}

    async def put_settings(self, user_id: str, changes: dict[str, bool]) -> dict[str, bool]:
        current = await self.settings_of(user_id)
        current.update(changes)
        await self._settings().replace_one({"_id": user_id}, {"_id": user_id, **current, "updated_at": utcnow()},
                                           upsert=True)
        return current
