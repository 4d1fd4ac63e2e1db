"""Pure unit tests of hubchat.sos.cap: SOS alert + timeline → OASIS CAP 1.2 document.

Every document is checked against the OASIS CAP 1.2 XML Schema (tests/data/cap/CAP-v1.2.xsd,
see the README there) with ``xmlschema`` when it is installed, and always against the CAP 1.2
rules that the schema cannot express.
"""

from __future__ import annotations

import copy
import functools
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from hubchat.sos.cap import CAP_NS, alert_to_cap

XSD_PATH = Path(__file__).parent / "data" / "cap" / "CAP-v1.2.xsd"
NS = {"cap": CAP_NS}
SENDER = "diaspora-cell@hubchat.example"
WEB = "https://hub.example/"
ALERT_ID = "65f1c0ffee00000000000001"
T0 = datetime(2025, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
CIRCLE = re.compile(r"^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


# ------------------------------------------------------------------------- validator
@functools.cache
def _schema() -> Any:
    assert xmlschema is not None
    return xmlschema.XMLSchema(str(XSD_PATH))


def cap_rule_errors(root: ET.Element) -> list[str]:
    """CAP 1.2 requirements that the XSD does not enforce (spec section 3.2 and 3.3.2)."""
    errors: list[str] = []

    def text(parent: ET.Element, tag: str) -> str | None:
        element = parent.find(f"cap:{tag}", NS)
        return None if element is None else (element.text or "")

    if root.tag != f"{{{CAP_NS}}}alert":
        errors.append(f"root is {root.tag}")
    for tag in ("identifier", "sender"):
        value = text(root, tag)
        if not value or re.search(r"[\s,<&]", value):
            errors.append(f"{tag} {value!r} is empty or has spaces, commas, < or &")
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if local in ("sent", "effective", "onset", "expires"):
            value = element.text or ""
            if not DATETIME.match(value):
                errors.append(f"{local} {value!r} is not a CAP dateTime")
            elif value.endswith("+00:00"):
                errors.append(f"{local} {value!r}: UTC must be written -00:00")
        if local in ("parameter", "geocode", "eventCode"):
            name, value = text(element, "valueName"), text(element, "value")
            if not name or value is None:
                errors.append(f"{local} without valueName/value")
            elif CONTROL.search(value):
                errors.append(f"{local} {name} has control characters: {value!r}")
    if text(root, "scope") == "Restricted" and not text(root, "restriction"):
        errors.append("scope Restricted without restriction")
    if text(root, "scope") == "Private" and not text(root, "addresses"):
        errors.append("scope Private without addresses")
    if text(root, "msgType") in ("Update", "Cancel", "Ack", "Error") and not text(root, "references"):
        errors.append("msgType refers to earlier messages but has no references")
    for circle in root.iterfind("cap:info/cap:area/cap:circle", NS):
        match = CIRCLE.match(circle.text or "")
        if not match:
            errors.append(f"circle {circle.text!r} is not 'lat,lon radius'")
        elif not (-90 <= float(match[1]) <= 90 and -180 <= float(match[2]) <= 180):
            errors.append(f"circle {circle.text!r} is off the globe")
    return errors


def validate(doc: str) -> ET.Element:
    """Parse ``doc``, check it against the CAP 1.2 XSD and the CAP rules an XSD cannot express."""
    assert doc.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    data = doc.encode("utf-8")
    root = ET.fromstring(data)
    _schema().validate(data)
    assert cap_rule_errors(root) == []
    return root


def find(root: ET.Element, path: str) -> str:
    element = root.find(path, NS)
    assert element is not None, f"no {path}"
    return element.text or ""


def findall(root: ET.Element, path: str) -> list[str]:
    return [e.text or "" for e in root.iterfind(path, NS)]


def params(root: ET.Element, name: str) -> list[str]:
    return [find(p, "cap:value") for p in root.iterfind("cap:info/cap:parameter", NS)
            if find(p, "cap:valueName") == name]


# ------------------------------------------------------------------------- inputs
def make_alert(**changes: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "_id": ALERT_ID,
        "user_id": "65f1c0ffee0000000000aaaa",
        "client_sos_id": "c-1",
        "person": {"id": "65f1c0ffee0000000000aaaa", "display_name": "Lalremruati",
                   "phone": "+971501234567", "email": "mawii@example.org", "country": "AE",
                   "city": "Dubai", "language": "lus"},
        "category": "medical",
        "note": "Chest pain, cannot breathe well",
        "battery_pct": 23,
        "location": {"lat": 25.2048, "lon": 55.2708, "accuracy_m": 1500.0,
                     "at": T0 + timedelta(seconds=20)},
        "location_known": True,
        "status": "open",
        "duress": False,
        "created_at": T0,
        "updated_at": T0 + timedelta(seconds=20),
        "closed_at": None,
        "acknowledged_by": None,
        "responders": [],
        "dispatch": [],
        "escalation": {},
    }
    alert.update(changes)
    return alert


def event(seq: int, kind: str, *, at: datetime | str | None = None, actor: dict[str, Any] | None = None,
          note: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"_id": f"ev{seq}", "alert_id": ALERT_ID, "seq": seq,
            "at": at or T0 + timedelta(seconds=seq * 10), "type": kind, "actor": actor,
            "note": note, "data": data or {}}


OFFICER = {"id": "65f1c0ffee0000000000bbbb", "display_name": "Officer Zoramthanga",
           "role": "officer"}


def resolved_alert() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ack_at = T0 + timedelta(minutes=1)
    closed = T0 + timedelta(minutes=45)
    alert = make_alert(status="resolved", closed_at=closed, updated_at=closed,
                       acknowledged_by={**OFFICER, "at": ack_at}, responders=[OFFICER["id"]])
    events = [
        event(1, "created"),
        event(2, "status", at=ack_at, actor=OFFICER, data={"from": "open", "to": "acknowledged"}),
        event(3, "status", at=T0 + timedelta(minutes=5), actor=OFFICER,
              data={"from": "acknowledged", "to": "responding"}),
        event(4, "status", at=closed, actor=OFFICER, note="Ambulance took her to hospital",
              data={"from": "responding", "to": "resolved"}),
    ]
    return alert, events


def export(alert: dict[str, Any], events: list[dict[str, Any]] | None = None) -> str:
    return alert_to_cap(alert, events if events is not None else [event(1, "created")],
                        sender=SENDER, web_url=WEB)


# ------------------------------------------------------------------------- tests
def test_official_schema_is_used() -> None:
    schema = _schema()
    assert schema.target_namespace == CAP_NS
    assert schema.is_valid(export(make_alert()).encode())


def test_open_alert_with_location() -> None:
    root = validate(export(make_alert()))
    assert find(root, "cap:identifier") == f"hubchat-sos-{ALERT_ID}-1"  # revision 1: the first entry only
    assert find(root, "cap:sender") == SENDER
    assert find(root, "cap:sent") == "2025-03-01T10:00:00-00:00"
    assert find(root, "cap:status") == "Actual"
    assert find(root, "cap:msgType") == "Alert"
    assert find(root, "cap:scope") == "Restricted"
    assert find(root, "cap:restriction") == ("Diaspora Cell and partner agencies; "
                                             "contains personal data")
    assert find(root, "cap:incidents") == ALERT_ID
    assert root.find("cap:references", NS) is None
    assert find(root, "cap:note").startswith("Status history: open 2025-03-01T10:00:00-00:00.")

    assert len(root.findall("cap:info", NS)) == 1
    assert find(root, "cap:info/cap:language") == "en-US"
    assert findall(root, "cap:info/cap:category") == ["Health"]
    assert find(root, "cap:info/cap:event") == "SOS: medical emergency"
    assert findall(root, "cap:info/cap:responseType") == ["Assess"]
    assert find(root, "cap:info/cap:urgency") == "Immediate"
    assert find(root, "cap:info/cap:severity") == "Severe"
    assert find(root, "cap:info/cap:certainty") == "Observed"
    assert find(root, "cap:info/cap:effective") == "2025-03-01T10:00:00-00:00"
    assert find(root, "cap:info/cap:onset") == "2025-03-01T10:00:00-00:00"
    assert root.find("cap:info/cap:expires", NS) is None
    headline = find(root, "cap:info/cap:headline")
    assert headline == "SOS: medical emergency – Lalremruati, Dubai, AE (open)"
    description = find(root, "cap:info/cap:description")
    for expected in ("Note from the person: Chest pain, cannot breathe well",
                     "Registered city: Dubai, country AE", "Preferred language: Mizo (lus)",
                     "25.2048, 55.2708 (accuracy ±1500 m, fix at 2025-03-01T10:00:20-00:00)",
                     "Phone battery: 23%", "Duress: no.", "Not acknowledged yet."):
        assert expected in description
    assert "emergency medical services" in find(root, "cap:info/cap:instruction")
    assert find(root, "cap:info/cap:web") == f"https://hub.example/#/sos/{ALERT_ID}"
    contact = find(root, "cap:info/cap:contact")
    assert "+971501234567" in contact and "mawii@example.org" in contact and SENDER in contact

    assert params(root, "hubchat_status") == ["open"]
    assert params(root, "hubchat_category") == ["medical"]
    assert params(root, "hubchat_duress") == ["false"]
    assert params(root, "hubchat_battery_pct") == ["23"]
    assert params(root, "hubchat_location_known") == ["true"]

    areas = root.findall("cap:info/cap:area", NS)
    assert len(areas) == 1
    assert find(areas[0], "cap:areaDesc") == ("Reported position; registered city Dubai, "
                                              "country AE")
    assert findall(areas[0], "cap:circle") == ["25.2048,55.2708 1.5"]
    assert areas[0].find("cap:geocode", NS) is None  # a union with the whole country is wrong


@pytest.mark.parametrize(("accuracy", "radius"), [(35.0, "0.1"), (100, "0.1"), (250, "0.25"),
                                                  (None, "1")])
def test_circle_radius_from_accuracy(accuracy: float | None, radius: str) -> None:
    alert = make_alert(location={"lat": -33.86882, "lon": 151.20929, "accuracy_m": accuracy,
                                 "at": T0})
    root = validate(export(alert))
    assert findall(root, "cap:info/cap:area/cap:circle") == [f"-33.86882,151.20929 {radius}"]


def test_resolved_alert() -> None:
    alert, events = resolved_alert()
    root = validate(export(alert, events))
    # A later state is its own message: an Update of revision 1, sent when its last entry was.
    last = max(events, key=lambda e: e["seq"])
    assert find(root, "cap:identifier") == f"hubchat-sos-{alert['_id']}-{last['seq']}"
    assert find(root, "cap:msgType") == "Update"
    assert find(root, "cap:references") == f"{SENDER},hubchat-sos-{alert['_id']}-1,2025-03-01T10:00:00-00:00"
    assert find(root, "cap:sent") == last["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S-00:00")
    assert find(root, "cap:info/cap:onset") == "2025-03-01T10:00:00-00:00"
    assert validate(export(alert, events)) is not None and export(alert, events) == export(alert, events)
    assert find(root, "cap:info/cap:urgency") == "Past"
    assert findall(root, "cap:info/cap:responseType") == ["AllClear"]
    assert find(root, "cap:info/cap:severity") == "Severe"
    assert find(root, "cap:info/cap:certainty") == "Observed"
    note = find(root, "cap:note")
    assert note.startswith(
        "Status history: open 2025-03-01T10:00:00-00:00; "
        "acknowledged 2025-03-01T10:01:00-00:00 by Officer Zoramthanga (officer); "
        "responding 2025-03-01T10:05:00-00:00 by Officer Zoramthanga (officer); "
        "resolved 2025-03-01T10:45:00-00:00 by Officer Zoramthanga (officer). "
        "Current status: resolved.")
    assert "4 timeline events" in note
    description = find(root, "cap:info/cap:description")
    assert ("Acknowledged by Officer Zoramthanga (officer) at 2025-03-01T10:01:00-00:00."
            in description)
    assert "Responders assigned: 1." in description
    assert "closed 2025-03-01T10:45:00-00:00" in description
    # "raised at" is when the person pressed SOS, not when the latest revision was sent.
    assert "raised a one-tap SOS (medical) at 2025-03-01T10:00:00-00:00." in description, description
    assert find(root, "cap:info/cap:instruction").startswith(
        "This alert is closed (resolved, 2025-03-01T10:45:00-00:00).")
    assert find(root, "cap:info/cap:headline").endswith("(resolved)")
    assert params(root, "hubchat_status") == ["resolved"]


def test_status_history_rebuilt_when_timeline_has_no_status_events() -> None:
    alert, _ = resolved_alert()
    root = validate(export(alert, [event(1, "created")]))
    assert find(root, "cap:note").startswith(
        "Status history: open 2025-03-01T10:00:00-00:00; "
        "acknowledged 2025-03-01T10:01:00-00:00 by Officer Zoramthanga (officer); "
        "resolved 2025-03-01T10:45:00-00:00. Current status: resolved.")


def test_false_alarm_and_cancelled() -> None:
    closed = T0 + timedelta(minutes=3)
    root = validate(export(make_alert(status="false_alarm", closed_at=closed)))
    assert find(root, "cap:info/cap:urgency") == "Past"
    assert find(root, "cap:info/cap:severity") == "Minor"
    assert find(root, "cap:info/cap:certainty") == "Unlikely"
    assert findall(root, "cap:info/cap:responseType") == ["AllClear"]
    assert "false alarm" in find(root, "cap:info/cap:instruction")

    root = validate(export(make_alert(status="cancelled", closed_at=closed)))
    assert find(root, "cap:info/cap:urgency") == "Past"
    assert find(root, "cap:info/cap:certainty") == "Unknown"
    assert find(root, "cap:info/cap:headline").endswith("(cancelled by the person)")
    assert "Never acknowledged." in find(root, "cap:info/cap:description")


def test_responding_alert_asks_partners_to_monitor() -> None:
    root = validate(export(make_alert(status="responding",
                                      acknowledged_by={**OFFICER, "at": T0})))
    assert findall(root, "cap:info/cap:responseType") == ["Monitor"]
    assert find(root, "cap:info/cap:urgency") == "Immediate"


def test_duress_alert() -> None:
    alert = make_alert(duress=True, category="stranded", note=None)
    events = [event(1, "created"), event(2, "duress", note="duress PIN entered")]
    root = validate(export(alert, events))
    assert find(root, "cap:info/cap:severity") == "Extreme"
    assert find(root, "cap:info/cap:urgency") == "Immediate"
    assert findall(root, "cap:info/cap:category") == ["Rescue"]
    assert find(root, "cap:info/cap:headline").startswith("DURESS: SOS: stranded person – ")
    description = find(root, "cap:info/cap:description")
    assert "DURESS: yes" in description and "The person left no note." in description
    instruction = find(root, "cap:info/cap:instruction")
    assert instruction.startswith("DURESS: do not call or message the person")
    assert params(root, "hubchat_duress") == ["true"]
    assert params(root, "hubchat_timeline")[1] == (
        "2|2025-03-01T10:00:20-00:00|duress|system|duress PIN entered")


def test_cancel_under_duress_stays_active() -> None:
    alert = make_alert(duress=True, status="cancelled", closed_at=T0 + timedelta(minutes=2))
    root = validate(export(alert))
    assert find(root, "cap:info/cap:urgency") == "Immediate"
    assert findall(root, "cap:info/cap:responseType") == ["Assess"]
    assert find(root, "cap:info/cap:severity") == "Extreme"
    assert find(root, "cap:info/cap:certainty") == "Observed"
    assert find(root, "cap:info/cap:headline").endswith("(still active)")
    assert "forced to cancel" in find(root, "cap:note")
    assert params(root, "hubchat_status") == ["cancelled"]


def test_alert_without_location() -> None:
    alert = make_alert(location=None, location_known=False, battery_pct=None)
    root = validate(export(alert))
    area = root.find("cap:info/cap:area", NS)
    assert area is not None
    assert find(area, "cap:areaDesc") == "Location unknown — registered city Dubai, country AE"
    assert area.find("cap:circle", NS) is None
    geocodes = area.findall("cap:geocode", NS)
    assert [(find(g, "cap:valueName"), find(g, "cap:value")) for g in geocodes] == [
        ("ISO3166-1", "AE")]
    assert "Location unknown" in find(root, "cap:info/cap:description")
    assert "Phone battery: unknown." in find(root, "cap:info/cap:description")
    assert "position is unknown" in find(root, "cap:info/cap:instruction")
    assert params(root, "hubchat_location_known") == ["false"]
    assert params(root, "hubchat_battery_pct") == []


@pytest.mark.parametrize("location", [
    {"lat": None, "lon": 55.0, "accuracy_m": 10, "at": T0},
    {"lat": 91.0, "lon": 55.0, "accuracy_m": 10, "at": T0},
    {"lat": float("nan"), "lon": 55.0},
    {"lon": 55.0},
    "25.2,55.2",
])
def test_unusable_location_is_treated_as_unknown(location: Any) -> None:
    root = validate(export(make_alert(location=location)))
    assert root.find("cap:info/cap:area/cap:circle", NS) is None
    assert find(root, "cap:info/cap:area/cap:areaDesc").startswith("Location unknown")


def test_special_characters_round_trip_escaped() -> None:
    nasty = '<script>&" \'x\' ]]> | pipe'
    alert = make_alert(note=nasty, person={**make_alert()["person"], "display_name": "A&B <C>",
                                           "city": "Kuala <Lumpur>"})
    events = [event(1, "created", note=nasty),
              event(2, "note", actor={"id": "u", "display_name": "Ma|ry\n<b>", "role": "member"},
                    note="line one\nline two\ttab\x00nul\x1bESC\u2028sep")]
    doc = export(alert, events)
    assert "<script>" not in doc and "A&B" not in doc
    assert "&lt;script&gt;&amp;" in doc
    root = validate(doc)
    assert f"Note from the person: {nasty}" in find(root, "cap:info/cap:description")
    assert find(root, "cap:info/cap:headline").startswith(
        "SOS: medical emergency – A&B <C>, Kuala <Lumpur>")
    timeline = params(root, "hubchat_timeline")
    assert timeline[0] == f"1|2025-03-01T10:00:10-00:00|created|system|{nasty}"
    assert timeline[1] == ("2|2025-03-01T10:00:20-00:00|note|Ma/ry <b> (member)|"
                           "line one line two tab nul ESC sep")


def test_xml_invalid_characters_in_free_text_are_dropped() -> None:
    alert = make_alert(note="help\x00me\x07now\r\nsecond line\ud800")
    root = validate(export(alert))
    description = find(root, "cap:info/cap:description")
    assert "Note from the person: help me now\nsecond line\n" in description


def test_timeline_is_complete_and_in_order() -> None:
    alert, events = resolved_alert()
    events = events + [
        event(5, "location", data={"lat": 25.2, "lon": 55.27, "accuracy_m": 12.0}),
        event(6, "dispatch", data={"to": ["x"]}),
        event(7, "escalation", note="T1: on-duty officers emailed"),
        event(8, "email_sent", actor=None),
        event(9, "email_failed", note="SMTP 451"),
        event(10, "retriggered", actor={"id": "p", "display_name": "Lalremruati", "role": "member"}),
        event(11, "note", actor=OFFICER, note="Family informed"),
    ]
    shuffled = [events[i] for i in (3, 0, 10, 5, 1, 9, 2, 8, 4, 7, 6)]
    root = validate(export(alert, shuffled))
    timeline = params(root, "hubchat_timeline")
    assert len(timeline) == len(events)
    assert [int(v.split("|", 1)[0]) for v in timeline] == list(range(1, 12))
    assert [v.split("|")[2] for v in timeline] == [e["type"] for e in events]
    assert timeline[0] == "1|2025-03-01T10:00:10-00:00|created|system|"
    assert timeline[1] == ("2|2025-03-01T10:01:00-00:00|status|Officer Zoramthanga (officer)|"
                           "open → acknowledged")
    assert timeline[3] == ("4|2025-03-01T10:45:00-00:00|status|Officer Zoramthanga (officer)|"
                           "responding → resolved; Ambulance took her to hospital")
    assert timeline[4] == "5|2025-03-01T10:00:50-00:00|location|system|25.2,55.27 ±12 m"
    assert timeline[10] == ("11|2025-03-01T10:01:50-00:00|note|Officer Zoramthanga (officer)|"
                            "Family informed")
    for value in timeline:
        fields = value.split("|", 4)
        assert len(fields) == 5 and re.match(DATETIME, fields[1])
    # The timeline parameters come after the summary ones, in document order.
    names = [find(p, "cap:valueName") for p in root.iterfind("cap:info/cap:parameter", NS)]
    assert names[-len(events):] == ["hubchat_timeline"] * len(events)


@pytest.mark.parametrize(("category", "cap_categories", "event_text", "severity"), [
    ("medical", ["Health"], "SOS: medical emergency", "Severe"),
    ("violence", ["Safety", "Security"], "SOS: violence", "Extreme"),
    ("exploitation", ["Safety", "Security"], "SOS: exploitation", "Severe"),
    ("detention", ["Security"], "SOS: detention", "Severe"),
    ("stranded", ["Rescue"], "SOS: stranded person", "Severe"),
    ("other", ["Other"], "SOS: other emergency", "Severe"),
    ("something-new", ["Other"], "SOS: other emergency", "Severe"),
    (None, ["Other"], "SOS: other emergency", "Severe"),
])
def test_category_mapping(category: str | None, cap_categories: list[str], event_text: str,
                          severity: str) -> None:
    root = validate(export(make_alert(category=category)))
    assert findall(root, "cap:info/cap:category") == cap_categories
    assert find(root, "cap:info/cap:event") == event_text
    assert find(root, "cap:info/cap:severity") == severity


def test_datetimes_keep_offsets_and_drop_fractions() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    west = timezone(timedelta(hours=-3))
    naive = datetime(2025, 3, 1, 10, 0, 0, 999999)
    alert = make_alert(created_at=datetime(2025, 3, 1, 15, 30, 59, 999999, tzinfo=ist))
    events = [event(1, "created", at=datetime(2025, 3, 1, 7, 0, 1, tzinfo=west)),
              event(2, "note", at=naive), event(3, "note", at="2025-03-01T10:00:02Z"),
              event(4, "note", at=datetime(2025, 3, 1, 10, 0, 30, tzinfo=timezone(timedelta(seconds=30))))]
    root = validate(export(alert, events))
    assert find(root, "cap:sent") == "2025-03-01T15:30:59+05:30"
    assert [v.split("|")[1] for v in params(root, "hubchat_timeline")] == [
        "2025-03-01T07:00:01-03:00", "2025-03-01T10:00:00-00:00", "2025-03-01T10:00:02-00:00",
        "2025-03-01T10:00:00-00:00"]  # an offset with seconds is written in UTC


def test_minimal_alert_with_missing_optional_fields() -> None:
    alert = {"_id": ALERT_ID, "created_at": T0, "person": {"display_name": "Mawia"}}
    root = validate(alert_to_cap(alert, [], sender=SENDER, web_url=""))
    assert root.find("cap:info/cap:web", NS) is None
    assert find(root, "cap:info/cap:contact") == f"Diaspora Cell: {SENDER}"
    assert find(root, "cap:info/cap:area/cap:areaDesc") == (
        "Location unknown — registered city unknown, country unknown")
    assert root.find("cap:info/cap:area/cap:geocode", NS) is None
    assert params(root, "hubchat_status") == ["open"]
    assert params(root, "hubchat_timeline") == []

    bare = {"_id": ALERT_ID, "created_at": T0, "person": None, "location": None,
            "acknowledged_by": None, "note": None, "battery_pct": None, "responders": None}
    validate(alert_to_cap(bare, [{"seq": 1, "type": "created"}], sender=SENDER, web_url=WEB))


def test_headline_is_at_most_160_characters() -> None:
    person = {**make_alert()["person"], "display_name": "Lalrinmawii " * 30}
    root = validate(export(make_alert(person=person)))
    headline = find(root, "cap:info/cap:headline")
    assert len(headline) <= 160 and headline.endswith("…")


def test_object_id_and_identifier_characters() -> None:
    class ObjectIdLike:
        def __str__(self) -> str:
            return "65f1c0ffee00000000000002"

    root = validate(export(make_alert(_id=ObjectIdLike())))
    assert find(root, "cap:identifier") == "hubchat-sos-65f1c0ffee00000000000002-1"
    root = validate(export(make_alert(_id="a b,c<d&e")))
    assert find(root, "cap:identifier") == "hubchat-sos-a_b_c_d_e-1"


@pytest.mark.parametrize("sender", ["", "diaspora cell", "cell,hub", "a<b", "a&b"])
def test_bad_sender_is_refused(sender: str) -> None:
    with pytest.raises(ValueError, match="sender"):
        alert_to_cap(make_alert(), [], sender=sender, web_url=WEB)


def test_missing_required_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="_id"):
        alert_to_cap(make_alert(_id=None), [], sender=SENDER, web_url=WEB)
    with pytest.raises(ValueError, match="created_at"):
        alert_to_cap(make_alert(created_at=None, updated_at=None), [], sender=SENDER, web_url=WEB)
    # A missing created_at falls back to updated_at.
    root = validate(export(make_alert(created_at=None)))
    assert find(root, "cap:sent") == "2025-03-01T10:00:20-00:00"


def test_input_documents_are_not_modified() -> None:
    alert, events = resolved_alert()
    before = (copy.deepcopy(alert), copy.deepcopy(events))
    reversed_events = list(reversed(events))
    export(alert, reversed_events)
    assert (alert, events) == before
    assert [e["seq"] for e in reversed_events] == [4, 3, 2, 1]


# ------------------------------------------------------------------------- the validator itself
def _mutated(change: str) -> str:
    doc = export(make_alert())
    if change == "Z":
        return doc.replace("<sent>2025-03-01T10:00:00-00:00", "<sent>2025-03-01T10:00:00Z", 1)
    if change == "no restriction":
        return re.sub(r"\s*<restriction>[^<]*</restriction>", "", doc)
    if change == "space in identifier":
        return doc.replace("hubchat-sos-", "hubchat sos-", 1)
    if change == "bad circle":
        return doc.replace("25.2048,55.2708 1.5", "25.2048 55.2708", 1)
    if change == "Cancel without references":
        return doc.replace("<msgType>Alert<", "<msgType>Cancel<", 1)
    if change == "UTC as +00:00":
        return doc.replace("<sent>2025-03-01T10:00:00-00:00", "<sent>2025-03-01T10:00:00+00:00", 1)
    raise AssertionError(change)


@pytest.mark.parametrize("change", ["Z", "no restriction", "space in identifier", "bad circle",
                                    "Cancel without references", "UTC as +00:00"])
def test_rule_checks_reject_documents_breaking_cap_rules(change: str) -> None:
    assert cap_rule_errors(ET.fromstring(export(make_alert()).encode())) == []
    assert cap_rule_errors(ET.fromstring(_mutated(change).encode())) != []


@pytest.mark.parametrize("change", ["order", "enum", "missing event", "fraction"])
def test_schema_rejects_invalid_documents(change: str) -> None:
    doc = export(make_alert())
    if change == "order":  # msgType before status breaks the schema's sequence
        swapped = doc.replace("<status>Actual</status>\n  <msgType>Alert</msgType>",
                              "<msgType>Alert</msgType>\n  <status>Actual</status>", 1)
        assert swapped != doc
        doc = swapped
    elif change == "enum":
        doc = doc.replace("<urgency>Immediate<", "<urgency>Now<", 1)
    elif change == "missing event":
        doc = re.sub(r"\s*<event>[^<]*</event>", "", doc)
    elif change == "fraction":
        doc = doc.replace("<sent>2025-03-01T10:00:00-00:00", "<sent>2025-03-01T10:00:00.5-00:00", 1)
    assert not _schema().is_valid(doc.encode())
