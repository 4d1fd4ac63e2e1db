"""Pure unit tests of the SOS lifecycle state machine (hubchat.sos.lifecycle)."""

from __future__ import annotations

import pytest

from hubchat.errors import Conflict, Forbidden
from hubchat.sos.lifecycle import Standing, actor_role, check_transition, may_note, may_see_full

OFFICER = Standing(is_officer=True)
DISPATCHED = Standing(is_dispatched=True)
RESPONDER = Standing(is_dispatched=True, is_responder=True)
PERSON = Standing(is_person=True)
PERSON_WHO_IS_OFFICER = Standing(is_person=True, is_officer=True)
NOBODY = Standing()
STATUSES = ("open", "acknowledged", "responding", "resolved", "false_alarm", "cancelled")
ACTIONS = ("acknowledge", "respond", "resolve", "false_alarm", "cancel")

# The whole table: (status, action) → the status after it; anything else is invalid_transition.
ALLOWED = {
    ("open", "acknowledge"): "acknowledged",
    ("acknowledged", "respond"): "responding",
    ("responding", "resolve"): "resolved",
    ("responding", "false_alarm"): "false_alarm",
    ("open", "cancel"): "cancelled",
    ("acknowledged", "cancel"): "cancelled",
    ("responding", "cancel"): "cancelled",
}
WHO = {
    "acknowledge": {OFFICER, DISPATCHED, RESPONDER},
    "respond": {OFFICER, RESPONDER},
    "resolve": {OFFICER, RESPONDER},
    "false_alarm": {OFFICER, RESPONDER},
    "cancel": {PERSON, PERSON_WHO_IS_OFFICER},
}
EVERYONE = (OFFICER, DISPATCHED, RESPONDER, PERSON, PERSON_WHO_IS_OFFICER, NOBODY)


def error_of(status: str, action: str, standing: Standing) -> str | None:
    try:
        check_transition(status, action, standing)
    except (Conflict, Forbidden) as exc:
        return exc.error_code
    return None


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_action_and_standing(status: str, action: str) -> None:
    for standing in EVERYONE:
        got = error_of(status, action, standing)
        if status in ("resolved", "false_alarm", "cancelled"):
            assert got == "alert_closed", (standing, got)
        elif standing not in WHO[action]:
            assert got == "not_allowed", (standing, got)
        elif (status, action) not in ALLOWED:
            assert got == "invalid_transition", (standing, got)
        else:
            assert got is None
            assert check_transition(status, action, standing) == ALLOWED[(status, action)]


def test_error_classes_carry_the_http_status() -> None:
    with pytest.raises(Conflict) as closed:
        check_transition("resolved", "acknowledge", OFFICER)
    assert closed.value.status == 409
    with pytest.raises(Forbidden) as wrong_role:
        check_transition("open", "resolve", PERSON)
    assert wrong_role.value.status == 403
    with pytest.raises(Conflict) as jump:
        check_transition("open", "resolve", OFFICER)
    assert jump.value.error_code == "invalid_transition"
    with pytest.raises(Conflict):
        check_transition("open", "teleport", OFFICER)


def test_the_person_never_moves_their_alert_otherwise_even_as_an_officer() -> None:
    for action in ("acknowledge", "respond", "resolve", "false_alarm"):
        assert error_of("open", action, PERSON_WHO_IS_OFFICER) == "not_allowed"
    assert not may_see_full(PERSON_WHO_IS_OFFICER)


def test_notes_full_views_and_roles() -> None:
    assert may_note(OFFICER) and may_note(RESPONDER) and may_note(PERSON)
    assert not may_note(DISPATCHED) and not may_note(NOBODY)
    assert may_see_full(OFFICER) and may_see_full(RESPONDER)
    assert not may_see_full(DISPATCHED) and not may_see_full(PERSON) and not may_see_full(NOBODY)
    assert not NOBODY.involved and DISPATCHED.involved
    assert actor_role(PERSON, "member") == "person"
    assert actor_role(OFFICER, "admin") == "admin"
    assert actor_role(RESPONDER, "member") == "responder"
    assert actor_role(DISPATCHED, "member") == "office_bearer"
