"""Device-event ingest through `doorstep serve`, on SQLite and PostgreSQL, against a raw bulk
insert of the same rows in the same run.

    .venv/bin/python bench/events.py [--batches 40] [--singles 1500] [--backends sqlite,postgresql]

Loopback only, bounded counts. A demo town gives the roster; a registrar token posts:
  * batches of 100 events (5 tubes of 20: open, 18 adds... see `tube_events`) from 4 threads;
  * single-event requests from 8 threads, one lane sequence each, with p50/p99 latency.
The baseline is the same event rows (uuid, type, payload) inserted raw with executemany.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import DOORSTEP, PG_BENCH, environment, fresh_pg

PORT = 8787
POOL = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def doorstep(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([DOORSTEP, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"doorstep {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def roster(env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Person codes of the registrar's communities and their lane codes, read via the ORM."""
    script = (
        "import json;from doorstep.core.models import User;from doorstep.territory.models import Resident;"
        "from doorstep.sampling.models import Lane,RoundSample;u=User.objects.get(username='registrar');"
        "c=list(u.communities.values_list('pk',flat=True));"
        "done=RoundSample.objects.values('resident_id');"
        "print(json.dumps([list(Resident.objects.filter(community_id__in=c).exclude(pk__in=done)"
        ".values_list('person_code',flat=True)),"
        "list(Lane.objects.filter(site__community_id__in=c).values_list('code',flat=True))]))"
    )
    people, lanes = json.loads(doorstep(["shell", "-c", script], env).strip().splitlines()[-1])
    return people, lanes


def tube_events(lane: str, tube: str, people: list[str]) -> list[dict[str, object]]:
    at = dt.datetime.now(dt.UTC).isoformat()
    events: list[dict[str, object]] = [
        {
            "id": str(uuid.uuid4()),
            "type": "tube.open",
            "at": at,
            "lane": lane,
            "tube": tube,
            "pool": POOL,
        }
    ]
    events += [
        {"id": str(uuid.uuid4()), "type": "tube.add", "at": at, "tube": tube, "person": p}
        for p in people
    ]
    events.append({"id": str(uuid.uuid4()), "type": "tube.seal", "at": at, "tube": tube})
    return events


class Poster:
    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, events: list[dict[str, object]]) -> tuple[float, list[dict[str, object]]]:
        body = json.dumps({"events": events})
        started = time.perf_counter()
        self.connection.request("POST", "/api/v1/events", body, self.headers)
        response = self.connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}: {data[:300]!r}")
        return elapsed, json.loads(data)["results"]


def run_threads(
    work: list[list[list[dict[str, object]]]], port: int, token: str
) -> tuple[float, list[float], int, int]:
    """Each thread posts its own list of requests in order; returns wall time, latencies,
    events sent and events not accepted."""
    latencies: list[float] = []
    refused = [0]
    lock = threading.Lock()

    def worker(requests: list[list[dict[str, object]]]) -> None:
        poster = Poster(port, token)
        for events in requests:
            elapsed, answers = poster.post(events)
            bad = sum(a["status"] != "accepted" for a in answers)
            with lock:
                latencies.append(elapsed)
                refused[0] += bad

    threads = [threading.Thread(target=worker, args=(w,)) for w in work]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return wall, latencies, sum(len(r) for w in work for r in w), refused[0]


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [DOORSTEP, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                time.sleep(0.5)
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("doorstep serve did not start")


def raw_insert(backend: str, home: Path, rows: list[tuple[str, str, str]]) -> float:
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_BENCH) as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS raw_events (id uuid PRIMARY KEY, type text, payload jsonb)"
            )
            connection.commit()
            started = time.perf_counter()
            with connection.cursor() as cursor, cursor.copy("COPY raw_events FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            connection.commit()
            return time.perf_counter() - started
    import sqlite3

    connection = sqlite3.connect(home / "raw.sqlite3")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE raw_events (id TEXT PRIMARY KEY, type TEXT, payload TEXT)")
    started = time.perf_counter()
    with connection:
        connection.executemany("INSERT INTO raw_events VALUES (?,?,?)", rows)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def bench(backend: str, batches: int, singles: int) -> list[tuple[str, str]]:
    home = Path(tempfile.mkdtemp(prefix=f"doorstep-events-{backend}-"))
    if backend == "postgresql":
        fresh_pg()
        env = environment(home, PG_BENCH)
    else:
        env = environment(home)
    doorstep(["migrate", "-v0"], env)
    doorstep(["demo", "--residents", "60000", "--no-serve"], env)
    token = doorstep(["create-token", "registrar"], env).strip()
    people, lanes = roster(env)
    per_tube = POOL
    tubes_per_batch = 100 // (per_tube + 2) or 1
    need = batches * tubes_per_batch * per_tube + singles
    if len(people) < need:
        raise SystemExit(f"the demo has {len(people)} people for the registrar; {need} needed")
    port = free_port()
    server = serve(env, port)
    rows: list[tuple[str, str, str]] = []
    try:
        # Batches of (about) 100 events from 4 threads.
        cursor = 0
        work: list[list[list[dict[str, object]]]] = [[] for _ in range(4)]
        for b in range(batches):
            events: list[dict[str, object]] = []
            for t in range(tubes_per_batch):
                code = f"B{b:05d}{t:02d}X"
                events += tube_events(
                    lanes[b % len(lanes)], code, people[cursor : cursor + per_tube - 2]
                )
                cursor += per_tube - 2
            work[b % 4].append(events)
            rows += [(str(e["id"]), str(e["type"]), json.dumps(e)) for e in events]
        wall, latencies, sent, refused = run_threads(work, port, token)
        batch_rate = sent / wall
        results = [
            (
                f"{backend}: events in batches of ~100 ({sent:,} events, 4 clients)",
                f"{batch_rate:,.0f} events/s; p50 {statistics.median(latencies) * 1000:.0f} ms; refused {refused}",
            ),
        ]
        # Single-event requests: 8 lanes, each its own sequence of open / add × 18 / seal.
        lanes_work: list[list[list[dict[str, object]]]] = [[] for _ in range(8)]
        per_thread = singles // 8
        for n in range(8):
            sequence: list[dict[str, object]] = []
            while len(sequence) < per_thread:
                code = f"S{n:02d}{len(sequence):06d}X"
                sequence += tube_events(
                    lanes[n % len(lanes)], code, people[cursor : cursor + per_tube - 2]
                )
                cursor += per_tube - 2
            lanes_work[n] = [[e] for e in sequence[:per_thread]]
        wall, latencies, sent, refused = run_threads(lanes_work, port, token)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        results.append(
            (
                f"{backend}: single-event requests ({sent:,}, 8 clients)",
                f"{sent / wall:,.0f} req/s; p50 {statistics.median(latencies) * 1000:.0f} ms; p99 {p99 * 1000:.0f} ms; refused {refused}",
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    raw = raw_insert(backend, home, rows)
    raw_rate = len(rows) / raw
    results.append(
        (
            f"{backend}: raw bulk insert of the batch rows ({len(rows):,})",
            f"{raw_rate:,.0f} rows/s; batches reach {batch_rate / raw_rate:.4f}× of it",
        )
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--singles", type=int, default=1600)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    print(f"{'what':<62}  result", flush=True)
    for backend in options.backends.split(","):
        for name, figure in bench(backend, options.batches, options.singles):
            print(f"{name:<62}  {figure}", flush=True)


if __name__ == "__main__":
    os.environ.pop("DATABASE_URL", None)
    main()
