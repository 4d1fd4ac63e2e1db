"""Offline Mizo ↔ English translation of chat messages and SOS notes.

Public surface: ``TranslationService`` (``running()``, ``submit_message`` — run on the chat
capability's ``MessageStored`` event —, ``translate_text``, ``correct``, ``backfill``,
``export_corrections``, the translation memory's ``list_memory`` / ``approve_memory`` /
``remove_memory`` / ``import_memory`` / ``export_memory``), ``Priority``, ``register_events``,
``INDEXES``, ``add_commands`` / ``run_command`` for the CLI, ``translation_view``.  What it needs
from the chat capability: ``ports.TranslatedMessages`` (the messages it stores translations on).
Wire protocol and commands: ``docs/api.md``.
"""

from __future__ import annotations

from hubchat.translate.commands import add_commands, run_command
from hubchat.translate.events import register_events
from hubchat.translate.memory import INDEXES as _MEMORY_INDEXES
from hubchat.translate.models import TranslationResult, translation_view
from hubchat.translate.repository import INDEXES as _REPOSITORY_INDEXES
from hubchat.translate.service import TranslationService
from hubchat.translate.worker import Priority

INDEXES = {**_REPOSITORY_INDEXES, **_MEMORY_INDEXES}

__all__ = ["INDEXES", "Priority", "TranslationResult", "TranslationService", "add_commands", "register_events",
           "run_command", "translation_view"]
