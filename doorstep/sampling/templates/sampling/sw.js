// Doorstep's service worker for the lane pages: the page and its static files come from the
// cache when there is no network, so a lane keeps scanning through a dead spot and a reload.
const CACHE = "doorstep-lane-v2";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) =>
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("doorstep-lane-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  ),
);

const keep = (request, response) => {
  if (response.ok) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
};

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("{{ static_prefix }}")) {
    // Static files: the cached copy at once, refreshed from the network for the next load
    // (file names carry no version, so a cache-only copy would never learn of an upgrade).
    event.respondWith(
      caches.match(request, { ignoreVary: true }).then((hit) => {
        const fresh = fetch(request).then((response) => keep(request, response));
        if (hit) {
          fresh.catch(() => {});
          return hit;
        }
        return fresh;
      }),
    );
  } else if (url.pathname.startsWith("{{ lanes_prefix }}")) {
    // The lane page: the network first (fresh state), the cached copy without signal.
    event.respondWith(
      fetch(request)
        .then((response) => keep(request, response))
        .catch(() => caches.match(request, { ignoreVary: true }).then((hit) => hit || Response.error())),
    );
  }
});
