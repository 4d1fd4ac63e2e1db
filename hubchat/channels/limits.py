"""Per-user limits on every chat write, shared by all nodes (the infrastructure's RateLimiter).

``message:send`` has its own configurable limit (``message_rate_limit``); the others are below.
Each call counts, whether it then succeeds or not (so failures cannot be used to probe for
free); over the limit the event answers ``rate_limited`` with ``retry_after_secs`` and changes
nothing.  Typing also keeps its per-channel throttle (``{"throttled": true}``).
"""

from __future__ import annotations

import dataclasses

from hubchat.ratelimit import RateLimiter


@dataclasses.dataclass(frozen=True)
class WriteLimit:
    count: int
    window_secs: float
    what: str


CHAT_WRITE_LIMITS: dict[str, WriteLimit] = {
    "message:edit": WriteLimit(30, 60, "edits"),
    "message:delete": WriteLimit(30, 60, "deletions"),
    "receipt:read": WriteLimit(120, 60, "read receipts"),
    "typing:start": WriteLimit(60, 60, "typing notices"),
    "dm:open": WriteLimit(30, 600, "direct channels opened"),
    "channel:create": WriteLimit(10, 3600, "channels created"),
    "channel:invite": WriteLimit(30, 3600, "invitations"),
    "channel:accept": WriteLimit(30, 3600, "accepted invitations"),
    "channel:decline": WriteLimit(30, 3600, "declined invitations"),
    "channel:leave": WriteLimit(30, 3600, "channels left"),
}


async def hit(limiter: RateLimiter, event: str, user_id: str) -> None:
    """Count one ``event`` by ``user_id`` or raise RateLimited (code ``rate_limited``)."""
    limit = CHAT_WRITE_LIMITS[event]
    await limiter.hit(f"chat:{event}:{user_id}", limit.count, limit.window_secs, limit.what)
