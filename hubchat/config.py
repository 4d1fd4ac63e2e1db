"""One immutable Settings object, built once from environment variables and an optional TOML file.

Precedence: built-in default < config file < environment variable.  Every setting is named
``HUBCHAT_<FIELD>`` in the environment and ``<field>`` in the file.  Errors name the bad key.
Secrets (``jwt_secret``, ``smtp_password``, ``ops_token``, passwords in URLs) never appear in ``repr`` or logs.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from hubchat.errors import ConfigError

ENV_PREFIX = "HUBCHAT_"
SECRET_FIELDS = frozenset({"jwt_secret", "smtp_password", "ops_token", "pin_pepper", "profile_keys",
                           "vapid_private_key"})


@dataclasses.dataclass(frozen=True)
class Settings:
    # --- HTTP / Socket.IO
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    node_id: str = ""  # empty: a random id per process
    max_payload_bytes: int = 64 * 1024
    cors_allowed_origins: str = ""  # comma separated; empty: same origin only
    # --- ops listener: /metrics and detailed /healthz, /readyz (the public port says only ok/ready)
    ops_host: str = "127.0.0.1"  # not loopback: ops_token is required
    ops_port: int = 9090  # 0: no ops listener
    ops_token: str = ""  # set: every ops request needs "Authorization: Bearer <ops_token>"
    # --- MongoDB: empty URI starts the embedded nx-27017 server under data_dir
    mongo_uri: str = ""
    mongo_db: str = "hubchat"
    # how long a request waits for an unreachable store before it answers `unavailable`
    mongo_select_timeout_ms: int = 1500
    data_dir: str = "./var"
    # --- Redis: empty URL means single node with in-process bus, presence and rate limits
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "hubchat:"
    # Pub/sub channels ignore the Redis database number: they are named under redis_prefix plus
    # this deployment name, or "db<N>" of redis_url when it is empty (see channel_prefix).
    deployment: str = ""
    # --- tokens
    jwt_secret: str = ""  # empty: generated once and kept in data_dir/secret.key
    access_token_ttl_secs: int = 900
    refresh_token_ttl_secs: int = 30 * 24 * 3600
    verification_code_ttl_secs: int = 1800
    verification_max_attempts: int = 5
    unverified_account_ttl_secs: int = 24 * 3600  # an unverified account older than this gives way to a new one
    pin_pepper: str = ""  # empty: generated once and kept in data_dir/pin-pepper.key
    # --- email
    smtp_host: str = ""  # empty: no SMTP; emails are kept in the outbox (`hubchat mail list`)
    smtp_port: int = 1025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_secs: float = 10.0
    mail_from: str = "hubchat <no-reply@hubchat.local>"
    mail_retry_attempts: int = 4
    mail_retry_base_delay_secs: float = 1.0
    mail_outbox_max_attempts: int = 12  # durable outbox: attempts before an email is marked failed
    # --- limits
    message_rate_limit: int = 30  # messages per user per window, across nodes
    message_rate_window_secs: int = 10
    auth_rate_limit: int = 10  # password/code attempts per (email, client address) per window
    auth_rate_window_secs: int = 60
    auth_client_rate_limit: int = 30  # password/code attempts per client address per window, all emails
    auth_email_rate_limit: int = 50  # attempts per email from addresses it never signed in from
    auth_email_rate_window_secs: int = 900
    register_rate_limit: int = 20  # registrations per client address per window
    register_rate_window_secs: int = 3600
    password_hash_concurrency: int = 0  # argon2 hashes at once; 0: half the CPUs (at least 1)
    typing_throttle_secs: float = 2.0
    # --- overload: chat is shed before anything can slow an SOS (hubchat/overload.py)
    chat_max_inflight: int = 4  # chat sends between admission and fan-out, per node
    chat_admission_wait_ms: float = 500.0  # a send waits at most this long for a slot, then `overloaded`
    overload_lag_ms: float = 50.0  # event-loop lag above which sends are refused (light work at half)
    gc_freeze: bool = True  # `hubchat serve` moves what start-up allocated out of the collector's way
    max_sockets_per_user: int = 10  # concurrent Socket.IO connections of one user, all nodes; 0: no cap
    max_sockets_per_address: int = 50  # concurrent connections from one client address (IPv6: /64); 0: no cap
    trusted_proxy_header: str = ""  # e.g. X-Forwarded-For, set by your reverse proxy; empty: the TCP peer
    presence_ttl_secs: int = 60
    # --- SOS
    sos_dispatch_radius_km: float = 50.0
    sos_escalation_radius_km: float = 300.0  # second dispatch round at T1; the third covers the whole country
    sos_t1_secs: float = 60.0  # not acknowledged by then: email on-duty officers, widen the radius
    sos_t2_secs: float = 300.0  # not acknowledged by then: email the escalation list
    sos_escalation_emails: str = ""  # comma separated: the Cell's escalation list
    sos_location_min_interval_secs: float = 1.0  # live location updates accepted per alert
    sos_scheduler_interval_secs: float = 1.0  # how often each node looks for due escalation steps
    sos_approx_area_km: float = 5.0  # grid size of the approximate area shown before acknowledgement
    sos_retrigger_min_interval_secs: float = 10.0  # retriggers of one open alert stored and re-broadcast
    sos_notes_per_minute: int = 20  # sos:note per user (every node together)
    sos_actions_per_minute: int = 30  # sos:transition per user (every node together)
    sos_email_budget_per_hour: int = 12  # SOS emails per recipient; beyond: coalesced into a digest
    sos_email_digest_secs: float = 300.0  # at most one digest per recipient this often
    sos_duty_grace_secs: float = 60.0  # an on-duty officer with no socket this long is not reachable live
    # --- check-in timers (hubchat/checkin)
    checkin_min_secs: float = 300.0  # the shortest deadline a person may set (5 minutes)
    checkin_max_secs: float = 72 * 3600.0  # the longest (72 hours)
    checkin_scan_interval_secs: float = 1.0  # how often each node looks for due timers
    checkin_sets_per_hour: int = 30  # checkin:set and checkin:location per person (every node together)
    # --- translation (Argos packages run with CTranslate2)
    translate_packages_dir: str = ""  # empty: {data_dir}/argos-packages
    translate_phrasebook_path: str = ""  # empty: config/phrasebook/lus-en.tsv of the source tree
    translate_batch_max_sentences: int = 32
    translate_batch_window_ms: float = 15.0
    translate_queue_max: int = 1000  # texts waiting for the model; beyond it chat is shed to backfill
    translate_max_decoding_length: int = 256
    translate_beam_size: int = 1
    translate_threads: int = 1  # CTranslate2 intra_threads
    translate_compute_type: str = "default"
    translate_cache_ttl_secs: int = 30 * 24 * 3600
    translate_cache_max_entries: int = 200_000
    translate_detect_override_confidence: float = 0.98
    translate_models_rescan_secs: float = 60.0  # 0: never
    translate_memory_fuzzy_threshold: float = 88.0  # rapidfuzz ratio (0..100) for a "similar sentence"
    translate_eval_pairs_path: str = ""  # reference pairs (TSV) `models install` scores a package on; empty: none
    translate_min_chrf: float = 0.0  # `models install` refuses a package scoring below this chrF (0: no floor)
    # --- web client
    map_tile_url: str = ""  # e.g. https://tile.example.org/{z}/{x}/{y}.png; empty: markers on a plain map
    map_tile_attribution: str = ""  # shown on the map, as tile servers require
    cell_phone: str = ""  # the Cell's emergency number (E.164, e.g. +913892334567): the SOS screen offers tel:/sms:
    # --- safety profiles and trusted contacts (hubchat/safety)
    # secret: "kid:base64url-32-byte-key" entries, comma separated, the current key first; empty:
    # generated once into data_dir/profile-key.key (see docs/security.md, key rotation)
    profile_keys: str = ""
    trusted_contacts_max: int = 5  # trusted contacts per person
    trusted_contact_confirmations_per_hour: int = 10  # confirmation emails a person may have sent
    trusted_contact_confirmations_per_address_day: int = 3  # confirmation emails one address receives
    trusted_contact_confirm_ttl_secs: int = 7 * 24 * 3600  # how long a confirmation link works
    safety_requests_per_minute: int = 30  # safety profile / trusted contact requests per user
    # --- cases and the Cell's reports
    cases_writes_per_minute: int = 60  # case changes (notes, status, referrals …) per officer, every node together
    cases_reads_per_minute: int = 240  # case reads (list, detail) per user
    cases_referrals_per_hour: int = 30  # referral emails per officer
    cases_reminder_interval_secs: float = 1.0  # how often each node looks for due follow-up reminders
    reports_min_count: int = 5  # k: counts 1..k-1 are shown as "<k", percentiles need n >= k
    reports_max_months: int = 24  # the longest date range one report may cover
    # --- Web Push (hubchat/push): VAPID keys and the push services the server may POST to
    vapid_private_key: str = ""  # PEM or base64url P-256 scalar; empty: generated once into data_dir/vapid-private.pem
    vapid_subject: str = ""  # mailto: or https: contact for push services; empty: mailto: of mail_from's address
    # Subscriptions must be https and on one of these hosts (or a subdomain): the server never
    # POSTs to an address a client picked.  Empty: Web Push subscriptions are refused.
    push_service_hosts: str = ("fcm.googleapis.com,updates.push.services.mozilla.com,push.services.mozilla.com,"
                               "notify.windows.com,push.apple.com")
    push_extra_origins: str = ""  # exact origins also allowed (e.g. http://127.0.0.1:8999 in tests); comma separated
    push_max_subscriptions: int = 10  # per user; the oldest is replaced by a new one
    push_max_attempts: int = 10  # push outbox: attempts before a push is marked failed
    push_ttl_secs: int = 3600  # how long a push service keeps a chat push for an offline device
    push_sos_ttl_secs: int = 86400
    # --- logs
    log_level: str = "INFO"
    log_format: str = "json"  # json | text

    def __repr__(self) -> str:
        shown = {
            f.name: ("***" if f.name in SECRET_FIELDS and getattr(self, f.name) else getattr(self, f.name))
            for f in dataclasses.fields(self)
        }
        shown["redis_url"] = redact_url(self.redis_url)
        shown["mongo_uri"] = redact_url(self.mongo_uri)
        return f"Settings({shown})"

    @property
    def redis_db(self) -> int:
        """The database number of ``redis_url`` (``/N`` or ``?db=N``; 0 when absent)."""
        parts = urlsplit(self.redis_url)
        for key, value in parse_qsl(parts.query):
            if key == "db" and value.isdigit():
                return int(value)
        path = parts.path.strip("/")
        return int(path) if parts.scheme != "unix" and path.isdigit() else 0

    @property
    def channel_prefix(self) -> str:
        """Prefix of this deployment's Redis pub/sub channels (bus topics, Socket.IO fan-out).

        Redis pub/sub is server-wide, not per database: two deployments on one server with
        different database numbers would otherwise hear each other.
        """
        return f"{self.redis_prefix}{self.deployment or f'db{self.redis_db}'}:"

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def escalation_emails(self) -> list[str]:
        return [e.strip() for e in self.sos_escalation_emails.split(",") if e.strip()]

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _cast(name: str, raw: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name}: expected a boolean, got {raw!r}")
    try:
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: expected {kind.__name__}, got {raw!r}") from exc


def _field_types() -> dict[str, type]:
    casts = {"str": str, "int": int, "float": float, "bool": bool}
    return {f.name: casts[str(f.type)] for f in dataclasses.fields(Settings)}


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from defaults, then the TOML file, then the environment, then overrides."""
    env = os.environ if environ is None else environ
    types = _field_types()
    values: dict[str, Any] = {}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        for key, raw in data.get("hubchat", data).items():
            if key not in types:
                raise ConfigError(f"{path}: unknown setting {key!r}")
            values[key] = _cast(key, raw, types[key])
    for name, kind in types.items():
        env_name = ENV_PREFIX + name.upper()
        if env_name in env:
            values[name] = _cast(env_name, env[env_name], kind)
    for key, raw in overrides.items():
        if key not in types:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = raw
    settings = Settings(**values)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if settings.log_format not in {"json", "text"}:
        raise ConfigError("log_format: expected 'json' or 'text'")
    if settings.jwt_secret and len(settings.jwt_secret) < 32:
        raise ConfigError("jwt_secret: use at least 32 characters (HS256 needs a 256-bit key)")
    for name in ("access_token_ttl_secs", "refresh_token_ttl_secs", "message_rate_limit", "port", "ops_port",
                 "max_sockets_per_user", "max_sockets_per_address", "sos_duty_grace_secs", "checkin_min_secs",
                 "cases_writes_per_minute", "cases_reads_per_minute", "cases_referrals_per_hour"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{name}: must not be negative")
    if settings.checkin_max_secs < settings.checkin_min_secs:
        raise ConfigError("checkin_max_secs: must not be below checkin_min_secs")
    if settings.reports_min_count < 2:
        raise ConfigError("reports_min_count: must be at least 2 (1 would show every count)")
    if not 1 <= settings.reports_max_months <= 120:
        raise ConfigError("reports_max_months: must be between 1 and 120")
    if settings.mongo_select_timeout_ms < 1:
        raise ConfigError("mongo_select_timeout_ms: must be at least 1")
    if settings.deployment and not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", settings.deployment):
        raise ConfigError("deployment: use 1-64 letters, digits, '.', '_' or '-'")
    if settings.cell_phone and not re.fullmatch(r"\+[1-9][0-9]{6,14}", settings.cell_phone):
        raise ConfigError("cell_phone: use the international E.164 form, e.g. +913892334567")
    if settings.ops_port and not settings.ops_token and not _is_loopback(settings.ops_host):
        raise ConfigError("ops_host: the ops listener serves metrics; bind it to loopback or set ops_token")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``: safe for logs and error messages."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unparsable URL>"


def resolve_jwt_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept beside the embedded data."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = settings.data_path / "secret.key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:  # 0600 from the first byte; O_EXCL: a node starting at the same moment keeps its key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret)
    return secret
