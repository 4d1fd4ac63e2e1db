"""``hubchat backup`` / ``hubchat restore`` (hubchat/backup.py) on the real embedded store (or the
MongoDB of HUBCHAT_TEST_MONGO_URI): a round trip loses nothing, a non-empty database is refused
without --force, a damaged file changes nothing, and a backup works while ``hubchat serve`` runs."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import bson
import pytest
from bson import Binary, Int64, ObjectId
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel
from pymongo.errors import DuplicateKeyError

from hubchat.backup import FORMAT, backup_store, read_header, restore_store
from hubchat.config import Settings
from hubchat.embedded_mongo import EmbeddedMongo, free_loopback_port
from hubchat.errors import BadRequest, Conflict
from hubchat.store import Store, make_client
from tests.conftest import REDIS_URL, SmtpSink
from tests.support import DEFAULT_PASSWORD, HubClient, running_hub, wait_ready
from tests.test_chat_support import Chat, send
from tests.test_sos_helpers import DURESS_PIN, SOS_PIN, trigger_body

pytestmark = pytest.mark.timeout(120)

RAW = CodecOptions(document_class=RawBSONDocument, tz_aware=True, tzinfo=dt.UTC)
WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=dt.UTC)


async def contents(store: Store) -> dict[str, Any]:
    """Every collection of the database: its documents as raw BSON bytes by _id, and its indexes."""
    out: dict[str, Any] = {}
    async for info in await store.db.list_collections():
        name = info["name"]
        docs: dict[Any, bytes] = {}
        async for doc in store[name].with_options(codec_options=RAW).find({}):
            docs[bson.decode(doc.raw)["_id"]] = doc.raw
        indexes = sorted([dict(spec) async for spec in await store[name].list_indexes()], key=lambda s: s["name"])
        for spec in indexes:
            spec.pop("ns", None)
        out[name] = {"docs": docs, "indexes": indexes}
    return out


@pytest.fixture
async def other_db(mongo_uri: str) -> AsyncIterator[Store]:
    """A second, fresh database on the same server (the restore target)."""
    client = make_client(mongo_uri)
    name = f"hubchat_test_{uuid.uuid4().hex[:12]}"
    try:
        yield Store(client, name)
    finally:
        await client.drop_database(name)
        await client.close()


async def edge_documents(store: Store) -> None:
    """Values a JSON round trip would lose: datetimes (ms), nested documents and arrays, binary,
    64-bit integers, ObjectIds, booleans, null, unicode; and a unique index."""
    edge = store["backup_edge"]
    await edge.create_indexes([IndexModel([("code", 1)], unique=True, name="backup_edge_code_unique")])
    await edge.insert_many([
        {"_id": "e1", "code": "ṭawng", "at": WHEN, "nested": {"list": [1, {"at": WHEN, "ok": True}], "none": None},
         "blob": Binary(b"\x00\x01\xfe\xff"), "big": Int64(2**40), "ratio": 0.1, "ref": ObjectId()},
        {"_id": ObjectId(), "code": "second", "at": WHEN + dt.timedelta(days=400), "flags": [False, True]},
    ])
    await store.db.create_collection("backup_empty")


async def populate(hub: HubClient, chat: Chat) -> dict[str, Any]:
    """Data made by the real app: an account through registration, an association with its channel
    and messages sent over Socket.IO, an SOS alert with its timeline, mail in the outbox."""
    person = await hub.user(display_name="Lalremruati", sos_pin=SOS_PIN, duress_pin=DURESS_PIN, phone="+919812345678")
    bearer = await chat.user("Bearer")
    association_id = await chat.association(bearer, members=(person,))
    channel_id = await chat.channel(association_id)
    sock = await hub.connect(person["access_token"])
    for n in range(3):
        ack = await send(sock, channel_id, f"message {n} · ṭhenkhat")
        assert "message" in ack, ack
    ack = await sock.call("sos:trigger", trigger_body(note="Chest pain", battery_pct=41))
    assert ack["outcome"] == "created", ack
    await edge_documents(chat.store)
    return {"person": person, "channel_id": channel_id}


async def test_round_trip_loses_nothing(settings: Settings, smtp: SmtpSink, aiohttp_server: Any, store: Store,
                                        other_db: Store, tmp_path: Path) -> None:
    async with running_hub(settings, smtp, aiohttp_server) as hub:
        made = await populate(hub, Chat(hub))
    # Stopped (as the README recommends): nothing writes between the comparison and the backup.
    before = await contents(store)
    assert {"users", "sessions", "channels", "messages", "alerts", "alert_events", "mail_outbox",
            "backup_edge", "backup_empty"} <= set(before)

    path = tmp_path / "hub.backup"
    summary = await backup_store(store, path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
    header = read_header(path)
    assert header["format"] == FORMAT and header["database"] == settings.mongo_db
    assert header["counts"] == summary.counts == {name: len(c["docs"]) for name, c in before.items()}
    assert summary.counts["messages"] >= 3 and summary.counts["backup_empty"] == 0

    await restore_store(other_db, path)
    after = await contents(other_db)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name]["docs"] == before[name]["docs"], name  # byte for byte
        assert after[name]["indexes"] == before[name]["indexes"], name
    edge = await other_db["backup_edge"].find_one({"_id": "e1"})
    assert edge is not None and edge["at"] == WHEN and edge["nested"]["list"][1]["at"] == WHEN
    assert edge["blob"] == b"\x00\x01\xfe\xff" and edge["big"] == 2**40
    with pytest.raises(DuplicateKeyError):  # the unique index is back
        await other_db["backup_edge"].insert_one({"_id": "e3", "code": "second"})

    # The restored database serves: the account logs in with its password, its messages are there.
    async with running_hub(settings.replace(mongo_db=other_db.db.name), smtp, aiohttp_server) as restored:
        session = await restored.login(made["person"]["email"], DEFAULT_PASSWORD)
        status, page = await restored.request("GET", f"/api/channels/{made['channel_id']}/messages",
                                              session["access_token"])
        assert status == 200, page
        assert [m["body"] for m in page["messages"]][-3:] == [f"message {n} · ṭhenkhat" for n in range(3)]


async def _small_backup(store: Store, path: Path) -> dict[str, Any]:
    await edge_documents(store)
    await store["users"].insert_one({"_id": "u1", "email": "a@example.org", "created_at": WHEN})
    await backup_store(store, path)
    return await contents(store)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hubchat", *args], env=env, capture_output=True, text=True,
                          timeout=90)


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBCHAT_")}
    env.update({"HUBCHAT_REDIS_URL": REDIS_URL, "HUBCHAT_LOG_FORMAT": "text", "HUBCHAT_LOG_LEVEL": "WARNING",
                "HUBCHAT_OPS_PORT": "0", **values})
    return env


async def test_restore_refuses_a_non_empty_database_without_force(store: Store, other_db: Store, mongo_uri: str,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "hub.backup"
    backed_up = await _small_backup(store, path)
    await other_db["users"].insert_one({"_id": "someone-else", "email": "b@example.org"})
    await other_db["leftover"].insert_one({"_id": 1})
    occupied = await contents(other_db)

    with pytest.raises(Conflict) as refused:
        await restore_store(other_db, path)
    assert refused.value.error_code == "database_not_empty"
    assert await contents(other_db) == occupied

    # The command line says so too, and exits 1; --force replaces the database with the backup.
    env = _env(HUBCHAT_MONGO_URI=mongo_uri, HUBCHAT_MONGO_DB=other_db.db.name, HUBCHAT_DATA_DIR=str(tmp_path / "var"))
    done = _cli(env, "restore", str(path))
    assert done.returncode == 1 and "database_not_empty" in done.stderr and "--force" in done.stderr, done
    assert await contents(other_db) == occupied
    done = _cli(env, "restore", str(path), "--force")
    assert done.returncode == 0, done.stderr
    assert "restored 3 documents in 3 collections" in done.stdout
    assert await contents(other_db) == backed_up  # "leftover" and someone-else are gone


async def test_restore_into_a_database_with_only_empty_collections(store: Store, other_db: Store,
                                                                    tmp_path: Path) -> None:
    """A server started once on the new database created its (empty) collections and indexes."""
    path = tmp_path / "hub.backup"
    backed_up = await _small_backup(store, path)
    await other_db["users"].create_indexes([IndexModel([("email", 1)], unique=True, name="users_email_unique")])
    await restore_store(other_db, path)
    assert await contents(other_db) == backed_up


def _damaged(path: Path, tmp_path: Path) -> dict[str, Path]:
    data = path.read_bytes()
    plain = gzip.decompress(data)
    records = list(bson.decode_file_iter(io.BytesIO(plain)))
    without_end = b"".join(bson.encode(r) for r in records[:-1])
    variants = {
        "truncated": data[: len(data) // 2],
        "flipped byte": data[:40] + bytes([data[40] ^ 0xFF]) + data[41:],
        "no end record": gzip.compress(without_end),
        "a record cut short": gzip.compress(plain[:-7]),
        "not gzip": b"users,email\nu1,a@example.org\n",
        "gzip of text": gzip.compress(b"hello world, this is not BSON at all" * 10),
        "empty": b"",
        "data after the end": gzip.compress(plain + bson.encode({"c": "users", "d": {"_id": "x"}})),
        "newer format": gzip.compress(bson.encode({**records[0], "format_version": 99})
                                      + plain[len(bson.encode(records[0])):]),
    }
    out = {}
    for name, content in variants.items():
        target = tmp_path / f"damaged-{name.replace(' ', '-')}.backup"
        target.write_bytes(content)
        out[name] = target
    return out


async def test_a_damaged_file_is_refused_and_changes_nothing(store: Store, other_db: Store,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "hub.backup"
    await _small_backup(store, path)
    await other_db["users"].insert_one({"_id": "keep-me", "email": "keep@example.org", "at": WHEN})
    occupied = await contents(other_db)
    for why, damaged in _damaged(path, tmp_path).items():
        # Even with --force (which drops the collections) nothing is touched: the whole file is
        # checked first.
        with pytest.raises(BadRequest) as refused:
            await restore_store(other_db, damaged, force=True)
        assert refused.value.error_code == "backup_invalid", why
        assert "not a complete hubchat backup" in refused.value.message, why
        assert await contents(other_db) == occupied, why
    with pytest.raises(BadRequest) as missing:
        await restore_store(other_db, tmp_path / "nope.backup")
    assert missing.value.error_code == "backup_not_found"
    assert await contents(other_db) == occupied


async def test_backup_while_serving_on_the_embedded_store_then_restore_elsewhere(tmp_path: Path) -> None:
    port = free_loopback_port()
    data_dir = tmp_path / "var"
    env = _env(HUBCHAT_PORT=str(port), HUBCHAT_DATA_DIR=str(data_dir),
               HUBCHAT_REDIS_PREFIX=f"hubchat-test:{uuid.uuid4().hex[:12]}:")
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "hubchat", "serve"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    path = tmp_path / "backups" / "hub.backup"
    path.parent.mkdir()
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/api/auth/register", json={
                    "email": "newcomer@example.org", "password": "a long password 1", "display_name": "Newcomer",
                    "language": "en", "country": "IN", "city": "Aizawl"}) as resp:
                assert resp.status == 201, await resp.text()

        done = _cli(env, "backup", str(path))
        assert done.returncode == 0, done.stderr
        assert "backed up database 'hubchat'" in done.stdout
        assert (path.stat().st_mode & 0o777) == 0o600
        header = read_header(path)
        assert header["counts"]["users"] == 1 and header["counts"]["mail_outbox"] >= 1
        # The running store refuses a restore over its data.
        done = _cli(env, "restore", str(path))
        assert done.returncode == 1 and "database_not_empty" in done.stderr
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(20)

    # Restore into a fresh deployment (its own embedded store, started by the command).
    fresh = tmp_path / "fresh"
    done = _cli(_env(HUBCHAT_DATA_DIR=str(fresh)), "restore", str(path))
    assert done.returncode == 0, done.stderr
    assert f"restored {sum(header['counts'].values())} documents" in done.stdout
    async with EmbeddedMongo(fresh) as server:
        client = make_client(server.uri)
        try:
            user = await client["hubchat"]["users"].find_one({"email": "newcomer@example.org"})
            assert user is not None and user["created_at"].tzinfo is not None
            for output in (done.stdout, done.stderr):
                assert user["password_hash"] not in output
        finally:
            await client.close()


async def test_backup_file_is_private_and_replaced_whole(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "hub.backup"
    path.write_bytes(b"an older backup")
    path.chmod(0o644)
    await edge_documents(store)
    await backup_store(store, path)
    assert (path.stat().st_mode & 0o777) == 0o600  # a new file (renamed over the old one), owner only
    assert read_header(path)["counts"] == {"backup_edge": 2, "backup_empty": 0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hub.backup"]
    for bad, code in ((tmp_path, "backup_path"), (tmp_path / "missing" / "hub.backup", "backup_path")):
        with pytest.raises(BadRequest) as refused:
            await backup_store(store, bad)
        assert refused.value.error_code == code
