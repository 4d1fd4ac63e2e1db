"""Entry point of the embedded nx-27017 child process, with one narrow fix to neosqlite.

``hubchat.embedded_mongo`` runs ``python -m hubchat.embedded_server <nx-27017 arguments>``.

The fix (written against neosqlite 1.17.2 under nx-27017 0.8.1): neosqlite compiles simple updates
to SQLite JSON functions, and that path mis-stores some values: a datetime given to ``$set``,
``$min`` or ``$max`` becomes the string ``'2026-12-01 14:44:15+00:00'``, and a sub-document given to
``$push`` becomes a JSON string (and so do the sub-documents already in that array), and a
boolean becomes the integer 1 or 0.  Later range
queries and sorts on them are then wrong.  neosqlite's Python update path stores them correctly.
:func:`needs_python_update` sends exactly the updates that carry such values to that path; every
other update, and every query, stays on neosqlite's SQL path, which uses the indexes.  (neosqlite's
global ``set_force_fallback(True)`` would also fix the updates, but it sends every *query* through
a Python full scan: a find by ``_id`` then costs time proportional to the collection's size.)

A second fix, to neosqlite's query builder (the path of find, find_one and count_documents): an
equality on a field emits an array-containment test (``f = ? OR EXISTS (SELECT ... json_each(f))``)
that no index can serve, except for fields neosqlite guesses to be indexed scalars, by the *suffix of
the SQLite index name* (``idx_messages_channel_id_seq`` covers ``seq`` but not ``channel_id``).  That
guess makes the leading field of every compound index a full scan, and treats indexed array fields
(``member_ids``) as scalars, so an equality on them misses.  :func:`field_is_indexed_scalar`
replaces it with hubchat's rule (documented in ``hubchat/store.py``): a field is a scalar when it
is a key of an index on the collection and its name does not end in ``_ids``; fields that hold
arrays end in ``_ids`` and keep the containment test.

A third fix, to neosqlite's Python query path (the "fallback" that any filter it cannot compile to
SQL takes, e.g. one with ``$or``): it reads and decodes *every* row of the collection and filters
them in Python, even when the filter names the ``_id``.  A chat send's membership filter
(``{_id: channel, $or: [...]}``) therefore cost time proportional to the number of channels
(measured: 1.2 ms with 10 channels, 116 ms with 5,000).  :func:`narrow_python_query_path` makes that
path read only the rows the filter's own ``_id`` condition allows (an equality or the operators
neosqlite's SQL builder already translates for ``_id``: ``$eq``, ``$in``, ``$nin``, ``$ne``), or,
for a top-level ``$or`` of plain values whose every branch SQL can select, the union of the rows
each branch selects (an outbox poll or a user's channel list then selects its rows in SQL instead
of decoding every row in Python; filters holding datetimes keep neosqlite's own path).  Every row
read is still matched against the whole filter in Python, and sorted and paged in Python as before,
so the answer is unchanged.

The routing is pinned by ``tests/test_store.py``: the datetime test passes with it, and
``test_unpatched_neosqlite_still_mis_stores_datetimes`` fails once neosqlite stores these values
correctly by itself, which is the signal to delete this module's patch.  On another neosqlite
version the patch is still applied (the Python path is always correct, only slower) and a warning
is logged.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)

TARGET_NEOSQLITE = "1.17.2"

# Booleans are not among them: the SQL path binds True as the integer 1.
_SCALARS = (str, int, float, type(None))
# Operators whose values never go through the faulty value binding.
_NO_VALUES = {"$unset", "$currentDate", "$rename"}
# Operators that take {"$each": [...], "$position": n, "$slice": n, ...} modifiers.
_ARRAY_OPS = {"$push", "$addToSet"}


def _plain(value: Any) -> bool:
    return isinstance(value, _SCALARS) and not isinstance(value, bool)


def needs_python_update(update_spec: Mapping[str, Any]) -> bool:
    """True unless every value in the update is a plain JSON scalar (datetimes, sub-documents,
    arrays, binary and ObjectId values go to neosqlite's Python update path)."""
    for op, fields in update_spec.items():
        if op in _NO_VALUES:
            continue
        if not isinstance(fields, Mapping):
            return True
        for value in fields.values():
            if op in _ARRAY_OPS and isinstance(value, Mapping) and "$each" in value:
                items = value["$each"]
                if not isinstance(items, list) or not all(_plain(item) for item in items):
                    return True
                if not all(_plain(mod) for key, mod in value.items() if key != "$each"):
                    return True
            elif not _plain(value):
                return True
    return False


_INDEX_KEY = re.compile(r"json_extract\(data, '\$\.([^']+)'\)")


def field_is_indexed_scalar(index_sql: Iterable[str | None], field: str) -> bool:
    """hubchat's rule: ``field`` is a key of one of these ``CREATE INDEX`` statements and does not
    hold arrays (array fields are named ``*_ids``)."""
    if field.rsplit(".", 1)[-1].endswith("_ids"):
        return False
    return any(field in _INDEX_KEY.findall(sql or "") for sql in index_sql)


def id_condition(builder: Any, query: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    """The SQL condition (clause, parameters) that the top-level ``_id`` of ``query`` imposes, in
    neosqlite's own translation, or None when it has none neosqlite can translate."""
    from neosqlite.collection.query_helper._sql_query_builder import _normalize_id_value

    if "_id" not in query:
        return None
    value = query["_id"]
    if isinstance(value, Mapping):
        if not value or any(not str(op).startswith("$") for op in value):
            return None  # an embedded-document _id: left to the Python filter
        condition: tuple[str, list[Any]] | None = builder._build_id_operator_clause(dict(value))
        return condition
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return f"{builder._id_column_ref()} = ?", [_normalize_id_value(value)]
    return None


def _plain_values(value: Any) -> bool:
    """Only JSON scalars, lists and documents of them (neosqlite's SQL compares these as MongoDB
    does; a datetime, binary or ObjectId value keeps the filter on the Python path)."""
    if isinstance(value, Mapping):
        return all(_plain_values(item) for item in value.values())
    if isinstance(value, list):
        return all(_plain_values(item) for item in value)
    return isinstance(value, (*_SCALARS, bool))


def _never_matches(branch: Mapping[str, Any]) -> bool:
    """A branch with ``{"$in": []}`` on a field matches no document."""
    return any(isinstance(value, Mapping) and dict(value) == {"$in": []} for value in branch.values())


def or_branches(query: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``{rest, $or: [b1, b2, ...]}`` as the filters ``{rest, b1}``, ``{rest, b2}``, ... (branches that
    can never match left out), or None when the filter has no such shape (no ``$or``, a branch that
    is not a plain document, a field named both in a branch and beside the ``$or``, or a value
    other than JSON scalars)."""
    branches = query.get("$or")
    if not isinstance(branches, list) or not branches or not _plain_values(dict(query)):
        return None
    rest = {key: value for key, value in query.items() if key != "$or"}
    merged: list[dict[str, Any]] = []
    for branch in branches:
        if not isinstance(branch, Mapping) or not branch or set(branch) & set(rest):
            return None
        if not _never_matches(branch):
            merged.append({**rest, **branch})
    return merged


def narrow_python_query_path() -> None:
    """neosqlite's Python query path reads only the rows the filter's ``_id`` allows, or the rows
    each branch of a top-level ``$or`` selects through SQL (and so through the indexes)."""
    from neosqlite.collection.cursor import Cursor
    from neosqlite.collection.jsonb_support import json_data_column
    from neosqlite.sql_utils import quote_table_name

    original = Cursor._handle_python_fallback

    def candidate_rows(self: Any) -> list[Any] | None:
        """The rows that may match, read through SQL; None: no narrowing applies."""
        helpers = self._query_helpers
        table = quote_table_name(self._collection.name)
        select = f"SELECT id, _id, {json_data_column(self._collection.query_engine.jsonb.jsonb_supported)} as data "
        condition = id_condition(helpers, self._filter)
        if condition is not None:
            clause, params = condition
            return list(self._collection.db.execute(f"{select}FROM {table} WHERE {clause}", params).fetchall())
        branches = or_branches(self._filter)
        if branches is None:
            return None
        wheres = []
        for branch in branches:
            where = helpers._build_simple_where_clause(branch)
            if where is None or not where[0]:  # a branch SQL cannot select: read every row after all
                return None
            wheres.append(where)
        rows: dict[Any, Any] = {}
        for where_clause, params, tables in wheres:
            self._tables_to_cleanup.extend(tables)
            for row in self._collection.db.execute(f"{select}FROM {table} {where_clause}", params):
                rows.setdefault(row[0], row)
        return [rows[key] for key in sorted(rows)]  # in storage order, as a scan returns them

    def _handle_python_fallback(self: Any) -> Any:
        rows = None if (self._min or self._max) else candidate_rows(self)
        if rows is None:
            return original(self)
        query, apply = self._filter, self._query_helpers._apply_query
        # Sorting and paging are left to neosqlite's Python steps after this (_execute_query).
        return (doc for doc in self._load_documents(rows) if apply(query, doc))

    _handle_python_fallback._hubchat_patched = True  # type: ignore[attr-defined]
    Cursor._handle_python_fallback = _handle_python_fallback


def patch_neosqlite() -> None:
    """Route updates that carry datetimes or sub-documents to neosqlite's Python update path, let
    equalities on indexed scalar fields use their indexes, and let the Python query path read only
    the rows a filter's ``_id`` or its ``$or`` branches select."""
    import neosqlite
    from neosqlite.collection.query_helper._sql_query_builder import SqlQueryBuilderMixin
    from neosqlite.collection.query_helper._sql_updates import SqlUpdatesMixin

    if getattr(SqlUpdatesMixin._can_use_sql_updates, "_hubchat_patched", False):
        return
    version = getattr(neosqlite, "__version__", "?")
    if version != TARGET_NEOSQLITE:
        log.warning("hubchat's update routing was written for neosqlite %s, running on %s",
                    TARGET_NEOSQLITE, version)
    original = SqlUpdatesMixin._can_use_sql_updates

    def _can_use_sql_updates(self: Any, update_spec: dict[str, Any], doc_id: Any,
                             original_doc: dict[str, Any] | None = None) -> bool:
        if needs_python_update(update_spec):
            return False
        return bool(original(self, update_spec, doc_id, original_doc))

    def _field_has_index(self: Any, field: str) -> bool:
        rows = self.collection.db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (self.collection.name,))
        return field_is_indexed_scalar((row[0] for row in rows), field)

    _can_use_sql_updates._hubchat_patched = True  # type: ignore[attr-defined]
    SqlUpdatesMixin._can_use_sql_updates = _can_use_sql_updates
    SqlQueryBuilderMixin._field_has_index = _field_has_index
    narrow_python_query_path()


def quiet_logging() -> None:
    """nx-27017 logs every command at INFO (in its threaded mode: each command's name, and for some
    their whole body, which may hold people's data) to its log file: only warnings and errors are
    kept.  It costs the store CPU per command, too."""
    for name in ("nx_27017", "neosqlite"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main() -> int:
    """Run nx-27017 on ``sys.argv`` with the patches applied and its logging quietened."""
    patch_neosqlite()
    quiet_logging()
    from nx_27017.nx_27017 import main as nx_main

    return int(nx_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
