"""The building page as a canvasser's phone gets it: a 33-floor tower (8 households a floor, 264
in all) and a six-household walk-up, served by a real server (granian, as `doorstep serve`) and
opened in the system Chromium at 360x740 on DevTools' "Slow 3G" (400 kbit/s down and up, 2,000 ms
latency) with the CPU slowed 4x. Each page is a first visit (a new browser context with only the
session cookie); the tower again after the claim list, and after the claim list and the walk-up,
were opened with signal (the offline worker running, the files those pages use in its cache), as
a canvasser comes to a building and then to the next. For each: time to usable (the first household's buttons on screen and the
outbox running, so that a tap is kept), bytes on the wire until then and until the page is kept
for offline use, DOM nodes, page height, requests per file, and whether a reload without signal
right after it was usable shows the page.

    .venv/bin/python bench/tower_field.py                 # this checkout
    .venv/bin/python bench/tower_field.py --before REV    # and REV's code, same world, same run

Bytes are counted by a TCP relay between the browser and the server (every response byte the
server sends, the service worker's fetches included).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOME = tempfile.mkdtemp(prefix="doorstep-bench-tower-field-")
os.environ["DOORSTEP_HOME"] = HOME
os.environ["DOORSTEP_SECRET_KEY"] = secrets.token_urlsafe(50)
os.environ.pop("DOORSTEP_DEBUG", None)
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "doorstep.settings"
# Claims are made in this process while Playwright's loop runs (its sync API).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from doorstep.canvass import actions  # noqa: E402
from doorstep.canvass.models import BuildingTask  # noqa: E402
from doorstep.core import chromium  # noqa: E402
from doorstep.core.roles import Role  # noqa: E402
from doorstep.territory.models import Building, Community  # noqa: E402
from doorstep.testing import (  # noqa: E402
    client_for,
    make_building,
    make_campaign,
    make_community,
    make_door_team,
    make_household,
    make_resident,
    make_user,
)

# Chrome DevTools' "Slow 3G": 500 kbit/s x 0.8 each way, 400 ms x 5 latency.
SLOW_3G = {
    "offline": False,
    "latency": 2000,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}
CPU_SLOWDOWN = 4
COUNT_NODES = """() => {
  const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
  let n = 0;
  while (walker.nextNode()) n++;
  return [n, document.getElementsByTagName("*").length, document.documentElement.scrollHeight];
}"""


class Relay:
    """A TCP relay that counts the bytes the server sends and the requests it is asked."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.lock = threading.Lock()
        self.down = 0
        self.requests: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.down, self.requests = 0, []

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, asking: bool) -> None:
        try:
            while data := source.recv(65536):
                with self.lock:
                    if asking:
                        for line in data.split(b"\r\n"):
                            if line.endswith(b" HTTP/1.1") and line.split(b" ")[0] in (
                                b"GET",
                                b"POST",
                            ):
                                self.requests.append(
                                    line.decode(errors="replace").rsplit(" ", 1)[0]
                                )
                    else:
                        self.down += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def _building(community: Community, name: str, floors: int, per_floor: int) -> Building:
    building = make_building(community, name)
    building.floors = floors
    building.save()
    for floor in range(1, floors + 1):
        for n in range(1, per_floor + 1):
            household = make_household(building, f"{floor}{n:02d}")
            make_resident(household, "住户甲")
            make_resident(household, "住户乙")
    return building


def _serve(source: Path, port: int) -> subprocess.Popen[bytes]:
    """The production server (`doorstep serve`'s granian, one process) on ``source``'s code."""
    granian = str(Path(sys.executable).with_name("granian"))
    env = {**os.environ, "PYTHONPATH": str(source), "DOORSTEP_FOLD_INLINE": "0"}
    argv = [granian, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", "1", "--blocking-threads", "1", "--no-ws", "doorstep.wsgi:application"]
    log = open(Path(HOME) / f"serve-{port}.log", "ab")  # noqa: SIM115 (the server's)
    process = subprocess.Popen(argv, cwd=source, env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server on {source} did not start (log: {log.name})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Workers:
    """The service workers' own fetches on the same network (DevTools throttles a page's
    requests only; a page the worker fetches from the network would escape it)."""

    def __init__(self, browser: Browser) -> None:
        self.cdp = browser.new_browser_cdp_session()
        self.sessions = [
            self.cdp.send("Target.attachToTarget", {"targetId": t["targetId"]})["sessionId"]
            for t in self.cdp.send("Target.getTargets")["targetInfos"]
            if t["type"] == "service_worker"
        ]
        self.sent = 0
        self.send("Network.enable", {})

    def send(self, method: str, params: dict[str, object]) -> None:
        for session in self.sessions:
            self.sent += 1
            message = json.dumps({"id": self.sent, "method": method, "params": params})
            self.cdp.send("Target.sendMessageToTarget", {"sessionId": session, "message": message})

    def network(self, conditions: dict[str, object]) -> None:
        self.send("Network.emulateNetworkConditions", conditions)


def _kept(page, url: str, whole: bool = False) -> bool:  # type: ignore[no-untyped-def]
    """The page is in the offline cache as sw.js looks it up: whole (at its own address), or
    as first drawn too (under its light key)."""
    keys = [url] if whole else [url, url.split("?")[0] + "?offline=light"]
    return bool(
        page.evaluate(
            f"Promise.all({keys!r}.map((u) => caches.match(u, {{ignoreVary: true}})))"
            ".then((found) => found.some(Boolean))"
        )
    )


def _measure(
    browser: Browser,
    relay: Relay,
    url: str,
    session: str,
    warm: tuple[str, ...] = (),
    link: bool = False,
) -> dict[str, object]:
    """A first visit to ``url``, typed in; with ``warm``, after those pages (the claim list,
    another building) were opened with signal, so that the offline worker runs and holds the
    files; with ``link``, from a link on the home page (no worker yet, but the home page's
    static files in the browser's cache; Chromium keeps a typed-in page apart from the site's
    own fetches, a followed link not, so offline.js can keep the latter without a refetch)."""
    base = f"http://127.0.0.1:{relay.port}"
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    if link:
        page.goto(base + "/")  # Doorstep's home page: no offline worker yet
    for address in warm:
        page.goto(base + address)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_timeout(2000)
    workers = Workers(browser) if warm else None
    if workers:
        workers.network(SLOW_3G)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    relay.reset()
    started = time.perf_counter()
    if link:
        page.evaluate(f"location.href = {url!r}")
    else:
        page.goto(base + url, wait_until="commit", timeout=120_000)
    page.wait_for_selector(".household button[value=notified]", state="visible", timeout=120_000)
    page.wait_for_selector("#outbox[data-pending]", state="attached", timeout=120_000)
    usable = time.perf_counter() - started
    bytes_usable = relay.down
    nodes, elements, height = page.evaluate(COUNT_NODES)
    # A reload without signal once the page is usable (the first seconds on the stairs).
    kept_at_usable = _kept(page, base + url)
    while not _kept(page, base + url, whole=True) and time.perf_counter() - started < 120:
        page.wait_for_timeout(250)
    kept = time.perf_counter() - started
    # The whole building follows for the offline copy (the new page): wait until quiet.
    quiet, last = 0, relay.down
    while quiet < 8 and time.perf_counter() - started < 180:
        page.wait_for_timeout(500)
        quiet, last = (quiet + 1, last) if relay.down == last else (0, relay.down)
    bytes_all = relay.down
    fetched = Counter(relay.requests)
    context.set_offline(True)
    if workers:
        workers.network({**SLOW_3G, "offline": True})
    try:
        page.reload(timeout=30_000)
        offline = page.locator(".household").count()
    except Exception:  # the browser's error page
        offline = 0
    context.close()
    statics = {r: n for r, n in fetched.items() if "/static/" in r}
    return {
        "usable": usable,
        "bytes_usable": bytes_usable,
        "bytes_all": bytes_all,
        "nodes": nodes,
        "elements": elements,
        "height": height,
        "kept": kept,
        "kept_at_usable": kept_at_usable,
        "static_max": max(statics.values(), default=0),
        "statics": len(statics),
        "page_fetches": fetched.get(f"GET {url}", 0),
        "requests": len(relay.requests),
        "offline": offline,
    }


def _tree(rev: str) -> Path:
    """``rev``'s files, unpacked beside the checkout's (no worktree, no change to it)."""
    target = Path(tempfile.mkdtemp(prefix="doorstep-bench-before-"))
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="a git revision to measure in the same run")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    community = make_community()
    tower = _building(community, "18号楼", 33, 8)
    walkup = _building(community, "3号楼", 1, 6)
    campaign = make_campaign(community)
    leader = make_user(Role.TEAM_LEADER, community)
    make_door_team(community, "第2组", leader)
    session = client_for(leader).cookies["sessionid"].value
    walkup_task = BuildingTask.objects.get(campaign=campaign, building=walkup)
    sources = [("this checkout", ROOT)]
    if args.before:
        sources.insert(0, (f"before ({args.before})", _tree(args.before)))
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium.PATH, args=chromium.ARGS)
        for label, source in sources:
            port = _free_port()
            server = _serve(source, port)
            relay = Relay(port)
            try:
                walkup_url = reverse("canvass:task", args=[walkup_task.pk])
                for building, warm, link, how in (
                    (walkup, (), False, ""),
                    (tower, (), False, ""),
                    (tower, (), True, " (from the home page)"),
                    (tower, ("/canvass/",), False, " (after the claim list)"),
                    (tower, ("/canvass/", walkup_url), False, " (after the claim list and 3号楼)"),
                ):
                    task = BuildingTask.objects.get(campaign=campaign, building=building)
                    actions.claim(leader, task)
                    url = reverse("canvass:task", args=[task.pk])
                    measured = _measure(browser, relay, url, session, warm, link)
                    rows.append((label, building.name + how, measured))
                    actions.release(leader, task)
            finally:
                server.terminate()
                server.wait(timeout=30)
        browser.close()
    print(
        f"Slow 3G (400/400 kbit/s, 2,000 ms), CPU 4x slower, 360x740, first visit. "
        f"Chromium {chromium.PATH}; load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
    )
    print(
        "| code | building | usable (s) | KB on the wire until usable | KB until quiet "
        "(offline copy included) | DOM nodes (elements) | page height (px) | kept offline "
        "at usable / whole after (s) | static file fetched at most | page fetches | reload "
        "without signal (households) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, name, m in rows:
        print(
            f"| {label} | {name} | {m['usable']:.1f} | {m['bytes_usable'] / 1024:.0f} | "
            f"{m['bytes_all'] / 1024:.0f} | {m['nodes']:,} ({m['elements']:,}) | "
            f"{m['height']:,} | {'yes' if m['kept_at_usable'] else 'no'} / {m['kept']:.1f} | "
            f"{m['static_max']}x ({m['statics']} files) | {m['page_fetches']} | {m['offline']} |"
        )


if __name__ == "__main__":
    main()
