"""The web client served at / (plain ES modules and vendored assets; no CDN at run time)."""
# PLACEHOLDER: the web client is being written; this file will be replaced.
from __future__ import annotations

from aiohttp import web

from hubchat.config import Settings


def web_routes(settings: Settings) -> list[web.RouteDef]:
    return []


__all__ = ["web_routes"]
