// hubchat's service worker (served at /sw.js, scope /): the app shell loads with no network.
//
// * Install: the page ("/"), /config.json and every file of this release (/static/v-{hash}/…) are
//   stored in a cache named after the release; the previous release's cache is deleted once this
//   one is active.
// * The page and /config.json: the network first (so a new release and new settings arrive at
//   once), the stored copy when the network fails or does not answer within NETWORK_WAIT_MS.
// * Files of a release: from the cache (they never change), else the network.
// * Everything else — /api, /socket.io, other hosts (map tiles) — is never touched: the app's own
//   queues (messages, SOS) decide what to do without a network.

const VERSION = "{{VERSION}}";
const CACHE = `hubchat-${VERSION}`;
const FILES = {{FILES}};
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(["/", "/config.json", ...FILES]))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("hubchat-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer")), NETWORK_WAIT_MS)),
    ]);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (err) {
    const stored = await cache.match(key);
    if (stored) return stored;
    throw err;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const stored = await cache.match(request);
  if (stored) return stored;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).pathname.startsWith(`/static/v-${VERSION}/`)) {
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" || url.pathname === "/") {
    event.respondWith(networkFirst(request, "/"));
  } else if (url.pathname === "/config.json") {
    event.respondWith(networkFirst(request, "/config.json"));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});

// ---------------------------------------------------------------- Web Push (hubchat/push)
// A push carries {v, kind: "sos" | "dm" | "mention", title, body, tag, url} (docs/api.md, "Web
// Push").  It is shown as it came: the server already left out what a lock screen must not show.
// A click focuses an open hubchat tab at the view named by ``url`` (the console for an SOS, the
// conversation for a message), or opens one.

const PUSH_KINDS = new Set(["sos", "dm", "mention"]);

function pushUrl(url) {
  return typeof url === "string" && url.startsWith("/#/") ? url : "/";
}

function showPush(data) {
  const kind = PUSH_KINDS.has(data.kind) ? data.kind : "other";
  const title = typeof data.title === "string" && data.title ? data.title.slice(0, 120) : "hubchat";
  const options = {
    body: typeof data.body === "string" ? data.body.slice(0, 240) : "",
    data: { url: pushUrl(data.url), kind },
    icon: "/static/icon.svg",
    badge: "/static/icon.svg",
    lang: "en",
  };
  if (typeof data.tag === "string" && data.tag) {
    options.tag = data.tag.slice(0, 64);
    options.renotify = kind === "sos";
  }
  if (kind === "sos") options.requireInteraction = true; // stays until an officer acts on it
  return self.registration.showNotification(title, options);
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  event.waitUntil(showPush(data && typeof data === "object" ? data : {}));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = pushUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
    if (open) {
      open.postMessage({ type: "hubchat:open", url });
      await open.focus();
      return;
    }
    await self.clients.openWindow(url);
  })());
});
