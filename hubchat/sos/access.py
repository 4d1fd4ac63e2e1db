"""Who the caller is with respect to one alert, and the view that standing earns.

Strangers (not the person, not an officer, not a responder, not dispatched) are answered 404
``alert_not_found`` as if the alert did not exist.
"""

from __future__ import annotations

from typing import Any

from hubchat.errors import NotFound
from hubchat.principal import Principal
from hubchat.sos.lifecycle import Standing, actor_role, may_see_full
from hubchat.sos.repository import AlertRepository
from hubchat.sos.views import full_view, limited_view, person_view

Document = dict[str, Any]


def standing_of(alert: Document, principal: Principal) -> Standing:
    uid = principal.user_id
    is_person = alert["user_id"] == uid
    return Standing(
        is_person=is_person,
        is_officer=principal.is_officer and not is_person,
        is_responder=uid in alert.get("responders", []),
        is_dispatched=any(e["user_id"] == uid and e["role"] == "office_bearer" for e in alert.get("dispatch", [])),
    )


async def load(repo: AlertRepository, principal: Principal, alert_id: str) -> tuple[Document, Standing]:
    alert = await repo.find(alert_id)
    if alert is None:
        raise NotFound("no such alert", code="alert_not_found")
    standing = standing_of(alert, principal)
    if not standing.involved:
        raise NotFound("no such alert", code="alert_not_found")
    return alert, standing


def actor(principal: Principal, standing: Standing) -> Document:
    return {"id": principal.user_id, "display_name": principal.display_name,
            "role": actor_role(standing, principal.role)}


def viewer(principal: Principal, standing: Standing) -> Document:
    """The audit record's viewer: an officer by account role, anyone else as a responder."""
    role = principal.role if standing.is_officer else "responder"
    return {"id": principal.user_id, "display_name": principal.display_name, "role": role}


def distance_for(alert: Document, user_id: str) -> float | None:
    for entry in alert.get("dispatch", []):
        if entry["user_id"] == user_id:
            distance: float | None = entry.get("distance_km")
            return distance
    return None


def view_for(alert: Document, principal: Principal, standing: Standing, approx_km: float) -> Document:
    if standing.is_person:
        return person_view(alert)
    if may_see_full(standing):
        return full_view(alert)
    return limited_view(alert, distance_for(alert, principal.user_id), approx_km=approx_km)
