// The person's side of SOS: raise an alert (socket first, POST /api/sos with the same
// client_sos_id when the socket is down or does not answer), follow its status, share live
// location while it is open (at most one update a second; one every few seconds over HTTP while
// the socket is down), add a note, cancel with the PIN.  Location, note and cancel go over the
// socket when it is up and over POST /api/sos/location|note|cancel (the same body) when it is down
// or does not answer; location and note carry a client_id kept across retries, so a retry over
// either path is stored once.  On every reconnect the alert is read again (officers may have
// acted meanwhile); while the socket is down a refresh reads it over HTTP.
//
// The pending trigger and the alert id are kept in localStorage: a reload, a crash or a phone
// killing the tab keeps retrying the same SOS (idempotent on the server) and shows the same screen.
// A cancel with the duress PIN is answered by the server exactly like a real cancel; this code
// cannot tell them apart and treats them the same (location sharing stops in both cases).

import { ApiError, api } from "./api.js";
import { call, connection } from "./socket.js";
import { bus, store } from "./state.js";
import { randomId } from "./dom.js";

const SOCKET_TIMEOUT_MS = 4000;
const RETRY_MS = 2500;
const LOCATION_MIN_INTERVAL_MS = 1100; // the server accepts one update a second per alert
const LOCATION_HTTP_INTERVAL_MS = 5000; // over the HTTP fallback (a poor network): fewer requests
const FIX_MAX_AGE_MS = 120_000;
const OPEN = ["open", "acknowledged", "responding"];

let key = null;
let state = { pending: null, alert: null, via: null };
let watchId = null;
let lastSentAt = 0;
let latestPoint = null;
let locationTimer = null;
let retryTimer = null;
let delivering = false;
let locationInFlight = false;
let fix = null; // the freshest browser position, warmed up when the SOS screen opens
let locationState = "idle"; // idle | waiting | sharing | denied | unavailable
const offs = [];

export const sos = {
  get pending() { return state.pending; },
  get alert() { return state.alert; },
  get via() { return state.via; },
  get isOpen() { return Boolean(state.alert && OPEN.includes(state.alert.status)); },
  get active() { return Boolean(state.pending) || this.isOpen; },
  get locationState() { return locationState; },
  get fix() { return fix; },
};

function changed() {
  store.set(key, { pending: state.pending, alert: state.alert, via: state.via });
  bus.emit("sos:changed", sos);
}

export function startSos(me) {
  stopSos();
  key = `hubchat.sos.${me.id}`;
  state = { pending: null, alert: null, via: null, ...(store.get(key, {}) || {}) };
  // A point may have been accepted just before a reload: the first one waits an interval (and
  // gives the socket its moment to connect before the HTTP fallback is used).
  lastSentAt = Date.now();
  offs.push(bus.on("socket:ready", () => { refresh().catch(() => {}); }));
  offs.push(bus.on("sos:updated", (alert) => {
    if (alert.view === "person" && state.alert && alert.id === state.alert.id) apply(alert);
  }));
  if (state.pending) deliver();
  else if (sos.isOpen) startWatch();
  bus.emit("sos:changed", sos);
}

export function stopSos() {
  for (const off of offs.splice(0)) off();
  stopWatch();
  clearTimeout(retryTimer);
  key = null;
  state = { pending: null, alert: null, via: null };
}

export function forgetSos(userId) { store.remove(`hubchat.sos.${userId}`); }

function apply(alert) {
  const before = state.alert?.status;
  if (state.alert && state.alert.id === alert.id && (alert.version || 0) < (state.alert.version || 0)) return;
  state.alert = alert;
  if (OPEN.includes(alert.status)) startWatch();
  else stopWatch();
  changed();
  if (before !== alert.status) bus.emit("sos:status", alert);
}

/** After a reconnect: deliver a pending SOS, or read the alert again (updates missed while
 * offline); with nothing stored here (another device, cleared storage), look for an open alert. */
async function refresh() {
  if (state.pending) return deliver();
  if (state.alert) {
    if (!OPEN.includes(state.alert.status)) return;
    const id = state.alert.id;
    const res = await viaSocketOrHttp("sos:get", { alert_id: id }, () => api(`/api/sos/alerts/${id}`));
    apply(res.alert);
  } else {
    const res = await viaSocketOrHttp("sos:mine", undefined, () => api("/api/sos/mine"));
    if (res.alert) apply(res.alert);
  }
  flushLocation();
}

/** The socket when it is up and answers; otherwise (down, no answer in time, a temporary
 * error) ``http()`` — for writes, the same body to the route that runs the same rules. */
async function viaSocketOrHttp(event, payload, http) {
  if (connection.online) {
    try {
      return await call(event, payload, SOCKET_TIMEOUT_MS);
    } catch (err) {
      if (!(err instanceof ApiError) || !err.temporary || err.code === "rate_limited") throw err;
    }
  }
  return http();
}

function send(event, path, body) {
  return viaSocketOrHttp(event, body, () => api(path, { method: "POST", body }));
}

// ------------------------------------------------------------------ location
/** Starts looking for a position as soon as the SOS screen opens, so the alert can carry it. */
export function warmUpLocation() {
  if (!("geolocation" in navigator)) { locationState = "unavailable"; return; }
  if (fix && Date.now() - fix.at < FIX_MAX_AGE_MS) return;
  if (locationState === "idle") locationState = "waiting";
  navigator.geolocation.getCurrentPosition(
    (pos) => { fix = point(pos); if (locationState !== "sharing") locationState = "ready"; bus.emit("sos:changed", sos); },
    (err) => { locationState = err.code === 1 ? "denied" : "unavailable"; bus.emit("sos:changed", sos); },
    { enableHighAccuracy: true, maximumAge: 60_000, timeout: 15_000 });
}

function point(pos) {
  return { lat: pos.coords.latitude, lon: pos.coords.longitude,
    accuracy_m: Math.min(Math.max(pos.coords.accuracy || 0, 0), 100_000), at: Date.now() };
}

function startWatch() {
  if (watchId !== null || !("geolocation" in navigator)) return;
  watchId = navigator.geolocation.watchPosition(
    (pos) => {
      fix = point(pos);
      locationState = "sharing";
      latestPoint = fix;
      flushLocation();
      bus.emit("sos:changed", sos);
    },
    (err) => { locationState = err.code === 1 ? "denied" : "unavailable"; bus.emit("sos:changed", sos); },
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 30_000 });
}

function stopWatch() {
  if (watchId !== null && "geolocation" in navigator) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  latestPoint = null;
  clearTimeout(locationTimer);
  if (locationState === "sharing") locationState = "idle";
}

function flushLocation() {
  clearTimeout(locationTimer);
  if (!latestPoint || !sos.isOpen || locationInFlight) return;
  const interval = connection.online ? LOCATION_MIN_INTERVAL_MS : LOCATION_HTTP_INTERVAL_MS;
  const wait = interval - (Date.now() - lastSentAt);
  if (wait > 0) {
    locationTimer = setTimeout(flushLocation, wait);
    return;
  }
  const p = latestPoint;
  latestPoint = null;
  lastSentAt = Date.now();
  locationInFlight = true;
  // One body per point, kept for its retries: the client_id makes a retry over either path a replay.
  const ready = p.body?.alert_id === state.alert.id ? Promise.resolve(p.body) : batteryPct().then((battery) => {
    const body = { alert_id: state.alert.id, lat: p.lat, lon: p.lon, accuracy_m: p.accuracy_m,
      client_id: randomId("loc-") };
    if (battery !== null) body.battery_pct = battery;
    return body;
  });
  ready.then((body) => {
    p.body = body;
    return send("sos:location", "/api/sos/location", body);
  }).catch((err) => {
    if (err.code === "alert_closed") refresh().catch(() => {});
    else if (err.temporary && !latestPoint) latestPoint = p; // try again with the next tick
  }).finally(() => {
    locationInFlight = false;
    if (latestPoint) flushLocation();
  });
}

async function batteryPct() {
  try {
    if (!navigator.getBattery) return null;
    const battery = await navigator.getBattery();
    return Math.round(battery.level * 100);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ raising
export async function trigger({ category = "other", note = "" } = {}) {
  if (state.pending) return deliver();
  const body = { client_sos_id: randomId("sos-"), category };
  if (fix && Date.now() - fix.at < FIX_MAX_AGE_MS) {
    body.lat = fix.lat;
    body.lon = fix.lon;
    body.accuracy_m = fix.accuracy_m;
  }
  if (note) body.note = note.slice(0, 500);
  const battery = await batteryPct();
  if (battery !== null) body.battery_pct = battery;
  state = { pending: { body, since: new Date().toISOString(), attempts: 0, error: null }, alert: null, via: null };
  changed();
  return deliver();
}

/** Tries the socket, then HTTP, with the very same body, until one answers. */
async function deliver() {
  if (delivering || !state.pending) return;
  delivering = true;
  clearTimeout(retryTimer);
  const pending = state.pending;
  try {
    let res = null;
    let via = null;
    if (connection.online) {
      try {
        res = await call("sos:trigger", pending.body, SOCKET_TIMEOUT_MS);
        via = "socket";
      } catch (err) {
        if (!(err instanceof ApiError) || !err.temporary) throw err;
      }
    }
    if (!res) {
      res = await api("/api/sos", { method: "POST", body: pending.body });
      via = "http";
    }
    state = { pending: null, alert: null, via };
    apply(res.alert);
    if (latestPoint === null && fix) latestPoint = fix;
    flushLocation();
  } catch (err) {
    pending.attempts += 1;
    pending.error = err.code || "failed";
    if (err instanceof ApiError && !err.temporary && err.status !== 401) {
      // Refused for good (e.g. invalid): start over with a new id on the next press.
      state = { pending: null, alert: null, via: null, error: err.code };
    } else {
      retryTimer = setTimeout(() => deliver(), RETRY_MS);
    }
    changed();
  } finally {
    delivering = false;
  }
}

// ------------------------------------------------------------------ after
export async function cancelAlert(pin) {
  if (!state.alert) return null;
  const id = state.alert.id;
  let ack;
  try {
    ack = await send("sos:cancel", "/api/sos/cancel", { alert_id: id, pin });
  } catch (err) {
    // The cancel went through but its answer was lost (a retry is alert_closed): show the alert as it is.
    if (err.code === "alert_closed") { await refreshClosed(id); return state.alert; }
    throw err;
  }
  apply(ack.alert);
  return ack.alert;
}

async function refreshClosed(id) {
  const res = await viaSocketOrHttp("sos:get", { alert_id: id }, () => api(`/api/sos/alerts/${id}`));
  apply(res.alert);
}

/** A note to the responders; the same client_id on every retry (socket or HTTP) stores it once. */
export async function addNote(text, clientId = randomId("note-")) {
  if (!state.alert) return null;
  const ack = await send("sos:note", "/api/sos/note", { alert_id: state.alert.id, body: text, client_id: clientId });
  return ack.event;
}

export function dismiss() {
  if (sos.isOpen) return;
  stopWatch();
  state = { pending: null, alert: null, via: null };
  changed();
}
