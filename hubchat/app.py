"""build_app(settings): wires infrastructure and capabilities and owns start-up/shutdown order.

Order at start: Redis → MongoDB (embedded server if no URI) + indexes → bus → mailer →
capability background loops.  At shutdown the server stops accepting, every socket is closed
(on_shutdown), then the same steps run in reverse.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from hubchat import auth, cases, channels, checkin, directory, push, reports, safety, sos, translate
from hubchat import web as web_client
from hubchat.clock import Clock
from hubchat.config import Settings
from hubchat.http_api import AUTHENTICATOR, METRICS, error_middleware
from hubchat.infra import Infra
from hubchat.ops import build_ops_app, ops_routes
from hubchat.principal import Principal
from hubchat.store import Document

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
    chat.cell_desk = alerts.duty.reachable_ids  # "Contact the Cell": a DM with an officer on duty now
    timers = checkin.CheckinService(infra, accounts, checkin.SosBridge(alerts))
    # Safety profiles and trusted contacts read SOS through safety.SosLink; cases: safety.OpenCases
    # (nobody has an open case until the cases capability is wired with safety_service.set_cases).
    sos_link = safety.SosLink(alerts)
    safety_service = safety.SafetyService(infra, alerts=sos_link, moments=sos_link)

    async def tell_trusted_contacts(event: sos.TimelineEntryStored) -> None:
        await safety_service.notifier.on_entry(event.entry)

    infra.events.subscribe(sos.TimelineEntryStored, tell_trusted_contacts)
    follow_up = cases.CaseService(infra, accounts, _CaseAlerts(alerts), _CaseChat(chat), sos.FEED_ROOM)
    safety_service.set_cases(follow_up)  # an open case shows the person's safety profile to officers
    statistics = reports.ReportService(infra, alerts.repo.created_between, follow_up.repo.created_between)
    # Web Push (hubchat/push): new DMs and mentions, and every new SOS for the officers told of it.
    pushes = push.PushService(infra, accounts.live_sessions)
    app[SERVICES] = {"accounts": accounts, "directory": associations, "channels": chat, "sos": alerts,
                     "translate": translation, "checkin": timers, "safety": safety_service,
                     "cases": follow_up, "reports": statistics, "push": pushes}

    # A channel's kind never changes: known, it spares a store read per message that is neither
    # in a DM nor mentions anyone (most of them).
    kinds: dict[str, str] = {}

    async def push_message(event: channels.MessageStored) -> None:
        message = event.message
        if message["edited_at"] is not None or message["deleted"]:
            return  # an edit republishes the message: pushed once, when it was new
        mentions = "@" in (message["body"] or "")
        if not mentions and kinds.get(message["channel_id"], "dm") != "dm":
            return
        channel = await chat.channel_repo.get(message["channel_id"])
        if channel is None:
            return
        if len(kinds) >= 10_000:
            kinds.clear()
        kinds[channel["_id"]] = channel["kind"]
        if channel["kind"] != "dm" and not mentions:
            return
        users = await accounts.users_by_id(await chat.access.member_ids(channel))
        members = [(uid, str(u.get("display_name") or "")) for uid, u in users.items()]
        await pushes.new_message(message, channel, members)

    infra.events.subscribe(channels.MessageStored, push_message)

    async def push_alert(event: sos.TimelineEntryStored) -> None:
        entry = event.entry
        officers = entry.get("data", {}).get("officers") if entry.get("type") == "dispatch" else None
        if not officers:
            return
        alert = await alerts.repo.find(entry["alert_id"])
        if alert is not None:
            await pushes.new_alert(alert["_id"], officers, alert.get("person", {}).get("country"))

    infra.events.subscribe(sos.TimelineEntryStored, push_alert)

    infra.realtime.set_authenticator(accounts.authenticate_socket, accounts.revalidate, accounts.revalidate_many)
    app[AUTHENTICATOR] = accounts.principal_from_token
    infra.realtime.attach(app)

    app.add_routes(ops_routes(infra))
    app[OPS_APP] = build_ops_app(infra)
    app.add_routes(auth.auth_routes(accounts))
    app.add_routes(directory.directory_routes(associations))
    app.add_routes(channels.channel_routes(chat))
    app.add_routes(sos.sos_routes(alerts))
    app.add_routes(safety.safety_routes(safety_service))
    app.add_routes(cases.case_routes(follow_up))
    app.add_routes(reports.report_routes(statistics))
    app.add_routes(push.push_routes(pushes))
    channels.register_events(infra.realtime, chat)
    sos.register_events(infra.realtime, alerts)
    translate.register_events(infra.realtime, translation)
    app.add_routes(checkin.checkin_routes(timers))
    checkin.register_events(infra.realtime, timers)
    app.add_routes(web_client.web_routes(settings))

    indexes = [auth.INDEXES, directory.INDEXES, channels.INDEXES, sos.INDEXES, translate.INDEXES, checkin.INDEXES,
               safety.INDEXES, cases.INDEXES, push.INDEXES]

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(infra.running(indexes))
            # Translation stops after chat has drained the listeners that feed it.
            await stack.enter_async_context(translation.running())
            await stack.enter_async_context(chat.running())
            # contacts' emails are drained after SOS has drained its own work (which may start more)
            await stack.enter_async_context(safety_service.running())
            await stack.enter_async_context(alerts.running())  # the escalation scheduler
            await stack.enter_async_context(timers.running())  # the check-in scanner (raises SOS)
            await stack.enter_async_context(follow_up.running())  # case follow-up reminders
            await stack.enter_async_context(pushes.running())  # the push outbox senders
            yield

    async def close_sockets(app: web.Application) -> None:
        # Before aiohttp waits for open handlers: long-lived websockets would hold shutdown.
        await infra.realtime.close()

    app.cleanup_ctx.append(lifespan)
    app.on_shutdown.append(close_sockets)
    return app


class _CaseAlerts:
    """Cases' port to SOS (``hubchat/cases/ports.py``)."""

    def __init__(self, alerts: sos.SosService):
        self._alerts = alerts

    async def find(self, alert_id: str) -> Document | None:
        return await self._alerts.repo.find(alert_id)

    async def export_for_partner(self, principal: Principal, alert_id: str, fmt: str) -> tuple[str, str, str]:
        return await self._alerts.reads.export_for_partner(principal, alert_id, fmt)


class _CaseChat:
    """Cases' port to chat (``hubchat/cases/ports.py``)."""

    def __init__(self, chat: channels.ChannelService):
        self._chat = chat

    async def can_read(self, principal: Principal, channel_id: str) -> bool:
        return await self._chat.can_read(principal, channel_id)

    async def message(self, message_id: str) -> Document | None:
        return await self._chat.translations.message(message_id)
