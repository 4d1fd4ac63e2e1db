"""What each reader sees of a case (allow-lists): officers the whole case; the person only its status."""

from __future__ import annotations

from typing import Any

from hubchat.clock import iso
from hubchat.store import Document

View = dict[str, Any]


def case_view(case: Document) -> View:
    return {
        "id": case["_id"], "view": "full",
        "person": {"id": case["person_id"], "display_name": case.get("person_name"), "country": case.get("country")},
        "alert_id": case.get("alert_id"), "source": case.get("source"),
        "owner": {"id": case["owner_id"], "display_name": case.get("owner_name")},
        "status": case["status"], "outcome": case.get("outcome"), "outcome_note": case.get("outcome_note"),
        "summary": case.get("summary"),
        "created_at": iso(case.get("created_at")), "updated_at": iso(case.get("updated_at")),
        "closed_at": iso(case.get("closed_at")), "version": case.get("version", 1),
    }


def person_case_view(case: Document) -> View:
    """The person's own case: a status and dates, never notes, owner, referrals or the alert."""
    return {"id": case["_id"], "view": "person", "status": case["status"],
            "opened_at": iso(case.get("created_at")), "updated_at": iso(case.get("updated_at"))}


def note_view(note: Document) -> View:
    return {"id": note["_id"], "kind": note["kind"], "body": note["body"], "author": note["author"],
            "at": iso(note["at"])}


def reminder_view(reminder: Document) -> View:
    return {"id": reminder["_id"], "due_at": iso(reminder["due_at"]), "note": reminder.get("note"),
            "state": reminder["state"], "created_by": reminder["created_by"]}


def referral_view(referral: Document) -> View:
    return {"id": referral["_id"], "agency": referral["agency"], "attach": referral["attach"],
            "note": referral.get("note"), "by": referral["by"], "at": iso(referral["at"]),
            "email": referral.get("email_state", "queued")}


def agency_view(agency: Document) -> View:
    return {"id": agency["_id"], "name": agency["name"], "kind": agency["kind"], "email": agency["email"],
            "country": agency["country"], "active": agency.get("active", True)}


def audit_view(entry: Document) -> View:
    return {"actor": entry["actor"], "action": entry["action"], "at": iso(entry["at"])}
