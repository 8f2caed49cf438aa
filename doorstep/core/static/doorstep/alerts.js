// New critical alerts (core/_alerts.html marks them data-critical) sound and are highlighted;
// the alerts themselves are sorted by the server (critical and unacknowledged first, newest
// first). What this browser has already announced is kept per tab in sessionStorage, so a
// refresh every 5 s sounds only for what is new. The sound can be muted (kept in localStorage).
(() => {
  const SEEN = "doorstep.alerts.seen";
  const MUTED = "doorstep.alerts.muted";
  let audio = null;
  // What was on the screen when the page loaded is not news: only what comes after sounds.
  let primed = false;

  const read = (store, key) => {
    try {
      return store.getItem(key);
    } catch {
      return null;
    }
  };
  const write = (store, key, value) => {
    try {
      store.setItem(key, value);
    } catch {
      // Private mode: the tab still works, it just forgets between refreshes.
    }
  };
  const muted = () => read(localStorage, MUTED) === "1";

  const beep = () => {
    // Counted even when the browser will not play (no user gesture yet), so that a test and a
    // curious operator can see that the screen asked for the sound.
    document.body.dataset.alertSounds = String(Number(document.body.dataset.alertSounds || 0) + 1);
    try {
      audio = audio || new AudioContext();
      const start = audio.currentTime;
      for (const [offset, pitch] of [[0, 880], [0.25, 660]]) {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = pitch;
        gain.gain.setValueAtTime(0.2, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.001, start + offset + 0.2);
        tone.connect(gain).connect(audio.destination);
        tone.start(start + offset);
        tone.stop(start + offset + 0.2);
      }
    } catch {
      // No audio device: the highlight still shows.
    }
  };

  const showMute = () => {
    for (const button of document.querySelectorAll("[data-alert-mute]")) {
      const off = muted();
      button.setAttribute("aria-pressed", off ? "true" : "false");
      button.textContent = off ? button.dataset.unmuteLabel : button.dataset.muteLabel;
    }
  };

  const look = () => {
    if (!document.querySelector("[data-alert-mute], [data-alerts]")) return;
    const first = !primed;
    primed = true;
    const seen = new Set(JSON.parse(read(sessionStorage, SEEN) || "[]"));
    let fresh = 0;
    for (const item of document.querySelectorAll("[data-alerts] li[data-critical]")) {
      const key = item.dataset.key;
      if (seen.has(key)) continue;
      seen.add(key);
      if (!first) {
        item.classList.add("alert-new");
        fresh += 1;
      }
    }
    write(sessionStorage, SEEN, JSON.stringify([...seen].slice(-500)));
    if (fresh && !muted()) beep();
  };

  document.addEventListener("click", (event) => {
    const button = event.target instanceof HTMLElement && event.target.closest("[data-alert-mute]");
    if (!button) return;
    event.preventDefault();
    write(localStorage, MUTED, muted() ? "0" : "1");
    showMute();
  });
  document.addEventListener("DOMContentLoaded", () => {
    look();
    showMute();
  });
  document.addEventListener("htmx:afterSettle", () => {
    look();
    showMute();
  });
})();
