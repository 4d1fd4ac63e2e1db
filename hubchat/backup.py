"""``hubchat backup FILE`` and ``hubchat restore FILE [--force]``: the whole store in one file.

What is saved: every collection of the configured database (``mongo_db``), each document exactly
as the server returns it (raw BSON, never re-encoded: datetimes, binary values, nested documents
and field order come back byte for byte), and each collection's index definitions as
``listIndexes`` reports them.  Redis holds nothing that needs a backup (presence, rate limits,
the bus); ``data_dir/secret.key`` (the token key) and the translation packages are files to copy
beside it.

Format (``FORMAT_VERSION`` 1): a gzip stream of BSON documents.
    1. header   ``{"format": "hubchat-backup", "format_version", "hubchat_version", "database",
                  "created_at", "snapshot", "collections": [{"name", "indexes": [spec, ...]}]}``
    2. records  ``{"c": collection name, "d": document}``, collection by collection
    3. trailer  ``{"end": "hubchat-backup", "counts": {name: documents}, "documents": total}``
The trailer (and gzip's CRC) make a truncated or damaged file detectable: ``restore`` reads the
whole file once and checks it before it touches the database, so a bad file changes nothing.

Consistency: with a MongoDB replica set (or sharded cluster) all collections are read in one
snapshot session, a single point in time (within MongoDB's snapshot history window, 5 minutes by
default).  Elsewhere (a standalone MongoDB, the embedded nx-27017 server) each collection is read
by one query while hubchat may keep writing: every document is complete, but documents written
during the backup may or may not be in it.  For an exact copy run it while hubchat is stopped
(with the embedded store it then starts the store itself); while hubchat runs on the embedded
store, the command uses that running server (found as in ``hubchat/store.py``).

The file is written to a temporary file beside FILE (0600 from the first byte, it holds password
hashes and personal data) and renamed over FILE only when complete.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gzip
import logging
import os
import secrets
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import bson
from bson.codec_options import CodecOptions
from bson.errors import BSONError
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure, PyMongoError

from hubchat import __version__
from hubchat.config import Settings
from hubchat.errors import BadRequest, Conflict, Unavailable
from hubchat.store import Store, open_store

log = logging.getLogger(__name__)

FORMAT = "hubchat-backup"
FORMAT_VERSION = 1
# Documents are passed through as the server sends them; only the header is decoded.
RAW = CodecOptions(document_class=RawBSONDocument, tz_aware=True, tzinfo=dt.UTC)
PLAIN: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=dt.UTC)
INSERT_BATCH_DOCS = 500
INSERT_BATCH_BYTES = 8 * 1024 * 1024
# listIndexes fields that are not options of createIndexes.
_NOT_INDEX_OPTIONS = {"v", "key", "ns"}


@dataclass
class Summary:
    database: str
    counts: dict[str, int] = field(default_factory=dict)
    snapshot: bool = False
    source_database: str = ""

    @property
    def documents(self) -> int:
        return sum(self.counts.values())


# ---------------------------------------------------------------- backup
async def _collections(store: Store) -> list[str]:
    """The database's collections (not views, not system collections), sorted by name."""
    names = []
    async for info in await store.db.list_collections():
        name = str(info["name"])
        if info.get("type", "collection") == "collection" and not name.startswith("system."):
            names.append(name)
    return sorted(names)


async def _index_specs(store: Store, name: str) -> list[dict[str, Any]]:
    return [dict(spec) async for spec in await store[name].list_indexes()]


async def _snapshot_capable(store: Store) -> bool:
    hello = await store.client.admin.command("hello")
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"


def _private_temp(path: Path) -> tuple[Path, IO[bytes]]:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return tmp, os.fdopen(fd, "wb")


async def _write(store: Store, path: Path, snapshot: bool) -> Summary:
    summary = Summary(database=store.db.name, snapshot=snapshot, source_database=store.db.name)
    names = await _collections(store)
    header = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "hubchat_version": __version__,
        "database": store.db.name, "created_at": dt.datetime.now(dt.UTC), "snapshot": snapshot,
        "collections": [{"name": name, "indexes": await _index_specs(store, name)} for name in names],
    }
    tmp, raw_out = _private_temp(path)
    try:
        async with contextlib.AsyncExitStack() as stack:
            session: AsyncClientSession | None = None
            if snapshot:
                session = await stack.enter_async_context(store.client.start_session(snapshot=True))
            with raw_out:
                with gzip.GzipFile(fileobj=raw_out, mode="wb", compresslevel=6) as out:
                    out.write(bson.encode(header))
                    for name in names:
                        count = 0
                        collection = store[name].with_options(codec_options=RAW)
                        async for doc in collection.find({}, session=session):
                            out.write(bson.encode({"c": name, "d": doc}))
                            count += 1
                        summary.counts[name] = count
                    out.write(bson.encode({"end": FORMAT, "counts": summary.counts,
                                           "documents": summary.documents}))
                raw_out.flush()  # gzip's own trailer (CRC, length) is written when it closes
                os.fsync(raw_out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a crash
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return summary


async def backup_store(store: Store, path: Path | str) -> Summary:
    """Writes every collection of ``store``'s database to ``path`` (atomically, mode 0600)."""
    path = Path(path)
    if path.is_dir():
        raise BadRequest(f"{path} is a directory; give a file name", code="backup_path")
    if not path.parent.is_dir():
        raise BadRequest(f"the directory {path.parent} does not exist", code="backup_path")
    try:
        if await _snapshot_capable(store):
            try:
                return await _write(store, path, snapshot=True)
            except OperationFailure as exc:  # e.g. MongoDB before 5.0, or past the snapshot window
                log.warning("snapshot read failed; backing up collection by collection",
                            extra={"error": type(exc).__name__})
        return await _write(store, path, snapshot=False)
    except PyMongoError as exc:
        raise Unavailable(f"the store failed during the backup ({type(exc).__name__}); nothing was "
                          f"written to {path}") from exc
    except OSError as exc:
        raise Unavailable(f"cannot write the backup beside {path}: {exc.strerror or type(exc).__name__}; "
                          f"{path} is unchanged", code="backup_write_failed") from exc


# ---------------------------------------------------------------- reading a backup
def _records(path: Path) -> Iterator[RawBSONDocument]:
    with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as stream:
        yield from bson.decode_file_iter(cast(IO[bytes], stream), codec_options=RAW)


def _invalid(path: Path, why: str) -> BadRequest:
    return BadRequest(f"{path} is not a complete hubchat backup ({why}); nothing was restored",
                      code="backup_invalid")


def _decoded(raw: RawBSONDocument) -> dict[str, Any]:
    return bson.decode(raw.raw, PLAIN)


def read_header(path: Path) -> dict[str, Any]:
    """Reads and checks the whole file; returns its header with the trailer's ``counts``."""
    if not path.is_file():
        raise BadRequest(f"no backup file at {path}", code="backup_not_found")
    header: dict[str, Any] | None = None
    trailer: dict[str, Any] | None = None
    counts: dict[str, int] = {}
    try:
        for record in _records(path):
            if trailer is not None:
                raise _invalid(path, "data after the end record")
            if header is None:
                header = _decoded(record)
                if header.get("format") != FORMAT:
                    raise _invalid(path, "no hubchat backup header")
                version = header.get("format_version")
                if not isinstance(version, int) or version > FORMAT_VERSION:
                    raise _invalid(path, f"format version {version!r}; this hubchat reads up to {FORMAT_VERSION}")
                for entry in header.get("collections", []):
                    counts[str(entry["name"])] = 0
                continue
            if "end" in record:
                trailer = _decoded(record)
                continue
            name = record.get("c")
            doc = record.get("d")
            if name not in counts or not isinstance(doc, RawBSONDocument) or "_id" not in doc:
                raise _invalid(path, "a record that is not a document of a listed collection")
            counts[name] += 1
    except (OSError, EOFError, zlib.error, BSONError, KeyError, TypeError) as exc:
        raise _invalid(path, f"unreadable: {type(exc).__name__}") from exc
    if header is None:
        raise _invalid(path, "empty file")
    if trailer is None or trailer.get("end") != FORMAT:
        raise _invalid(path, "it ends before its end record: truncated")
    if trailer.get("counts") != counts:
        raise _invalid(path, "the document counts do not match its end record")
    header["counts"] = counts
    return header


# ---------------------------------------------------------------- restore
def _index_models(specs: list[dict[str, Any]]) -> list[IndexModel]:
    models = []
    for spec in specs:
        if spec.get("name") == "_id_":
            continue
        options = {k: v for k, v in spec.items() if k not in _NOT_INDEX_OPTIONS}
        models.append(IndexModel(list(dict(spec["key"]).items()), **options))
    return models


async def _batches(path: Path) -> AsyncIterator[tuple[str, list[RawBSONDocument]]]:
    """(collection, documents) in insert-sized batches, in file order."""
    batch: list[RawBSONDocument] = []
    size = 0
    current = ""
    for record in _records(path):
        if "end" in record or "c" not in record:
            continue
        name = record["c"]
        if batch and (name != current or len(batch) >= INSERT_BATCH_DOCS or size >= INSERT_BATCH_BYTES):
            yield current, batch
            batch, size = [], 0
        doc = record["d"]
        current = name
        batch.append(doc)
        size += len(doc.raw)
    if batch:
        yield current, batch


async def restore_store(store: Store, path: Path | str, force: bool = False) -> Summary:
    """Restores ``path`` into ``store``'s database.

    A database that holds any document is refused unless ``force``, which drops its collections
    first.  The file is checked completely before anything is changed."""
    path = Path(path)
    header = await asyncio.to_thread(read_header, path)
    summary = Summary(database=store.db.name, counts=dict(header["counts"]),
                      snapshot=bool(header.get("snapshot")), source_database=str(header.get("database", "")))
    restored = 0
    try:
        existing = await _collections(store)
        occupied = [name for name in existing if await store[name].find_one({}, {"_id": 1}) is not None]
        if occupied and not force:
            raise Conflict(f"the database {store.db.name!r} is not empty ({len(occupied)} collections hold "
                           f"documents: {', '.join(occupied)}); restore into an empty database, or give "
                           f"--force to drop its collections first", code="database_not_empty")
        # Empty collections too (a server started on the empty database created its indexes):
        # the restored database is exactly the backup.
        for name in existing:
            await store.db.drop_collection(name)
        for entry in header["collections"]:
            name = str(entry["name"])
            models = _index_models(list(entry.get("indexes", [])))
            if models:
                await store[name].create_indexes(models)
            else:
                await store.db.create_collection(name)
        async for name, batch in _batches(path):
            await store[name].insert_many(batch, ordered=True)
            restored += len(batch)
    except PyMongoError as exc:
        raise Unavailable(f"the store failed during the restore ({type(exc).__name__}) after {restored} of "
                          f"{summary.documents} documents; the database is incomplete: run the restore "
                          f"again with --force") from exc
    return summary


# ---------------------------------------------------------------- command line
def add_commands(sub: Any) -> None:
    """Add ``backup`` and ``restore`` to the top-level subparsers."""
    backup = sub.add_parser("backup", help="write every collection of the store to one file (gzip BSON, 0600)")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser("restore", help="restore a backup file into the store's (empty) database")
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true",
                         help="drop the database's collections first when it is not empty")


async def _run(args: argparse.Namespace, settings: Settings) -> None:
    # No indexes are created on open: the store is read (backup) or rebuilt from the file (restore).
    async with open_store(settings, attach=True) as store:
        if args.command == "backup":
            summary = await backup_store(store, args.file)
            how = "one snapshot" if summary.snapshot else "collection by collection"
            print(f"backed up database {summary.database!r} ({how}): {summary.documents} documents in "
                  f"{len(summary.counts)} collections to {args.file}")
        else:
            summary = await restore_store(store, args.file, force=args.force)
            print(f"restored {summary.documents} documents in {len(summary.counts)} collections from "
                  f"{args.file} (database {summary.source_database!r}) into database {summary.database!r}")


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_run(args, settings))
    return 0
