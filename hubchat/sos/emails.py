"""Escalation emails: pure functions from an alert to the message the Cell receives.

Steps: ``trigger`` (no officer was reachable live when the alert came in: nobody on duty, or
nobody on duty connected; the caller gives that reason), ``t1`` (not acknowledged within
``sos_t1_secs``), ``t2`` (not acknowledged within ``sos_t2_secs``); a duress alert runs every
step at once and says so in every message.  The body carries what a responder needs without
opening hubchat: category, time, location with an OpenStreetMap link (or the registered city
when the location is unknown), the person's name and contacts, and the alert's link.
"""

from __future__ import annotations

from hubchat.clock import iso
from hubchat.mail import Email
from hubchat.store import Document

MAP_ZOOM = 15
STEP_REASONS = {
    "trigger": "nobody is on duty",
    "t1": "not acknowledged (first escalation)",
    "t2": "still not acknowledged (second escalation)",
}


def osm_link(lat: float, lon: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map={MAP_ZOOM}/{lat:.6f}/{lon:.6f}"


def alert_link(public_url: str, alert_id: str) -> str:
    return f"{public_url.rstrip('/')}/#/sos/{alert_id}"


def _location_lines(alert: Document) -> list[str]:
    location = alert.get("location")
    person = alert["person"]
    if not location:
        city = f"{person.get('city') or '?'}, {person.get('country') or '?'}"
        return [f"Location: location unknown — registered city: {city}"]
    accuracy = location.get("accuracy_m")
    shown = f"{location['lat']:.6f}, {location['lon']:.6f}" + (f" (±{accuracy:.0f} m)" if accuracy is not None else "")
    return [f"Location: {shown}, reported {iso(location.get('at'))}",
            f"Map: {osm_link(location['lat'], location['lon'])}",
            f"Registered city: {person.get('city') or '?'}, {person.get('country') or '?'}"]


def escalation_email(alert: Document, step: str, to: tuple[str, ...], public_url: str,
                     reason: str | None = None) -> Email:
    category = alert["category"].replace("_", " ").upper()
    reason = reason or STEP_REASONS.get(step, step)
    duress = bool(alert.get("duress"))
    subject = f"[SOS{' DURESS' if duress else ''}] {category} alert — {reason}"
    person = alert["person"]
    lines = [f"SOS alert: {category}", f"Why you get this: {reason}", f"Status: {alert['status']}",
             f"Raised at: {iso(alert['created_at'])}", ""]
    if duress:
        lines += ["DURESS: the person entered their duress PIN. Their screen shows the alert as cancelled.",
                  "Do not contact them in a way that reveals that help is coming.", ""]
    lines += _location_lines(alert)
    lines += ["", f"Person: {person.get('display_name') or '?'}", f"Phone: {person.get('phone') or 'not given'}",
              f"Email: {person.get('email') or 'not given'}", f"Language: {person.get('language') or '?'}"]
    if alert.get("note"):
        lines += [f"Their note: {alert['note']}"]
    if alert.get("battery_pct") is not None:
        lines += [f"Phone battery: {alert['battery_pct']}%"]
    lines += ["", f"Open the alert: {alert_link(public_url, alert['_id'])}", "",
              "Acknowledge it in hubchat as soon as someone is on it; escalation stops then."]
    return Email(to=to, subject=subject, text="\n".join(lines) + "\n")
