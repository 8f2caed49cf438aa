// Small behaviours without inline handlers.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit")) {
    target.form.submit();
  }
});
document.addEventListener("click", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("[data-print]")) {
    event.preventDefault();
    window.print();
  }
});
// Polling fragments (data-poll) wait while their tab is hidden. The filter is here, not in
// hx-trigger, because htmx evaluates trigger filters as code, which the page's
// Content-Security-Policy (no eval) forbids.
document.addEventListener("htmx:beforeRequest", (event) => {
  const source = event.detail && event.detail.elt;
  if (document.hidden && source instanceof HTMLElement && source.hasAttribute("data-poll")) {
    event.preventDefault();
  }
});
// A long job (data-long-job: a roster, a staff list, a lab file) shows that it is alive: its
// buttons are disabled at once, the upload's bytes are counted, then the seconds the server
// has been checking, until its answer replaces the page. Without JavaScript the form posts as
// usual.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-long-job") || !window.FormData) return;
  event.preventDefault();
  const buttons = [...form.querySelectorAll("button, input[type=submit]")];
  buttons.forEach((b) => { b.disabled = true; });
  form.setAttribute("aria-busy", "true");
  const words = form.dataset;
  const status = document.createElement("div");
  status.className = "job-progress";
  status.setAttribute("role", "status");
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  const line = document.createElement("span");
  status.append(bar, " ", line);
  form.append(status);
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_m, k) => String(values[k]));
  const started = Date.now();
  let ticking = null;
  line.textContent = fill(words.jobSending, { pct: 0 });
  const xhr = new XMLHttpRequest();
  xhr.open(form.method || "post", form.action || location.href);
  xhr.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((100 * e.loaded) / e.total);
    bar.value = pct;
    line.textContent = fill(words.jobSending, { pct });
  });
  xhr.upload.addEventListener("load", () => {
    bar.removeAttribute("value"); // the server's part: how long it has been at it
    const tick = () => {
      line.textContent = fill(words.jobChecking, { s: Math.round((Date.now() - started) / 1000) });
    };
    tick();
    ticking = setInterval(tick, 1000);
  });
  const failed = () => {
    clearInterval(ticking);
    buttons.forEach((b) => { b.disabled = false; });
    form.removeAttribute("aria-busy");
    bar.remove();
    status.classList.add("bad");
    line.textContent = words.jobFailed;
  };
  xhr.addEventListener("error", failed);
  xhr.addEventListener("load", () => {
    clearInterval(ticking);
    const type = xhr.getResponseHeader("Content-Type") || "";
    if (!type.startsWith("text/html")) return failed();
    const answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
    document.title = answer.title;
    document.body.replaceWith(document.adoptNode(answer.body));
    if (xhr.responseURL && xhr.responseURL !== location.href) history.replaceState(null, "", xhr.responseURL);
    if (window.htmx) window.htmx.process(document.body);
    window.scrollTo(0, 0);
  });
  xhr.send(event.submitter ? new FormData(form, event.submitter) : new FormData(form));
});
