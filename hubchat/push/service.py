"""Web Push: subscriptions, per-user settings, and pushes for new DMs, mentions and new SOS alerts.

Pushes are stored in the push outbox (hubchat/push/outbox.py) before anything is sent.  Who gets
one:

* a new direct message: the other member, unless they turned ``dms`` off;
* a mention (hubchat/push/notify.py) in any other channel: the mentioned members, unless
  ``mentions`` is off (never the sender);
* a new SOS alert: every officer the SOS dispatch tells as an officer (on duty, not the person),
  unless they turned ``sos`` off.  Office bearers get no SOS push.

Only subscriptions whose session is still live get pushes: a subscription made in a session that
logged out, or ended by a password reset, is removed when a push would go to it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from hubchat.errors import BadRequest
from hubchat.infra import Infra
from hubchat.principal import Principal
from hubchat.push import notify
from hubchat.push.crypto import AUTH_BYTES, b64url_decode, load_p256dh
from hubchat.push.models import PushSettingsIn, SubscriptionIn
from hubchat.push.outbox import PushOutbox
from hubchat.push.repository import PushRepository, subscription_view
from hubchat.push.vapid import Vapid
from hubchat.store import Document

log = logging.getLogger(__name__)

SUBSCRIBE_LIMIT = 30  # subscribe calls per user per hour
SUBSCRIBE_WINDOW_SECS = 3600

LiveSessions = Callable[[list[str]], Awaitable[set[str]]]


def endpoint_allowed(endpoint: str, hosts: Iterable[str], extra_origins: Iterable[str]) -> bool:
    """https on a known push service host (or a subdomain), default port, no credentials; or
    exactly one of the configured extra origins."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None or not parts.hostname or parts.fragment:
        return False
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if origin in {o.strip().lower().rstrip("/") for o in extra_origins if o.strip()}:
        return True
    if parts.scheme != "https" or port not in (None, 443):
        return False
    host = parts.hostname.lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in (x.strip().lower() for x in hosts) if h)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


class PushService:
    def __init__(self, infra: Infra, live_sessions: LiveSessions | None = None):
        self.infra = infra
        self.vapid = Vapid.from_settings(infra.settings)
        self.repo = PushRepository(infra)
        self.outbox = PushOutbox(infra, self.vapid)
        self._live_sessions = live_sessions

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.outbox.running():
            yield

    # ------------------------------------------------------------ subscriptions
    async def subscribe(self, principal: Principal, req: SubscriptionIn) -> dict[str, Any]:
        settings = self.infra.settings
        if not endpoint_allowed(req.endpoint, _split(settings.push_service_hosts), _split(settings.push_extra_origins)):
            raise BadRequest("this push service is not allowed", code="push_endpoint_not_allowed")
        try:
            load_p256dh(b64url_decode(req.keys.p256dh))
            if len(b64url_decode(req.keys.auth)) != AUTH_BYTES:
                raise ValueError("auth")
        except ValueError:
            raise BadRequest("keys.p256dh must be a P-256 public key and keys.auth 16 bytes, base64url",
                             code="push_keys_invalid") from None
        await self.infra.limiter.hit(f"push:subscribe:{principal.user_id}", SUBSCRIBE_LIMIT, SUBSCRIBE_WINDOW_SECS,
                                     "push subscriptions")
        doc = await self.repo.save(principal.user_id, principal.session_id, req.endpoint, req.keys.p256dh,
                                   req.keys.auth, settings.push_max_subscriptions)
        return subscription_view(doc)

    async def unsubscribe(self, principal: Principal, endpoint: str) -> int:
        return await self.repo.remove(principal.user_id, endpoint=endpoint)

    async def subscriptions(self, principal: Principal) -> list[dict[str, Any]]:
        return [subscription_view(d) for d in await self.repo.of_user(principal.user_id)]

    async def get_settings(self, principal: Principal) -> dict[str, bool]:
        return await self.repo.settings_of(principal.user_id)

    async def put_settings(self, principal: Principal, req: PushSettingsIn) -> dict[str, bool]:
        changes = {k: v for k, v in req.model_dump().items() if v is not None}
        return await self.repo.put_settings(principal.user_id, changes)

    # ------------------------------------------------------------ pushes
    async def _targets(self, user_ids: Iterable[str], setting: str) -> list[Document]:
        """The live subscriptions of the users who keep ``setting`` on."""
        ids = sorted(set(user_ids))
        if not ids:
            return []
        prefs = await self.repo.settings_of_users(ids)
        wanted = [uid for uid in ids if prefs[uid][setting]]
        subs = await self.repo.of_users(wanted)
        if self._live_sessions is not None and subs:
            live = await self._live_sessions(sorted({s["session_id"] for s in subs}))
            dead = [s["_id"] for s in subs if s["session_id"] not in live]
            if dead:
                await self.repo.remove_ids(dead)
                log.info("push: removed %d subscription(s) of ended sessions", len(dead))
            subs = [s for s in subs if s["session_id"] in live]
        return subs

    async def new_alert(self, alert_id: str, officer_ids: Iterable[str], country: str | None) -> int:
        """Officers newly told of an alert (a dispatch round): the same push for every alert."""
        subs = await self._targets(officer_ids, "sos")
        return await self.outbox.enqueue(f"sos:{alert_id}", subs, notify.sos_payload(alert_id, country),
                                         urgency="high", ttl=self.infra.settings.push_sos_ttl_secs)

    async def new_message(self, message: Mapping[str, Any], channel: Mapping[str, Any],
                          members: list[tuple[str, str]]) -> int:
        """A new message (not an edit) in ``channel``; ``members``: (user id, display name) of the
        channel's members now (for a dm: both)."""
        sender = message["sender"]
        key = f"msg:{message['id']}"
        ttl = self.infra.settings.push_ttl_secs
        stored = 0
        if channel["kind"] == "dm":
            others = [uid for uid, _ in members if uid != sender["id"]]
            subs = await self._targets(others, "dms")
            prefs = await self.repo.settings_of_users({s["user_id"] for s in subs})
            for sub in subs:
                payload = notify.dm_payload(channel["_id"], sender["display_name"], message.get("body"),
                                            prefs[sub["user_id"]]["previews"])
                stored += await self.outbox.enqueue(key, [sub], payload, urgency="normal", ttl=ttl)
            return stored
        named = [uid for uid in notify.mentioned(message.get("body"), members) if uid != sender["id"]]
        subs = await self._targets(named, "mentions")
        prefs = await self.repo.settings_of_users({s["user_id"] for s in subs})
        for sub in subs:
            payload = notify.mention_payload(channel["_id"], sender["display_name"], message.get("body"),
                                             prefs[sub["user_id"]]["previews"])
            stored += await self.outbox.enqueue(key, [sub], payload, urgency="normal", ttl=ttl)
        return stored
