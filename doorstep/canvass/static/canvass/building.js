// A tall building on a phone: the floor index stays on screen (jump to a floor; floors with a
// household still to knock are marked), "next household without an outcome" finds the next one
// below where you are, and the page stays where it is after a tap (the outbox answers in place).
(() => {
  const index = document.getElementById("floor-index");
  if (!index) return;
  const next = document.getElementById("next-untapped");
  // A heading jumped to lands just below the index, however many units' rows it has.
  const measure = () => document.documentElement.style.setProperty("--floor-index-height", `${index.offsetHeight}px`);
  measure();
  window.addEventListener("resize", measure);
  const links = new Map(Array.from(index.querySelectorAll("a.floor"), (a) => [a.dataset.anchor, a]));

  // A household still to knock: no outcome, nothing waiting to send, not everyone sampled.
  const open = (section) => section.classList.contains("todo") && !section.classList.contains("pending");

  function markFloor(group) {
    const link = links.get(group.dataset.anchor);
    if (link) link.classList.toggle("todo", Array.from(group.querySelectorAll(".household"), open).some(Boolean));
  }

  document.addEventListener("doorstep:tapped", (event) => {
    const section = event.target;
    if (!(section instanceof HTMLElement)) return;
    // Waiting to send or recorded: either way nobody needs to knock there now; a refusal puts
    // the household back on the list.
    section.classList.toggle("todo", event.detail.state === "problem");
    const group = section.closest(".floor-group");
    if (group) markFloor(group);
  });

  // Jumping keeps the index in view and moves it to the floor that was chosen.
  index.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a.floor") : null;
    if (!link) return;
    event.preventDefault();
    const target = document.getElementById(link.dataset.anchor);
    if (!target) return;
    target.scrollIntoView({ block: "start" });
    history.replaceState(null, "", `#${link.dataset.anchor}`);
    link.scrollIntoView({ block: "nearest", inline: "center" });
  });

  next.addEventListener("click", () => {
    const households = Array.from(document.querySelectorAll(".household"));
    const below = index.getBoundingClientRect().bottom + 1;
    const found =
      households.find((h) => open(h) && h.getBoundingClientRect().top > below) || households.find(open);
    if (!found) {
      next.textContent = next.dataset.none;
      return;
    }
    found.scrollIntoView({ block: "start" });
    const group = found.closest(".floor-group");
    const link = group ? links.get(group.dataset.anchor) : null;
    if (link) link.scrollIntoView({ block: "nearest", inline: "center" });
  });
})();
