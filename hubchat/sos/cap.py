"""Export one SOS alert with its whole timeline as an OASIS CAP 1.2 alert document.

:func:`alert_to_cap` turns an alert document and its timeline events (as stored in MongoDB) into
a Common Alerting Protocol 1.2 ``<alert>`` (namespace ``urn:oasis:names:tc:emergency:cap:1.2``)
that the Diaspora Cell can hand to partner agencies.  It is pure (no I/O, no clock, no global
state), uses only :mod:`xml.etree.ElementTree`, and returns a ``str`` that starts with
``<?xml version="1.0" encoding="UTF-8"?>`` (encode it as UTF-8 to send it).  ElementTree escapes
``<``, ``>`` and ``&``; on top of that every text is stripped of the characters XML 1.0 cannot
carry (C0 controls other than tab/newline, lone surrogates, U+FFFE/U+FFFF), so any user text
yields a well-formed document.

It raises :class:`ValueError` only for what CAP cannot do without: an empty or malformed
``sender`` (spaces, commas, ``<`` or ``&``), an alert without ``_id``, or one with no usable
time at all (``created_at``, else ``updated_at``, else the first event's ``at``).  Every
optional field may be missing or ``None``.

Mapping
-------
``<alert>``

* ``identifier`` = ``hubchat-sos-{_id}-{revision}`` (spaces, commas, ``<`` and ``&`` replaced by
  ``_``), where the revision is the ``seq`` of the last timeline entry exported, so each export of
  a new state is a distinct CAP message and exporting the same state twice gives the same one;
  ``sender`` = the ``sender`` argument; ``sent`` = ``created_at`` for revision 1, else the time of
  the last timeline entry; ``status`` = ``Actual``;
  ``scope`` = ``Restricted`` with ``restriction`` "Diaspora Cell and partner agencies; contains
  personal data"; ``incidents`` = the alert id; ``note`` = the status history
  ("open <time>; acknowledged <time> by <name>; ...") and the current status.
* ``msgType`` is ``Alert`` for revision 1 and ``Update`` after it, with ``references`` naming
  revision 1 (``sender,hubchat-sos-{_id}-1,created_at``): every export is a complete snapshot
  that supersedes the first.  ``Cancel`` is never used: in CAP 1.2 it means "disregard the
  earlier message", not "the incident is over".  A closed incident is stated in-band:
  ``urgency`` ``Past``, ``responseType`` ``AllClear``, the ``note``, and ``hubchat_status``.

One ``<info>`` (``language`` ``en-US``)

* ``category``: medical → ``Health``; violence → ``Safety`` + ``Security``; exploitation →
  ``Safety`` + ``Security`` (trafficking / forced labour is a law-enforcement matter);
  detention → ``Security``; stranded → ``Rescue``; other or unknown → ``Other``.
* ``event``: "SOS: medical emergency", "SOS: violence", "SOS: exploitation", "SOS: detention",
  "SOS: stranded person", "SOS: other emergency".
* The alert counts as *closed* when its status is resolved, false_alarm or cancelled, except
  that a cancellation while ``duress`` is set is **not** taken as closed: a duress PIN means the
  person may have been forced to cancel, so the alert is exported as still active.
* ``responseType``: closed → ``AllClear``; open/acknowledged → ``Assess``; responding →
  ``Monitor`` (the Cell's responders are on it; partners follow the Cell's lead).
* ``urgency``: ``Immediate`` while active, ``Past`` when closed.
* ``severity``: ``Extreme`` when ``duress`` or category violence, else ``Severe``; a false alarm
  is ``Minor``.
* ``certainty``: ``Observed`` (a first-hand report by the person in danger, or a resolved
  incident); a false alarm is ``Unlikely``; a cancellation by the person (without duress) is
  ``Unknown``: we do not know whether something happened.
* ``effective`` and ``onset`` = ``created_at``; no ``expires`` (an expiry in the past would make
  some receivers drop a handed-over record).  ``senderName`` = "hubchat Diaspora Cell".
* ``headline`` (at most 160 characters): event, person, registered city and country, status.
* ``description``: the person and their registered city/country and language, their note, the
  reported position with its accuracy and fix time (or that it is unknown), phone battery,
  the duress flag, who acknowledged it and when, responders, status and times.
* ``instruction``: what a responding agency should do (per category, with a duress warning and
  a warning when the position is unknown); for a closed alert, that no action is needed.
* ``web`` = ``{web_url}/#/sos/{_id}`` (omitted when ``web_url`` is empty); ``contact`` = the
  person's name, phone and email, and the Cell (``sender``).
* ``parameter`` (``valueName``/``value``): ``hubchat_status``, ``hubchat_category``,
  ``hubchat_duress`` (true/false), ``hubchat_battery_pct`` (when known),
  ``hubchat_location_known`` (true/false), ``hubchat_country`` (registered, when valid), then
  one ``hubchat_timeline`` per event in ascending ``seq``:
  ``seq|at|type|actor|note``, where ``at`` is a CAP dateTime, ``actor`` is "Name (role)" or
  "system", and ``note`` is the event's note, preceded for a status event by "from → to" and
  for a location event by "lat,lon ±accuracy m" (joined with "; ").  Control characters become
  spaces, and ``|`` in the first four fields becomes ``/`` (the note, last, may contain ``|``:
  split at most four times).

One ``<area>``

* Position known (a location with finite, in-range lat/lon): ``areaDesc`` "Reported position;
  registered city {city}, country {country}" and ``circle`` ``lat,lon radius`` (WGS 84, radius
  in km = ``accuracy_m / 1000``, at least 0.1; 1 km when the accuracy is unknown).
* Position unknown: ``areaDesc`` "Location unknown — registered city {city}, country
  {country}", no ``circle``, and ``geocode`` ``ISO3166-1`` = the registered country (when it is
  a two-letter code).  The geocode is left out when a circle is present because CAP treats the
  shapes and geocodes of one area as a union: the whole country would swamp the position.

Times are CAP dateTimes ``YYYY-MM-DDThh:mm:ss±hh:mm``: fractions dropped, the value's own offset
kept, UTC written ``-00:00`` (CAP forbids ``Z``).  Naive datetimes are taken as UTC (what
pymongo returns without ``tz_aware``); ISO strings are accepted too.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

__all__ = ["CAP_NS", "alert_to_cap"]

CAP_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"

RESTRICTION: Final = "Diaspora Cell and partner agencies; contains personal data"
SENDER_NAME: Final = "hubchat Diaspora Cell"
HEADLINE_MAX: Final = 160
MIN_RADIUS_KM: Final = 0.1
UNKNOWN_ACCURACY_RADIUS_KM: Final = 1.0

ACTIVE_STATUSES: Final = frozenset({"open", "acknowledged", "responding"})
CLOSED_STATUSES: Final = frozenset({"resolved", "false_alarm", "cancelled"})

CATEGORIES: Final[Mapping[str, tuple[str, ...]]] = {
    "medical": ("Health",),
    "violence": ("Safety", "Security"),
    "exploitation": ("Safety", "Security"),
    "detention": ("Security",),
    "stranded": ("Rescue",),
    "other": ("Other",),
}

EVENTS: Final[Mapping[str, str]] = {
    "medical": "SOS: medical emergency",
    "violence": "SOS: violence",
    "exploitation": "SOS: exploitation",
    "detention": "SOS: detention",
    "stranded": "SOS: stranded person",
    "other": "SOS: other emergency",
}

_STATUS_LABELS: Final[Mapping[str, str]] = {
    "open": "open",
    "acknowledged": "acknowledged",
    "responding": "responding",
    "resolved": "resolved",
    "false_alarm": "false alarm",
    "cancelled": "cancelled by the person",
}

_CATEGORY_INSTRUCTIONS: Final[Mapping[str, str]] = {
    "medical": "Make sure local emergency medical services are on their way.",
    "violence": "If life is at risk, alert the local police or emergency services now.",
    "exploitation": ("Treat as possible trafficking or forced labour: involve the competent "
                     "authority and the consulate."),
    "detention": "Find out where and by whom the person is held, and inform the consulate.",
    "stranded": "Arrange safe shelter or transport for the person.",
}

_LANGUAGES: Final[Mapping[str, str]] = {"lus": "Mizo (lus)", "en": "English (en)"}

# Characters XML 1.0 cannot carry at all (and lone surrogates, which UTF-8 cannot encode).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Everything that should not appear inside one line: all C0/C1 controls and line separators.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"[ ]{2,}")
_IDENTIFIER_FORBIDDEN = re.compile(r"[\s,<&]")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def alert_to_cap(alert: dict[str, Any], events: list[dict[str, Any]], *,
                 sender: str, web_url: str) -> str:
    """The CAP 1.2 XML document (with XML declaration) for ``alert`` and its ``events``."""
    if not sender or _IDENTIFIER_FORBIDDEN.search(sender) or _XML_INVALID.search(sender):
        raise ValueError("CAP sender must be non-empty, without spaces, commas, '<' or '&'")
    raw_id = alert.get("_id")
    alert_id = _line(raw_id)
    if not alert_id:
        raise ValueError("the alert has no _id")
    alert_id = _IDENTIFIER_FORBIDDEN.sub("_", alert_id)
    timeline = _sorted_events(events)
    first_sent = (_cap_datetime(alert.get("created_at")) or _cap_datetime(alert.get("updated_at"))
                  or next((t for t in (_cap_datetime(e.get("at")) for e in timeline) if t), None))
    if first_sent is None:
        raise ValueError("the alert has no created_at (nor updated_at, nor timed events)")
    revision = max([1, *(int(e["seq"]) for e in timeline if isinstance(e.get("seq"), int))])
    last_at = next((t for t in (_cap_datetime(e.get("at")) for e in reversed(timeline)) if t), None)
    sent = first_sent if revision == 1 or last_at is None else max(first_sent, last_at)

    facts = _Facts(alert, alert_id, sender)

    root = ET.Element(_q("alert"))
    _sub(root, "identifier", f"hubchat-sos-{alert_id}-{revision}")
    _sub(root, "sender", sender)
    _sub(root, "sent", sent)
    _sub(root, "status", "Actual")
    _sub(root, "msgType", "Alert" if revision == 1 else "Update")
    _sub(root, "scope", "Restricted")
    _sub(root, "restriction", RESTRICTION)
    _sub(root, "note", _status_note(facts, timeline, first_sent))
    if revision > 1:
        _sub(root, "references", f"{sender},hubchat-sos-{alert_id}-1,{first_sent}")
    _sub(root, "incidents", alert_id)

    info = ET.SubElement(root, _q("info"))
    _sub(info, "language", "en-US")
    for category in CATEGORIES.get(facts.category, ("Other",)):
        _sub(info, "category", category)
    _sub(info, "event", facts.event)
    _sub(info, "responseType", facts.response_type)
    _sub(info, "urgency", "Past" if facts.closed else "Immediate")
    _sub(info, "severity", facts.severity)
    _sub(info, "certainty", facts.certainty)
    _sub(info, "effective", first_sent)
    _sub(info, "onset", first_sent)
    _sub(info, "senderName", SENDER_NAME)
    _sub(info, "headline", _headline(facts))
    _sub(info, "description", _description(facts, first_sent))
    _sub(info, "instruction", _instruction(facts))
    base_url = _line(web_url).rstrip("/")
    if base_url:
        _sub(info, "web", f"{base_url}/#/sos/{quote(alert_id, safe='')}")
    _sub(info, "contact", _contact(facts))
    for name, value in _parameters(facts, timeline):
        _value_pair(info, "parameter", name, value)

    area = ET.SubElement(info, _q("area"))
    if facts.position is not None:
        lat, lon, radius_km = facts.position
        _sub(area, "areaDesc", f"Reported position; registered city {facts.city}, "
                               f"country {facts.country}")
        _sub(area, "circle", f"{_num(lat, 6)},{_num(lon, 6)} {_num(radius_km, 3)}")
    else:
        _sub(area, "areaDesc", f"Location unknown — registered city {facts.city}, "
                               f"country {facts.country}")
        if facts.country_code:
            _value_pair(area, "geocode", "ISO3166-1", facts.country_code)

    ET.indent(root)
    body = ET.tostring(root, encoding="unicode", default_namespace=CAP_NS)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


class _Facts:
    """What the document says about the alert, read defensively from the stored document."""

    def __init__(self, alert: Mapping[str, Any], alert_id: str, sender: str) -> None:
        self.alert_id = alert_id
        self.sender = sender
        person = _mapping(alert.get("person"))
        self.person_id = _line(person.get("id"))
        self.name = _line(person.get("display_name")) or "Unnamed person"
        self.phone = _line(person.get("phone"))
        self.email = _line(person.get("email"))
        country = _line(person.get("country")).upper()
        self.country_code = country if _COUNTRY.match(country) else ""
        self.country = country or "unknown"
        self.city = _line(person.get("city")) or "unknown"
        language = _line(person.get("language"))
        self.language = _LANGUAGES.get(language, language)

        category = _line(alert.get("category"))
        self.category = category if category in CATEGORIES else "other"
        self.event = EVENTS[self.category]
        self.raw_category = category or "other"
        self.note = _block(alert.get("note"))
        battery = alert.get("battery_pct")
        self.battery: int | None = None
        if isinstance(battery, (int, float)) and not isinstance(battery, bool) \
                and math.isfinite(battery):
            self.battery = max(0, min(100, round(battery)))
        self.duress = alert.get("duress") is True

        self.status = _line(alert.get("status")) or "open"
        self.status_label = _STATUS_LABELS.get(self.status, self.status)
        self.coerced_cancel = self.duress and self.status == "cancelled"
        self.closed = self.status in CLOSED_STATUSES and not self.coerced_cancel
        self.created = _cap_datetime(alert.get("created_at"))
        self.updated = _cap_datetime(alert.get("updated_at"))
        self.closed_at = _cap_datetime(alert.get("closed_at"))

        ack = _mapping(alert.get("acknowledged_by"))
        self.ack_name = _line(ack.get("display_name"))
        self.ack_role = _line(ack.get("role"))
        self.ack_at = _cap_datetime(ack.get("at"))
        responders = alert.get("responders")
        self.responders = len(responders) if isinstance(responders, Sequence) \
            and not isinstance(responders, (str, bytes)) else 0

        location = _mapping(alert.get("location"))
        self.position: tuple[float, float, float] | None = None
        self.accuracy_m: float | None = None
        self.location_at = _cap_datetime(location.get("at"))
        lat, lon = _finite(location.get("lat")), _finite(location.get("lon"))
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            self.accuracy_m = _finite(location.get("accuracy_m"))
            if self.accuracy_m is not None and self.accuracy_m < 0:
                self.accuracy_m = None
            radius = UNKNOWN_ACCURACY_RADIUS_KM if self.accuracy_m is None \
                else max(self.accuracy_m / 1000, MIN_RADIUS_KM)
            self.position = (lat, lon, radius)

    @property
    def response_type(self) -> str:
        if self.closed:
            return "AllClear"
        return "Monitor" if self.status == "responding" else "Assess"

    @property
    def severity(self) -> str:
        if self.closed and self.status == "false_alarm":
            return "Minor"
        return "Extreme" if self.duress or self.category == "violence" else "Severe"

    @property
    def certainty(self) -> str:
        if self.closed and self.status == "false_alarm":
            return "Unlikely"
        if self.closed and self.status == "cancelled":
            return "Unknown"
        return "Observed"


def _status_note(facts: _Facts, timeline: Sequence[Mapping[str, Any]], sent: str) -> str:
    history: list[str] = [f"open {sent}"]
    last = "open"
    for event in timeline:
        if _line(event.get("type")) != "status":
            continue
        data = _mapping(event.get("data"))
        to = next((_line(data.get(k)) for k in ("to", "status", "new") if data.get(k)), "")
        if not to:
            continue
        history.append(_history_entry(to, _cap_datetime(event.get("at")),
                                      _actor(event.get("actor"))))
        last = to
    if len(history) == 1 and facts.ack_at and facts.status != "open":
        history.append(_history_entry("acknowledged", facts.ack_at,
                                      _person_role(facts.ack_name, facts.ack_role)))
        last = "acknowledged"
    if last != facts.status:
        at = facts.closed_at if facts.status in CLOSED_STATUSES else facts.updated
        history.append(_history_entry(facts.status, at, ""))
    note = f"Status history: {'; '.join(history)}. Current status: {facts.status_label}."
    if facts.coerced_cancel:
        note += (" The cancellation was made with the duress PIN: the person may have been "
                 "forced to cancel, so this alert is still active.")
    elif facts.closed:
        note += " The incident is closed; this message is sent for the record."
    return f"{note} Snapshot of hubchat SOS alert {facts.alert_id} with {len(timeline)} " \
           f"timeline events (parameters hubchat_timeline)."


def _history_entry(status: str, at: str | None, by: str) -> str:
    entry = _STATUS_LABELS.get(status, status)
    if at:
        entry += f" {at}"
    if by and by != "system":
        entry += f" by {by}"
    return entry


def _headline(facts: _Facts) -> str:
    prefix = "DURESS: " if facts.duress else ""
    state = "still active" if facts.coerced_cancel else facts.status_label
    text = f"{prefix}{facts.event} – {facts.name}, {facts.city}, {facts.country} ({state})"
    return text if len(text) <= HEADLINE_MAX else text[:HEADLINE_MAX - 1].rstrip() + "…"


def _description(facts: _Facts, sent: str) -> str:
    who = facts.name + (f" (hubchat user {facts.person_id})" if facts.person_id else "")
    lines = [f"{who} raised a one-tap SOS ({facts.raw_category}) at {sent}.",
             f"Registered city: {facts.city}, country {facts.country}."
             + (f" Preferred language: {facts.language}." if facts.language else "")]
    lines.append(f"Note from the person: {facts.note}" if facts.note
                 else "The person left no note.")
    if facts.position is not None:
        lat, lon, _ = facts.position
        accuracy = "accuracy unknown" if facts.accuracy_m is None \
            else f"accuracy ±{_num(facts.accuracy_m, 0)} m"
        fix = f", fix at {facts.location_at}" if facts.location_at else ""
        lines.append(f"Last reported position: {_num(lat, 6)}, {_num(lon, 6)} "
                     f"({accuracy}{fix}).")
    else:
        lines.append("Location unknown: the person's phone shared no position; the registered "
                     "city is not necessarily where they are.")
    lines.append("Phone battery: unknown." if facts.battery is None
                 else f"Phone battery: {facts.battery}% at the last report.")
    lines.append("DURESS: yes, the person entered their duress PIN and may be under coercion."
                 if facts.duress else "Duress: no.")
    if facts.ack_name or facts.ack_at:
        by = _person_role(facts.ack_name, facts.ack_role) or "an officer"
        lines.append(f"Acknowledged by {by}" + (f" at {facts.ack_at}." if facts.ack_at else "."))
    else:
        lines.append("Never acknowledged." if facts.closed else "Not acknowledged yet.")
    if facts.responders:
        lines.append(f"Responders assigned: {facts.responders}.")
    status = f"Status: {facts.status_label}"
    if facts.coerced_cancel:
        status += " (with the duress PIN: still active)"
    if facts.updated:
        status += f"; last updated {facts.updated}"
    if facts.closed_at and facts.status in CLOSED_STATUSES:
        status += f"; closed {facts.closed_at}"
    lines.append(status + ".")
    return "\n".join(lines)


def _instruction(facts: _Facts) -> str:
    if facts.closed:
        text = f"This alert is closed ({facts.status_label}"
        text += f", {facts.closed_at})." if facts.closed_at else ")."
        if facts.status == "false_alarm":
            text += " It was judged a false alarm."
        return text + " No action is needed unless the Diaspora Cell asks for it."
    parts: list[str] = []
    if facts.duress:
        parts.append("DURESS: do not call or message the person in a way that could reveal this "
                     "alert to anyone with them; contact the Diaspora Cell first.")
    parts.append(f"Assess the situation and coordinate with the Diaspora Cell ({facts.sender}) "
                 "before acting; the Cell holds the live timeline.")
    if facts.category in _CATEGORY_INSTRUCTIONS:
        parts.append(_CATEGORY_INSTRUCTIONS[facts.category])
    if facts.position is None:
        parts.append("The position is unknown: the registered city is only a starting point.")
    return " ".join(parts)


def _contact(facts: _Facts) -> str:
    reach = [f"phone {facts.phone}"] if facts.phone else []
    if facts.email:
        reach.append(f"email {facts.email}")
    person = f"{facts.name}: {', '.join(reach)}; " if reach else ""
    return f"{person}Diaspora Cell: {facts.sender}"


def _parameters(facts: _Facts,
                timeline: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    params = [("hubchat_status", facts.status), ("hubchat_category", facts.raw_category),
              ("hubchat_duress", _bool(facts.duress))]
    if facts.battery is not None:
        params.append(("hubchat_battery_pct", str(facts.battery)))
    params.append(("hubchat_location_known", _bool(facts.position is not None)))
    if facts.country_code:
        params.append(("hubchat_country", facts.country_code))
    for event in timeline:
        fields = [_line(event.get("seq")), _cap_datetime(event.get("at")) or "",
                  _line(event.get("type")), _actor(event.get("actor"))]
        fields = [f.replace("|", "/") for f in fields]
        fields.append(_event_text(event))
        params.append(("hubchat_timeline", "|".join(fields)))
    return params


def _event_text(event: Mapping[str, Any]) -> str:
    """The event's note, after what its data says for status and location events."""
    kind, data = _line(event.get("type")), _mapping(event.get("data"))
    summary = ""
    if kind == "status":
        before, after = _line(data.get("from")), _line(data.get("to") or data.get("status"))
        if after:
            summary = f"{before} → {after}" if before else f"→ {after}"
    elif kind == "location":
        lat, lon = _finite(data.get("lat")), _finite(data.get("lon"))
        if lat is not None and lon is not None:
            summary = f"{_num(lat, 6)},{_num(lon, 6)}"
            accuracy = _finite(data.get("accuracy_m"))
            if accuracy is not None:
                summary += f" ±{_num(accuracy, 0)} m"
    note = _line(event.get("note"))
    return f"{summary}; {note}" if summary and note else summary or note


def _sorted_events(events: Sequence[Any]) -> list[Mapping[str, Any]]:
    timeline = [e for e in events if isinstance(e, Mapping)]
    if all(isinstance(e.get("seq"), int) and not isinstance(e.get("seq"), bool)
           for e in timeline):
        timeline.sort(key=lambda e: int(e["seq"]))
    return timeline


def _actor(value: Any) -> str:
    actor = _mapping(value)
    if not actor:
        return "system"
    return _person_role(_line(actor.get("display_name")) or _line(actor.get("id")),
                        _line(actor.get("role"))) or "system"


def _person_role(name: str, role: str) -> str:
    if name and role:
        return f"{name} ({role})"
    return name or role


def _cap_datetime(value: Any) -> str | None:
    """``value`` as ``YYYY-MM-DDThh:mm:ss±hh:mm`` (UTC as ``-00:00``), or None."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    offset = value.utcoffset()
    if offset is None:
        value, offset = value.replace(tzinfo=UTC), timedelta(0)
    if offset % timedelta(minutes=1):
        value, offset = value.astimezone(UTC), timedelta(0)
    if offset == timedelta(0):
        zone = "-00:00"
    else:
        minutes = abs(offset) // timedelta(minutes=1)
        zone = f"{'+' if offset > timedelta(0) else '-'}{minutes // 60:02d}:{minutes % 60:02d}"
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{zone}")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _finite(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _line(value: Any) -> str:
    """One line of text: controls and line breaks become spaces; None becomes ''."""
    if value is None:
        return ""
    text = _LINE_BREAKING.sub(" ", str(value))
    return _SPACES.sub(" ", text).strip()


def _block(value: Any) -> str:
    """Multi-line text: newlines and tabs kept, other controls become spaces."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _XML_INVALID.sub(" ", text)
    text = re.sub("[\x7f-\x9f\u2028\u2029]", " ", text)
    return text.strip()


def _num(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _q(tag: str) -> str:
    return f"{{{CAP_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    element.text = _XML_INVALID.sub(" ", text)
    return element


def _value_pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    pair = ET.SubElement(parent, _q(tag))
    _sub(pair, "valueName", name)
    _sub(pair, "value", value)
