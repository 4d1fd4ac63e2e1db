"""What a push says: the lock-screen text of each kind, and who is mentioned in a message.

Lock screens are seen by whoever holds the phone, so a push says as little as it can:

* ``sos``: "New SOS alert" and the person's registered country; never the name, place, note,
  category or anything about duress.  A duress alert gives exactly the same push.
* ``dm``: the sender's display name; the text only when the recipient allowed previews.
* ``mention``: "{sender} mentioned you"; the text only with previews.

Mentions are not stored in the message model: a mention is ``@`` followed by a channel member's
display name as the client shows it (case-insensitive, not inside a word).  Simple on purpose:
two members with the same display name are both mentioned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

PREVIEW_CHARS = 120
MAX_MENTIONS = 20


def _encode(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def sos_payload(alert_id: str, country: str | None) -> str:
    return _encode({"v": 1, "kind": "sos", "title": "New SOS alert", "body": country or "",
                    "tag": f"sos-{alert_id}", "url": f"/#/console/{alert_id}"})


def preview(body: str | None) -> str:
    text = " ".join((body or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


def dm_payload(channel_id: str, sender_name: str, body: str | None, previews: bool) -> str:
    return _encode({"v": 1, "kind": "dm", "title": sender_name,
                    "body": preview(body) if previews else "New message",
                    "tag": f"chat-{channel_id}", "url": f"/#/chat/{channel_id}"})


def mention_payload(channel_id: str, sender_name: str, body: str | None, previews: bool) -> str:
    return _encode({"v": 1, "kind": "mention", "title": f"{sender_name} mentioned you",
                    "body": preview(body) if previews else "New mention",
                    "tag": f"chat-{channel_id}", "url": f"/#/chat/{channel_id}"})


def mentioned(body: str | None, members: Sequence[tuple[str, str]]) -> list[str]:
    """The ids of the members (user id, display name) that ``body`` mentions."""
    if not body or "@" not in body:
        return []
    found: list[str] = []
    for user_id, name in members:
        name = name.strip()
        if name and re.search(r"(?<![\w@])@" + re.escape(name) + r"(?!\w)", body, re.IGNORECASE):
            found.append(user_id)
            if len(found) >= MAX_MENTIONS:
                break
    return found
