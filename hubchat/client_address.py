"""The client's network address, for per-address limits.

The address is the TCP peer's, unless ``trusted_proxy_header`` names a header that the reverse
proxy in front of hubchat sets (e.g. ``X-Forwarded-For`` or ``X-Real-IP``): then the last
address in that header is used — the one the trusted proxy itself appended, which a client
cannot forge.  A client-sent header is ignored when no header is configured, and a value that
is not an IP address falls back to the peer address.

:func:`address_key` groups IPv6 addresses by /64 (one customer network), so a client cannot
escape a per-address limit by rotating the low bits of its address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from aiohttp import web

UNKNOWN = "unknown"


def _parse(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:5678"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request: web.BaseRequest, trusted_proxy_header: str = "") -> str:
    """The client's address for this request (see the module docstring)."""
    if trusted_proxy_header:
        forwarded = request.headers.get(trusted_proxy_header, "")
        if forwarded:
            parsed = _parse(forwarded.split(",")[-1])
            if parsed is not None:
                return parsed
    peer = request.remote
    return (_parse(peer) or peer) if peer else UNKNOWN


def environ_client_address(environ: Mapping[str, Any], trusted_proxy_header: str = "") -> str:
    """The same for a python-socketio connect ``environ`` (aiohttp mode keeps the request in it;
    its ``REMOTE_ADDR`` is not the peer's)."""
    request = environ.get("aiohttp.request")
    if isinstance(request, web.BaseRequest):
        return client_address(request, trusted_proxy_header)
    return UNKNOWN


def address_key(address: str) -> str:
    """The unit a per-address limit counts: the address, or its /64 network for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if not ip.is_loopback:
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address_from_request(request: web.BaseRequest, settings: Any) -> str:
    """:func:`client_address` with the deployment's ``trusted_proxy_header`` setting."""
    return client_address(request, str(getattr(settings, "trusted_proxy_header", "")))
