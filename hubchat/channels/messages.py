"""Messages: send (idempotent, sequenced), history, sync after reconnect, edit and delete.

Send: the sender's roles (access cache, no store read while the cross-node epoch is unchanged)
→ rate limit (per user, across nodes) → take (seq, version) atomically on the channel *if* the
membership filter matches (authorisation and sequence in one round trip; else ``not_member``) →
insert (with the translation when it is known at once) → ack → emit ``message:new`` to
``chan:{id}`` (after the ack; see :class:`~hubchat.channels.fanout.Fanout`) and store the
sender's own read receipt (batched with other senders': ``own_receipts.py``) → stored-message
listeners (translation).  Two store round trips
before the ack.  A retry of a stored ``client_msg_id`` is found by the unique index (the insert
fails): it answers the stored message (409 ``client_msg_id_reused`` if the body differs) and
its freshly taken seq is recorded as a hole (``channels.holes``) so readers never wait for it.

Gap safety: seq is taken before the insert, so a reader can see seq N+1 before N lands.  When a
page has a hole among the newest ``IN_FLIGHT_WINDOW_SEQS`` seqs of the channel, it is read again
every ``GAP_REREAD_DELAY_SECS`` for up to ``GAP_WAIT_SECS`` (one budget per request, shared by
all the channels of a ``sync``) before answering, so a client never moves its ``last_seq`` past a
message still being inserted.  A hole that remains is a
seq whose insert failed (crash, retry of the same client_msg_id): it stays empty forever, and
clients must accept holes; those the channel lists in ``holes`` are not waited for.  Older
holes are not waited for.  A socket that is connected is in the channel room anyway and receives a late message live.

Versions: every create/edit/delete takes the next channel ``version`` and stores it on the
message, so ``sync`` can return the messages changed since a client's ``last_version``.  The
channel's counters are read *before* the messages, so a returned ``version`` never covers a
change the answer does not contain, except a change still in flight at that instant, which a
connected client receives live as ``message:updated``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from pymongo.errors import DuplicateKeyError

from hubchat.channels.access import AccessReader
from hubchat.channels.fanout import Fanout, channel_room
from hubchat.channels.models import HistoryQuery, SendMessage, SyncPoint
from hubchat.channels.own_receipts import OwnReceipts
from hubchat.channels.ports import SettleTranslation
from hubchat.channels.repository import ChannelRepository, MessageRepository, ReceiptRepository
from hubchat.channels.rules import Access, ChannelShape, channels_filter, member_filter
from hubchat.channels.views import MessageView, message_view
from hubchat.clock import utcnow
from hubchat.errors import Conflict, Forbidden, HubchatError, NotFound, RateLimited
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.schema import new_id
from hubchat.store import Document

log = logging.getLogger(__name__)

SYNC_MAX_MESSAGES = 500
SYNC_MAX_UPDATES = 500
SYNC_MAX_ITEMS = 1000  # messages + updates in one sync answer, over all its channels
GAP_WAIT_SECS = 0.25  # per request, however many channels it reads
GAP_REREAD_DELAY_SECS = 0.05
IN_FLIGHT_WINDOW_SEQS = 256
SHAPES_KEPT = 100_000  # channel shapes remembered per node (a few MB at most; cleared when full)



@dataclasses.dataclass(frozen=True)
class MessageStored:
    """Domain event: a message was stored and emitted, or an edit changed its body (the view as
    clients see it).  Published in the background after the fan-out, never on the send path."""

    message: MessageView


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def has_inflight_hole(seqs: Sequence[int], low: int, high: int, head_seq: int) -> bool:
    """Whether a seq in [low, high] among the channel's newest ones is missing from ``seqs``."""
    top = max(head_seq, high)
    start = max(low, top - IN_FLIGHT_WINDOW_SEQS + 1, 1)
    present = set(seqs)
    return any(seq not in present for seq in range(start, high + 1))


class MessageService:
    def __init__(self, infra: Infra, access: AccessReader, channels: ChannelRepository,
                 messages: MessageRepository, receipts: ReceiptRepository, fanout: Fanout):
        self.infra = infra
        self.access = access
        self.channels = channels
        self.repo = messages
        self.receipts = receipts
        self.fanout = fanout
        self.own_receipts = OwnReceipts(receipts)  # written after the ack, in batches
        self._shapes: dict[str, ChannelShape] = {}  # channel id -> its immutable kind and association
        # Set by app.py when a translation capability runs (a translation known at once goes
        # into the insert and message:new; no message:translated follows then).
        self.settle_translation: SettleTranslation | None = None

    # ------------------------------------------------------------ send
    async def send(self, principal: Principal, req: SendMessage) -> MessageView:
        """Admitted by the node's load first (``overloaded`` when busy: hubchat/overload.py); the
        slot is held until the fan-out is handed to the socket layer."""
        started = time.perf_counter()
        admission = self.infra.admission
        await admission.acquire("send")
        handed_off = False
        try:
            view, handed_off = await self._send_admitted(principal, req, started)
            return view
        finally:
            if not handed_off:
                admission.release()

    async def _send_admitted(self, principal: Principal, req: SendMessage,
                             started: float) -> tuple[MessageView, bool]:
        """(the stored message, whether a fan-out that releases the slot was started).

        Store round trips before the ack: two (take the seq where the membership filter matches;
        insert).  The sender's roles come from the access cache (checked against the cross-node
        epoch in Redis), idempotency from the unique index, the own read receipt after the ack."""
        access = await self.access.of_principal(principal)
        settings = self.infra.settings
        try:
            await self.infra.limiter.hit(f"messages:{principal.user_id}", settings.message_rate_limit,
                                         settings.message_rate_window_secs, "messages")
        except RateLimited:
            # Over the limit: a retry of a stored message is still answered (a read on this path only).
            stored = await self.repo.by_client_id(req.channel_id, principal.user_id, req.client_msg_id)
            if stored is None or not await self._still_member(principal, req.channel_id, access):
                raise
            return self._replay(stored, req.body), False
        channel = await self._take_seq(req.channel_id, access)
        if channel is None:  # no such channel, or not a member: one answer, ids cannot be probed
            raise Forbidden("you are not a member of this channel", code="not_member")
        channel_id, seq, version = req.channel_id, int(channel["last_seq"]), int(channel["version"])
        doc: Document = {
            "_id": new_id(), "channel_id": channel_id, "seq": seq, "version": version,
            "client_msg_id": req.client_msg_id, "sender_id": principal.user_id,
            "sender_name": principal.display_name, "body": req.body, "body_digest": body_digest(req.body),
            "language": principal.language, "created_at": utcnow(), "edited_at": None,
            "deleted": False, "deleted_at": None,
        }
        if self.settle_translation is not None:
            translation = self.settle_translation(req.body, principal.language, version)
            if translation is not None:
                doc["translation"] = translation
        try:
            await self.repo.insert(doc)
        except DuplicateKeyError:
            # A retry of a stored message (the unique index says so): answer the stored one.
            stored = await self.repo.by_client_id(channel_id, principal.user_id, req.client_msg_id)
            if stored is None:
                raise
            await self.channels.mark_hole(channel_id, seq)
            return self._replay(stored, req.body), False
        view = message_view(doc)
        self.fanout.later(self._deliver(view, started, release_slot=True))
        # One's own messages count as read (silently: no receipt event for them), after the ack.
        self.fanout.later(self.own_receipts.advance(channel_id, principal.user_id, seq))
        return view, True

    async def _take_seq(self, channel_id: str, access: Access) -> Document | None:
        """The channel after taking its next (seq, version), if ``access`` is a member; else None.

        The membership is decided by the store in the same atomic update.  A channel whose shape
        (kind, association: never changed once created) this node has seen gets a plain filter
        for that shape (served from the indexes); an unknown one the general ``$or`` filter."""
        shape = self._shapes.get(channel_id)
        condition = channels_filter(access) if shape is None else member_filter(shape, access)
        if condition is None:
            return None
        channel = await self.channels.take_seq_if(channel_id, condition)
        if channel is not None and shape is None:
            if len(self._shapes) >= SHAPES_KEPT:
                self._shapes.clear()
            self._shapes[channel_id] = ChannelShape.of(channel)
        return channel

    async def _still_member(self, principal: Principal, channel_id: str, access: Access) -> bool:
        try:
            await self.access.authorise(principal, channel_id, access)
        except Forbidden:
            return False
        return True

    def _replay(self, stored: Document, body: str) -> MessageView:
        if not stored.get("deleted") and stored.get("body_digest") != body_digest(body):
            raise Conflict("client_msg_id was already used for a different message", code="client_msg_id_reused")
        return message_view(stored)

    async def _deliver(self, view: MessageView, started: float, *, release_slot: bool = False) -> None:
        try:
            await self.infra.realtime.emit("message:new", dict(view), to=channel_room(view["channel_id"]))
        finally:
            if release_slot:
                self.infra.admission.release()
        self.infra.metrics.delivery_latency.observe(time.perf_counter() - started)
        await self.infra.events.publish(MessageStored(view))

    # ------------------------------------------------------------ reading
    async def history(self, principal: Principal, channel_id: str, query: HistoryQuery) -> dict[str, Any]:
        channel = await self.access.authorise(principal, channel_id)
        docs, has_more = await self._read_page(channel, query.limit, after_seq=query.after_seq,
                                               before_seq=query.before_seq)
        return {"messages": [message_view(d) for d in docs], "has_more": has_more}

    async def sync(self, principal: Principal, points: Sequence[SyncPoint]) -> dict[str, Any]:
        """Per channel, what was missed since the client's counters.

        A channel listed twice is answered once (its first point counts).  One answer holds at
        most ``SYNC_MAX_ITEMS`` messages and updates together: channels are answered in request
        order until the budget is spent (the last one answered may get fewer than its own caps,
        with ``has_more``/``has_more_updates`` set); the rest are left out of the answer and
        ``has_more`` is true, so the client syncs them again.
        """
        unique: dict[str, SyncPoint] = {}
        for point in points:
            unique.setdefault(point.channel_id, point)
        if not unique:
            return {"channels": [], "has_more": False}
        access = await self.access.of_principal(principal)
        deadline = time.monotonic() + GAP_WAIT_SECS
        answers: list[dict[str, Any]] = []
        budget = SYNC_MAX_ITEMS
        for point in unique.values():
            if budget <= 0:
                break
            try:
                answer = await self._sync_channel(principal, point, access, deadline, budget)
            except Forbidden as exc:
                answers.append({"channel_id": point.channel_id, **exc.to_dict()})
                continue
            budget -= len(answer["messages"]) + len(answer["updates"])
            answers.append(answer)
        return {"channels": answers, "has_more": len(answers) < len(unique)}

    async def _sync_channel(self, principal: Principal, point: SyncPoint, access: Access,
                            deadline: float, budget: int) -> dict[str, Any]:
        channel = await self.access.authorise(principal, point.channel_id, access)
        docs, has_more = await self._read_page(channel, min(SYNC_MAX_MESSAGES, budget), after_seq=point.last_seq,
                                               deadline=deadline)
        updates_limit = max(0, min(SYNC_MAX_UPDATES, budget - len(docs)))
        updates: list[Document] = []
        if point.last_version is not None:
            updates = await self.repo.changed_since(channel["_id"], point.last_seq, point.last_version,
                                                    updates_limit + 1)
        return {
            "channel_id": channel["_id"],
            "messages": [message_view(d) for d in docs],
            "has_more": has_more,
            "updates": [message_view(d) for d in updates[:updates_limit]],
            "has_more_updates": len(updates) > updates_limit,
            "last_seq": int(channel["last_seq"]),
            "version": int(channel["version"]),
        }

    async def _read_page(self, channel: Document, limit: int, *, after_seq: int | None = None,
                         before_seq: int | None = None, deadline: float | None = None
                         ) -> tuple[list[Document], bool]:
        """One page, ascending by seq, re-read while a hole may be an insert in flight (until
        ``deadline``, a ``time.monotonic()`` shared by all the channels of one request)."""
        head_seq = int(channel["last_seq"])
        holes = [int(seq) for seq in channel.get("holes", ())]  # known to stay empty: not waited for
        if deadline is None:
            deadline = time.monotonic() + GAP_WAIT_SECS
        while True:
            if after_seq is not None:
                docs = await self.repo.after(channel["_id"], after_seq, limit + 1)
                has_more, docs = len(docs) > limit, docs[:limit]
                low = after_seq + 1
                high = max([min(head_seq, after_seq + limit)] + [d["seq"] for d in docs[-1:]])
            else:
                docs = await self.repo.before(channel["_id"], before_seq, limit + 1)
                has_more, docs = len(docs) > limit, docs[-limit:]
                ceiling = head_seq if before_seq is None else min(head_seq, before_seq - 1)
                high = max([ceiling] + [d["seq"] for d in docs[-1:]])
                low = high - limit + 1
            left_secs = deadline - time.monotonic()
            if left_secs <= 0 or not has_inflight_hole([d["seq"] for d in docs] + holes, low, high, head_seq):
                return docs, has_more
            await asyncio.sleep(min(GAP_REREAD_DELAY_SECS, left_secs))

    # ------------------------------------------------------------ changes
    async def edit(self, principal: Principal, message_id: str, body: str) -> MessageView:
        doc = await self._own_message(principal, message_id)
        version = await self.channels.take_version(doc["channel_id"])
        changed = await self.repo.change(message_id, version, {"body": body, "edited_at": utcnow()},
                                         unset_fields=("translation",))
        view = await self._after_change(message_id, changed)
        if changed is not None:
            self.fanout.later(self.infra.events.publish(MessageStored(view)))  # the new body is translated anew
        return view

    async def delete(self, principal: Principal, message_id: str) -> MessageView:
        doc = await self._own_message(principal, message_id)
        version = await self.channels.take_version(doc["channel_id"])
        changed = await self.repo.change(message_id, version,
                                         {"body": None, "body_digest": None, "deleted": True,
                                          "deleted_at": utcnow()}, unset_fields=("translation",))
        return await self._after_change(message_id, changed)

    async def _own_message(self, principal: Principal, message_id: str) -> Document:
        doc = await self.repo.get(message_id)
        try:
            if doc is None:
                raise NotFound("no such message", code="message_not_found")
            await self.access.authorise(principal, doc["channel_id"])
        except HubchatError:
            # The same answer for "no such message" and "not in its channel": ids cannot be probed.
            raise NotFound("no such message", code="message_not_found") from None
        if doc["sender_id"] != principal.user_id:
            raise Forbidden("only the sender may change a message", code="not_own_message")
        if doc.get("deleted"):
            raise Conflict("the message was deleted", code="message_deleted")
        return doc

    async def _after_change(self, message_id: str, changed: Document | None) -> MessageView:
        if changed is None:  # deleted meanwhile, or a newer change landed first
            changed = await self.repo.get(message_id)
            if changed is None:
                raise NotFound("no such message", code="message_not_found")
            if changed.get("deleted"):
                raise Conflict("the message was deleted", code="message_deleted")
        view = message_view(changed)
        self.infra.realtime.emit_later("message:updated", dict(view), to=channel_room(view["channel_id"]))
        return view
