// Doorstep's service worker for the lane pages: the page and its static files come from the
// cache when there is no network, so a lane keeps scanning through a dead spot and a reload.
const CACHE = "doorstep-lane-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("{{ static_prefix }}")) {
    // Static files: the cache first, the network to fill it.
    event.respondWith(
      caches.match(request, { ignoreVary: true }).then((hit) => hit || fetch(request).then((response) => {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
        return response;
      })),
    );
  } else if (url.pathname.startsWith("{{ lanes_prefix }}")) {
    // The lane page: the network first (fresh state), the cached copy without signal.
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      }).catch(() => caches.match(request, { ignoreVary: true }).then((hit) => hit || Response.error())),
    );
  }
});
