"""Command line: ``hubchat serve``, ``hubchat admin create-officer | disable-user | enable-user |
rotate-profile-key | new-profile-key``,
``hubchat backup | restore`` (hubchat/backup.py)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import signal
import sys
from collections.abc import Sequence

from aiohttp import web
from pymongo.errors import PyMongoError

from hubchat.backup import add_commands as add_backup_commands
from hubchat.backup import run_command as run_backup_command
from hubchat.config import Settings, load_settings
from hubchat.errors import HubchatError, Unavailable
from hubchat.logs import configure_logging
from hubchat.store import storage_unavailable
from hubchat.translate.commands import add_commands as add_translate_commands
from hubchat.translate.commands import run_command as run_translate_command

log = logging.getLogger("hubchat")

# After on_shutdown has closed every socket, handlers still running get this long before they
# are cancelled (an Engine.IO websocket handler waits for its client to close); a restart must
# be able to follow a stop at once.
SHUTDOWN_TIMEOUT_SECS = 2.0  # aiohttp waits up to this twice: for handlers, then for their cancellation


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubchat", description="hubchat messaging and SOS server")
    parser.add_argument("--config", help="TOML settings file (default: $HUBCHAT_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP and Socket.IO server")
    serve.add_argument("--host", help="listen address (default: settings.host)")
    serve.add_argument("--port", type=int, help="listen port (default: settings.port)")

    admin = sub.add_parser("admin", help="administration")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    officer = admin_sub.add_parser("create-officer", help="create a verified cell officer (or admin) account")
    officer.add_argument("--email", required=True)
    officer.add_argument("--name", required=True, help="display name")
    officer.add_argument("--admin", action="store_true", help="create an admin instead of an officer")
    officer.add_argument("--password-env", default="HUBCHAT_OFFICER_PASSWORD",
                         help="environment variable holding the password (else asked on the terminal)")
    for name, what in (("disable-user", "disable an account: its sessions end and its sockets close on every node"),
                       ("enable-user", "enable a disabled account again")):
        toggle = admin_sub.add_parser(name, help=what)
        toggle.add_argument("--email", required=True)
    admin_sub.add_parser("rotate-profile-key",
                         help="re-encrypt every safety profile under the current key (the first of profile_keys)")
    admin_sub.add_parser("new-profile-key", help="print a new safety profile key entry (kid:key) to put first "
                                                 "in profile_keys or data_dir/profile-key.key")
    mail = sub.add_parser("mail", help="the durable mail outbox")
    mail_sub = mail.add_subparsers(dest="mail_command", required=True)
    listing = mail_sub.add_parser("list", help="emails in the outbox, newest first (kept ones when no SMTP is set)")
    listing.add_argument("--limit", type=int, default=20)
    add_translate_commands(sub)
    add_backup_commands(sub)
    return parser


def freeze_startup_objects() -> None:
    """Collect once, then move every object alive after start-up (modules, classes, the app's
    services: most of the heap) into the collector's permanent generation, so that the full
    collections a busy node makes every few seconds no longer walk them: each such pause delays
    everything on the event loop, an SOS included (bench/RESULTS.md, "GC pauses")."""
    gc.collect()
    gc.freeze()


async def _serve(settings: Settings) -> None:
    from hubchat.app import OPS_APP, build_app

    app = build_app(settings)
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT_SECS, access_log=None)
    ops_runner = web.AppRunner(app[OPS_APP], shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    try:
        if settings.ops_port:
            await ops_runner.setup()
            await web.TCPSite(ops_runner, settings.ops_host, settings.ops_port).start()
            log.info("ops listener (metrics, health details)",
                     extra={"host": settings.ops_host, "port": settings.ops_port})
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
    except OSError as exc:  # the address is taken or not ours
        await ops_runner.cleanup()
        await runner.cleanup()
        raise Unavailable(f"cannot listen: {exc.strerror or exc}", code="listen_failed") from exc
    except BaseException:
        await ops_runner.cleanup()
        await runner.cleanup()
        raise
    log.info("hubchat listening", extra={"host": settings.host, "port": settings.port})
    if settings.gc_freeze:
        freeze_startup_objects()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
        await ops_runner.cleanup()
        log.info("stopped")


async def _create_officer(settings: Settings, email: str, name: str, password: str, admin: bool) -> None:
    from hubchat import auth
    from hubchat.infra import Infra

    infra = Infra(settings, attach_store=True)
    async with infra.running([auth.INDEXES]):
        user = await auth.AccountService(infra).create_staff(email, password, name,
                                                             role="admin" if admin else "officer")
    print(f"created {user['role']} {user['email']} (id {user['id']})")


async def _set_disabled(settings: Settings, email: str, disabled: bool) -> None:
    from hubchat import auth
    from hubchat.errors import NotFound
    from hubchat.infra import Infra
    from hubchat.store import open_store

    # An unknown email is answered from the store alone, before the bus and sockets start.
    async with open_store(settings, [auth.INDEXES], attach=True) as store:
        if await store[auth.service.USERS].find_one({"email": email.strip().lower()}, {"_id": 1}) is None:
            raise NotFound("no account with this email", code="user_not_found")
    infra = Infra(settings, attach_store=True)
    async with infra.running([auth.INDEXES]):
        user = await auth.AccountService(infra).set_disabled(email, disabled)
    print(f"{'disabled' if disabled else 'enabled'} {user['email']} (id {user['id']})")


async def _rotate_profile_key(settings: Settings) -> None:
    from hubchat import safety
    from hubchat.infra import Infra
    from hubchat.safety.crypto import FieldCipher, resolve_profile_keys
    from hubchat.safety.profile import rotate
    from hubchat.safety.repository import SafetyRepository

    cipher = FieldCipher(resolve_profile_keys(settings))
    infra = Infra(settings, attach_store=True)
    async with infra.running([safety.INDEXES]):
        counts = await rotate(SafetyRepository(infra), cipher)
    print(f"safety profiles under key {cipher.current_kid!r}: {counts['reencrypted']} re-encrypted, "
          f"{counts['unchanged']} already")


async def _mail_list(settings: Settings, limit: int) -> None:
    from hubchat.infra import Infra
    from hubchat.outbox import outbox_view

    infra = Infra(settings, attach_store=True)
    async with infra.running():
        docs = await infra.outbox.list(limit=max(1, min(limit, 500)))
    if not docs:
        print("the outbox is empty")
    for doc in docs:
        view = outbox_view(doc)
        print(f"--- {view['state']} · to {view['to']} · {view['subject']}")
        print(doc.get("text", "").rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Everything hubchat writes (data_dir: store files, token key, logs of the embedded server,
    # translation packages) is for its own user only.
    os.umask(0o077)
    try:
        settings = load_settings(args.config)
        if args.command == "serve":
            settings = settings.replace(host=args.host or settings.host, port=args.port or settings.port)
        configure_logging(settings.log_level, settings.log_format)
        if args.command == "serve":
            asyncio.run(_serve(settings))
        elif args.command == "admin" and args.admin_command == "create-officer":
            password = os.environ.get(args.password_env) or getpass.getpass("password for the officer: ")
            if len(password) < 10:
                print("password must have at least 10 characters", file=sys.stderr)
                return 2
            asyncio.run(_create_officer(settings, args.email, args.name, password, args.admin))
        elif args.command == "admin" and args.admin_command in ("disable-user", "enable-user"):
            asyncio.run(_set_disabled(settings, args.email, args.admin_command == "disable-user"))
        elif args.command == "admin" and args.admin_command == "rotate-profile-key":
            asyncio.run(_rotate_profile_key(settings))
        elif args.command == "admin" and args.admin_command == "new-profile-key":
            from hubchat.safety.crypto import new_key_entry

            print(new_key_entry())
        elif args.command == "mail" and args.mail_command == "list":
            asyncio.run(_mail_list(settings, args.limit))
        elif args.command in ("models", "translate"):
            # the chat capability owns the messages a translation is stored on
            from hubchat.channels.translations import MessageTranslations

            return run_translate_command(args, settings, messages_for=MessageTranslations)
        elif args.command in ("backup", "restore"):
            return run_backup_command(args, settings)
    except (HubchatError, PyMongoError) as exc:
        error = storage_unavailable(exc) if isinstance(exc, PyMongoError) else exc
        print(f"hubchat: {error.error_code}: {error.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
