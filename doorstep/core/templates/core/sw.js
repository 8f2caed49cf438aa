// Doorstep's service worker (core/offline.py): the pages under {{ pages_prefix }} come from the
// network when there is one and from the cache without it; static files come from the cache at
// once and are refreshed behind. POSTs, htmx fragments and redirects are never cached.
const CACHE = "{{ cache }}";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) =>
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("{{ family }}") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  ),
);

// A redirect (to the sign-in page, say) is not the page that was asked for; a page is kept only
// when the server marked it ({{ header }}) as made for offline use.
const keep = (request, response, mustBeMarked) => {
  if (response.ok && !response.redirected && response.type === "basic" && (!mustBeMarked || response.headers.get("{{ header }}"))) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
};

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || request.headers.get("HX-Request")) return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("{{ static_prefix }}")) {
    // File names carry no version, so a cache-only copy would never learn of an upgrade.
    event.respondWith(
      caches.match(request, { ignoreVary: true }).then((hit) => {
        const fresh = fetch(request).then((response) => keep(request, response, false));
        if (hit) {
          fresh.catch(() => {});
          return hit;
        }
        return fresh;
      }),
    );
  } else if (url.pathname.startsWith("{{ pages_prefix }}")) {
    event.respondWith(
      fetch(request)
        .then((response) => keep(request, response, true))
        .catch(() =>
          caches.match(request, { ignoreVary: true, ignoreSearch: false }).then((hit) => hit || Response.error()),
        ),
    );
  }
});
