"""Command-line part of the translation capability, mounted by ``hubchat.cli``::

    hubchat models install FILE.argosmodel [--force]   check, score (translate_eval_pairs_path) and install
                                             an Argos package (lus→en or en→lus)
    hubchat models list [--json]             installed pairs, versions, sizes
    hubchat translate backfill --since WHEN  translate stored messages that have no translation yet
    hubchat translate export-corrections [--out FILE]   members' corrections as a TSV parallel corpus
    hubchat translate import-memory FILE.tsv            add translation memory entries (see docs/api.md)
    hubchat translate export-memory [--out FILE]        the translation memory as TSV
    hubchat translate evaluate --pairs FILE.tsv [--json]  chrF and BLEU of the installed models
    hubchat translate text --lang lus|en TEXT           translate one text (phrasebook, memory, cache, model)

``WHEN`` is an ISO 8601 date or time (UTC unless it names a zone) or a span back from now such as
``90m``, ``24h`` or ``7d``.  Backfill emits ``message:translated`` to connected clients through
Redis (a write-only Socket.IO manager) when ``redis_url`` is set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hubchat.config import Settings
from hubchat.errors import BadRequest
from hubchat.translate import packages
from hubchat.translate.options import TranslateOptions
from hubchat.translate.ports import MessagesFor

if TYPE_CHECKING:
    from hubchat.translate.service import TranslationService

_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhd])$")
_SPAN_SECS = {"m": 60, "h": 3600, "d": 86400}


def add_commands(sub: Any) -> None:
    """Add the ``models`` and ``translate`` commands to the top-level subparsers."""
    models = sub.add_parser("models", help="translation models (Argos Translate packages)")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    install = models_sub.add_parser("install", help="check and install an .argosmodel package")
    install.add_argument("file", type=Path)
    install.add_argument("--force", action="store_true",
                         help="install even when the score on translate_eval_pairs_path is below translate_min_chrf")
    listing = models_sub.add_parser("list", help="installed pairs, versions and sizes")
    listing.add_argument("--json", action="store_true", help="one JSON object per package")

    translate = sub.add_parser("translate", help="translation maintenance")
    translate_sub = translate.add_subparsers(dest="translate_command", required=True)
    backfill = translate_sub.add_parser("backfill", help="translate messages that have no translation yet")
    backfill.add_argument("--since", required=True, help="ISO date/time (UTC by default) or 90m, 24h, 7d")
    export = translate_sub.add_parser("export-corrections", help="write corrections as a TSV parallel corpus")
    export.add_argument("--out", default="-", help="output file (default: standard output)")
    import_memory = translate_sub.add_parser("import-memory", help="add translation memory entries from a TSV")
    import_memory.add_argument("file", type=Path)
    export_memory = translate_sub.add_parser("export-memory", help="write the translation memory as TSV")
    export_memory.add_argument("--out", default="-", help="output file (default: standard output)")
    evaluate = translate_sub.add_parser("evaluate", help="score the installed models on reference pairs")
    evaluate.add_argument("--pairs", type=Path, required=True, help="TSV: source_lang, target_lang, source_text, "
                          "target_text (or corrected_text)")
    evaluate.add_argument("--json", action="store_true", help="one JSON object per direction")
    text = translate_sub.add_parser("text", help="translate one text")
    text.add_argument("--lang", choices=("lus", "en"), required=True, help="the text's language")
    text.add_argument("text")


def run_command(args: argparse.Namespace, settings: Settings, *, messages_for: MessagesFor) -> int:
    """Run a ``models`` or ``translate`` command; returns the exit status.  ``messages_for``
    builds the chat capability's messages on the command's Infra (wired by ``hubchat.cli``)."""
    options = dataclasses.replace(TranslateOptions.from_settings(settings), models_rescan_secs=0)
    if args.command == "models" and args.models_command == "install":
        if not _passes_quality_gate(options, args.file, args.force):
            return 1
        info = packages.install(args.file, options.packages_path)
        print(f"installed {info.direction} {info.package_version} ({_size(info.size_bytes)}) "
              f"as {info.model_version}")
        return 0
    if args.command == "models" and args.models_command == "list":
        return _list(options, args.json)
    if args.command == "translate" and args.translate_command == "backfill":
        since = parse_since(args.since)
        count = asyncio.run(_backfill(settings, options, messages_for, since))
        print(f"translated {count} messages since {since.isoformat()}")
        return 0
    if args.command == "translate" and args.translate_command == "export-corrections":
        count = asyncio.run(_export(settings, options, messages_for, args.out))
        print(f"exported {count} corrections", file=sys.stderr)
        return 0
    if args.command == "translate" and args.translate_command in ("import-memory", "export-memory"):
        return asyncio.run(_memory_command(settings, options, messages_for, args))
    if args.command == "translate" and args.translate_command == "evaluate":
        return _evaluate(options, args.pairs, args.json)
    if args.command == "translate" and args.translate_command == "text":
        return asyncio.run(_text(settings, options, messages_for, args.text, args.lang))
    raise BadRequest(f"unknown command {args.command}")


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    match = _SPAN.match(text.strip())
    if match:
        return now - dt.timedelta(seconds=float(match.group(1)) * _SPAN_SECS[match.group(2)])
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest(f"--since: expected an ISO date/time or 90m, 24h, 7d; got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _list(options: TranslateOptions, as_json: bool) -> int:
    found = packages.installed(options.packages_path)
    if as_json:
        for info in found:
            print(json.dumps(info.as_dict()))
        return 0
    print(f"packages directory: {options.packages_path.resolve()}")
    for info in found:
        print(f"{info.direction:8} {info.package_version:10} {_size(info.size_bytes):>9}  {info.model_version}")
    for direction in ("lus-en", "en-lus"):
        if direction not in {i.direction for i in found}:
            print(f"{direction:8} (not installed: messages stay 'unavailable' until backfill)")
    return 0


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


@contextlib.asynccontextmanager
async def _service(settings: Settings, options: TranslateOptions,
                   messages_for: MessagesFor) -> AsyncIterator[TranslationService]:
    """The service in an admin process: its Realtime is write-only, so what it emits reaches the
    serving nodes' sockets through Redis."""
    from hubchat.infra import Infra
    from hubchat.translate import INDEXES
    from hubchat.translate.service import TranslationService

    infra = Infra(settings, attach_store=True)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(infra.running([INDEXES]))
        service = TranslationService(infra, messages=messages_for(infra), options=options)
        yield await stack.enter_async_context(service.running())


async def _backfill(settings: Settings, options: TranslateOptions, messages_for: MessagesFor,
                    since: dt.datetime) -> int:
    async with _service(settings, options, messages_for) as service:
        return await service.backfill(since)


async def _export(settings: Settings, options: TranslateOptions, messages_for: MessagesFor, out: str) -> int:
    async with _service(settings, options, messages_for) as service:
        if out == "-":
            return await service.export_corrections(sys.stdout)
        with open(out, "w", encoding="utf-8", newline="") as handle:
            return await service.export_corrections(handle)


def _passes_quality_gate(options: TranslateOptions, archive: Path, force: bool) -> bool:
    from hubchat.translate.evaluate import quality_gate

    found = quality_gate(options, archive)
    if found is None or found.chrf is None:
        return True
    print(f"{found.direction}: chrF {found.chrf:.2f}  BLEU {found.bleu:.2f} on {found.pairs} pairs "
          f"of {options.eval_pairs_path}")
    if found.chrf >= options.min_chrf:
        return True
    if force:
        print(f"installing anyway (--force): chrF is below translate_min_chrf {options.min_chrf:g}", file=sys.stderr)
        return True
    print(f"refused: chrF {found.chrf:.2f} is below translate_min_chrf {options.min_chrf:g} "
          "(--force installs it anyway)", file=sys.stderr)
    return False


def _evaluate(options: TranslateOptions, pairs_file: Path, as_json: bool) -> int:
    from hubchat.translate.evaluate import evaluate, read_pairs

    with open(pairs_file, encoding="utf-8", newline="") as handle:
        pairs = read_pairs(handle)
    for found in asyncio.run(evaluate(options, pairs)):
        if as_json:
            print(json.dumps(found.as_dict()))
        elif found.model_version is None:
            print(f"{found.direction:8} {found.pairs:5} pairs  no model installed")
        else:
            print(f"{found.direction:8} {found.pairs:5} pairs  chrF {found.chrf:6.2f}  BLEU {found.bleu:6.2f}  "
                  f"{found.model_version}" + (f"  ({found.failed} not translated)" if found.failed else ""))
    return 0


async def _memory_command(settings: Settings, options: TranslateOptions, messages_for: MessagesFor,
                          args: argparse.Namespace) -> int:
    async with _service(settings, options, messages_for) as service:
        if args.translate_command == "import-memory":
            with open(args.file, encoding="utf-8", newline="") as handle:
                count = await service.import_memory(handle)
            print(f"imported {count} translation memory entries", file=sys.stderr)
        elif args.out == "-":
            count = await service.export_memory(sys.stdout)
            print(f"exported {count} translation memory entries", file=sys.stderr)
        else:
            with open(args.out, "w", encoding="utf-8", newline="") as handle:
                count = await service.export_memory(handle)
            print(f"exported {count} translation memory entries", file=sys.stderr)
    return 0


async def _text(settings: Settings, options: TranslateOptions, messages_for: MessagesFor, text: str,
                lang: str) -> int:
    async with _service(settings, options, messages_for) as service:
        result = await service.translate_text(text, lang)
    print(json.dumps(dataclasses.asdict(result), ensure_ascii=False))
    return 0
