"""The alert lifecycle as a pure state machine: who may move an alert from which status to which.

    open ──acknowledge──▶ acknowledged ──respond──▶ responding ──resolve──────▶ resolved
      │                        │                        └──────false_alarm──▶ false_alarm
      └────────────────────────┴────────────cancel (the person, with the SOS PIN)──▶ cancelled

* ``acknowledge``: a Cell officer, or an office bearer this alert was dispatched to; the
  acknowledger becomes a responder.  Only a Cell officer's acknowledgement stops the escalation:
  a bearer's shows as "association responding".  An officer may still acknowledge an alert an
  association acknowledged (status unchanged: the Cell takes it over).
* ``resolve`` / ``false_alarm`` by anyone but an officer need the Cell's acknowledgement first
  (checked in ``actions``), so no bearer can close an alert the Cell is still escalating.
* ``respond``, ``resolve``, ``false_alarm``: a Cell officer or an acknowledged responder.
* ``cancel``: the person only.  The person never moves their own alert otherwise, even when
  their account is an officer's.
* No jumps (``open`` → ``responding`` is refused); nothing happens to a closed alert.

Errors, checked in this order: ``alert_closed`` (409), ``not_allowed`` (403),
``invalid_transition`` (409).  The caller decides beforehand whether the actor may see the
alert at all (strangers get 404).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from hubchat.errors import Conflict, Forbidden
from hubchat.sos.models import CLOSED_STATUSES, OPEN_STATUSES

__all__ = ["RULES", "Rule", "Standing", "actor_role", "cell_acknowledges", "check_transition", "closed_error",
           "is_closed", "may_note", "may_see_full", "require_open"]


@dataclasses.dataclass(frozen=True)
class Standing:
    """The actor as seen from one alert, computed from the stored alert and the Principal."""

    is_person: bool = False
    is_officer: bool = False
    is_responder: bool = False
    is_dispatched: bool = False  # an office bearer this alert was dispatched to

    @property
    def involved(self) -> bool:
        return self.is_person or self.is_officer or self.is_responder or self.is_dispatched

    def holds(self, capacity: str) -> bool:
        if self.is_person:
            return capacity == "person"
        return {"officer": self.is_officer, "responder": self.is_responder,
                "dispatched": self.is_dispatched}.get(capacity, False)


@dataclasses.dataclass(frozen=True)
class Rule:
    sources: Collection[str]
    target: str
    capacities: Collection[str]  # "officer" | "responder" | "dispatched" | "person"


RULES: dict[str, Rule] = {
    "acknowledge": Rule(("open",), "acknowledged", ("officer", "dispatched")),
    "respond": Rule(("acknowledged",), "responding", ("officer", "responder")),
    "resolve": Rule(("responding",), "resolved", ("officer", "responder")),
    "false_alarm": Rule(("responding",), "false_alarm", ("officer", "responder")),
    "cancel": Rule(OPEN_STATUSES, "cancelled", ("person",)),
}


def is_closed(status: str) -> bool:
    return status in CLOSED_STATUSES


def closed_error(status: str) -> Conflict:
    return Conflict(f"the alert is already {status}", code="alert_closed")


def require_open(status: str) -> None:
    if is_closed(status):
        raise closed_error(status)


def check_transition(status: str, action: str, standing: Standing) -> str:
    """The status after ``action``, or the error that refuses it."""
    rule = RULES.get(action)
    if rule is None:
        raise Conflict(f"unknown action {action!r}", code="invalid_transition")
    require_open(status)
    if not any(standing.holds(capacity) for capacity in rule.capacities):
        raise Forbidden(f"you may not {action.replace('_', ' ')} this alert", code="not_allowed")
    if status not in rule.sources:
        raise Conflict(f"cannot {action.replace('_', ' ')} an alert that is {status}", code="invalid_transition")
    return rule.target


def cell_acknowledges(status: str, action: str, standing: Standing, cell_acknowledged: bool) -> bool:
    """An officer acknowledging an alert an association already acknowledged (or is responding to)."""
    return (action == "acknowledge" and standing.is_officer and not cell_acknowledged
            and status in ("acknowledged", "responding"))


def may_note(standing: Standing) -> bool:
    return standing.is_person or standing.is_officer or standing.is_responder


def may_see_full(standing: Standing) -> bool:
    """Exact location, track, contacts, timeline: officers and acknowledged responders (never the
    person through this path: the person's own view hides what a duress PIN changed)."""
    return not standing.is_person and (standing.is_officer or standing.is_responder)


def actor_role(standing: Standing, principal_role: str) -> str:
    """How an actor is named on the timeline."""
    if standing.is_person:
        return "person"
    if standing.is_officer:
        return principal_role
    if standing.is_responder:
        return "responder"
    return "office_bearer"
