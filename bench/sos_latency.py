"""SOS dispatch latency: from a person's ``sos:trigger`` to ``sos:new`` at every officer and
nearby office bearer, alone and with the chat fan-out load of ``bench/fanout.py`` beside it.

What it measures (a benchmark, not a timed test):

* It starts, like ``bench/fanout.py`` (whose helpers it imports), an SMTP sink, the embedded
  nx-27017 MongoDB-wire server and ``python -m hubchat serve`` on free loopback ports, with
  ``HUBCHAT_SOS_T1_SECS=3600`` / ``HUBCHAT_SOS_T2_SECS=7200`` (no escalation step or email
  during the run), ``HUBCHAT_MESSAGE_RATE_LIMIT=0`` and ``HUBCHAT_AUTH_RATE_LIMIT=0``.
* Through the public API only it builds: ``--channels`` x ``--group-size`` chat users in
  approved associations (fanout.py's own setup; their associations have no gathering place);
  ``--officers`` Cell officers (``hubchat admin create-officer``), each with one socket, put on
  duty with ``duty:set {on_duty: true}``; ``--near`` approved associations with one gathering
  place 2-20 km from Delhi (28.61, 77.21), whose office bearer (the registering user) has one
  socket; ``--far`` approved associations in Bengaluru (~1700 km away) whose office bearers
  must *not* be told; and 2 x ``--persons`` people (plus one for a warm-up trigger), each with
  one socket.
* Phase A ("SOS alone"): ``--persons`` people each emit one ``sos:trigger`` (unique
  ``client_sos_id``, category, a location within 5 km of Delhi), spaced at ``--trigger-rate``
  per second (open loop: acks are not awaited).  Phase B: the same with other people (one
  person has at most one open alert, so nobody triggers twice) while fanout.py's open-loop
  ``message:send`` load runs at ``--chat-rate`` messages/s over all the chat channels, in the
  same hubchat and the same client process (the load starts ``--warmup-secs`` before the first
  trigger and goes on ``--tail-secs`` after the last one).
* For each trigger: the ack round trip (emit -> ack) and, for each officer and near office
  bearer, emit -> that client's first ``sos:new`` for the alert (``time.perf_counter()``; all
  clients live in this one process).  Also: the time until the last of them was told, missing
  receipts (never arrived: not there at the end of the run, at least ``--final-wait-secs`` after
  phase B's last trigger; a late receipt counts with its full latency), wrong receipts (``sos:new`` at
  a far office bearer, a chat user or a person), duplicates, error acks, the trigger sender's lag
  behind its schedule, and the CPU of the server, nx-27017, Redis and this process per phase.
* It prints Markdown and appends a dated section to ``bench/RESULTS.md`` (``--no-record``: not).

Everything is bounded (counts capped, a global deadline ``--max-minutes``); subprocesses are
stopped, this run's Redis keys deleted and the temporary directory removed at the end, also on
Ctrl-C, SIGTERM and errors.

Run:  ``.venv/bin/python bench/sos_latency.py [--quick] [--persons 40] [--chat-rate 100]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import random
import secrets
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import fanout  # noqa: E402  (bench/fanout.py: server start-up, users, chat load, reporting helpers)
from fanout import (  # noqa: E402
    Child,
    Client,
    Collector,
    CpuMeter,
    HubchatTarget,
    RunContext,
    SmtpSink,
    StepResult,
    fmt,
    infrastructure,
    load_now,
    log,
    machine_info,
    percentile,
    perf,
    probe_fanout,
    run_step,
)

DEFAULT_RESULTS = BENCH_DIR / "RESULTS.md"
DELHI = (28.61, 77.21)
BENGALURU = (12.97, 77.59)
CATEGORIES = ("medical", "violence", "exploitation", "detention", "stranded", "other")
KM_PER_DEG = 111.195


def offset_point(rng: random.Random, centre: tuple[float, float], min_km: float, max_km: float) -> tuple[float, float]:
    """A point min_km..max_km from centre in a random direction (flat-earth offset; checked by haversine)."""
    bearing = rng.uniform(0, 2 * math.pi)
    dist = rng.uniform(min_km, max_km)
    lat = centre[0] + dist * math.cos(bearing) / KM_PER_DEG
    lon = centre[1] + dist * math.sin(bearing) / (KM_PER_DEG * math.cos(math.radians(centre[0])))
    return round(lat, 6), round(lon, 6)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


# ====================================================================== bookkeeping
@dataclass
class Trigger:
    phase: str
    index: int
    person: Client
    client_sos_id: str
    due: float = 0.0
    t_emit: float = 0.0
    t_ack: float | None = None
    alert_id: str | None = None
    outcome: str | None = None
    error: str | None = None


@dataclass
class PhaseResult:
    name: str
    triggers: list[Trigger]
    ack_ms: list[float] = field(default_factory=list)
    officer_ms: list[float] = field(default_factory=list)
    bearer_ms: list[float] = field(default_factory=list)
    all_told_ms: list[float] = field(default_factory=list)
    expected_officer: int = 0
    expected_bearer: int = 0
    missing_officer: int = 0
    missing_bearer: int = 0
    missing_ack: int = 0
    ack_errors: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    wrong_far: int = 0
    wrong_other: int = 0
    duplicates: int = 0
    send_lag_p99_ms: float = float("nan")
    window_secs: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    chat: StepResult | None = None


class SosTarget(HubchatTarget):
    """fanout.py's hubchat target plus officers on duty, office bearers near and far, and people who trigger."""

    name = "hubchat"

    def __init__(self, ctx: RunContext):
        super().__init__(ctx)
        self.officers: list[Client] = []
        self.near: list[Client] = []
        self.far: list[Client] = []
        self.persons: dict[str, list[Client]] = {}
        self.chat_clients: list[Client] = []
        # alert id -> [(client, perf time)] for every sos:new received, by anyone
        self.receipts: dict[str, list[tuple[Client, float]]] = {}
        self.bad_sos_new = 0

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update({"HUBCHAT_SOS_T1_SECS": "3600", "HUBCHAT_SOS_T2_SECS": "7200"})
        return env

    async def start(self) -> None:
        await super().start()  # officer 0 (self.officer_email), then the server
        env = self.env()
        self.officer_emails = [self.officer_email]
        for k in range(1, self.ctx.args.officers):
            email = f"officer-{k}-{uuid.uuid4().hex[:8]}@bench.example.org"
            child = Child(f"create-officer-{k}", [sys.executable, "-m", "hubchat", "admin", "create-officer",
                                                 "--email", email, "--name", f"Bench Officer {k}"],
                          {**env, "HUBCHAT_OFFICER_PASSWORD": fanout.PASSWORD},
                          self.ctx.tmp / f"create-officer-{k}.log")
            rc = await child.run_to_end(60)
            if rc != 0:
                raise RuntimeError(f"create-officer {k} failed ({rc}):\n{child.tail()}")
            self.officer_emails.append(email)
        log(f"sos: {len(self.officer_emails)} officers created")

    # ---------------------------------------------------------------- sockets
    def watch(self, client: Client, role: str) -> None:
        client.role = role  # type: ignore[attr-defined]

        async def on_sos_new(data: Any = None) -> None:
            now = perf()
            alert_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(alert_id, str):
                self.bad_sos_new += 1
                return
            self.receipts.setdefault(alert_id, []).append((client, now))

        client.sio.on("sos:new", on_sos_new)

    async def connect_role(self, sessions: list[dict[str, Any]], role: str) -> list[Client]:
        clients = await self.connect_all(self.url, [{"token": s["access_token"]} for s in sessions])
        for c in clients:
            self.watch(c, role)
        return clients

    async def association(self, bearer: dict[str, Any], officer_token: str, label: str,
                          place: tuple[float, float], city: str) -> str:
        created = await self.api("POST", "/api/associations", bearer["access_token"], json={
            "name": f"SOS bench {self.ctx.run_id} {label}", "country": "IN", "city": city,
            "contact_email": bearer["email"], "my_position": "President",
            "gathering_places": [{"name": f"Hall {label}", "address": f"{label}, {city}", "lat": place[0],
                                  "lon": place[1], "schedule": "Sundays 10:00"}]})
        association_id = str(created["association"]["id"])
        await self.api("POST", f"/api/associations/{association_id}/approve", officer_token, json={})
        return association_id

    async def setup(self) -> None:
        await super().setup()  # chat users, their associations, sockets and channels
        self.chat_clients = list(self.clients)
        for c in self.chat_clients:
            self.watch(c, "chat")
        a = self.ctx.args
        rng = random.Random(a.seed)
        sem = asyncio.Semaphore(8)

        async def user(g: str, i: int) -> dict[str, Any]:
            async with sem:
                return await self.new_user(g, i)  # type: ignore[arg-type]

        officer_sessions = [await self.login(e) for e in self.officer_emails]
        officer_token = officer_sessions[0]["access_token"]
        near_users = await asyncio.gather(*(user("near", i) for i in range(a.near)))
        far_users = await asyncio.gather(*(user("far", i) for i in range(a.far)))
        person_users = {phase: await asyncio.gather(*(user(f"p{phase.lower()}", i) for i in range(n)))
                        for phase, n in (("W", 1), ("A", a.persons), ("B", a.persons))}
        log(f"sos: {a.near + a.far + 1 + 2 * a.persons} more users registered, verified and logged in")
        self.places: dict[str, tuple[float, float]] = {}
        for i, u in enumerate(near_users):
            place = offset_point(rng, DELHI, 2, 20)
            assert haversine_km(*DELHI, *place) < 20.5
            await self.association(u, officer_token, f"near {i}", place, "Delhi")
        for i, u in enumerate(far_users):
            place = offset_point(rng, BENGALURU, 0, 10)
            assert haversine_km(*DELHI, *place) > 1000
            await self.association(u, officer_token, f"far {i}", place, "Bengaluru")
        log(f"sos: {a.near} associations near Delhi and {a.far} in Bengaluru approved")
        self.officers = await self.connect_role(officer_sessions, "officer")
        self.near = await self.connect_role(near_users, "near")
        self.far = await self.connect_role(far_users, "far")
        for phase, users in person_users.items():
            self.persons[phase] = await self.connect_role(users, "person")
        for c in self.officers:
            ack = await c.sio.call("duty:set", {"on_duty": True}, timeout=20)
            if not isinstance(ack, dict) or not (ack.get("duty") or {}).get("on_duty"):
                raise RuntimeError(f"duty:set refused: {ack}")
        log(f"sos: {len(self.officers)} officers on duty; {len(self.clients)} sockets in all")


# ====================================================================== one phase of triggers
def payload(trig: Trigger, rng: random.Random) -> dict[str, Any]:
    lat, lon = offset_point(rng, DELHI, 0, 5)
    return {"client_sos_id": trig.client_sos_id, "category": CATEGORIES[trig.index % len(CATEGORIES)],
            "lat": lat, "lon": lon, "accuracy_m": 25.0, "battery_pct": 80}


def on_ack(trig: Trigger, data: Any = None) -> None:
    trig.t_ack = perf()
    if isinstance(data, dict) and isinstance(data.get("alert"), dict):
        trig.alert_id = str(data["alert"].get("id"))
        trig.outcome = str(data.get("outcome"))
    elif isinstance(data, dict) and "error" in data:
        err = data["error"]
        trig.error = str(err.get("code", "error")) if isinstance(err, dict) else str(err)
    else:
        trig.error = f"unexpected ack {data!r}"[:80]


def expected_done(target: SosTarget, triggers: list[Trigger]) -> bool:
    want = {id(c) for c in target.officers + target.near}
    for t in triggers:
        if t.t_ack is None:
            return False
        if t.alert_id is None:
            continue
        got = {id(c) for c, _ in target.receipts.get(t.alert_id, [])}
        if not want <= got:
            return False
    return True


async def run_triggers(ctx: RunContext, target: SosTarget, phase: str, persons: list[Client]) -> PhaseResult:
    a = ctx.args
    rng = random.Random(f"{a.seed}-{phase}")
    triggers = [Trigger(phase, i, p, f"bench-{ctx.run_id}-{phase}-{i:04d}") for i, p in enumerate(persons)]
    res = PhaseResult(phase, triggers)
    cpu_snap = ctx.cpu.snapshot()
    t0 = perf() + 0.05
    for trig in triggers:
        trig.due = t0 + trig.index / a.trigger_rate
        delay = trig.due - perf()
        if delay > 0:
            await asyncio.sleep(delay)
        body = payload(trig, rng)
        trig.t_emit = perf()
        await trig.person.sio.emit("sos:trigger", body, callback=functools.partial(on_ack, trig))
    end = perf()
    while perf() < end + a.straggler_secs and not expected_done(target, triggers):
        await asyncio.sleep(0.02)
    res.window_secs = perf() - t0
    res.cpu = ctx.cpu.since(cpu_snap)
    return res  # summarised at the end of the run (late receipts count with their latency)


async def settle(target: SosTarget, triggers: list[Trigger], wait_secs: float, grace_secs: float) -> None:
    """Wait (bounded) until every expected receipt is in, then a little longer for wrong ones."""
    deadline = perf() + wait_secs
    while perf() < deadline and not expected_done(target, triggers):
        await asyncio.sleep(0.05)
    await asyncio.sleep(grace_secs)


def summarise(target: SosTarget, res: PhaseResult) -> None:
    officers, near = target.officers, target.near
    lags = sorted(t.t_emit - t.due for t in res.triggers)
    res.send_lag_p99_ms = max(0.0, percentile(lags, 99) * 1000)
    expected = {id(c) for c in officers + near}
    far = {id(c) for c in target.far}
    for trig in res.triggers:
        if trig.t_ack is None:
            res.missing_ack += 1
        elif trig.error:
            res.ack_errors[trig.error] = res.ack_errors.get(trig.error, 0) + 1
        else:
            res.ack_ms.append((trig.t_ack - trig.t_emit) * 1000)
            res.outcomes[trig.outcome or "?"] = res.outcomes.get(trig.outcome or "?", 0) + 1
        res.expected_officer += len(officers)
        res.expected_bearer += len(near)
        got = target.receipts.get(trig.alert_id or "", []) if trig.alert_id else []
        first: dict[int, float] = {}
        for client, t in got:
            key = id(client)
            if key in first:
                res.duplicates += 1
                continue
            first[key] = t
            if key not in expected:
                if key in far:
                    res.wrong_far += 1
                else:
                    res.wrong_other += 1
        for group, out in ((officers, res.officer_ms), (near, res.bearer_ms)):
            for c in group:
                t = first.get(id(c))
                if t is None:
                    if group is officers:
                        res.missing_officer += 1
                    else:
                        res.missing_bearer += 1
                else:
                    out.append((t - trig.t_emit) * 1000)
        if expected and all(k in first for k in expected):
            res.all_told_ms.append((max(first[k] for k in expected) - trig.t_emit) * 1000)


# ====================================================================== report
def stats(values: list[float]) -> tuple[str, str, str]:
    v = sorted(values)
    return fmt(percentile(v, 50)), fmt(percentile(v, 99)), fmt(v[-1] if v else float("nan"))


PHASE_TITLES = {"A": "A: SOS alone", "B": "B: with chat load"}


def table(phases: list[PhaseResult], officers: int, near: int) -> str:
    lines = ["| phase | measure | samples | p50 ms | p99 ms | max ms | missing |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in phases:
        title = PHASE_TITLES.get(r.name, r.name)
        errs = r.missing_ack + sum(r.ack_errors.values())
        rows = [
            ("trigger ack (emit → ack)", r.ack_ms, f"{errs}" + (f" ({r.ack_errors})" if r.ack_errors else "")),
            (f"officer `sos:new` ({officers} per trigger)", r.officer_ms, str(r.missing_officer)),
            (f"near office bearer `sos:new` ({near} per trigger)", r.bearer_ms, str(r.missing_bearer)),
            (f"last of the {officers + near} told (per trigger)", r.all_told_ms,
             str(len(r.triggers) - len(r.all_told_ms))),
        ]
        for measure, values, missing in rows:
            p50, p99, mx = stats(values)
            lines.append(f"| {title} | {measure} | {len(values)} | {p50} | {p99} | {mx} | {missing} |")
    return "\n".join(lines)


def details(phases: list[PhaseResult], far: int) -> list[str]:
    out = []
    for r in phases:
        title = PHASE_TITLES.get(r.name, r.name)
        cpu = ", ".join(f"{k} {v:.0f}%" for k, v in r.cpu.items())
        out.append(f"- {title}: {len(r.triggers)} triggers (outcomes {r.outcomes or '-'}); wrong receipts: "
                   f"**{r.wrong_far}** at the {far} far (Bengaluru) office bearers, **{r.wrong_other}** at anyone else "
                   f"(chat users, people); duplicates {r.duplicates}; "
                   f"trigger send lag p99 {fmt(r.send_lag_p99_ms)} ms; "
                   f"window {r.window_secs:.1f} s; CPU (% of one core over the window) {cpu}.")
        if r.chat is not None:
            s = r.chat
            out.append(f"  Chat load beside it: {s.rate} msg/s for {s.duration:g} s, {s.sent} sent, "
                       f"{s.deliveries_per_s:.0f} deliveries/s, delivery p50 {fmt(s.p50_ms)} / p99 {fmt(s.p99_ms)} / "
                       f"max {fmt(s.max_ms)} ms, lost {s.lost}, error acks {s.ack_errors or 0}, "
                       f"sender lag p99 {fmt(s.send_lag_p99_ms)} ms.")
            out.append(f"  Chat sends answered (stored or refused) within 1 s: **{s.answered_1s} of {s.sent}**; "
                       f"unanswered at the end {s.unanswered}; ack p99 {fmt(s.ack_p99_ms)} ms; stored {s.ack_ok}; "
                       f"deliveries missing of acknowledged messages: **{s.acked_lost}**.")
    return out


def report(ctx: RunContext, target: SosTarget, phases: list[PhaseResult], info: dict[str, str], command: str,
           setup_secs: float, warm: PhaseResult | None) -> str:
    a = ctx.args
    chat_users = a.channels * a.group_size
    parts = [
        f"## {info['date']} — SOS dispatch latency: {a.officers} officers on duty, {a.near} near office bearers "
        f"({a.far} far), {a.persons} triggers per phase",
        "",
        f"- Machine: {info['nproc']} CPUs ({info['model']}), {info['mem']} RAM (free -g total), Linux "
        f"{info['kernel']}; load average {info['load']} at start, {load_now()} at the end",
        f"- Software: Python {info['python']}; {info['versions']}; Redis {ctx.redis_version} on 127.0.0.1",
        f"- Command: `{command}`",
        f"- Setup ({setup_secs:.0f} s, public API only): {a.officers} officers (`hubchat admin create-officer`), "
        f"one socket each, on duty (`duty:set`); {a.near} approved associations with a gathering place 2-20 km "
        f"from Delhi ({DELHI[0]}, {DELHI[1]}), their office bearer with one socket; {a.far} approved associations in "
        f"Bengaluru (~1700 km) whose office bearers must not be told; {chat_users} chat users in {a.channels} "
        f"association channels of {a.group_size} (fanout.py's setup, no gathering places); 1 + 2 x {a.persons} "
        f"people with one socket each. hubchat: HUBCHAT_SOS_T1_SECS=3600, HUBCHAT_SOS_T2_SECS=7200 (no escalation "
        f"or email during the run), sos_dispatch_radius_km 50 (default), HUBCHAT_MESSAGE_RATE_LIMIT=0, "
        f"HUBCHAT_AUTH_RATE_LIMIT=0, log level WARNING, embedded nx-27017, Redis manager on the same Redis.",
        f"- Load: each person emits one `sos:trigger` (unique `client_sos_id`, location within 5 km of Delhi), "
        f"{a.trigger_rate:g} per second, open loop. Phase A: nothing else running (the chat sockets idle). "
        f"Phase B: other people, while fanout.py's open-loop chat load sends {a.chat_rate} msg/s over the "
        f"{a.channels} channels (x{target.per_message} deliveries each; starts {a.warmup_secs:g} s before the first "
        f"trigger, ends {a.tail_secs:g} s after the last). {a.chat_rate} msg/s is below hubchat's chat saturation "
        f"point on this machine (highest rate with p99 < 100 ms: 100-200 msg/s, lost deliveries at 300; fan-out "
        f"runs of 2026-11-25 above). One warm-up trigger before phase A is not counted"
        + (f" (it reached {warm.expected_officer - warm.missing_officer}/{warm.expected_officer} officers and "
           f"{warm.expected_bearer - warm.missing_bearer}/{warm.expected_bearer} near bearers, "
           f"{warm.wrong_far + warm.wrong_other} wrong)" if warm else "") + ".",
        f"- Latency = from just before the person's client emits `sos:trigger` to the recipient client's first "
        f"`sos:new` for that alert (officers: full view through `cell:feed`; office bearers: limited view in "
        f"their user room), `time.perf_counter()` in the one client process. Ack = emit → `sos:trigger` ack "
        f"(the alert is stored before the ack; dispatch runs after it). A late receipt counts with its full "
        f"latency; missing = never received (not there at the end of the run, at least {a.final_wait_secs:g} s "
        f"after phase B's last trigger). Percentiles nearest-rank.",
        "",
        table(phases, a.officers, a.near),
        "",
        *details(phases, a.far),
        "",
        f"Caveats: all {len(target.clients)} clients (people, officers, bearers and the chat load's senders and "
        "receivers) run in this one Python process, so its event loop's delays are part of every number, most "
        "of all in phase B where it also sends and receives the chat load; the embedded nx-27017 store (SQLite "
        "behind the MongoDB wire protocol) is not a real MongoDB; client, server, store and Redis share the "
        f"machine's {info['nproc']} cores with other users' work (\"others\" in the CPU figures); triggers are "
        f"spaced ({a.trigger_rate:g}/s), not a burst, and each recipient has one socket; a single run: p99 and "
        f"max of {a.persons} triggers are close to the largest samples and noisy.",
        "",
    ]
    return "\n".join(parts)


# ====================================================================== main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="SOS trigger → sos:new latency, alone and beside the chat fan-out load.")
    p.add_argument("--officers", type=int, default=5, help="officers on duty, one socket each (default 5)")
    p.add_argument("--near", type=int, default=5, help="associations near Delhi, one office bearer socket each (5)")
    p.add_argument("--far", type=int, default=2, help="associations in Bengaluru, must not be told (2)")
    p.add_argument("--persons", type=int, default=None, help="triggers per phase, one per person (40; --quick 10)")
    p.add_argument("--trigger-rate", type=float, default=4.0, help="triggers per second (default 4)")
    p.add_argument("--channels", type=int, default=None, help="chat channels for the load (10; --quick 3)")
    p.add_argument("--group-size", type=int, default=20, help="clients per chat channel (20)")
    p.add_argument("--chat-rate", type=int, default=None, help="chat messages/s in phase B (100; --quick 50)")
    p.add_argument("--warmup-secs", type=float, default=2.0, help="chat load alone before phase B's first trigger")
    p.add_argument("--tail-secs", type=float, default=1.0, help="chat load after phase B's last trigger")
    p.add_argument("--straggler-secs", type=float, default=5.0,
                   help="after a phase's last trigger, wait (at most) this long for its receipts before going on")
    p.add_argument("--final-wait-secs", type=float, default=20.0,
                   help="after phase B, wait at most this long for every receipt still due; then it is missing")
    p.add_argument("--grace-secs", type=float, default=1.0, help="then wait this long for wrong receipts")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for hubchat serve (repeatable), e.g. HUBCHAT_CHAT_MAX_INFLIGHT=4")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--results", default=str(DEFAULT_RESULTS), help="Markdown file to append to")
    p.add_argument("--no-record", action="store_true", help="print only; do not append to the results file")
    p.add_argument("--max-minutes", type=float, default=15.0, help="hard limit for the whole run")
    p.add_argument("--quick", action="store_true",
                   help="about a minute: 10 triggers per phase, 3 chat channels, 50 msg/s")
    p.add_argument("--keep-tmp", metavar="DIR", default=None, help="keep server logs and data in DIR")
    args = p.parse_args(argv)
    args.persons = args.persons or (10 if args.quick else 40)
    args.channels = args.channels or (3 if args.quick else 10)
    args.chat_rate = args.chat_rate or (50 if args.quick else 100)
    if not 1 <= args.officers <= 50 or not 1 <= args.near <= 20 or not 0 <= args.far <= 10:
        p.error("--officers 1..50, --near 1..20, --far 0..10")
    if not 1 <= args.persons <= 500:
        p.error("--persons: 1..500")
    if not 0.1 <= args.trigger_rate <= 50:
        p.error("--trigger-rate: 0.1..50 per second")
    if not 1 <= args.chat_rate <= 2000:
        p.error("--chat-rate: 1..2000")
    if args.channels < 1 or args.group_size < 2 or args.channels * args.group_size > 1000:
        p.error("--channels/--group-size: at least 1 x 2 and at most 1000 clients")
    for name in ("warmup_secs", "tail_secs", "straggler_secs", "final_wait_secs", "grace_secs"):
        if not 0 <= getattr(args, name) <= 60:
            p.error(f"--{name.replace('_', '-')}: 0..60")
    # what fanout.py's infrastructure() and run_step() read
    args.target_list = ["hubchat"]
    args.body_pad = 40
    args.p99_ms = 100.0
    args.duration_secs = args.warmup_secs + args.persons / args.trigger_rate + args.tail_secs
    if args.duration_secs > 180:
        p.error("phase B would run the chat load for more than 180 s: fewer --persons or a higher --trigger-rate")
    return args


async def run(ctx: RunContext, target: SosTarget) -> tuple[list[PhaseResult], float, PhaseResult | None]:
    a = ctx.args
    await target.start()
    ctx.cpu.pids["server"] = target.server_pid  # type: ignore[assignment]
    if ctx.mongo_pid:
        ctx.cpu.pids["mongo"] = ctx.mongo_pid
    t_setup = perf()
    await target.setup()
    target.per_message = await probe_fanout(ctx, target)  # type: ignore[attr-defined]
    setup_secs = perf() - t_setup
    log(f"ready in {setup_secs:.1f} s; each chat message reaches {target.per_message} clients")  # type: ignore[attr-defined]

    warm = await run_triggers(ctx, target, "W", target.persons["W"])
    await settle(target, warm.triggers, a.final_wait_secs, a.grace_secs)
    summarise(target, warm)
    log(f"warm-up trigger: officers told {warm.expected_officer - warm.missing_officer}/{warm.expected_officer}, "
        f"near bearers {warm.expected_bearer - warm.missing_bearer}/{warm.expected_bearer}, wrong "
        f"{warm.wrong_far + warm.wrong_other}, ack {warm.ack_errors or 'ok'}")
    if warm.missing_officer == warm.expected_officer and warm.missing_bearer == warm.expected_bearer:
        log("warning: the warm-up trigger reached nobody; see the server log (--keep-tmp)")
    await asyncio.sleep(1.0)

    phases = []
    log(f"phase A: {a.persons} triggers at {a.trigger_rate:g}/s, nothing else running")
    phases.append(await run_triggers(ctx, target, "A", target.persons["A"]))
    log(f"phase A: done in {phases[-1].window_secs:.1f} s")
    await asyncio.sleep(2.0)
    if perf() > ctx.deadline:
        raise RuntimeError("global deadline reached before phase B")

    log(f"phase B: the same beside the chat load at {a.chat_rate} msg/s for {a.duration_secs:.1f} s")
    chat = asyncio.create_task(run_step(ctx, target, a.chat_rate, target.per_message))  # type: ignore[attr-defined]
    try:
        await asyncio.sleep(a.warmup_secs)
        res_b = await run_triggers(ctx, target, "B", target.persons["B"])
        res_b.chat = await chat
    finally:
        if not chat.done():
            chat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await chat
    phases.append(res_b)
    await settle(target, [t for r in phases for t in r.triggers], a.final_wait_secs, a.grace_secs)
    for r in phases:
        summarise(target, r)
        log_phase(r)
    dead = [c for c in target.clients if c.disconnected]
    if dead:
        log(f"warning: {len(dead)} clients were disconnected during the run")
    return phases, setup_secs, warm


def log_phase(r: PhaseResult) -> None:
    log(f"phase {r.name}: ack p50/p99/max {'/'.join(stats(r.ack_ms))} ms; officers {'/'.join(stats(r.officer_ms))} ms "
        f"(missing {r.missing_officer}); near bearers {'/'.join(stats(r.bearer_ms))} ms (missing {r.missing_bearer}); "
        f"wrong far {r.wrong_far} other {r.wrong_other}; cpu {', '.join(f'{k} {v:.0f}%' for k, v in r.cpu.items())}")
    if r.chat is not None:
        s = r.chat
        log(f"phase {r.name} chat: sent {s.sent} p50 {fmt(s.p50_ms)} p99 {fmt(s.p99_ms)} ms lost {s.lost}; "
            f"answered in 1 s {s.answered_1s}, unanswered {s.unanswered}, errors {s.ack_errors or 0}, "
            f"acked lost {s.acked_lost}")


async def amain(args: argparse.Namespace, command: str) -> int:
    fanout.cancel_on_signals("stopping")
    info = machine_info()
    run_id = uuid.uuid4().hex[:8]
    text = ""
    with tempfile.TemporaryDirectory(prefix="hubchat-sos-bench-") as tmp_dir:
        tmp = args.keep_tmp or tmp_dir
        if args.keep_tmp:
            Path(tmp).mkdir(parents=True, exist_ok=True)
            log(f"server logs and data under {tmp}")
        ctx = RunContext(args=args, run_id=run_id, prefix=f"bench-{run_id}:", redis_url=args.redis_url,
                         tmp=Path(tmp), collector=Collector(), cpu=CpuMeter(), smtp=SmtpSink(),
                         jwt_secret=secrets.token_urlsafe(36)[:48])
        ctx.deadline = perf() + args.max_minutes * 60
        async with asyncio.timeout(args.max_minutes * 60 + 60), infrastructure(ctx):
            target = SosTarget(ctx)
            try:
                phases, setup_secs, warm = await run(ctx, target)
                text = report(ctx, target, phases, info, command, setup_secs, warm)
            finally:
                log("stopping")
                await target.stop()
                ctx.cpu.pids.pop("server", None)
                ctx.cpu.pids.pop("mongo", None)
    print(text)
    if not args.no_record:
        path = Path(args.results)
        with path.open("a") as fh:
            fh.write("\n" + text)
        log(f"appended to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return fanout.run_main(amain, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
