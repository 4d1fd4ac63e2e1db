"""Socket.IO events of the translation capability: thin — Realtime validates the payload, the
service decides, the ack is shaped here.  See ``docs/api.md``."""

from __future__ import annotations

from typing import Any

from hubchat.principal import Principal
from hubchat.realtime import Realtime
from hubchat.translate.models import CorrectTranslation
from hubchat.translate.service import TranslationService


def register_events(realtime: Realtime, service: TranslationService) -> None:
    @realtime.event("message:correct_translation", CorrectTranslation)
    async def correct(principal: Principal, req: CorrectTranslation, sid: str) -> dict[str, Any]:
        return await service.correct(principal, req.message_id, req.text)
