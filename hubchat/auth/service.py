"""Accounts: registration, email verification, login, refresh rotation, logout, officers.

Collections: ``users``, ``sessions`` (one per login; holds the digest of the current refresh
token and of every rotated one, so a replayed old refresh token revokes the whole session),
``verifications`` (digest of the current email code, attempts left, expiry).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hubchat.auth.models import ProfileUpdate, RegisterRequest, SosPinsRequest
from hubchat.auth.passwords import Hashing
from hubchat.auth.tokens import (
    TokenSigner,
    new_refresh_token,
    new_verification_code,
    session_of_refresh_token,
)
from hubchat.clock import utcnow
from hubchat.config import resolve_jwt_secret
from hubchat.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from hubchat.infra import Infra
from hubchat.mail import Email
from hubchat.principal import ROLES, STAFF_ROLES, Principal, Role
from hubchat.schema import new_id

log = logging.getLogger(__name__)

REVALIDATE_CHUNK = 500  # sessions read again per pair of store reads (the idle-socket sweep)

USERS = "users"
SESSIONS = "sessions"
VERIFICATIONS = "verifications"
PASSWORD_RESETS = "password_resets"

INDEXES = {
    USERS: [IndexModel([("email", 1)], unique=True, name="users_email_unique")],
    SESSIONS: [IndexModel([("user_id", 1)], name="sessions_user"),
               IndexModel([("user_id", 1), ("client", 1)], name="sessions_user_client")],
    VERIFICATIONS: [],
    PASSWORD_RESETS: [],
}
# The refresh token rotated just before may come back once more within this window without being
# taken for theft: a page reloaded while its refresh was in flight never saw the new token.
REFRESH_REUSE_GRACE_SECS = 30
RESEND_LIMIT = 3
RESEND_WINDOW_SECS = 600
RESET_EMAIL_LIMIT = 10  # reset codes mailed to one address per hour, whoever asks
RESET_EMAIL_WINDOW_SECS = 3600



def public_user(user: dict[str, Any]) -> dict[str, Any]:
    """What any signed-in user may see of another."""
    return {"id": user["_id"], "display_name": user["display_name"], "role": user["role"],
            "language": user.get("language", "en"), "country": user.get("country"), "city": user.get("city")}


def own_user(user: dict[str, Any]) -> dict[str, Any]:
    """What a user sees of themself."""
    return {**public_user(user), "email": user["email"], "phone": user.get("phone"),
            "verified": bool(user.get("verified")), "created_at": user["created_at"].isoformat(),
            "sos_pins_set": bool(user.get("sos_pin_hash") and user.get("duress_pin_hash"))}


PinCheck = Literal["cancel", "duress", "wrong"]


def _check_pin_pair(sos_pin: str | None, duress_pin: str | None) -> None:
    if (sos_pin is None) != (duress_pin is None):
        raise BadRequest("set the SOS PIN and the duress PIN together", code="pins_incomplete")
    if sos_pin is not None and sos_pin == duress_pin:
        raise BadRequest("the duress PIN must differ from the SOS PIN", code="pins_equal")


class AccountService:
    def __init__(self, infra: Infra):
        self.infra = infra
        settings = infra.settings
        self.signer = TokenSigner(resolve_jwt_secret(settings), settings.access_token_ttl_secs)
        self.hashing = Hashing.from_settings(settings)

    # ------------------------------------------------------------ limits on guessing
    async def _password_gate(self, email: str, client: str, user: dict[str, Any] | None) -> None:
        """The limits every check of an account's password (or emailed code) passes first.

        * per client address, all emails: one address cannot try many accounts;
        * per (email, client address): a stranger guessing locks out only himself;
        * per email, looser, over a longer window: many addresses together cannot guess without
          end; it does not apply to an address the account has signed in from before, so a
          botnet can delay the owner's first login from a new address but never lock them out of
          the addresses they use.
        """
        s = self.infra.settings
        limiter = self.infra.limiter
        await limiter.hit(f"auth:client:{client}", s.auth_client_rate_limit, s.auth_rate_window_secs,
                          "attempts from this address")
        await limiter.hit(f"auth:pair:{email}|{client}", s.auth_rate_limit, s.auth_rate_window_secs,
                          "login attempts")
        wait = await limiter.allow(f"auth:email:{email}", s.auth_email_rate_limit, s.auth_email_rate_window_secs)
        if wait > 0 and not (user is not None and await self._known_client(user["_id"], client)):
            raise RateLimited(f"too many login attempts on this account; retry in {max(1, round(wait))} s",
                              retry_after_secs=wait)

    def _client_digest(self, client: str) -> str:
        return self.signer.digest("client:" + client)

    async def _known_client(self, user_id: str, client: str) -> bool:
        found = await self.infra.store[SESSIONS].find_one(
            {"user_id": user_id, "client": self._client_digest(client)}, {"_id": 1})
        return found is not None

    # ------------------------------------------------------------ registration
    async def register(self, req: RegisterRequest, client: str = "") -> dict[str, Any]:
        settings = self.infra.settings
        _check_pin_pair(req.sos_pin, req.duress_pin)
        await self.infra.limiter.hit(f"register:{client}", settings.register_rate_limit,
                                     settings.register_rate_window_secs, "registrations from this address")
        user = {
            "_id": new_id(), "email": req.email, "password_hash": await self.hashing.hash_password(req.password),
            "display_name": req.display_name, "language": req.language, "country": req.country,
            "city": req.city, "phone": req.phone, "role": "member", "verified": False,
            "created_at": utcnow(),
            "sos_pin_hash": await self.hashing.hash_pin(req.sos_pin) if req.sos_pin else None,
            "duress_pin_hash": await self.hashing.hash_pin(req.duress_pin) if req.duress_pin else None,
        }
        try:
            await self.infra.store[USERS].insert_one(user)
        except DuplicateKeyError:
            if not await self._drop_expired_unverified(req.email):
                return await self._taken(user)
            try:
                await self.infra.store[USERS].insert_one(user)
            except DuplicateKeyError:
                return await self._taken(user)
        await self._send_code(user)
        log.info("account registered", extra={"user_id": user["_id"]})
        return own_user(user)

    async def _taken(self, attempted: dict[str, Any]) -> dict[str, Any]:
        """A registration of an email that has an account answers exactly like a new one (same
        status, same shape, the same password hashing before it) and tells the owner instead."""
        email = attempted["email"]
        if await self.infra.limiter.allow(f"register-notice:{email}", RESEND_LIMIT, RESEND_WINDOW_SECS) == 0:
            owner = await self.infra.store[USERS].find_one({"email": email}, {"display_name": 1})
            name = owner["display_name"] if owner else "there"
            self.infra.mailer.send_later(Email(
                to=(email,), subject="Someone tried to register on hubchat with your address",
                text=f"Hello {name},\n\nSomeone just tried to register a new hubchat account with this email "
                     f"address, which already has one. Nothing was changed.\n\nIf it was you: sign in with "
                     f"your password, or reset it from the sign-in page if you forgot it.\nIf it was not you, "
                     f"you need not do anything.\n"))
        log.info("registration of a taken email answered as new")
        return own_user(attempted)

    async def _drop_expired_unverified(self, email: str) -> bool:
        """Remove the account of ``email`` if it was never verified and is older than the TTL.

        So registering someone else's address first blocks them for a day at most.
        """
        cutoff = utcnow() - dt.timedelta(seconds=self.infra.settings.unverified_account_ttl_secs)
        users = self.infra.store[USERS]
        stale = await users.find_one({"email": email, "verified": False, "created_at": {"$lt": cutoff}}, {"_id": 1})
        if stale is None:
            return False
        result = await users.delete_one({"_id": stale["_id"], "verified": False})
        await self.infra.store[VERIFICATIONS].delete_one({"_id": stale["_id"]})
        await self.infra.store[PASSWORD_RESETS].delete_one({"_id": stale["_id"]})
        if result.deleted_count:
            log.info("expired unverified account replaced", extra={"user_id": stale["_id"]})
        return True

    async def _issue_code(self, collection: str, digest_prefix: str, user: dict[str, Any]) -> str:
        """A fresh one-time code for ``user``, stored as a digest with its attempts and expiry
        (replacing any earlier one); the plain code is only returned, for the email."""
        code = new_verification_code()
        settings = self.infra.settings
        await self.infra.store[collection].replace_one(
            {"_id": user["_id"]},
            {"_id": user["_id"], "digest": self.signer.digest(digest_prefix + user["_id"] + ":" + code),
             "attempts_left": settings.verification_max_attempts,
             "expires_at": utcnow() + dt.timedelta(seconds=settings.verification_code_ttl_secs)},
            upsert=True)
        return code

    async def _send_code(self, user: dict[str, Any]) -> None:
        code = await self._issue_code(VERIFICATIONS, "", user)
        minutes = self.infra.settings.verification_code_ttl_secs // 60
        self.infra.mailer.send_later(Email(
            to=(user["email"],), subject="Your hubchat verification code",
            text=f"Hello {user['display_name']},\n\nYour hubchat verification code is {code}.\n"
                 f"It expires in {minutes} minutes.\n\nIf you did not sign up, ignore this email.\n"))

    async def resend_code(self, email: str) -> None:
        await self.infra.limiter.hit(f"resend:{email}", RESEND_LIMIT, RESEND_WINDOW_SECS, "code requests")
        user = await self.infra.store[USERS].find_one({"email": email})
        if user is not None and not user.get("verified"):
            await self._send_code(user)

    async def verify_email(self, email: str, code: str, client: str = "") -> dict[str, Any]:
        settings = self.infra.settings
        await self.infra.limiter.hit(f"auth:client:{client}", settings.auth_client_rate_limit,
                                     settings.auth_rate_window_secs, "attempts from this address")
        await self.infra.limiter.hit(f"verify:{email}|{client}", settings.auth_rate_limit,
                                     settings.auth_rate_window_secs, "verification attempts")
        users = self.infra.store[USERS]
        user = await users.find_one({"email": email})
        if user is None:
            raise ValidationFailed("code is wrong or expired", code="code_invalid")
        if user.get("verified"):
            return own_user(user)
        record = await self.infra.store[VERIFICATIONS].find_one_and_update(
            {"_id": user["_id"], "attempts_left": {"$gt": 0}, "expires_at": {"$gt": utcnow()}},
            {"$inc": {"attempts_left": -1}}, return_document=ReturnDocument.BEFORE)
        if record is None or record["digest"] != self.signer.digest(user["_id"] + ":" + code):
            raise ValidationFailed("code is wrong or expired", code="code_invalid")
        await self.infra.store[VERIFICATIONS].delete_one({"_id": user["_id"]})
        user = await users.find_one_and_update({"_id": user["_id"]}, {"$set": {"verified": True}},
                                               return_document=ReturnDocument.AFTER)
        assert user is not None
        return own_user(user)

    # ------------------------------------------------------------ password reset
    async def request_password_reset(self, email: str, client: str = "") -> None:
        """Email a reset code if the account exists; the caller answers the same either way."""
        settings = self.infra.settings
        await self.infra.limiter.hit(f"auth:client:{client}", settings.auth_client_rate_limit,
                                     settings.auth_rate_window_secs, "requests from this address")
        await self.infra.limiter.hit(f"reset:{email}|{client}", RESEND_LIMIT, RESEND_WINDOW_SECS, "reset requests")
        await self.infra.limiter.hit(f"reset:{email}", RESET_EMAIL_LIMIT, RESET_EMAIL_WINDOW_SECS, "reset requests")
        user = await self.infra.store[USERS].find_one({"email": email})
        if user is None or user.get("disabled"):
            return
        code = await self._issue_code(PASSWORD_RESETS, "reset:", user)
        minutes = settings.verification_code_ttl_secs // 60
        self.infra.mailer.send_later(Email(
            to=(user["email"],), subject="Your hubchat password reset code",
            text=f"Hello {user['display_name']},\n\nSomeone (we hope you) asked to reset your hubchat "
                 f"password. The code is {code}; it expires in {minutes} minutes. Using it signs you out "
                 f"everywhere.\n\nIf you did not ask, ignore this email: your password stays as it is.\n"))

    async def reset_password(self, email: str, code: str, password: str, client: str = "") -> None:
        """Set a new password with an emailed code; every session of the account ends."""
        settings = self.infra.settings
        await self.infra.limiter.hit(f"auth:client:{client}", settings.auth_client_rate_limit,
                                     settings.auth_rate_window_secs, "attempts from this address")
        await self.infra.limiter.hit(f"reset-code:{email}|{client}", settings.auth_rate_limit,
                                     settings.auth_rate_window_secs, "reset attempts")
        user = await self.infra.store[USERS].find_one({"email": email})
        invalid = ValidationFailed("code is wrong or expired", code="code_invalid")
        if user is None:
            raise invalid
        resets = self.infra.store[PASSWORD_RESETS]
        record = await resets.find_one_and_update(
            {"_id": user["_id"], "attempts_left": {"$gt": 0}, "expires_at": {"$gt": utcnow()}},
            {"$inc": {"attempts_left": -1}}, return_document=ReturnDocument.BEFORE)
        if record is None or record["digest"] != self.signer.digest("reset:" + user["_id"] + ":" + code):
            raise invalid
        if (await resets.delete_one({"_id": user["_id"], "digest": record["digest"]})).deleted_count == 0:
            raise invalid  # a concurrent request used this code
        password_hash = await self.hashing.hash_password(password)
        # The code came to the address, so it is verified too.
        await self.infra.store[USERS].update_one({"_id": user["_id"]},
                                                 {"$set": {"password_hash": password_hash, "verified": True}})
        await self.revoke_all_sessions(user["_id"])
        log.info("password reset", extra={"user_id": user["_id"]})
        self.infra.mailer.send_later(Email(
            to=(user["email"],), subject="Your hubchat password was changed",
            text=f"Hello {user['display_name']},\n\nYour hubchat password was just changed with a reset code, "
                 f"and every device was signed out.\n\nIf this was not you, reset it again at once and tell "
                 f"the Diaspora Cell.\n"))

    async def revoke_all_sessions(self, user_id: str) -> None:
        """End every session of the user and close their sockets on every node."""
        await self.infra.store[SESSIONS].update_many({"user_id": user_id, "revoked_at": None},
                                                     {"$set": {"revoked_at": utcnow()}})
        await self.infra.realtime.disconnect_user(user_id)

    # ------------------------------------------------------------ sessions
    async def login(self, email: str, password: str, client: str = "") -> dict[str, Any]:
        settings = self.infra.settings
        user = await self.infra.store[USERS].find_one({"email": email})
        await self._password_gate(email, client, user)
        if not await self.hashing.verify_password(user["password_hash"] if user else None, password) \
                or user is None:
            raise Unauthenticated("email or password is wrong", code="invalid_credentials")
        if user.get("disabled"):
            raise Forbidden("this account is disabled", code="account_disabled")
        if not user.get("verified"):
            raise Forbidden("verify your email first", code="email_unverified")
        session_id = new_id()
        refresh = new_refresh_token(session_id)
        now = utcnow()
        await self.infra.store[SESSIONS].insert_one({
            "_id": session_id, "user_id": user["_id"], "digest": self.signer.digest(refresh),
            "client": self._client_digest(client), "used_digests": [], "created_at": now, "refreshed_at": now,
            "revoked_at": None,
            "expires_at": now + dt.timedelta(seconds=settings.refresh_token_ttl_secs)})
        return self._token_pair(user, session_id, refresh)

    def _token_pair(self, user: dict[str, Any], session_id: str, refresh: str) -> dict[str, Any]:
        return {"access_token": self.signer.access_token(user["_id"], session_id, user["role"]),
                "refresh_token": refresh, "token_type": "Bearer",
                "expires_in": self.signer.access_ttl_secs, "user": own_user(user)}

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        session_id = session_of_refresh_token(refresh_token)
        sessions = self.infra.store[SESSIONS]
        digest = self.signer.digest(refresh_token)
        new_token = new_refresh_token(session_id)
        now = utcnow()
        new_digest = self.signer.digest(new_token)
        session = await sessions.find_one_and_update(
            {"_id": session_id, "digest": digest, "revoked_at": None, "expires_at": {"$gt": now}},
            {"$set": {"digest": new_digest, "previous_digest": digest, "refreshed_at": now, "rotated_at": now},
             "$push": {"used_digests": digest}},
            return_document=ReturnDocument.AFTER)
        if session is None:
            # The previous token, shortly after its rotation: rotate again instead of revoking; the
            # token handed out meanwhile (never seen by the client) becomes a used one.  The window
            # runs from that token's rotation (``rotated_at``), which a replay does not move.
            recent = await sessions.find_one(
                {"_id": session_id, "previous_digest": digest, "revoked_at": None, "expires_at": {"$gt": now},
                 "rotated_at": {"$gt": now - dt.timedelta(seconds=REFRESH_REUSE_GRACE_SECS)}})
            if recent is not None:
                session = await sessions.find_one_and_update(
                    {"_id": session_id, "digest": recent["digest"], "revoked_at": None},
                    {"$set": {"digest": new_digest, "refreshed_at": now}, "$push": {"used_digests": recent["digest"]}},
                    return_document=ReturnDocument.AFTER)
        if session is None:
            stale = await sessions.find_one({"_id": session_id, "used_digests": digest})
            if stale is not None and stale.get("revoked_at") is None:
                # An old refresh token came back: it was stolen or leaked. End the whole session.
                log.warning("refresh token reuse: session revoked", extra={"session_id": session_id})
                await self._revoke(session_id)
            raise Unauthenticated("refresh token invalid, expired or already used", code="refresh_invalid")
        user = await self.infra.store[USERS].find_one({"_id": session["user_id"]})
        if user is None or user.get("disabled"):
            raise Unauthenticated("account no longer active", code="refresh_invalid")
        return self._token_pair(user, session_id, new_token)

    async def logout(self, principal: Principal) -> None:
        await self._revoke(principal.session_id)

    async def _revoke(self, session_id: str) -> None:
        await self.infra.store[SESSIONS].update_one({"_id": session_id, "revoked_at": None},
                                                    {"$set": {"revoked_at": utcnow()}})
        await self.infra.realtime.disconnect_session(session_id)

    # ------------------------------------------------------------ authentication
    async def principal_from_token(self, token: Any) -> Principal:
        claims = self.signer.read_access_token(token)
        session = await self.infra.store[SESSIONS].find_one({"_id": claims.session_id},
                                                            {"revoked_at": 1, "user_id": 1})
        if session is None or session.get("revoked_at") is not None or session["user_id"] != claims.user_id:
            raise Unauthenticated("session has ended", code="session_revoked")
        user = await self.infra.store[USERS].find_one({"_id": claims.user_id})
        if user is None or user.get("disabled"):
            raise Unauthenticated("account no longer active", code="token_invalid")
        return Principal(user_id=user["_id"], role=user["role"], session_id=claims.session_id,
                         display_name=user["display_name"], language=user.get("language", "en"))

    async def live_sessions(self, session_ids: list[str]) -> set[str]:
        """Which of these sessions are neither revoked nor expired (Web Push drops the others'
        subscriptions)."""
        cursor = self.infra.store[SESSIONS].find(
            {"_id": {"$in": session_ids}, "revoked_at": None, "expires_at": {"$gt": self.infra.clock.now()}},
            {"_id": 1})
        return {doc["_id"] async for doc in cursor}

    async def revalidate(self, principal: Principal) -> Principal | None:
        """The Principal of this session as the store has it now; None when the session was
        revoked or the account disabled or removed (for sockets connected a while ago)."""
        session = await self.infra.store[SESSIONS].find_one({"_id": principal.session_id},
                                                            {"revoked_at": 1, "user_id": 1})
        if not _session_holds(session, principal):
            return None
        return _principal_now(principal, await self.infra.store[USERS].find_one({"_id": principal.user_id}))

    async def revalidate_many(self, principals: Sequence[Principal]) -> dict[tuple[str, str], Principal | None]:
        """:meth:`revalidate` for many sessions, in two reads per ``REVALIDATE_CHUNK`` of them:
        (session id, user id) -> the Principal now, or None."""
        answers: dict[tuple[str, str], Principal | None] = {}
        for start in range(0, len(principals), REVALIDATE_CHUNK):
            chunk = principals[start:start + REVALIDATE_CHUNK]
            cursor = self.infra.store[SESSIONS].find({"_id": {"$in": [p.session_id for p in chunk]}},
                                                     {"revoked_at": 1, "user_id": 1})
            sessions = {doc["_id"]: doc async for doc in cursor}
            users = await self.users_by_id([p.user_id for p in chunk])
            for principal in chunk:
                holds = _session_holds(sessions.get(principal.session_id), principal)
                user = users.get(principal.user_id)
                answers[principal.session_id, principal.user_id] = _principal_now(principal, user) if holds else None
        return answers

    async def authenticate_socket(self, auth: Any) -> Principal:
        if not isinstance(auth, dict) or set(auth) != {"token"}:
            raise Unauthenticated("connect with auth {\"token\": <access token>}", code="token_missing")
        return await self.principal_from_token(auth["token"])

    # ------------------------------------------------------------ users
    async def get_user(self, user_id: str) -> dict[str, Any]:
        user = await self.infra.store[USERS].find_one({"_id": user_id})
        if user is None:
            raise NotFound("no such user", code="user_not_found")
        return user

    async def users_by_id(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        cursor = self.infra.store[USERS].find({"_id": {"$in": list(set(user_ids))}})
        return {u["_id"]: u async for u in cursor}

    async def find_by_email(self, email: str) -> dict[str, Any] | None:
        """``{_id, email}`` of the account with this (normalised) email, or None."""
        user: dict[str, Any] | None = await self.infra.store[USERS].find_one({"email": email}, {"_id": 1, "email": 1})
        return user

    async def staff_ids(self) -> list[str]:
        """Every officer's and admin's id, disabled accounts included (a role, not a reachability)."""
        cursor = self.infra.store[USERS].find({"role": {"$in": list(STAFF_ROLES)}}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]

    async def active_staff(self, user_ids: Iterable[str]) -> set[str]:
        """Which of these users are officers or admins now, and not disabled."""
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return set()
        cursor = self.infra.store[USERS].find({"_id": {"$in": ids}}, {"role": 1, "disabled": 1})
        return {u["_id"] async for u in cursor if u.get("role") in STAFF_ROLES and not u.get("disabled")}

    async def emails_of(self, user_ids: Iterable[str]) -> list[str]:
        """The emails (lower case, sorted) of these users, disabled accounts left out."""
        ids = list(dict.fromkeys(user_ids))
        return await self._emails({"_id": {"$in": ids}}) if ids else []

    async def staff_emails(self) -> list[str]:
        """The emails (lower case, sorted) of every officer and admin not disabled."""
        return await self._emails({"role": {"$in": list(STAFF_ROLES)}})

    async def _emails(self, query: dict[str, Any]) -> list[str]:
        cursor = self.infra.store[USERS].find(query, {"email": 1, "disabled": 1})
        users: list[dict[str, Any]] = [u async for u in cursor]
        return sorted(str(u["email"]).lower() for u in users if u.get("email") and not u.get("disabled"))

    async def update_profile(self, principal: Principal, changes: ProfileUpdate) -> dict[str, Any]:
        update = changes.model_dump(exclude_none=True)
        if not update:
            return own_user(await self.get_user(principal.user_id))
        user = await self.infra.store[USERS].find_one_and_update(
            {"_id": principal.user_id}, {"$set": update}, return_document=ReturnDocument.AFTER)
        if user is None:
            raise NotFound("no such user", code="user_not_found")
        return own_user(user)

    async def set_sos_pins(self, principal: Principal, req: SosPinsRequest, client: str = "") -> dict[str, Any]:
        _check_pin_pair(req.sos_pin, req.duress_pin)
        user = await self.get_user(principal.user_id)
        await self._password_gate(user["email"], client, None)  # the login's limits, no exemption
        if not await self.hashing.verify_password(user["password_hash"], req.password):
            raise Forbidden("password is wrong", code="invalid_credentials")
        updated = await self.infra.store[USERS].find_one_and_update(
            {"_id": principal.user_id},
            {"$set": {"sos_pin_hash": await self.hashing.hash_pin(req.sos_pin),
                      "duress_pin_hash": await self.hashing.hash_pin(req.duress_pin)}},
            return_document=ReturnDocument.AFTER)
        if updated is None:
            raise NotFound("no such user", code="user_not_found")
        return own_user(updated)

    async def check_sos_pin(self, user_id: str, pin: str) -> PinCheck:
        """Which PIN this is. Both hashes are always verified so the answer takes the same time."""
        user = await self.get_user(user_id)
        is_cancel = await self.hashing.verify_pin(user.get("sos_pin_hash"), pin)
        is_duress = await self.hashing.verify_pin(user.get("duress_pin_hash"), pin)
        return "duress" if is_duress else "cancel" if is_cancel else "wrong"

    async def set_role(self, user_id: str, role: Role) -> dict[str, Any]:
        """Change an account's role (e.g. demote an officer).  Every socket of the user, on every
        node, is closed so that none keeps the role (or the rooms) it connected with."""
        if role not in ROLES:
            raise ValidationFailed("role must be member, officer or admin")
        user = await self.infra.store[USERS].find_one_and_update(
            {"_id": user_id}, {"$set": {"role": role}}, return_document=ReturnDocument.AFTER)
        if user is None:
            raise NotFound("no such user", code="user_not_found")
        await self.infra.realtime.disconnect_user(user_id)
        return own_user(user)

    async def set_disabled(self, email: str, disabled: bool) -> dict[str, Any]:
        """Disable (or enable) an account by email. Disabling ends every session and closes the
        user's sockets on every node (through the bus, so it works from the admin CLI too)."""
        user = await self.infra.store[USERS].find_one_and_update(
            {"email": email.strip().lower()}, {"$set": {"disabled": disabled}}, return_document=ReturnDocument.AFTER)
        if user is None:
            raise NotFound("no account with this email", code="user_not_found")
        if disabled:
            await self.revoke_all_sessions(user["_id"])
        log.info("account disabled" if disabled else "account enabled", extra={"user_id": user["_id"]})
        return own_user(user)

    async def create_staff(self, email: str, password: str, display_name: str, role: Role = "officer",
                           country: str = "IN", city: str = "Aizawl") -> dict[str, Any]:
        """Bootstrap a cell officer (or admin): verified at once, no email round trip."""
        if role not in ROLES or role == "member":
            raise ValidationFailed("role must be officer or admin")
        password_hash = await self.hashing.hash_password(password, shed=False)
        user = {"_id": new_id(), "email": email.strip().lower(), "password_hash": password_hash,
                "display_name": display_name, "language": "en", "country": country, "city": city,
                "phone": None, "role": role, "verified": True, "created_at": utcnow()}
        try:
            await self.infra.store[USERS].insert_one(user)
        except DuplicateKeyError:
            raise Conflict("an account with this email already exists", code="email_taken") from None
        return own_user(user)


def _session_holds(session: Mapping[str, Any] | None, principal: Principal) -> bool:
    return session is not None and session.get("revoked_at") is None and session["user_id"] == principal.user_id


def _principal_now(principal: Principal, user: Mapping[str, Any] | None) -> Principal | None:
    """The Principal of ``principal``'s session with the account as it is now (None: gone or disabled)."""
    if user is None or user.get("disabled"):
        return None
    return Principal(user_id=user["_id"], role=user["role"], session_id=principal.session_id,
                     display_name=user["display_name"], language=user.get("language", "en"))
