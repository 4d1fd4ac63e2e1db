// The server's public client settings (GET /config.json): the map's tile source and the Cell's
// emergency number.  The last copy is kept in localStorage, so a screen opened offline (above all
// the SOS screen) still has the Cell's number.

import { store } from "./state.js";

const KEY = "hubchat.config";
const EMPTY = { tile_url: "", tile_attribution: "", cell_phone: "" };

let loading = null;

/** The stored copy at once (or the empty one). */
export function cachedConfig() {
  return { ...EMPTY, ...(store.get(KEY, {}) || {}) };
}

/** The server's copy when it answers (and kept), else the stored one. */
export function loadConfig() {
  loading ||= fetch("/config.json", { credentials: "omit", cache: "no-store" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
    .then((config) => { store.set(KEY, config); return { ...EMPTY, ...config }; })
    .catch(() => { loading = null; return cachedConfig(); });
  return loading;
}
