// Fieldtrace 外业端 service worker: keeps the app (this list, written by the server) so that it
// opens with no signal. The API is never cached here: the sync client keeps the data on the phone.
const VERSION = {{ version_json|safe }};
const CACHE = `fieldtrace-app-${VERSION}`;
const PRECACHE = {{ precache_json|safe }};
const SHELL = "{{ app_root }}";

self.addEventListener("install", (event) => {
  // cache: "reload": past the HTTP cache, so that the kept copy is the server's current one.
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith("fieldtrace-app-") && n !== CACHE).map((n) => caches.delete(n))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith(SHELL)) {
    // Every route of the app is the one page: the kept shell, the network only if it is missing.
    event.respondWith(caches.match(SHELL, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
    return;
  }
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
  }
  // Anything else (the API above all) goes to the network as if there were no service worker.
});
