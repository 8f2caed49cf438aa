"""The district board under ingest, against the town board in the same run, and the district
daily report's time.

    .venv/bin/python bench/district.py [--residents 1000000] [--towns 10] [--seconds 30]

A fresh PostgreSQL database holds a district of N towns and R residents in all (each town built
with the demo's bulk builder, ``demo.town.build_town``: twelve communities of walk-ups and towers)
and a real round running in every town, with a bench site of two lanes and a registrar's device
token per lane. `doorstep serve` serves it. A district commander's session polls the district
board's panels and the first town's command-screen panels in turn from 2 threads, first with no
other load (the baseline of the same run), then while a writer thread posts 100-event batches of
scans through the real ingest (`/api/v1/events`) to the lanes of every town, round-robin, one
batch every 100 ms. Then the district daily report (page and XLSX) and the first town's daily
report are fetched 5 times each. Prints p50/p95 per panel, both phases, the ingest rate reached
and the reports' times. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events import POOL, Poster, doorstep, free_port, serve, tube_events
from run import PG_BENCH, ROOT, environment, fresh_pg

DISTRICT_PANELS = ("towns", "alerts", "support")
TOWN_PANELS = ("clock", "coverage", "sites", "specimens", "needs", "alerts", "chart", "staff")


def poll(
    port: int, cookie: str, urls: list[tuple[str, str]], until: float
) -> dict[str, list[float]]:
    """Each (name, url) in turn from 2 threads until ``until``: latencies per name."""
    latencies: dict[str, list[float]] = {name: [] for name, _url in urls}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Cookie": f"sessionid={cookie}", "HX-Request": "true"}
        n = offset
        while time.perf_counter() < until:
            name, url = urls[n % len(urls)]
            n += 1
            started = time.perf_counter()
            connection.request("GET", url, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"{url}: HTTP {response.status}")
            with lock:
                latencies[name].append(elapsed)

    workers = [threading.Thread(target=worker, args=(t * 5,)) for t in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies


def ingest(port: int, lanes: list[dict[str, object]], until: float) -> tuple[int, int]:
    """One batch of 100 events (5 tubes of 18 people) every 100 ms, each to the next lane of
    the district in turn (open loop); returns events sent and events not accepted."""
    taken = [0] * len(lanes)
    sent = refused = 0
    due = time.perf_counter()
    n = 0
    while due < until:
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        i = n % len(lanes)
        people: list[str] = lanes[i]["people"]  # type: ignore[assignment]
        events: list[dict[str, object]] = []
        for t in range(100 // POOL):
            chunk = people[taken[i] : taken[i] + POOL - 2]
            taken[i] += POOL - 2
            if len(chunk) < POOL - 2:
                raise SystemExit(
                    "the writer ran out of people: raise PEOPLE_PER_TOWN in bench/district_world.py"
                )
            events += tube_events(str(lanes[i]["code"]), f"D{i:02d}{n:06d}{t}X", chunk)
        # A fresh connection per batch: a lane's device posts only every len(lanes) / 10 s, longer
        # than the server keeps an idle connection open.
        _elapsed, answers = Poster(port, str(lanes[i]["token"])).post(events)
        sent += len(events)
        refused += sum(a["status"] != "accepted" for a in answers)
        n += 1
        due += 0.1
    return sent, refused


def timed(port: int, cookie: str, url: str, times: int = 5) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    found = []
    for _ in range(times):
        started = time.perf_counter()
        connection.request("GET", url, headers={"Cookie": f"sessionid={cookie}"})
        response = connection.getresponse()
        response.read()
        found.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
    return found


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else float("nan")


def figure(idle: list[float], busy: list[float]) -> str:
    return (
        f"p50 {pct(idle, 0.5):.0f} / {pct(busy, 0.5):.0f} ms; "
        f"p95 {pct(idle, 0.95):.0f} / {pct(busy, 0.95):.0f} ms ({len(busy)} under ingest)"
    )


def bench(residents: int, towns: int, seconds: float) -> list[tuple[str, str]]:
    home = Path(tempfile.mkdtemp(prefix="doorstep-district-"))
    fresh_pg()
    env = {**environment(home, PG_BENCH), "PYTHONPATH": str(ROOT)}
    doorstep(["migrate", "-v0"], env)
    started = time.perf_counter()
    out = doorstep(
        ["shell", "-c", f"import bench.district_world as b; b.build({residents}, {towns})"], env
    )
    built = time.perf_counter() - started
    world = json.loads(out.strip().splitlines()[-1])
    cookie, campaign, lanes = world["cookie"], world["campaigns"][0], world["lanes"]
    urls = [(f"district {p}", f"/district/panels/{p}/") for p in DISTRICT_PANELS]
    urls += [(f"town {p}", f"/command/{campaign}/panels/{p}/") for p in TOWN_PANELS]
    port = free_port()
    server = serve(env, port)
    results = [("district built", f"{towns} towns, {residents:,} residents in {built:.0f} s")]
    try:
        idle = poll(port, cookie, urls, time.perf_counter() + seconds / 2)
        done: list[tuple[int, int]] = []
        failed: list[BaseException] = []

        def write() -> None:
            try:
                done.append(ingest(port, lanes, until))
            except BaseException as exc:  # said in the main thread, below
                failed.append(exc)

        until = time.perf_counter() + seconds
        writer = threading.Thread(target=write)
        writer.start()
        busy = poll(port, cookie, urls, until)
        writer.join()
        if failed:
            raise SystemExit(f"the writer stopped: {failed[0]!r}")
        [(sent, refused)] = done
        if refused:
            raise SystemExit(
                f"{refused} scans posted while polling were refused: the bench is wrong"
            )
        results.append(
            ("ingest while polling", f"{sent / seconds:,.0f} events/s ({sent:,} sent, 0 refused)")
        )
        for side in ("district", "town"):
            names = [name for name, _url in urls if name.startswith(side)]
            results.append(
                (
                    f"{side} board, all panels (idle / under ingest)",
                    figure(
                        [v for n in names for v in idle[n]], [v for n in names for v in busy[n]]
                    ),
                )
            )
        for name, _url in urls:
            results.append((f"panel {name}", figure(idle[name], busy[name])))
        for name, url in (
            ("district daily report, page", "/district/report/"),
            ("district daily report, XLSX", "/district/report.xlsx"),
            ("town daily report, page", f"/command/{campaign}/report/"),
        ):
            found = timed(port, cookie, url)
            results.append(
                (
                    name,
                    f"median {sorted(found)[len(found) // 2] * 1000:.0f} ms, max {max(found) * 1000:.0f} ms",
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--towns", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    options = parser.parse_args()
    print(f"{'what':<46}  result", flush=True)
    for name, result in bench(options.residents, options.towns, options.seconds):
        print(f"{name:<46}  {result}", flush=True)


if __name__ == "__main__":
    os.environ.pop("DATABASE_URL", None)
    main()
