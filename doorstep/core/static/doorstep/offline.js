// Pages that keep working without signal (core/offline.py). This script registers the family's
// service worker and, on the first load (before the worker runs), puts the page and its files in
// the worker's cache from what the browser already holds (force-cache: nothing is fetched twice),
// so that the first reload in a stairwell already works. A page drawn in parts (#offline-copy:
// the building page) is also fetched whole once it is in use and kept under its own address.
// It says, at the top of the screen, how old the page is when it came from the cache (no signal,
// or shown long ago), and keeps forms that need the server (a claim) from failing into the
// browser's error page.
// A town's personal data erased (doorstep.closing): on its next contact with the server the page
// learns which towns are erased (the worker's script names them, or the erased page itself,
// data-erased) and deletes what this phone holds of them: their pages in every Doorstep cache,
// the lane outbox's events in IndexedDB, the lane, claim and tap records in localStorage. What
// belongs to other towns stays, unsent taps and events included: a surge worker's phone holds
// several towns. Each page names its town (data-town) and what it keeps under its own name
// (data-holds, "lane:12"), listed in localStorage "doorstep-towns"; taps carry their town.
(() => {
  const me = document.currentScript;
  const { cache, worker, scope, town, holds } = me.dataset;
  const TOWNS = "doorstep-towns";
  const readJson = (key, fallback) => {
    try {
      return JSON.parse(localStorage.getItem(key) || "null") ?? fallback;
    } catch {
      return fallback;
    }
  };
  if (town && holds) {
    try {
      localStorage.setItem(TOWNS, JSON.stringify({ ...readJson(TOWNS, {}), [holds]: town }));
    } catch {
      // A full storage: what this page keeps is found by its town when that is erased.
    }
  }

  // The lane outbox's events of the erased towns (lane.js's database; never created here).
  const forgetEvents = (erased, gone) =>
    new Promise((resolve) => {
      if (!("indexedDB" in window)) return resolve(0);
      const request = indexedDB.open("doorstep");
      request.onupgradeneeded = () => request.transaction.abort();
      request.onerror = () => resolve(0);
      request.onsuccess = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains("outbox")) {
          db.close();
          return resolve(0);
        }
        let removed = 0;
        const transaction = db.transaction("outbox", "readwrite");
        transaction.objectStore("outbox").openCursor().onsuccess = (event) => {
          const cursor = event.target.result;
          if (!cursor) return;
          if (erased.has(String(cursor.value.town ?? "")) || gone(`lane:${cursor.value.lane}`)) {
            cursor.delete();
            removed += 1;
          }
          cursor.continue();
        };
        transaction.oncomplete = transaction.onerror = transaction.onabort = () => {
          db.close();
          resolve(removed);
        };
      };
    });

  // Everything this phone holds of the erased towns; how many things were deleted.
  async function forgetTowns(erased) {
    if (!erased.size) return 0;
    const registry = readJson(TOWNS, {});
    const gone = (owner) => erased.has(String(registry[owner] ?? ""));
    let removed = 0;
    if (window.caches) {
      for (const name of await caches.keys()) {
        if (!name.startsWith("doorstep-")) continue;
        const c = await caches.open(name);
        for (const request of await c.keys()) {
          const copy = await c.match(request, { ignoreVary: true });
          if (copy && erased.has(copy.headers.get("X-Doorstep-Town"))) {
            await c.delete(request, { ignoreVary: true });
            removed += 1;
          }
        }
      }
    }
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i) || "";
      const lane = /^doorstep-lane-(\d+)-/.exec(key);
      const task = /^doorstep-(?:claim|outbox)-(\d+)$/.exec(key);
      if ((lane && gone(`lane:${lane[1]}`)) || (task && gone(`task:${task[1]}`))) {
        localStorage.removeItem(key);
        removed += 1;
      }
    }
    // Taps waiting and taps recorded: each names its town (or its building's endpoint does).
    const townOf = (item) => {
      if (item.town !== undefined) return String(item.town);
      const task = /\/(\d+)\/outcomes\/$/.exec(new URL(item.endpoint || "", location.href).pathname);
      return task ? String(registry[`task:${task[1]}`] ?? "") : "";
    };
    for (const key of ["doorstep-outbox", "doorstep-recorded"]) {
      const items = readJson(key, null);
      if (!Array.isArray(items)) continue;
      const kept = items.filter((item) => !erased.has(townOf(item)));
      if (kept.length === items.length) continue;
      removed += items.length - kept.length;
      localStorage.setItem(key, JSON.stringify(kept));
    }
    removed += await forgetEvents(erased, gone);
    const left = Object.fromEntries(Object.entries(registry).filter(([, t]) => !erased.has(String(t))));
    localStorage.setItem(TOWNS, JSON.stringify(left));
    // htmx's copies of pages shown in this tab, whatever their town.
    if (removed) sessionStorage.removeItem("htmx-history-cache");
    return removed;
  }

  // Which towns are erased: the erased page says so; any other page asks the worker's script.
  const learning =
    me.dataset.erased !== undefined
      ? Promise.resolve(me.dataset.erased)
      : worker && navigator.onLine
        ? fetch(worker, { cache: "no-store", credentials: "same-origin" }).then((r) => r.headers.get("X-Doorstep-Erased") || "")
        : Promise.resolve("");
  const cleared = learning
    .then((list) => forgetTowns(new Set(list.split(",").filter(Boolean))))
    .catch(() => 0)
    .then((removed) => {
      const said = document.getElementById("offline-erased");
      if (!said) return;
      if (removed) said.hidden = false;
      said.dataset.cleared = String(removed);
    });
  window.DoorstepOffline = { cleared };

  const whole = document.getElementById("offline-copy");
  if (worker && "serviceWorker" in navigator && window.caches) {
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
