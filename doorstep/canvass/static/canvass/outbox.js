// The door-to-door outbox (the building page and the revisit list). Every tap gets its own
// UUID and is kept on the phone (localStorage) until the server has answered it, so a stairwell
// without signal loses nothing, a reload without signal shows it still waiting, and a replay
// records nothing twice. Each tap goes to its own building's endpoint (the form's action).
// Answered taps leave the outbox; refused ones are listed with the server's reason (a conflict,
// a lapsed claim) for the leader to act on. Nothing is shown as recorded before the server says
// so: a waiting tap is marked "waiting to send". Taps the server accepted are remembered with
// the server's time, so that an older copy of the page (shown from the offline cache) shows them
// recorded, as it shows the ones still waiting.
(() => {
  const box = document.getElementById("outbox");
  if (!box || !document.querySelector("form[data-outbox]")) return;
  const key = "doorstep-outbox";
  const status = document.getElementById("outbox-status");
  const problems = document.getElementById("outbox-problems");
  const firstDelay = 2000;
  const maxDelay = 60000;
  let delay = firstDelay;
  let timer = null;
  let sending = false;

  const read = (name) => {
    try {
      return JSON.parse(localStorage.getItem(name) || "[]");
    } catch {
      return [];
    }
  };
  const load = () => read(key);
  const save = (taps) => localStorage.setItem(key, JSON.stringify(taps));
  const recordedKey = "doorstep-recorded";
  const KEEP_RECORDED = 2000;
  // When the page was drawn, in the server's time (the building page says; other pages don't).
  const stamp = document.querySelector("#claim-block[data-rendered]");
  const rendered = stamp ? Number(stamp.dataset.rendered) : NaN;
  // The page's town (core/_offline.html): each tap carries it, so that the taps of a town whose
  // data is erased are deleted from this phone and the others' kept (offline.js).
  const here = document.querySelector("script[data-town]");
  const town = here ? here.dataset.town : undefined;

  // Taps kept by the building page before the outbox was shared (one key per building).
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const name = localStorage.key(i);
    const task = name && name.startsWith(`${key}-`) ? name.slice(key.length + 1) : null;
    if (!task) continue;
    const endpoint = `${box.dataset.buildings}${task}/outcomes/`;
    save([...load(), ...read(name).map((tap) => ({ endpoint, ...tap }))]);
    localStorage.removeItem(name);
  }

  // crypto.randomUUID needs a secure context; plain http on a site LAN has only getRandomValues.
  function newId() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function mark(householdId, label, state) {
    const section = document.getElementById(`h-${householdId}`);
    if (!section) return;
    const badge = section.querySelector(".badge.outcome");
    if (badge) {
      badge.textContent = label;
      badge.className = `badge outcome ${state}`;
      badge.dataset.outcome = state === "pending" || state === "problem" ? "" : state;
    }
    section.classList.toggle("pending", state === "pending");
    section.dispatchEvent(new CustomEvent("doorstep:tapped", { bubbles: true, detail: { state } }));
  }

  function problem(tap, message) {
    const section = document.getElementById(`h-${tap.household}`);
    const room = section && section.querySelector(".room") ? section.querySelector(".room").textContent : "";
    const item = document.createElement("li");
    item.textContent = `${room} ${tap.label}: ${box.dataset.problem}. ${message}`;
    problems.append(item);
    mark(tap.household, `${box.dataset.problem}: ${tap.label}`, "problem");
  }

  // Taps recorded after this copy of the page was drawn, newest last, and the building's count.
  function recordedSince() {
    if (Number.isNaN(rendered)) return;
    const recorded = document.getElementById("recorded");
    let progress = null;
    for (const tap of read(recordedKey)) {
      if (!(tap.at > rendered)) continue;
      mark(tap.household, tap.label, tap.outcome);
      if (tap.progress !== undefined && recorded && sameEndpoint(recorded.dataset.endpoint, tap.endpoint)) progress = tap.progress;
    }
    if (progress !== null) recorded.textContent = progress;
  }

  function remember(taps, at, progress) {
    const kept = taps.map(({ household, label, outcome, endpoint, town: tapTown }, n) => ({
      household,
      label,
      outcome,
      endpoint,
      town: tapTown,
      at,
      ...(n === taps.length - 1 ? { progress } : {}),
    }));
    try {
      localStorage.setItem(recordedKey, JSON.stringify([...read(recordedKey), ...kept].slice(-KEEP_RECORDED)));
    } catch {
      // A full storage forgets what was recorded; the next page from the server shows it.
    }
  }

  const sameEndpoint = (a, b) => new URL(a, location.href).href === new URL(b, location.href).href;

  function render() {
    const taps = load();
    for (const tap of taps) mark(tap.household, `${tap.label} · ${box.dataset.waiting}`, "pending");
    if (taps.length) {
      // Once taps have waited, the box stays to say when they have all gone.
      box.dataset.shown = "yes";
      box.hidden = false;
      status.textContent = `${box.dataset.waiting}: ${taps.length}` + (navigator.onLine ? "" : ` · ${box.dataset.offline}`);
    } else {
      status.textContent = box.dataset.sent;
      box.hidden = problems.children.length === 0 && !box.dataset.shown;
    }
    box.dataset.pending = String(taps.length);
  }

  function retryLater() {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
    delay = Math.min(delay * 2, maxDelay);
  }

  async function send(endpoint, taps) {
    const response = await fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify({ taps: taps.map(({ label, endpoint: _e, town: _t, ...tap }) => tap) }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    const answers = new Map(body.results.map((r) => [r.id, r]));
    const accepted = [];
    for (const tap of taps) {
      const answer = answers.get(tap.id);
      if (!answer) continue;
      if (answer.status === "rejected") problem(tap, answer.error.message);
      else {
        mark(tap.household, tap.label, tap.outcome);
        accepted.push(tap);
      }
    }
    if (accepted.length && body.at) remember(accepted, body.at, body.progress.with_outcome);
    const here = document.getElementById("recorded");
    if (claim && here && sameEndpoint(here.dataset.endpoint, endpoint)) claim.claimUntil = body.claim_until;
    // Taps made while this batch was on its way stay for the next one.
    save(load().filter((tap) => !answers.has(tap.id)));
    const recorded = document.getElementById("recorded");
    if (recorded && sameEndpoint(recorded.dataset.endpoint, endpoint)) recorded.textContent = body.progress.with_outcome;
  }

  async function flush() {
    clearTimeout(timer);
    timer = null;
    const taps = load();
    if (!taps.length || sending) {
      render();
      return;
    }
    sending = true;
    try {
      const byEndpoint = new Map();
      for (const tap of taps) byEndpoint.set(tap.endpoint, [...(byEndpoint.get(tap.endpoint) || []), tap]);
      for (const [endpoint, batch] of byEndpoint) await send(endpoint, batch);
      delay = firstDelay;
    } catch {
      retryLater();
    } finally {
      sending = false;
      render();
      if (load().length && !timer) retryLater();
    }
  }

  // The claim as the page knows it (canvass/rules.py page_data): offline, no answer renews it,
  // so a tap made after it ran out will be refused as lapsed. Say so at the tap, in the
  // server's words; the tap is kept (a teammate's taps may have renewed it: the server decides).
  const claimRules = document.getElementById("claim-rules");
  const claim = claimRules ? JSON.parse(claimRules.textContent) : null;

  // Said at the top of the page and under the tapped household: on floor 17 the canvasser's
  // thumb is there, not at the top.
  function warnIfLapsed(form) {
    if (!claim || !claim.claimUntil || Date.now() <= claim.claimUntil) return;
    const until = new Date(claim.claimUntil);
    const at = `${String(until.getHours()).padStart(2, "0")}:${String(until.getMinutes()).padStart(2, "0")}`;
    const words = claim.lapsed
      .replace("{building}", claim.building)
      .replace("{at}", at)
      .replace("{minutes}", String(claim.minutes));
    const state = document.getElementById("claim-state");
    if (state) {
      state.textContent = words;
      state.className = "alert bad";
    }
    let here = form.parentElement.querySelector(".lapsed-warning");
    if (!here) {
      here = document.createElement("p");
      here.className = "alert bad lapsed-warning";
      here.setAttribute("role", "alert");
      form.insertAdjacentElement("afterend", here);
    }
    here.textContent = words;
  }

  document.addEventListener("submit", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLFormElement) || !target.hasAttribute("data-outbox")) return;
    event.preventDefault();
    const button = event.submitter;
    const data = new FormData(target);
    const tap = {
      id: newId(),
      endpoint: target.action,
      household: data.get("household"),
      outcome: button.value,
      exempt_reason: data.get("exempt_reason") || "",
      need_kind: data.get("need_kind") || "",
      need_by: data.get("need_by") || "",
      note: data.get("note") || "",
      at: new Date().toISOString(),
      label: button.textContent.trim(),
      town,
    };
    save([...load(), tap]);
    warnIfLapsed(target);
    const note = target.querySelector("[name=note]");
    if (note) note.value = "";
    const details = target.querySelector("details");
    if (details) details.open = false;
    flush();
  });
  window.addEventListener("online", () => {
    delay = firstDelay;
    flush();
  });
  window.addEventListener("offline", render);
  // Floors drawn after the page (building.js) learn the same.
  document.addEventListener("doorstep:floors", () => {
    recordedSince();
    render();
  });
  recordedSince();
  flush();
})();
