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
