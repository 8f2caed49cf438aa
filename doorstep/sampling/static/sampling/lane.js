// The lane page as an offline app. Every scan becomes an event with its own UUID, written first
// to an IndexedDB outbox and then sent in batches; an event leaves the outbox only when the
// server has answered it. Local checks (tube full, a person twice, a sealed tube) answer the
// registrar at once, with or without signal. The lane's state survives reloads in localStorage.
(() => {
  const form = document.querySelector("form[data-offline-lane]");
  const snapshot = document.getElementById("lane-state");
  if (!form || !snapshot || !("indexedDB" in window)) return;
  const boot = JSON.parse(snapshot.textContent);
  const t = boot.text;
  const stateKey = `doorstep-lane-${boot.lanePk}`;
  const problemsKey = `doorstep-lane-problems-${boot.lanePk}`;
  const firstDelay = 2000;
  const maxDelay = 60000;
  let delay = firstDelay;
  let timer = null;
  let sending = false;

  // State: the server's snapshot, unless this phone has a newer one of its own.
  const saved = JSON.parse(localStorage.getItem(stateKey) || "null");
  const state = saved && saved.at > boot.at ? saved : { at: boot.at, tube: boot.tube, today: boot.today, sealedToday: boot.sealedToday };
  const save = () => {
    state.at = new Date().toISOString();
    localStorage.setItem(stateKey, JSON.stringify(state));
  };

  // IndexedDB outbox -------------------------------------------------------------------------
  const opening = new Promise((resolve, reject) => {
    const request = indexedDB.open("doorstep", 1);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore("outbox", { keyPath: "id" });
      store.createIndex("lane", "lane");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const tx = async (mode, work) => {
    const db = await opening;
    return new Promise((resolve, reject) => {
      const transaction = db.transaction("outbox", mode);
      const result = work(transaction.objectStore("outbox"));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    });
  };
  const pending = async () => {
    const all = await tx("readonly", (store) => store.index("lane").getAll(boot.lanePk));
    return all.sort((a, b) => a.seq - b.seq);
  };
  const enqueue = (event) => tx("readwrite", (store) => store.put({ id: event.id, lane: boot.lanePk, seq: Date.now() + Math.random(), event }));
  const forget = (ids) => tx("readwrite", (store) => ids.forEach((id) => store.delete(id)));

  // UUIDs: crypto.randomUUID needs a secure context; plain http on a site LAN has getRandomValues.
  const newId = () => {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const event = (type, fields) => ({ id: newId(), type, at: new Date().toISOString(), ...fields });
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));

  // Rendering ---------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  function say(message, ok) {
    const answer = $("lane-answer");
    answer.hidden = false;
    answer.textContent = message;
    answer.className = `alert ${ok ? "ok" : "bad"}`;
  }
  async function render() {
    const tube = state.tube;
    $("tube-code").textContent = tube ? tube.code : "—";
    $("tube-fill").textContent = tube ? `${tube.count}/${tube.capacity || "?"}` : "—";
    $("lane-today").textContent = state.today;
    $("code-label").textContent = tube ? t.scanPerson : t.scanTube;
    $("pool-field").hidden = Boolean(tube);
    $("seal").hidden = !tube;
    $("seal").textContent = tube ? fill(t.seal, { code: tube.code }) : "";
    const members = $("members");
    members.replaceChildren(...(tube ? tube.members : []).slice().reverse().map((name) => {
      const li = document.createElement("li");
      li.textContent = name;
      return li;
    }));
    const waiting = (await pending()).length;
    $("outbox-pending").textContent = waiting;
    $("outbox-state").textContent = navigator.onLine ? (waiting ? t.sending : t.allSent) : t.offline;
    const problems = JSON.parse(localStorage.getItem(problemsKey) || "[]");
    $("outbox-problems").replaceChildren(...problems.map((p) => {
      const li = document.createElement("li");
      li.textContent = p;
      return li;
    }));
  }

  // Scanning ----------------------------------------------------------------------------------
  const normal = (code) => code.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
  const looksLikePerson = (code) => /^[0-9A-Z]{9}$/.test(normal(code)) || /^\d{17}[\dX]$/i.test(code);
  const pattern = new RegExp(boot.pattern);

  async function scan(raw) {
    const code = raw.trim();
    if (!code) return say(t.nothing, false);
    const tube = state.tube;
    if (!tube) {
      const barcode = code.toUpperCase().replace(/\s/g, "");
      if (!pattern.test(barcode)) return say(fill(t.notTube, { code: barcode }), false);
      const pool = form.querySelector("[name=pool]").value;
      const fields = { lane: boot.lane, tube: barcode };
      if (pool) fields.pool = pool === "household" ? pool : Number(pool);
      state.tube = { code: barcode, count: 0, capacity: pool && pool !== "household" ? Number(pool) : null, members: [], people: [] };
      await record(event("tube.open", fields));
      return say(t.opened, true);
    }
    if (!looksLikePerson(code) && pattern.test(code.toUpperCase())) {
      return say(fill(t.stillOpen, { code: tube.code, n: tube.count }), false);
    }
    const person = looksLikePerson(code) && !/^\d{17}[\dX]$/i.test(code) ? normal(code) : code.toUpperCase();
    if (tube.people.includes(person)) return say(t.twice, false);
    if (tube.capacity && tube.count >= tube.capacity) return say(fill(t.full, { code: tube.code, n: tube.count }), false);
    const fields = { tube: tube.code, person };
    const override = form.querySelector("[name=override]");
    if (override && override.value.trim()) fields.override = override.value.trim();
    tube.count += 1;
    tube.people.push(person);
    tube.members.push(`${person.slice(0, 3)}…`);
    state.today += 1;
    await record(event("tube.add", fields));
    say(t.added, true);
  }

  async function seal() {
    const tube = state.tube;
    if (!tube) return say(t.noTube, false);
    if (!tube.count) return say(fill(t.empty, { code: tube.code }), false);
    state.tube = null;
    state.sealedToday += 1;
    await record(event("tube.seal", { tube: tube.code }));
    say(fill(t.sealed, { code: tube.code }), true);
  }

  async function record(evt) {
    await enqueue(evt);
    save();
    await render();
    flush();
  }

  // Sending -----------------------------------------------------------------------------------
  async function flush() {
    clearTimeout(timer);
    timer = null;
    if (sending) return;
    const items = await pending();
    if (!items.length) return render();
    sending = true;
    try {
      const response = await fetch(boot.endpoint, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": boot.csrf },
        body: JSON.stringify({ events: items.slice(0, 500).map((item) => item.event) }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      const problems = JSON.parse(localStorage.getItem(problemsKey) || "[]");
      const done = [];
      for (const result of body.results) {
        done.push(result.id);
        if (result.status === "rejected") problems.unshift(`${result.error.message}`);
      }
      localStorage.setItem(problemsKey, JSON.stringify(problems.slice(0, 20)));
      await forget(done);
      if (body.tube && state.tube && body.tube.code === state.tube.code && body.tube.capacity) {
        state.tube.capacity = body.tube.capacity;
        save();
      }
      $("last-sync").textContent = new Date().toLocaleTimeString();
      delay = firstDelay;
    } catch {
      timer = setTimeout(flush, delay);
      delay = Math.min(delay * 2, maxDelay);
    } finally {
      sending = false;
      await render();
      if (!timer && (await pending()).length) timer = setTimeout(flush, 200);
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = form.querySelector("[name=code]");
    const value = input.value;
    input.value = "";
    input.focus();
    scan(value);
  });
  $("seal").addEventListener("click", (e) => {
    e.preventDefault();
    seal();
  });
  $("clear-problems").addEventListener("click", () => {
    localStorage.removeItem(problemsKey);
    render();
  });
  window.addEventListener("online", () => {
    delay = firstDelay;
    flush();
  });
  window.addEventListener("offline", render);
  // The service worker serves this page and its files when there is no network; the page puts
  // itself in the worker's cache so that the first reload without signal already works.
  if ("serviceWorker" in navigator && window.caches) {
    navigator.serviceWorker.register(boot.worker, { scope: boot.scope }).catch(() => {});
    const assets = Array.from(document.querySelectorAll("script[src], link[rel=stylesheet]"), (el) => el.src || el.href);
    caches.open("doorstep-lane-v1").then((cache) => cache.addAll([location.href, ...assets])).catch(() => {});
  }
  render();
  flush();
})();
