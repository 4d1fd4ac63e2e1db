"""Emails to trusted contacts: pure functions, in the contact's language (en or lus).

What a contact email may say is an allow-list: the person's display name, what happened
(raised, acknowledged by the Diaspora Cell, closed — and how: resolved, closed, cancelled), when,
and the location only when the person allowed it for this contact.  Never the category, notes,
who acknowledged, escalation, or anything about duress: the text is built from the alert as
everyone outside the Cell may know it (``notify.py`` passes the apparent status), so a duress
"cancel" produces the very same email as a real cancel.

The Mizo texts marked ``# ?`` wait for a native speaker's review, as in ``web/static/i18n.js``.
"""

from __future__ import annotations

from urllib.parse import quote

from hubchat.mail import Email
from hubchat.store import Document

MAP_ZOOM = 15

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "confirm.subject": "{person} named you as a trusted contact on hubchat",
        "confirm.body": ("Hello {name},\n\n{person} has named you as a trusted contact on hubchat, the Mizo diaspora\n"
                         "hub. If they ever press SOS, you will be emailed when the alert is raised,\n"
                         "when the Diaspora Cell of Mizoram acknowledges it, and when it is closed.\n\n"
                         "Confirm your address to receive these emails:\n{link}\n\n"
                         "If you do not know {person}, ignore this email: you will receive nothing more."),
        "raised.subject": "SOS: {person} has asked for help",
        "raised.body": ("{person} pressed SOS on hubchat at {at} (UTC).\n"
                        "The Diaspora Cell of Mizoram has been alerted and will try to help."),
        "acknowledged.subject": "SOS: the Diaspora Cell is helping {person}",
        "acknowledged.body": "The Diaspora Cell of Mizoram acknowledged the SOS of {person} at {at} (UTC).",
        "closed.subject": "SOS: the alert of {person} is closed",
        "closed.body": "The SOS of {person} was {how} at {at} (UTC).",
        "how.cancelled": "cancelled by {person}",
        "how.resolved": "resolved by the Diaspora Cell",
        "how.false_alarm": "closed by the Diaspora Cell",
        "location": "Their location: {lat}, {lon}\nMap: {map}",
        "footer": ("You receive this because {person} named you as a trusted contact on hubchat.\n"
                   "Please do not reply to this email."),
    },
    "lus": {
        "confirm.subject": "{person}-in hubchat-ah mi rintlak atan a thlang che",  # ?
        "confirm.body": ("Chibai {name},\n\n{person}-in hubchat-ah mi rintlak atan a thlang che. SOS a hmet chuan,\n"
                         "SOS a thawn hunah te, Mizoram Diaspora Cell-in an hriat hunah te, a khar hunah te\n"
                         "email kan thawn ang che.\n\n"  # ?
                         "Heng email dawng turin i email hi finfiah rawh:\n{link}\n\n"  # ?
                         "{person} hi i hre lo a nih chuan he email hi ngaihthah mai rawh."),  # ?
        "raised.subject": "SOS: {person}-in ṭanpuina a dil",  # ?
        "raised.body": ("{person}-in hubchat-ah SOS a hmet, {at} (UTC)-ah.\n"
                        "Mizoram Diaspora Cell hriattir an ni a, ṭanpui an tum ang."),  # ?
        "acknowledged.subject": "SOS: Diaspora Cell-in {person} an ṭanpui mek",  # ?
        "acknowledged.body": "Mizoram Diaspora Cell-in {person} SOS an hria, {at} (UTC)-ah.",  # ?
        "closed.subject": "SOS: {person} SOS khar a ni",  # ?
        "closed.body": "{person} SOS chu {how}, {at} (UTC)-ah.",  # ?
        "how.cancelled": "{person} ngei-in a sut",  # ?
        "how.resolved": "Diaspora Cell-in an tihfel",  # ?
        "how.false_alarm": "Diaspora Cell-in an khar",  # ?
        "location": "A awmna: {lat}, {lon}\nMap: {map}",  # ?
        "footer": ("{person}-in hubchat-ah mi rintlak atan a thlan vangin he email hi i dawng a ni.\n"
                   "He email hi chhang lêt suh ang che."),  # ?
    },
}


def _texts(language: str | None) -> dict[str, str]:
    return TEXTS.get(language or "en", TEXTS["en"])


def confirm_link(public_url: str, token: str, language: str = "en") -> str:
    lang = "&lang=lus" if language == "lus" else ""
    return f"{public_url.rstrip('/')}/api/trusted-contacts/confirm?token={quote(token)}{lang}"


def confirmation_email(contact: Document, person_name: str, token: str, public_url: str) -> Email:
    texts = _texts(contact.get("language"))
    link = confirm_link(public_url, token, contact.get("language") or "en")
    values = {"person": person_name, "name": contact["name"], "link": link}
    return Email(to=(contact["email"],), subject=texts["confirm.subject"].format(**values),
                 text=texts["confirm.body"].format(**values) + "\n")


def osm_link(lat: float, lon: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map={MAP_ZOOM}/{lat:.5f}/{lon:.5f}"


def alert_email(contact: Document, kind: str, person_name: str, at: str, closed_as: str | None,
                location: Document | None) -> Email:
    """``kind``: raised | acknowledged | closed (``closed_as``: cancelled | resolved | false_alarm).
    ``location``: only when the person allowed it for this contact, else None."""
    texts = _texts(contact.get("language"))
    values = {"person": person_name, "at": at}
    if kind == "closed":
        values["how"] = texts.get(f"how.{closed_as}", texts["how.false_alarm"]).format(**values)
    lines = [texts[f"{kind}.body"].format(**values)]
    if location and contact.get("may_receive_location"):
        lat, lon = float(location["lat"]), float(location["lon"])
        lines += ["", texts["location"].format(lat=f"{lat:.5f}", lon=f"{lon:.5f}", map=osm_link(lat, lon))]
    lines += ["", texts["footer"].format(**values)]
    return Email(to=(contact["email"],), subject=texts[f"{kind}.subject"].format(**values),
                 text="\n".join(lines) + "\n")
