// A small event bus (socket events, store changes, session changes) and localStorage helpers.

const listeners = new Map();

export const bus = {
  on(name, fn) {
    if (!listeners.has(name)) listeners.set(name, new Set());
    listeners.get(name).add(fn);
    return () => listeners.get(name)?.delete(fn);
  },
  emit(name, data) {
    for (const fn of Array.from(listeners.get(name) || [])) {
      try {
        fn(data);
      } catch (err) {
        console.error(`listener of ${name} failed`, err);
      }
    }
  },
};

/** Collects unsubscribe functions so a view can drop every listener it added at once. */
export class Subscriptions {
  constructor() { this.offs = []; }
  on(name, fn) { this.offs.push(bus.on(name, fn)); return this; }
  add(off) { this.offs.push(off); return this; }
  close() { for (const off of this.offs.splice(0)) off(); }
}

export const store = {
  get(key, fallback = null) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
      return true;
    } catch {
      return false; // quota or private mode: the app keeps working from memory
    }
  },
  remove(key) {
    try { localStorage.removeItem(key); } catch { /* ignore */ }
  },
  removePrefix(prefix) {
    try {
      for (const key of Object.keys(localStorage)) if (key.startsWith(prefix)) localStorage.removeItem(key);
    } catch { /* ignore */ }
  },
};
