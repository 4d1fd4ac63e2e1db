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


def patch_neosqlite() -> None:
    """Route updates that carry datetimes or sub-documents to neosqlite's Python update path, and
    let equalities on indexed scalar fields use their indexes."""
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


def main() -> int:
    """Run nx-27017 on ``sys.argv`` with the patch applied."""
    patch_neosqlite()
    from nx_27017.nx_27017 import main as nx_main

    return int(nx_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
