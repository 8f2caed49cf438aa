"""Device-event ingest through `doorstep serve`, on SQLite and PostgreSQL, against a raw bulk
insert of the same rows in the same run.

    .venv/bin/python bench/events.py [--batches 40] [--singles 1500] [--backends sqlite,postgresql]

Loopback only, bounded counts and time. A demo town gives the roster; a registrar's devices
post, each with a token given its lane (a registrar scans only where on duty or at their
token's lane), and a refused event stops the run: a benchmark of refusals measures nothing.
  * batches of about 100 events (tubes of 20: open, 18 adds, seal) from 4 threads;
  * single-event requests from 8 threads, one lane sequence each, with p50/p99 latency;
  * a bunched start: devices each sending 10 events a second, open loop (every request is due at
    a fixed time and its latency counts from then, so a slow server cannot slow the load down).
    5 devices for 20 s, then 50 at once for 20 s (10x, as when every district starts at the same
    hour), then 5 again for 20 s. Errors, loss (acknowledged events not in the database) and
    p99 during and after the surge.
The baseline is the same event rows (uuid, type, payload) inserted raw (COPY; executemany).
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


BENCH_SITE = "压测采样点"


def roster(env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Person codes of the registrar's communities and their lane codes, read via the ORM."""
    # People of prevention-zone buildings (20 in 1, the bench's pool) and the lanes of the
    # bench's own sites: one device per lane, as at a real site (a lane fills one tube at a time).
    script = (
        "import json;from doorstep.core.models import User;from doorstep.territory.models import Resident;"
        "from doorstep.campaigns.models import CampaignBuilding;"
        "from doorstep.sampling.models import Lane,RoundSample;u=User.objects.get(username='registrar');"
        "c=list(u.communities.values_list('pk',flat=True));"
        "done=RoundSample.objects.values('resident_id');"
        "open_=CampaignBuilding.objects.filter(zone='prevention').values('building_id');"
        "print(json.dumps([list(Resident.objects.filter(community_id__in=c,"
        "household__unit__building_id__in=open_).exclude(pk__in=done)"
        ".values_list('person_code',flat=True)),"
        f"list(Lane.objects.filter(site__name__startswith={BENCH_SITE!r}).values_list('code',flat=True))]))"
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
    work: list[list[list[dict[str, object]]]], port: int, tokens: list[str]
) -> tuple[float, list[float], int, int]:
    """Each thread posts its own list of requests in order, with its own token; returns wall
    time, latencies, events sent and events not accepted."""
    latencies: list[float] = []
    refused = [0]
    lock = threading.Lock()

    def worker(requests: list[list[dict[str, object]]], token: str) -> None:
        poster = Poster(port, token)
        for events in requests:
            elapsed, answers = poster.post(events)
            bad = sum(a["status"] != "accepted" for a in answers)
            with lock:
                latencies.append(elapsed)
                refused[0] += bad

    threads = [
        threading.Thread(target=worker, args=(w, token))
        for w, token in zip(work, tokens, strict=True)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return wall, latencies, sum(len(r) for w in work for r in w), refused[0]


def bunched(
    port: int,
    tokens: dict[str, str],
    lanes: list[str],
    people: list[str],
    steady: int,
    seconds: float,
) -> tuple[dict[str, list[float]], int, list[str], set[str]]:
    """The 10x bunched start. Returns latencies per phase, errors, their first messages and the
    ids of acknowledged events."""
    third = seconds / 3
    devices = steady * 10
    latencies: dict[str, list[float]] = {"before": [], "during": [], "after": []}
    errors = [0]
    messages: list[str] = []
    acknowledged: set[str] = set()
    lock = threading.Lock()
    # Device d runs for the whole run if d < steady, else only in the middle third.
    per_device: list[list[list[dict[str, object]]]] = []
    if len(lanes) < devices:
        raise SystemExit(
            f"the bunched start needs {devices} lanes, one per device; there are {len(lanes)}"
        )
    cursor = 0
    for d in range(devices):
        chunks_needed = int(seconds if d < steady else third) + 2
        events: list[dict[str, object]] = []
        n = 0
        while len(events) < chunks_needed * 10:
            events += tube_events(
                lanes[d % len(lanes)], f"R{d:03d}{n:05d}X", people[cursor : cursor + POOL - 2]
            )
            cursor += POOL - 2
            n += 1
        per_device.append([events[i : i + 10] for i in range(0, len(events), 10)])
    if cursor > len(people):
        raise SystemExit(f"the bunched start needs {cursor} people; the demo has {len(people)}")
    start = time.perf_counter() + 1.0

    def device(d: int) -> None:
        token = tokens[lanes[d]]
        poster = Poster(port, token)
        first, last = (0.0, seconds) if d < steady else (third, 2 * third)
        due = start + first
        for events in per_device[d]:
            if due >= start + last:
                break
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            phase = (
                "before"
                if due < start + third
                else "during"
                if due < start + 2 * third
                else "after"
            )
            try:
                _elapsed, answers = poster.post(events)
            except (OSError, http.client.HTTPException, SystemExit) as exc:
                with lock:
                    errors[0] += len(events)
                    messages.append(str(exc)[:120])
                poster = Poster(port, token)
                due += 1.0
                continue
            done = time.perf_counter()
            with lock:
                latencies[phase].append(done - due)
                for answer in answers:
                    if answer["status"] in {"accepted", "duplicate"}:
                        acknowledged.add(str(answer["id"]))
                    else:
                        errors[0] += 1
                        messages.append(str(answer.get("error"))[:120])
            due += 1.0

    threads = [threading.Thread(target=device, args=(d,)) for d in range(devices)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], messages[:3], acknowledged


def missing(env: dict[str, str], home: Path, ids: set[str]) -> tuple[int, int]:
    """How many of ``ids`` the database lacks, and how many rows it holds for them."""
    path = home / "acknowledged.json"
    path.write_text(json.dumps(sorted(ids)))
    script = (
        "import json,uuid;from doorstep.sampling.models import DeviceEvent;"
        f"ids=[uuid.UUID(i) for i in json.load(open({str(path)!r}))];"
        "rows=[];[rows.extend(DeviceEvent.objects.filter(client_uuid__in=ids[s:s+500])"
        ".values_list('client_uuid',flat=True)) for s in range(0,len(ids),500)];"
        "print(len(set(ids)-set(rows)),len(rows))"
    )
    lost, rows = doorstep(["shell", "-c", script], env).strip().splitlines()[-1].split()
    return int(lost), int(rows)


def refusing(refused: int, what: str) -> None:
    if refused:
        raise SystemExit(f"{refused} of the {what} were refused: the benchmark's events are wrong")


def percentile99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else float("nan")


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = open(Path(env["DOORSTEP_HOME"]) / "serve.log", "wb")  # noqa: SIM115 (the server's)
    process = subprocess.Popen(
        # A demo town: its users have the demo password, which serve refuses without --demo.
        [DOORSTEP, "serve", "--port", str(port), "--demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
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


def demo_town(
    purpose: str, backend: str, residents: int
) -> tuple[Path, dict[str, str], str, list[str], list[str], float]:
    """A fresh database with a demo town whose registrar works every community: its home,
    environment, the registrar's device tokens by lane, unscanned person codes, lane codes and
    build seconds."""
    home = Path(tempfile.mkdtemp(prefix=f"doorstep-{purpose}-{backend}-"))
    if backend == "postgresql":
        fresh_pg()
        env = environment(home, PG_BENCH)
    else:
        env = environment(home)
    doorstep(["migrate", "-v0"], env)
    started = time.perf_counter()
    doorstep(["demo", "--residents", str(residents), "--no-serve"], env)
    built = time.perf_counter() - started
    # The registrar works every community here, so the runs have people enough, and two sites
    # of 30 lanes give every simulated device a lane of its own.
    doorstep(
        [
            "shell",
            "-c",
            "from doorstep.core.models import User;from doorstep.territory.models import Community;"
            "from doorstep.sampling.actions import create_site;"
            "User.objects.get(username='registrar').communities.set(Community.objects.all());"
            "c=Community.objects.order_by('pk')[3];"
            f"[create_site(c, {BENCH_SITE!r} + s, lanes=30) for s in 'AB']",
        ],
        env,
    )
    people, lanes = roster(env)
    return home, env, lane_tokens(env, lanes), people, lanes, built


def lane_tokens(env: dict[str, str], lanes: list[str]) -> dict[str, str]:
    """One device token per lane for the registrar, each given its lane (as a commander does
    with `doorstep create-token registrar --lane CODE`)."""
    script = (
        "import json;from doorstep.api.models import ApiToken;from doorstep.core.models import User;"
        "from doorstep.sampling.models import Lane;u=User.objects.get(username='registrar');"
        f"print(json.dumps({{c: ApiToken.issue(u, lane=Lane.objects.get(code=c))[1] for c in {lanes!r}}}))"
    )
    return dict(json.loads(doorstep(["shell", "-c", script], env).strip().splitlines()[-1]))


def bench(
    backend: str, batches: int, singles: int, steady: int, seconds: float
) -> list[tuple[str, str]]:
    home, env, tokens, people, lanes, _built = demo_town("events", backend, 60_000)
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
                # Each client works one lane, with that lane's token.
                events += tube_events(lanes[b % 4], code, people[cursor : cursor + per_tube - 2])
                cursor += per_tube - 2
            work[b % 4].append(events)
            rows += [(str(e["id"]), str(e["type"]), json.dumps(e)) for e in events]
        wall, latencies, sent, refused = run_threads(
            work, port, [tokens[lane] for lane in lanes[:4]]
        )
        refusing(refused, "batches")
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
        wall, latencies, sent, refused = run_threads(
            lanes_work, port, [tokens[lanes[n % len(lanes)]] for n in range(8)]
        )
        refusing(refused, "single events")
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        results.append(
            (
                f"{backend}: single-event requests ({sent:,}, 8 clients)",
                f"{sent / wall:,.0f} req/s; p50 {statistics.median(latencies) * 1000:.0f} ms; p99 {p99 * 1000:.0f} ms; refused {refused}",
            )
        )
        # The bunched start, on people nobody has scanned yet.
        # The single-event clients may have left a tube open at their lanes: the surge's devices
        # take the other lanes, one each.
        during, errors, messages, acknowledged = bunched(
            port, tokens, lanes[8:], people[cursor:], steady, seconds
        )
        lost, stored = missing(env, home, acknowledged)
        sent = sum(len(v) for v in during.values()) * 10
        results.append(
            (
                f"{backend}: bunched start, {steady}->{steady * 10}->{steady} devices x 10 events/s, {seconds:.0f} s",
                f"{sent:,} events; errors {errors}; lost {lost} of {len(acknowledged):,} acknowledged "
                f"({stored - (len(acknowledged) - lost)} stored twice); p99 before {percentile99(during['before']) * 1000:.0f} ms, "
                f"during {percentile99(during['during']) * 1000:.0f} ms, after {percentile99(during['after']) * 1000:.0f} ms"
                + (f"; first errors: {messages}" if messages else ""),
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
    parser.add_argument("--steady", type=int, default=5, help="devices before and after the surge")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the bunched run")
    options = parser.parse_args()
    print(f"{'what':<72}  result", flush=True)
    for backend in options.backends.split(","):
        for name, figure in bench(
            backend, options.batches, options.singles, options.steady, options.seconds
        ):
            print(f"{name:<72}  {figure}", flush=True)


if __name__ == "__main__":
    os.environ.pop("DATABASE_URL", None)
    main()
