"""The client's network address, for limits keyed by client.

By default it is the TCP peer.  Behind a reverse proxy every request comes from the proxy, so the
operator names the header the proxy sets (``trusted_proxy_header``, e.g. ``X-Forwarded-For`` or
``X-Real-IP``); then the **last** address in that header is used: the one the trusted proxy
itself appended, which a client cannot forge (anything a client sends comes before it).  The
header is never read unless configured, so a client reaching hubchat directly cannot choose its
own address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubchat.config import Settings

UNKNOWN = "unknown"


def _from_header(value: str | None) -> str | None:
    if not value:
        return None
    last = value.split(",")[-1].strip()
    return last[:100] or None


def client_address_from_request(request: Any, settings: Settings) -> str:
    """An aiohttp request's client address (the configured proxy header, else the TCP peer)."""
    header = settings.trusted_proxy_header
    if header:
        found = _from_header(request.headers.get(header))
        if found:
            return found
    return str(request.remote or UNKNOWN)


def client_address_from_environ(environ: Mapping[str, Any], settings: Settings) -> str:
    """A Socket.IO (WSGI-style) environ's client address, by the same rule."""
    header = settings.trusted_proxy_header
    if header:
        found = _from_header(environ.get("HTTP_" + header.upper().replace("-", "_")))
        if found:
            return found
    request = environ.get("aiohttp.request")
    remote = getattr(request, "remote", None) if request is not None else None
    return str(remote or environ.get("REMOTE_ADDR") or UNKNOWN)
