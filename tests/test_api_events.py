"""Server → client events: every event name the code emits is documented in docs/api.md (and
every documented one is emitted), and the SOS payloads documented there have exactly the fields
of their declared types (``hubchat/sos/views.py``, ``hubchat/sos/rooms.py``)."""

from __future__ import annotations

import ast
import re
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints, is_typeddict

from hubchat.sos.rooms import SERVER_EVENTS, SosEvent
from hubchat.sos.views import DutyView, EventView, FullView, LimitedView, PersonView

ROOT = Path(__file__).resolve().parent.parent
API = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
# Functions whose first argument (or ``event=``) is the name of the event they send.
EMITTERS = frozenset({"emit", "emit_later", "to_team", "_emit", "_announce"})


# ---------------------------------------------------------------- what the code emits
def _event_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "event"), None)


def emitted_events() -> tuple[set[str], list[str]]:
    """(event names passed as literals to an emitter, calls whose event name is not known)."""
    names: set[str] = set()
    unknown: list[str] = []
    for path in sorted((ROOT / "hubchat").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = {a.arg for a in [*function.args.args, *function.args.kwonlyargs]}
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in EMITTERS):
                    continue
                arg = _event_arg(node)
                if arg is None:
                    continue  # e.g. the duty roster's _announce(): it emits a literal itself
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.add(arg.value)
                elif not (isinstance(arg, ast.Name) and arg.id in params and function.name in EMITTERS):
                    # only an emitter may forward an event name it was given
                    unknown.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return names, unknown


# ---------------------------------------------------------------- what docs/api.md documents
def documented_events() -> dict[str, list[str]]:
    """Server → client event name → the payload cells of its rows (headings: no payload cell)."""
    events: dict[str, list[str]] = {}
    heading = ""
    in_table = False
    for line in API.splitlines():
        if line.startswith("#"):
            heading = line
            match = re.match(r"#+ `([^`]+)` \(server → client\)", line)
            if match:
                events.setdefault(match.group(1), [])
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0].startswith("event"):
            in_table = "server → client" in cells[0] or "Server → client" in heading
            continue
        match = re.fullmatch(r"`([^`]+)`", cells[0])
        if in_table and match:
            events.setdefault(match.group(1), []).append(cells[1])
    return events


def test_every_emitted_event_is_documented_and_every_documented_one_is_emitted() -> None:
    emitted, unknown = emitted_events()
    assert unknown == [], f"emits whose event name is not a literal: {unknown}"
    documented = documented_events()
    assert {"message:new", "typing", "sos:new", "duty:updated", "message:translated"} <= emitted
    assert sorted(emitted - set(documented)) == [], "emitted but not in docs/api.md"
    assert sorted(set(documented) - emitted) == [], "documented but never emitted"


def test_sos_events_have_declared_payloads() -> None:
    declared = set(get_args(SosEvent))
    assert declared == set(SERVER_EVENTS)
    emitted, _ = emitted_events()
    assert {e for e in emitted if e.startswith(("sos:", "duty:"))} == declared


# ---------------------------------------------------------------- documented fields vs declared types
def _closing(text: str, start: int) -> int:
    """Index of the bracket closing the one at ``start``."""
    pairs = {"{": "}", "[": "]", "(": ")", "<": ">"}
    stack: list[str] = []
    for i in range(start, len(text)):
        ch = text[i]
        if ch in pairs:
            stack.append(pairs[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
            if not stack:
                return i
    raise AssertionError(f"unbalanced: {text[start:start + 80]!r}")


def _braces_after(marker: str, text: str = API) -> str:
    """The ``{…}`` that follows ``marker`` (newlines joined)."""
    at = text.index(marker)
    start = text.index("{", at + len(marker))
    return " ".join(text[start:_closing(text, start) + 1].split())


def fields(braces: str) -> dict[str, str | None]:
    """Top-level fields of a documented shape ``{a, b: {c, d} | null, e (note, more)}``: name →
    the nested ``{…}`` of its value (in a list or not), or None."""
    assert braces.startswith("{") and braces.endswith("}"), braces
    body = braces[1:-1]
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(body):
        if ch in "{[(<":
            depth += 1
        elif ch in "}])>":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    found: dict[str, str | None] = {}
    for part in parts:
        match = re.match(r'\s*"?([a-z_]+)"?', part)
        assert match, f"cannot read the field {part!r} of {braces!r}"
        value = part[match.end():]
        nested = re.match(r"\s*:\s*\[?\s*\{", value)
        found[match.group(1)] = None
        if nested:
            open_at = value.index("{")
            found[match.group(1)] = value[open_at:_closing(value, open_at) + 1]
    return found


def _typeddict_in(annotation: Any) -> Any:
    """The TypedDict in ``X``, ``X | None`` or ``list[X]``."""
    if is_typeddict(annotation):
        return annotation
    if get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in get_args(annotation):
            found = _typeddict_in(arg)
            if found is not None:
                return found
    return None


def assert_shape(braces: str, declared: Any, where: str) -> None:
    documented = fields(braces)
    hints = get_type_hints(declared)
    assert sorted(documented) == sorted(hints), f"{where}: docs/api.md vs {declared.__name__}"
    for name, nested in documented.items():
        if nested is not None:
            inner = _typeddict_in(hints[name])
            assert inner is not None, f"{where}.{name}: documented as an object, declared {hints[name]}"
            assert_shape(nested, inner, f"{where}.{name}")


def test_documented_alert_views_match_the_declared_types() -> None:
    assert_shape(_braces_after("**person** —"), PersonView, "person view")
    assert_shape(_braces_after("**full** (officers, responders) —"), FullView, "full view")
    assert_shape(_braces_after("**limited** (dispatched office bearers before they acknowledge) —"), LimitedView,
                 "limited view")
    assert_shape(_braces_after("A **duty entry** is"), DutyView, "duty entry")
    assert_shape(_braces_after('"events": [', _section("#### `sos:timeline`")), EventView, "timeline entry")


def _section(heading: str) -> str:
    start = API.index(heading)
    return API[start:API.index("\n#", start + 1)]


def test_documented_sos_event_payloads_match_the_declared_types() -> None:
    views = {"person view": PersonView, "full view": FullView, "limited view": LimitedView}
    documented = documented_events()
    for event, declared in SERVER_EVENTS.items():
        cells = documented[event]
        shown = {view for cell in cells for name, view in views.items() if cell.startswith(name)}
        if shown:  # an alert in one of its views
            assert shown == set(declared), event
            continue
        [cell] = cells
        [payload_type] = declared
        assert_shape(" ".join(cell.strip("`").split()), payload_type, event)


def test_the_shape_reader_reads_nesting_and_notes() -> None:
    """The reader the checks above rely on (so a failure there is the docs', not the reader's)."""
    assert fields("{a, b: {c, d} | null, e (note, more), f: [{g}], h: <x, y>}") == {
        "a": None, "b": "{c, d}", "e": None, "f": "{g}", "h": None}
