// The lane page as an offline app. Every scan is checked at once against the lane rules the
// server sent as data (rules.js), then kept as an event with its own UUID in an IndexedDB outbox
// and sent in batches. A scan shows as pending until the server has answered it: the counter and
// the tube's list say how many the server has recorded and how many wait. A refusal of a scan the
// page had shown becomes an alarm that names the person and says what to do, with a sound, and
// stays, across reloads, until the registrar acknowledges it. The server's answer carries the
// lane as the server has it, which replaces the page's own idea of it.
(() => {
  const form = document.getElementById("scan-form");
  const snapshot = document.getElementById("lane-state");
  if (!form || !snapshot || !("indexedDB" in window) || !window.DoorstepRules) return;
  const boot = JSON.parse(snapshot.textContent);
  const t = boot.text;
  const serverKey = `doorstep-lane-${boot.lanePk}-server`;
  const alarmsKey = `doorstep-lane-${boot.lanePk}-alarms`;
  const firstDelay = 2000;
  const maxDelay = 60000;
  let delay = firstDelay;
  let timer = null;
  let sending = false;

  // The server's truth: this page's snapshot, unless the phone kept a newer one.
  const kept = JSON.parse(localStorage.getItem(serverKey) || "null");
  let server = kept && kept.at > boot.state.at ? kept : boot.state;
  let rules = window.DoorstepRules(server.rules);
  const words = () => server.rules.messages;
  const fill = (template, values) => rules.fill(template, values);
  let alarms = JSON.parse(localStorage.getItem(alarmsKey) || "[]");
  const keepServer = () => localStorage.setItem(serverKey, JSON.stringify(server));
  const keepAlarms = () => localStorage.setItem(alarmsKey, JSON.stringify(alarms));

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
  const enqueue = (event, note) =>
    tx("readwrite", (store) => store.put({ id: event.id, lane: boot.lanePk, seq: Date.now() + Math.random(), event, ...note }));
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

  // The lane as it will be: the server's truth with the outbox played over it ------------------
  async function view() {
    const items = await pending();
    const s = server.tube;
    let tube = s
      ? { code: s.code, capacity: s.capacity, pool: s.pool, confirmed: s.count, members: s.members, codes: new Set(s.codes), waiting: [] }
      : null;
    const closed = new Set(server.closed);
    let today = server.today;
    let sealedToday = server.sealedToday;
    for (const item of items) {
      const e = item.event;
      if (e.type === "tube.open") {
        tube = { code: e.tube, capacity: item.capacity, pool: item.pool, confirmed: 0, members: [], codes: new Set(), waiting: [] };
      } else if (tube && e.tube === tube.code && e.type === "tube.add") {
        tube.waiting.push(item);
        if (item.key) tube.codes.add(item.key);
        today += 1;
      } else if (tube && e.tube === tube.code && (e.type === "tube.seal" || e.type === "tube.discard")) {
        closed.add(tube.code);
        sealedToday += e.type === "tube.seal" ? 1 : 0;
        tube = null;
      }
    }
    if (tube) tube.count = tube.confirmed + tube.waiting.length;
    return { tube, closed, today, sealedToday, waiting: items.length };
  }

  // Rendering ---------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const codeField = () => form.querySelector("[name=code]");
  // After every action the scanner's next Enter must land in the scan field.
  const refocus = () => codeField().focus();
  // One action at a time, in the order they were made: a wedge scanner types faster than
  // IndexedDB answers, and each check must see the scans before it.
  let chain = Promise.resolve();
  const serial = (work) => {
    chain = chain.then(work, work);
    return chain;
  };
  // The status line names the last action: "waiting for the server" until the server answers
  // it, then what the server said (recorded, or refused and why). Only the last action's answer
  // settles it: an older one's refusal is an alarm of its own.
  let awaited = null; // {id, done}: the event the line waits for, the words once accepted
  function say(message, kind) {
    const answer = $("lane-answer");
    answer.hidden = false;
    answer.textContent = message;
    answer.className = `alert ${kind}`;
    answer.dataset.state = kind;
    awaited = null;
  }
  function sayPending(evt, message, done) {
    say(message, "pending");
    awaited = { id: evt.id, done };
  }
  function settle(results) {
    const mine = awaited && results.find((r) => r.id === awaited.id);
    if (!mine) return;
    const done = awaited.done;
    if (mine.status === "rejected") say(fill(t.refused, { reason: mine.error.message }), "bad");
    else say(done, "ok");
  }
  const li = (text, className, badge) => {
    const item = document.createElement("li");
    item.className = className;
    item.textContent = text;
    if (badge) {
      const span = document.createElement("span");
      span.className = `badge ${badge.className}`;
      span.textContent = badge.text;
      item.append(" ", span);
    }
    return item;
  };
  async function render() {
    const v = await view();
    const tube = v.tube;
    $("tube-code").textContent = tube ? tube.code : "—";
    $("tube-fill").textContent = tube ? `${tube.count}/${tube.capacity || t.household}` : "—";
    $("tube-pending").textContent = tube && tube.waiting.length ? fill(t.fill, { confirmed: tube.confirmed, pending: tube.waiting.length }) : "";
    $("lane-today").textContent = v.today;
    $("code-label").textContent = tube ? t.scanPerson : t.scanTube;
    $("pool-field").hidden = Boolean(tube);
    $("doc-field").hidden = !tube;
    $("walk-in-box").hidden = !tube;
    $("seal").hidden = !tube;
    $("seal-hint").hidden = !tube;
    $("seal").textContent = tube ? fill(t.seal, { code: tube.code }) : "";
    $("discard").hidden = !tube || tube.count > 0;
    $("discard").textContent = tube ? fill(t.discard, { code: tube.code }) : "";
    const members = (tube ? tube.members : []).map((m) =>
      li(m.name, "confirmed", m.walkIn ? { className: "controlled", text: t.walkIn } : m.again ? { className: "", text: `${t.again}: ${m.again}` } : null),
    );
    const waiting = (tube ? tube.waiting : []).map((item) => li(fill(t.pending, { code: item.label }), "pending"));
    $("members").replaceChildren(...[...members, ...waiting].reverse());
    $("outbox-pending").textContent = v.waiting;
    $("outbox-state").textContent = navigator.onLine ? (v.waiting ? t.sending : t.allSent) : t.offline;
    $("lane-alarms").hidden = !alarms.length;
    $("alarm-list").replaceChildren(
      ...alarms.map((alarm) => {
        const item = document.createElement("li");
        item.className = "alarm";
        const title = document.createElement("strong");
        title.textContent = alarm.title;
        const message = document.createElement("p");
        message.textContent = alarm.message;
        const hint = document.createElement("p");
        hint.className = "hint";
        hint.textContent = alarm.hint;
        const ack = document.createElement("button");
        ack.type = "button";
        ack.dataset.ack = alarm.id;
        ack.textContent = t.ack;
        item.append(title, message, hint, ack);
        return item;
      }),
    );
    return v;
  }

  // An alarm sounds and shakes the phone; the audio is unlocked by the registrar's first key.
  let audio = null;
  const unlock = () => {
    if (!audio && window.AudioContext) audio = new AudioContext();
  };
  function sound() {
    if (navigator.vibrate) navigator.vibrate([300, 100, 300]);
    if (!audio) return;
    [0, 0.35].forEach((start) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + start);
      osc.stop(audio.currentTime + start + 0.25);
    });
  }

  // Scanning ----------------------------------------------------------------------------------
  // The event is kept on the phone and shown as waiting; the status line says ``waiting`` until
  // the server answers it, then ``done`` or the refusal.
  async function record(evt, note, waiting, done) {
    await enqueue(evt, note);
    sayPending(evt, waiting, done);
    await render();
    flush();
  }

  async function scan(raw) {
    if (!raw.trim()) return say(words().nothing, "bad");
    const v = await view();
    const tube = v.tube;
    if (!tube) {
      const code = rules.tubeCode(raw);
      if (code.code) return say(code.message, "bad");
      if (v.closed.has(code.value)) return say(fill(words().sealed_here, { code: code.value }), "bad");
      const chosen = form.querySelector("[name=pool]").value;
      const pool = chosen || server.rules.laneRule;
      const fields = { lane: boot.lane, tube: code.value };
      if (chosen) fields.pool = chosen === server.rules.household ? chosen : Number(chosen);
      const capacity = pool in server.rules.pools ? server.rules.pools[pool] : null;
      const opened = fill(t.opened, { code: code.value });
      return record(event("tube.open", fields), { label: code.value, pool, capacity }, fill(t.openedWaiting, { code: code.value }), opened);
    }
    // The open tube's own barcode scanned again seals it: the registrar never leaves the scanner.
    const again = rules.tubeCode(raw);
    if (!again.code && again.value === tube.code) return close("tube.seal");
    const idType = form.querySelector("[name=id_type]");
    const key = idType.value ? rules.personKey(raw, idType.value) : rules.personScan(raw, server.rules.barcode, tube.code, tube.count);
    if (key.code) return say(key.message, "bad");
    if (tube.codes.has(key.value)) return say(words().twice, "bad");
    if (tube.capacity && tube.count >= tube.capacity) return say(fill(words().full, { code: tube.code, n: tube.count }), "bad");
    const fields = { tube: tube.code, person: key.value };
    if (idType.value) fields.id_type = idType.value;
    const override = form.querySelector("[name=override]");
    if (override.value.trim()) fields.override = override.value.trim();
    // The document type and the reason count for this one scan.
    idType.value = "";
    override.value = "";
    $("override-box").open = false;
    const label = key.kind === "code" ? rules.display(key.value) : key.value;
    await record(event("tube.add", fields), { label, key: key.value }, fill(t.queued, { code: label }), fill(t.recorded, { code: label }));
  }

  async function walkIn(walkInForm) {
    const v = await view();
    if (!v.tube) return say(words().no_tube, "bad");
    const fields = Object.fromEntries(new FormData(walkInForm));
    const checked = rules.walkIn(fields);
    if (checked.code) return say(checked.message, "bad");
    const tube = v.tube;
    if (tube.pool === server.rules.household) return say(words().walk_in_household, "bad");
    if (tube.codes.has(checked.value.id_number)) return say(words().twice, "bad");
    if (tube.capacity && tube.count >= tube.capacity) return say(fill(words().full, { code: tube.code, n: tube.count }), "bad");
    const name = checked.value.name;
    const masked = [...name].length <= 1 ? name : [...name][0] + "*".repeat([...name].length - 1);
    const label = `${masked} (${t.walkIn})`;
    walkInForm.reset();
    $("walk-in-box").open = false;
    await record(event("tube.add", { tube: tube.code, walk_in: checked.value }), { label, key: checked.value.id_number }, fill(t.walkInQueued, { name: masked }), fill(t.recorded, { code: label }));
  }

  async function close(type) {
    const v = await view();
    const tube = v.tube;
    if (!tube) return say(words().no_tube, "bad");
    if (type === "tube.seal" && !tube.count) return say(fill(words().empty, { code: tube.code }), "bad");
    if (type === "tube.discard" && tube.count) return say(fill(words().not_empty, { code: tube.code, n: tube.count }), "bad");
    const sealing = type === "tube.seal";
    await record(
      event(type, { tube: tube.code }),
      { label: tube.code },
      fill(sealing ? t.sealing : t.discarding, { code: tube.code }),
      fill(sealing ? t.sealed : t.discarded, { code: tube.code }),
    );
  }

  function alarm(item, result) {
    const e = item.event;
    const hints = server.rules.hints;
    const hint = fill(hints[result.error.code] || hints.default, { tube: e.tube });
    const title =
      e.type === "tube.add"
        ? fill(t.alarmPerson, { name: result.person || t.unknownName, code: item.label, tube: e.tube })
        : fill(t.alarmTube, { tube: e.tube });
    alarms.push({ id: e.id, title, message: result.error.message, hint, at: e.at });
  }

  // Sending -----------------------------------------------------------------------------------
  async function flush() {
    clearTimeout(timer);
    timer = null;
    if (sending) return;
    const items = await pending();
    sending = true;
    let raised = false;
    try {
      const batch = items.slice(0, 500);
      const response = await fetch(boot.endpoint, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": boot.csrf },
        body: JSON.stringify({ events: batch.map((item) => item.event) }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      const byId = new Map(batch.map((item) => [item.id, item]));
      for (const result of body.results) {
        if (result.status === "rejected" && byId.has(result.id)) {
          alarm(byId.get(result.id), result);
          raised = true;
        }
      }
      settle(body.results);
      await forget(body.results.map((r) => r.id));
      server = body.state;
      rules = window.DoorstepRules(server.rules);
      keepServer();
      keepAlarms();
      $("last-sync").textContent = new Date().toLocaleTimeString();
      delay = firstDelay;
    } catch {
      timer = setTimeout(flush, delay);
      delay = Math.min(delay * 2, maxDelay);
    } finally {
      sending = false;
      await render();
      if (raised) sound();
      if (!timer && (await pending()).length) timer = setTimeout(flush, 200);
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = codeField();
    const value = input.value;
    input.value = "";
    input.focus();
    serial(() => scan(value)).then(refocus);
  });
  form.addEventListener("keydown", unlock);
  $("seal-form").addEventListener("submit", (e) => {
    e.preventDefault();
    serial(() => close("tube.seal")).then(refocus);
  });
  $("discard-form").addEventListener("submit", (e) => {
    e.preventDefault();
    serial(() => close("tube.discard")).then(refocus);
  });
  $("walk-in-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const target = e.target;
    serial(() => walkIn(target)).then(refocus);
  });
  $("alarm-list").addEventListener("click", (e) => {
    const id = e.target instanceof Element ? e.target.dataset.ack : null;
    if (!id) return;
    alarms = alarms.filter((a) => a.id !== id);
    keepAlarms();
    render().then(refocus);
  });
  window.addEventListener("online", () => {
    delay = firstDelay;
    flush();
  });
  window.addEventListener("offline", render);
  // The page's service worker and its cache are core/offline.js's (the lane page includes it).
  render().then(refocus);
  flush();
})();
