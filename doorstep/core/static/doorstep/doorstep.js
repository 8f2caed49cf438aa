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
