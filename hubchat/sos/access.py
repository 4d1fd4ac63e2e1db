"""Who the caller is with respect to one alert, and the view that standing earns.

Strangers (not the person, not an officer, not a responder, not dispatched) are answered 404
``alert_not_found`` as if the alert did not exist.

An office bearer's standing is re-checked against the memberships on every call: being on the
alert's ``dispatch`` list (or among its responders) counts only while they are still an active
office bearer of the association they were told through.  A bearer removed from the association,
or demoted to member, is a stranger from then on.  A responder who is neither an officer now nor
such a bearer is a stranger too.
"""

from __future__ import annotations

from hubchat.errors import NotFound
from hubchat.principal import Principal
from hubchat.sos.lifecycle import Standing, actor_role, may_see_full
from hubchat.sos.ports import Directory
from hubchat.sos.repository import AlertRepository
from hubchat.sos.views import AlertView, apparent, full_view, limited_view, person_view
from hubchat.store import Document


def standing_of(alert: Document, principal: Principal) -> Standing:
    uid = principal.user_id
    is_person = alert["user_id"] == uid
    return Standing(
        is_person=is_person,
        is_officer=principal.is_officer and not is_person,
        is_responder=uid in alert.get("responders", []),
        is_dispatched=any(e["user_id"] == uid and e["role"] == "office_bearer" for e in alert.get("dispatch", [])),
    )


def bearer_associations(alert: Document, user_id: str) -> list[str]:
    """The associations through which ``user_id`` was told of the alert as an office bearer."""
    return [e["association_id"] for e in alert.get("dispatch", [])
            if e["user_id"] == user_id and e["role"] == "office_bearer" and e.get("association_id")]


async def current_standing(directory: Directory, alert: Document, principal: Principal) -> Standing:
    """``standing_of``, with an office bearer's standing re-checked against the memberships now."""
    standing = standing_of(alert, principal)
    if standing.is_person or standing.is_officer or not (standing.is_responder or standing.is_dispatched):
        return standing
    uid = principal.user_id
    if await directory.active_office_bearer_pairs([(uid, a) for a in bearer_associations(alert, uid)]):
        return standing
    return Standing()


async def load(repo: AlertRepository, directory: Directory, principal: Principal,
               alert_id: str) -> tuple[Document, Standing]:
    alert = await repo.find(alert_id)
    if alert is None:
        raise NotFound("no such alert", code="alert_not_found")
    standing = await current_standing(directory, alert, principal)
    if not standing.involved:
        raise NotFound("no such alert", code="alert_not_found")
    return alert, standing


def actor(principal: Principal, standing: Standing) -> Document:
    return {"id": principal.user_id, "display_name": principal.display_name,
            "role": actor_role(standing, principal.role)}


def actor_of_person(alert: Document) -> Document:
    return {"id": alert["user_id"], "display_name": alert["person"].get("display_name"), "role": "person"}


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


def view_for(alert: Document, principal: Principal, standing: Standing, approx_km: float) -> AlertView:
    """Only Cell officers see the alert as stored; everyone else sees what they may believe
    (``views.apparent``: a duress "cancel" is a cancel)."""
    if standing.is_person:
        return person_view(alert)
    if standing.is_officer:
        return full_view(alert)
    if may_see_full(standing):
        return full_view(apparent(alert))
    return limited_view(apparent(alert), distance_for(alert, principal.user_id), approx_km=approx_km)
