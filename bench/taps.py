"""Door-to-door taps through `doorstep serve` on PostgreSQL, as a team leader's phone sends
them: CPU-seconds per tap (the server's processes and PostgreSQL's backends, from /proc), beside
a view that inserts one row, measured in the same run on the same machine.

    .venv/bin/python bench/taps.py [--residents 20000] [--seconds 10] [--connections 8]

Loopback only, bounded in time (about two minutes). A demo town on a fresh database gives the
buildings; every connection is a team of its own (``bench/taps_world.py``) whose leader signs in
through the login page and claims, through the claim endpoint, a building nobody holds (a team
holds one building at a time, so each phase has teams and buildings of its own). Load comes from
wrk (``bench/taps_post.lua``), each connection posting its own building's taps in order, with
the session cookie and the CSRF token in a header, as ``outbox.js`` does:

* the baseline: a view that inserts the body as one row in one transaction, behind the same
  middleware (``bench/baseline_urls.py``);
* single taps, one a request (a phone online sends each tap as it is made);
* outbox replays, 20 taps a request (a phone back online after a stretch offline).

Taps walk the building household by household (unit, floor, room), with the demo's mix of
outcomes (88 % notified, 8 % nobody home, 1 % each refused, moved out, exempt and home sampling)
and, past the last household, again from the first, each household's next outcome unlike its
last (the same outcome again within two minutes is a double tap, answered as a duplicate). So
every tap changes a household and must be accepted: a tap refused or answered as a duplicate, a
visit missing, a building no longer held, or a counter of the running rounds that differs from
``canvass.counters.recount`` stops the run instead of printing a figure. The machine's load
average is printed with each phase.

CPU is per tap the server stored (visits of the phase's buildings), counted once the requests
in flight when wrk stopped are done: those taps were worked on but never answered to wrk, and
with 20 taps a request they are no small share of a short phase. Figures are for PostgreSQL
only: on SQLite the database's work is inside the server's processes, and there the one write
lock, not the CPU, limits taps. Other users of the box show in the load average; the CPU
figures move less with it than the rates do.

The database is ``BENCH_PG_URL`` (``bench/run.py``), dropped and made again: give a run a name
of its own (``BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/doorstep_taps``) when another
benchmark may be using the default one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import Meter
from events import Wrk, cpu_per, doorstep, free_port, load, serve, settled, shell
from run import PG_BENCH, ROOT, environment, fresh_pg

LUA = Path(__file__).resolve().parent / "taps_post.lua"
REPLAY = 20  # taps a request when the outbox replays
# Upper bounds of the rates the bodies are made for; a run that uses them all up says so.
MAX_SINGLES_PER_S = 3_000
MAX_REPLAYED_PER_S = 10_000
PASSWORD = "doorstep-demo"
# The demo's mix (``doorstep/demo/canvass.py``): outcome, exempt reason, share.
MIX = (
    ("notified", "", 0.88),
    ("nobody_home", "", 0.08),
    ("refused", "", 0.01),
    ("moved_out", "", 0.01),
    ("exempt", "tested_elsewhere", 0.01),
    ("home_sampling", "", 0.01),
)

Tap = dict[str, str]


@dataclass
class Leader:
    user: str
    task: int
    households: list[int]
    cookie: str = ""
    csrf: str = ""

    @property
    def endpoint(self) -> str:
        return f"/canvass/buildings/{self.task}/outcomes/"


def say(what: str) -> None:
    """Progress, on stderr: the figures come only once every check has passed."""
    print(f"... {what}", file=sys.stderr, flush=True)


def demo_town(residents: int, teams: int) -> tuple[dict[str, str], list[Leader], float]:
    """A fresh database with a demo town, and a team for each connection of each phase."""
    home = Path(tempfile.mkdtemp(prefix="doorstep-taps-"))
    fresh_pg()
    env = environment(home, PG_BENCH)
    env["PYTHONPATH"] = str(ROOT)
    say(f"a demo town of {residents:,} residents on a fresh database")
    doorstep(["migrate", "-v0"], env)
    started = time.perf_counter()
    doorstep(["demo", "--residents", str(residents), "--no-serve"], env)
    built = time.perf_counter() - started
    found = shell(f"from bench.taps_world import setup; setup({teams})", env)
    return env, [Leader(**x) for x in found], built  # type: ignore[union-attr]


def check(env: dict[str, str], leaders: list[Leader]) -> dict[str, object]:
    tasks = [x.task for x in leaders]
    return shell(f"from bench.taps_world import check; check({tasks!r})", env)  # type: ignore[return-value]


def sign_in_and_claim(port: int, leader: Leader) -> None:
    """Through the login page and the claim button, as a person would; keeps the session's
    cookies and CSRF token for wrk."""
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    page = session.get(base + "/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no sign-in form at /login/")
    answer = session.post(
        base + "/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": leader.user, "password": PASSWORD},
        timeout=30,
    )
    if "/login/" in answer.url:
        raise SystemExit(f"{leader.user} could not sign in")
    csrf = session.cookies["csrftoken"]
    claimed = session.post(
        f"{base}/canvass/buildings/{leader.task}/claim/",
        data={"csrfmiddlewaretoken": csrf},
        timeout=30,
    )
    if claimed.status_code != 200 or f"/canvass/buildings/{leader.task}/" not in claimed.url:
        raise SystemExit(f"{leader.user} could not claim task {leader.task}: {claimed.url}")
    # The session and the CSRF token only: a message left by the claim is no part of a tap.
    leader.cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items() if k != "messages")
    leader.csrf = session.cookies["csrftoken"]


def walk(households: list[int], count: int, rng: random.Random) -> list[Tap]:
    """``count`` taps over the building, household after household and round again, each
    household's outcome unlike its last; tap times a microsecond apart, from now."""
    outcomes = [(o, r) for o, r, _share in MIX]
    weights = [share for _o, _r, share in MIX]
    last: dict[int, str] = {}
    start = dt.datetime.now(dt.UTC)
    taps = []
    for n in range(count):
        household = households[n % len(households)]
        outcome, reason = rng.choices(outcomes, weights)[0]
        if outcome == last.get(household):
            outcome, reason = ("nobody_home" if outcome == "notified" else "notified"), ""
        last[household] = outcome
        taps.append(
            {
                "id": str(uuid.uuid4()),
                "household": str(household),
                "outcome": outcome,
                "exempt_reason": reason,
                "need_kind": "",
                "need_by": "",
                "note": "",
                "at": (start + dt.timedelta(microseconds=n)).isoformat(),
            }
        )
    return taps


def stored(query: str, params: list[object]) -> int:
    import psycopg

    with psycopg.connect(PG_BENCH, autocommit=True) as connection:
        row = connection.execute(query, params).fetchone()
        return int(row[0]) if row else 0


@dataclass
class Phase:
    wrk: Wrk
    done: int  # rows the server wrote: every request it took, answered before wrk stopped or not


def wrk(
    port: int,
    files: list[tuple[str, str, str, list[str]]],
    seconds: float,
    folder: Path,
    meter: Meter,
    count: tuple[str, list[object]],
) -> Phase:
    """wrk with one thread and one connection per file (path, cookie, CSRF token, bodies); the
    CPU the server and the database spent, counted until the requests in flight when wrk
    stopped are done (the rows ``count`` counts stop moving) and the counters' fold has taken
    in the last request's moves. The CPU is per row written, so those requests count too."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, (path, cookie, csrf, bodies) in enumerate(files):
        (folder / f"{n}.txt").write_text("\n".join([path, cookie, csrf, *bodies]) + "\n")
    command = ["wrk", f"-t{len(files)}", f"-c{len(files)}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "30s", "-s", str(LUA), f"http://127.0.0.1:{port}", "--", str(folder)]
    before = stored(*count)
    meter.read()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stdout}\n{done.stderr}")
    *_, example, figures = done.stdout.strip().splitlines()
    result = Wrk(**json.loads(figures), example=example)
    # Each reading on a connection of its own, ended before the meter reads: not counted.
    now, then = stored(*count), -1
    while now != then:
        time.sleep(0.5)
        now, then = stored(*count), now
    settled(meter)
    result.cpu = meter.read()
    return Phase(result, now - before)


def valid(phase: Phase, what: str, taps_a_request: int) -> Phase:
    result = phase.wrk
    if result.bad or result.refused or result.duplicate:
        raise SystemExit(
            f"{what}: {result.bad} requests failed, {result.refused} taps were refused and "
            f"{result.duplicate} answered as duplicates; every tap should be accepted "
            f"(see serve.log). {result.example}"
        )
    if result.accepted != result.requests * taps_a_request:
        raise SystemExit(
            f"{what}: {result.accepted} taps accepted of {result.requests * taps_a_request} sent"
        )
    # Visits beyond the answered taps: only the requests in flight when wrk stopped.
    in_flight = len(result.answers) * taps_a_request
    if not result.accepted <= phase.done <= result.accepted + in_flight:
        raise SystemExit(f"{what}: {phase.done} visits stored for {result.accepted} taps accepted")
    if result.exhausted:
        raise SystemExit(f"{what}: a connection ran out of taps; raise the MAX_ rates in the bench")
    return phase


def taps(
    port: int,
    leaders: list[Leader],
    taps_a_request: int,
    max_per_s: int,
    seconds: float,
    folder: Path,
    meter: Meter,
    rng: random.Random,
) -> Phase:
    per_leader = int(max_per_s * seconds / len(leaders)) // taps_a_request * taps_a_request
    files = []
    for leader in leaders:
        made = walk(leader.households, per_leader, rng)
        bodies = [
            json.dumps({"taps": made[i : i + taps_a_request]})
            for i in range(0, len(made), taps_a_request)
        ]
        files.append((leader.endpoint, leader.cookie, leader.csrf, bodies))
    visits = (
        "SELECT count(*) FROM canvass_visit WHERE task_id = ANY(%s)",
        [[x.task for x in leaders]],
    )
    return valid(wrk(port, files, seconds, folder, meter, visits), folder.name, taps_a_request)


def insert_view(port: int, connections: int, seconds: float, folder: Path, meter: Meter) -> Phase:
    """The one-INSERT view, with as many connections as the taps and a single tap's body."""
    body = json.dumps({"taps": walk([1], 1, random.Random(0))})
    files = [("/bench/insert", "", "", [body] * int(10_000 * seconds)) for _ in range(connections)]
    phase = wrk(port, files, seconds, folder, meter, ("SELECT count(*) FROM bench_insert", []))
    if phase.wrk.bad or phase.wrk.exhausted:
        raise SystemExit(
            f"the one-INSERT view: {phase.wrk.bad} failed; ran out {phase.wrk.exhausted}"
        )
    return phase


def per_ms(phase: Phase) -> float:
    cpu = phase.wrk.cpu
    return cpu.total * 1000 / phase.done if cpu and phase.done else float("nan")


def bench(residents: int, seconds: float, connections: int, workers: int) -> list[tuple[str, str]]:
    """The figures, returned only once every check has passed."""
    env, leaders, built = demo_town(residents, 2 * connections)
    single_leaders, replay_leaders = leaders[:connections], leaders[connections:]
    sizes = sorted(len(x.households) for x in leaders)
    lines = [
        (
            "postgresql: demo town",
            f"{residents:,} residents, built in {built:.0f} s; {2 * connections} teams on "
            f"buildings of {sizes[0]}-{sizes[-1]} households",
        )
    ]
    say("the demo's counters against a recount")
    before = check(env, [])
    if before["differ"]:
        raise SystemExit(f"the demo's counters differ from a recount: {before['differ']}")
    doorstep(
        [
            "shell",
            "-c",
            "from django.db import connection;"
            "connection.cursor().execute('CREATE TABLE bench_insert (id varchar(32) PRIMARY KEY, body text)')",
        ],
        env,
    )
    port = free_port()
    server = serve(env, port, workers)
    home = Path(env["DOORSTEP_HOME"])
    rng = random.Random(32)
    try:
        say(f"{len(leaders)} leaders sign in and claim their buildings")
        for leader in leaders:
            sign_in_and_claim(port, leader)
        meter = Meter(server.pid, PG_BENCH)
        say("the one-INSERT view")
        insert = insert_view(port, connections, seconds, home / "insert", meter)
        one, one_ms = insert.wrk, per_ms(insert)
        lines.append(
            (
                f"postgresql: one-INSERT view ({connections} connections)",
                f"{one.rate:,.0f} req/s; p50 {one.p50_us / 1000:.1f} ms; p99 {one.p99_us / 1000:.1f} ms; "
                f"{cpu_per(one.cpu, insert.done)} a request; {load()}",
            )
        )
        say("single taps")
        singles = taps(
            port, single_leaders, 1, MAX_SINGLES_PER_S, seconds, home / "singles", meter, rng
        )
        single = singles.wrk
        lines.append(
            (
                f"postgresql: single taps ({connections} connections, 1 a request)",
                f"{single.rate:,.0f} req/s ({single.rate / one.rate:.2f}x the one-INSERT view's); "
                f"p50 {single.p50_us / 1000:.1f} ms; p99 {single.p99_us / 1000:.1f} ms; "
                f"{cpu_per(single.cpu, singles.done)} a tap, "
                f"{per_ms(singles) / one_ms:.1f}x the one-INSERT view's; "
                f"{single.fairness}; {load()}",
            )
        )
        say("outbox replays")
        replays = taps(
            port, replay_leaders, REPLAY, MAX_REPLAYED_PER_S, seconds, home / "replays", meter, rng
        )
        replay = replays.wrk
        lines.append(
            (
                f"postgresql: outbox replays ({connections} connections, {REPLAY} a request)",
                f"{replay.accepted / replay.seconds:,.0f} taps/s ({replay.rate:,.0f} req/s); "
                f"p50 {replay.p50_us / 1000:.1f} ms; p99 {replay.p99_us / 1000:.1f} ms a request; "
                f"{cpu_per(replay.cpu, replays.done)} a tap, "
                f"{per_ms(replays) / one_ms:.1f}x the one-INSERT view's request; "
                f"{replay.fairness}; {load()}",
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    say("the checks: visits, claims, counters against a recount")
    after = check(env, leaders)
    accepted = singles.done + replays.done
    if after["visits"] != accepted or after["unclaimed"] or after["moves"] or after["differ"]:
        raise SystemExit(
            f"after the run: {after['visits']} visits for {accepted} taps stored in the phases; "
            f"buildings no longer held {after['unclaimed']}; {after['moves']} moves unfolded; "
            f"counters that differ from a recount (id, figures): {after['differ']}"
        )
    lines.append(
        (
            "postgresql: rows and counters",
            f"{single.accepted + replay.accepted:,} taps answered, all accepted; "
            f"{after['visits']:,} visits (with the requests in flight when wrk stopped); every counter of the "
            "running rounds = counters.recount",
        )
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk phase")
    parser.add_argument("--connections", type=int, default=8, help="phones, one team each")
    parser.add_argument("--workers", type=int, default=0, help="server processes (0: serve's own)")
    options = parser.parse_args()
    lines = bench(options.residents, options.seconds, options.connections, options.workers)
    print(f"{'what':<58}  result ({os.cpu_count()} cores)")
    for name, figure in lines:
        print(f"{name:<58}  {figure}", flush=True)


if __name__ == "__main__":
    os.environ.pop("DATABASE_URL", None)
    main()
