"""What clients see of channels and messages: the one place that shapes outbound documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from hubchat.clock import iso
from hubchat.translate.models import TranslationView, translation_view


class SenderView(TypedDict):
    id: str
    display_name: str


class MessageView(TypedDict):
    id: str
    channel_id: str
    seq: int
    version: int
    client_msg_id: str
    sender: SenderView
    body: str | None
    language: str
    created_at: str
    edited_at: str | None
    deleted: bool
    translation: TranslationView | None



def message_view(doc: Mapping[str, Any]) -> MessageView:
    deleted = bool(doc.get("deleted"))
    return {
        "id": doc["_id"],
        "channel_id": doc["channel_id"],
        "seq": int(doc["seq"]),
        "version": int(doc["version"]),
        "client_msg_id": doc["client_msg_id"],
        "sender": {"id": doc["sender_id"], "display_name": doc["sender_name"]},
        "body": None if deleted else doc.get("body"),
        "language": doc.get("language", "en"),
        "created_at": iso(doc["created_at"]) or "",
        "edited_at": iso(doc.get("edited_at")),
        "deleted": deleted,
        "translation": None if deleted else translation_view(doc.get("translation")),
    }


def channel_view(doc: Mapping[str, Any], *, read_seq: int | None = None,
                 members: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A channel as one user sees it (``read_seq``/``unread`` only when ``read_seq`` is given;
    ``members``: the other user, for dm)."""
    last_seq = int(doc.get("last_seq", 0))
    view: dict[str, Any] = {
        "id": doc["_id"],
        "kind": doc["kind"],
        "name": doc.get("name"),
        "association_id": doc.get("association_id"),
        "association_ids": list(doc.get("association_ids", [])),
        "last_seq": last_seq,
        "version": int(doc.get("version", 0)),
        "created_at": iso(doc.get("created_at")),
    }
    if read_seq is not None:
        view["read_seq"] = read_seq
        view["unread"] = max(0, last_seq - read_seq)
    if doc["kind"] == "inter":
        view["invited_association_ids"] = list(doc.get("invited_association_ids", []))
    if members is not None:
        view["members"] = members
        if doc["kind"] == "dm" and members and not view["name"]:
            view["name"] = members[0]["display_name"]
    return view
