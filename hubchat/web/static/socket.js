// The one Socket.IO connection: authenticates with the current access token on every (re)connect,
// reconnects by itself (with backoff), refreshes an expired token, and announces "socket:ready" on
// every connect so the stores catch up (sync, outbox, SOS, officer feed).  Every server event is
// re-emitted on the bus under its own name.

import { io } from "./vendor/socket.io/socket.io.esm.min.js";
import { ApiError, freshToken, refreshTokens, session } from "./api.js";
import { bus } from "./state.js";

let socket = null;
let state = "offline"; // offline | connecting | online
let connects = 0;
let retryTimer = null;

export const connection = {
  get state() { return state; },
  get online() { return state === "online"; },
  get socket() { return socket; },
};

function setState(next) {
  if (state === next) return;
  state = next;
  bus.emit("connection", state);
}

export function connect() {
  if (socket || !session.signedIn) return;
  setState("connecting");
  socket = io({
    // A function, so every reconnect presents the token current at that moment.
    auth: (cb) => { freshToken().catch(() => null).then(() => cb({ token: session.access || "" })); },
    transports: ["websocket"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.3,
    timeout: 10_000,
  });
  socket.on("connect", () => {
    connects += 1;
    setState("online");
    bus.emit("socket:ready", { first: connects === 1 });
  });
  socket.on("disconnect", (reason) => {
    setState(session.signedIn ? "connecting" : "offline");
    if (reason === "io server disconnect") {
      // The server closed us (logout elsewhere, session revoked): only a refresh tells which.
      refreshTokens().then(() => socket?.connect()).catch(() => {});
    }
  });
  socket.on("connect_error", (err) => {
    const code = err?.data?.code;
    if (code === "token_expired" || code === "token_invalid") {
      refreshTokens().then(() => retry(0)).catch(() => {});
    } else if (code === "session_revoked" || code === "token_missing") {
      if (session.refresh) refreshTokens().then(() => retry(0)).catch(() => {});
      else bus.emit("session:ended", { reason: code });
    } else if (socket && !socket.active) {
      retry(2000); // refused by the server for another reason: try again later
    }
    setState("connecting");
  });
  socket.onAny((event, data) => bus.emit(event, data));
}

// The browser says the network is back (wifi ↔ mobile data, out of a tunnel): start a fresh
// attempt now instead of waiting for a stuck one to time out or for the backoff to run down.
window.addEventListener("online", () => {
  if (socket && !socket.connected) {
    socket.disconnect();
    socket.connect();
  }
});

function retry(ms) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => { if (socket && !socket.connected) socket.connect(); }, ms);
}

export function disconnect() {
  clearTimeout(retryTimer);
  if (socket) {
    socket.offAny();
    socket.removeAllListeners();
    socket.disconnect();
  }
  socket = null;
  connects = 0;
  setState("offline");
}

/** Emits with an acknowledgement; resolves to the ack, rejects with ApiError (code "offline",
 * "timeout", or the server's error code). */
export async function call(event, payload, timeoutMs = 10_000) {
  if (!socket || !socket.connected) throw new ApiError(0, "offline", "not connected");
  let ack;
  try {
    const timed = socket.timeout(timeoutMs);
    ack = payload === undefined ? await timed.emitWithAck(event) : await timed.emitWithAck(event, payload);
  } catch {
    throw new ApiError(0, "timeout", `${event}: no answer`);
  }
  if (ack && ack.error) {
    const e = ack.error;
    throw new ApiError(statusOf(e.code), e.code, e.message, e);
  }
  return ack;
}

function statusOf(code) {
  if (code === "rate_limited") return 429;
  if (code === "unavailable" || code === "internal") return 503;
  if (code === "invalid_payload") return 400;
  return 409;
}

// Debug handle for operators (and the browser tests): state of the connection, nothing secret.
window.hubchat = Object.assign(window.hubchat || {}, { connection });
