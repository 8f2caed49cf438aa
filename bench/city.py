"""A city's peak on one machine (``make bench-city``): lanes posting single events at a steady
rate through the edge while residents flood the status page, then an app node killed, then the
database's primary killed, then the restore drill; one city (``doorstep.ha.city``: HAProxy, two
lane nodes, one residents' node, PgBouncer, three PostgreSQL nodes under Patroni, pgBackRest).

    .venv/bin/python bench/city.py [--lane-rate 12] [--peak-ratio 20] [--json city.json]

Phases, one after the other, the lanes posting all along (8 scanners, one event a request,
``--lane-rate`` events a second in all, each request sent again until answered, as the lane
page's outbox does):

1. baseline (``--baseline`` s): lanes alone: their p99;
2. flood: residents' phones (bench/flood.py, its own process under SCHED_IDLE: phones are
   other machines) ramp from 0 to ``--peak-ratio`` times the lanes' rate over ``--ramp`` s and hold
   it ``--hold`` s, each request a new connection from one of 200 addresses (one in ten from
   five scripts' addresses, far over the edge's limit per address): the lanes' p99
   during the ramp's top and the hold against the baseline's (target: within 1.5x), lane
   errors (target 0), what the residents got (200, the edge's 429 and 503 pages);
3. an app node killed (SIGKILL, its whole process tree): lane errors (target: only requests in
   flight), how long until no lane answer takes more than 1.5x the baseline p99 (target
   10 s); the node is started again;
4. the primary's database node killed: how long no event was accepted (target 15 s);
5. the restore drill (``ha.backup.restore_drill``): backup time, RPO, RTO.

Then: every acknowledged event on the primary (lost: target 0), a replay of every scanner's
log accepted nothing new, the counters equal to the rows. Figures printed and written to
``--json``. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from doorstep.ha import drill  # noqa: E402
from doorstep.ha.backup import restore_drill  # noqa: E402
from doorstep.ha.city import City  # noqa: E402

LANES = 8


def p99(values: list[float]) -> float:
    return round(drill.percentile(values, 0.99) * 1000, 1)


def window(devices: list[drill.Device], since: float, until: float) -> list[float]:
    return list(drill.latencies(devices, since, until))


def failures(devices: list[drill.Device]) -> int:
    return sum(d.failures for d in devices)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lane-rate", type=float, default=12, help="lane events a second")
    parser.add_argument("--peak-ratio", type=float, default=20)
    parser.add_argument("--baseline", type=float, default=30)
    parser.add_argument("--ramp", type=float, default=30)
    parser.add_argument("--hold", type=float, default=30)
    parser.add_argument("--residents", type=int, default=8000)
    parser.add_argument("--json", default="")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="doorstep-bench-city-"))
    city = City.create(root)
    city.demo = True
    towns: list[drill.Town] = []
    result: dict[str, object] = {"lane_rate": args.lane_rate, "peak_ratio": args.peak_ratio}
    flood_json = root / "flood.json"
    try:
        started = time.monotonic()
        city.start(
            timeout=120,
            prepare=lambda c: towns.append(
                drill.prepare(c.cluster, Path(c.home), residents=args.residents, lanes=LANES)
            ),
        )
        result["setup_seconds"] = round(time.monotonic() - started, 1)
        town = towns[0]
        counted = drill.counters_agree(city.direct_env())  # the demo's morning, counted
        pace = args.lane_rate / LANES
        budget = args.baseline + args.ramp + args.hold + 30 + 40 + 120
        tubes = min(len(town.people) // (drill.POOL * LANES), math.ceil(pace * budget / 12))
        devices = [
            drill.Device(
                city.edge,
                town.tokens[lane],
                drill.tube_batches(town, lane, f"C{n}", tubes, 1),
                pace,
            )
            for n, lane in enumerate(town.lanes[:LANES])
        ]
        stop = threading.Event()
        threads = drill.run_all(devices, stop)

        # 1. Baseline.
        t0 = time.monotonic()
        time.sleep(args.baseline)
        t1 = time.monotonic()
        base = window(devices, t0 + 5, t1)
        base_p99 = p99(base)
        before_flood = failures(devices)

        # 2. Flood.
        flood = subprocess.Popen(
            [
                "chrt", "--idle", "0", sys.executable, str(ROOT / "bench" / "flood.py"),
                "--port", str(city.edge), "--peak", str(args.lane_rate * args.peak_ratio),
                "--ramp", str(args.ramp), "--hold", str(args.hold), "--json", str(flood_json),
            ]
        )  # fmt: skip
        flood.wait(timeout=args.ramp + args.hold + 60)
        t2 = time.monotonic()
        top = window(devices, t1 + args.ramp * 0.5, t1 + args.ramp + args.hold)
        flood_result = json.loads(flood_json.read_text())
        result["baseline"] = {"lane_p99_ms": base_p99, "answers": len(base)}
        result["flood"] = {
            "lane_p99_ms": p99(top),
            "ratio": round(p99(top) / base_p99, 2) if base_p99 else None,
            "lane_errors": failures(devices) - before_flood,
            "answers": len(top),
            "residents": flood_result,
        }

        # 3. An app node killed.
        time.sleep(5)
        before_kill = failures(devices)
        t3 = time.monotonic()
        city.kill_app(city.app("lane1"))
        time.sleep(15)
        slow = [
            a.at for d in devices for a in d.answered
            if a.at >= t3 and a.seconds * 1000 > 1.5 * max(base_p99, 1)
        ]  # fmt: skip
        result["node_kill"] = {
            "lane_errors": failures(devices) - before_kill,
            "p99_back_after_s": round(max(slow) - t3, 1) if slow else 0.0,
            "lane_p99_ms_15s_after": p99(window(devices, t3, t3 + 15)),
        }
        city.start_app(city.app("lane1"))
        city.wait_app(city.app("lane1"))
        city.wait_up(30)

        # 4. The primary killed.
        time.sleep(5)
        cluster = city.cluster
        old = cluster.primary()
        assert old is not None
        t4 = time.monotonic()
        cluster.kill(old)
        cluster.wait_primary(60, other_than=old)
        time.sleep(20)
        result["primary_kill"] = {
            "writes_back_after_s": round(drill.longest_silence(devices, t4, time.monotonic()), 1),
            "lane_p99_ms_after": p99(window(devices, t4, time.monotonic())),
        }
        cluster.start_node(old)
        cluster.wait_healthy(120)

        # 5. The restore drill, the lanes still posting.
        result["restore"] = restore_drill(city.cluster)

        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        acknowledged = set().union(*(d.acknowledged for d in devices))
        found, total = drill.stored(cluster, acknowledged)
        statuses, accepted_again = drill.replay(city.edge, devices)
        statuses2, accepted_twice = drill.replay(city.edge, devices)
        end = drill.counters_agree(city.direct_env())
        moved = {k: end[k] - counted[k] for k in end}
        result["totals"] = {
            "acknowledged": len(acknowledged),
            "lost": len(acknowledged - found),
            "refused": sum(len(d.refused) for d in devices),
            "replay_new": accepted_twice,
            "replay_statuses": sorted(statuses2),
            "counters_moved": moved,
            "counters_agree": moved["members"] == moved["sampled"] == moved["counter"],
            "seconds": round(time.monotonic() - t0, 1),
            "lane_p99_ms_all": p99(window(devices, t0, t2)),
        }
        del statuses, accepted_again, total
    finally:
        city.remove()
        shutil.rmtree(root, ignore_errors=True)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
