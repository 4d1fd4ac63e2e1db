"""What the translation capability needs from the others, as protocols (wired in ``app.py``;
the CLI commands get theirs from ``cli.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.store import Document


class TranslatedMessages(Protocol):
    """The chat capability's messages (it owns them and every channel's version counter):
    implemented by ``hubchat.channels.translations.MessageTranslations``."""

    async def message(self, message_id: str) -> Document | None: ...

    async def set_translation(self, message_id: str, channel_id: str, fields: Mapping[str, Any], *,
                              if_version: int | None = None, new_version: bool = False) -> Document | None:
        """Set ``translation.<name>`` per field unless the message was deleted (or changed since
        ``if_version``); ``new_version``: it takes its channel's next version, so ``sync`` returns
        it.  ``{"translation", "version"}`` after the write, or None."""
        ...

    def untranslated_since(self, since: dt.datetime, statuses: Iterable[str]) -> AsyncIterator[Document]:
        """Messages since ``since`` without a translation or with one of ``statuses``, oldest first."""
        ...


# Whether a principal may read a channel (the chat capability's membership rule).
CanRead = Callable[[Principal, str], Awaitable[bool]]
# The CLI commands build their messages port on their own Infra.
MessagesFor = Callable[[Infra], TranslatedMessages]
