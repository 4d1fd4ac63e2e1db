"""Socket.IO events of the translation capability: thin — Realtime validates the payload, the
service decides, the ack is shaped here.  See ``docs/api.md``."""

from __future__ import annotations

from typing import Any

from hubchat.principal import Principal
from hubchat.realtime import Realtime
from hubchat.translate.models import CorrectTranslation, ListMemory, MemoryEntryRef
from hubchat.translate.service import TranslationService


def register_events(realtime: Realtime, service: TranslationService) -> None:
    @realtime.event("message:correct_translation", CorrectTranslation)
    async def correct(principal: Principal, req: CorrectTranslation, sid: str) -> dict[str, Any]:
        return await service.correct(principal, req.message_id, req.text)

    @realtime.event("translate:memory_list", ListMemory)
    async def memory_list(principal: Principal, req: ListMemory, sid: str) -> dict[str, Any]:
        return dict(await service.list_memory(principal, direction=req.direction, approved=req.approved,
                                              before=req.before, limit=req.limit))

    @realtime.event("translate:memory_approve", MemoryEntryRef)
    async def memory_approve(principal: Principal, req: MemoryEntryRef, sid: str) -> dict[str, Any]:
        return dict(await service.approve_memory(principal, req.entry_id))

    @realtime.event("translate:memory_remove", MemoryEntryRef)
    async def memory_remove(principal: Principal, req: MemoryEntryRef, sid: str) -> dict[str, Any]:
        return dict(await service.remove_memory(principal, req.entry_id))
