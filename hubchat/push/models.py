"""Inbound payloads of the push routes (strict: unknown fields refused, no coercion)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from hubchat.schema import Payload

Base64Url = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+={0,2}$", min_length=16, max_length=128)]


class SubscriptionKeys(Payload):
    p256dh: Base64Url
    auth: Base64Url


class SubscriptionIn(Payload):
    """What ``PushSubscription.toJSON()`` gives in a browser (``expirationTime`` may be null)."""

    endpoint: Annotated[str, StringConstraints(min_length=12, max_length=1024)]
    keys: SubscriptionKeys
    expirationTime: int | None = None  # noqa: N815 (the browser's name)


class EndpointIn(Payload):
    endpoint: Annotated[str, StringConstraints(min_length=12, max_length=1024)]


class PushSettingsIn(Payload):
    """Any subset; what is left out keeps its value."""

    dms: bool | None = None
    mentions: bool | None = None
    previews: bool | None = None
    sos: bool | None = None
