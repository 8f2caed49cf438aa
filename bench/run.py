"""Doorstep benchmarks: demo seeding, roster import and a results file, on SQLite and PostgreSQL.

Every figure is printed beside a baseline measured in the same run on the same database (a raw
executemany of the same rows into a bare table), so a noisy machine shows as a change in both.
Bounded: fixed row counts, loopback PostgreSQL only.

    .venv/bin/python bench/run.py [--roster-rows 100000] [--demo-large 1000000] [--skip-large]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOORSTEP = str(Path(sys.executable).parent / "doorstep")
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BENCH = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/doorstep_bench")

sys.path.insert(0, str(ROOT))
from doorstep.core.idnumbers import id_check_character  # noqa: E402

HEADER = "社区,楼栋,单元,房号,姓名,证件类型,证件号码,手机号,行动不便,备注"


def roster_rows(count: int, seed: int = 7) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        # 12 + thousands (4 digits) + a date of birth 19YY-0M-1D + the last three digits of n:
        # distinct for every n below ten million.
        born = f"19{rng.randrange(40, 99)}0{rng.randrange(1, 10)}1{rng.randrange(0, 10)}"
        body = f"12{n // 1000:04d}{born}{n % 1000:03d}"
        rows.append(
            (
                f"社区{n // 8000 + 1}",
                f"{n // 200 % 40 + 1}号楼",
                f"{n // 100 % 2 + 1}单元",
                f"{n // 4 % 25 + 1}0{n % 4 + 1}",
                f"居民{n}",
                "居民身份证",
                body + id_check_character(body),
                f"13{n:09d}",
                "否",
                "",
            )
        )
    return rows


def write_csv(rows: list[tuple[str, ...]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for row in rows:
            f.write(",".join(row) + "\n")


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([DOORSTEP, *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"doorstep {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def raw_insert_sqlite(path: Path, rows: list[tuple[str, ...]]) -> float:
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE IF NOT EXISTS bench_raw (a,b,c,d,e,f,g UNIQUE,h,i,j)")
    started = time.perf_counter()
    with connection:
        connection.executemany("INSERT INTO bench_raw VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def raw_insert_pg(rows: list[tuple[str, ...]]) -> float:
    import psycopg

    with psycopg.connect(PG_BENCH) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (a text,b text,c text,d text,e text,f text,g text UNIQUE,h text,i text,j text)"
        )
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_raw VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
        connection.commit()
        return time.perf_counter() - started


def fresh_pg() -> None:
    import psycopg

    name = PG_BENCH.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def environment(home: Path, database_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DOORSTEP_HOME": str(home), "DOORSTEP_SECRET_KEY": "bench-only-" + "b" * 40})
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def bench_import(
    backend: str, csv_path: Path, rows: list[tuple[str, ...]]
) -> list[tuple[str, float, str]]:
    home = Path(tempfile.mkdtemp(prefix=f"doorstep-bench-{backend}-"))
    if backend == "postgresql":
        fresh_pg()
        env = environment(home, PG_BENCH)
    else:
        env = environment(home)
    run(["migrate", "-v0"], env)
    first = run(["import-roster", str(csv_path), "--town", "基准镇"], env)
    again = run(["import-roster", str(csv_path), "--town", "基准镇"], env)
    raw = (
        raw_insert_pg(rows)
        if backend == "postgresql"
        else raw_insert_sqlite(home / "raw.sqlite3", rows)
    )
    n = len(rows)
    return [
        (
            f"{backend}: import {n:,} rows (new)",
            first,
            f"{first / raw:.1f}× raw insert ({raw:.2f} s)",
        ),
        (f"{backend}: re-import {n:,} rows (unchanged)", again, f"{again / raw:.1f}× raw insert"),
    ]


RESULTS_SETUP = """
import datetime as dt
from django.utils import timezone
from doorstep.campaigns.actions import create_campaign
from doorstep.core.models import User
from doorstep.core.roles import Role
from doorstep.sampling.actions import create_site
from doorstep.sampling.models import Box, Tube
from doorstep.territory.models import Building, Community, Town
town = Town.objects.create(name="基准镇")
community = Community.objects.create(town=town, name="基准社区")
Building.objects.create(community=community, name="1号楼", position=1)
campaign = create_campaign(town, "基准轮", communities=[community])
lane = create_site(community, "基准采样点", 1).lanes.get()
now = timezone.now()
box = Box.objects.create(campaign=campaign, code="BENCH", site=lane.site, status="received",
                         opened_at=now, received_at=now)
Tube.objects.bulk_create([Tube(campaign=campaign, code=f"T{n:09d}", lane=lane, site=lane.site,
    community=community, pool_rule="10", capacity=10, status="sealed", member_count=1,
    opened_at=now, sealed_at=now, box=box, received_at=now) for n in range(COUNT)], batch_size=5000)
User.objects.create_user("benchlab", role=Role.LAB, town=town)
"""


def bench_results(backend: str, count: int) -> tuple[str, float, str]:
    """A results file of ``count`` first negatives (a lab's day), against a raw insert of as
    many rows of the same width."""
    home = Path(tempfile.mkdtemp(prefix=f"doorstep-bench-results-{backend}-"))
    if backend == "postgresql":
        fresh_pg()
        env = environment(home, PG_BENCH)
    else:
        env = environment(home)
    run(["migrate", "-v0"], env)
    run(["shell", "-c", RESULTS_SETUP.replace("COUNT", str(count))], env)
    path = home / "results.csv"
    path.write_text(
        "tube,result\n" + "".join(f"T{n:09d},negative\n" for n in range(count)), encoding="utf-8"
    )
    seconds = run(["import-results", str(path), "--user", "benchlab"], env)
    rows = roster_rows(count, seed=5)
    raw = (
        raw_insert_pg(rows)
        if backend == "postgresql"
        else raw_insert_sqlite(home / "raw.sqlite3", rows)
    )
    return (
        f"{backend}: results file of {count:,} rows",
        seconds,
        f"{seconds / raw:.1f}× raw insert ({raw:.2f} s)",
    )


# The round's questions on the demo's whole town, each timed (best of three) beside a count
# of the round's rows in that database: "can these zones lift?" for every building of every
# zone, and round over round for every community.
ROUND_QUESTIONS = """
import json, time
from django.db import connection
from django.utils import timezone
from doorstep.campaigns.models import Campaign, CampaignBuilding, Zone
from doorstep.command import rounds, zoning
from doorstep.territory.models import Community
today = Campaign.objects.get(status="active")
ids = list(Community.objects.values_list("pk", flat=True))
def best(fn):
    times = []
    for _ in range(3):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times)
def baseline():
    with connection.cursor() as c:
        c.execute("SELECT count(*), sum(length(name)) FROM territory_resident")
        c.fetchone()
found = []
lift = best(lambda: found.append(len(zoning.evidence(today, timezone.now(), communities=ids,
            zones=list(Zone.values)))))
compare = best(lambda: rounds.by_community(today, ids))
print(json.dumps({"lift": lift, "compare": compare, "baseline": best(baseline),
                  "buildings": found[-1]}))
"""


def bench_demo(residents: int) -> list[tuple[str, float, str]]:
    home = Path(tempfile.mkdtemp(prefix="doorstep-bench-demo-"))
    env = environment(home)
    run(["migrate", "-v0"], env)
    seconds = run(["demo", "--residents", str(residents), "--no-serve"], env)
    rows = roster_rows(residents, seed=3)
    raw = raw_insert_sqlite(home / "raw.sqlite3", rows)
    asked = subprocess.run(
        [DOORSTEP, "shell", "-c", ROUND_QUESTIONS], env=env, capture_output=True, text=True
    )
    if asked.returncode != 0:
        raise SystemExit(f"the round's questions failed:\n{asked.stderr}")
    times = json.loads(asked.stdout.strip().splitlines()[-1])
    count = f"a scan of every resident ({times['baseline'] * 1000:.0f} ms)"
    return [
        (
            f"sqlite: demo with {residents:,} residents",
            seconds,
            f"{seconds / raw:.1f}× raw insert ({raw:.2f} s)",
        ),
        (
            f"  can it lift? {times['buildings']:,} buildings",
            times["lift"],
            f"{times['lift'] / times['baseline']:.1f}× {count}",
        ),
        (
            "  round over round, every community",
            times["compare"],
            f"{times['compare'] / times['baseline']:.1f}× {count}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--roster-rows", type=int, default=100_000)
    parser.add_argument("--result-rows", type=int, default=100_000)
    parser.add_argument("--demo-large", type=int, default=1_000_000)
    parser.add_argument("--skip-large", action="store_true", help="skip the large demo")
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()

    width = 48
    print(f"{'what':<{width}}  {'seconds':>8}  against the baseline", flush=True)

    def show(result: tuple[str, float, str]) -> None:
        name, seconds, ratio = result
        print(f"{name:<{width}}  {seconds:8.1f}  {ratio}", flush=True)

    rows = roster_rows(options.roster_rows)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "roster.csv"
        write_csv(rows, csv_path)
        for backend in options.backends.split(","):
            for result in bench_import(backend, csv_path, rows):
                show(result)
            show(bench_results(backend, options.result_rows))
    for result in bench_demo(20_000):
        show(result)
    if not options.skip_large:
        for result in bench_demo(options.demo_large):
            show(result)


if __name__ == "__main__":
    main()
