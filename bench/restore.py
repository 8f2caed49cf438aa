"""The restore drill under load: RPO and RTO of pgBackRest backups of the three-node cluster.

    .venv/bin/python bench/restore.py [--residents 6000] [--lanes 4] [--pace 3] [--watch 30]

A cluster whose every node archives WAL into a pgBackRest repository (archive_timeout 10 s),
`doorstep serve` against it, lanes posting single events at ``--pace`` requests a second each.
Under that load ``backup.restore_drill`` takes a full backup, watches the age of the newest
archived WAL for ``--watch`` seconds, freezes the repository as a loss of every node would
leave it, restores it in full into a fresh folder and starts it: printed are the backup's time
and size, the RPO (how much older the newest restored event is than the newest the cluster
held, and how many events that is) and the RTO (restore and recovery until it takes writes).
Loopback only; bounded in time; everything is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from doorstep.ha import drill  # noqa: E402
from doorstep.ha.backup import Backups, restore_drill  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=6000)
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--pace", type=float, default=3.0, help="requests a second per lane")
    parser.add_argument("--watch", type=float, default=30.0, help="seconds of archive ages")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="doorstep-bench-restore-"))
    home = Path(tempfile.mkdtemp(prefix="doorstep-bench-restore-home-"))
    backups = Backups.create_cluster(root)
    cluster = backups.cluster
    server: drill.Server | None = None
    stop = threading.Event()
    try:
        started = time.monotonic()
        cluster.start(timeout=120)
        backups.setup()
        town = drill.prepare(cluster, home, residents=args.residents, lanes=args.lanes)
        print(f"cluster, stanza and town ready in {time.monotonic() - started:.0f} s", flush=True)
        server = drill.serve(town.env, home / "serve.log", workers=2)
        tubes = len(town.people) // (drill.POOL * args.lanes)
        print(f"{len(town.people)} people: {tubes} tubes a lane", flush=True)
        devices = [
            drill.Device(
                server.port,
                town.tokens[lane],
                drill.tube_batches(town, lane, f"RB{n}", tubes, 1),
                pace=args.pace,
            )
            for n, lane in enumerate(town.lanes)
        ]
        threads = drill.run_all(devices, stop)
        time.sleep(5)
        loaded = time.monotonic()
        result = restore_drill(cluster, backups, watch=args.watch)
        seconds = time.monotonic() - loaded
        if any(d.sent == len(d.requests) for d in devices):
            print("The load ended before the drill did: raise --residents or lower --pace.")
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
        answered = [a for d in devices for a in d.answered if loaded <= a.at]
        result["load_events_per_second"] = round(sum(a.accepted for a in answered) / seconds, 1)
        result["lanes"] = args.lanes
        print(json.dumps(result, indent=2))
    finally:
        stop.set()
        if server is not None:
            server.kill()
        cluster.remove()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
