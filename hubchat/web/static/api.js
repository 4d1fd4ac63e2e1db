// HTTP to /api with the bearer token, refresh-token rotation and the server's JSON errors.
//
// Tokens live in localStorage so a reload (or a phone killing the tab) keeps the person signed in
// and an SOS screen survives.  Trade-off: any script running on this origin could read them (XSS).
// We reduce that risk rather than remove it: no third-party script, no inline script, a strict
// Content-Security-Policy (script-src 'self'), every user text inserted as text, never as HTML,
// short-lived access tokens (15 min) and refresh tokens that rotate on every use (a stolen,
// already-used refresh token revokes the whole session on the server).

import { bus, store } from "./state.js";

const SESSION_KEY = "hubchat.session";
const REFRESH_MARGIN_MS = 60_000;

export class ApiError extends Error {
  constructor(status, code, message, data = {}) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.data = data;
  }
  get temporary() {
    return this.status === 0 || this.status >= 500 || this.code === "rate_limited" || this.code === "timeout"
      || this.code === "offline" || Boolean(this.data && this.data.temporary);
  }
}

/** The newest tokens, in IndexedDB (one record), for the cross-tab refresh hand-over. Failures
 * (private mode, no IndexedDB) only lose the hand-over, never the session. */
const handover = (() => {
  let db = null;
  const open = () => {
    db ||= new Promise((resolve, reject) => {
      const req = indexedDB.open("hubchat", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("kv");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return db;
  };
  const tx = async (mode, work) => {
    const conn = await open();
    return new Promise((resolve, reject) => {
      const t = conn.transaction("kv", mode);
      const result = work(t.objectStore("kv"));
      t.oncomplete = () => resolve(result.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  };
  return {
    get: () => tx("readonly", (kv) => kv.get("session")).catch(() => null),
    put: (value) => tx("readwrite", (kv) => kv.put(value, "session")).catch(() => null),
  };
})();

let current = store.get(SESSION_KEY);

export const session = {
  get access() { return current?.access_token || null; },
  get refresh() { return current?.refresh_token || null; },
  get user() { return current?.user || null; },
  get signedIn() { return Boolean(current?.access_token); },
  get isOfficer() { return ["officer", "admin"].includes(current?.user?.role); },
  save(tokens) {
    const ttl = (tokens.expires_in || 900) * 1000;
    current = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_at: Date.now() + ttl,
      margin: Math.min(REFRESH_MARGIN_MS, ttl / 4), // refresh this long before expiry
      issued_at: Date.now(),
      user: tokens.user || current?.user || null,
    };
    store.set(SESSION_KEY, current);
    handover.put(current);
  },
  setUser(user) {
    if (!current) return;
    current = { ...current, user };
    store.set(SESSION_KEY, current);
    bus.emit("user:changed", user);
  },
  clear() {
    current = null;
    store.remove(SESSION_KEY);
    handover.put(null);
  },
  expiresSoon() {
    return Boolean(current) && current.expires_at - Date.now() < (current.margin ?? REFRESH_MARGIN_MS);
  },
};

// Another tab logged in or out: follow it.
window.addEventListener("storage", (event) => {
  if (event.key !== SESSION_KEY) return;
  const was = current?.user?.id;
  current = store.get(SESSION_KEY);
  if (!current) bus.emit("session:ended", { reason: "other_tab" });
  else if (current.user?.id !== was) bus.emit("session:started", current.user);
});

let refreshing = null;

/** Exchanges the refresh token for new tokens, once at a time (concurrent callers share it). */
export function refreshTokens() {
  if (!refreshing) {
    // Presenting a refresh token that was already rotated revokes the whole session, so two tabs
    // must never refresh with the same one: the Web Locks API lets one tab at a time refresh, and
    // a tab that waited adopts the tokens the other one stored instead of refreshing again.  The
    // hand-over goes through IndexedDB, which is consistent across tabs; localStorage is not (a
    // tab in another renderer process may still read the old token for a moment).
    const held = session.refresh;
    const run = async () => {
      const latest = await handover.get();
      if (latest?.refresh_token && latest.refresh_token !== held && latest.issued_at >= (current?.issued_at || 0)) {
        current = latest;
        store.set(SESSION_KEY, current);
        return latest;
      }
      const token = session.refresh;
      if (!token) throw new ApiError(401, "refresh_invalid", "not signed in");
      const tokens = await request("/api/auth/refresh", { method: "POST", body: { refresh_token: token }, auth: false });
      session.save(tokens);
      await handover.put(current);
      return tokens;
    };
    refreshing = (navigator.locks ? navigator.locks.request("hubchat-refresh", run) : run()).catch((err) => {
      if (err.status === 401) {
        session.clear();
        bus.emit("session:ended", { reason: err.code });
      }
      throw err;
    }).finally(() => { refreshing = null; });
  }
  return refreshing;
}

export async function freshToken() {
  if (session.signedIn && session.expiresSoon()) {
    try { await refreshTokens(); } catch (err) { if (err.status === 401) throw err; }
  }
  return session.access;
}

async function request(path, { method = "GET", body, auth = true, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal, credentials: "omit" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (auth && session.access) init.headers.Authorization = `Bearer ${session.access}`;
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "offline", "no connection");
  }
  if (res.status === 204) return null;
  const isJson = (res.headers.get("Content-Type") || "").includes("json");
  const data = isJson ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(res.status, error.code || `http_${res.status}`, error.message || res.statusText, error);
  }
  return data;
}

/** api("/api/me"), api("/api/me", {method: "PATCH", body: {...}}) — refreshes and retries once on 401. */
export async function api(path, options = {}) {
  const auth = options.auth !== false;
  if (auth) await freshToken().catch(() => {});
  try {
    return await request(path, options);
  } catch (err) {
    if (auth && err.status === 401 && ["token_expired", "token_invalid"].includes(err.code) && session.refresh) {
      await refreshTokens();
      return request(path, options);
    }
    if (auth && err.status === 401 && err.code === "session_revoked") {
      session.clear();
      bus.emit("session:ended", { reason: err.code });
    }
    throw err;
  }
}
