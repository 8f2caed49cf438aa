// Pages that keep working without signal (core/offline.py). This script registers the family's
// service worker and, on the first load (before the worker runs), puts the page and its files in
// the worker's cache from what the browser already holds (force-cache: nothing is fetched twice),
// so that the first reload in a stairwell already works. A page drawn in parts (#offline-copy:
// the building page) is also fetched whole once it is in use and kept under its own address.
// It says, at the top of the screen, how old the page is when it came from the cache (no signal,
// or shown long ago), and keeps forms that need the server (a claim) from failing into the
// browser's error page.
(() => {
  const me = document.currentScript;
  const { cache, worker, scope } = me.dataset;
  const whole = document.getElementById("offline-copy");
  if ("serviceWorker" in navigator && window.caches) {
    const first = !navigator.serviceWorker.controller;
    navigator.serviceWorker.register(worker, { scope }).catch(() => {});
    const here = whole ? new URL(whole.dataset.page, location.href) : new URL(location.href);
    here.hash = "";
    const held = (c, address) =>
      fetch(address, { cache: "force-cache", credentials: "same-origin" }).then((response) => (response.ok && !response.redirected ? c.put(address, response) : null));
    if (first) {
      const assets = Array.from(document.querySelectorAll("script[src], link[rel=stylesheet]"), (el) => el.src || el.href);
      caches
        .open(cache)
        .then((c) =>
          Promise.all([
            ...assets.map((address) => c.match(address).then((hit) => hit || held(c, address))),
            // The worker keeps a light page under this key (sw.js) once it runs.
            fetch(location.href, { cache: "force-cache", credentials: "same-origin" }).then((response) =>
              response.ok && !response.redirected ? c.put(whole ? `${here.origin}${here.pathname}?offline=light` : here.href, response) : null,
            ),
          ]),
        )
        .catch(() => {});
    }
    if (whole) {
      // Once the page is in use: the whole building, for the floors not drawn yet.
      const fetchWhole = () => {
        if (!navigator.onLine) return;
        fetch(whole.dataset.full, { credentials: "same-origin" })
          .then((response) => {
            if (!response.ok || response.redirected || response.headers.get("X-Doorstep-Offline") !== "full") return null;
            return caches.open(cache).then((c) => c.put(here.href, response));
          })
          .catch(() => {});
      };
      if (document.readyState === "complete") setTimeout(fetchWhole, 500);
      else window.addEventListener("load", () => setTimeout(fetchWhole, 500));
    }
  }
  const note = document.getElementById("offline-state");
  // The notice lives at the top of the page, where it stays in view (doorstep.css).
  if (note) document.body.prepend(note);
  const shownAt = Date.parse(me.dataset.rendered);
  let refused = "";
  function show() {
    if (!note) return;
    const minutes = Math.max(0, Math.round((Date.now() - shownAt) / 60000));
    const stale = !navigator.onLine || minutes >= 2;
    const words = navigator.onLine ? note.dataset.old : note.dataset.offline;
    note.hidden = !stale && !refused;
    note.textContent = [stale ? words.replace("{time}", note.dataset.time).replace("{minutes}", String(minutes)) : "", refused]
      .filter(Boolean)
      .join(" ");
    note.dataset.minutes = String(minutes);
    // A sticky floor index sits below the notice.
    document.documentElement.style.setProperty("--notice-height", note.hidden ? "0px" : `${note.offsetHeight}px`);
  }
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-needs-server")) return;
      if (navigator.onLine) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      refused = form.dataset.needsServer;
      show();
    },
    true,
  );
  window.addEventListener("online", () => {
    refused = "";
    show();
  });
  window.addEventListener("offline", show);
  setInterval(show, 30000);
  show();
})();
