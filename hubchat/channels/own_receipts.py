"""The senders' own read receipts (one's own messages count as read), written after the ack and
in batches (issue #9): natural batching, no timer, as in :mod:`hubchat.channels.group_commit`.

A receipt goes to the store at once when no write is in flight; the receipts that arrive while
one is in flight are merged (per channel and user only the highest seq is kept) and go out
together as one unordered ``bulk_write`` of upserts.  So a lone send costs one write, as before,
and a busy node sends one write for many messages instead of one each.

Best effort, like before: a failed write is logged and dropped (the message itself is stored;
the reader's client advances its receipt when it reads, and a later message of the same sender
raises it anyway).
"""

from __future__ import annotations

import asyncio
import logging

from hubchat.channels.repository import ReceiptRepository

log = logging.getLogger(__name__)

MAX_BATCH = 256


class OwnReceipts:
    def __init__(self, receipts: ReceiptRepository, max_batch: int = MAX_BATCH):
        self.receipts = receipts
        self.max_batch = max_batch
        self._pending: dict[tuple[str, str], int] = {}  # (channel id, user id) -> highest seq
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.receipts_written = 0

    async def advance(self, channel_id: str, user_id: str, seq: int) -> None:
        """Raise the user's read seq in the channel to ``seq``; returns once it has been written
        (or has failed, logged): with whatever else was waiting."""
        key = (channel_id, user_id)
        if seq > self._pending.get(key, 0):
            self._pending[key] = seq
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all(), name="own-receipts")
        await asyncio.shield(self._writer)  # a cancelled caller does not cancel the others' write

    async def _write_all(self) -> None:
        while self._pending:
            keys = list(self._pending)[:self.max_batch]
            batch = {key: self._pending.pop(key) for key in keys}
            self.batches += 1
            self.receipts_written += len(batch)
            try:
                await self.receipts.advance_many(batch)
            except Exception:  # the store is down or timed out: best effort, as documented above
                log.warning("own read receipts not stored", extra={"receipts": len(batch)}, exc_info=True)
