// Doorstep's service worker (core/offline.py): the pages under {{ pages_prefix }} come from the
// network when there is one and from the cache without it; static files come from the cache at
// once and are refreshed behind. POSTs, htmx fragments and redirects are never cached.
// A page drawn in parts (the building page, marked "light") is kept under a key of its own, and
// whole ("full", which offline.js fetches and keeps under the page's address); without signal
// the newer of the two is shown, so a claim made since the whole copy is not forgotten.
// Every page kept names its town ({{ town_header }}); the server names the erased towns
// ({{ erased_header }}) on the offline pages and on this script, and the copies of an erased
// town's pages are deleted from every Doorstep cache as soon as the worker reads that.
// (offline.js deletes the rest: the outboxes and what the pages keep in localStorage.)
const CACHE = "{{ cache }}";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) =>
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("{{ family }}") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  ),
);

// The copies of the erased towns' pages, in every Doorstep cache (the lane's and the door-to-door
// pages' alike: one phone may hold both). Static files name no town and stay.
const forget = async (erased) => {
  if (!erased.size) return;
  for (const name of await caches.keys()) {
    if (!name.startsWith("doorstep-")) continue;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const copy = await cache.match(request, { ignoreVary: true });
      if (copy && erased.has(copy.headers.get("{{ town_header }}"))) await cache.delete(request, { ignoreVary: true });
    }
  }
};
const erasedIn = (response) =>
  new Set((response.headers.get("{{ erased_header }}") || "").split(",").filter(Boolean));
// Whatever answer came: an offline page or this script names the erased towns. An answer that
// cannot (the sign-in page's redirect, a refusal) makes the worker ask its own script.
const learn = (response) => {
  if (response.type === "basic" && (response.ok || response.headers.has("{{ erased_header }}"))) return forget(erasedIn(response));
  return fetch(self.location.href, { cache: "no-store", credentials: "same-origin" })
    .then((answer) => forget(erasedIn(answer)))
    .catch(() => {});
};

// A redirect (to the sign-in page, say) is not the page that was asked for; a page is kept only
// when the server marked it ({{ header }}) as made for offline use.
const keep = (request, response, mustBeMarked) => {
  if (!response.ok || response.redirected || response.type !== "basic") return response;
  // A page of an erased town is never kept, whatever the order in which the answers land.
  if (erasedIn(response).has(response.headers.get("{{ town_header }}") || "")) return response;
  const mark = response.headers.get("{{ header }}");
  if (mustBeMarked && mark !== "1" && mark !== "light") return response;
  const copy = response.clone();
  caches.open(CACHE).then((cache) => cache.put(mark === "light" ? lightKey(request.url) : request, copy));
  return response;
};

// offline.js keeps a light page under the same key on the first visit, before this worker runs.
const lightKey = (address) => {
  const url = new URL(address);
  return `${url.origin}${url.pathname}?offline=light`;
};
const drawnAt = (response) =>
  Number(response.headers.get("X-Doorstep-Rendered")) || Date.parse(response.headers.get("Date") || "") || 0;

// The newest of the page's copies: as asked for, whole (at its bare address), as first drawn.
const kept = (request) =>
  caches.open(CACHE).then(async (cache) => {
    const url = new URL(request.url);
    const found = await Promise.all(
      [request, `${url.origin}${url.pathname}`, lightKey(request.url)].map((key) => cache.match(key, { ignoreVary: true })),
    );
    const copies = found.filter(Boolean);
    // Ties go to the earlier in the list: the whole building over its first page.
    return copies.reduce((best, copy) => (drawnAt(copy) > drawnAt(best) ? copy : best), copies[0]) || Response.error();
  });

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
        .then((response) => {
          // Deleted before the answer is shown: the page then finds nothing of the town.
          const learning = learn(response).catch(() => {});
          return request.mode === "navigate" ? learning.then(() => keep(request, response, true)) : keep(request, response, true);
        })
        .catch(() => kept(request)),
    );
  }
});
