// A tall building on a phone. The page comes floor by floor: the first page draws the floors
// where work is, and every other floor is a heading that is filled (htmx's header on the same
// URL, `?floors=a-b`) when it comes near the screen or is chosen in the floor index. The floor
// index stays on screen (jump to a floor; floors with a household still to knock are marked),
// "next household without an outcome" finds the next one below where you are, loading its floor
// if need be, and the page stays where it is after a tap (the outbox answers in place).
// A copy of the page shown from the offline cache is older than what the phone knows: the last
// claim state this phone saw replaces the copy's (a team's own building is not offered to it).
(() => {
  const claim = document.getElementById("claim-block");
  const leader = document.getElementById("leader-block");
  if (claim && leader) {
    const key = `doorstep-claim-${claim.dataset.task}`;
    const rendered = Number(claim.dataset.rendered);
    let known = null;
    try {
      known = JSON.parse(localStorage.getItem(key) || "null");
    } catch {
      known = null;
    }
    if (known && known.rendered > rendered) {
      claim.innerHTML = known.claim;
      leader.innerHTML = known.leader;
    } else {
      try {
        localStorage.setItem(key, JSON.stringify({ rendered, claim: claim.innerHTML, leader: leader.innerHTML }));
      } catch {
        // A full storage keeps the copy's own claim state.
      }
    }
  }

  const index = document.getElementById("floor-index");
  if (!index) return;
  const next = document.getElementById("next-untapped");
  // A heading jumped to lands just below the index, however many units' rows it has.
  const measure = () => document.documentElement.style.setProperty("--floor-index-height", `${index.offsetHeight}px`);
  measure();
  window.addEventListener("resize", measure);
  const links = new Map(Array.from(index.querySelectorAll("a.floor"), (a) => [a.dataset.anchor, a]));
  const groups = () => Array.from(document.querySelectorAll(".floor-group"));
  const PER_REQUEST = 40; // households asked for at once, as the server's first page
  const loading = new Map(); // anchor → the promise of its floor

  // A household still to knock: no outcome, nothing waiting to send, not everyone sampled.
  const open = (section) => section.classList.contains("todo") && !section.classList.contains("pending");

  function markFloor(group) {
    const link = links.get(group.dataset.anchor);
    if (link && !group.classList.contains("later")) {
      link.classList.toggle("todo", Array.from(group.querySelectorAll(".household"), open).some(Boolean));
    }
  }

  // The floors to ask for with `later`: it and the floors not yet drawn next to it, above it
  // first, then below, up to PER_REQUEST households.
  function around(later) {
    const all = groups();
    const at = all.indexOf(later);
    let first = at;
    let last = at;
    let households = Number(later.dataset.households);
    const fits = (g) => g && g.classList.contains("later") && !loading.has(g.dataset.anchor) && households + Number(g.dataset.households) <= PER_REQUEST;
    while (fits(all[last + 1])) households += Number(all[++last].dataset.households);
    while (fits(all[first - 1])) households += Number(all[--first].dataset.households);
    return all.slice(first, last + 1);
  }

  function load(later) {
    if (!later.classList.contains("later")) return Promise.resolve();
    if (loading.has(later.dataset.anchor)) return loading.get(later.dataset.anchor);
    const wanted = around(later);
    const range = `${wanted[0].dataset.n}-${wanted[wanted.length - 1].dataset.n}`;
    const done = fetch(`${index.dataset.floors}?floors=${range}`, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.text();
      })
      .then((html) => {
        const drawn = new DOMParser().parseFromString(html, "text/html");
        for (const group of drawn.querySelectorAll(".floor-group")) {
          const old = document.querySelector(`.floor-group.later[data-anchor="${group.dataset.anchor}"]`);
          if (!old) continue;
          const fresh = document.importNode(group, true);
          old.replaceWith(fresh);
          if (watcher) watcher.unobserve(old);
        }
        // The outbox marks what waits to send or was recorded since this copy was made.
        document.dispatchEvent(new CustomEvent("doorstep:floors"));
        for (const group of groups()) markFloor(group);
      })
      .catch(() => {
        for (const g of wanted) {
          const note = g.querySelector("p");
          if (note && !navigator.onLine) note.textContent = index.dataset.offline;
        }
      })
      .finally(() => {
        for (const g of wanted) loading.delete(g.dataset.anchor);
      });
    for (const g of wanted) loading.set(g.dataset.anchor, done);
    return done;
  }

  // A floor is filled when it comes within a screen of the one in view.
  const watcher =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) if (entry.isIntersecting) load(entry.target);
          },
          { rootMargin: "50% 0px 100% 0px" },
        )
      : null;
  const watch = () => {
    if (watcher) for (const later of document.querySelectorAll(".floor-group.later")) watcher.observe(later);
  };
  watch();
  window.addEventListener("online", () => {
    if (!watcher) return;
    // Floors that could not come without signal are asked for again.
    watcher.disconnect();
    watch();
  });

  document.addEventListener("doorstep:tapped", (event) => {
    const section = event.target;
    if (!(section instanceof HTMLElement)) return;
    // Waiting to send or recorded: either way nobody needs to knock there now; a refusal puts
    // the household back on the list.
    section.classList.toggle("todo", event.detail.state === "problem");
    const group = section.closest(".floor-group");
    if (group) markFloor(group);
  });

  function jump(anchor) {
    const target = document.getElementById(anchor);
    if (!target) return;
    target.scrollIntoView({ block: "start" });
    history.replaceState(null, "", `#${anchor}`);
    const link = links.get(anchor);
    if (link) link.scrollIntoView({ block: "nearest", inline: "center" });
  }

  // Jumping keeps the index in view and moves it to the floor that was chosen, drawn first.
  index.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a.floor") : null;
    if (!link) return;
    event.preventDefault();
    const group = document.querySelector(`.floor-group[data-anchor="${link.dataset.anchor}"]`);
    if (!group) return;
    jump(link.dataset.anchor);
    if (group.classList.contains("later")) load(group).then(() => jump(link.dataset.anchor));
  });

  function show(found) {
    found.scrollIntoView({ block: "start" });
    const group = found.closest(".floor-group");
    const link = group ? links.get(group.dataset.anchor) : null;
    if (link) link.scrollIntoView({ block: "nearest", inline: "center" });
  }

  // The next floor still to knock that is not drawn yet, below `y` (or anywhere).
  const laterWithWork = (below) =>
    groups().find((g) => {
      const link = links.get(g.dataset.anchor);
      return g.classList.contains("later") && link && link.classList.contains("todo") && (below === null || g.getBoundingClientRect().top > below);
    });

  next.addEventListener("click", () => {
    const below = index.getBoundingClientRect().bottom + 1;
    const households = Array.from(document.querySelectorAll(".household"));
    const drawnBelow = households.find((h) => open(h) && h.getBoundingClientRect().top > below);
    const laterBelow = laterWithWork(below);
    // Whichever comes first down the building: a drawn household or a floor still to fetch.
    if (drawnBelow && (!laterBelow || drawnBelow.getBoundingClientRect().top < laterBelow.getBoundingClientRect().top)) {
      show(drawnBelow);
      return;
    }
    const later = laterBelow || laterWithWork(null);
    const drawnAbove = households.find(open);
    if (!later || (drawnAbove && !laterBelow && drawnAbove.getBoundingClientRect().top < later.getBoundingClientRect().top)) {
      if (drawnAbove) show(drawnAbove);
      else next.textContent = next.dataset.none;
      return;
    }
    const anchor = later.dataset.anchor;
    load(later).then(() => {
      const group = document.querySelector(`.floor-group[data-anchor="${anchor}"]`);
      const found = group ? Array.from(group.querySelectorAll(".household")).find(open) : null;
      if (found) show(found);
      else jump(anchor);
    });
  });
})();
