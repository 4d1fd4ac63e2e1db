"""build_app(settings): wires infrastructure and capabilities and owns start-up/shutdown order.

Order at start: Redis → MongoDB (embedded server if no URI) + indexes → bus → mailer →
capability background loops.  At shutdown the server stops accepting, every socket is closed
(on_shutdown), then the same steps run in reverse.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from hubchat import auth, channels, directory, sos, translate
from hubchat import web as web_client
from hubchat.clock import Clock
from hubchat.config import Settings
from hubchat.http_api import AUTHENTICATOR, METRICS, error_middleware
from hubchat.infra import Infra
from hubchat.ops import build_ops_app, ops_routes

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
    chat.messages.settle_translation = translation.settled_fields  # known at once: in message:new

    async def translate_note(text: str, lang: str | None) -> translate.TranslationResult:
        return await translation.translate_text(text, lang, translate.Priority.SOS)

    alerts = sos.SosService(infra, accounts, associations, translate_note=translate_note)
    app[SERVICES] = {"accounts": accounts, "directory": associations, "channels": chat, "sos": alerts,
                     "translate": translation}

    infra.realtime.set_authenticator(accounts.authenticate_socket, accounts.revalidate)
    app[AUTHENTICATOR] = accounts.principal_from_token
    infra.realtime.attach(app)

    app.add_routes(ops_routes(infra))
    app[OPS_APP] = build_ops_app(infra)
    app.add_routes(auth.auth_routes(accounts))
    app.add_routes(directory.directory_routes(associations))
    app.add_routes(channels.channel_routes(chat))
    app.add_routes(sos.sos_routes(alerts))
    channels.register_events(infra.realtime, chat)
    sos.register_events(infra.realtime, alerts)
    translate.register_events(infra.realtime, translation)
    app.add_routes(web_client.web_routes(settings))

    indexes = [auth.INDEXES, directory.INDEXES, channels.INDEXES, sos.INDEXES, translate.INDEXES]

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(infra.running(indexes))
            # Translation stops after chat has drained the listeners that feed it.
            await stack.enter_async_context(translation.running())
            await stack.enter_async_context(chat.running())
            await stack.enter_async_context(alerts.running())  # the escalation scheduler
            yield

    async def close_sockets(app: web.Application) -> None:
        # Before aiohttp waits for open handlers: long-lived websockets would hold shutdown.
        await infra.realtime.close()

    app.cleanup_ctx.append(lifespan)
    app.on_shutdown.append(close_sockets)
    return app
