"""The commander's dashboard under ingest: panel latency on a large campaign while scans pour in.

    .venv/bin/python bench/dashboard.py [--residents 1000000] [--seconds 30] [--backends postgresql]

A demo town of N residents (one campaign over all of it) is served by `doorstep serve`. A
commander's session polls every dashboard panel in turn from 2 threads, first with no other
load (the baseline of the same run), then while a registrar's device posts batches of 100 scans
every 100 ms (1,000 events/s, open loop). Prints p50/p95 per panel, both phases, and the ingest
rate reached. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events import POOL, Poster, demo_town, free_port, serve, shell, tube_events

PANELS = ("clock", "coverage", "sites", "specimens", "needs", "alerts", "chart", "staff")


def session_cookie(env: dict[str, str]) -> tuple[str, int]:
    """A signed-in commander's session key (made server-side) and the campaign's id."""
    script = (
        "from django.contrib.sessions.backends.db import SessionStore;"
        "from doorstep.core.models import User;from doorstep.campaigns.models import Campaign;"
        "u=User.objects.get(username='commander');s=SessionStore();"
        "s['_auth_user_id']=str(u.pk);"
        "s['_auth_user_backend']='django.contrib.auth.backends.ModelBackend';"
        "s['_auth_user_hash']=u.get_session_auth_hash();s.create();"
        'import json;print(json.dumps([s.session_key, Campaign.objects.get(status="active").pk]))'
    )
    key, campaign = shell(script, env)  # type: ignore[misc]
    return str(key), int(campaign)


def poll(
    port: int, cookie: str, campaign: int, until: float, threads: int = 2
) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = {p: [] for p in PANELS}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Cookie": f"sessionid={cookie}", "HX-Request": "true"}
        n = offset
        while time.perf_counter() < until:
            name = PANELS[n % len(PANELS)]
            n += 1
            started = time.perf_counter()
            connection.request("GET", f"/command/{campaign}/panels/{name}/", headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"panel {name}: HTTP {response.status}")
            with lock:
                latencies[name].append(elapsed)

    workers = [threading.Thread(target=worker, args=(t * 3,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies


def ingest(
    port: int, tokens: dict[str, str], lanes: list[str], people: list[str], until: float
) -> tuple[int, int]:
    """Batches of ~100 events every 100 ms from 2 devices (each every 200 ms); returns events
    sent and events not accepted."""
    sent = [0]
    refused = [0]
    lock = threading.Lock()
    per_batch = 100 // POOL * (POOL - 2)  # people per batch: 5 tubes of 18

    def device(d: int) -> None:
        poster = Poster(port, tokens[lanes[d]])  # a device works its own lane
        due = time.perf_counter()
        n = 0
        while due < until:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            start = (n * 2 + d) * per_batch
            if start + per_batch > len(people):
                break
            events: list[dict[str, object]] = []
            for t in range(100 // POOL):
                chunk = people[start + t * (POOL - 2) : start + (t + 1) * (POOL - 2)]
                events += tube_events(lanes[d], f"G{d}{n:06d}{t}X", chunk)
            _elapsed, answers = poster.post(events)
            with lock:
                sent[0] += len(events)
                refused[0] += sum(a["status"] != "accepted" for a in answers)
            n += 1
            due += 0.2

    devices = [threading.Thread(target=device, args=(d,)) for d in range(2)]
    for t in devices:
        t.start()
    for t in devices:
        t.join()
    return sent[0], refused[0]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else float("nan")


def bench(backend: str, residents: int, seconds: float) -> list[tuple[str, str]]:
    town = demo_town("dashboard", backend, residents)
    env, tokens, people, lanes, built = town.env, town.tokens, town.people, town.lanes, town.built
    cookie, campaign = session_cookie(env)
    port = free_port()
    server = serve(env, port)
    results = [(f"{backend}: demo town built", f"{residents:,} residents in {built:.0f} s")]
    try:
        idle = poll(port, cookie, campaign, time.perf_counter() + seconds / 2)
        box: dict[str, tuple[int, int]] = {}
        until = time.perf_counter() + seconds
        feeder = threading.Thread(
            target=lambda: box.setdefault("ingest", ingest(port, tokens, lanes, people, until))
        )
        feeder.start()
        busy = poll(port, cookie, campaign, until)
        feeder.join()
        sent, refused = box["ingest"]
        if refused:
            raise SystemExit(
                f"{refused} scans posted while polling were refused: the bench is wrong"
            )
        everything_idle = [v for vs in idle.values() for v in vs]
        everything_busy = [v for vs in busy.values() for v in vs]
        results.append(
            (
                f"{backend}: ingest while polling",
                f"{sent / seconds:,.0f} events/s ({sent:,} sent, {refused} refused)",
            )
        )
        results.append(
            (
                f"{backend}: all panels, idle / under ingest",
                f"p50 {pct(everything_idle, 0.5):.0f} / {pct(everything_busy, 0.5):.0f} ms; "
                f"p95 {pct(everything_idle, 0.95):.0f} / {pct(everything_busy, 0.95):.0f} ms "
                f"({len(everything_busy)} requests under ingest; "
                f"p95 ratio {pct(everything_busy, 0.95) / pct(everything_idle, 0.95):.1f}x)",
            )
        )
        for name in PANELS:
            results.append(
                (
                    f"{backend}: panel {name}",
                    f"p50 {pct(idle[name], 0.5):.0f} / {pct(busy[name], 0.5):.0f} ms; "
                    f"p95 {pct(idle[name], 0.95):.0f} / {pct(busy[name], 0.95):.0f} ms; "
                    f"mean under ingest {statistics.mean(busy[name]) * 1000:.0f} ms",
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--backends", default="postgresql")
    options = parser.parse_args()
    print(f"{'what':<48}  result (idle / under ingest)", flush=True)
    for backend in options.backends.split(","):
        for name, figure in bench(backend, options.residents, options.seconds):
            print(f"{name:<48}  {figure}", flush=True)


if __name__ == "__main__":
    os.environ.pop("DATABASE_URL", None)
    main()
