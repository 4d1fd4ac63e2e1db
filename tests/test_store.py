"""The storage behaviours hubchat relies on, checked against the embedded MongoDB-wire server,
or a real MongoDB when HUBCHAT_TEST_MONGO_URI is set (the same tests must pass on both)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.config import load_settings
from hubchat.embedded_mongo import EmbeddedMongo
from hubchat.store import Store, make_client, open_store

INDEXES = {"things": [IndexModel([("channel_id", 1), ("client_id", 1)], unique=True, name="things_unique")]}


async def test_indexes_are_created_idempotently_and_enforced(store: Store) -> None:
    await store.ensure_indexes([INDEXES])
    await store.ensure_indexes([INDEXES])
    await store["things"].insert_one({"_id": "a", "channel_id": "c", "client_id": "x"})
    with pytest.raises(DuplicateKeyError):
        await store["things"].insert_one({"_id": "b", "channel_id": "c", "client_id": "x"})
    await store["things"].insert_one({"_id": "c", "channel_id": "d", "client_id": "x"})
    assert await store["things"].count_documents({}) == 2


async def test_atomic_counter_under_concurrency(store: Store) -> None:
    async def take() -> int:
        doc = await store["counters"].find_one_and_update({"_id": "chan"}, {"$inc": {"seq": 1}}, upsert=True,
                                                          return_document=ReturnDocument.AFTER)
        assert doc is not None
        return int(doc["seq"])

    taken = await asyncio.gather(*(take() for _ in range(60)))
    assert sorted(taken) == list(range(1, 61))


async def test_conditional_claim_happens_once(store: Store) -> None:
    await store["jobs"].insert_one({"_id": "j", "due": 1, "claimed_by": None})
    claims = await asyncio.gather(*(store["jobs"].find_one_and_update(
        {"_id": "j", "claimed_by": None}, {"$set": {"claimed_by": n}}) for n in range(10)))
    assert sum(1 for c in claims if c is not None) == 1


async def test_max_update_and_operators_stay_values(store: Store) -> None:
    await store["receipts"].insert_one({"_id": "r", "seq": 5})
    await store["receipts"].update_one({"_id": "r"}, {"$max": {"seq": 3}})
    assert (await store["receipts"].find_one({"_id": "r"}))["seq"] == 5  # type: ignore[index]
    # A dict that looks like an operator, stored as a value, is matched only as that literal value.
    await store["receipts"].insert_one({"_id": "s", "name": "plain"})
    assert await store["receipts"].count_documents({"name": "{'$gt': ''}"}) == 0


async def test_datetimes_come_back_timezone_aware(store: Store) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    await store["times"].insert_one({"_id": "t", "at": now})
    got = (await store["times"].find_one({"_id": "t"}))["at"]  # type: ignore[index]
    assert got.tzinfo is not None and got == now


async def test_datetimes_stay_datetimes_through_updates(store: Store) -> None:
    """$set, nested $set and $push of sub-documents keep BSON datetimes (comparable, sortable)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    await store["times"].insert_one({"_id": "u", "n": {}})
    await store["times"].update_one({"_id": "u"}, {"$set": {"at": now, "n.at": now}})
    await store["times"].find_one_and_update({"_id": "u"}, {"$push": {"log": {"at": now}}, "$inc": {"k": 1}})
    doc = await store["times"].find_one({"_id": "u"})
    assert doc is not None
    assert doc["at"] == now and doc["n"]["at"] == now and doc["log"] == [{"at": now}]
    earlier = now - dt.timedelta(seconds=5)
    assert await store["times"].count_documents({"at": {"$gt": earlier}, "n.at": {"$lte": now}}) == 1


async def test_booleans_stay_booleans_through_updates(store: Store) -> None:
    """$set of a boolean keeps a boolean (``is True`` holds, and a query on True matches)."""
    await store["flags"].insert_one({"_id": "f", "duress": False, "n": {}})
    await store["flags"].update_one({"_id": "f"}, {"$set": {"duress": True, "n.ok": False}})
    doc = await store["flags"].find_one({"_id": "f"})
    assert doc is not None and doc["duress"] is True and doc["n"]["ok"] is False
    assert await store["flags"].count_documents({"duress": True}) == 1


async def test_embedded_server_keeps_data_across_restarts(tmp_path: Path) -> None:
    for round_ in range(2):
        async with EmbeddedMongo(tmp_path) as server:
            client = make_client(server.uri)
            try:
                if round_ == 0:
                    await client["db"]["kept"].insert_one({"_id": "k", "v": 1})
                else:
                    assert await client["db"]["kept"].find_one({"_id": "k"}) == {"_id": "k", "v": 1}
            finally:
                await client.close()


async def test_open_store_without_uri_starts_and_stops_the_embedded_server(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=str(tmp_path), mongo_uri="")
    async with open_store(settings, [INDEXES]) as store:
        assert await store.ping()
        client = store.client
    assert (tmp_path / "mongo").is_dir()
    assert not await Store(client, "x").ping()


async def test_unpatched_neosqlite_still_mis_stores_datetimes(tmp_path: Path) -> None:
    """Pins the dependency bug that hubchat.embedded_server works around.  When this fails, nx-27017 /
    neosqlite store these values correctly by themselves: delete the update routing there."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    async with EmbeddedMongo(tmp_path, variant="plain") as server:
        client = make_client(server.uri)
        try:
            times = client["db"]["times"]
            await times.insert_one({"_id": "u", "subs": [{"a": 1}]})
            await times.update_one({"_id": "u"}, {"$set": {"at": now}, "$push": {"subs": {"a": 2}}})
            doc = await times.find_one({"_id": "u"})
        finally:
            await client.close()
    assert doc is not None
    assert isinstance(doc["at"], str) and not isinstance(doc["subs"][0], dict)


def _plan(explained: dict[str, Any]) -> str:
    return " | ".join(step.get("detail", "") for step in explained["queryPlanner"]["winningPlan"])


async def test_embedded_queries_on_indexed_fields_use_the_indexes(store: Store) -> None:
    """neosqlite's set_force_fallback(True) is off: the query planner's SQL path serves finds, and an
    equality on the leading fields of a compound index (and a range on the next) is an index search."""
    if os.environ.get("HUBCHAT_TEST_MONGO_URI"):
        pytest.skip("the plan format checked here is nx-27017's (SQLite EXPLAIN QUERY PLAN)")
    await store.ensure_indexes([{"msgs": [IndexModel([("channel_id", 1), ("seq", 1)], unique=True, name="cs"),
                                          IndexModel([("channel_id", 1), ("sender_id", 1), ("client_msg_id", 1)],
                                                     unique=True, name="csc")]}])
    await store["msgs"].insert_many([{"_id": f"m{i}", "channel_id": "c", "seq": i, "sender_id": "s",
                                      "client_msg_id": f"k{i}"} for i in range(20)])
    filters: list[dict[str, Any]] = [
        {"_id": "m3"},
        {"channel_id": "c", "seq": 3},
        {"channel_id": "c", "seq": {"$gt": 3, "$lte": 9}},
        {"channel_id": "c", "sender_id": "s", "client_msg_id": "k3"},
    ]
    for query in filters:
        plan = _plan(await store.db.command("explain", {"find": "msgs", "filter": query}))
        assert plan.startswith("SEARCH msgs USING INDEX"), (query, plan)
    scan = _plan(await store.db.command("explain", {"find": "msgs", "filter": {"unindexed": 1}}))
    assert scan.startswith("SCAN msgs"), scan


async def test_equality_on_indexed_array_fields_matches_elements(store: Store) -> None:
    """Fields named *_ids hold arrays: an equality matches an element, indexed or not (store.py's rule)."""
    await store.ensure_indexes([{"chans": [IndexModel([("member_ids", 1)], name="m"),
                                           IndexModel([("owner_id", 1), ("tag_ids", 1)], name="ot")]}])
    await store["chans"].insert_one({"_id": "a", "owner_id": "o", "member_ids": ["u1", "u2"], "tag_ids": ["t"]})
    assert [d["_id"] async for d in store["chans"].find({"member_ids": "u2"})] == ["a"]
    assert await store["chans"].find_one({"owner_id": "o", "tag_ids": "t"}) is not None
    assert await store["chans"].count_documents({"member_ids": "u3"}) == 0


async def test_filters_with_an_id_and_a_clause_only_sql_cannot_serve_keep_their_answers(store: Store) -> None:
    """``{_id: ..., $or: [...]}`` (a chat send's membership filter) matches exactly as MongoDB does,
    on the embedded store's narrowed Python path (hubchat.embedded_server.narrow_python_query_path)."""
    chans = store["chans_or"]
    await chans.insert_many([
        {"_id": "c1", "kind": "association", "association_id": "a1", "last_seq": 0},
        {"_id": "c2", "kind": "dm", "member_ids": ["u1", "u2"], "last_seq": 0},
        {"_id": "c3", "kind": "inter", "association_ids": ["a1", "a2"], "last_seq": 0},
    ])

    def member(user: str, associations: list[str]) -> dict[str, Any]:
        return {"$or": [{"kind": "association", "association_id": {"$in": associations}},
                        {"kind": "inter", "association_ids": {"$in": associations}},
                        {"kind": "dm", "member_ids": user}]}

    taken = await chans.find_one_and_update({**member("u9", ["a1"]), "_id": "c1"}, {"$inc": {"last_seq": 1}},
                                            return_document=ReturnDocument.AFTER)
    assert taken is not None and taken["last_seq"] == 1
    assert await chans.find_one_and_update({**member("u9", ["a2"]), "_id": "c1"}, {"$inc": {"last_seq": 1}}) is None
    assert await chans.find_one({**member("u1", []), "_id": "c2"}) is not None
    assert await chans.find_one({**member("u3", []), "_id": "c2"}) is None
    assert await chans.find_one({**member("u3", ["a2"]), "_id": "c3"}) is not None
    found = [d["_id"] async for d in chans.find({**member("u1", ["a1"]), "_id": {"$in": ["c1", "c2", "zz"]}})
             .sort("_id", -1)]
    assert found == ["c2", "c1"]
    assert [d["_id"] async for d in chans.find({**member("u1", ["a1"]), "_id": {"$nin": ["c1"]}})
            .sort("_id", 1)] == ["c2", "c3"]
    assert (await chans.find_one({"_id": "c1"}))["last_seq"] == 1  # the refused take changed nothing


def test_the_python_query_path_reads_only_the_rows_its_id_or_its_branches_allow() -> None:
    """neosqlite as patched by hubchat.embedded_server (in this process): a filter with an ``_id`` and
    an ``$or`` decodes the one row its ``_id`` names, and an ``$or`` of SQL-selectable branches the
    rows they select, not every row of the collection (it decoded all 3,000 before the patch, so a
    send and a channel list cost time proportional to the number of channels)."""
    import neosqlite
    from neosqlite.collection.cursor import Cursor

    from hubchat.embedded_server import patch_neosqlite

    patch_neosqlite()
    db = neosqlite.Connection(":memory:")
    chans = db["chans"]
    chans.insert_many([{"_id": f"c{i:05d}", "kind": "dm", "member_ids": ["u1", f"u{i}"], "n": 0}
                       for i in range(3000)])
    decoded = 0
    load = Cursor._load_documents

    def counting(self: Any, rows: Any) -> Any:
        nonlocal decoded
        for doc in load(self, rows):
            decoded += 1
            yield doc

    Cursor._load_documents = counting  # type: ignore[method-assign]
    try:
        query = {"_id": "c00010", "$or": [{"kind": "dm", "member_ids": "u1"}, {"kind": "association"}]}
        assert chans.find_one_and_update(query, {"$inc": {"n": 1}}) is not None
        assert decoded <= 2  # the match, and the document returned after the update
        decoded = 0
        assert len(list(chans.find({"$or": [{"kind": "dm"}, {"n": {"$exists": True, "$type": "string"}}]}))) == 3000
        assert decoded == 3000  # a branch SQL cannot select: every row read, as before the patch
        chans.insert_one({"_id": "x1", "kind": "association", "association_id": "a1", "n": 0})
        decoded = 0
        listed = list(chans.find({"$or": [{"kind": "association", "association_id": {"$in": ["a1"]}},
                                          {"kind": "cell", "association_id": {"$in": []}},
                                          {"kind": "dm", "member_ids": "u7"}]}).sort("_id", -1))
        assert [doc["_id"] for doc in listed] == ["x1", "c00007"]
        assert decoded == 2  # each branch selected through SQL: the two matches decoded, not 3,001 rows
    finally:
        Cursor._load_documents = load  # type: ignore[method-assign]
        db.close()


def test_only_filters_of_plain_values_are_split_into_their_or_branches() -> None:
    """A datetime (or any value SQL may compare differently from MongoDB) keeps the whole filter on
    neosqlite's own path; plain branches are split and a branch that can match nothing is dropped."""
    from hubchat.embedded_server import or_branches

    at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert or_branches({"state": "x", "$or": [{"a": 1}, {"b": {"$in": []}}, {"c": {"$gte": 2}}]}) == [
        {"state": "x", "a": 1}, {"state": "x", "c": {"$gte": 2}}]
    assert or_branches({"$or": [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": "x"}}]}) is None
    assert or_branches({"a": 1, "$or": [{"a": 2}]}) is None  # a field on both sides
    assert or_branches({"a": 1}) is None
