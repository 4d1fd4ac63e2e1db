"""Trusted contacts: people the person names (family at home, a friend abroad), who are emailed
when an SOS is raised, acknowledged by the Cell and closed (``notify.py``) — once they have
confirmed their address.

Adding a contact emails it a confirmation link (a random token, kept as its SHA-256 only, valid
``trusted_contact_confirm_ttl_secs``, usable once).  Until it is used the contact receives
nothing else.  Limits: ``trusted_contacts_max`` contacts per person; confirmation emails
``trusted_contact_confirmations_per_hour`` per person and
``trusted_contact_confirmations_per_address_day`` per recipient address (every node together), so
nobody can use hubchat to mail-bomb an address.  Only the person manages their contacts: every
route reads the person from the access token and every query is conditioned on ``person_id``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypedDict

from pymongo.errors import DuplicateKeyError

from hubchat.clock import Clock, iso, utcnow
from hubchat.config import Settings
from hubchat.errors import Conflict, NotFound
from hubchat.outbox import Outbox
from hubchat.principal import Principal
from hubchat.ratelimit import RateLimiter
from hubchat.safety.emails import confirmation_email
from hubchat.safety.models import ConfirmIn, ContactIn, ContactPatch
from hubchat.safety.repository import SafetyRepository
from hubchat.schema import new_id
from hubchat.store import Document

log = logging.getLogger(__name__)

DAY_SECS = 24 * 3600.0
CONFIRM_ATTEMPTS_PER_HOUR = 30  # per client address (IPv6: per /64)


class ContactView(TypedDict):
    id: str
    name: str
    email: str
    relation: str | None
    language: str
    may_receive_location: bool
    confirmed: bool
    confirmed_at: str | None
    created_at: str | None


def contact_view(doc: Document) -> ContactView:
    return {"id": doc["_id"], "name": doc["name"], "email": doc["email"], "relation": doc.get("relation"),
            "language": doc.get("language", "en"), "may_receive_location": bool(doc.get("may_receive_location")),
            "confirmed": doc.get("confirmed_at") is not None, "confirmed_at": iso(doc.get("confirmed_at")),
            "created_at": iso(doc.get("created_at"))}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TrustedContacts:
    def __init__(self, settings: Settings, repo: SafetyRepository, outbox: Outbox,
                 limiter: Callable[[], RateLimiter], clock: Clock, hit: Callable[[Principal], Any]):
        self.settings = settings
        self.repo = repo
        self.outbox = outbox
        self._limiter = limiter
        self.clock = clock
        self._hit = hit

    async def list(self, principal: Principal) -> dict[str, Any]:
        await self._hit(principal)
        return {"contacts": [contact_view(c) for c in await self.repo.contacts_of(principal.user_id)],
                "max": self.settings.trusted_contacts_max}

    async def add(self, principal: Principal, req: ContactIn) -> ContactView:
        await self._hit(principal)
        existing = await self.repo.contacts_of(principal.user_id)
        if len(existing) >= self.settings.trusted_contacts_max:
            raise Conflict(f"at most {self.settings.trusted_contacts_max} trusted contacts", code="too_many_contacts")
        if any(c["email"] == req.email for c in existing):
            raise Conflict("this address is already one of your trusted contacts", code="contact_exists")
        await self._confirmation_allowed(principal.user_id, req.email)
        token = secrets.token_urlsafe(32)
        doc: Document = {"_id": new_id(), "person_id": principal.user_id, "name": req.name, "email": req.email,
                         "relation": req.relation, "language": req.language,
                         "may_receive_location": req.may_receive_location, "confirmed_at": None,
                         "token_digest": token_digest(token), "token_expires_at": self._expiry(),
                         "created_at": utcnow()}
        try:
            await self.repo.insert_contact(doc)
        except DuplicateKeyError:
            raise Conflict("this address is already one of your trusted contacts", code="contact_exists") from None
        await self._send_confirmation(doc, principal.display_name, token)
        log.info("trusted contact added", extra={"user_id": principal.user_id, "contact_id": doc["_id"]})
        return contact_view(doc)

    async def update(self, principal: Principal, contact_id: str, req: ContactPatch) -> ContactView:
        await self._hit(principal)
        sets = req.model_dump(exclude_none=True)
        doc = (await self.repo.update_contact(principal.user_id, contact_id, sets) if sets
               else await self.repo.contact(principal.user_id, contact_id))
        if doc is None:
            raise NotFound("no such trusted contact", code="contact_not_found")
        return contact_view(doc)

    async def delete(self, principal: Principal, contact_id: str) -> dict[str, bool]:
        await self._hit(principal)
        if not await self.repo.delete_contact(principal.user_id, contact_id):
            raise NotFound("no such trusted contact", code="contact_not_found")
        return {"deleted": True}

    async def resend(self, principal: Principal, contact_id: str) -> ContactView:
        await self._hit(principal)
        doc = await self.repo.contact(principal.user_id, contact_id)
        if doc is None:
            raise NotFound("no such trusted contact", code="contact_not_found")
        if doc.get("confirmed_at") is not None:
            raise Conflict("this contact has confirmed already", code="contact_confirmed")
        await self._confirmation_allowed(principal.user_id, doc["email"])
        token = secrets.token_urlsafe(32)
        doc = await self.repo.update_contact(principal.user_id, contact_id, {
            "token_digest": token_digest(token), "token_expires_at": self._expiry()})
        if doc is None:
            raise NotFound("no such trusted contact", code="contact_not_found")
        await self._send_confirmation(doc, principal.display_name, token)
        return contact_view(doc)

    async def confirm(self, req: ConfirmIn, client: str) -> dict[str, Any]:
        """Unauthenticated (the contact has no account): the token (256 random bits) is the only
        credential; attempts are limited per client address all the same."""
        digest = token_digest(req.token)
        await self._limiter().hit(f"safety:confirm-try:{client}", CONFIRM_ATTEMPTS_PER_HOUR, 3600.0,
                                  "confirmation attempts")
        doc = await self.repo.contact_by_token(digest)
        expires = doc.get("token_expires_at") if doc is not None else None
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        if doc is None or expires is None or expires <= self.clock.now():
            raise NotFound("this confirmation link is not valid (used, expired or mistyped)", code="invalid_token")
        confirmed = await self.repo.confirm_contact(doc["_id"], digest)
        if confirmed is None:
            raise NotFound("this confirmation link is not valid (used, expired or mistyped)", code="invalid_token")
        log.info("trusted contact confirmed", extra={"contact_id": doc["_id"]})
        return {"confirmed": True, "language": confirmed.get("language", "en")}

    # ------------------------------------------------------------ helpers
    def _expiry(self) -> dt.datetime:
        return self.clock.now() + dt.timedelta(seconds=self.settings.trusted_contact_confirm_ttl_secs)

    async def _confirmation_allowed(self, person_id: str, address: str) -> None:
        limiter = self._limiter()
        await limiter.hit(f"safety:confirm:{person_id}", self.settings.trusted_contact_confirmations_per_hour,
                          3600.0, "confirmation emails")
        await limiter.hit(f"safety:confirm-to:{address}", self.settings.trusted_contact_confirmations_per_address_day,
                          DAY_SECS, "confirmation emails to this address")

    async def _send_confirmation(self, doc: Document, person_name: str, token: str) -> None:
        email = confirmation_email(doc, person_name, token, self.settings.public_url)
        await self.outbox.enqueue(email, key=f"safety-confirm:{doc['_id']}:{token_digest(token)[:16]}",
                                  tag="safety-confirm")
