// Chat state: channels, a window of messages per channel, the outbox, receipts, typing, presence.
//
// Catch-up without duplicates:
// * messages are keyed by seq (one per seq), live events and sync results merge into the same map;
// * each channel keeps a sync cursor (syncSeq, version) that only moves over ranges the server
//   confirmed (history pages, sync answers, or a live message directly after the cursor), so a
//   message missed while a later one arrived live is fetched on the next sync;
// * cursors and the newest messages are kept in localStorage, so a reload shows the conversation
//   at once and asks the server only for what is new;
// * outgoing messages stay in the outbox (memory + localStorage) with their client_msg_id until the
//   server acks them; a resend after a reconnect uses the same client_msg_id, which the server
//   answers with the stored message instead of storing it twice.

import { ApiError, session } from "./api.js";
import { call, connection } from "./socket.js";
import { bus, store } from "./state.js";
import { randomId } from "./dom.js";

const CACHE_PER_CHANNEL = 60;
const PAGE = 50;
const SEND_TIMEOUT_MS = 10_000;

let user = null;
let key = null;
const channels = new Map(); // id -> Channel view (with unread)
const windows = new Map(); // id -> {messages: Map(seq -> msg), syncSeq, version, hasOlder, loaded}
let outbox = []; // [{client_msg_id, channel_id, body, state: queued|sending|failed, error, created}]
const receipts = new Map(); // channel id -> Map(user id -> seq)
const typing = new Map(); // channel id -> Map(user id -> {name, until})
const presence = new Map(); // user id -> bool
const members = new Map(); // channel id -> [PublicUser]
let channelsLoaded = false;
let openId = null;
let flushing = false;
let flushTimer = null;
let persistTimer = null;
const offs = [];

export const chat = {
  get channels() {
    return Array.from(channels.values()).sort((a, b) => (b.unread > 0) - (a.unread > 0)
      || kindRank(a.kind) - kindRank(b.kind) || (a.name || "").localeCompare(b.name || ""));
  },
  get loaded() { return channelsLoaded; },
  channel: (id) => channels.get(id) || null,
  window: (id) => windows.get(id) || null,
  messages(id) {
    const w = windows.get(id);
    return w ? Array.from(w.messages.values()).sort((a, b) => a.seq - b.seq) : [];
  },
  pending: (id) => outbox.filter((m) => m.channel_id === id),
  receipts: (id) => receipts.get(id) || new Map(),
  typing(id) {
    const now = Date.now();
    return Array.from((typing.get(id) || new Map()).entries()).filter(([, v]) => v.until > now).map(([, v]) => v.name);
  },
  members: (id) => members.get(id) || [],
  online: (userId) => presence.get(userId) === true,
  get me() { return user; },
};

function kindRank(kind) {
  return { association: 0, cell: 1, inter: 2, dm: 3 }[kind] ?? 4;
}

function changed(channelId = null) {
  bus.emit("chat:changed", { channelId });
  persistSoon();
}

// ------------------------------------------------------------------ persistence
function persistSoon() {
  clearTimeout(persistTimer);
  persistTimer = setTimeout(persist, 300);
}

function persist() {
  if (!key) return;
  const cache = {};
  for (const [id, w] of windows) {
    const list = Array.from(w.messages.values()).sort((a, b) => a.seq - b.seq);
    // Only a suffix that ends at the cursor is a valid cache (older pages reload on scroll).
    const kept = list.filter((m) => m.seq <= w.syncSeq).slice(-CACHE_PER_CHANNEL);
    cache[id] = { syncSeq: w.syncSeq, version: w.version, hasOlder: w.hasOlder || list.length > kept.length,
      messages: kept };
  }
  store.set(`${key}.cache`, cache);
  store.set(`${key}.outbox`, outbox.map(({ client_msg_id, channel_id, body, created }) => (
    { client_msg_id, channel_id, body, created })));
  store.set(`${key}.channels`, Array.from(channels.values()));
}

function restore() {
  const cache = store.get(`${key}.cache`, {});
  for (const [id, c] of Object.entries(cache || {})) {
    const w = newWindow();
    for (const m of c.messages || []) w.messages.set(m.seq, m);
    w.syncSeq = c.syncSeq || 0;
    w.version = c.version || 0;
    w.hasOlder = Boolean(c.hasOlder);
    w.loaded = true;
    w.fromCache = true;
    windows.set(id, w);
  }
  outbox = (store.get(`${key}.outbox`, []) || []).map((m) => ({ ...m, state: "queued", error: null }));
  for (const c of store.get(`${key}.channels`, []) || []) channels.set(c.id, c);
}

function newWindow() {
  return { messages: new Map(), syncSeq: 0, version: 0, hasOlder: false, loaded: false };
}

// ------------------------------------------------------------------ lifecycle
export function startChat(me) {
  stopChat();
  user = me;
  key = `hubchat.chat.${me.id}`;
  restore();
  const on = (name, fn) => offs.push(bus.on(name, fn));
  on("socket:ready", () => { catchUp().catch((err) => console.warn("catch-up failed", err)); });
  on("message:new", onMessage);
  on("message:updated", onUpdated);
  on("message:translated", onTranslation);
  on("message:translation_corrected", onTranslation);
  on("receipt:updated", onReceipt);
  on("typing", onTyping);
  on("presence:updated", ({ user_id, online }) => { presence.set(user_id, online); changed(null); });
  on("presence:batch", ({ updates }) => {
    for (const { user_id, online } of updates || []) presence.set(user_id, online);
    changed(null);
  });
  on("channel:added", ({ channel }) => { upsertChannel(channel); changed(null); });
  on("channel:updated", ({ channel }) => { upsertChannel(channel); changed(channel.id); });
  on("channel:removed", ({ channel_id }) => { channels.delete(channel_id); windows.delete(channel_id); changed(null); });
  if (connection.online) catchUp().catch(() => {});
}

export function stopChat() {
  for (const off of offs.splice(0)) off();
  channels.clear(); windows.clear(); receipts.clear(); typing.clear(); presence.clear(); members.clear();
  outbox = []; channelsLoaded = false; openId = null; user = null; key = null;
  clearTimeout(flushTimer); clearTimeout(persistTimer);
}

export function forgetChat(userId) {
  store.removePrefix(`hubchat.chat.${userId}`);
}

function upsertChannel(channel) {
  const old = channels.get(channel.id) || {};
  const merged = { ...old, ...channel };
  if (channel.read_seq === undefined && old.read_seq !== undefined) {
    merged.read_seq = old.read_seq;
    merged.unread = Math.max(0, (merged.last_seq || 0) - old.read_seq);
  }
  channels.set(channel.id, merged);
}

/** After every (re)connect: channel list, sync of every window we hold, then the outbox. */
async function catchUp() {
  try {
    const list = await call("channel:list");
    const ids = new Set(list.channels.map((c) => c.id));
    for (const id of Array.from(channels.keys())) if (!ids.has(id)) { channels.delete(id); windows.delete(id); }
    for (const c of list.channels) upsertChannel(c);
    channelsLoaded = true;
    if (openId && channels.has(openId)) channels.get(openId).unread = 0;
    changed(null);
    const held = Array.from(windows.keys()).filter((id) => channels.has(id));
    if (held.length) await syncChannels(held);
    if (openId && channels.has(openId) && !windows.get(openId)?.loaded) await loadLatest(openId);
    await refreshPresence();
    if (openId) markRead(openId);
  } finally {
    flushOutbox(); // whatever failed above, waiting messages go out now
  }
}

async function syncChannels(ids) {
  // One answer carries a bounded number of messages: channels it left out (has_more) are asked
  // again until every channel was answered.
  let pending = Array.from(new Set(ids));
  while (pending.length) {
    const batch = pending.slice(0, 200).filter((id) => windows.has(id));
    const rest = pending.slice(200);
    if (!batch.length) { pending = rest; continue; }
    const req = batch.map((id) => {
      const w = windows.get(id);
      return { channel_id: id, last_seq: w.syncSeq, last_version: w.version };
    });
    const res = await call("sync", { channels: req }, 20_000);
    for (const r of res.channels) applySync(r);
    const answered = new Set(res.channels.map((r) => r.channel_id));
    const left = res.has_more ? batch.filter((id) => !answered.has(id)) : [];
    if (left.length === batch.length) break; // no progress: never loop forever
    pending = [...left, ...rest];
  }
}

function applySync(r) {
  const w = windows.get(r.channel_id);
  if (!w || r.error) return;
  if (r.has_more) {
    // Far behind: drop the stale window and start again from the newest page.
    windows.delete(r.channel_id);
    if (r.channel_id === openId) loadLatest(r.channel_id).catch(() => {});
    changed(r.channel_id);
    return;
  }
  for (const m of r.messages) put(w, m);
  for (const m of r.updates || []) put(w, m, true);
  if (r.messages.length) w.syncSeq = Math.max(w.syncSeq, r.messages[r.messages.length - 1].seq);
  w.syncSeq = Math.max(w.syncSeq, Math.min(r.last_seq, maxSeq(w)));
  if (!r.has_more_updates) w.version = Math.max(w.version, maxVersion(w));
  const channel = channels.get(r.channel_id);
  if (channel) channel.last_seq = Math.max(channel.last_seq || 0, r.last_seq);
  changed(r.channel_id);
}

function maxSeq(w) {
  let max = 0;
  for (const seq of w.messages.keys()) max = Math.max(max, seq);
  return max;
}

function maxVersion(w) {
  let max = w.version;
  for (const m of w.messages.values()) max = Math.max(max, m.version || 0);
  return max;
}

/** Stores a message in its window unless we already hold a newer version of it. */
function put(w, m, onlyIfHeld = false) {
  const old = w.messages.get(m.seq);
  if (onlyIfHeld && !old && (w.messages.size === 0 || m.seq < Math.min(...w.messages.keys()))) return;
  if (old && (old.version || 0) > (m.version || 0)) return;
  const merged = { ...m };
  if (!merged.translation && old?.translation && old.version === m.version) merged.translation = old.translation;
  w.messages.set(m.seq, merged);
  w.version = Math.max(w.version, m.version || 0);
  outbox = outbox.filter((p) => !(p.client_msg_id === m.client_msg_id && m.sender?.id === user?.id
    && p.channel_id === m.channel_id));
}

// ------------------------------------------------------------------ opening and history
export async function openChannel(id) {
  openId = id;
  const channel = channels.get(id);
  if (channel) channel.unread = 0;
  loadMembers(id).catch(() => {});
  const w = windows.get(id);
  if (!w || !w.loaded) {
    if (connection.online) await loadLatest(id);
  } else if (w.fromCache && connection.online) {
    w.fromCache = false;
    await syncChannels([id]);
  }
  markRead(id);
  changed(id);
}

export function closeChannel(id) {
  if (openId === id) openId = null;
}

async function loadLatest(id) {
  const res = await call("message:history", { channel_id: id, limit: PAGE });
  const w = newWindow();
  for (const m of res.messages) put(w, m);
  w.syncSeq = res.messages.length ? res.messages[res.messages.length - 1].seq : (channels.get(id)?.last_seq || 0);
  w.hasOlder = res.has_more;
  w.loaded = true;
  const old = windows.get(id);
  if (old) for (const [seq, m] of old.messages) if (seq > w.syncSeq) w.messages.set(seq, m); // live ones meanwhile
  windows.set(id, w);
  changed(id);
}

export async function loadOlder(id) {
  const w = windows.get(id);
  if (!w || !w.hasOlder || w.loadingOlder) return false;
  const first = Math.min(...w.messages.keys());
  w.loadingOlder = true;
  try {
    const res = await call("message:history", { channel_id: id, before_seq: first, limit: PAGE });
    for (const m of res.messages) put(w, m);
    w.hasOlder = res.has_more;
  } finally {
    w.loadingOlder = false;
  }
  changed(id);
  return true;
}

async function loadMembers(id) {
  const res = await call("channel:members", { channel_id: id });
  members.set(id, res.members);
  const others = res.members.filter((m) => m.id !== user?.id).map((m) => m.id);
  if (others.length) {
    const p = await call("presence:get", { user_ids: others.slice(0, 100) });
    for (const [uid, online] of Object.entries(p.presence)) presence.set(uid, online);
  }
  changed(id);
}

async function refreshPresence() {
  if (openId) await loadMembers(openId).catch(() => {});
}

// ------------------------------------------------------------------ live events
function onMessage(m) {
  const channel = channels.get(m.channel_id);
  if (channel) {
    channel.last_seq = Math.max(channel.last_seq || 0, m.seq);
    if (m.sender?.id === user?.id) channel.read_seq = Math.max(channel.read_seq || 0, m.seq);
    else if (m.channel_id !== openId || document.hidden) channel.unread = (channel.unread || 0) + 1;
  }
  const w = windows.get(m.channel_id);
  if (w && w.loaded) {
    // m.translation may be set already (known at once: no message:translated follows then).
    const fresh = !w.messages.has(m.seq);
    put(w, m);
    if (m.seq === w.syncSeq + 1) w.syncSeq = m.seq;
    else if (m.seq > w.syncSeq + 1 && fresh) fillGap(m.channel_id);
  }
  typing.get(m.channel_id)?.delete(m.sender?.id);
  if (m.channel_id === openId) markRead(m.channel_id);
  changed(m.channel_id);
}

let gapTimer = null;
function fillGap(id) {
  clearTimeout(gapTimer);
  gapTimer = setTimeout(() => { if (connection.online) syncChannels([id]).catch(() => {}); }, 300);
}

function onUpdated(m) {
  const w = windows.get(m.channel_id);
  if (w && w.messages.has(m.seq)) put(w, m);
  changed(m.channel_id);
}

/** message:translated / message:translation_corrected: a stored translation (status done, or a
 * correction) gives the message a new version; an older event than what we hold is dropped. */
function onTranslation({ channel_id, message_id, seq, version, translation }) {
  const w = windows.get(channel_id);
  const m = w?.messages.get(seq);
  if (!m || m.id !== message_id) return;
  if (typeof version === "number") {
    if (version < (m.version || 0)) return;
    m.version = version;
    // Only a contiguous view may move the sync cursor's version; sync's updates cover the rest.
  }
  m.translation = translation;
  changed(channel_id);
}

function onReceipt({ channel_id, user_id, seq }) {
  if (!receipts.has(channel_id)) receipts.set(channel_id, new Map());
  const map = receipts.get(channel_id);
  map.set(user_id, Math.max(map.get(user_id) || 0, seq));
  changed(channel_id);
}

function onTyping({ channel_id, user_id, display_name }) {
  if (user_id === user?.id) return;
  if (!typing.has(channel_id)) typing.set(channel_id, new Map());
  typing.get(channel_id).set(user_id, { name: display_name, until: Date.now() + 4000 });
  changed(channel_id);
  setTimeout(() => changed(channel_id), 4100);
}

// ------------------------------------------------------------------ actions
const readSent = new Map();
export function markRead(id) {
  const channel = channels.get(id);
  const w = windows.get(id);
  if (!channel || !w || document.hidden) return;
  const seq = Math.max(maxSeq(w), 0);
  if (channel.unread) { channel.unread = 0; changed(null); }
  if (seq <= Math.max(channel.read_seq || 0, readSent.get(id) || 0) || !connection.online) return;
  readSent.set(id, seq);
  call("receipt:read", { channel_id: id, seq })
    .then((ack) => { channel.read_seq = Math.max(channel.read_seq || 0, ack.receipt.seq); })
    .catch(() => readSent.delete(id));
}

document.addEventListener("visibilitychange", () => { if (!document.hidden && openId) markRead(openId); });

export function send(channelId, body) {
  outbox.push({ client_msg_id: randomId("m-"), channel_id: channelId, body, state: "queued", error: null,
    created: new Date().toISOString() });
  changed(channelId);
  flushOutbox();
}

export function discard(clientMsgId) {
  const item = outbox.find((p) => p.client_msg_id === clientMsgId);
  outbox = outbox.filter((p) => p.client_msg_id !== clientMsgId);
  changed(item?.channel_id || null);
}

export function retryNow() { flushOutbox(); }

/** Sends queued messages one at a time, in order; keeps them on temporary failures. */
async function flushOutbox() {
  if (flushing || !connection.online) return;
  flushing = true;
  clearTimeout(flushTimer);
  try {
    for (const item of outbox.slice()) {
      if (item.state === "failed" || !outbox.includes(item)) continue;
      if (!connection.online) break;
      item.state = "sending";
      changed(item.channel_id);
      try {
        const ack = await call("message:send",
          { channel_id: item.channel_id, client_msg_id: item.client_msg_id, body: item.body }, SEND_TIMEOUT_MS);
        outbox = outbox.filter((p) => p !== item);
        const w = windows.get(item.channel_id);
        if (w) {
          put(w, ack.message);
          if (ack.message.seq === w.syncSeq + 1) w.syncSeq = ack.message.seq;
        }
        changed(item.channel_id);
      } catch (err) {
        if (err instanceof ApiError && err.temporary) {
          item.state = "queued";
          item.error = err.code;
          changed(item.channel_id);
          // Same client_msg_id on every retry: the server returns the stored message, never a copy.
          const wait = err.code === "rate_limited" ? (err.data.retry_after_secs || 2) * 1000
            : err.code === "overloaded" ? (err.data.retry_after_ms || 500) : 3000;
          flushTimer = setTimeout(flushOutbox, wait);
          break; // keep the order: nothing after it goes first
        }
        item.state = "failed";
        item.error = err.code || "failed";
        changed(item.channel_id);
      }
    }
  } finally {
    flushing = false;
  }
}

export async function editMessage(message, body) {
  const ack = await call("message:edit", { message_id: message.id, body });
  onUpdated(ack.message);
  return ack.message;
}

export async function deleteMessage(message) {
  const ack = await call("message:delete", { message_id: message.id });
  onUpdated(ack.message);
  return ack.message;
}

export async function correctTranslation(message, text) {
  const ack = await call("message:correct_translation", { message_id: message.id, text });
  onTranslation({ channel_id: message.channel_id, message_id: message.id, seq: message.seq,
    translation: ack.translation });
  return ack.translation;
}

let lastTyping = 0;
export function sendTyping(channelId) {
  const now = Date.now();
  if (now - lastTyping < 2000 || !connection.online) return;
  lastTyping = now;
  call("typing:start", { channel_id: channelId }).catch(() => {});
}

export async function openDirect(userId) {
  const ack = await call("dm:open", { user_id: userId });
  upsertChannel(ack.channel);
  changed(null);
  return ack.channel;
}

export function currentUserId() { return session.user?.id || null; }
