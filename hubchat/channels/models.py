"""Inbound payloads of the channels capability (socket events and HTTP queries).

Strict models (see :mod:`hubchat.schema`): unknown fields are refused and nothing is coerced,
so a client value such as ``{"$gt": ""}`` never reaches a MongoDB filter.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from hubchat.schema import ClientId, Id, Payload, body_text, text

MESSAGE_BODY_MAX_CHARS = 4000
CHANNEL_NAME_MAX_CHARS = 80
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100
SYNC_MAX_CHANNELS = 200
PRESENCE_MAX_USERS = 100

# Counters never come near 2^53 (the largest integer a JavaScript client holds exactly); a bound
# keeps out values MongoDB cannot store (2^63 and up), which would otherwise fail the query.
MAX_SEQ = 2**53 - 1
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]
Body = body_text(MESSAGE_BODY_MAX_CHARS)
ChannelName = text(1, CHANNEL_NAME_MAX_CHARS)
HistoryLimit = Annotated[int, Field(ge=1, le=HISTORY_MAX_LIMIT)]


class ChannelRef(Payload):
    channel_id: Id


class SendMessage(Payload):
    channel_id: Id
    client_msg_id: ClientId
    body: Body  # type: ignore[valid-type]


class EditMessage(Payload):
    message_id: Id
    body: Body  # type: ignore[valid-type]


class MessageRef(Payload):
    message_id: Id


class HistoryQuery(Payload):
    """``before_seq`` pages backwards, ``after_seq`` forwards, neither gives the newest page."""

    before_seq: Seq | None = None
    after_seq: Seq | None = None
    limit: HistoryLimit = HISTORY_DEFAULT_LIMIT

    @model_validator(mode="after")
    def _one_direction(self) -> HistoryQuery:
        if self.before_seq is not None and self.after_seq is not None:
            raise ValueError("give before_seq or after_seq, not both")
        return self


class History(HistoryQuery):
    channel_id: Id


class SyncPoint(Payload):
    channel_id: Id
    last_seq: Seq
    last_version: Seq | None = None


class Sync(Payload):
    channels: Annotated[list[SyncPoint], Field(max_length=SYNC_MAX_CHANNELS)]


class ReadReceipt(Payload):
    channel_id: Id
    seq: Seq


class OpenDirect(Payload):
    user_id: Id


class CreateChannel(Payload):
    kind: Literal["inter"]
    name: ChannelName  # type: ignore[valid-type]
    association_id: Id


class ChannelAssociation(Payload):
    channel_id: Id
    association_id: Id


class PresenceQuery(Payload):
    user_ids: Annotated[list[Id], Field(max_length=PRESENCE_MAX_USERS)]
