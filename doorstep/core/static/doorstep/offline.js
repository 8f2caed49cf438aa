// Pages that keep working without signal (core/offline.py). This script registers the family's
// service worker and puts the page and its files in the worker's cache on the first load, so
// that the first reload in a stairwell already works; it says how old the page is when it came
// from the cache (no signal, or shown long ago), and keeps forms that need the server (a claim)
// from failing into the browser's error page.
(() => {
  const me = document.currentScript;
  const { cache, worker, scope } = me.dataset;
  if ("serviceWorker" in navigator && window.caches) {
    navigator.serviceWorker.register(worker, { scope }).catch(() => {});
    const assets = Array.from(document.querySelectorAll("script[src], link[rel=stylesheet]"), (el) => el.src || el.href);
    caches.open(cache).then((c) => c.addAll([location.href, ...assets])).catch(() => {});
  }
  const note = document.getElementById("offline-state");
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
