"""build_app(settings): wires infrastructure and capabilities and owns start-up/shutdown order.

Order at start: Redis → MongoDB (embedded server if no URI) + indexes → bus → mailer →
capability background loops.  At shutdown the server stops accepting, every socket is closed
(on_shutdown), then the same steps run in reverse.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from hubchat import auth, channels, directory, push, sos, translate
from hubchat import web as web_client
from hubchat.clock import Clock
from hubchat.config import Settings
from hubchat.http_api import AUTHENTICATOR, METRICS, error_middleware
from hubchat.infra import Infra
from hubchat.ops import build_ops_app, ops_routes
from hubchat.sos.repository import TimelineEntryStored

INFRA = web.AppKey("infra", Infra)
SERVICES = web.AppKey("services", object)
# The ops listener's application (metrics, health details): ``hubchat serve`` runs it on
# ops_host:ops_port, never on the public port.
OPS_APP = web.AppKey("ops_app", web.Application)


def build_app(settings: Settings, clock: Clock | None = None) -> web.Application:
    """``clock``: the system clock unless a test drives time (hubchat/clock.py)."""
    infra = Infra(settings, clock=clock)
    app = web.Application(client_max_size=settings.max_payload_bytes, middlewares=[error_middleware])
    app[INFRA] = infra
    app[METRICS] = infra.metrics

    # The one place that wires capabilities: each receives what it needs from the others (their
    # ports: channels/ports.py, sos/ports.py, translate/ports.py) in its constructor.
    accounts = auth.AccountService(infra)
    associations = directory.DirectoryService(infra, accounts)
    chat = channels.ChannelService(infra, accounts, associations)
    translation = translate.TranslationService(infra, messages=chat.translations, can_read=chat.can_read)

    async def translate_stored(event: channels.MessageStored) -> None:
        await translation.submit_message(event.message)

    infra.events.subscribe(channels.MessageStored, translate_stored)

    async def translate_note(text: str, lang: str | None) -> translate.TranslationResult:
        return await translation.translate_text(text, lang, translate.Priority.SOS)

    alerts = sos.SosService(infra, accounts, associations, translate_note=translate_note)
    app[SERVICES] = {"accounts": accounts, "directory": associations, "channels": chat, "sos": alerts,
                     "translate": translation}

    # Web Push (hubchat/push): new DMs and mentions, and every new SOS for the officers told of it.
    async def live_sessions(session_ids: list[str]) -> set[str]:
        now = infra.clock.now()
        cursor = infra.store[auth.service.SESSIONS].find(
            {"_id": {"$in": session_ids}, "revoked_at": None, "expires_at": {"$gt": now}}, {"_id": 1})
        return {doc["_id"] async for doc in cursor}

    pushes = push.PushService(infra, live_sessions)
    app[SERVICES]["push"] = pushes  # type: ignore[index]

    async def push_message(event: channels.MessageStored) -> None:
        message = event.message
        if message["edited_at"] is not None or message["deleted"]:
            return  # an edit republishes the message: pushed once, when it was new
        channel = await chat.channel_repo.get(message["channel_id"])
        if channel is None:
            return
        if channel["kind"] != "dm" and "@" not in (message["body"] or ""):
            return
        users = await accounts.users_by_id(await chat.access.member_ids(channel))
        members = [(uid, str(u.get("display_name") or "")) for uid, u in users.items()]
        await pushes.new_message(message, channel, members)

    infra.events.subscribe(channels.MessageStored, push_message)

    async def push_alert(event: TimelineEntryStored) -> None:
        entry = event.entry
        officers = entry.get("data", {}).get("officers") if entry.get("type") == "dispatch" else None
        if not officers:
            return
        alert = await alerts.repo.find(entry["alert_id"])
        if alert is not None:
            await pushes.new_alert(alert["_id"], officers, alert.get("person", {}).get("country"))

    infra.events.subscribe(TimelineEntryStored, push_alert)

    infra.realtime.set_authenticator(accounts.authenticate_socket, accounts.revalidate)
    app[AUTHENTICATOR] = accounts.principal_from_token
    infra.realtime.attach(app)

    app.add_routes(ops_routes(infra))
    app[OPS_APP] = build_ops_app(infra)
    app.add_routes(auth.auth_routes(accounts))
    app.add_routes(directory.directory_routes(associations))
    app.add_routes(channels.channel_routes(chat))
    app.add_routes(sos.sos_routes(alerts))
    app.add_routes(push.push_routes(pushes))
    channels.register_events(infra.realtime, chat)
    sos.register_events(infra.realtime, alerts)
    translate.register_events(infra.realtime, translation)
    app.add_routes(web_client.web_routes(settings))

    indexes = [auth.INDEXES, directory.INDEXES, channels.INDEXES, sos.INDEXES, translate.INDEXES, push.INDEXES]

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(infra.running(indexes))
            # Translation stops after chat has drained the listeners that feed it.
            await stack.enter_async_context(translation.running())
            await stack.enter_async_context(chat.running())
            await stack.enter_async_context(alerts.running())  # the escalation scheduler
            await stack.enter_async_context(pushes.running())  # the push outbox senders
            yield

    async def close_sockets(app: web.Application) -> None:
        # Before aiohttp waits for open handlers: long-lived websockets would hold shutdown.
        await infra.realtime.close()

    app.cleanup_ctx.append(lifespan)
    app.on_shutdown.append(close_sockets)
    return app
