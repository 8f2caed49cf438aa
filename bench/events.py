"""Device-event ingest through `doorstep serve`, on SQLite and PostgreSQL, against baselines
measured in the same run on the same machine.

    .venv/bin/python bench/events.py [--backends sqlite,postgresql] [--residents 150000]
                                     [--seconds 10] [--burst-seconds 60]

Loopback only, bounded in time. A demo town gives the roster; the registrar's devices post, each
with a token given its own lane (a registrar scans only where on duty or at their token's lane).
Load comes from wrk (a compiled load generator, so the client is not what is measured), each
connection posting its own lane's events in order (`bench/post.lua`):

* baselines in the same server, behind the same middleware: a bare view, and a view that
  inserts the body as one row in one transaction (`bench/baseline_urls.py`);
* single-event requests, 8 devices, one lane each: req/s, p50, p99, and the ratio to the
  one-INSERT view;
* batches of 100 events (5 tubes of 20: open, 18 people, seal), 4 devices: events/s, and the
  ratio to a raw executemany and to COPY of the same event rows into a bare table;
* the 10x burst: devices each sending 10 events a second, open loop (a request is due at a fixed
  time and its latency counts from then), 5 devices, then 50 at once, then 5 again. Errors,
  events lost (acknowledged but not stored), stored twice, p99 before, during and after.

After the runs, every acknowledged event must be stored once and the sampling counters must
equal a count of the rows; a refused event or a mismatch stops the run instead of printing a
figure. The machine's load average is printed with each phase.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import Meter, Spent
from cpu import seconds as cpu_seconds
from run import DOORSTEP, PG_BENCH, ROOT, environment, fresh_pg

POOL = 20
BENCH_SITE = "压测采样点"
LUA = Path(__file__).resolve().parent / "post.lua"
# Upper bounds of the rates the bodies are made for; a run that uses them all up says so.
MAX_SINGLES_PER_S = 2_000
MAX_EVENTS_PER_S = 12_000

Event = dict[str, object]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def doorstep(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([DOORSTEP, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"doorstep {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def shell(script: str, env: dict[str, str]) -> object:
    """Run a script in `doorstep shell` and return the JSON it printed last."""
    return json.loads(doorstep(["shell", "-c", script], env).strip().splitlines()[-1])


def load() -> str:
    return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Town:
    home: Path
    env: dict[str, str]
    tokens: dict[str, str]  # the registrar's device token for each bench lane
    people: list[str]  # person codes nobody has scanned, in prevention zones (20 in 1)
    lanes: list[str]
    built: float

    def take(self, n: int) -> list[str]:
        if n > len(self.people):
            raise SystemExit(f"the demo has {len(self.people)} people left; {n} needed")
        taken, self.people = self.people[:n], self.people[n:]
        return taken


def demo_town(purpose: str, backend: str, residents: int) -> Town:
    """A fresh database with a demo town whose registrar works every community, three bench
    sites of 30 lanes each (every simulated device gets a lane of its own), and a device token per
    lane for the registrar."""
    home = Path(tempfile.mkdtemp(prefix=f"doorstep-{purpose}-{backend}-"))
    if backend == "postgresql":
        fresh_pg()
        env = environment(home, PG_BENCH)
    else:
        env = environment(home)
    env["PYTHONPATH"] = str(ROOT)
    doorstep(["migrate", "-v0"], env)
    started = time.perf_counter()
    doorstep(["demo", "--residents", str(residents), "--no-serve"], env)
    built = time.perf_counter() - started
    people, lanes, tokens = shell(
        "import json;from doorstep.api.models import ApiToken;from doorstep.core.models import User;"
        "from doorstep.territory.models import Community, Resident;"
        "from doorstep.campaigns.models import CampaignBuilding;"
        "from doorstep.sampling.actions import create_site;"
        "from doorstep.sampling.models import RoundSample;"
        "u=User.objects.get(username='registrar');u.communities.set(Community.objects.all());"
        "c=Community.objects.order_by('pk')[3];"
        f"lanes=[l for s in 'ABC' for l in create_site(c, {BENCH_SITE!r} + s, lanes=30).lanes.order_by('pk')];"
        "open_=CampaignBuilding.objects.filter(campaign__status='active',zone='prevention').values('building_id');"
        "people=list(Resident.objects.filter(household__unit__building_id__in=open_)"
        ".exclude(pk__in=RoundSample.objects.filter(campaign__status='active').values('resident_id')).values_list('person_code',flat=True));"
        "print(json.dumps([people,[l.code for l in lanes],{l.code: ApiToken.issue(u, lane=l)[1] for l in lanes}]))",
        env,
    )  # type: ignore[misc]
    return Town(home, env, tokens, people, lanes, built)


def serve(env: dict[str, str], port: int, workers: int = 0) -> subprocess.Popen[bytes]:
    """`doorstep serve` with the benchmark's baseline views beside Doorstep's own (``workers``:
    its processes; 0, its default, one per core)."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "bench.baseline_settings", "PYTHONPATH": str(ROOT)}
    log = open(Path(env["DOORSTEP_HOME"]) / "serve.log", "ab")  # noqa: SIM115 (the server's)
    process = subprocess.Popen(
        # A demo town: its users have the demo password, which serve refuses without --demo.
        [DOORSTEP, "serve", "--port", str(port), "--workers", str(workers), "--demo"],
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


def tube_events(lane: str, tube: str, people: list[str]) -> list[Event]:
    at = dt.datetime.now(dt.UTC).isoformat()
    events: list[Event] = [
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


def lane_sequence(town: Town, lane: str, prefix: str, events: int) -> list[Event]:
    """At least ``events`` events of one lane: tubes of 20 opened, filled and sealed in turn."""
    sequence: list[Event] = []
    tubes = 0
    while len(sequence) < events:
        sequence += tube_events(lane, f"{prefix}{tubes:06d}X", town.take(POOL - 2))
        tubes += 1
    return sequence


@dataclass
class Wrk:
    requests: int
    seconds: float
    bad: int
    accepted: int
    duplicate: int
    refused: int
    exhausted: int
    p50_us: int
    p99_us: int
    max_us: int
    answers: list[int]  # per connection: is every device served alike?
    example: str = ""  # the first answer that refused an event
    cpu: Spent | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def fairness(self) -> str:
        mean = sum(self.answers) / len(self.answers)
        return (
            f"answers per connection {min(self.answers) / mean:.2f}-"
            f"{max(self.answers) / mean:.2f}x the mean"
        )


def wrk(
    port: int,
    path: str,
    files: list[tuple[str, list[str]]],
    seconds: float,
    folder: Path,
    meter: Meter | None = None,
) -> Wrk:
    """wrk with one thread and one connection per file (token, bodies). With ``meter``, the
    CPU the server and the database spent on it, counted until the counters' fold has taken in
    the last request's moves (the fold is part of each event's cost)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, (token, bodies) in enumerate(files):
        (folder / f"{n}.txt").write_text(token + "\n" + "\n".join(bodies) + "\n")
    command = [
        "wrk",
        f"-t{len(files)}",
        f"-c{len(files)}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
    ]
    command += ["-s", str(LUA), f"http://127.0.0.1:{port}", "--", str(folder), path]
    if meter:
        meter.read()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stdout}\n{done.stderr}")
    *_, example, figures = done.stdout.strip().splitlines()
    result = Wrk(**json.loads(figures), example=example)
    if meter:
        settled(meter)
        result.cpu = meter.read()
    return result


def settled(meter: Meter, timeout: float = 30.0) -> None:
    """Wait until no counter move is left to fold (read on a connection of its own, which ends
    before the meter reads, so its CPU is not counted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pending(meter.dsn, meter.sqlite):
            return
        time.sleep(0.1)
    raise SystemExit(f"the fold left moves after {timeout:.0f} s")


def pending(dsn: str, sqlite: Path | None) -> int:
    query = (
        "SELECT (SELECT count(*) FROM sampling_tallymove) + "
        "(SELECT count(*) FROM sampling_roundsample WHERE NOT folded)"
    )
    if dsn:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as connection:
            row = connection.execute(query).fetchone()
            return int(row[0]) if row else 0
    if sqlite is None:
        return 0
    import sqlite3

    lite = sqlite3.connect(sqlite, timeout=30)
    try:
        return int(lite.execute(query).fetchone()[0])
    finally:
        lite.close()


def valid(result: Wrk, what: str) -> Wrk:
    if result.bad or result.refused:
        raise SystemExit(
            f"{what}: {result.bad} requests failed and {result.refused} events were refused; "
            f"the benchmark's events are wrong (see serve.log). {result.example}"
        )
    if result.exhausted:
        raise SystemExit(f"{what}: a device ran out of events; raise the MAX_ rates in the bench")
    return result


def singles(port: int, town: Town, seconds: float, meter: Meter | None = None) -> Wrk:
    """Eight devices, one lane each, one event per request."""
    per_device = int(MAX_SINGLES_PER_S * seconds / 8)
    files = []
    for n, lane in enumerate(town.lanes[:8]):
        events = lane_sequence(town, lane, f"S{n:02d}", per_device)
        files.append((town.tokens[lane], [json.dumps({"events": [e]}) for e in events]))
    return valid(
        wrk(port, "/api/v1/events", files, seconds, town.home / "singles", meter),
        "single events",
    )


def batches(
    port: int, town: Town, seconds: float, meter: Meter | None = None
) -> tuple[Wrk, list[tuple[str, str, str]]]:
    """Four devices, one lane each, 100 events a request; returns the event rows too. Half as
    long as the other phases: at the rates aimed for it takes the most people."""
    seconds /= 2
    per_device = int(MAX_EVENTS_PER_S * seconds / 4)
    files, rows = [], []
    for n, lane in enumerate(town.lanes[8:12]):
        events = lane_sequence(town, lane, f"B{n:02d}", per_device)
        bodies = [json.dumps({"events": events[i : i + 100]}) for i in range(0, len(events), 100)]
        files.append((town.tokens[lane], bodies))
        rows += [(str(e["id"]), str(e["type"]), json.dumps(e)) for e in events]
    result = wrk(port, "/api/v1/events", files, seconds, town.home / "batches", meter)
    return valid(result, "batches"), rows


def baseline(port: int, town: Town, path: str, seconds: float, meter: Meter | None = None) -> Wrk:
    """The baseline views, with as many devices as the single events and the same bodies."""
    body = json.dumps({"events": lane_sequence(town, town.lanes[0], "Z", 1)[:1]})
    files = [("", [body] * int(10_000 * seconds)) for _ in range(8)]
    folder = town.home / path.replace("/", "_")
    return valid(wrk(port, path, files, seconds, folder, meter), path)


class Poster:
    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, events: list[Event]) -> tuple[float, list[dict[str, object]]]:
        body = json.dumps({"events": events})
        started = time.perf_counter()
        self.connection.request("POST", "/api/v1/events", body, self.headers)
        response = self.connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}: {data[:300]!r}")
        return elapsed, json.loads(data)["results"]


@dataclass
class Burst:
    latencies: dict[str, list[float]]
    errors: int
    messages: list[str]
    acknowledged: set[str]
    sent: int


def burst(port: int, town: Town, steady: int, seconds: float) -> Burst:
    """The 10x bunched start, open loop: a device's request is due every second (10 events)."""
    third = seconds / 3
    devices = steady * 10
    lanes = town.lanes[12:]
    if len(lanes) < devices:
        raise SystemExit(f"the burst needs {devices} lanes, one per device; there are {len(lanes)}")
    plans: list[list[list[Event]]] = []
    for d in range(devices):
        seconds_on = int(seconds if d < steady else third) + 2
        events = lane_sequence(town, lanes[d], f"R{d:03d}", seconds_on * 10)
        plans.append([events[i : i + 10] for i in range(0, len(events), 10)])
    result = Burst({"before": [], "during": [], "after": []}, 0, [], set(), 0)
    lock = threading.Lock()
    start = time.perf_counter() + 1.0

    def device(d: int) -> None:
        poster = Poster(port, town.tokens[lanes[d]])
        first, last = (0.0, seconds) if d < steady else (third, 2 * third)
        due = start + first
        for events in plans[d]:
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
                    result.errors += len(events)
                    result.sent += len(events)
                    result.messages.append(str(exc)[:120])
                poster = Poster(port, town.tokens[lanes[d]])
                due += 1.0
                continue
            done = time.perf_counter()
            with lock:
                result.sent += len(events)
                result.latencies[phase].append(done - due)
                for answer in answers:
                    if answer["status"] in {"accepted", "duplicate"}:
                        result.acknowledged.add(str(answer["id"]))
                    else:
                        result.errors += 1
                        result.messages.append(str(answer.get("error"))[:120])
            due += 1.0

    threads = [threading.Thread(target=device, args=(d,)) for d in range(devices)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result


def stored(town: Town, ids: set[str]) -> dict[str, int]:
    """How many of ``ids`` the database lacks; and the round's rows against its counters."""
    path = town.home / "acknowledged.json"
    path.write_text(json.dumps(sorted(ids)))
    return shell(  # type: ignore[return-value]
        "import json,uuid;from django.db.models import Sum;"
        "from doorstep.sampling.models import DeviceEvent,HourTally,RoundSample,Scope,Tally,TubeMember;"
        "from doorstep.sampling import tally;getattr(tally,'fold',lambda:0)();"
        f"ids=[uuid.UUID(i) for i in json.load(open({str(path)!r}))];"
        "rows=[];[rows.extend(DeviceEvent.objects.filter(client_uuid__in=ids[s:s+500])"
        ".values_list('client_uuid',flat=True)) for s in range(0,len(ids),500)];"
        "people=Tally.objects.filter(scope=Scope.CAMPAIGN).aggregate(n=Sum('people'))['n'] or 0;"
        "hours=HourTally.objects.filter(scope=Scope.CAMPAIGN).aggregate(n=Sum('people'))['n'] or 0;"
        "print(json.dumps({'lost':len(set(ids)-set(rows)),'rows':len(rows),"
        "'members':TubeMember.objects.count(),'sampled':RoundSample.objects.filter(campaign__status='active').count(),"
        "'added':DeviceEvent.objects.filter(type='tube.add').count(),"
        "'counter':people,'hours':hours}))",
        town.env,
    )


def door_to_door_drift(town: Town) -> int:
    """Door-to-door counters (buildings' and communities') that differ from
    ``canvass.counters.recount``, which counts them again from the rows: the scans moved them
    through the counters' fold. The recount is rolled back."""
    return shell(  # type: ignore[return-value]
        "import json;from django.db import transaction;from doorstep.canvass import counters;"
        "from doorstep.canvass.models import BuildingTask,Coverage;"
        "figures=lambda: (sorted(BuildingTask.objects.values_list('pk','sampled','exempt','covered')),"
        "sorted(Coverage.objects.values_list('pk','sampled','exempt','covered','revisits','phone_calls')));"
        "before=figures()\n"
        "with transaction.atomic():\n"
        "    [counters.recount(c,list(BuildingTask.objects.filter(campaign_id=c).values_list('building_id',flat=True)))"
        " for c in set(BuildingTask.objects.filter(campaign__status='active').values_list('campaign_id',flat=True))]\n"
        "    after=figures()\n"
        "    transaction.set_rollback(True)\n"
        "print(json.dumps(sum(a!=b for x,y in zip(before,after) for a,b in zip(x,y))))",
        town.env,
    )


@dataclass
class Raw:
    rows_per_s: float
    ms_per_row: float  # CPU: this client's process and the database's backend


def raw_baselines(backend: str, home: Path, rows: list[tuple[str, str, str]]) -> dict[str, Raw]:
    """The batches' event rows (uuid, type, payload) written raw: rows per second and CPU per
    row (the client's, and on PostgreSQL its backend's)."""
    if backend == "postgresql":
        import psycopg

        found = {}
        with psycopg.connect(PG_BENCH) as connection:
            backend_pid = connection.info.backend_pid
            for how in ("executemany", "COPY"):
                table = f"raw_events_{how.lower()}"
                connection.execute(
                    f"CREATE TABLE {table} (id uuid PRIMARY KEY, type text, payload jsonb)"
                )
                connection.commit()
                started = time.perf_counter()
                cpu = time.process_time() + cpu_seconds(backend_pid)
                with connection.cursor() as cursor:
                    if how == "COPY":
                        with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                    else:
                        cursor.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s)", rows)
                connection.commit()
                spent = time.process_time() + cpu_seconds(backend_pid) - cpu
                found[how] = Raw(
                    len(rows) / (time.perf_counter() - started), spent * 1000 / len(rows)
                )
        return found
    import sqlite3

    lite = sqlite3.connect(home / "raw.sqlite3")
    lite.execute("PRAGMA journal_mode=WAL")
    lite.execute("CREATE TABLE raw_events (id TEXT PRIMARY KEY, type TEXT, payload TEXT)")
    started, cpu = time.perf_counter(), time.process_time()
    with lite:
        lite.executemany("INSERT INTO raw_events VALUES (?,?,?)", rows)
    found = {
        "executemany": Raw(
            len(rows) / (time.perf_counter() - started),
            (time.process_time() - cpu) * 1000 / len(rows),
        )
    }
    lite.close()
    return found


def insert_table(town: Town) -> None:
    doorstep(
        [
            "shell",
            "-c",
            "from django.db import connection;"
            "connection.cursor().execute('CREATE TABLE bench_insert (id varchar(32) PRIMARY KEY, body text)')",
        ],
        town.env,
    )


def cpu_per(spent: Spent | None, units: int) -> str:
    return spent.per(units) if spent else "CPU not measured"


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000 if ordered else float("nan")


def pretix_beside(single: Wrk, seconds: float) -> tuple[str, str]:
    """pretix's check-in redeem (a ticket scanned at a door, the nearest thing to one lane
    scan in a widely used Django system), measured the same way (``bench/pretix.py``), while
    Doorstep's server waits idle."""
    import pretix

    got = pretix.measure(seconds)
    what = "pretix check-in redeem (8 connections), same run"
    if "not_measured" in got:
        return what, f"not measured: {got['not_measured']}"
    ours = single.cpu.total * 1000 / single.requests if single.cpu else float("nan")
    return what, (
        f"pretix {got['version']}: {got['rate']:,.0f} req/s; p99 {got['p99_ms']:.0f} ms; "
        f"{got['server_ms']:.3f} server + {got['database_ms']:.3f} database = "
        f"{got['cpu_ms_per_request']:.3f} ms CPU a redeem; Doorstep's single event "
        f"{ours / got['cpu_ms_per_request']:.2f}x pretix's CPU; {load()}"
    )


def bench(
    backend: str,
    residents: int,
    seconds: float,
    burst_seconds: float,
    with_pretix: bool = False,
    workers: int = 0,
) -> Iterator[tuple[str, str]]:
    town = demo_town("events", backend, residents)
    insert_table(town)
    port = free_port()
    server = serve(town.env, port, workers)
    meter = Meter(
        server.pid,
        PG_BENCH if backend == "postgresql" else "",
        town.home / "doorstep.sqlite3" if backend == "sqlite" else None,
    )
    before = stored(town, set())
    yield (f"{backend}: demo town", f"{residents:,} residents, built in {town.built:.0f} s")
    acknowledged: set[str] = set()
    try:
        bare = baseline(port, town, "/bench/bare", seconds, meter)
        yield (
            f"{backend}: bare view (8 connections)",
            f"{bare.rate:,.0f} req/s; p99 {bare.p99_us / 1000:.1f} ms; "
            f"{cpu_per(bare.cpu, bare.requests)} a request; {load()}",
        )
        one = baseline(port, town, "/bench/insert", seconds, meter)
        yield (
            f"{backend}: one-INSERT view (8 connections)",
            f"{one.rate:,.0f} req/s; p99 {one.p99_us / 1000:.1f} ms; "
            f"{cpu_per(one.cpu, one.requests)} a request; {load()}",
        )
        single = singles(port, town, seconds, meter)
        yield (
            f"{backend}: single-event requests (8 devices)",
            f"{single.rate:,.0f} req/s; p50 {single.p50_us / 1000:.1f} ms; p99 {single.p99_us / 1000:.1f} ms; "
            f"{single.rate / one.rate:.2f}x the one-INSERT view; "
            f"{cpu_per(single.cpu, single.requests)} a request, the fold's included; "
            f"{single.fairness}; {load()}",
        )
        if backend == "postgresql" and with_pretix:
            yield pretix_beside(single, seconds)
        batch, rows = batches(port, town, seconds, meter)
        events_per_s = batch.accepted / batch.seconds
        raw = raw_baselines(backend, town.home, rows)
        ratios = "; ".join(
            f"{events_per_s / r.rows_per_s:.3f}x {how} ({r.rows_per_s:,.0f} rows/s, "
            f"{r.ms_per_row:.3f} ms CPU a row)"
            for how, r in raw.items()
        )
        yield (
            f"{backend}: batches of 100 (4 devices)",
            f"{events_per_s:,.0f} events/s; p50 {batch.p50_us / 1000:.0f} ms; p99 {batch.p99_us / 1000:.0f} ms; "
            f"{cpu_per(batch.cpu, batch.accepted)} an event, the fold's included; "
            f"{batch.fairness}; {ratios}; {load()}",
        )
        surge = burst(port, town, 5, burst_seconds)
        acknowledged |= surge.acknowledged
    finally:
        server.terminate()
        server.wait(timeout=30)
    check = stored(town, acknowledged)
    yield (
        f"{backend}: 10x burst, 5->50->5 devices x 10 events/s, {burst_seconds:.0f} s",
        f"{surge.sent:,} events; errors {surge.errors}; lost {check['lost']} of {len(acknowledged):,} acknowledged; "
        f"stored twice {check['rows'] - (len(acknowledged) - check['lost'])}; "
        f"p99 before {p99(surge.latencies['before']):.0f} ms, during {p99(surge.latencies['during']):.0f} ms, "
        f"after {p99(surge.latencies['after']):.0f} ms"
        + (f"; first errors: {surge.messages[:3]}" if surge.messages else ""),
    )
    # Every accepted tube.add is one member and one sampled person, and the counters say so.
    moved = {k: check[k] - before[k] for k in ("members", "sampled", "added", "counter", "hours")}
    if len(set(moved.values())) != 1:
        raise SystemExit(f"{backend}: the rows and the counters disagree: {moved}")
    drift = door_to_door_drift(town)
    if drift:
        raise SystemExit(f"{backend}: {drift} door-to-door counter rows differ from a recount")
    yield (
        f"{backend}: rows against counters",
        f"{check['members']:,} people in tubes = sampled = counters; "
        "every building's and community's door-to-door counters = a recount",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--residents", type=int, default=150_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk phase")
    parser.add_argument("--burst-seconds", type=float, default=60.0)
    parser.add_argument(
        "--pretix", action="store_true", help="measure pretix's check-in redeem in the same run"
    )
    parser.add_argument("--workers", type=int, default=0, help="server processes (0: per core)")
    options = parser.parse_args()
    print(f"{'what':<64}  result ({os.cpu_count()} cores)", flush=True)
    for backend in options.backends.split(","):
        for name, figure in bench(
            backend,
            options.residents,
            options.seconds,
            options.burst_seconds,
            options.pretix,
            options.workers,
        ):
            print(f"{name:<64}  {figure}", flush=True)


if __name__ == "__main__":
    os.environ.pop("DATABASE_URL", None)
    main()
