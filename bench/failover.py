"""Failovers under load: `doorstep serve` against a three-node cluster (Patroni, etcd), devices
posting batches and single events, a node killed mid-run.

    .venv/bin/python bench/failover.py [--seconds 20] [--residents 4000] [--only NAME,...]

Scenarios, each on a fresh cluster:

* primary: the primary's node is killed (Patroni and PostgreSQL, SIGKILL), synchronous standby;
* primary-async: the same with asynchronous replication, the control: it must be able to lose
  what it acknowledged;
* sync-standby: the synchronous standby's node is killed: writes must go on with the other;
* server-and-primary: the app server and the primary are killed at once; the server is
  started again and the devices resend;
* ingest: batches for a fixed time on a synchronous cluster and on an asynchronous one, in the
  same run: what the synchronous standby costs.

In the kill scenarios the primary's WAL senders are stopped for one second just before the
kill (SIGSTOP, as a slow network would hold the stream): a synchronous primary then waits and
acknowledges nothing the standbys lack; an asynchronous one goes on acknowledging, and a kill
in that second loses what it acknowledged. That is what makes the control able to fail.

Afterwards, for each: every acknowledged event must be on the new primary (lost), a replay of
every device's whole log must create nothing (doubled), the counters must equal the rows.
Printed: acknowledged, lost, doubled, the longest time no write was accepted, p99 before /
during / after, and whether the cluster is synchronous again. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from doorstep.ha import drill  # noqa: E402
from doorstep.ha.cluster import Cluster, Node  # noqa: E402


@dataclass
class Run:
    cluster: Cluster
    town: drill.Town
    server: drill.Server
    home: Path
    devices: list[drill.Device]


# Each device: (events a request, tubes of ten in its log, requests a second). In the kill
# scenarios three lanes send batches and three send single events, about 330 events a second
# in all; the ingest scenario's three send batches as fast as they are answered.
UNDER_LOAD = [(50, 300, 2.0)] * 3 + [(1, 40, 10.0)] * 3
FLAT_OUT = [(100, 1200, 0.0)] * 3


def start(synchronous: bool, residents: int, plans: list[tuple[int, int, float]]) -> Run:
    # The cluster's folder itself is given to the postgres user; a folder above it would not be.
    cluster = Cluster.create(
        Path(tempfile.mkdtemp(prefix="doorstep-failover-db-")), synchronous=synchronous
    )
    home = Path(tempfile.mkdtemp(prefix="doorstep-failover-home-"))
    try:
        cluster.start(timeout=120)
        town = drill.prepare(cluster, home, residents=residents, lanes=8)
        server = drill.serve(town.env, home / "serve.log", workers=2)
    except BaseException:
        # A run that fails before it starts leaves no cluster running behind it.
        cluster.remove()
        shutil.rmtree(home, ignore_errors=True)
        raise
    devices = [
        drill.Device(
            server.port,
            town.tokens[lane],
            drill.tube_batches(town, lane, f"F{n}", tubes, size),
            pace=pace,
        )
        for n, (lane, (size, tubes, pace)) in enumerate(zip(town.lanes, plans, strict=False))
    ]
    return Run(cluster, town, server, home, devices)


def acknowledged(run: Run) -> int:
    return sum(len(d.acknowledged) for d in run.devices)


def hold_replication(cluster: Cluster, seconds: float) -> Callable[[], None]:
    """Stop the primary's WAL senders (SIGSTOP) for ``seconds``, as a slow network would hold
    what the standbys have not got yet; returns what lets them go again. (Stopping the
    standbys' receivers would not do: the kernel still takes the stream into their sockets.)"""
    stopped: list[int] = []
    primary = cluster.primary()
    if primary is not None:
        with cluster.connect(primary) as connection:
            for (pid,) in connection.execute("SELECT pid FROM pg_stat_replication"):
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
    time.sleep(seconds)

    def release() -> None:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    return release


def kill_scenario(
    name: str,
    synchronous: bool,
    victim: str,
    seconds: float,
    residents: int,
    with_server: bool = False,
) -> list[tuple[str, str]]:
    run = start(synchronous, residents, UNDER_LOAD)
    stop = threading.Event()
    try:
        t0 = time.monotonic()
        threads = drill.run_all(run.devices, stop)
        time.sleep(seconds / 3)
        target: Node | None = (
            run.cluster.primary()
            if victim == "primary"
            else (run.cluster.sync_standbys() or [None])[0]
        )
        assert target is not None, run.cluster.members()
        release = hold_replication(run.cluster, 1.0)
        killed = time.monotonic()
        if with_server:
            run.server.kill()
        run.cluster.kill(target)
        release()
        if with_server:
            run.server = drill.serve(
                run.town.env, run.home / "serve.log", workers=2, port=run.server.port
            )
        before = acknowledged(run)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and acknowledged(run) < before + 200:
            time.sleep(0.1)
        back = time.monotonic()
        time.sleep(seconds / 3)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        end = time.monotonic()
        silence = drill.longest_silence(run.devices, killed - 1.5, back)
        acked = set().union(*(d.acknowledged for d in run.devices))
        found, _total = drill.stored(run.cluster, acked)
        statuses, _new = drill.replay(run.server.port, run.devices)
        statuses2, again = drill.replay(run.server.port, run.devices)
        doubled = drill.doubled(run.cluster)
        counts = drill.counters_agree(run.town.env)
        try:
            run.cluster.wait_healthy(30, size=2)
            synchronous_again = bool(run.cluster.sync_standbys())
        except Exception:
            synchronous_again = False
        p99 = {
            phase: drill.percentile(list(drill.latencies(run.devices, a, b)), 0.99) * 1000
            for phase, (a, b) in {
                "before": (t0, killed - 1.5),
                "during": (killed - 1.5, back),
                "after": (back, end),
            }.items()
        }
        refused = sum(len(d.refused) for d in run.devices)
        return [
            (
                f"{name}: kill the {victim}{' and the server' if with_server else ''}",
                f"{len(acked):,} acknowledged; lost {len(acked - found)}; "
                f"doubled {doubled}; replays answered {sorted(statuses | statuses2)}, the second "
                f"accepted {again}; refused {refused}; "
                f"no write accepted for {silence:.1f} s; "
                f"p99 before {p99['before']:.0f} ms, during {p99['during']:.0f} ms, after {p99['after']:.0f} ms; "
                f"counters = rows: {counts['members'] == counts['counter']}; "
                f"synchronous again: {synchronous_again if synchronous else 'n/a (asynchronous)'}",
            )
        ]
    finally:
        stop.set()
        run.server.kill()
        run.cluster.remove()
        shutil.rmtree(run.home, ignore_errors=True)


def ingest(seconds: float, residents: int) -> list[tuple[str, str]]:
    rates = {}
    for synchronous in (True, False):
        run = start(synchronous, residents * 2, FLAT_OUT)
        stop = threading.Event()
        try:
            threads = drill.run_all(run.devices, stop)
            time.sleep(2)
            start_count, t = acknowledged(run), time.monotonic()
            time.sleep(seconds / 2)
            rates[synchronous] = (acknowledged(run) - start_count) / (time.monotonic() - t)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            stop.set()
            run.server.kill()
            run.cluster.remove()
            shutil.rmtree(run.home, ignore_errors=True)
    return [
        (
            "ingest: batches of 100, 3 devices, as fast as answered",
            f"{rates[True]:,.0f} events/s with a synchronous standby, {rates[False]:,.0f} asynchronous: "
            f"{rates[False] / rates[True]:.2f}x",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--only", default="")
    options = parser.parse_args()
    scenarios: dict[str, Callable[[], list[tuple[str, str]]]] = {
        "primary": lambda: kill_scenario(
            "synchronous", True, "primary", options.seconds, options.residents
        ),
        "primary-async": lambda: kill_scenario(
            "asynchronous (control)", False, "primary", options.seconds, options.residents
        ),
        "sync-standby": lambda: kill_scenario(
            "synchronous", True, "synchronous standby", options.seconds, options.residents
        ),
        "server-and-primary": lambda: kill_scenario(
            "synchronous", True, "primary", options.seconds, options.residents, with_server=True
        ),
        "ingest": lambda: ingest(options.seconds, options.residents),
    }
    chosen = [s for s in options.only.split(",") if s] or list(scenarios)
    print(f"{'what':<58}  result ({os.cpu_count()} cores)", flush=True)
    for name in chosen:
        for what, figure in scenarios[name]():
            print(f"{what:<58}  {figure}", flush=True)


if __name__ == "__main__":
    main()
